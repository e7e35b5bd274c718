/* maxpool.cl: max pooling forward (value and argmax) and backward (a gather over the argmax).
 *
 * Windows of size x size, step stride, start at o * stride - pad and are clipped to the input (padding is
 * never chosen; the launcher guarantees every window holds an input element). argmax is the index within
 * the (n, c) input plane. The first maximum in row-major window order wins ties; the first NaN wins over
 * everything, so NaN propagates to the output. Backward: each input element sums dout over the windows
 * that contain it and chose it, in a fixed order: deterministic, no atomics, dinp overwritten. On CPUs and
 * for rows narrower than a backward run, one work-item scatters each plane instead, in the same order.
 *
 * Layout of the work: a 2-D range, dimension 1 over the N*C planes, dimension 0 over runs of MAXPOOL_VEC
 * neighbouring columns (output columns forward, input columns backward); a work-item takes runs gid0,
 * gid0 + size0, ... so that any launch size is correct, and walks its run down the whole plane. The lanes of
 * a vector are the columns of the run, so every lane takes the same loop trip counts (a lane whose window
 * is clipped masks the elements outside); a CPU implementation (PoCL) vectorizes across work-items only
 * when they run the same straight-line code, which window loops with runtime bounds are not. Walking down
 * the plane keeps integer division out of the inner loops: the column arithmetic is done once per run and
 * the row arithmetic steps from one row to the next. The last run of a row, when the row is not a multiple
 * of the run, is moved left to end where the row ends and stores only its new columns (a row narrower than
 * a run repeats its last column in the spare lanes). AlexNet pools at stride 2, where the columns of a run's
 * windows are contiguous: both kernels have a path that reads them with contiguous loads.
 *
 * Defines: MAXPOOL_VEC (4, 8 or 16; default 8): columns per vector.
 * Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

#ifndef MAXPOOL_VEC
#define MAXPOOL_VEC 8
#endif

#define MP_CAT_(a, b) a##b
#define MP_CAT(a, b) MP_CAT_(a, b)
#define mp_floatv MP_CAT(float, MAXPOOL_VEC)
#define mp_intv MP_CAT(int, MAXPOOL_VEC)
#define mp_loadv MP_CAT(vload, MAXPOOL_VEC)
#define mp_storev MP_CAT(vstore, MAXPOOL_VEC)

/* MP_LANES: (0, 1, ..., VEC-1); MP_GATHER_T(type, p, i): (p[i.s0], p[i.s1], ...) as a vector of type, one load
 * per lane; MP_GATHER for floats. */
#if MAXPOOL_VEC == 4
#define MP_LANES ((int4)(0, 1, 2, 3))
#define MP_GATHER_T(t, p, i) ((t##4)((p)[(i).s0], (p)[(i).s1], (p)[(i).s2], (p)[(i).s3]))
#elif MAXPOOL_VEC == 8
#define MP_LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#define MP_GATHER_T(t, p, i) \
    ((t##8)((p)[(i).s0], (p)[(i).s1], (p)[(i).s2], (p)[(i).s3], (p)[(i).s4], (p)[(i).s5], (p)[(i).s6], \
            (p)[(i).s7]))
#elif MAXPOOL_VEC == 16
#define MP_LANES ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define MP_GATHER_T(t, p, i) \
    ((t##16)((p)[(i).s0], (p)[(i).s1], (p)[(i).s2], (p)[(i).s3], (p)[(i).s4], (p)[(i).s5], (p)[(i).s6], \
             (p)[(i).s7], (p)[(i).s8], (p)[(i).s9], (p)[(i).sa], (p)[(i).sb], (p)[(i).sc], (p)[(i).sd], \
             (p)[(i).se], (p)[(i).sf]))
#else
#error "MAXPOOL_VEC must be 4, 8 or 16"
#endif
#define MP_GATHER(p, i) MP_GATHER_T(float, p, i)

/* Lanes 0, 2, 4, ... of the 2 * MAXPOOL_VEC floats at p (the last is read, not used): the window columns of
 * a run at stride 2, from contiguous loads. Only even lanes: Oclgrind 21.10 reports odd lanes picked from
 * loads that the compiler merges as uninitialized. */
#if MAXPOOL_VEC == 4
#define MP_HALF vload4
#define mp_halfv float4
#define MP_EVEN_OF(a, b) ((float4)((a).s0, (a).s2, (b).s0, (b).s2))
#elif MAXPOOL_VEC == 8
#define MP_HALF vload8
#define mp_halfv float8
#define MP_EVEN_OF(a, b) ((float8)((a).s0, (a).s2, (a).s4, (a).s6, (b).s0, (b).s2, (b).s4, (b).s6))
#else
#define MP_HALF vload16
#define mp_halfv float16
#define MP_EVEN_OF(a, b) \
    ((float16)((a).s0, (a).s2, (a).s4, (a).s6, (a).s8, (a).sa, (a).sc, (a).se, (b).s0, (b).s2, (b).s4, (b).s6, \
               (b).s8, (b).sa, (b).sc, (b).se))
#endif

static inline mp_floatv mp_even(__global const float *p)
{
    mp_halfv a = MP_HALF(0, p), b = MP_HALF(1, p);
    return MP_EVEN_OF(a, b);
}

/* Whether val replaces best: val > best, or val is the first NaN. Written as "best is a number and not
 * val <= best" (true for val > best and for NaN val), two compares where isnan() costs several operations
 * on some CPUs. */
#define MP_TAKES(val, best) (((best) == (best)) & ~((val) <= (best)))

/* Global (any, N*C); planes = N*C. A run's lanes are the output columns start .. start + VEC - 1; the last
 * run of a row is moved left to end at the row's end (its lanes that belong to the run before are not
 * stored), and a row narrower than a vector repeats its last column. At stride 2 (AlexNet's overlapping
 * pooling), a run whose windows lie inside the row in x reads each window column of the run with one
 * contiguous load; other runs load lane by lane and mask the columns outside the input. */
__kernel void maxpool_forward(__global float *out, int out_off, __global int *argmax, int argmax_off,
                              __global const float *inp, int inp_off, int h, int w, int oh, int ow, int size,
                              int stride, int pad, int planes)
{
    int plane = get_global_id(1);
    if (plane >= planes)
        return;
    __global const float *p = inp + inp_off + plane * h * w;
    int runs = (ow + MAXPOOL_VEC - 1) / MAXPOOL_VEC;
    for (int v = get_global_id(0); v < runs; v += get_global_size(0)) {
        int ox0 = v * MAXPOOL_VEC, start = max(min(ox0, ow - MAXPOOL_VEC), 0);
        int lane0 = ox0 - start, lanes = min(ow - start, MAXPOOL_VEC); /* store lanes [lane0, lanes) */
        int xs = start * stride - pad;                                 /* window start of lane 0 */
        /* the windows of the run's real lanes lie in the row: columns xs .. xs + 2 (lanes - 1) + size - 1 */
        int contiguous = stride == 2 && xs >= 0 && xs + 2 * (lanes - 1) + size - 1 <= w - 1;
        /* the loads read columns up to xs + 2 VEC + size - 2, one past the last window column of the last lane
         * (and more when a row is narrower than a run, for lanes that are not stored): past the row's end they
         * read the first columns of the next row, which is in the plane except below the last row */
        int spill = xs + 2 * MAXPOOL_VEC + size - 2 - (w - 1);
        contiguous = contiguous && spill <= w;
        /* vector min/max/clamp take vector bounds here: Oclgrind 21.10 runs the (vector, scalar) forms wrongly */
        mp_intv x0 = min(start + MP_LANES, (mp_intv)(ow - 1)) * stride - pad; /* window starts, unclipped */
        mp_intv first_x = max(x0, (mp_intv)0);
        /* the winner of the last input row scanned by the contiguous path, for the next window holding it */
        int carry_y = -1;
        mp_floatv carry_best = 0.0f;
        mp_intv carry_at = 0;
        for (int oy = 0; oy < oh; oy++) {
            int y0 = oy * stride - pad;
            int y1 = min(y0 + size, h);
            y0 = max(y0, 0);
            mp_intv best_at = y0 * w + first_x;
            mp_floatv best;
            if (contiguous && (spill <= 0 || y1 < h)) {
                for (int y = y0; y < y1; y++) {
                    /* the row's own winner (its first maximum), then the rows in order: the same winner as a
                     * scan in row-major order, and a row shared with the window above is not scanned again */
                    mp_floatv row_best = carry_best;
                    mp_intv row_at = carry_at;
                    if (y != carry_y) {
                        __global const float *r = p + y * w + xs;
                        mp_intv at = y * w + x0;
                        row_best = mp_even(r);
                        row_at = at;
                        for (int dx = 1; dx < size; dx++) {
                            mp_floatv val = mp_even(r + dx);
                            mp_intv take = MP_TAKES(val, row_best);
                            row_best = select(row_best, val, take);
                            row_at = select(row_at, at + dx, take);
                        }
                    }
                    if (y == y0) {
                        best = row_best;
                        best_at = row_at;
                    } else {
                        mp_intv take = MP_TAKES(row_best, best);
                        best = select(best, row_best, take);
                        best_at = select(best_at, row_at, take);
                    }
                    carry_y = y;
                    carry_best = row_best;
                    carry_at = row_at;
                }
            } else {
                carry_y = -1;
                best = MP_GATHER(p, best_at);
                for (int y = y0; y < y1; y++)
                    for (int dx = 0; dx < size; dx++) {
                        mp_intv x = x0 + dx;
                        mp_intv inside = (x >= 0) & (x < w);
                        /* loads stay in the plane; outside is masked */
                        mp_intv at = y * w + clamp(x, (mp_intv)0, (mp_intv)(w - 1));
                        mp_floatv val = MP_GATHER(p, at);
                        mp_intv take = inside & MP_TAKES(val, best);
                        best = select(best, val, take);
                        best_at = select(best_at, at, take);
                    }
            }
            int o = (plane * oh + oy) * ow + start;
            if (lane0 == 0 && lanes == MAXPOOL_VEC) {
                mp_storev(best, 0, out + out_off + o);
                mp_storev(best_at, 0, argmax + argmax_off + o);
            } else {
                float b[MAXPOOL_VEC];
                int a[MAXPOOL_VEC];
                mp_storev(best, 0, b);
                mp_storev(best_at, 0, a);
                for (int k = lane0; k < lanes; k++) {
                    out[out_off + o + k] = b[k];
                    argmax[argmax_off + o + k] = a[k];
                }
            }
        }
    }
}

/* MP_ZIP(e, o, f): f(0, (e.s0, o.s0, e.s1, o.s1, ...)), f(1, ...): the interleave of the even and the odd
 * columns, handed to f in two vectors of VEC. Built as a blend of each vector with its lanes doubled: a
 * shuffle of two vectors would do it in one step, but Oclgrind 21.10 then reports the result uninitialized. */
#if MAXPOOL_VEC == 4
#define MP_DOUBLE_LO(v) ((v).s0011)
#define MP_DOUBLE_HI(v) ((v).s2233)
#define MP_ODD_LANES ((int4)(0, -1, 0, -1))
#elif MAXPOOL_VEC == 8
#define MP_DOUBLE_LO(v) ((v).s00112233)
#define MP_DOUBLE_HI(v) ((v).s44556677)
#define MP_ODD_LANES ((int8)(0, -1, 0, -1, 0, -1, 0, -1))
#else
#define MP_DOUBLE_LO(v) ((v).s0011223344556677)
#define MP_DOUBLE_HI(v) ((v).s8899aabbccddeeff)
#define MP_ODD_LANES ((int16)(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1))
#endif
#define MP_ZIP(e, o, f) \
    f(0, select(MP_DOUBLE_LO(e), MP_DOUBLE_LO(o), MP_ODD_LANES)); \
    f(1, select(MP_DOUBLE_HI(e), MP_DOUBLE_HI(o), MP_ODD_LANES))
/* f for MP_ZIP: part k of the interleaved run, to zip_to */
#define MP_STORE_ZIP(k, v) mp_storev((v), (k), zip_to)

/* Lanes moved by one, the vacated lane keeping its old value (single-vector shuffles, which Oclgrind checks):
 * MP_SHR1 (lane j holds lane j - 1), MP_SHL1 (lane j holds lane j + 1). OR-ed into argmax, MP_FIRST_NONE and
 * MP_LAST_NONE make the vacated lane -1, which no element's index equals (a mask and-ed with the comparison
 * would be simpler, but Oclgrind 21.10 computes true as 1, not -1, when one operand is constant). */
#if MAXPOOL_VEC == 4
#define MP_SHR1(v) ((v).s0012)
#define MP_SHL1(v) ((v).s1233)
#define MP_FIRST_NONE ((int4)(-1, 0, 0, 0))
#define MP_LAST_NONE ((int4)(0, 0, 0, -1))
#elif MAXPOOL_VEC == 8
#define MP_SHR1(v) ((v).s00123456)
#define MP_SHL1(v) ((v).s12345677)
#define MP_FIRST_NONE ((int8)(-1, 0, 0, 0, 0, 0, 0, 0))
#define MP_LAST_NONE ((int8)(0, 0, 0, 0, 0, 0, 0, -1))
#else
#define MP_SHR1(v) ((v).s00123456789abcde)
#define MP_SHL1(v) ((v).s123456789abcdeff)
#define MP_FIRST_NONE ((int16)(-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
#define MP_LAST_NONE ((int16)(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1))
#endif

/* acc += dout of window (row r, column e + lane) in the lanes where its argmax is self. Where the windows
 * e .. e + VEC - 1 all exist, one contiguous load of each; where the first or the last is one past the row's
 * end, a load moved by a lane, that lane masked; else a load per lane (clamped into the row), the lanes
 * outside the row masked. A macro, not a function: PoCL does not inline it, and a call per window costs more
 * than the window. */
#define MP_GATHER_RUN(acc, self, r, e) \
    do { \
        mp_intv hit_, at_; \
        mp_floatv d_; \
        if ((e) >= 0 && (e) + MAXPOOL_VEC <= ow) { \
            hit_ = (self) == mp_loadv(0, am + (r) + (e)); \
            d_ = mp_loadv(0, g + (r) + (e)); \
        } else if ((e) == -1 && MAXPOOL_VEC <= ow) { \
            hit_ = (self) == (MP_SHR1(mp_loadv(0, am + (r))) | MP_FIRST_NONE); \
            d_ = MP_SHR1(mp_loadv(0, g + (r))); \
        } else if ((e) >= 1 && (e) + MAXPOOL_VEC == ow + 1) { \
            hit_ = (self) == (MP_SHL1(mp_loadv(0, am + (r) + (e) - 1)) | MP_LAST_NONE); \
            d_ = MP_SHL1(mp_loadv(0, g + (r) + (e) - 1)); \
        } else { \
            mp_intv ox_ = (e) + MP_LANES; \
            at_ = clamp(ox_, (mp_intv)0, (mp_intv)(ow - 1)); \
            hit_ = (ox_ >= 0) & (ox_ < ow) & ((self) == MP_GATHER_T(int, am + (r), at_)); \
            d_ = MP_GATHER(g + (r), at_); \
        } \
        acc = select(acc, acc + d_, hit_); \
    } while (0)

/* Global (any, N*C); planes = N*C. The windows holding row y are oy in [ceil((y + pad - size + 1) / stride),
 * floor((y + pad) / stride)], clipped to [0, oh); likewise for columns. A work-item takes runs of 2 VEC
 * columns. At stride 2 (AlexNet's), the run splits into its even and its odd columns: the windows that may
 * hold column x are floor((x + pad) / 2) - t for t < ceil(size / 2), and for the even (odd) columns of a run
 * these are VEC consecutive windows of a row, read with one load of dout and one of argmax per (oy, t).
 * Otherwise (other strides, rows narrower than a run) every window that holds some column of a half-run is
 * visited and its two values broadcast to the lanes. Either way a lane adds dout only where argmax names its
 * own element, which only a window holding it can, and it sums its windows in row-major order (oy, then ox
 * ascending), as the reference does. */
__kernel void maxpool_backward(__global float *dinp, int dinp_off, __global const float *dout, int dout_off,
                               __global const int *argmax, int argmax_off, int h, int w, int oh, int ow, int size,
                               int stride, int pad, int planes, int scatter)
{
    int plane = get_global_id(1);
    if (plane >= planes)
        return;
    __global const float *g = dout + dout_off + plane * oh * ow;
    __global const int *am = argmax + argmax_off + plane * oh * ow;
    __global float *dx = dinp + dinp_off + plane * h * w;
    if (scatter || w < 2 * MAXPOOL_VEC) {
        /* One work-item scatters the plane, as the reference does: zero it, then add each window's dout at its
         * argmax in row-major window order, which is the order in which each element's sum is gathered, so the
         * values are the same. The launcher asks for it on CPUs, where a plane's few hundred scalar
         * read-modify-writes in cache cost a third of the gather's vector work (pool1, pool2 on PoCL); a GPU
         * keeps the gather's thread per run. Rows narrower than a run (pool5's 13) always scatter: the gather
         * would visit every window of every half-run lane by lane. */
        if (get_global_id(0) != 0)
            return;
        int hw = h * w, full = hw / MAXPOOL_VEC * MAXPOOL_VEC;
        for (int i = 0; i < full; i += MAXPOOL_VEC)
            mp_storev((mp_floatv)0.0f, 0, dx + i);
        for (int i = full; i < hw; i++)
            dx[i] = 0.0f;
        for (int o = 0; o < oh * ow; o++)
            dx[am[o]] += g[o];
        return;
    }
    int runs = (w + 2 * MAXPOOL_VEC - 1) / (2 * MAXPOOL_VEC);
    for (int v = get_global_id(0); v < runs; v += get_global_size(0)) {
        int x0 = v * 2 * MAXPOOL_VEC;
        /* stride 2: the run moved left to end at the row's end, as in the forward */
        int start = max(min(x0, w - 2 * MAXPOOL_VEC), 0), lane0 = x0 - start;
        /* column x = start + 2 j (+ 1) lies in window floor((x + pad) / 2) - t when 2 t + (x + pad) % 2 < size */
        int be = (start + pad) >> 1, bo = (start + pad + 1) >> 1, re = (start + pad) & 1;
        int taps_e = (size + 1 - re) / 2, taps_o = (size + re) / 2;
        /* a row narrower than a run takes the general path: most of its windows would load lane by lane */
        int paired = stride == 2 && start + 2 * MAXPOOL_VEC <= w;
        /* general: the windows of each half-run's columns, computed once per run */
        int lx = x0 + pad - size + 1, xl = min(x0 + 2 * MAXPOOL_VEC, w) - 1;
        int ox0 = lx <= 0 ? 0 : (lx + stride - 1) / stride;
        int oxm = min((min(x0 + MAXPOOL_VEC, w) - 1 + pad) / stride, ow - 1); /* last of the first half */
        int lm = x0 + MAXPOOL_VEC + pad - size + 1;
        int oxs = lm <= 0 ? 0 : (lm + stride - 1) / stride; /* first of the second half */
        int ox1 = min((xl + pad) / stride, ow - 1);
        /* oy1 = floor((y + pad) / stride) as quotient and remainder, oy0 = ceil((y + pad - size + 1) / stride)
         * likewise (its numerator may start negative: the quotient then counts from below zero) */
        int q1 = pad / stride, r1 = pad - q1 * stride;
        int n0 = pad - size + 1; /* numerator of oy0 at y = 0, >= 2 - size */
        int q0 = n0 <= 0 ? -((-n0) / stride) : (n0 + stride - 1) / stride; /* ceil(n0 / stride) */
        int r0 = q0 * stride - n0;                                          /* in [0, stride) */
        for (int y = 0; y < h; y++) {
            int oy0 = max(q0, 0), oy1 = min(q1, oh - 1);
            if (paired) {
                mp_intv even = y * w + start + 2 * MP_LANES, odd = even + 1;
                mp_floatv acc_e = 0.0f, acc_o = 0.0f;
                for (int oy = oy0; oy <= oy1; oy++) {
                    for (int t = taps_e - 1; t >= 0; t--)
                        MP_GATHER_RUN(acc_e, even, oy * ow, be - t);
                    for (int t = taps_o - 1; t >= 0; t--)
                        MP_GATHER_RUN(acc_o, odd, oy * ow, bo - t);
                }
                __global float *o = dx + y * w + start;
                if (lane0 == 0) {
                    __global float *zip_to = o;
                    MP_ZIP(acc_e, acc_o, MP_STORE_ZIP);
                } else {
                    float b[2 * MAXPOOL_VEC];
                    float *zip_to = b;
                    MP_ZIP(acc_e, acc_o, MP_STORE_ZIP);
                    for (int k = lane0; k < 2 * MAXPOOL_VEC; k++)
                        o[k] = b[k];
                }
            } else {
                for (int part = 0; part < 2; part++) {
                    int xh = x0 + part * MAXPOOL_VEC, real = min(w - xh, MAXPOOL_VEC);
                    if (real <= 0)
                        break;
                    int first = part ? oxs : ox0, last = part ? ox1 : oxm;
                    mp_intv self = y * w + xh + MP_LANES; /* lanes past the row are never stored */
                    mp_floatv acc = 0.0f;
                    for (int oy = oy0; oy <= oy1; oy++)
                        for (int ox = first; ox <= last; ox++) {
                            int o = oy * ow + ox;
                            acc = select(acc, acc + g[o], self == am[o]);
                        }
                    __global float *o = dx + y * w + xh;
                    if (real == MAXPOOL_VEC) {
                        mp_storev(acc, 0, o);
                    } else {
                        float b[MAXPOOL_VEC];
                        mp_storev(acc, 0, b);
                        for (int k = 0; k < real; k++)
                            o[k] = b[k];
                    }
                }
            }
            /* step to row y + 1: both numerators grow by one */
            if (++r1 == stride) {
                r1 = 0;
                q1++;
            }
            if (--r0 < 0) {
                r0 = stride - 1;
                q0++;
            }
        }
    }
}
