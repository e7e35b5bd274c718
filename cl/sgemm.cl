/* sgemm.cl: the engine's own register-tiled SGEMM for CPUs, row-major C = alpha op(A) op(B) + beta C
 * (src/ops/sgemm.c picks the kernel and the launch). Tensors are (pointer, element offset) pairs.
 * Defines (defaults here; src/ops/sgemm.c launches with the same tile sizes): SG_VW, the vector width (8 for
 * AVX2, 16 for AVX-512); SG_TM rows x 2 * SG_VW columns of C per work-item in the outer-product kernels (two
 * vector accumulators per row), SG_NN_TM rows in sgemm_nn; SG_KB, the steps of k between the barriers of those kernels; SG_DM x SG_DN
 * elements per work-item in the dot-product kernel (one vector each).
 *
 * Two shapes of inner loop, because a CPU wants its vectors along a contiguous dimension:
 * - sgemm_nn / sgemm_nn_rt / sgemm_tn / sgemm_tn_small / sgemm_tt (B's rows contiguous, or gathered for tt): every
 *   k adds op(A)[i,k] times the row op(B)[k, j0..j0+2*SG_VW-1] to the tile's accumulators, an outer product;
 *   op(A) is read one float at a time (a broadcast), so either layout of A costs the same.
 * - sgemm_nt (A's and B's rows both contiguous along k): every element of the tile is a dot product, summed
 *   SG_VW lanes wide and reduced at the end.
 * The loops over a tile's rows and columns are unrolled so that the accumulators live in registers.
 * Rows and columns past the matrix are clamped to the last one for loading (no branch in the inner loop) and
 * skipped when storing. Every sum runs in one fixed order: no atomics, the same bits on every run. */

#ifndef SG_VW
#define SG_VW 8
#endif
#ifndef SG_TM
#define SG_TM 6
#endif
#ifndef SG_NN_TM
#define SG_NN_TM 5
#endif
#ifndef SG_KB
#define SG_KB 128
#endif
#ifndef SG_DM
#define SG_DM 2
#endif
#ifndef SG_DN
#define SG_DN 5
#endif

/* The vector of SG_VW floats that every loop works in: 8 fills an AVX2 register, 16 an AVX-512 one. */
#if SG_VW == 16
#define sgv float16
#define sg_vload vload16
#define sg_vstore vstore16
#elif SG_VW == 8
#define sgv float8
#define sg_vload vload8
#define sg_vstore vstore8
#else
#error "SG_VW must be 8 or 16"
#endif
#define SG_MAXTM 8 /* the largest tile of the outer-product kernels: rows, and vectors per row */
#define SG_MAXNV 3
/* Loops over a tile's rows (r < tm) and vectors (v < nv) with literal bounds: PoCL's compiler unrolls them before
 * it inlines each kernel's constant tile size (a loop bounded by tm itself stayed a loop, its accumulators an array
 * in memory), then drops the rows and vectors past the tile. */
#define SG_ROWS(r) _Pragma("unroll") for (int r = 0; r < SG_MAXTM; r++) if (r < tm)
#define SG_VECS(v) _Pragma("unroll") for (int v = 0; v < SG_MAXNV; v++) if (v < nv)

/* alpha * acc + beta * c; with beta = 0, c is never read (it may hold NaN). */
static inline float sg_out(float acc, float alpha, float beta, __global const float *c)
{
    return beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

/* Stores columns j0..n-1 (at most nv * SG_VW) of one row of C from a tile whose lanes hold columns jl.. (jl <= j0). */
static inline void sg_store_row(__global float *crow, int j0, int jl, int n, const sgv *acc, const int nv,
                                float alpha, float beta)
{
    const int tn = nv * SG_VW;
    if (j0 == jl && j0 + tn <= n) {
        SG_VECS(v) {
            sgv o = alpha * acc[v];
            if (beta != 0.0f)
                o += beta * sg_vload(0, crow + j0 + v * SG_VW);
            sg_vstore(o, 0, crow + j0 + v * SG_VW);
        }
        return;
    }
    float t[SG_MAXNV * SG_VW];
    SG_VECS(v)
        sg_vstore(acc[v], 0, t + v * SG_VW);
    for (int j = j0; j < n && j < jl + tn; j++)
        crow[j] = sg_out(t[j - jl], alpha, beta, crow + j);
}

/* The nv * SG_VW columns of op(B)'s row k from j0, gathered one by one (the tail of B, or B transposed), each
 * clamped to n - 1. */
static inline void sg_brow(__global const float *b, int ldb, int trans_b, int k, int j0, int n, sgv *bv,
                           const int nv)
{
    float t[SG_MAXNV * SG_VW];
    for (int q = 0; q < nv * SG_VW; q++) {
        int j = min(j0 + q, n - 1);
        t[q] = trans_b ? b[j * ldb + k] : b[k * ldb + j];
    }
    SG_VECS(v)
        bv[v] = sg_vload(0, t + v * SG_VW);
}

#define SG_ARGS                                                                                                   \
    __global const float *a, int a_off, int lda, __global const float *b, int b_off, int ldb, __global float *c,  \
        int c_off, int ldc, int m, int n, int k, float alpha, float beta
#define SG_PASS a, a_off, lda, b, b_off, ldb, c, c_off, ldc, m, n, k, alpha, beta

/* The outer-product kernels: work-item (x, y) owns columns x*tn.. and rows y*tm.. of C, a tile of tm rows of nv
 * vectors (tn = nv * SG_VW). The kernels call it with constant transpositions and tile sizes, so each inlined
 * copy keeps only its own loads and its accumulators in registers.
 *
 * A work-group is a row of column tiles. On a CPU its work-items run one after another on one core, and a
 * barrier makes them take turns every SG_KB steps of k: in turn, each reads the same SG_KB rows of B
 * (neighbouring columns, the same pages) and the same SG_KB columns of A's rows while they are in the cache.
 * Without it each work-item walked all k rows of B alone: a new page every step (fc6's W has 4096 rows of
 * 36 KiB), more pages than the TLB holds. No work-item returns early: all must reach every barrier. */
static inline void sg_outer(SG_ARGS, const int trans_a, const int trans_b, const int tm, const int nv)
{
    const int tn = nv * SG_VW;
    int j0 = get_global_id(0) * tn, i0 = get_global_id(1) * tm;
    a += a_off;
    b += b_off;
    c += c_off;
    /* op(A)[i, p] = a[arow[r] + p * astep] */
    const int astep = trans_a ? lda : 1;
    int arow[SG_MAXTM];
    SG_ROWS(r)
        arow[r] = trans_a ? min(i0 + r, m - 1) : min(i0 + r, m - 1) * lda;
    sgv acc[SG_MAXTM][SG_MAXNV];
    SG_ROWS(r)
        SG_VECS(v)
            acc[r][v] = (sgv)(0.0f);
    /* B's rows are read as vectors from column jl: the tile's own j0, or for the last tile (and the work-items
     * past n) the last tn columns, so that no load leaves the matrix and the loop has no branch. Gathering is
     * for B transposed or narrower than a tile; the choice is the same for every work-item. */
    const int gather = trans_b || n < tn;
    const int jl = gather ? j0 : min(j0, n - tn);
    for (int p0 = 0; p0 < k; p0 += SG_KB) {
        int p1 = min(p0 + SG_KB, k);
        /* The block's sums in variables that do not live across the barrier: PoCL keeps those that do in
         * memory, and the inner loop loaded and stored them on every step. */
        sgv bacc[SG_MAXTM][SG_MAXNV];
        SG_ROWS(r)
            SG_VECS(v)
                bacc[r][v] = acc[r][v];
        if (!gather) {
            __global const float *bp = b + p0 * ldb + jl;
            for (int p = p0; p < p1; p++, bp += ldb) {
                sgv bv[SG_MAXNV];
                SG_VECS(v)
                    bv[v] = sg_vload(0, bp + v * SG_VW);
                SG_ROWS(r) {
                    float av = a[arow[r] + p * astep];
                    SG_VECS(v)
                        bacc[r][v] += av * bv[v];
                }
            }
        } else {
            for (int p = p0; p < p1; p++) {
                sgv bv[SG_MAXNV];
                sg_brow(b, ldb, trans_b, p, j0, n, bv, nv);
                SG_ROWS(r) {
                    float av = a[arow[r] + p * astep];
                    SG_VECS(v)
                        bacc[r][v] += av * bv[v];
                }
            }
        }
        SG_ROWS(r)
            SG_VECS(v)
                acc[r][v] = bacc[r][v];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (j0 >= n)
        return;
    SG_ROWS(r)
        if (i0 + r < m)
            sg_store_row(c + (i0 + r) * ldc, j0, jl, n, acc[r], nv, alpha, beta);
}

/* 5 rows, not SG_TM's 6: in one process, alternating kernels, 10 accumulators ran fc6's backward data (m32
 * n9216 k4096) at 76 GFLOP per processor-second against 57 for 6 rows (whose last tile at m = 32 is also two
 * thirds empty), 66 for 4 x 2, 56 for 4 x 3 (15 of AVX2's 16 registers, and spills), 59 for 8 x 1. Alternating
 * whole processes against the build with 6 rows the two were within the noise of the shared machine (60-79 each
 * at m32, 64-83 at 2048^3), so take it as no worse. sgemm_tn_small measured 6 rows ahead (76 against 66). */
__kernel void sgemm_nn(SG_ARGS)
{
    sg_outer(SG_PASS, 0, 0, SG_NN_TM, 2);
}


/* The most row tiles one work-item of sgemm_nn_rt owns (src/ops/sgemm.c's NN_RT). */
#ifndef SG_NN_RT
#define SG_NN_RT 8
#endif

/* Neither transposed, n >= nv * SG_VW and m >= tm, for a short m (the backward data product, m = batch): work-item
 * (x, y) owns columns x*tn.. and the rt row tiles from y*rt*tm. In each k-block it runs its row tiles one after
 * another over the same SG_KB x tn strip of B, which stays in the L1 cache between them (sgemm_nn reads it once
 * per row tile, from L2, after the group's other column tiles). The tiles' sums live in memory across the tiles
 * and the barriers, loaded into registers for each tile's block. Row tiles past m load and add the last tile's
 * rows (ib), like the columns (jl), and store only rows no earlier tile stored. */
static inline void sg_outer_rt(SG_ARGS, const int tm, const int nv, int rt)
{
    const int tn = nv * SG_VW;
    const int j0 = get_global_id(0) * tn, t0 = get_global_id(1) * rt;
    a += a_off;
    b += b_off;
    c += c_off;
    const int jl = min(j0, n - tn);
    sgv acc[SG_NN_RT][SG_MAXTM][SG_MAXNV];
    for (int t = 0; t < rt; t++)
        SG_ROWS(r)
            SG_VECS(v)
                acc[t][r][v] = (sgv)(0.0f);
    for (int p0 = 0; p0 < k; p0 += SG_KB) {
        const int p1 = min(p0 + SG_KB, k);
        for (int t = 0; t < rt; t++) {
            const int ib = min((t0 + t) * tm, m - tm);
            sgv bacc[SG_MAXTM][SG_MAXNV];
            SG_ROWS(r)
                SG_VECS(v)
                    bacc[r][v] = acc[t][r][v];
            __global const float *ap = a + ib * lda, *bp = b + p0 * ldb + jl;
            for (int p = p0; p < p1; p++, bp += ldb) {
                sgv bv[SG_MAXNV];
                SG_VECS(v)
                    bv[v] = sg_vload(0, bp + v * SG_VW);
                SG_ROWS(r) {
                    float av = ap[r * lda + p];
                    SG_VECS(v)
                        bacc[r][v] += av * bv[v];
                }
            }
            SG_ROWS(r)
                SG_VECS(v)
                    acc[t][r][v] = bacc[r][v];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (j0 >= n)
        return;
    for (int t = 0; t < rt; t++) {
        const int i0 = (t0 + t) * tm;
        if (i0 >= m)
            return;
        const int ib = min(i0, m - tm);
        SG_ROWS(r)
            if (ib + r >= i0)
                sg_store_row(c + (ib + r) * ldc, j0, jl, n, acc[t][r], nv, alpha, beta);
    }
}

__kernel void sgemm_nn_rt(SG_ARGS, int rt)
{
    sg_outer_rt(SG_PASS, SG_NN_TM, 2, rt);
}

/* op(A) transposed, B not, n >= nv * SG_VW and m >= tm: for a short k (the weight gradient's k is the batch),
 * where there is no block of B to share. Work-item (x, y) owns columns x*tn.. and the rt row tiles from
 * y*rt*tm: B's k x tn panel stays in the cache between them, and a work-group covers rt times more of C (PoCL's
 * cost per work-group counted at fc6's 24 thousand groups). Rows past m load and add the last tile's rows (ib),
 * like the columns (jl), so op(A)'s row p is read at constant offsets from one pointer.
 * A barrier after each row tile makes the group's work-items (a row of column tiles) take it in turn: on a CPU
 * each row of C is then read and written as one contiguous run of the group's columns, where without it each
 * work-item walked its rt * tm rows 128 bytes at a time, a new row (36 KiB further on at fc6) at every store.
 * C moves once each way and dominates at k = 32; fc6's weight gradient went from 28.9 to 17.6-18.9 ms (1.6x),
 * fc7's from 14.0 to 7.8-8.9, alternating kernels in one run. Every work-item reaches every barrier: the
 * tiles past m and the columns past n only skip the work. */
static inline void sg_outer_t(SG_ARGS, const int tm, const int nv, int rt)
{
    const int tn = nv * SG_VW;
    const int j0 = get_global_id(0) * tn;
    const int live = j0 < n;
    a += a_off;
    b += b_off;
    c += c_off;
    const int jl = live ? min(j0, n - tn) : 0;
    for (int t = 0; t < rt; t++) {
        const int i0 = (get_global_id(1) * rt + t) * tm;
        if (live && i0 < m) {
            const int ib = min(i0, m - tm);
            sgv acc[SG_MAXTM][SG_MAXNV];
            SG_ROWS(r)
                SG_VECS(v)
                    acc[r][v] = (sgv)(0.0f);
            __global const float *ap = a + ib, *bp = b + jl;
            for (int p = 0; p < k; p++, ap += lda, bp += ldb) {
                sgv bv[SG_MAXNV];
                SG_VECS(v)
                    bv[v] = sg_vload(0, bp + v * SG_VW);
                SG_ROWS(r) {
                    float av = ap[r];
                    SG_VECS(v)
                        acc[r][v] += av * bv[v];
                }
            }
            SG_ROWS(r)
                if (ib + r >= i0)
                    sg_store_row(c + (ib + r) * ldc, j0, jl, n, acc[r], nv, alpha, beta);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

__kernel void sgemm_tn_small(SG_ARGS, int rt)
{
    sg_outer_t(SG_PASS, SG_TM, 2, rt);
}

__kernel void sgemm_tn(SG_ARGS)
{
    sg_outer(SG_PASS, 1, 0, SG_TM, 2);
}

/* Both transposed: B's row gathered with stride ldb. Correct and slow; the engine has no such product. */
__kernel void sgemm_tt(SG_ARGS)
{
    sg_outer(SG_PASS, 1, 1, SG_TM, 2);
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
    #pragma unroll
    for (int r = 0; r < SG_DM; r++)
        ar[r] = min(i0 + r, m - 1) * lda;
    #pragma unroll
    for (int q = 0; q < SG_DN; q++)
        br[q] = min(j0 + q, n - 1) * ldb;
    sgv acc[SG_DM][SG_DN];
    #pragma unroll
    for (int r = 0; r < SG_DM; r++)
        #pragma unroll
        for (int q = 0; q < SG_DN; q++)
            acc[r][q] = (sgv)(0.0f);
    int p = 0;
    for (; p + SG_VW <= k; p += SG_VW) {
        sgv bv[SG_DN];
        #pragma unroll
        for (int q = 0; q < SG_DN; q++)
            bv[q] = sg_vload(0, b + br[q] + p);
        #pragma unroll
        for (int r = 0; r < SG_DM; r++) {
            sgv av = sg_vload(0, a + ar[r] + p);
            #pragma unroll
            for (int q = 0; q < SG_DN; q++)
                acc[r][q] += av * bv[q];
        }
    }
    for (int r = 0; r < SG_DM && i0 + r < m; r++)
        for (int q = 0; q < SG_DN && j0 + q < n; q++) {
            float lanes[SG_VW]; /* through memory: Oclgrind 21.10's uninitialized check crashes on v.s0, v.lo */
            sg_vstore(acc[r][q], 0, lanes);
            float s = 0.0f;
            for (int l = 0; l < SG_VW; l++)
                s += lanes[l];
            for (int t = p; t < k; t++)
                s += a[ar[r] + t] * b[br[q] + t];
            __global float *o = c + (i0 + r) * ldc + j0 + q;
            *o = sg_out(s, alpha, beta, o);
        }
}
