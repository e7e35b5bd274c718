/* conv.cl: convolution with stride, padding and groups: im2col and gather-col2im around CLBlast GEMMs, a
 * direct forward, bias add and the bias gradient.
 * Defines: CONV_DIRECT_KB (output channels per work-item of conv_direct_forward, default 16),
 *          CONV_DIRECT_PX (output columns per work-item of conv_direct_forward, default 8); the launcher in
 *          src/ops/conv.c sizes its grid with the same values (measurements next to conv_pick_algo there).
 * Layouts: NCHW tensors; weight (K, C/groups, KH, KW). A column matrix holds per image the rows
 * r = (c*KH + i)*KW + j (C*KH*KW of them) and the columns p = oy*OW + ox (OH*OW), so group g's rows are one
 * contiguous block that multiplies the weight's (K/groups) x (C/groups*KH*KW) block of that group.
 * Tensors are (pointer, element offset) pairs; every kernel guards its tail. The launcher keeps every index
 * below INT_MAX, so int arithmetic does not overflow. */

#ifndef CONV_DIRECT_KB
#define CONV_DIRECT_KB 16
#endif
#ifndef CONV_DIRECT_PX
#define CONV_DIRECT_PX 8
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

/* out (N, K, OH, OW) = conv(inp) + bias, each work-item CONV_DIRECT_KB output channels of one group times
 * CONV_DIRECT_PX neighbouring output columns, so that each input value loaded serves KB channels and each
 * weight PX pixels. Global: (ceil(OW/PX), OH, N*groups*ceil((K/groups)/KB)). */
__kernel void conv_direct_forward(__global float *out, int out_off, __global const float *inp, int inp_off,
                                  __global const float *wt, int wt_off, __global const float *bias, int bias_off,
                                  int has_bias, int n, int c, int h, int w, int k, int kh, int kw, int stride,
                                  int pad, int groups, int oh, int ow)
{
    int xb = get_global_id(0), oy = get_global_id(1), z = get_global_id(2);
    int kg = k / groups, cg = c / groups, kblocks = (kg + CONV_DIRECT_KB - 1) / CONV_DIRECT_KB;
    if (xb * CONV_DIRECT_PX >= ow || oy >= oh || z >= n * groups * kblocks)
        return;
    /* z = (img*groups + g)*kblocks + kb. The remainder is unsigned on purpose: a signed quotient and remainder
     * of the same operands get paired by LLVM with a freeze instruction, which Oclgrind's uninitialized-value
     * checker cannot run. */
    int ig = z / kblocks, kb = (int)((uint)z % (uint)kblocks), g = ig % groups;
    int k0 = g * kg + kb * CONV_DIRECT_KB, kend = (g + 1) * kg;
    int ox0 = xb * CONV_DIRECT_PX, wsize = cg * kh * kw;
    /* Channels past the group's end (a partial last block) read the last channel's weights and store nothing. */
    int wbase[CONV_DIRECT_KB];
    float acc[CONV_DIRECT_KB][CONV_DIRECT_PX];
    for (int u = 0; u < CONV_DIRECT_KB; u++) {
        wbase[u] = wt_off + min(k0 + u, kend - 1) * wsize;
        for (int t = 0; t < CONV_DIRECT_PX; t++)
            acc[u][t] = 0.0f;
    }
    __global const float *x = inp + inp_off + ig * cg * h * w; /* (img*C + g*C/groups)*H*W */
    for (int ci = 0; ci < cg; ci++)
        for (int i = 0; i < kh; i++) {
            int iy = oy * stride - pad + i;
            if (iy < 0 || iy >= h)
                continue;
            __global const float *xrow = x + (ci * h + iy) * w;
            int wrow = (ci * kh + i) * kw;
            for (int j = 0; j < kw; j++) {
                float xv[CONV_DIRECT_PX];
                for (int t = 0; t < CONV_DIRECT_PX; t++) {
                    int ix = (ox0 + t) * stride - pad + j;
                    xv[t] = ix >= 0 && ix < w ? xrow[clamp(ix, 0, w - 1)] : 0.0f;
                }
                for (int u = 0; u < CONV_DIRECT_KB; u++) {
                    float wv = wt[wbase[u] + wrow + j];
                    for (int t = 0; t < CONV_DIRECT_PX; t++)
                        acc[u][t] += wv * xv[t];
                }
            }
        }
    for (int u = 0; u < CONV_DIRECT_KB && k0 + u < kend; u++) {
        float b = has_bias ? bias[bias_off + k0 + u] : 0.0f;
        __global float *o = out + out_off + ((ig * kg + kb * CONV_DIRECT_KB + u) * oh + oy) * ow; /* img*K + k0 + u */
        for (int t = 0; t < CONV_DIRECT_PX && ox0 + t < ow; t++)
            o[ox0 + t] = acc[u][t] + b;
    }
}
