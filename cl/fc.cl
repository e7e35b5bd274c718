/* fc.cl: the fully connected layer's bias kernels; its three matrix products run in CLBlast (src/ops/fc.c).
 * Defines: none. Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

/* y (N, OUT) += bias on every row, in place after the GEMM wrote y = x W^T with beta = 0. One work-item per
 * element of y, so consecutive work-items touch consecutive floats. */
__kernel void fc_bias_forward(__global float *y, int y_off, __global const float *b, int b_off, int nout,
                              int total)
{
    int i = get_global_id(0);
    if (i >= total)
        return;
    y[y_off + i] += b[b_off + i % nout];
}

/* dbias (OUT) += the column sums of dout (N, OUT). Each work-item owns one column and adds its rows in order
 * 0..N-1, so the result is the same on every run and every work-group size; neighbouring work-items read
 * neighbouring columns of a row (coalesced). */
__kernel void fc_bias_backward(__global float *db, int db_off, __global const float *dy, int dy_off, int n,
                               int nout)
{
    int j = get_global_id(0);
    if (j >= nout)
        return;
    float s = 0.0f;
    for (int r = 0; r < n; r++)
        s += dy[dy_off + r * nout + j];
    db[db_off + j] += s;
}
