/* relu.cl: rectified linear unit. y = x < 0 ? 0 : x, so a NaN stays NaN and training can notice it.
 *
 * A work-item takes 16 consecutive elements with one vload16/vstore16 (vloadn needs only float alignment, so
 * any offset works): a CPU implementation (PoCL) vectorizes across work-items only for straight-line code,
 * and runs each work-group as a call, so one element per work-item spent more time launching groups than
 * moving bytes. The last work-item, when n is not a multiple of 16, does its elements one by one with the same
 * operation. Defines: none. Tensors are (pointer, element offset) pairs; every kernel guards its tail.
 * Global: ceil(n / 16). */

__kernel void relu_forward(__global float *y, int y_off, __global const float *x, int x_off, int n)
{
    int i = get_global_id(0);
    if (i > (n - 1) >> 4)
        return;
    int e = i << 4;
    if (n - e >= 16) {
        float16 v = vload16(0, x + x_off + e);
        vstore16(select(v, (float16)0.0f, v < 0.0f), 0, y + y_off + e);
    } else {
        for (; e < n; e++) {
            float v = x[x_off + e];
            y[y_off + e] = v < 0.0f ? 0.0f : v;
        }
    }
}

/* dx = dy where the forward output was positive. Reads y (not x) so that the forward may run in place. */
__kernel void relu_backward(__global float *dx, int dx_off, __global const float *dy, int dy_off,
                            __global const float *y, int y_off, int n)
{
    int i = get_global_id(0);
    if (i > (n - 1) >> 4)
        return;
    int e = i << 4;
    if (n - e >= 16) {
        float16 yv = vload16(0, y + y_off + e);
        vstore16(select((float16)0.0f, vload16(0, dy + dy_off + e), yv > 0.0f), 0, dx + dx_off + e);
    } else {
        for (; e < n; e++)
            dx[dx_off + e] = y[y_off + e] > 0.0f ? dy[dy_off + e] : 0.0f;
    }
}
