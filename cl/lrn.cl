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
 * Layout of the work: a 2-D range, dimension 1 over the N*C planes, dimension 0 over runs of LRN_VEC
 * neighbouring pixels of the plane (a work-item takes runs gid0, gid0 + size0, ... so that any launch size
 * is correct). A work-item computes its run with LRN_VEC-wide vector loads, one per window channel; the
 * neighbouring planes it reads were just read by the work-items of the channels before, so they come from
 * cache and each input crosses the memory bus about once. Explicit vectors, because a CPU implementation
 * (PoCL) vectorizes across work-items only when every work-item runs the same straight-line code, and the
 * window loop here has a runtime trip count. All work-items of a row take the same window, so the loop is
 * uniform on GPUs too. The last run of a plane, when the plane is not a multiple of LRN_VEC, is done
 * element by element with the same operations.
 *
 * scale^(-beta) for beta = 0.75 (the paper's and Caffe's value) is r * sqrt(r) with r = rsqrt(scale): a
 * few ulp, as pow, at a fraction of its cost (pow is the slowest builtin on CPUs and on most GPUs).
 *
 * Defines: LRN_VEC (2, 4, 8 or 16; default 8): pixels per vector.
 * Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

#ifndef LRN_VEC
#define LRN_VEC 8
#endif

#define LRN_CAT_(a, b) a##b
#define LRN_CAT(a, b) LRN_CAT_(a, b)
#define lrn_floatv LRN_CAT(float, LRN_VEC)
#define lrn_loadv LRN_CAT(vload, LRN_VEC)
#define lrn_storev LRN_CAT(vstore, LRN_VEC)

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

/* Global (any, N*C); rows = N*C, plane = H*W. alpha_over_n = alpha / n. out and scale may not alias inp. */
__kernel void lrn_forward(__global float *out, int out_off, __global float *scale, int scale_off,
                          __global const float *inp, int inp_off, int channels, int plane, int rows, int size,
                          float alpha_over_n, float beta, float k)
{
    int row = get_global_id(1);
    if (row >= rows)
        return;
    /* remainder as row - q * d: LLVM otherwise pairs div and rem with a `freeze` that Oclgrind cannot run */
    int c = row - row / channels * channels;
    int lo = max(c - size / 2, 0) - c, hi = min(c + (size - 1) / 2, channels - 1) - c; /* window, relative */
    int runs = (plane + LRN_VEC - 1) / LRN_VEC;
    for (int v = get_global_id(0); v < runs; v += get_global_size(0)) {
        int p = v * LRN_VEC, at = row * plane + p;
        __global const float *x = inp + inp_off + at;
        if (p + LRN_VEC <= plane) {
            lrn_floatv sum = 0.0f;
            for (int j = lo; j <= hi; j++) {
                lrn_floatv xv = lrn_loadv(0, x + j * plane);
                sum = mad(xv, xv, sum);
            }
            lrn_floatv s = mad((lrn_floatv)alpha_over_n, sum, (lrn_floatv)k);
            lrn_storev(s, 0, scale + scale_off + at);
            /* s > 0 (k > 0, alpha >= 0 are checked by the launcher); a NaN input makes s NaN and so y NaN. */
            lrn_storev(lrn_loadv(0, x) * lrn_pow_v(s, beta), 0, out + out_off + at);
        } else {
            for (int e = 0; e < plane - p; e++) {
                float sum = 0.0f;
                for (int j = lo; j <= hi; j++) {
                    float xv = x[j * plane + e];
                    sum = mad(xv, xv, sum);
                }
                float s = mad(alpha_over_n, sum, k);
                scale[scale_off + at + e] = s;
                out[out_off + at + e] = x[e] * lrn_pow_s(s, beta);
            }
        }
    }
}

/* Global (any, N*C). coef = 2 * alpha * beta / n. Gathers over the channels whose window holds c: no atomics,
 * deterministic. */
__kernel void lrn_backward(__global float *dinp, int dinp_off, __global const float *dout, int dout_off,
                           __global const float *inp, int inp_off, __global const float *out, int out_off,
                           __global const float *scale, int scale_off, int channels, int plane, int rows,
                           int size, float coef, float beta)
{
    int row = get_global_id(1);
    if (row >= rows)
        return;
    int c = row - row / channels * channels;
    int lo = max(c - (size - 1) / 2, 0) - c, hi = min(c + size / 2, channels - 1) - c;
    int runs = (plane + LRN_VEC - 1) / LRN_VEC;
    for (int v = get_global_id(0); v < runs; v += get_global_size(0)) {
        int p = v * LRN_VEC, at = row * plane + p;
        __global const float *dy = dout + dout_off + at, *y = out + out_off + at, *s = scale + scale_off + at;
        if (p + LRN_VEC <= plane) {
            lrn_floatv acc = 0.0f;
            for (int j = lo; j <= hi; j++) {
                int e = j * plane;
                acc = mad(lrn_loadv(0, dy + e), lrn_loadv(0, y + e) / lrn_loadv(0, s + e), acc);
            }
            lrn_floatv g = lrn_loadv(0, dy) * lrn_pow_v(lrn_loadv(0, s), beta) -
                           (lrn_floatv)coef * lrn_loadv(0, inp + inp_off + at) * acc;
            lrn_storev(g, 0, dinp + dinp_off + at);
        } else {
            for (int q = 0; q < plane - p; q++) {
                float acc = 0.0f;
                for (int j = lo; j <= hi; j++) {
                    int e = j * plane + q;
                    acc = mad(dy[e], y[e] / s[e], acc);
                }
                dinp[dinp_off + at + q] = dy[q] * lrn_pow_s(s[q], beta) - coef * inp[inp_off + at + q] * acc;
            }
        }
    }
}

