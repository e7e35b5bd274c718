/* sgd.cl: the paper's update with momentum and weight decay (Krizhevsky et al. 2012, section 5),
 *   v <- momentum * v - lr * (g + weight_decay * w),   w <- w + v,
 * in place on w and v over n elements; w, v and g share one layout (the flat parameter, momentum and gradient
 * buffers), so one offset serves all three. Defines: none. Tensors are (pointer, element offset) pairs; every
 * kernel guards its tail.
 *
 * Scalar on purpose: the update reads three floats and writes two per element and computes almost nothing, so
 * it runs at memory speed once consecutive work-items touch consecutive floats, which they do here. float4
 * would add an alignment-dependent head and tail (tensors start at any offset in the flat buffer) and gain
 * nothing but fewer instructions. */
__kernel void sgd_update(__global float *w, int w_off, __global float *v, int v_off, __global const float *g,
                         int g_off, int n, float lr, float momentum, float weight_decay)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float wi = w[w_off + i];
    float vi = momentum * v[v_off + i] - lr * (g[g_off + i] + weight_decay * wi);
    v[v_off + i] = vi;
    w[w_off + i] = wi + vi;
}
