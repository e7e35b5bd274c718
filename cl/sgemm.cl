/* sgemm.cl: the engine's own register-tiled SGEMM for CPUs, row-major C = alpha op(A) op(B) + beta C
 * (src/ops/sgemm.c picks the kernel and the launch). Tensors are (pointer, element offset) pairs.
 * Defines (defaults here): SG_TM rows x 32 columns of C per work-item in the outer-product kernels (two float16
 * accumulators per row), SG_DM x SG_DN in the dot-product kernel (one float16 accumulator per element).
 *
 * Two shapes of inner loop, because a CPU wants its 16-wide vectors along a contiguous dimension:
 * - sgemm_nn / sgemm_tn / sgemm_tt (B's rows contiguous, or gathered for tt): every k adds op(A)[i,k] times
 *   the row op(B)[k, j0..j0+31] to the tile's accumulators, an outer product; op(A) is read one float at a time,
 *   so either layout of A costs the same.
 * - sgemm_nt (A's and B's rows both contiguous along k): every element of the tile is a dot product, summed
 *   16 lanes wide and reduced at the end.
 * Rows and columns past the matrix are clamped to the last one for loading (no branch in the inner loop) and
 * skipped when storing. Every sum runs in one fixed order: no atomics, the same bits on every run. */

#ifndef SG_TM
#define SG_TM 8
#endif
#ifndef SG_DM
#define SG_DM 4
#endif
#ifndef SG_DN
#define SG_DN 4
#endif

/* alpha * acc + beta * c; with beta = 0, c is never read (it may hold NaN). */
static inline float sg_out(float acc, float alpha, float beta, __global const float *c)
{
    return beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

/* Stores one row of 32 results (two float16) at columns j0.., those below n only. */
static inline void sg_store_row(__global float *crow, int j0, int n, float16 lo, float16 hi, float alpha,
                                float beta)
{
    if (j0 + 32 <= n) {
        float16 l = alpha * lo, h = alpha * hi;
        if (beta != 0.0f) {
            l += beta * vload16(0, crow + j0);
            h += beta * vload16(0, crow + j0 + 16);
        }
        vstore16(l, 0, crow + j0);
        vstore16(h, 0, crow + j0 + 16);
        return;
    }
    float t[32];
    vstore16(lo, 0, t);
    vstore16(hi, 0, t + 16);
    for (int q = 0; q < 32 && j0 + q < n; q++)
        crow[j0 + q] = sg_out(t[q], alpha, beta, crow + j0 + q);
}

/* The 32 columns of op(B)'s row k from j0: contiguous (B not transposed) or gathered, clamped to n - 1. */
static inline void sg_brow(__global const float *b, int ldb, int trans_b, int k, int j0, int n, float16 *lo,
                           float16 *hi)
{
    if (!trans_b && j0 + 32 <= n) {
        *lo = vload16(0, b + k * ldb + j0);
        *hi = vload16(0, b + k * ldb + j0 + 16);
        return;
    }
    float t[32];
    for (int q = 0; q < 32; q++) {
        int j = min(j0 + q, n - 1);
        t[q] = trans_b ? b[j * ldb + k] : b[k * ldb + j];
    }
    *lo = vload16(0, t);
    *hi = vload16(0, t + 16);
}

/* The outer-product kernel body: work-item (x, y) owns rows x*SG_TM.. and columns y*32.. of C. A_AT(i, p) reads
 * op(A)[i, p]; TRANS_B says B's row must be gathered. Work-items along x share a panel of B: a work-group
 * of them runs back to back on one core of a CPU, which finds the panel in its cache. */
#define SG_OUTER(A_AT, TRANS_B)                                                                                   \
    int i0 = get_global_id(0) * SG_TM, j0 = get_global_id(1) * 32;                                                \
    if (i0 >= m || j0 >= n)                                                                                       \
        return;                                                                                                   \
    a += a_off;                                                                                                   \
    b += b_off;                                                                                                   \
    c += c_off;                                                                                                   \
    int rows[SG_TM];                                                                                              \
    for (int r = 0; r < SG_TM; r++)                                                                               \
        rows[r] = min(i0 + r, m - 1);                                                                             \
    float16 lo[SG_TM], hi[SG_TM];                                                                                 \
    for (int r = 0; r < SG_TM; r++)                                                                               \
        lo[r] = hi[r] = (float16)(0.0f);                                                                          \
    if (!(TRANS_B) && j0 + 32 <= n) {                                                                             \
        __global const float *bp = b + j0;                                                                        \
        for (int p = 0; p < k; p++, bp += ldb) {                                                                  \
            float16 bl = vload16(0, bp), bh = vload16(0, bp + 16);                                                \
            for (int r = 0; r < SG_TM; r++) {                                                                     \
                float av = A_AT(rows[r], p);                                                                      \
                lo[r] = mad((float16)(av), bl, lo[r]);                                                            \
                hi[r] = mad((float16)(av), bh, hi[r]);                                                            \
            }                                                                                                     \
        }                                                                                                         \
    } else {                                                                                                      \
        for (int p = 0; p < k; p++) {                                                                             \
            float16 bl, bh;                                                                                       \
            sg_brow(b, ldb, TRANS_B, p, j0, n, &bl, &bh);                                                         \
            for (int r = 0; r < SG_TM; r++) {                                                                     \
                float av = A_AT(rows[r], p);                                                                      \
                lo[r] = mad((float16)(av), bl, lo[r]);                                                            \
                hi[r] = mad((float16)(av), bh, hi[r]);                                                            \
            }                                                                                                     \
        }                                                                                                         \
    }                                                                                                             \
    for (int r = 0; r < SG_TM && i0 + r < m; r++)                                                                 \
        sg_store_row(c + (i0 + r) * ldc, j0, n, lo[r], hi[r], alpha, beta);

#define SG_ARGS                                                                                                   \
    __global const float *a, int a_off, int lda, __global const float *b, int b_off, int ldb, __global float *c,  \
        int c_off, int ldc, int m, int n, int k, float alpha, float beta

#define SG_A_N(i, p) a[(i) * lda + (p)]
#define SG_A_T(i, p) a[(p) * lda + (i)]

__kernel void sgemm_nn(SG_ARGS)
{
    SG_OUTER(SG_A_N, 0)
}

__kernel void sgemm_tn(SG_ARGS)
{
    SG_OUTER(SG_A_T, 0)
}

/* Both transposed: B's row gathered with stride ldb. Correct and slow; the engine has no such product. */
__kernel void sgemm_tt(SG_ARGS)
{
    SG_OUTER(SG_A_T, 1)
}

/* A (m, k) times B^T with B (n, k): work-item (x, y) owns rows x*SG_DM.. and columns y*SG_DN.. of C. */
__kernel void sgemm_nt(SG_ARGS)
{
    int i0 = get_global_id(0) * SG_DM, j0 = get_global_id(1) * SG_DN;
    if (i0 >= m || j0 >= n)
        return;
    a += a_off;
    b += b_off;
    c += c_off;
    int ar[SG_DM], br[SG_DN]; /* where each row starts */
    for (int r = 0; r < SG_DM; r++)
        ar[r] = min(i0 + r, m - 1) * lda;
    for (int q = 0; q < SG_DN; q++)
        br[q] = min(j0 + q, n - 1) * ldb;
    float16 acc[SG_DM][SG_DN];
    for (int r = 0; r < SG_DM; r++)
        for (int q = 0; q < SG_DN; q++)
            acc[r][q] = (float16)(0.0f);
    int p = 0;
    for (; p + 16 <= k; p += 16) {
        float16 bv[SG_DN];
        for (int q = 0; q < SG_DN; q++)
            bv[q] = vload16(0, b + br[q] + p);
        for (int r = 0; r < SG_DM; r++) {
            float16 av = vload16(0, a + ar[r] + p);
            for (int q = 0; q < SG_DN; q++)
                acc[r][q] = mad(av, bv[q], acc[r][q]);
        }
    }
    for (int r = 0; r < SG_DM && i0 + r < m; r++)
        for (int q = 0; q < SG_DN && j0 + q < n; q++) {
            float16 v = acc[r][q];
            float lanes[16]; /* through memory: Oclgrind 21.10's uninitialized check crashes on v.s0 and v.lo */
            vstore16(v, 0, lanes);
            float s = 0.0f;
            for (int l = 0; l < 16; l++)
                s += lanes[l];
            for (int t = p; t < k; t++)
                s = mad(a[ar[r] + t], b[br[q] + t], s);
            __global float *o = c + (i0 + r) * ldc + j0 + q;
            *o = sg_out(s, alpha, beta, o);
        }
}
