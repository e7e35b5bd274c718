/* lrn.cl: local response normalization across channels (AlexNet section 3.3), forward and backward.
 *
 * Convention (Caffe's and PyTorch's): alpha is divided by the window size n; the paper's formula uses alpha
 * without the division (its alpha = 1e-4 is alpha = 5e-4 here).
 *   scale[c] = k + (alpha / n) * sum_{c' = c - n/2 .. c + (n-1)/2, clipped to [0, C)} x[c']^2
 *   y[c]     = x[c] * scale[c]^(-beta)
 * The window is n/2 channels before c and (n-1)/2 after, PyTorch's padding for even n (symmetric for odd n).
 * Backward, with the window mirrored (c' in [c - (n-1)/2, c + n/2] are the channels whose window holds c):
 *   dx[c] = dy[c] * scale[c]^(-beta) - (2 alpha beta / n) * x[c] * sum_{c'} dy[c'] y[c'] / scale[c']
 *
 * Layout of the work: a 1-D range. Forward: one work-item per plane or pair of planes, walking its planes in runs
 * of LRN_VEC pixels with LRN_VEC-wide vector loads, one per window channel; the last run, when the plane is not a
 * multiple of LRN_VEC, is moved left to end where the plane ends (it stores again a few pixels the run before
 * stored, the same values; a plane narrower than a vector goes pixel by pixel with the same operations). The
 * neighbouring planes a work-item reads were just read by the work-item of the channels before, in the same
 * work-group, so they come from cache and each input crosses the memory bus about once. Backward: for large
 * planes, the same with blocks of LRN_BLOCK neighbouring planes (lrn_backward_blocks); for smaller ones, one
 * work-item per run of LRN_VEC pixels of an image, walking the image's channels in order with the window's terms
 * in registers (lrn_backward). Explicit vectors, because a CPU implementation (PoCL) vectorizes across work-items only
 * when every work-item runs the same straight-line code, and the loops here have runtime trip counts.
 *
 * What bounds them on PoCL (2-core AVX-512 EPYC), found by taking parts out: before, a 2-D range with a work-item
 * per run, PoCL's loop over 64 work-items each doing one run cost more than the run. The forward with that gone is
 * bound by its window loads from cache, not by pow or memory: with a window of one channel it runs at 86-90% of
 * the copy bandwidth, with five at about 50%, without the pow about the same; so where planes are large (conv1's
 * 55x55) a work-item takes two planes and loads the union of their windows once (6 loads for 2 outputs, not 10),
 * 15-18% faster; at conv2's 27x27 two planes ran 5-15% slower (even with a window of one), so they keep one. The
 * backward was bound by divides and square roots (PoCL's rsqrt is a square root and a divide): a block's own
 * channels now take both scale^(-beta) and 1 / scale from one rsqrt, 1.5x faster; taking out every divide left it
 * where it is. Measured, old and new kernels timed in one process, interleaved (median of 21, forward, or 15,
 * backward; batch 32; copy 16-24 GB/s on a machine shared with other work), two rounds: forward conv1 N32 C96
 * 55x55 36.7/36.4% -> 78.6/78.1% of copy (2.1x faster), conv2 C256 27x27 34.2/24.9% -> 54.5/58.9% (1.6-2.4x);
 * backward conv1 36.1/35.1% -> 49.1/53.6% (1.4-1.5x), conv2 29.8/33.9% -> 44.9/50.2% (1.5x), with blocks of 4
 * channels a work-item (lrn_backward_blocks). Below 2048 pixels a plane the backward now walks the channels (see
 * there), 1.15-1.2x faster again at conv2.
 *
 * Walking the channels with the window in registers (each input loaded once), tried for both: alone it ran 2x
 * slower than the plane layouts (forward conv1 4.5 -> 11.0 ms, backward 11.0 -> 15.0 ms, in one process), though
 * as fast (forward) or 1.4x faster (backward) on a problem that fits in cache: a work-item touches one 64-byte
 * piece of each plane in turn, which the hardware prefetchers do not follow, so it waits on memory latency. Runs
 * of 2, 4 or 8 vectors a work-item, a work-group per image with a barrier a channel (PoCL then keeps the window in
 * memory), or walking over 256- or 1024-pixel chunks with the window from cache did not help. Software prefetches
 * LRN_AHEAD channels on fix it: the forward got to 6.9 ms (old 4.4), still slower, so it keeps its layout; the
 * backward beat the blocks (numbers there).
 *
 * scale^(-beta) for beta = 0.75 (the paper's and Caffe's value) is r * sqrt(r) with r = rsqrt(scale): a
 * few ulp, as pow, at a fraction of its cost (pow is the slowest builtin on CPUs and on most GPUs).
 *
 * Defines: LRN_VEC (2, 4, 8 or 16; default 16, for AVX-512 CPUs): pixels per vector; LRN_AHEAD (default 10):
 * how many channels on the backward prefetches.
 * Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

#ifndef LRN_VEC
#define LRN_VEC 16
#endif

#define LRN_CAT_(a, b) a##b
#define LRN_CAT(a, b) LRN_CAT_(a, b)
#define lrn_floatv LRN_CAT(float, LRN_VEC)
#define lrn_loadv LRN_CAT(vload, LRN_VEC)
#define lrn_storev LRN_CAT(vstore, LRN_VEC)

/* LRN_POW_INV(s, pw, inv): pw = s^(-beta) and inv = 1 / s, vectors, for s > 0. At beta = 0.75 both come from
 * r = rsqrt(s) (pw = r sqrt(r), inv = r r: three square roots and divides, where a divide for inv makes four;
 * the backward is bound by them on CPUs), a few ulp from 1 / s. */
#define LRN_POW_INV(s, pw, inv) \
    do { \
        if (beta == 0.75f) { \
            lrn_floatv r_ = rsqrt(s); \
            pw = r_ * sqrt(r_); \
            inv = r_ * r_; \
        } else { \
            pw = pow((s), (lrn_floatv)(-beta)); \
            inv = 1.0f / (s); \
        } \
    } while (0)

/* LRN_POW_INV_S: the same for scalars. */
#define LRN_POW_INV_S(s, pw, inv) \
    do { \
        if (beta == 0.75f) { \
            float r_ = rsqrt(s); \
            pw = r_ * sqrt(r_); \
            inv = r_ * r_; \
        } else { \
            pw = pow((s), -beta); \
            inv = 1.0f / (s); \
        } \
    } while (0)

/* s^(-beta) for s > 0, vector and scalar: the same operations, so a pixel gets the same value either way. */
static inline lrn_floatv lrn_pow_v(lrn_floatv s, float beta)
{
    if (beta == 0.75f) {
        lrn_floatv r = rsqrt(s);
        return r * sqrt(r);
    }
    return pow(s, (lrn_floatv)(-beta));
}

static inline float lrn_pow_s(float s, float beta)
{
    if (beta == 0.75f) {
        float r = rsqrt(s);
        return r * sqrt(r);
    }
    return pow(s, -beta);
}

/* Global (rows) or more; plane = H*W; per = 1 or 2 channels a work-item, rows = N * ceil(C / per). alpha_over_n
 * = alpha / n. out and scale may not alias inp. A work-item takes per neighbouring planes of an image: the
 * union of their windows is loaded once, each load added to the sums of the planes whose window holds it (in
 * ascending channel order, as with one plane). The last run moved left to end where the plane ends, its pixels
 * that the run before stored stored again with the same values (a plane narrower than a vector goes pixel by
 * pixel). */
__kernel void lrn_forward(__global float *out, int out_off, __global float *scale, int scale_off,
                          __global const float *inp, int inp_off, int channels, int plane, int rows, int size,
                          float alpha_over_n, float beta, float k, int per)
{
    int row = get_global_id(0);
    if (row >= rows)
        return;
    int blocks = (channels + per - 1) / per;
    int img = row / blocks, c = (row - img * blocks) * per, cn = min(per, channels - c);
    /* the windows of c and c + 1, relative to c; with one plane, the second is empty and after the first */
    int lo0 = max(c - size / 2, 0) - c, hi0 = min(c + (size - 1) / 2, channels - 1) - c;
    int lo1 = cn == 2 ? max(c + 1 - size / 2, 0) - c : hi0 + 1;
    int hi1 = cn == 2 ? min(c + 1 + (size - 1) / 2, channels - 1) - c : hi0;
    int at = (img * channels + c) * plane;
    __global const float *x = inp + inp_off + at;
    __global float *so = scale + scale_off + at, *yo = out + out_off + at;
    if (plane >= LRN_VEC) {
        for (int p0 = 0; p0 < plane; p0 += LRN_VEC) {
            int p = min(p0, plane - LRN_VEC), j = lo0;
            lrn_floatv sum0 = 0.0f, sum1 = 0.0f;
            for (; j < lo1; j++) { /* the first window only */
                lrn_floatv xv = lrn_loadv(0, x + p + j * plane);
                sum0 = mad(xv, xv, sum0);
            }
            for (; j <= hi0; j++) { /* both */
                lrn_floatv xv = lrn_loadv(0, x + p + j * plane);
                sum0 = mad(xv, xv, sum0);
                sum1 = mad(xv, xv, sum1);
            }
            for (; j <= hi1; j++) { /* the second only */
                lrn_floatv xv = lrn_loadv(0, x + p + j * plane);
                sum1 = mad(xv, xv, sum1);
            }
            /* s > 0 (k > 0, alpha >= 0 are checked by the launcher); a NaN input makes s NaN and so y NaN. */
            lrn_floatv s = mad((lrn_floatv)alpha_over_n, sum0, (lrn_floatv)k);
            lrn_storev(s, 0, so + p);
            lrn_storev(lrn_loadv(0, x + p) * lrn_pow_v(s, beta), 0, yo + p);
            if (cn == 2) {
                s = mad((lrn_floatv)alpha_over_n, sum1, (lrn_floatv)k);
                lrn_storev(s, 0, so + plane + p);
                lrn_storev(lrn_loadv(0, x + plane + p) * lrn_pow_v(s, beta), 0, yo + plane + p);
            }
        }
    } else {
        for (int i = 0; i < cn; i++)
            for (int e = i * plane; e < i * plane + plane; e++) {
                int lo = i ? lo1 : lo0, hi = i ? hi1 : hi0;
                float sum = 0.0f;
                for (int j = lo; j <= hi; j++) {
                    float xv = x[j * plane + e - i * plane];
                    sum = mad(xv, xv, sum);
                }
                float s = mad(alpha_over_n, sum, k);
                so[e] = s;
                yo[e] = x[e] * lrn_pow_s(s, beta);
            }
    }
}

/* The backward where planes are large (conv1's 55x55: the walk below ran from 7% slower to 1.3x faster there, in
 * one process; the launcher takes this from 2048 pixels a plane). Global (N * ceil(C / LRN_BLOCK)) or more, one
 * work-item per block. coef = 2 * alpha * beta / n. Gathers over
 * the channels whose window holds c: no atomics, deterministic. A work-item takes LRN_BLOCK neighbouring
 * channels: for each run, the quotient dy * y / scale of each channel in the union of their windows is computed
 * once and added to the sums of the outputs whose window holds it, in ascending channel order as before. Five
 * divides per output (with n = 5) kept this kernel compute-bound on PoCL; with blocks of 4 there are two, and one
 * when the block's own channels take 1 / scale from the rsqrt of their scale^(-beta) (LRN_POW_INV). */
#define LRN_BLOCK 4 /* the sums below are written out for 4 */
/* Adds q, the term of channel c0 + j, to the sums of the block's outputs c0 + i whose window holds it:
 * i - before <= j <= i + after. */
#define LRN_ADD_TO_WINDOWS(q, j) \
    do { \
        if ((j) <= after) \
            acc0 += (q); \
        if ((j) >= 1 - before && (j) <= 1 + after) \
            acc1 += (q); \
        if ((j) >= 2 - before && (j) <= 2 + after) \
            acc2 += (q); \
        if ((j) >= 3 - before) \
            acc3 += (q); \
    } while (0)
/* dx of output c0 + i from its sum, when the block has that channel */
#define LRN_BACKWARD_STORE(i, acc, pw) \
    do { \
        if ((i) < cn) { \
            int e_ = (i) * plane; \
            lrn_storev(lrn_loadv(0, dy + e_) * (pw) - (lrn_floatv)coef * lrn_loadv(0, x + e_) * (acc), 0, dx + e_); \
        } \
    } while (0)
__kernel void lrn_backward_blocks(__global float *dinp, int dinp_off, __global const float *dout, int dout_off,
                           __global const float *inp, int inp_off, __global const float *out, int out_off,
                           __global const float *scale, int scale_off, int channels, int plane, int rows,
                           int size, float coef, float beta)
{
    int blocks = (channels + LRN_BLOCK - 1) / LRN_BLOCK;
    int row = get_global_id(0); /* image * blocks + block */
    if (row >= rows)
        return;
    int img = row / blocks, c0 = (row - img * blocks) * LRN_BLOCK;
    int cn = min(LRN_BLOCK, channels - c0); /* channels of this block */
    int before = (size - 1) / 2, after = size / 2;
    /* the union of the windows, and each channel's window, relative to c0 */
    int lo = max(c0 - before, 0) - c0, hi = min(c0 + cn - 1 + after, channels - 1) - c0;
    int at0 = (img * channels + c0) * plane;
    if (plane >= LRN_VEC) {
        /* the last run moved left to end where the plane ends; it stores again what the run before stored */
        for (int p0 = 0; p0 < plane; p0 += LRN_VEC) {
            int at = at0 + min(p0, plane - LRN_VEC);
            __global const float *dy = dout + dout_off + at, *y = out + out_off + at, *s = scale + scale_off + at;
            __global const float *x = inp + inp_off + at;
            __global float *dx = dinp + dinp_off + at;
            /* named sums, not an array: PoCL keeps a private array on the stack */
            lrn_floatv acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f, pw0 = 0.0f, pw1 = 0.0f, pw2 = 0.0f,
                       pw3 = 0.0f;
            for (int j = lo; j <= hi; j++) {
                int e = j * plane;
                lrn_floatv q, sv = lrn_loadv(0, s + e);
                if (j >= 0 && j < cn) { /* the block's own channel: its scale^(-beta), and 1 / scale from it */
                    lrn_floatv pw, inv;
                    LRN_POW_INV(sv, pw, inv);
                    q = lrn_loadv(0, dy + e) * (lrn_loadv(0, y + e) * inv);
                    if (j == 0)
                        pw0 = pw;
                    else if (j == 1)
                        pw1 = pw;
                    else if (j == 2)
                        pw2 = pw;
                    else
                        pw3 = pw;
                } else {
                    q = lrn_loadv(0, dy + e) * (lrn_loadv(0, y + e) / sv);
                }
                LRN_ADD_TO_WINDOWS(q, j);
            }
            LRN_BACKWARD_STORE(0, acc0, pw0);
            LRN_BACKWARD_STORE(1, acc1, pw1);
            LRN_BACKWARD_STORE(2, acc2, pw2);
            LRN_BACKWARD_STORE(3, acc3, pw3);
        }
    } else {
        __global const float *dy = dout + dout_off + at0, *y = out + out_off + at0, *s = scale + scale_off + at0;
        __global const float *x = inp + inp_off + at0;
        __global float *dx = dinp + dinp_off + at0;
        for (int q = 0; q < plane; q++) {
            float acc[LRN_BLOCK];
            for (int i = 0; i < LRN_BLOCK; i++)
                acc[i] = 0.0f;
            for (int j = lo; j <= hi; j++) {
                int e = j * plane + q;
                float t = dy[e] * (y[e] / s[e]);
                for (int i = 0; i < LRN_BLOCK; i++)
                    if (j >= i - before && j <= i + after)
                        acc[i] += t;
            }
            for (int i = 0; i < cn; i++) {
                int e = i * plane + q;
                dx[e] = dy[e] * lrn_pow_s(s[e], beta) - coef * x[e] * acc[i];
            }
        }
    }
}

/* LRN_PREFETCH(p, rw): a software prefetch of the LRN_VEC floats from p (both cache lines they may straddle),
 * for reading (rw 0) or writing (1), where the compiler targets x86-64 (PoCL on CPUs); nothing elsewhere. */
#ifndef LRN_AHEAD
#define LRN_AHEAD 10 /* channels */
#endif
#if defined(__clang__) && defined(__x86_64__)
#define LRN_PREFETCH(p, rw) \
    do { \
        __builtin_prefetch((p), (rw)); \
        __builtin_prefetch((p) + LRN_VEC - 1, (rw)); \
    } while (0)
#else
#define LRN_PREFETCH(p, rw) \
    do { \
    } while (0)
#endif

/* The term q[c] = dy[c] y[c] / scale[c] of one channel, and pw = scale[c]^(-beta), from one rsqrt at beta = 0.75
 * (LRN_POW_INV). */
#define LRN_TERM(e, q, pw, dyv) \
    do { \
        lrn_floatv inv_, s_ = lrn_loadv(0, s + (e)); \
        LRN_POW_INV(s_, pw, inv_); \
        dyv = lrn_loadv(0, dy + (e)); \
        q = dyv * (lrn_loadv(0, y + (e)) * inv_); \
    } while (0)

/* Global N * runs (runs = ceil(plane / LRN_VEC), 1 where the plane is narrower than a vector) or more, one
 * work-item per run of LRN_VEC pixels of an image walking its channels in order (the last run moved left to end
 * where the plane ends, storing again what the run before stored). coef = 2 * alpha * beta / n. Gathers over the
 * channels whose window holds c: no atomics, deterministic. Each channel's term dy y / scale and its
 * scale^(-beta) come from one rsqrt (LRN_POW_INV). With n = 5 the five terms of the window, and dy and
 * scale^(-beta) of the channels c .. c + 2, stay in registers as named vectors shifted by one each channel, so
 * each input is loaded once (4 loads and a store an output; the blocks of 4 channels this replaces loaded 8
 * channels' scale, dy and y for 4 outputs and divided for 4 of them). The loads LRN_AHEAD channels on are
 * prefetched: without it the walk waits on memory (see the top). Other n compute the window's terms each channel.
 * Either way the sum runs from 0 in ascending channel order, a clipped channel adding 0.
 * Measured, old blocks and this in one process, interleaved, two of each, median of 21, batch 32, PoCL, four
 * rounds on the shared machine (copy 32-57 GB/s): conv1 N32 C96 55x55 12.4/12.5 -> 9.6/9.8 ms, 8.9/8.5 ->
 * 8.9/8.6, 7.2/7.1 -> 7.5/7.6 (the quietest round, copy 57 GB/s), 8.4/8.3 -> 8.1/8.2: from 5% slower to 1.3x
 * faster; conv2 C256 27x27 6.9/6.6 -> 5.7/5.7 ms, 5.7/5.4 -> 5.0/4.7: 1.15-1.2x faster. LRN_AHEAD 8, 10 and 12
 * ran alike at conv1; 10 and 12 beat 8 at conv2 by 5-10%, 4 and 6 were slower, 16 slower at conv1. */
__kernel void lrn_backward(__global float *dinp, int dinp_off, __global const float *dout, int dout_off,
                           __global const float *inp, int inp_off, __global const float *out, int out_off,
                           __global const float *scale, int scale_off, int channels, int plane, int rows,
                           int size, float coef, float beta)
{
    int row = get_global_id(0);
    if (row >= rows)
        return;
    int runs = plane >= LRN_VEC ? (plane + LRN_VEC - 1) / LRN_VEC : 1;
    int img = row / runs, run = row - img * runs;
    int at = img * channels * plane;
    int before = (size - 1) / 2, after = size / 2;
    if (plane >= LRN_VEC) {
        at += min(run * LRN_VEC, plane - LRN_VEC);
        __global const float *dy = dout + dout_off + at, *y = out + out_off + at, *s = scale + scale_off + at;
        __global const float *x = inp + inp_off + at;
        __global float *dx = dinp + dinp_off + at;
        if (size == 5) {
            /* q0..q4: terms of channels c - 2 .. c + 2; pw2..pw4, d2..d4: scale^(-beta) and dy of c .. c + 2 */
            lrn_floatv q0 = 0.0f, q1 = 0.0f, q2, q3 = 0.0f, q4, pw2, pw3 = 0.0f, pw4, d2, d3 = 0.0f, d4;
            LRN_TERM(0, q2, pw2, d2);
            if (channels > 1)
                LRN_TERM(plane, q3, pw3, d3);
            for (int c = 0; c < channels; c++) {
                int e = c * plane;
                if (c + LRN_AHEAD < channels) { /* the loads and the store LRN_AHEAD channels on */
                    int f = e + LRN_AHEAD * plane;
                    LRN_PREFETCH(s + f, 0);
                    LRN_PREFETCH(dy + f, 0);
                    LRN_PREFETCH(y + f, 0);
                    LRN_PREFETCH(x + f, 0);
                    LRN_PREFETCH(dx + f, 1);
                }
                if (c + 2 < channels) {
                    LRN_TERM(e + 2 * plane, q4, pw4, d4);
                } else {
                    q4 = 0.0f;
                    pw4 = 0.0f;
                    d4 = 0.0f;
                }
                lrn_floatv acc = q0 + q1 + q2 + q3 + q4;
                lrn_storev(d2 * pw2 - (lrn_floatv)coef * lrn_loadv(0, x + e) * acc, 0, dx + e);
                q0 = q1;
                q1 = q2;
                q2 = q3;
                q3 = q4;
                pw2 = pw3;
                pw3 = pw4;
                d2 = d3;
                d3 = d4;
            }
        } else {
            for (int c = 0; c < channels; c++) {
                int lo = max(c - before, 0), hi = min(c + after, channels - 1);
                lrn_floatv acc = 0.0f, q, pw, pwc = 0.0f, d, dc = 0.0f;
                for (int j = lo; j <= hi; j++) {
                    LRN_TERM(j * plane, q, pw, d);
                    if (j == c) {
                        pwc = pw;
                        dc = d;
                    }
                    acc += q;
                }
                lrn_storev(dc * pwc - (lrn_floatv)coef * lrn_loadv(0, x + c * plane) * acc, 0, dx + c * plane);
            }
        }
    } else {
        __global const float *dy = dout + dout_off + at, *y = out + out_off + at, *s = scale + scale_off + at;
        __global const float *x = inp + inp_off + at;
        __global float *dx = dinp + dinp_off + at;
        for (int c = 0; c < channels; c++) {
            int lo = max(c - before, 0), hi = min(c + after, channels - 1);
            for (int p = 0; p < plane; p++) {
                float acc = 0.0f;
                for (int j = lo; j <= hi; j++) {
                    int e = j * plane + p;
                    float sv = s[e], pw, inv;
                    LRN_POW_INV_S(sv, pw, inv);
                    acc += dy[e] * (y[e] * inv);
                }
                int e = c * plane + p;
                dx[e] = dy[e] * lrn_pow_s(s[e], beta) - coef * x[e] * acc;
            }
        }
    }
}
