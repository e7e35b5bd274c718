/* add.cl: elementwise accumulation, y += x, which sums the two halves of a layer split across two devices.
 * Defines: none. Tensors are (pointer, element offset) pairs; the kernel guards its tail. */

__kernel void tensor_add(__global float *y, int y_off, __global const float *x, int x_off, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    y[y_off + i] += x[x_off + i];
}
