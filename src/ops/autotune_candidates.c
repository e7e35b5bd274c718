/* autotune_candidates.c: the values the tuning search (autotune.c) tries for each group, one coordinate a phase
 * (tune_candidates in autotune.h). Each list holds values the kernels and their launchers accept; the search
 * still verifies every one against the host reference before it times it. */
#include <stddef.h>
#include <string.h>

#include "ops/autotune.h"

/* The own SGEMM's candidates, one coordinate a phase: the vector width, then the outer-product kernels' rows
 * (the weight gradient's sgemm_tn_small), then sgemm_nn's rows (the input gradient), then the dot-product tile
 * (the forward). Each is mostly one kernel's, so one coordinate at a time finds each kernel's best. With 16-wide
 * vectors a row of the tile holds 2 of AVX-512's 32 registers; with 8 (AVX2: 16 registers) 8 rows would spill. */
static int sgemm_candidates(int phase, const struct acl_tune *best, struct acl_tune *out)
{
    static const int rows[] = {4, 5, 6, 8};
    static const int dot[][2] = {{2, 5}, {3, 4}, {4, 4}, {2, 8}, {4, 6}, {1, 8}};
    int n = 0;
    if (phase == 0) {
        out[n] = *best;
        out[n++].sg_vw = best->sg_vw == 16 ? 8 : 16;
    } else if (phase == 1 || phase == 2) {
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
            int cur = phase == 1 ? best->sg_tm : best->sg_nn_tm;
            if (rows[i] == cur || (rows[i] == 8 && best->sg_vw == 8))
                continue;
            out[n] = *best;
            if (phase == 1)
                out[n++].sg_tm = rows[i];
            else
                out[n++].sg_nn_tm = rows[i];
        }
    } else if (phase == 3) {
        for (size_t i = 0; i < sizeof dot / sizeof *dot; i++) {
            if (dot[i][0] == best->sg_dm && dot[i][1] == best->sg_dn)
                continue;
            out[n] = *best;
            out[n].sg_dm = dot[i][0];
            out[n++].sg_dn = dot[i][1];
        }
    }
    return n;
}

/* The values vals of one int field of the table (at byte offset off), each but the one best holds. */
static int vary(const struct acl_tune *best, size_t off, const int *vals, size_t nvals, struct acl_tune *out)
{
    int n = 0, cur;
    memcpy(&cur, (const char *)best + off, sizeof cur);
    for (size_t i = 0; i < nvals; i++)
        if (vals[i] != cur) {
            out[n] = *best;
            memcpy((char *)&out[n++] + off, &vals[i], sizeof vals[i]);
        }
    return n;
}

#define VARY(field, ...) \
    vary(best, offsetof(struct acl_tune, field), (const int[]){__VA_ARGS__}, \
         sizeof((const int[]){__VA_ARGS__}) / sizeof(int), out)

/* The conv group: first the program's defines with the launch size in hand (CONV_PX, which the layers with many
 * input channels use, then CONV_PX_FEW, conv1's), then the launch size with the best defines. */
int tune_candidates(enum tune_kind k, int phase, const struct acl_tune *best, struct acl_tune *out)
{
    int n = 0;
    if (k == TUNE_SGEMM)
        return sgemm_candidates(phase, best, out);
    if (k == TUNE_CONV && phase == 0) {
        n = VARY(conv_px, 4, 8, 12, 3);
    } else if (k == TUNE_CONV && phase == 1) {
        n = VARY(conv_px_few, 6, 3, 5, 8);
    } else if (k == TUNE_CONV && phase == 2) {
        n = VARY(conv_local, 4, 16, 32, 1);
    } else if (k == TUNE_LRN && phase == 0) {
        n = VARY(lrn_vec, 8, 4, 16);
    } else if (k == TUNE_FC && phase == 0) {
        /* Sets that meet CLBlast's constraints (acl_xgemm_valid); the first reached 23-27 GFLOP/s at 1024^3 on
         * PoCL where the defaults reach 4-7 (../shared/peer/MEASURED.md). Each costs a CLBlast compile. */
        static const size_t sets[][ACL_XGEMM_NPARAMS] = {
            /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
            {0, 1, 16, 2, 4, 4, 64, 4, 4, 64, 0, 0, 0, 0, 16, 16},
            {0, 1, 16, 2, 8, 8, 128, 4, 4, 64, 0, 0, 0, 0, 16, 16},
            {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8},
            {0, 1, 16, 2, 4, 4, 32, 4, 4, 32, 0, 0, 0, 0, 8, 8},
        };
        for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
            out[n] = *best;
            out[n].xgemm_set = 1;
            memcpy(out[n++].xgemm, sets[i], sizeof sets[i]);
        }
    } else if (k == TUNE_POOL && phase == 0) {
        n = VARY(maxpool_vec, 8, 4, 16);
    }
    return n;
}
