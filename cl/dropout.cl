/* dropout.cl: inverted dropout whose mask is recomputed from Philox (cl/philox.h), and a kernel that exposes
 * the generator so that tests can compare it with the host bit for bit.
 *
 * Philox dominates the cost of dropout, so dropout_apply computes one block per four elements (the layout of
 * cl/philox.h puts four neighbouring indices in one block), eight blocks at a time on uint8 vectors: a CPU
 * implementation (PoCL) vectorizes across work-items only when they run the same straight-line code, and the
 * edges of a row do not.
 * Defines: none. Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

/* Philox4x32-10 (cl/philox.h) on eight counters at once, lane k being block k: the same rounds on uint8. */
static inline void dropout_philox8(uint8 *c0, uint8 *c1, uint8 *c2, uint8 *c3, uint k0, uint k1)
{
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += ACL_PHILOX_W0;
            k1 += ACL_PHILOX_W1;
        }
        uint8 hi0 = mul_hi((uint8)ACL_PHILOX_M0, *c0), lo0 = (uint8)ACL_PHILOX_M0 * *c0;
        uint8 hi1 = mul_hi((uint8)ACL_PHILOX_M1, *c2), lo1 = (uint8)ACL_PHILOX_M1 * *c2;
        *c0 = hi1 ^ *c1 ^ k0;
        *c1 = lo1;
        *c2 = hi0 ^ *c3 ^ k1;
        *c3 = lo0;
    }
}

/* Whether word w of each block keeps its element (-1) or drops it (0). */
#define DROPOUT_KEEP(w) (convert_float8((w) >> 8) * (1.0f / 16777216.0f) >= p)

/* The four elements of block k, (m0.k, m1.k, m2.k, m3.k), from the per-word masks m0..m3 (lane k = block k;
 * k is written as the swizzle skkkk): each mask's lane k spread over the vector, then blended, where one
 * shuffle of several vectors would do: Oclgrind 21.10 reports such shuffles' results as uninitialized. */
#define DROPOUT_BLOCK(m0, m1, m2, m3, k) \
    select(select(select((m0).k, (m1).k, (int4)(0, -1, 0, 0)), (m2).k, (int4)(0, 0, -1, 0)), (m3).k, \
           (int4)(0, 0, 0, -1))

/* y = x * scale where acl_philox_uniform(seed, step, index) >= p, else 0, over a (rows, cols) tensor that is
 * columns [col_base, col_base + cols) of a logical (rows, total_cols) one (see src/ops/dropout.h). The backward
 * is the same map applied to dy, so both directions launch this kernel; y may be x. scale = 1 / (1 - p) is
 * computed once on the host: a multiply is exact to half an ulp, where OpenCL's division may be off by 2.5.
 *
 * Global (any, rows). Four neighbouring logical indices share one Philox block (cl/philox.h), so a row is cut
 * at the first index that starts a block: the columns before it (at most 3) are done one by one by the
 * work-item of chunk 0, then come chunks of 32 columns, eight whole blocks, computed on uint8 vectors (lane k
 * is block k) and applied block by block with 4-wide loads and stores; a work-item takes chunks gid0,
 * gid0 + size0, ..., so that any launch size is correct. The short last chunk of a row is done one element
 * at a time. */
__kernel void dropout_apply(__global float *y, int y_off, __global const float *x, int x_off, int rows, int cols,
                            int total_cols, int col_base, ulong seed, ulong step, float p, float scale)
{
    int r = get_global_id(1);
    if (r >= rows)
        return;
    ulong first = (ulong)r * (ulong)total_cols + (ulong)col_base; /* logical index of column 0 */
    int head = min((int)((4u - (uint)(first & 3u)) & 3u), cols);
    int chunks = (cols - head + 31) / 32;
    __global float *yr = y + y_off + r * cols;
    __global const float *xr = x + x_off + r * cols;
    /* A dropped element is 0 even when x is NaN or Inf: what is dropped does not reach the next layer. */
    if (get_global_id(0) == 0)
        for (int c = 0; c < head; c++)
            yr[c] = acl_philox_uniform(seed, step, first + (ulong)c) >= p ? xr[c] * scale : 0.0f;
    for (int j = get_global_id(0); j < chunks; j += get_global_size(0)) {
        int c = head + 32 * j;
        if (c + 32 <= cols) {
            ulong block = (first + (ulong)c) >> 2;
            uint lo = (uint)block;
            uint8 c0 = lo + (uint8)(0, 1, 2, 3, 4, 5, 6, 7);
            uint8 c1 = (uint)(block >> 32) + select((uint8)0, (uint8)1, c0 < lo); /* carry past 2^32 */
            uint8 c2 = (uint8)((uint)step), c3 = (uint8)((uint)(step >> 32));
            dropout_philox8(&c0, &c1, &c2, &c3, (uint)seed, (uint)(seed >> 32));
            int8 m0 = DROPOUT_KEEP(c0), m1 = DROPOUT_KEEP(c1), m2 = DROPOUT_KEEP(c2), m3 = DROPOUT_KEEP(c3);
            __global const float *xc = xr + c;
            __global float *yc = yr + c;
            vstore4(select((float4)0.0f, vload4(0, xc) * scale, DROPOUT_BLOCK(m0, m1, m2, m3, s0000)), 0, yc);
            vstore4(select((float4)0.0f, vload4(1, xc) * scale, DROPOUT_BLOCK(m0, m1, m2, m3, s1111)), 1, yc);
            vstore4(select((float4)0.0f, vload4(2, xc) * scale, DROPOUT_BLOCK(m0, m1, m2, m3, s2222)), 2, yc);
            vstore4(select((float4)0.0f, vload4(3, xc) * scale, DROPOUT_BLOCK(m0, m1, m2, m3, s3333)), 3, yc);
            vstore4(select((float4)0.0f, vload4(4, xc) * scale, DROPOUT_BLOCK(m0, m1, m2, m3, s4444)), 4, yc);
            vstore4(select((float4)0.0f, vload4(5, xc) * scale, DROPOUT_BLOCK(m0, m1, m2, m3, s5555)), 5, yc);
            vstore4(select((float4)0.0f, vload4(6, xc) * scale, DROPOUT_BLOCK(m0, m1, m2, m3, s6666)), 6, yc);
            vstore4(select((float4)0.0f, vload4(7, xc) * scale, DROPOUT_BLOCK(m0, m1, m2, m3, s7777)), 7, yc);
        } else {
            for (; c < cols; c++)
                yr[c] = acl_philox_uniform(seed, step, first + (ulong)c) >= p ? xr[c] * scale : 0.0f;
        }
    }
}

/* bits[i] = acl_philox_bits(seed, step, first + i), uniform[i] = the matching float in [0, 1). */
__kernel void dropout_philox(__global uint *bits, int bits_off, __global float *uniform, int uniform_off,
                             ulong seed, ulong step, ulong first, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    bits[bits_off + i] = acl_philox_bits(seed, step, first + (ulong)i);
    uniform[uniform_off + i] = acl_philox_uniform(seed, step, first + (ulong)i);
}
