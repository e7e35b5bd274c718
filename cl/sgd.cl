/* sgd.cl: the paper's update with momentum and weight decay (Krizhevsky et al. 2012, section 5),
 *   v <- momentum * v - lr * (g + weight_decay * w),   w <- w + v,
 * in place on w and v over n elements; w, v and g share one layout (the flat parameter, momentum and gradient
 * buffers), so one offset serves all three. Defines: none. Tensors are (pointer, element offset) pairs; every
 * kernel guards its tail.
 *
 * A work-item takes 16 consecutive elements with vload16/vstore16, which need only float alignment, so a
 * tensor may start at any offset of the flat buffer: a CPU implementation (PoCL) runs each work-group as a
 * call, and at one element per work-item the 61 million parameters of AlexNet cost about a million groups,
 * which took longer than moving the bytes. The last work-item, when n is not a multiple of 16, does its
 * elements one by one with the same operations. Global: ceil(n / 16). */

#define SGD_STEP(wi, vi, gi) \
    do { \
        vi = momentum * vi - lr * (gi + weight_decay * wi); \
        wi = wi + vi; \
    } while (0)

__kernel void sgd_update(__global float *w, int w_off, __global float *v, int v_off, __global const float *g,
                         int g_off, int n, float lr, float momentum, float weight_decay)
{
    int i = get_global_id(0);
    if (i > (n - 1) >> 4)
        return;
    int e = i << 4;
    if (n - e >= 16) {
        float16 wi = vload16(0, w + w_off + e), vi = vload16(0, v + v_off + e), gi = vload16(0, g + g_off + e);
        SGD_STEP(wi, vi, gi);
        vstore16(vi, 0, v + v_off + e);
        vstore16(wi, 0, w + w_off + e);
    } else {
        for (; e < n; e++) {
            float wi = w[w_off + e], vi = v[v_off + e], gi = g[g_off + e];
            SGD_STEP(wi, vi, gi);
            v[v_off + e] = vi;
            w[w_off + e] = wi;
        }
    }
}
