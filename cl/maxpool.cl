/* maxpool.cl: max pooling forward (value and argmax) and backward (a gather over the argmax).
 *
 * Windows of size x size, step stride, start at o * stride - pad and are clipped to the input (padding is
 * never chosen; the launcher guarantees every window holds an input element). argmax is the index within
 * the (n, c) input plane. The first maximum in row-major window order wins ties; the first NaN wins over
 * everything, so NaN propagates to the output. Backward: each input element sums dout over the windows
 * that contain it and chose it, in a fixed order: deterministic, no atomics, dinp overwritten.
 * Defines: none. Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

/* One work-item per output element; total = N*C*OH*OW. */
__kernel void maxpool_forward(__global float *out, int out_off, __global int *argmax, int argmax_off,
                              __global const float *inp, int inp_off, int h, int w, int oh, int ow, int size,
                              int stride, int pad, int total)
{
    int i = get_global_id(0);
    if (i >= total)
        return;
    /* remainders as i - q * d: LLVM otherwise pairs div and rem with a `freeze` that Oclgrind cannot run */
    int t = i / ow, plane = t / oh;
    int ox = i - t * ow, oy = t - plane * oh;
    int y0 = oy * stride - pad, x0 = ox * stride - pad;
    int y1 = min(y0 + size, h), x1 = min(x0 + size, w);
    y0 = max(y0, 0);
    x0 = max(x0, 0);
    __global const float *p = inp + inp_off + plane * h * w;
    int best_at = y0 * w + x0;
    float best = p[best_at];
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            float v = p[y * w + x];
            if (v > best || (isnan(v) && !isnan(best))) {
                best = v;
                best_at = y * w + x;
            }
        }
    out[out_off + i] = best;
    argmax[argmax_off + i] = best_at;
}

/* One work-item per input element; total = N*C*H*W. The windows holding row y are those with
 * oy * stride - pad <= y < oy * stride - pad + size. */
__kernel void maxpool_backward(__global float *dinp, int dinp_off, __global const float *dout, int dout_off,
                               __global const int *argmax, int argmax_off, int h, int w, int oh, int ow, int size,
                               int stride, int pad, int total)
{
    int i = get_global_id(0);
    if (i >= total)
        return;
    int t = i / w, plane = t / h;
    int x = i - t * w, y = t - plane * h;
    int ly = y + pad - size + 1, lx = x + pad - size + 1; /* first window start that reaches y (x) */
    int oy0 = ly <= 0 ? 0 : (ly + stride - 1) / stride, ox0 = lx <= 0 ? 0 : (lx + stride - 1) / stride;
    int oy1 = min((y + pad) / stride, oh - 1), ox1 = min((x + pad) / stride, ow - 1);
    int self = y * w + x, first = plane * oh * ow;
    float g = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            int o = first + oy * ow + ox;
            if (argmax[argmax_off + o] == self)
                g += dout[dout_off + o];
        }
    dinp[dinp_off + i] = g;
}
