/* lrn.cl: local response normalization across channels (AlexNet section 3.3), forward and backward.
 *
 * Convention (Caffe's and PyTorch's): alpha is divided by the window size n; the paper's formula uses alpha
 * without the division (its alpha = 1e-4 is alpha = 5e-4 here).
 *   scale[c] = k + (alpha / n) * sum_{c' = c - n/2 .. c + (n-1)/2, clipped to [0, C)} x[c']^2
 *   y[c]     = x[c] * scale[c]^(-beta)
 * The window is n/2 channels before c and (n-1)/2 after, PyTorch's padding for even n (symmetric for odd n).
 * Backward, with the window mirrored (c' in [c - (n-1)/2, c + n/2] are the channels whose window holds c):
 *   dx[c] = dy[c] * scale[c]^(-beta) - (2 alpha beta / n) * x[c] * sum_{c'} dy[c'] y[c'] / scale[c']
 * where scale and y / scale = x scale^(-beta - 1) are recomputed from x: the forward stores only y, the
 * backward reads x and dy (8 bytes an element written or read by the forward, 12 by the backward, where storing
 * scale and reading it and y back took 12 and 20).
 *
 * Layout of the work: a 1-D range. Forward: one work-item per plane or pair of planes, walking its planes in runs
 * of LRN_VEC pixels with LRN_VEC-wide vector loads, one per window channel; the last run, when the plane is not a
 * multiple of LRN_VEC, is moved left to end where the plane ends (it stores again a few pixels the run before
 * stored, the same values; a plane narrower than a vector goes pixel by pixel with the same operations). The
 * neighbouring planes a work-item reads were just read by the work-item of the channels before, in the same
 * work-group, so they come from cache and each input crosses the memory bus about once. Backward: one work-item
 * per run of LRN_VEC pixels of an image, walking the image's channels in order with the window in registers
 * (lrn_backward). Explicit vectors, because a CPU implementation (PoCL) vectorizes across work-items only when
 * every work-item runs the same straight-line code, and the loops here have runtime trip counts.
 *
 * What bounds them on PoCL (2-core AVX-512 EPYC), found by taking parts out: before, a 2-D range with a work-item
 * per run, PoCL's loop over 64 work-items each doing one run cost more than the run. The forward with that gone is
 * bound by its window loads from cache, not by pow or memory: with a window of one channel it runs at 86-90% of
 * the copy bandwidth, with five at about 50%, without the pow about the same; so where planes are large (conv1's
 * 55x55) a work-item takes two planes and loads the union of their windows once (6 loads for 2 outputs, not 10),
 * 15-18% faster; at conv2's 27x27 two planes ran 5-15% slower (even with a window of one), so they keep one. The
 * backward was bound by divides and square roots (PoCL's rsqrt is a square root and a divide): scale^(-beta) and
 * 1 / scale come from one rsqrt.
 *
 * Walking the channels with the window in registers (each input loaded once) alone ran 2x slower than the plane
 * layouts (forward conv1 4.5 -> 11.0 ms, backward 11.0 -> 15.0 ms, in one process), though as fast (forward) or
 * 1.4x faster (backward) on a problem that fits in cache: a work-item touches one 64-byte piece of each plane in
 * turn, which the hardware prefetchers do not follow, so it waits on memory latency. Runs of 2, 4 or 8 vectors a
 * work-item, a work-group per image with a barrier a channel (PoCL then keeps the window in memory), or walking
 * over 256- or 1024-pixel chunks with the window from cache did not help. Software prefetches LRN_AHEAD channels
 * on fix it: the forward got to 6.9 ms (old 4.4), still slower, so it keeps its layout; the backward walks.
 *
 * scale^(-beta) for beta = 0.75 (the paper's and Caffe's value) is r * sqrt(r) with r = rsqrt(scale): a
 * few ulp, as pow, at a fraction of its cost (pow is the slowest builtin on CPUs and on most GPUs).
 *
 * Tried since and dropped (bench_kernels --only lrn, batch 32, PoCL, AVX-512, A/B alternating, each row against
 * the copy peak measured beside it, 2026-12-08): scale^(-1/4) from the float's bits and three Newton steps, only
 * multiply-adds, no square root or divide (5.6e-7 relative, against 2.4e-7): slower in every pairing of four
 * rounds, 3-45% (the multiply-adds compete with the window's); the backward walking two runs a work-item side
 * by side, with the prefetches: within the noise of one (conv1 6.6-7.6 ms against 6.6-8.2). Taking the square
 * roots and divides out altogether (a wrong result, to find the bound) made the forward 0-14% and the backward
 * 0-10% faster: they are not what holds either back from the copy bandwidth.
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

/* LRN_POW_INV(T, s, pw, inv): pw = s^(-beta) and inv = 1 / s, of type T (lrn_floatv or float), for s > 0. At
 * beta = 0.75 both come from r = rsqrt(s) (pw = r sqrt(r), inv = r r: three square roots and divides, where a
 * divide for inv makes four; the backward is bound by them on CPUs), a few ulp from 1 / s. Vectors and scalars
 * take the same operations, so a pixel gets the same value either way. */
#define LRN_POW_INV(T, s, pw, inv) \
    do { \
        T s_ = (s); \
        if (beta == 0.75f) { \
            T r_ = rsqrt(s_); \
            pw = r_ * sqrt(r_); \
            inv = r_ * r_; \
        } else { \
            pw = pow(s_, (T)(-beta)); \
            inv = 1.0f / s_; \
        } \
    } while (0)

/* s^(-beta) for s > 0, vector and scalar (the forward's; the compiler drops the unused 1 / s). */
static inline lrn_floatv lrn_pow_v(lrn_floatv s, float beta)
{
    lrn_floatv pw, inv;
    LRN_POW_INV(lrn_floatv, s, pw, inv);
    return pw;
}

static inline float lrn_pow_s(float s, float beta)
{
    float pw, inv;
    LRN_POW_INV(float, s, pw, inv);
    return pw;
}

/* Global (rows) or more; plane = H*W; per = 1 or 2 channels a work-item, rows = N * ceil(C / per). alpha_over_n
 * = alpha / n. out may not alias inp. A work-item takes per neighbouring planes of an image: the
 * union of their windows is loaded once, each load added to the sums of the planes whose window holds it (in
 * ascending channel order, as with one plane). The last run moved left to end where the plane ends, its pixels
 * that the run before stored stored again with the same values (a plane narrower than a vector goes pixel by
 * pixel). */
__kernel void lrn_forward(__global float *out, int out_off, __global const float *inp, int inp_off, int channels,
                          int plane, int rows, int size, float alpha_over_n, float beta, float k, int per)
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
    __global float *yo = out + out_off + at;
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
            lrn_storev(lrn_loadv(0, x + p) * lrn_pow_v(s, beta), 0, yo + p);
            if (cn == 2) {
                s = mad((lrn_floatv)alpha_over_n, sum1, (lrn_floatv)k);
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
                yo[e] = x[e] * lrn_pow_s(s, beta);
            }
    }
}


/* ---- backward ---------------------------------------------------------------------------------- */

/* LRN_PREFETCH(p, rw): a software prefetch of the LRN_VEC floats from p (both cache lines they may straddle),
 * for reading (rw 0) or writing (1), where the compiler targets x86-64 (PoCL on CPUs); nothing elsewhere.
 * Into the L2 cache (locality 2, prefetcht1), not the L1 (3): a walk step asks for six lines, and sixty in
 * flight at LRN_AHEAD 10 are likely more than the L1's miss buffers hold; the L2 holds them until the walk
 * arrives.
 * Measured (bench_kernels --only lrn.backward, batch 32, PoCL, AVX-512, each row against the copy peak beside it,
 * nine alternating rounds): conv1 N32 C96 55x55 from 50% (35-53%) of copy to 63% (49-72%), 6.4-8.2 -> 5.0-6.5
 * ms; conv2 C256 27x27 from 56% to 70%. Into the L2 at 16 channels on ran as fast as at 10, at 20 and 32
 * slower, at 6 slower; locality 1 (prefetcht2) as 2; 20 channels into the L1 as 10. The walk bounds it: with
 * the arithmetic taken out (dx = dy + x, the same loads, stores and prefetches) it reads a median 69% of copy at
 * conv1 and 73% at conv2, where this kernel reads 59% and 67% (seven alternating rounds). */
#ifndef LRN_AHEAD
#define LRN_AHEAD 10 /* channels */
#endif
#if defined(__clang__) && defined(__x86_64__)
#define LRN_PREFETCH(p, rw) \
    do { \
        __builtin_prefetch((p), (rw), 2); \
        __builtin_prefetch((p) + LRN_VEC - 1, (rw), 2); \
    } while (0)
#else
#define LRN_PREFETCH(p, rw) \
    do { \
    } while (0)
#endif

/* scale of channel j at the pixels from x (x points at channel 0 of the image): the forward's window and
 * operations, in its order, so the value is the forward's. */
static inline lrn_floatv lrn_scale_v(__global const float *x, int j, int plane, int channels, int size,
                                     float alpha_over_n, float k)
{
    lrn_floatv sum = 0.0f;
    for (int i = max(j - size / 2, 0); i <= min(j + (size - 1) / 2, channels - 1); i++) {
        lrn_floatv xv = lrn_loadv(0, x + i * plane);
        sum = mad(xv, xv, sum);
    }
    return mad((lrn_floatv)alpha_over_n, sum, (lrn_floatv)k);
}

static inline float lrn_scale_s(__global const float *x, int j, int plane, int channels, int size,
                                float alpha_over_n, float k)
{
    float sum = 0.0f;
    for (int i = max(j - size / 2, 0); i <= min(j + (size - 1) / 2, channels - 1); i++) {
        float xv = x[i * plane];
        sum = mad(xv, xv, sum);
    }
    return mad(alpha_over_n, sum, k);
}

/* Global N * runs (runs = ceil(plane / LRN_VEC), 1 where the plane is narrower than a vector) or more, one
 * work-item per run of LRN_VEC pixels of an image walking its channels in order (the last run moved left to end
 * where the plane ends, storing again what the run before stored). coef = 2 * alpha * beta / n. The backward
 * needs scale and y / scale of the channels whose window holds c; both come from x, whose squares the walk
 * holds anyway, so the forward stores neither scale nor the backward reads y: two loads and a store an output.
 * y / scale = x scale^(-beta) / scale, with scale^(-beta) and 1 / scale from one rsqrt (LRN_POW_INV). Gathers over
 * the channels whose window holds c, summed from 0 in ascending channel order (a clipped channel adds 0): no
 * atomics, deterministic.
 *
 * With n = 5, channel t's term q = dy y / scale is formed when the walk reaches t, from x of t - 2 .. t + 2 in
 * registers (named vectors shifted by one each channel); dx of t - 2 is stored then, from the terms of t - 4 ..
 * t. The loads LRN_AHEAD channels on are prefetched: without it the walk waits on memory. Other n recompute
 * each window's scale from x (n^2 loads an output).
 *
 * Measured (bench_kernels --only lrn.backward, batch 32, PoCL, AVX-512, three alternating runs on a busy
 * machine): against the walk that read x, y, scale and dy (and blocks of 4 channels at conv1), conv1 N32 C96
 * 55x55 15.6-15.8 -> 11.0-13.1 ms, conv2 C256 27x27 9.2-10.6 -> 7.2-8.0 ms, 1.2-1.4x faster; the forward
 * no longer stores scale, and the network keeps no scale buffers. */
__kernel void lrn_backward(__global float *dinp, int dinp_off, __global const float *dout, int dout_off,
                           __global const float *inp, int inp_off, int channels, int plane, int rows, int size,
                           float alpha_over_n, float k, float beta, float coef)
{
    int row = get_global_id(0);
    if (row >= rows)
        return;
    int runs = plane >= LRN_VEC ? (plane + LRN_VEC - 1) / LRN_VEC : 1;
    int img = row / runs, run = row - img * runs;
    int at = img * channels * plane + (plane >= LRN_VEC ? min(run * LRN_VEC, plane - LRN_VEC) : 0);
    __global const float *dy = dout + dout_off + at, *x = inp + inp_off + at;
    __global float *dx = dinp + dinp_off + at;
    int before = (size - 1) / 2, after = size / 2; /* the mirrored window: channels whose window holds c */
    if (plane >= LRN_VEC && size == 5) {
        /* x0..x4: x of t - 2 .. t + 2; q0..q4: terms of t - 4 .. t; pw0..pw2, d0..d2: scale^(-beta) and dy of
         * t - 2 .. t. Channels outside [0, C) are 0. */
        lrn_floatv x0 = 0.0f, x1 = 0.0f, x2 = 0.0f, x3 = lrn_loadv(0, x), x4 = 0.0f;
        if (channels > 1)
            x4 = lrn_loadv(0, x + plane);
        lrn_floatv q0 = 0.0f, q1 = 0.0f, q2 = 0.0f, q3 = 0.0f, q4 = 0.0f, pw0 = 0.0f, pw1 = 0.0f, pw2 = 0.0f,
                   d0 = 0.0f, d1 = 0.0f, d2 = 0.0f;
        for (int t = 0; t < channels + 2; t++) {
            int e = t * plane;
            if (t + LRN_AHEAD + 2 < channels) { /* the loads and the store LRN_AHEAD channels on */
                LRN_PREFETCH(x + e + (LRN_AHEAD + 2) * plane, 0);
                LRN_PREFETCH(dy + e + LRN_AHEAD * plane, 0);
                LRN_PREFETCH(dx + e + (LRN_AHEAD - 2) * plane, 1);
            }
            x0 = x1;
            x1 = x2;
            x2 = x3;
            x3 = x4;
            x4 = t + 2 < channels ? lrn_loadv(0, x + e + 2 * plane) : (lrn_floatv)0.0f;
            q0 = q1;
            q1 = q2;
            q2 = q3;
            q3 = q4;
            pw0 = pw1;
            pw1 = pw2;
            d0 = d1;
            d1 = d2;
            if (t < channels) {
                lrn_floatv sum = 0.0f, pw, inv;
                sum = mad(x0, x0, sum);
                sum = mad(x1, x1, sum);
                sum = mad(x2, x2, sum);
                sum = mad(x3, x3, sum);
                sum = mad(x4, x4, sum);
                LRN_POW_INV(lrn_floatv, mad((lrn_floatv)alpha_over_n, sum, (lrn_floatv)k), pw, inv);
                d2 = lrn_loadv(0, dy + e);
                pw2 = pw;
                q4 = d2 * ((x2 * pw) * inv);
            } else {
                q4 = 0.0f;
                pw2 = 0.0f;
                d2 = 0.0f;
            }
            if (t >= 2)
                lrn_storev(d0 * pw0 - (lrn_floatv)coef * x0 * (q0 + q1 + q2 + q3 + q4), 0, dx + e - 2 * plane);
        }
    } else if (plane >= LRN_VEC) {
        for (int c = 0; c < channels; c++) {
            lrn_floatv acc = 0.0f, pwc = 0.0f;
            for (int j = max(c - before, 0); j <= min(c + after, channels - 1); j++) {
                lrn_floatv pw, inv;
                LRN_POW_INV(lrn_floatv, lrn_scale_v(x, j, plane, channels, size, alpha_over_n, k), pw, inv);
                acc += lrn_loadv(0, dy + j * plane) * ((lrn_loadv(0, x + j * plane) * pw) * inv);
                if (j == c)
                    pwc = pw;
            }
            int e = c * plane;
            lrn_storev(lrn_loadv(0, dy + e) * pwc - (lrn_floatv)coef * lrn_loadv(0, x + e) * acc, 0, dx + e);
        }
    } else {
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < plane; p++) {
                float acc = 0.0f, pwc = 0.0f;
                for (int j = max(c - before, 0); j <= min(c + after, channels - 1); j++) {
                    float pw, inv;
                    LRN_POW_INV(float, lrn_scale_s(x + p, j, plane, channels, size, alpha_over_n, k), pw, inv);
                    acc += dy[j * plane + p] * ((x[j * plane + p] * pw) * inv);
                    if (j == c)
                        pwc = pw;
                }
                int e = c * plane + p;
                dx[e] = dy[e] * pwc - coef * x[e] * acc;
            }
    }
}
