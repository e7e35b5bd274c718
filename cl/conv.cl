/* conv.cl: convolution with stride, padding and groups: im2col and gather-col2im around CLBlast GEMMs; direct
 * kernels for the forward pass, backward data (a forward pass over the padded output gradient with flipped
 * weights, stride 1) and backward weights; padding, weight and gradient re-layouts; bias add and gradient.
 * Defines: CONV_PX (output pixels per work-item of conv_direct_forward, default 6), CONV_PX_FEW (the same
 *          for conv_direct_forward_few, the forward of layers with few input channels, default 4: conv1 ran
 *          1.2x faster with 4 than with 6, conv3-5 slower), CONV_RB (weight taps per work-item of
 *          conv_direct_backward_weights, default 6); the kernels block 16 channels (one float16) per work-item.
 *          The launcher in src/ops/conv.c sizes its grids with the same values (measurements next to
 *          conv_pick_forward_algo there). A float16 is one AVX-512 register; two float8 halves, which the
 *          kernels held before, made twice the instructions: on PoCL with AVX-512 the forward ran 13-16%
 *          faster at conv1-5 with one (bench_kernels, batch 32, two alternating rounds), where AVX2 and GPUs
 *          run the same operations either way.
 * Layouts: NCHW tensors; weight (K, C/groups, KH, KW). A column matrix holds per image the rows
 * r = (c*KH + i)*KW + j (C*KH*KW of them) and the columns p = oy*OW + ox (OH*OW), so group g's rows are one
 * contiguous block that multiplies the weight's (K/groups) x (C/groups*KH*KW) block of that group.
 * The direct kernels want channels contiguous: weights re-laid as (groups, KGP/16, C/groups*KH*KW, 16), the 16
 * channels of a work-item contiguous for each tap and its taps one after another (KGP: K/groups rounded up to
 * 16; zero past K/groups), the taps in the order the forward's loop takes them (relayout's cin argument); the output
 * gradient as (N*OH*OW, groups*KGP), each pixel's channels contiguous.
 * They read a zero-padded input, so no tap needs a bounds test.
 * Tensors are (pointer, element offset) pairs; every kernel guards its tail. The launcher keeps every index
 * below INT_MAX, so int arithmetic does not overflow. */

#ifndef CONV_PX
#define CONV_PX 6
#endif
#ifndef CONV_PX_FEW
#define CONV_PX_FEW 4
#endif
#ifndef CONV_RB
#define CONV_RB 6
#endif

/* col (nimg, C*KH*KW, OH*OW) from inp (nimg, C, H, W); padding reads as 0. One work-item per output pixel
 * and image channel z = img*C + ci (which is also the index of that channel's block of KH*KW rows), writing
 * its KH*KW taps. Global: (OW, OH, nimg*C). */
__kernel void conv_im2col(__global float *col, int col_off, __global const float *inp, int inp_off, int nimg,
                          int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow)
{
    int ox = get_global_id(0), oy = get_global_id(1), z = get_global_id(2);
    if (ox >= ow || oy >= oh || z >= nimg * c)
        return;
    int npix = oh * ow, y0 = oy * stride - pad, x0 = ox * stride - pad;
    __global const float *x = inp + inp_off + z * h * w;
    __global float *dst = col + col_off + z * kh * kw * npix + oy * ow + ox;
    for (int i = 0; i < kh; i++) {
        int iy = y0 + i;
        for (int j = 0; j < kw; j++) {
            int ix = x0 + j;
            dst[(i * kw + j) * npix] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[iy * w + ix] : 0.0f;
        }
    }
}

/* dinp (nimg, C, H, W) = the sum of the column entries that each input pixel fed: a gather, so no two
 * work-items write the same element and the order of the sum is fixed. Global: (W, H, nimg*C). */
__kernel void conv_col2im(__global float *dinp, int dinp_off, __global const float *col, int col_off, int nimg,
                          int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow)
{
    int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
    if (x >= w || y >= h || z >= nimg * c)
        return;
    int npix = oh * ow, ty = y + pad, tx = x + pad;
    __global const float *rows = col + col_off + z * kh * kw * npix; /* z = img*C + ci: that channel's rows */
    /* Output row oy reaches y through kernel row i = ty - oy*stride, which must lie in [0, KH). */
    int oy0 = ty < kh ? 0 : (ty - kh) / stride + 1, oy1 = min(oh - 1, ty / stride);
    int ox0 = tx < kw ? 0 : (tx - kw) / stride + 1, ox1 = min(ow - 1, tx / stride);
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++) {
        int i = ty - oy * stride;
        for (int ox = ox0; ox <= ox1; ox++)
            s += rows[(i * kw + tx - ox * stride) * npix + oy * ow + ox];
    }
    dinp[dinp_off + z * h * w + y * w + x] = s;
}

/* out (., K, npix) += bias (K), over n elements. */
__kernel void conv_bias_add(__global float *out, int out_off, __global const float *bias, int bias_off, int k,
                            int npix, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    out[out_off + i] += bias[bias_off + (i / npix) % k];
}

/* dbias (K) += the sum of dout (nimg, K, npix) over images and pixels. One work-group per channel
 * (global (lanes, K), local (lanes, 1), lanes a power of two); part holds lanes floats. Each lane sums a
 * fixed strided subset, then a tree in local memory: deterministic. */
__kernel void conv_bias_backward(__global float *dbias, int dbias_off, __global const float *dout, int dout_off,
                                 int nimg, int k, int npix, __local float *part)
{
    int lane = get_local_id(0), lanes = get_local_size(0), ki = get_global_id(1);
    float s = 0.0f;
    if (ki < k)
        for (int img = 0; img < nimg; img++) {
            __global const float *d = dout + dout_off + (img * k + ki) * npix;
            for (int p = lane; p < npix; p += lanes)
                s += d[p];
        }
    part[lane] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = lanes / 2; span > 0; span /= 2) {
        if (lane < span)
            part[lane] += part[lane + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && ki < k)
        dbias[dbias_off + ki] += part[0];
}


/* dst (nc, hp, wp) = src (nc, h, w) moved down by top rows and right by left columns, zero where src has no
 * pixel (a negative top or left crops). One work-item per row: a run of zeros, a copy, a run of zeros.
 * Global (hp, nc). */
__kernel void conv_pad(__global float *dst, int dst_off, __global const float *src, int src_off, int nc, int h,
                       int w, int hp, int wp, int top, int left)
{
    int y = get_global_id(0), z = get_global_id(1);
    if (y >= hp || z >= nc)
        return;
    int sy = y - top;
    __global float *d = dst + dst_off + (z * hp + y) * wp;
    int x0 = clamp(left, 0, wp), x1 = clamp(left + w, x0, wp); /* the columns that have a source pixel */
    if (sy < 0 || sy >= h)
        x0 = x1 = wp;
    for (int x = 0; x < x0; x++)
        d[x] = 0.0f;
    __global const float *sr = src + src_off + (z * h + min(max(sy, 0), h - 1)) * w - left;
    for (int x = x0; x < x1; x++)
        d[x] = sr[x];
    for (int x = x1; x < wp; x++)
        d[x] = 0.0f;
}

/* wt (groups, kgp/16, rg, 16), zero past kg channels, from the weight w: a block of 16 channels holds its taps
 * one after another, so conv_direct_forward streams its weights sequentially (one tap's 16 channels per 64-byte
 * line). With the taps kgp channels apart instead, every tap's line lay 4*kgp bytes on and the forward ran
 * 20-35% slower at the paper's shapes. wt[g][kk/16][r][kk%16] below is written wt[g][r][kk]; r counts the taps
 * (channel, kernel row, kernel column) with the channel outermost, or innermost when cin (then a tap r of w
 * sits at (r % khw) * (rg / khw) + r / khw), in conv_direct_forward's loop order.
 * Forward (flip 0): w is (groups*kg, rg) with kg = K/groups, rg = C/groups*KH*KW; wt[g][r][kk] = w[g*kg + kk][r].
 * Backward data (flip 1): the channels are the convolution's inputs, kg = C/groups, and the taps run over its
 * outputs, rg = K/groups*KH*KW: wt[g][(ko*kh + i)*kw + j][cc] = w[g*K/groups + ko][cc][kh-1-i][kw-1-j], so the
 * forward pass over the padded output gradient with wt is the input gradient. Global (kgp, rg, groups). */
__kernel void conv_weight_relayout(__global float *wt, int wt_off, __global const float *w, int w_off, int kg,
                                   int rg, int kgp, int groups, int flip, int kh, int kw, int cin)
{
    int kk = get_global_id(0), r = get_global_id(1), g = get_global_id(2);
    if (kk >= kgp || r >= rg || g >= groups)
        return;
    float v = 0.0f;
    if (kk < kg) {
        if (flip) {
            int khw = kh * kw, ko = r / khw, t = r - ko * khw; /* t = i*kw + j; the flipped tap is khw-1-t */
            int kout = rg / khw;                               /* output channels per group */
            v = w[w_off + ((g * kout + ko) * kg + kk) * khw + khw - 1 - t];
        } else {
            v = w[w_off + (g * kg + kk) * rg + r];
        }
    }
    /* No % next to a / of the same operands, and shifts for 16: LLVM pairs them with a freeze, which Oclgrind
     * 21.10's uninitialized-value check cannot run. */
    int rd = r;
    if (cin) {
        int khw = kh * kw, ch = r / khw;
        rd = (r - ch * khw) * (rg / khw) + ch;
    }
    wt[wt_off + ((g * (kgp >> 4) + (kk >> 4)) * rg + rd) * 16 + (kk & 15)] = v;
}

/* dyt (groups, kgp/16, nimg*npix, 16) from dy (nimg, k, npix): each pixel's channels of a 16-channel block
 * contiguous, zero past K/groups in each group, and the pixels of a block one after another, so that a
 * work-item of conv_direct_backward_weights streams its block sequentially (one pixel per 64-byte line; with
 * the pixels groups*kgp channels apart, each pixel's line lay 4*groups*kgp bytes on). Each work-item moves a
 * block of 8 channels x 8 pixels: eight loads of 8 pixels, a transpose in registers, eight stores of 8
 * channels, 16 floats apart (element by element where the block reaches past kg or npix).
 * Global (ceil(npix/8), groups*kgp/8, nimg). */
__kernel void conv_out_relayout(__global float *dyt, int dyt_off, __global const float *dy, int dy_off, int nimg,
                                int k, int npix, int groups, int kgp)
{
    int p0 = get_global_id(0) * 8, zb = get_global_id(1), n = get_global_id(2), kblocks = kgp / 8;
    if (p0 >= npix || zb >= groups * kblocks || n >= nimg)
        return;
    int kg = k / groups, g = zb / kblocks, k0 = (zb - g * kblocks) * 8;
    __global const float *src = dy + dy_off + (n * k + g * kg + k0) * npix + p0;
    __global float *dst = dyt + dyt_off + ((g * (kgp >> 4) + (k0 >> 4)) * nimg * npix + n * npix + p0) * 16 + (k0 & 15);
    if (p0 + 8 <= npix && k0 + 8 <= kg) {
        float blk[8][8];
        for (int u = 0; u < 8; u++)
            vstore8(vload8(0, src + u * npix), 0, blk[u]);
        for (int t = 0; t < 8; t++)
            for (int u = 0; u < 8; u++)
                dst[t * 16 + u] = blk[u][t];
        return;
    }
    for (int t = 0; t < 8 && p0 + t < npix; t++)
        for (int u = 0; u < 8; u++)
            dst[t * 16 + u] = k0 + u < kg ? src[u * npix + t] : 0.0f;
}

/* The forward's sum over its group's input channels (outermost) and kernel rows and KW taps each: per tap two
 * weight vectors against PX input values. A macro so that each common kernel width gets its own copy of the loop
 * nest, with the tap loop's count known (the accumulators stay in registers across the nest). Unrolling the
 * tap loop as well spills (half the speed). */
#define CONV_FORWARD_TAPS(KW, PX)                                                                                  \
    for (int ci = 0; ci < cg; ci++, xrow += (hp - kh) * wp)                                                        \
        for (int i = 0; i < kh; i++, xrow += wp)                                                                   \
            for (int j = 0; j < (KW); j++) {                                                                       \
                float16 wv = vload16(0, wr);                                                                       \
                wr += 16;                                                                                          \
                __attribute__((opencl_unroll_hint))                                                                \
                for (int t = 0; t < (PX); t++) {                                                                   \
                    float xv = xrow[base[t] + j];                                                                  \
                    a[t] += wv * xv;                                                                               \
                }                                                                                                  \
            }

/* The same with the channels innermost, taps (row, column, channel): one pointer step of hp*wp per tap and no row
 * bookkeeping inside the sum, which with 3 taps a row cost more than the input's longer reach between reuses
 * (conv2-5 ran 10-40% faster; conv1's 3 channels ran 15% slower, so the launcher picks the kernel by the
 * channel count). */
#define CONV_FORWARD_TAPS_CIN(PX)                                                                                  \
    for (int i = 0; i < kh; i++)                                                                                   \
        for (int j = 0; j < kw; j++) {                                                                             \
            __global const float *xc = xrow + i * wp + j;                                                          \
            for (int ci = 0; ci < cg; ci++, xc += hp * wp) {                                                       \
                float16 wv = vload16(0, wr);                                                                       \
                wr += 16;                                                                                          \
                __attribute__((opencl_unroll_hint))                                                                \
                for (int t = 0; t < (PX); t++) {                                                                   \
                    float xv = xc[base[t]];                                                                        \
                    a[t] += wv * xv;                                                                               \
                }                                                                                                  \
            }                                                                                                      \
        }

/* CONV_FORWARD_KERNEL(NAME, PX, SUM): the direct forward with PX output pixels a work-item, summing with SUM.
 * out (nimg, k, oh, ow) = xp (nimg, c, hp, wp, already padded) convolved with wt (groups, kgp/16, cg*kh*kw, 16,
 * from conv_weight_relayout), + bias when has_bias. Each work-item: 16 output channels (a float16 accumulator)
 * times PX output pixels, the pixels consecutive in (image, oy, ox) order, so a tile may cross rows and images
 * and only the very last one has idle lanes. Per tap: a vector load of weights, PX scalar loads of input,
 * PX vector multiply-adds. Global (ceil(nimg*oh*ow/PX), groups*kgp/16). The first pixel's (image, oy, ox) is
 * found by one division pair, then stepped along; past the end of the batch, the last pixel again: computed and
 * not stored. */
#define CONV_FORWARD_KERNEL(NAME, PX, SUM)                                                                         \
    __kernel void NAME(__global float *out, int out_off, __global const float *xp, int xp_off,                     \
                       __global const float *wt, int wt_off, __global const float *bias, int bias_off, int has_bias,\
                       int nimg, int c, int hp, int wp, int k, int kh, int kw, int stride, int groups, int oh,     \
                       int ow, int kgp)                                                                            \
    {                                                                                                              \
        int tile = get_global_id(0), zb = get_global_id(1);                                                        \
        int kg = k / groups, cg = c / groups, kblocks = kgp / 16, npix = oh * ow, total = nimg * npix;             \
        if (tile * (PX) >= total || zb >= groups * kblocks)                                                        \
            return;                                                                                                \
        int g = zb / kblocks, kb = zb - g * kblocks, q0 = tile * (PX);                                             \
        int n = q0 / npix, p = q0 - n * npix, oy = p / ow, ox = p - oy * ow;                                       \
        int base[PX];                                                                                              \
        __attribute__((opencl_unroll_hint))                                                                        \
        for (int t = 0; t < (PX); t++) {                                                                           \
            base[t] = ((n * c + g * cg) * hp + oy * stride) * wp + ox * stride;                                    \
            if (q0 + t + 1 < total && ++ox == ow) {                                                                \
                ox = 0;                                                                                            \
                if (++oy == oh) {                                                                                  \
                    oy = 0;                                                                                        \
                    n++;                                                                                           \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
        float16 a[PX];                                                                                             \
        __attribute__((opencl_unroll_hint))                                                                        \
        for (int t = 0; t < (PX); t++)                                                                             \
            a[t] = (float16)(0.0f);                                                                                \
        __global const float *wr = wt + wt_off + (g * kblocks + kb) * cg * kh * kw * 16; /* this block's taps */   \
        __global const float *xrow = xp + xp_off;                                                                  \
        SUM;                                                                                                       \
        int k0 = kb * 16;                                                                                          \
        for (int t = 0; t < (PX); t++) {                                                                           \
            int q = q0 + t;                                                                                        \
            if (q >= total)                                                                                        \
                break;                                                                                             \
            int qn = q / npix, qp = q - qn * npix;                                                                 \
            float v[16];                                                                                           \
            vstore16(a[t], 0, v);                                                                                  \
            __global float *o = out + out_off + (qn * k + g * kg + k0) * npix + qp;                                \
            for (int u = 0; u < 16 && k0 + u < kg; u++)                                                            \
                o[u * npix] = v[u] + (has_bias ? bias[bias_off + g * kg + k0 + u] : 0.0f);                         \
        }                                                                                                          \
    }

/* Channels innermost, CONV_PX pixels: every layer but those with few input channels a group (the launcher's
 * choice; wt laid out with cin), and the backward data pass. */
CONV_FORWARD_KERNEL(conv_direct_forward, CONV_PX, CONV_FORWARD_TAPS_CIN(CONV_PX))

/* Channels outermost, CONV_PX_FEW pixels: layers with few input channels (conv1's 3), the kernel widths 3, 5
 * and 11 a copy each. */
#define CONV_FORWARD_TAPS_FEW                                                                                      \
    if (kw == 3) {                                                                                                 \
        CONV_FORWARD_TAPS(3, CONV_PX_FEW)                                                                          \
    } else if (kw == 5) {                                                                                          \
        CONV_FORWARD_TAPS(5, CONV_PX_FEW)                                                                          \
    } else if (kw == 11) {                                                                                         \
        CONV_FORWARD_TAPS(11, CONV_PX_FEW)                                                                         \
    } else {                                                                                                       \
        CONV_FORWARD_TAPS(kw, CONV_PX_FEW)                                                                         \
    }
CONV_FORWARD_KERNEL(conv_direct_forward_few, CONV_PX_FEW, CONV_FORWARD_TAPS_FEW)

/* part (slices, groups, rg + 1, kgp): slice sl's share of the weight gradient, summed over its range of the
 * (image, oy) rows: dW[g][kk][r] = sum of dy[image][g*kg + kk][oy][ox] * xp[image][g*cg + ci][oy*s + i][ox*s + j],
 * r = (ci*kh + i)*kw + j, rg = cg*kh*kw; at r = rg the bias gradient, the sum of dy. dyt (groups, kgp/16,
 * nimg*oh*ow, 16), dy from conv_out_relayout; xp the padded input. Each work-item: 16 channels (a float16)
 * times CONV_RB taps; the work-items of a work-group share a slice, so its rows stay in cache while they run one
 * after another; the first also sums the bias. A slice with no rows writes zeros. Global (ceil(rg/CONV_RB), slices,
 * groups*kgp/16). */
__kernel void conv_direct_backward_weights(__global float *part, int part_off, __global const float *dyt,
                                           int dyt_off, __global const float *xp, int xp_off, int nimg, int c,
                                           int hp, int wp, int kh, int kw, int stride, int groups, int oh, int ow,
                                           int kgp, int slices)
{
    int rt = get_global_id(0), sl = get_global_id(1), zb = get_global_id(2);
    int cg = c / groups, khw = kh * kw, rg = cg * khw, kblocks = kgp / 16;
    if (rt * CONV_RB >= rg || sl >= slices || zb >= groups * kblocks)
        return;
    int g = zb / kblocks, kb = zb - g * kblocks;
    __global const float *dblk = dyt + dyt_off + zb * nimg * oh * ow * 16; /* zb = g*kblocks + kb: its pixels */
    int roff[CONV_RB];
    __attribute__((opencl_unroll_hint))
    for (int t = 0; t < CONV_RB; t++) { /* past rg: the last tap again, computed and not stored */
        int r = min(rt * CONV_RB + t, rg - 1), ci = r / khw, ij = r - ci * khw, i = ij / kw, j = ij - i * kw;
        roff[t] = ((g * cg + ci) * hp + i) * wp + j;
    }
    float16 a[CONV_RB];
    __attribute__((opencl_unroll_hint))
    for (int t = 0; t < CONV_RB; t++)
        a[t] = (float16)(0.0f);
    int rows = nimg * oh, per = (rows + slices - 1) / slices, row0 = min(rows, sl * per), row1 = min(rows, row0 + per);
    for (int row = row0; row < row1; row++) {
        int n = row / oh, oy = row - n * oh;
        __global const float *d = dblk + row * ow * 16; /* pixel n*oh*ow + oy*ow */
        __global const float *xr = xp + xp_off + (n * c * hp + oy * stride) * wp;
        for (int ox = 0; ox < ow; ox++) {
            float16 dv = vload16(0, d);
            d += 16;
            __attribute__((opencl_unroll_hint))
            for (int t = 0; t < CONV_RB; t++)
                a[t] += dv * xr[roff[t] + ox * stride];
        }
    }
    __global float *o = part + part_off + ((sl * groups + g) * (rg + 1) + rt * CONV_RB) * kgp + kb * 16;
    for (int t = 0; t < CONV_RB && rt * CONV_RB + t < rg; t++)
        vstore16(a[t], 0, o + t * kgp);
    if (rt == 0) {
        float16 b = (float16)(0.0f);
        for (int row = row0; row < row1; row++) {
            __global const float *d = dblk + row * ow * 16;
            for (int ox = 0; ox < ow; ox++, d += 16)
                b += vload16(0, d);
        }
        vstore16(b, 0, part + part_off + ((sl * groups + g) * (rg + 1) + rg) * kgp + kb * 16);
    }
}

/* dw (k, rg) += the sum of part (slices, groups, rg + 1, kgp) over slices, in slice order (deterministic); at
 * r = rg, dbias (k) += likewise when has_bias. Global (rg + 1, k). */
__kernel void conv_weights_reduce(__global float *dw, int dw_off, __global float *dbias, int dbias_off,
                                  int has_bias, __global const float *part, int part_off, int k, int rg, int groups,
                                  int kgp, int slices)
{
    int r = get_global_id(0), kk = get_global_id(1);
    if (r > rg || kk >= k || (r == rg && !has_bias))
        return;
    int kg = k / groups, g = kk / kg, kl = kk - g * kg;
    float s = 0.0f;
    for (int sl = 0; sl < slices; sl++)
        s += part[part_off + ((sl * groups + g) * (rg + 1) + r) * kgp + kl];
    if (r < rg)
        dw[dw_off + kk * rg + r] += s;
    else
        dbias[dbias_off + kk] += s;
}
