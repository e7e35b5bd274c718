/* maxpool.cl: max pooling forward (value and argmax) and backward (a gather over the argmax).
 *
 * Windows of size x size, step stride, start at o * stride - pad and are clipped to the input (padding is
 * never chosen; the launcher guarantees every window holds an input element). argmax is the index within
 * the (n, c) input plane. The first maximum in row-major window order wins ties; the first NaN wins over
 * everything, so NaN propagates to the output. Backward: each input element sums dout over the windows
 * that contain it and chose it, in a fixed order: deterministic, no atomics, dinp overwritten. On CPUs and
 * for rows narrower than a backward run, one work-item scatters each plane instead, in the same order.
 *
 * Forward layout: a 1-D range over the N*C planes, one work-item per plane (a CPU runs a work-group as a loop over
 * its work-items, so a plane's worth of straight vector code per work-item is what it runs fastest). The plane's
 * output columns are cut into runs of vector width; the last run, when the row is not a multiple of it, is moved
 * left to end where the row ends (it stores again a few columns the run before stored, the same values). The
 * work-item walks each run down the plane, so the row arithmetic steps from row to row, and two runs of a row (a
 * row of up to 2 VEC outputs, pool1's 27) together, so that the plane is read in one pass, in order: a pass per run
 * read every input line twice, the second time from cache, and ran slower (pool1 about 53% of the copy bandwidth
 * against 66%). AlexNet's pooling (3x3, stride 2, no padding, floor or ceil mode) takes a fast path: lane j of a
 * run reads its window's columns 2j, 2j + 1, 2j + 2 of a row as three vectors of contiguous loads (the even lanes
 * of two vectors each), takes the row's winner, and merges three rows per window, the last of which is the first of
 * the next window, so each input row is scanned once per run. Its width is MAXPOOL_VEC, or half of it for rows of
 * at most that many outputs (pool5's 6), where a full width would leave most lanes idle. A row narrower than a run
 * stores whole vectors that spill into the rows after it, which the same work-item writes next (only a store that
 * would leave the plane is cut to the row). The loads read up to 2 VEC + 1 floats past a window, at most a plane
 * further, so the last plane takes the general path. Other windows take the general path: lanes over a run of
 * MP_VEC columns, each element loaded lane by lane and masked outside the input.
 * Why: before, a 2-D range of runs of 8 columns, each work-item a run walking its plane with loops over the window
 * with runtime bounds, the forward spent about 35 instructions an output (callgrind, PoCL) and ran about as fast
 * with its data in cache (batch 2 to 4) as out of it: it was bound by instructions, not memory. Measured after, the
 * old and new kernels timed in one process, interleaved (median of 21, batch 32, PoCL on a 2-core AVX-512 EPYC
 * shared with other work, copy 17-26 GB/s), two rounds: pool1 N32 C96 55->27 34.9/32.4% -> 62.6/65.8% of the copy
 * bandwidth (1.8-2.0x faster), pool2 C256 27->13 33.4/39.1% -> 48.5/54.9% (1.4x; 69-77% in quieter rounds), pool5
 * C256 13->6 20.3/25.5% -> 44.1/63.6% (2.2-2.5x).
 *
 * Backward layout: a 2-D range, dimension 1 over the N*C planes, dimension 0 over runs of MP_VEC neighbouring
 * input columns; a work-item takes runs gid0, gid0 + size0, ... so that any launch size is correct, and walks
 * its run down the whole plane. The lanes of a vector are the columns of the run, so every lane takes the same
 * loop trip counts; a CPU implementation (PoCL) vectorizes across work-items only when they run the same
 * straight-line code, which window loops with runtime bounds are not. At stride 2 the gather reads a run's
 * windows with contiguous loads. On CPUs the plane is scattered (see above): 45-70% of the copy bandwidth at pool1,
 * 60-110% at pool2 and pool5 in interleaved runs; zeroing each row just before the first window that reaches it,
 * instead of the whole plane first, made no difference that the noise of this machine let us see.
 *
 * Defines: MAXPOOL_VEC (4, 8 or 16; default 16): the forward fast path's columns per vector. Everything else
 * takes MP_VEC = min(MAXPOOL_VEC, 8).
 * Tensors are (pointer, element offset) pairs; every kernel guards its tail. */

#ifndef MAXPOOL_VEC
#define MAXPOOL_VEC 16
#endif
#if MAXPOOL_VEC != 4 && MAXPOOL_VEC != 8 && MAXPOOL_VEC != 16
#error "MAXPOOL_VEC must be 4, 8 or 16"
#endif
/* the width of everything but the forward's fast path: Oclgrind 21.10 misreads the backward's 16-wide swizzles
 * as uninitialized */
#if MAXPOOL_VEC == 16
#define MP_VEC 8
#else
#define MP_VEC MAXPOOL_VEC
#endif

#define MP_CAT_(a, b) a##b
#define MP_CAT(a, b) MP_CAT_(a, b)
#define mp_floatv MP_CAT(float, MP_VEC)
#define mp_intv MP_CAT(int, MP_VEC)
#define mp_loadv MP_CAT(vload, MP_VEC)
#define mp_storev MP_CAT(vstore, MP_VEC)

/* MP_LANES: (0, 1, ..., MP_VEC - 1); MP_GATHER_T(type, p, i): (p[i.s0], p[i.s1], ...) as a vector of type, one load
 * per lane; MP_GATHER for floats. */
#if MP_VEC == 4
#define MP_LANES ((int4)(0, 1, 2, 3))
#define MP_GATHER_T(t, p, i) ((t##4)((p)[(i).s0], (p)[(i).s1], (p)[(i).s2], (p)[(i).s3]))
#else
#define MP_LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#define MP_GATHER_T(t, p, i) \
    ((t##8)((p)[(i).s0], (p)[(i).s1], (p)[(i).s2], (p)[(i).s3], (p)[(i).s4], (p)[(i).s5], (p)[(i).s6], \
            (p)[(i).s7]))
#endif
#define MP_GATHER(p, i) MP_GATHER_T(float, p, i)

/* mp_evenW(p), W = 4, 8, 16: lanes 0, 2, 4, ... of the 2 W floats at p (the last is read, not used): the window
 * columns of a run at stride 2, from contiguous loads. Only even lanes: Oclgrind 21.10 reports odd lanes picked
 * from loads that the compiler merges as uninitialized. MP_LANESW: (0, 1, ..., W - 1). */
static inline float4 mp_even4(__global const float *p)
{
    float4 a = vload4(0, p), b = vload4(1, p);
    return (float4)(a.s0, a.s2, b.s0, b.s2);
}

static inline float8 mp_even8(__global const float *p)
{
    float8 a = vload8(0, p), b = vload8(1, p);
    return (float8)(a.s0, a.s2, a.s4, a.s6, b.s0, b.s2, b.s4, b.s6);
}

static inline float16 mp_even16(__global const float *p)
{
    float16 a = vload16(0, p), b = vload16(1, p);
    return (float16)(a.s0, a.s2, a.s4, a.s6, a.s8, a.sa, a.sc, a.se, b.s0, b.s2, b.s4, b.s6, b.s8, b.sa, b.sc,
                     b.se);
}

#define MP_LANES4 ((int4)(0, 1, 2, 3))
#define MP_LANES8 ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#define MP_LANES16 ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))

/* Whether val replaces best: val > best, or val is the first NaN. Written as "best is a number and not
 * val <= best" (true for val > best and for NaN val), two compares where isnan() costs several operations
 * on some CPUs. */
#define MP_TAKES(val, best) (((best) == (best)) & ~((val) <= (best)))

/* MP_ROW3(W, best, best_at, r, at, clip): a row's winners over the windows of a run of W lanes at size 3,
 * stride 2: lane j takes the columns 2 j, 2 j + 1, 2 j + 2 from r (the row at the run's first window column),
 * its first maximum, except that the lanes set in clip (a window cut by the row's end) skip the third column;
 * at holds the lanes' first columns as plane indices. Reads the 2 W + 2 floats from r. */
#define MP_ROW3(W, best, best_at, r, at, clip) \
    do { \
        float##W o_ = mp_even##W((r) + 1), f_ = mp_even##W((r) + 2); \
        best = mp_even##W(r); \
        best_at = (at); \
        int##W t_ = MP_TAKES(o_, best); \
        best = select(best, o_, t_); \
        best_at = select(best_at, (at) + 1, t_); \
        t_ = MP_TAKES(f_, best) & ~(clip); \
        best = select(best, f_, t_); \
        best_at = select(best_at, (at) + 2, t_); \
    } while (0)

/* MP_STRIP(W, clipped): the fast path's run of W lanes from output column start, down the plane (clipped: 1
 * when the last lane's window lacks its third column, a constant so that the other case drops the mask). Rows 2 oy,
 * 2 oy + 1, 2 oy + 2 make window oy: each row's winners, then the rows in order, the same winner as a row-major
 * scan; row 2 oy + 2 is row 0 of the next window, and is missing from the last window when the input ends
 * there (ceil mode). A row narrower than the run spills its stores into the next rows, which this work-item
 * writes next; a store that would leave the plane stores only the row's own lanes. */
#define MP_STRIP(W, clipped) MP_STRIP_W(W, clipped) /* W expanded before pasting */
#define MP_STRIP_W(W, clipped) \
    do { \
        int##W clip = (clipped) ? (w - 3 - xs - 2 * MP_LANES##W) >> 31 : (int##W)0; /* no compare: see MP_SHR1 */ \
        __global const float *r = p + xs; \
        int##W at = xs + 2 * MP_LANES##W, t; \
        float##W b0, b1, b2; \
        int##W a0, a1, a2; \
        MP_ROW3(W, b0, a0, r, at, clip); \
        for (int oy = 0; oy < oh; oy++) { \
            MP_ROW3(W, b1, a1, r + w, at + w, clip); \
            t = MP_TAKES(b1, b0); \
            b0 = select(b0, b1, t); \
            a0 = select(a0, a1, t); \
            if (oy < full) { \
                r += 2 * w; \
                at += 2 * w; \
                MP_ROW3(W, b2, a2, r, at, clip); \
                t = MP_TAKES(b2, b0); \
                b0 = select(b0, b2, t); \
                a0 = select(a0, a2, t); \
            } \
            if (oy * ow + start + W <= oh * ow) { \
                vstore##W(b0, 0, po + oy * ow + start); \
                vstore##W(a0, 0, pa + oy * ow + start); \
            } else { \
                float b_[W]; \
                int a_[W]; \
                vstore##W(b0, 0, b_); \
                vstore##W(a0, 0, a_); \
                for (int k = 0; k < lanes; k++) { \
                    po[oy * ow + start + k] = b_[k]; \
                    pa[oy * ow + start + k] = a_[k]; \
                } \
            } \
            b0 = b2; \
            a0 = a2; \
        } \
    } while (0)

/* MP_PAIR(W, clipped): two runs of W lanes, from output columns start and start1 (both whole: the row has
 * more than W outputs), walked down the plane together, so that the plane's rows are read once, in order (a
 * pass down the plane per run reads every input line twice, the second time from cache: at pool1's shape,
 * 66% of the copy bandwidth in one pass against 53% in two). clipped applies to the second run. */
#define MP_PAIR(W, clipped) MP_PAIR_W(W, clipped)
#define MP_PAIR_W(W, clipped) \
    do { \
        int xs1 = 2 * start1; \
        int##W clip = (clipped) ? (w - 3 - xs1 - 2 * MP_LANES##W) >> 31 : (int##W)0; \
        __global const float *r = p + xs, *r1 = p + xs1; \
        int##W at = xs + 2 * MP_LANES##W, at1 = xs1 + 2 * MP_LANES##W, t; \
        float##W b0, b1, b2, c0, c1, c2; \
        int##W a0, a1, a2, d0, d1, d2; \
        MP_ROW3(W, b0, a0, r, at, 0); \
        MP_ROW3(W, c0, d0, r1, at1, clip); \
        for (int oy = 0; oy < oh; oy++) { \
            MP_ROW3(W, b1, a1, r + w, at + w, 0); \
            MP_ROW3(W, c1, d1, r1 + w, at1 + w, clip); \
            t = MP_TAKES(b1, b0); \
            b0 = select(b0, b1, t); \
            a0 = select(a0, a1, t); \
            t = MP_TAKES(c1, c0); \
            c0 = select(c0, c1, t); \
            d0 = select(d0, d1, t); \
            if (oy < full) { \
                r += 2 * w; \
                r1 += 2 * w; \
                at += 2 * w; \
                at1 += 2 * w; \
                MP_ROW3(W, b2, a2, r, at, 0); \
                MP_ROW3(W, c2, d2, r1, at1, clip); \
                t = MP_TAKES(b2, b0); \
                b0 = select(b0, b2, t); \
                a0 = select(a0, a2, t); \
                t = MP_TAKES(c2, c0); \
                c0 = select(c0, c2, t); \
                d0 = select(d0, d2, t); \
            } \
            vstore##W(b0, 0, po + oy * ow + start); \
            vstore##W(a0, 0, pa + oy * ow + start); \
            vstore##W(c0, 0, po + oy * ow + start1); \
            vstore##W(d0, 0, pa + oy * ow + start1); \
            b0 = b2; \
            a0 = a2; \
            c0 = c2; \
            d0 = d2; \
        } \
    } while (0)

/* the fast path's vector widths: MAXPOOL_VEC, and half of it for rows of at most that many outputs */
#if MAXPOOL_VEC == 16
#define MP_HALF_VEC 8
#elif MAXPOOL_VEC == 8
#define MP_HALF_VEC 4
#endif

/* Global (N*C) or more; planes = N*C. One work-item per plane: it takes the plane's runs one after the other
 * and walks each down the plane, so that stores that overlap (see the header) are its own. */
__kernel void maxpool_forward(__global float *out, int out_off, __global int *argmax, int argmax_off,
                              __global const float *inp, int inp_off, int h, int w, int oh, int ow, int size,
                              int stride, int pad, int planes)
{
    int plane = get_global_id(0);
    if (plane >= planes)
        return;
    __global const float *p = inp + inp_off + plane * h * w;
    __global float *po = out + out_off + plane * oh * ow;
    __global int *pa = argmax + argmax_off + plane * oh * ow;
    /* AlexNet's pooling (3x3, stride 2, no padding) has its own path. Its windows start inside the input and
     * hold at least two of its rows and columns (pool_out_size drops a window that would start at the end).
     * Its loads read past the windows, by at most 2 VEC + 1 floats, so never in the last plane. */
#ifdef MP_HALF_VEC
    int rw = ow <= MP_HALF_VEC ? MP_HALF_VEC : MAXPOOL_VEC;
#else
    int rw = MAXPOOL_VEC;
#endif
    if (size == 3 && stride == 2 && pad == 0 && plane < planes - 1 && 2 * rw <= h * w) {
        int full = 2 * oh + 1 <= h ? oh : oh - 1; /* the windows with three rows */
        int runs = (ow + rw - 1) / rw;
        for (int v = 0; v < runs; v++) {
            /* the last run moved left to end where the row ends; it stores again what the run before stored */
            int start = max(min(v * rw, ow - rw), 0), lanes = min(ow - start, rw), xs = 2 * start;
            int clipped = xs + 2 * lanes > w - 1; /* the last lane's window lacks its third column */
#ifdef MP_HALF_VEC
            if (rw == MP_HALF_VEC) {
                if (clipped)
                    MP_STRIP(MP_HALF_VEC, 1);
                else
                    MP_STRIP(MP_HALF_VEC, 0);
                continue;
            }
#endif
            if (v + 1 < runs) { /* runs v and v + 1 together */
                int start1 = min((v + 1) * rw, ow - rw);
                v++;
                if (2 * start1 + 2 * rw > w - 1)
                    MP_PAIR(MAXPOOL_VEC, 1);
                else
                    MP_PAIR(MAXPOOL_VEC, 0);
                continue;
            }
            if (clipped)
                MP_STRIP(MAXPOOL_VEC, 1);
            else
                MP_STRIP(MAXPOOL_VEC, 0);
        }
        return;
    }
    int runs = (ow + MP_VEC - 1) / MP_VEC;
    for (int v = 0; v < runs; v++) {
        int ox0 = v * MP_VEC, start = max(min(ox0, ow - MP_VEC), 0);
        int lane0 = ox0 - start, lanes = min(ow - start, MP_VEC); /* lanes [lane0, lanes) are new */
        /* Any other window: lane by lane, the elements outside the input masked. Vector min/max/clamp take
         * vector bounds here: Oclgrind 21.10 runs the (vector, scalar) forms wrongly. */
        mp_intv x0 = min(start + MP_LANES, (mp_intv)(ow - 1)) * stride - pad; /* window starts, unclipped */
        mp_intv first_x = max(x0, (mp_intv)0);
        for (int oy = 0; oy < oh; oy++) {
            int y0 = oy * stride - pad;
            int y1 = min(y0 + size, h);
            y0 = max(y0, 0);
            mp_intv best_at = y0 * w + first_x;
            mp_floatv best = MP_GATHER(p, best_at);
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
            float b[MP_VEC];
            int a[MP_VEC];
            mp_storev(best, 0, b);
            mp_storev(best_at, 0, a);
            for (int k = lane0; k < lanes; k++) {
                po[oy * ow + start + k] = b[k];
                pa[oy * ow + start + k] = a[k];
            }
        }
    }
}

/* MP_ZIP(e, o, f): f(0, (e.s0, o.s0, e.s1, o.s1, ...)), f(1, ...): the interleave of the even and the odd
 * columns, handed to f in two vectors of VEC. Built as a blend of each vector with its lanes doubled: a
 * shuffle of two vectors would do it in one step, but Oclgrind 21.10 then reports the result uninitialized. */
#if MP_VEC == 4
#define MP_DOUBLE_LO(v) ((v).s0011)
#define MP_DOUBLE_HI(v) ((v).s2233)
#define MP_ODD_LANES ((int4)(0, -1, 0, -1))
#else
#define MP_DOUBLE_LO(v) ((v).s00112233)
#define MP_DOUBLE_HI(v) ((v).s44556677)
#define MP_ODD_LANES ((int8)(0, -1, 0, -1, 0, -1, 0, -1))
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
#if MP_VEC == 4
#define MP_SHR1(v) ((v).s0012)
#define MP_SHL1(v) ((v).s1233)
#define MP_FIRST_NONE ((int4)(-1, 0, 0, 0))
#define MP_LAST_NONE ((int4)(0, 0, 0, -1))
#else
#define MP_SHR1(v) ((v).s00123456)
#define MP_SHL1(v) ((v).s12345677)
#define MP_FIRST_NONE ((int8)(-1, 0, 0, 0, 0, 0, 0, 0))
#define MP_LAST_NONE ((int8)(0, 0, 0, 0, 0, 0, 0, -1))
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
        if ((e) >= 0 && (e) + MP_VEC <= ow) { \
            hit_ = (self) == mp_loadv(0, am + (r) + (e)); \
            d_ = mp_loadv(0, g + (r) + (e)); \
        } else if ((e) == -1 && MP_VEC <= ow) { \
            hit_ = (self) == (MP_SHR1(mp_loadv(0, am + (r))) | MP_FIRST_NONE); \
            d_ = MP_SHR1(mp_loadv(0, g + (r))); \
        } else if ((e) >= 1 && (e) + MP_VEC == ow + 1) { \
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
    if (scatter || w < 2 * MP_VEC) {
        /* One work-item scatters the plane, as the reference does: zero it, then add each window's dout at its
         * argmax in row-major window order, which is the order in which each element's sum is gathered, so the
         * values are the same. The launcher asks for it on CPUs, where a plane's few hundred scalar
         * read-modify-writes in cache cost a third of the gather's vector work (pool1, pool2 on PoCL); a GPU
         * keeps the gather's thread per run. Rows narrower than a run (pool5's 13) always scatter: the gather
         * would visit every window of every half-run lane by lane. */
        if (get_global_id(0) != 0)
            return;
        int hw = h * w, full = hw / MP_VEC * MP_VEC;
        for (int i = 0; i < full; i += MP_VEC)
            mp_storev((mp_floatv)0.0f, 0, dx + i);
        for (int i = full; i < hw; i++)
            dx[i] = 0.0f;
        for (int o = 0; o < oh * ow; o++)
            dx[am[o]] += g[o];
        return;
    }
    int runs = (w + 2 * MP_VEC - 1) / (2 * MP_VEC);
    for (int v = get_global_id(0); v < runs; v += get_global_size(0)) {
        int x0 = v * 2 * MP_VEC;
        /* stride 2: the run moved left to end at the row's end, as in the forward */
        int start = max(min(x0, w - 2 * MP_VEC), 0), lane0 = x0 - start;
        /* column x = start + 2 j (+ 1) lies in window floor((x + pad) / 2) - t when 2 t + (x + pad) % 2 < size */
        int be = (start + pad) >> 1, bo = (start + pad + 1) >> 1, re = (start + pad) & 1;
        int taps_e = (size + 1 - re) / 2, taps_o = (size + re) / 2;
        /* a row narrower than a run takes the general path: most of its windows would load lane by lane */
        int paired = stride == 2 && start + 2 * MP_VEC <= w;
        /* general: the windows of each half-run's columns, computed once per run */
        int lx = x0 + pad - size + 1, xl = min(x0 + 2 * MP_VEC, w) - 1;
        int ox0 = lx <= 0 ? 0 : (lx + stride - 1) / stride;
        int oxm = min((min(x0 + MP_VEC, w) - 1 + pad) / stride, ow - 1); /* last of the first half */
        int lm = x0 + MP_VEC + pad - size + 1;
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
                    float b[2 * MP_VEC];
                    float *zip_to = b;
                    MP_ZIP(acc_e, acc_o, MP_STORE_ZIP);
                    for (int k = lane0; k < 2 * MP_VEC; k++)
                        o[k] = b[k];
                }
            } else {
                for (int part = 0; part < 2; part++) {
                    int xh = x0 + part * MP_VEC, real = min(w - xh, MP_VEC);
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
                    if (real == MP_VEC) {
                        mp_storev(acc, 0, o);
                    } else {
                        float b[MP_VEC];
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
