/* dropout.cl: inverted dropout whose mask is recomputed from Philox (cl/philox.h), and a kernel that exposes
 * the generator so that tests can compare it with the host bit for bit.
 *
 * An element keeps when its draw is at least a threshold; a draw takes the fewest bits, b = 1, 2, 4, 8 or 16,
 * that decide p = round(p * 2^16) / 2^16 exactly (src/ops/dropout.h): the paper's p = 0.5 takes one bit, so a
 * Philox block serves 128 elements. The draws' layout (cl/philox.h) lets dropout_apply compute sixteen blocks at
 * once on uint16 vectors (lane k is block k of a chunk of 2048 / b elements) and apply each b-bit field of each
 * output word to the sixteen neighbouring elements in the same lanes: no lane moves between the generator and the
 * loads and stores. A CPU implementation (PoCL) vectorizes across work-items only when they run the same
 * straight-line code, and the edges of a row do not: hence the explicit vectors.
 *
 * Measured at fc6 (32 x 4096, p = 0.5; bench_kernels --only dropout, medians of 31): sixteen bits a draw ran
 * 0.054-0.093 ms, Philox-bound (its mul_hi on uint16 becomes four 16-bit multiplies on AVX-512); one bit runs
 * 0.018-0.035 ms, as fast as ReLU on the same bytes, so dropout is now bound by memory and the launch.
 * Defines: none. Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

/* Philox4x32-10 (cl/philox.h) on sixteen counters at once, lane k being block k: the same rounds on uint16. */
static inline void dropout_philox16(uint16 *c0, uint16 *c1, uint16 *c2, uint16 *c3, uint k0, uint k1)
{
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += ACL_PHILOX_W0;
            k1 += ACL_PHILOX_W1;
        }
        uint16 hi0 = mul_hi((uint16)ACL_PHILOX_M0, *c0), lo0 = (uint16)ACL_PHILOX_M0 * *c0;
        uint16 hi1 = mul_hi((uint16)ACL_PHILOX_M1, *c2), lo1 = (uint16)ACL_PHILOX_M1 * *c2;
        *c0 = hi1 ^ *c1 ^ k0;
        *c1 = lo1;
        *c2 = hi0 ^ *c3 ^ k1;
        *c3 = lo0;
    }
}

/* y = x * scale where acl_philox_draw(seed, step, index, lb) >= thr, else 0, over a (rows, cols) tensor that is
 * columns [col_base, col_base + cols) of a logical (rows, total_cols) one (see src/ops/dropout.h). The backward
 * is the same map applied to dy, so both directions launch this kernel; y may be x. lb, thr and scale =
 * 1 / (1 - p) are computed once on the host (dropout_draw_bits): a multiply is exact to half an ulp, where
 * OpenCL's division may be off by 2.5.
 *
 * Global (any, rows). A work-item takes the chunks (2^(11 - lb) elements, cl/philox.h) that a row's logical
 * indices touch, chunk gid0, gid0 + size0, ..., so that any launch size is correct: sixteen blocks on uint16
 * vectors, then, for a chunk inside the row, each b-bit field of each word applied to the sixteen neighbouring
 * elements in the same lanes (no lane moves between the generator and the loads and stores); a chunk the row
 * cuts (its head or tail) reads its fields from a private copy of the words, one element at a time. */
__kernel void dropout_apply(__global float *y, int y_off, __global const float *x, int x_off, int rows, int cols,
                            int total_cols, int col_base, ulong seed, ulong step, uint lb, uint thr, float scale)
{
    int r = get_global_id(1);
    if (r >= rows)
        return;
    uint b = 1u << lb, field = (1u << b) - 1u, chunk_bits = 11u - lb;
    int chunk_len = 1 << chunk_bits;
    ulong first = (ulong)r * (ulong)total_cols + (ulong)col_base; /* logical index of column 0 */
    ulong chunk0 = first >> chunk_bits;
    int chunks = (int)(((first + (ulong)cols - 1) >> chunk_bits) - chunk0) + 1;
    __global float *yr = y + y_off + r * cols;
    __global const float *xr = x + x_off + r * cols;
    for (int j = get_global_id(0); j < chunks; j += get_global_size(0)) {
        ulong chunk = chunk0 + (ulong)j;
        long start = (long)((chunk << chunk_bits) - first); /* the column of the chunk's element 0; < 0 in a head */
        ulong block = chunk << 4;
        uint lo = (uint)block;
        uint16 c0 = lo + (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        uint16 c1 = (uint)(block >> 32) + select((uint16)0, (uint16)1, c0 < lo); /* carry past 2^32 */
        uint16 c2 = (uint16)((uint)step), c3 = (uint16)((uint)(step >> 32));
        dropout_philox16(&c0, &c1, &c2, &c3, (uint)seed, (uint)(seed >> 32));
        /* A dropped element is 0 even when x is NaN or Inf: what is dropped does not reach the next layer. */
        if (start >= 0 && start + chunk_len <= cols) {
            __global const float *xc = xr + start;
            __global float *yc = yr + start;
            int row = 0;
            for (int w = 0; w < 4; w++) {
                for (uint sh = 0; sh < 32u; sh += b, row++)
                    vstore16(select((float16)0.0f, vload16(row, xc) * scale, ((c0 >> sh) & field) >= thr), row,
                             yc);
                c0 = c1; /* the next word into c0 */
                c1 = c2;
                c2 = c3;
            }
        } else {
            uint words[64]; /* word w of lane l at 16 w + l */
            vstore16(c0, 0, words);
            vstore16(c1, 1, words);
            vstore16(c2, 2, words);
            vstore16(c3, 3, words);
            int e0 = max(0, (int)-start), e1 = min(chunk_len, (int)((long)cols - start));
            for (int e = e0; e < e1; e++) {
                uint bit = (uint)(e >> 4) << lb;
                uint d = (words[((bit >> 5) << 4) + (uint)(e & 15)] >> (bit & 31u)) & field;
                int col = (int)(start + e);
                yr[col] = d >= thr ? xr[col] * scale : 0.0f;
            }
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
