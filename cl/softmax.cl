/* softmax.cl: softmax with cross-entropy loss: probabilities and per-sample losses, their mean, and the
 * gradient of the mean loss.
 * Defines: none; the launcher picks each work-group size (a power of two, at most 256) from the row length
 * and what the kernel allows on the device, and passes a __local scratch of that many floats.
 * Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

/* The sum (is_max 0) or maximum (is_max 1) of v over the work-group, returned to every work-item. Every
 * work-item of the group must call it; the local size must be a power of two. */
static float softmax_group_reduce(__local float *scratch, float v, int is_max)
{
    int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = (int)get_local_size(0) / 2; width > 0; width /= 2) {
        if (lid < width)
            scratch[lid] = is_max ? fmax(scratch[lid], scratch[lid + width]) : scratch[lid] + scratch[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* the scratch is reused by the next call */
    return r;
}

/* One work-group per sample (group g = row g; the launcher sizes the global range to n groups exactly).
 * probs = exp(x - max) / sum, loss = log(sum) - (x[label] - max): every exponent is <= 0 and sum >= 1, so
 * logits of +-1e4 give finite results. A NaN logit makes its row's probs and loss NaN (fmax skips NaN, but
 * the NaN reaches every exp through the sum). A label outside [0, k) makes the loss NaN: the caller's error
 * becomes visible in the mean loss. */
__kernel void softmax_forward(__global float *probs, int probs_off, __global float *loss, int loss_off,
                              __global const float *logits, int logits_off, __global const int *labels,
                              int labels_off, int n, int k, __local float *scratch)
{
    int row = get_group_id(0);
    if (row >= n) /* the same for the whole group, so no barrier is skipped by part of it */
        return;
    int lid = get_local_id(0), lsz = get_local_size(0);
    __global const float *x = logits + logits_off + (size_t)row * k;
    __global float *p = probs + probs_off + (size_t)row * k;

    float m = -INFINITY;
    for (int j = lid; j < k; j += lsz)
        m = fmax(m, x[j]);
    m = softmax_group_reduce(scratch, m, 1);

    float sum = 0.0f;
    for (int j = lid; j < k; j += lsz) {
        float e = exp(x[j] - m);
        p[j] = e; /* each work-item rescales only its own elements below: no barrier needed */
        sum += e;
    }
    sum = softmax_group_reduce(scratch, sum, 0);

    for (int j = lid; j < k; j += lsz)
        p[j] = p[j] / sum;
    if (lid == 0) {
        int label = labels[labels_off + row];
        loss[loss_off + row] = label >= 0 && label < k ? log(sum) - (x[label] - m) : NAN;
    }
}

/* mean[0] = the mean of loss[0..n), by one work-group (a few hundred samples: one group is plenty, and a
 * fixed summation order gives the same float every run). */
__kernel void softmax_mean_loss(__global float *mean, int mean_off, __global const float *loss, int loss_off,
                                int n, __local float *scratch)
{
    int lid = get_local_id(0), lsz = get_local_size(0);
    float s = 0.0f;
    for (int i = lid; i < n; i += lsz)
        s += loss[loss_off + i];
    s = softmax_group_reduce(scratch, s, 0);
    if (lid == 0)
        mean[mean_off] = s / (float)n;
}

/* dlogits = (probs - onehot(label)) * inv_n, the gradient of the mean loss; NaN for a label outside [0, k).
 * dlogits may be probs (each element reads only itself). */
__kernel void softmax_backward(__global float *dlogits, int dlogits_off, __global const float *probs,
                               int probs_off, __global const int *labels, int labels_off, int n, int k,
                               float inv_n)
{
    int i = get_global_id(0);
    if (i >= n * k)
        return;
    int row = i / k;
    int j = i - row * k;
    int label = labels[labels_off + row];
    float onehot = j == label ? 1.0f : 0.0f;
    dlogits[dlogits_off + i] = label >= 0 && label < k ? (probs[probs_off + i] - onehot) * inv_n : NAN;
}
