/* add.cl: elementwise accumulation, y += x, which sums the two halves of a layer split across two devices, and
 * a plain copy, y = x, which the bench times as the device's bandwidth by a kernel.
 *
 * A work-item takes 16 consecutive elements with vload16/vstore16 (float alignment is enough, so any offset
 * works): a CPU implementation (PoCL) runs each work-group as a call and vectorizes across work-items only for
 * straight-line code, so one element per work-item costs more in groups than in bytes. The last work-item, when
 * n is not a multiple of 16, goes element by element. Global: ceil(n / 16).
 * Defines: none. Tensors are (pointer, element offset) pairs; the kernels guard their tails. */

__kernel void tensor_add(__global float *y, int y_off, __global const float *x, int x_off, int n)
{
    int i = get_global_id(0);
    if (i > (n - 1) >> 4)
        return;
    int e = i << 4;
    if (n - e >= 16) {
        vstore16(vload16(0, y + y_off + e) + vload16(0, x + x_off + e), 0, y + y_off + e);
    } else {
        for (; e < n; e++)
            y[y_off + e] += x[x_off + e];
    }
}

/* y and x must not overlap. */
__kernel void tensor_copy(__global float *y, int y_off, __global const float *x, int x_off, int n)
{
    int i = get_global_id(0);
    if (i > (n - 1) >> 4)
        return;
    int e = i << 4;
    if (n - e >= 16) {
        vstore16(vload16(0, x + x_off + e), 0, y + y_off + e);
    } else {
        for (; e < n; e++)
            y[y_off + e] = x[x_off + e];
    }
}
