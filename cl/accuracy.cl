/* accuracy.cl: how many samples have their label in the top 1 and the top 5 of their logits.
 * Defines: none; the launcher picks the work-group size (a power of two, at most 256, at most n) and passes
 * a __local scratch of twice that many ints. Tensors are (pointer, element offset) pairs.
 * The rank rule (ties, NaN, bad labels) is documented in src/ops/accuracy.h and matches accuracy_ref. */

/* One work-group for the whole batch: work-item l ranks samples l, l + size, ..., then the group sums the
 * two counts, so the result is exact, deterministic and needs no atomics or second pass. A batch is at most a
 * few hundred samples of 1000 logits: one group reads them in a few microseconds. */
__kernel void accuracy_count(__global int *counts, int counts_off, __global const float *logits, int logits_off,
                             __global const int *labels, int labels_off, int n, int k, __local int *scratch)
{
    int lid = get_local_id(0), lsz = get_local_size(0);
    int top1 = 0, top5 = 0;
    for (int s = lid; s < n; s += lsz) {
        int label = labels[labels_off + s];
        if (label < 0 || label >= k)
            continue;
        __global const float *x = logits + logits_off + (size_t)s * k;
        float ref = x[label];
        if (isnan(ref))
            continue;
        int greater = 0;
        for (int j = 0; j < k && greater < 5; j++)
            greater += !(x[j] <= ref); /* strictly greater, or NaN */
        top1 += greater < 1;
        top5 += greater < 5;
    }
    scratch[lid] = top1;
    scratch[lsz + lid] = top5;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = lsz / 2; width > 0; width /= 2) {
        if (lid < width) {
            scratch[lid] += scratch[lid + width];
            scratch[lsz + lid] += scratch[lsz + lid + width];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        counts[counts_off] = scratch[0];
        counts[counts_off + 1] = scratch[lsz];
    }
}
