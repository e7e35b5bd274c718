/* relu.cl: rectified linear unit. y = x < 0 ? 0 : x, so a NaN stays NaN and training can notice it.
 * Defines: none. Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

__kernel void relu_forward(__global float *y, int y_off, __global const float *x, int x_off, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[x_off + i];
    y[y_off + i] = v < 0.0f ? 0.0f : v;
}

/* dx = dy where the forward output was positive. Reads y (not x) so that the forward may run in place. */
__kernel void relu_backward(__global float *dx, int dx_off, __global const float *dy, int dy_off,
                            __global const float *y, int y_off, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    dx[dx_off + i] = y[y_off + i] > 0.0f ? dy[dy_off + i] : 0.0f;
}
