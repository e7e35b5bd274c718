/* dropout.cl: inverted dropout whose mask is recomputed from Philox (cl/philox.h), and a kernel that exposes
 * the generator so that tests can compare it with the host bit for bit.
 * Defines: none. Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

/* y = x * scale where acl_philox_uniform(seed, step, index) >= p, else 0, over a (rows, cols) tensor that is
 * columns [col_base, col_base + cols) of a logical (rows, total_cols) one (see src/ops/dropout.h). The backward
 * is the same map applied to dy, so both directions launch this kernel; y may be x. scale = 1 / (1 - p) is
 * computed once on the host: a multiply is exact to half an ulp, where OpenCL's division may be off by 2.5. */
__kernel void dropout_apply(__global float *y, int y_off, __global const float *x, int x_off, int n, int cols,
                            int total_cols, int col_base, ulong seed, ulong step, float p, float scale)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int r = i / cols;
    int c = i - r * cols;
    ulong index = (ulong)r * (ulong)total_cols + (ulong)(col_base + c);
    /* A dropped element is 0 even when x is NaN or Inf: what is dropped does not reach the next layer. */
    y[y_off + i] = acl_philox_uniform(seed, step, index) >= p ? x[x_off + i] * scale : 0.0f;
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
