/* lrn.cl: local response normalization across channels (AlexNet section 3.3), forward and backward.
 *
 * Convention (Caffe's and PyTorch's): alpha is divided by the window size n; the paper's formula uses alpha
 * without the division (its alpha = 1e-4 is alpha = 5e-4 here).
 *   scale[c] = k + (alpha / n) * sum_{c' = c - n/2 .. c + (n-1)/2, clipped to [0, C)} x[c']^2
 *   y[c]     = x[c] * scale[c]^(-beta)
 * The window is n/2 channels before c and (n-1)/2 after, PyTorch's padding for even n (symmetric for odd n).
 * Backward, with the window mirrored (c' in [c - (n-1)/2, c + n/2] are the channels whose window holds c):
 *   dx[c] = dy[c] * scale[c]^(-beta) - (2 alpha beta / n) * x[c] * sum_{c'} dy[c'] y[c'] / scale[c']
 * One work-item per element; the neighbours it reads are one plane apart, so a work-group along w reads
 * contiguous memory for each of them.
 * Defines: none. Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

/* total = N*C*H*W, plane = H*W. alpha_over_n = alpha / n. out and scale may not alias inp. */
__kernel void lrn_forward(__global float *out, int out_off, __global float *scale, int scale_off,
                          __global const float *inp, int inp_off, int channels, int plane, int size,
                          float alpha_over_n, float beta, float k, int total)
{
    int i = get_global_id(0);
    if (i >= total)
        return;
    int c = (i / plane) % channels;
    int base = inp_off + i - c * plane; /* channel 0 of this pixel */
    int lo = max(c - size / 2, 0), hi = min(c + (size - 1) / 2, channels - 1);
    float sum = 0.0f;
    for (int j = lo; j <= hi; j++) {
        float v = inp[base + j * plane];
        sum = mad(v, v, sum);
    }
    float s = mad(alpha_over_n, sum, k);
    scale[scale_off + i] = s;
    /* s > 0 (k > 0, alpha >= 0 are checked by the launcher); a NaN input makes s NaN and so y NaN. */
    out[out_off + i] = inp[inp_off + i] * pow(s, -beta);
}

/* coef = 2 * alpha * beta / n. Gathers over the channels whose window holds c: no atomics, deterministic. */
__kernel void lrn_backward(__global float *dinp, int dinp_off, __global const float *dout, int dout_off,
                           __global const float *inp, int inp_off, __global const float *out, int out_off,
                           __global const float *scale, int scale_off, int channels, int plane, int size,
                           float coef, float beta, int total)
{
    int i = get_global_id(0);
    if (i >= total)
        return;
    int c = (i / plane) % channels;
    int base = i - c * plane;
    int lo = max(c - (size - 1) / 2, 0), hi = min(c + size / 2, channels - 1);
    float acc = 0.0f;
    for (int j = lo; j <= hi; j++) {
        int e = base + j * plane;
        acc = mad(dout[dout_off + e], out[out_off + e] / scale[scale_off + e], acc);
    }
    float s = scale[scale_off + i];
    dinp[dinp_off + i] = dout[dout_off + i] * pow(s, -beta) - coef * inp[inp_off + i] * acc;
}
