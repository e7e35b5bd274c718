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
 * Layout of the work: a 1-D range, one work-item per plane or pair of planes (forward) or per block of LRN_BLOCK
 * neighbouring planes of an image (backward), walking its planes in runs of LRN_VEC pixels with LRN_VEC-wide vector
 * loads, one per window channel; the last run, when the plane is not a multiple of LRN_VEC, is moved left to end
 * where the plane ends (it stores again a few pixels the run before stored, the same values; a plane narrower than
 * a vector goes pixel by pixel with the same operations). The neighbouring planes a work-item reads were just read
 * by the work-item of the channels before, in the same work-group, so they come from cache and each input crosses
 * the memory bus about once. Explicit vectors, because a CPU implementation (PoCL) vectorizes across work-items only
 * when every work-item runs the same straight-line code, and the window loop here has a runtime trip count.
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
 * backward conv1 36.1/35.1% -> 49.1/53.6% (1.4-1.5x), conv2 29.8/33.9% -> 44.9/50.2% (1.5x). The backward's rows
 * are blocks of LRN_BLOCK channels, not single channels (see there).
 *
 * scale^(-beta) for beta = 0.75 (the paper's and Caffe's value) is r * sqrt(r) with r = rsqrt(scale): a
 * few ulp, as pow, at a fraction of its cost (pow is the slowest builtin on CPUs and on most GPUs).
 *
 * Defines: LRN_VEC (2, 4, 8 or 16; default 16, for AVX-512 CPUs): pixels per vector.
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

/* Global (N * ceil(C / LRN_BLOCK)) or more, one work-item per block. coef = 2 * alpha * beta / n. Gathers over
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
__kernel void lrn_backward(__global float *dinp, int dinp_off, __global const float *dout, int dout_off,
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
