/* dropout.cl: inverted dropout whose mask is recomputed from Philox (cl/philox.h), and a kernel that exposes
 * the generator so that tests can compare it with the host bit for bit.
 *
 * Philox dominates the cost of dropout. An element keeps when its 16-bit draw (acl_philox_u16) is at least
 * p16 = round(p * 2^16): eight elements a block, where a 24-bit float per element took four, and p is honoured
 * to 2^-17. The draws' layout (cl/philox.h) lets dropout_apply compute sixteen blocks at once on uint16 vectors
 * (lane k is block k of a chunk of 128 elements) and apply each output word, low half and high half, to the
 * sixteen neighbouring elements in the same lanes: no lane moves between the generator and the loads and stores.
 * A CPU implementation (PoCL) vectorizes across work-items only when they run the same straight-line code, and
 * the edges of a row do not: hence the explicit vectors. Against the earlier layout (24-bit floats, eight blocks
 * on uint8, four elements each, spread across lanes by selects): 2.2x as fast at fc6 (32 x 4096) in one run.
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

/* Row j of a chunk (elements 16 j .. 16 j + 15): kept where half (j & 1) of word w is at least p16. */
#define DROPOUT_ROW(w, j) \
    vstore16(select((float16)0.0f, vload16(j, xc) * scale, \
                    (((j) & 1) ? (w) >> 16 : (w) & 0xffffu) >= p16), \
             j, yc)

/* y = x * scale where acl_philox_u16(seed, step, index) >= p16, else 0, over a (rows, cols) tensor that is
 * columns [col_base, col_base + cols) of a logical (rows, total_cols) one (see src/ops/dropout.h). The backward
 * is the same map applied to dy, so both directions launch this kernel; y may be x. scale = 1 / (1 - p) and
 * p16 are computed once on the host: a multiply is exact to half an ulp, where OpenCL's division may be off
 * by 2.5.
 *
 * Global (any, rows). A row is cut where its logical index starts a chunk of 128 (cl/philox.h): the columns
 * before it (at most 127) are done one by one by the work-item of chunk 0, then come whole chunks, sixteen
 * blocks each on uint16 vectors; a work-item takes chunks gid0, gid0 + size0, ..., so that any launch size is
 * correct. The short last chunk of a row is done one element at a time. */
__kernel void dropout_apply(__global float *y, int y_off, __global const float *x, int x_off, int rows, int cols,
                            int total_cols, int col_base, ulong seed, ulong step, uint p16, float scale)
{
    int r = get_global_id(1);
    if (r >= rows)
        return;
    ulong first = (ulong)r * (ulong)total_cols + (ulong)col_base; /* logical index of column 0 */
    int head = min((int)((128u - (uint)(first & 127u)) & 127u), cols);
    int chunks = (cols - head + 127) / 128;
    __global float *yr = y + y_off + r * cols;
    __global const float *xr = x + x_off + r * cols;
    /* A dropped element is 0 even when x is NaN or Inf: what is dropped does not reach the next layer. */
    if (get_global_id(0) == 0)
        for (int c = 0; c < head; c++)
            yr[c] = acl_philox_u16(seed, step, first + (ulong)c) >= p16 ? xr[c] * scale : 0.0f;
    for (int j = get_global_id(0); j < chunks; j += get_global_size(0)) {
        int c = head + 128 * j;
        if (c + 128 <= cols) {
            ulong block = ((first + (ulong)c) >> 7) << 4;
            uint lo = (uint)block;
            uint16 c0 = lo + (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            uint16 c1 = (uint)(block >> 32) + select((uint16)0, (uint16)1, c0 < lo); /* carry past 2^32 */
            uint16 c2 = (uint16)((uint)step), c3 = (uint16)((uint)(step >> 32));
            dropout_philox16(&c0, &c1, &c2, &c3, (uint)seed, (uint)(seed >> 32));
            __global const float *xc = xr + c;
            __global float *yc = yr + c;
            DROPOUT_ROW(c0, 0);
            DROPOUT_ROW(c0, 1);
            DROPOUT_ROW(c1, 2);
            DROPOUT_ROW(c1, 3);
            DROPOUT_ROW(c2, 4);
            DROPOUT_ROW(c2, 5);
            DROPOUT_ROW(c3, 6);
            DROPOUT_ROW(c3, 7);
        } else {
            for (; c < cols; c++)
                yr[c] = acl_philox_u16(seed, step, first + (ulong)c) >= p16 ? xr[c] * scale : 0.0f;
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
