/* sgemm.c: launches the own SGEMM of cl/sgemm.cl, and its selftest cases against gemm_ref. */
#include "ops/sgemm.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

/* The tiles come from the device's tuning table (runtime/tune.h), which also builds cl/sgemm.cl with them:
 * SG_TM rows x 2 * SG_VW columns per work-item of the outer-product kernels (SG_NN_TM rows in sgemm_nn), and
 * SG_DM x SG_DN dot products in sgemm_nt. The defaults are sized for AVX2's 16 registers of 8 floats: 6 x 16 is
 * 12 accumulators, 2 rows of B and a broadcast; 2 x 5 dot products are 10 accumulators and 6 loads. Measured on
 * a 2-core EPYC through PoCL in processor time (the machine is shared): dot tiles 4x3, 3x4, 2x5 and 5x2 were
 * within 25% of each other, 2x5 ahead. `alexnet-cl tune` searches them per device. KB is SG_KB, the k-block
 * of the outer-product kernels; MAX_TN the widest tile (2 x 16), the slack a view must leave before INT_MAX. */
enum { KB = 128, MAX_TN = 32 };

/* sgemm_tn_small: the longest k it takes, and the row tiles per work-item. At fc6's weight gradient (m4096 n9216
 * k32, beta 1), against sgemm_tn's 48 GFLOP per processor-second: 59 for one row tile (no barrier, op(A)'s row
 * read from one pointer), 77 for 8, 87 for 16 and 32, 71 for 64 (each work-item's strip of C spans more pages);
 * 80 and 85 against 50 and 47 at fc7 and fc8, 101 against 61 at k128. Since its group takes the row tiles in
 * turn (a barrier each, cl/sgemm.cl), groups of 32 or 64 column tiles and 8 or 32 row tiles a work-item measured
 * within the noise of 16 and 16. */
enum { SMALL_K = 128, RT = 16 };

/* sgemm_nn_rt (the backward data product, m = batch): the most row tiles per work-item, cl/sgemm.cl's SG_NN_RT.
 * At batch 32 (7 tiles of 5 rows) one work-item runs all of them over each k-block's strip of B; at 128 (26 tiles)
 * four work-items of 7, in one group. */
enum { NN_RT = 8 };

/* ---- choice -------------------------------------------------------------------------------- */

/* The last float a stored matrix of rows x cols with leading dimension ld reaches, from the view's offset, plus
 * slack for the row and column a tile runs past the matrix (clamped on loads, but formed as indices). */
static int view_fits(struct acl_view v, size_t rows, size_t cols, size_t ld)
{
    double end = (double)v.off + ((double)rows + MAX_TN) * (double)ld + (double)cols + MAX_TN;
    return end < (double)INT_MAX;
}

int acl_sgemm_fits(const struct acl_gemm *g, struct acl_view a, struct acl_view b, struct acl_view cm)
{
    if (g->m >= INT_MAX / 2 || g->n >= INT_MAX / 2 || g->k >= INT_MAX / 2)
        return 0;
    return view_fits(a, g->trans_a ? g->k : g->m, g->trans_a ? g->m : g->k, g->lda) &&
           view_fits(b, g->trans_b ? g->n : g->k, g->trans_b ? g->k : g->n, g->ldb) &&
           view_fits(cm, g->m, g->n, g->ldc);
}

int acl_sgemm_preferred(const struct acl_ctx *c)
{
    const char *e = getenv("ACL_GEMM");
    if (e && !strcmp(e, "own"))
        return 1;
    if (e && !strcmp(e, "clblast"))
        return 0;
    return strcmp(c->dev.info.type, "CPU") == 0;
}

/* ---- launcher -------------------------------------------------------------------------------- */

acl_status acl_sgemm(struct acl_ctx *c, const struct acl_gemm *g, struct acl_view a, struct acl_view b,
                     struct acl_view cm, cl_event *ev)
{
    if (g->m == 0 || g->n == 0)
        return ACL_OK;
    if (!acl_sgemm_fits(g, a, b, cm))
        return acl_fail(ACL_ERR_ARGUMENT, "own sgemm (m=%zu n=%zu k=%zu): the matrices reach past INT_MAX "
                        "floats, which its kernels index in int; use ACL_GEMM=clblast", g->m, g->n, g->k);
    /* the tile: tm x tn (nn_tm x tn for NN) outer products, dm x dn dot products */
    const size_t tm = (size_t)c->tune.sg_tm, nn_tm = (size_t)c->tune.sg_nn_tm, tn = 2 * (size_t)c->tune.sg_vw;
    const size_t dm = (size_t)c->tune.sg_dm, dn = (size_t)c->tune.sg_dn;
    /* NT has both operands contiguous along k: dot products. The rest read B's rows: outer products. */
    const int dot = !g->trans_a && g->trans_b;
    /* TN with a short k (the weight gradient, k = batch) and at least one whole tile: no k-blocks to share, each
     * work-item walks RT row tiles of one column panel (cl/sgemm.cl, sgemm_tn_small). */
    const int tn_small = g->trans_a && !g->trans_b && g->k <= SMALL_K && g->m >= tm && g->n >= tn;
    const int nn_rt = !g->trans_a && !g->trans_b && g->m >= nn_tm && g->n >= tn;
    const char *name = dot        ? "sgemm_nt"
                       : tn_small ? "sgemm_tn_small"
                       : nn_rt       ? "sgemm_nn_rt"
                       : !g->trans_a ? "sgemm_nn"
                       : g->trans_b  ? "sgemm_tt"
                                     : "sgemm_tn";
    const int nn = !g->trans_a && !g->trans_b;
    const size_t rows = dot ? dm : tn_small ? tm * RT : nn ? nn_tm : tm;
    size_t row_tiles = (g->m + rows - 1) / rows;
    size_t col_tiles = (g->n + (dot ? dn : tn) - 1) / (dot ? dn : tn);
    size_t global[2], local[2];
    if (dot) {
        /* A group holds up to 8 row tiles of one column panel: they run back to back and share B's rows. */
        global[0] = row_tiles, global[1] = col_tiles;
        local[0] = row_tiles < 8 ? row_tiles : 8, local[1] = 1;
    } else {
        /* A group is up to 16 column tiles wide, the k-blocks of cl/sgemm.cl take turns among them. With more
         * than one k-block it is also several row tiles high, so that a block of B is read from memory once for
         * all of them (fc6's backward data: 25 GFLOP per processor-second against 11 for one row of tiles):
         * all of them up to 32 (at batch 128, 26 row tiles: 89 against 62 for 8 at fc6's m128 n9216 k4096, 75
         * against 53 at fc8's m128 n4096 k1000), else 8 (1024^3: 91 against 81 for 32). With one k-block (the
         * weight gradient, k = batch) there is nothing to share and one row of tiles walks C's rows in order
         * (19 against 8). */
        global[0] = col_tiles, global[1] = row_tiles;
        /* sgemm_nn: 8 column tiles wide measured 2-9% ahead of 16 in one process at m32 n9216 k4096, m128 n9216
         * k4096 and m128 n4096 k1000, 8% at 1024^3 (within the noise across processes); and it gives fc7's and
         * fc8's 256 column tiles twice the groups. */
        const size_t wide = nn ? 8 : 16;
        local[0] = col_tiles < wide ? col_tiles : wide;
        local[1] = g->k <= KB ? 1 : row_tiles <= 32 ? row_tiles : 8;
    }
#define SGEMM_ARGS                                                                                                \
    ARG_VIEW(a), ARG_INT(g->lda), ARG_VIEW(b), ARG_INT(g->ldb), ARG_VIEW(cm), ARG_INT(g->ldc), ARG_INT(g->m),     \
        ARG_INT(g->n), ARG_INT(g->k), ARG_FLOAT(g->alpha), ARG_FLOAT(g->beta)
    if (nn_rt) {
        /* All of a work-item's row tiles in one k-block share B's strip; the group's items in y share its block. */
        global[1] = (row_tiles + NN_RT - 1) / NN_RT;
        const size_t rt = (row_tiles + global[1] - 1) / global[1];
        local[1] = global[1] <= 8 ? global[1] : 1;
        return acl_launch(c, name, 2, global, local, ACL_ARGS(SGEMM_ARGS, ARG_INT((int)rt)), ev);
    }
    if (tn_small)
        return acl_launch(c, name, 2, global, local, ACL_ARGS(SGEMM_ARGS, ARG_INT(RT)), ev);
    return acl_launch(c, name, 2, global, local, ACL_ARGS(SGEMM_ARGS), ev);
#undef SGEMM_ARGS
}

/* ---- selftest -------------------------------------------------------------------------------- */

struct sgemm_case {
    int ta, tb;
    size_t m, n, k;
    size_t pad;        /* extra floats per row in every leading dimension, and before every matrix */
    float alpha, beta;
};

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct sgemm_case *k, uint64_t seed)
{
    acl_status st = ACL_OK;
    const size_t p = k->pad;
    const size_t ar = k->ta ? k->k : k->m, ac = k->ta ? k->m : k->k;
    const size_t br = k->tb ? k->n : k->k, bc = k->tb ? k->k : k->n;
    struct acl_gemm g = {k->ta, k->tb, k->m, k->n, k->k, ac + p, bc + p, k->n + p, k->alpha, k->beta};
    const size_t na = p + ar * g.lda, nb = p + br * g.ldb, nc = p + k->m * g.ldc;
    cl_mem m[3] = {NULL};
    float *a = malloc((na + nb + nc) * sizeof *a), *b = a ? a + na : NULL, *cc = a ? b + nb : NULL;
    double *ad = malloc((na + nb + nc) * sizeof *ad), *bd = ad ? ad + na : NULL, *cd = ad ? bd + nb : NULL;
    if (!a || !ad) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    acl_rand_fill(&seed, a, na + nb + nc, -1, 1);
    /* With beta = 0, C's body is NaN: an element the kernel misses, or reads, fails. The gaps between rows and
     * the floats before C keep random values that must survive; the check adds a sentinel behind C. */
    if (k->beta == 0)
        for (size_t i = 0; i < k->m; i++)
            for (size_t j = 0; j < k->n; j++)
                cc[p + i * g.ldc + j] = NAN;
    acl_to_double(a, ad, na + nb + nc);
    gemm_ref(&g, ad + p, bd + p, cd + p);
    ACL_TRY(acl_check_input(c, a, na, &m[0]));
    ACL_TRY(acl_check_input(c, b, nb, &m[1]));
    ACL_TRY(acl_check_output_init(c, cc, nc, &m[2]));
    ACL_TRY(acl_sgemm(c, &g, (struct acl_view){m[0], p}, (struct acl_view){m[1], p}, (struct acl_view){m[2], p},
                      NULL));
    acl_check_row row = {.op = "sgemm"};
    snprintf(row.shape, sizeof row.shape, "%c%c m%zu n%zu k%zu%s alpha%g beta%g", k->ta ? 'T' : 'N',
             k->tb ? 'T' : 'N', k->m, k->n, k->k, p ? " padded" : "", (double)k->alpha, (double)k->beta);
    /* Float sums of k random-signed terms drift like sqrt(k) roundings; the bound grows with k. */
    ACL_TRY(acl_check_compare(c, m[2], cd, nc, 4 * FLT_EPSILON * (4 + sqrt((double)k->k)), &row));
    acl_selftest_report(t, &row);
cleanup:
    acl_release_mems(m, 3);
    free(a);
    free(ad);
    return st;
}

acl_status sgemm_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    static const struct sgemm_case cases[] = {
        /* every kernel, sizes off every tile (6 x 16, 5 x 16, 2 x 5, k by 8), padded rows, alpha and beta */
        {0, 0, 1, 1, 1, 0, 1, 0},        {0, 0, 13, 37, 19, 0, 1, 0},     {0, 0, 9, 70, 33, 3, 0.5f, 0.25f},
        {1, 0, 11, 45, 7, 2, 1, 1},      {0, 1, 7, 6, 37, 1, 1, 0},       {0, 1, 5, 9, 16, 0, -2, 0.5f},
        {1, 1, 10, 33, 5, 4, 1, 0.5f},   {0, 1, 3, 2, 50, 5, 1.5f, 1},
        {0, 0, 7, 20, 150, 1, 1, 0.5f}, /* two k-blocks, and barriers, in the outer-product kernels */
        /* sgemm_nn_rt: two work-items of 5 row tiles in y, the last tile overlapping the one before, 3 k-blocks,
         * padded, beta 1; 9 row tiles, the last work-item's last tile past m (beta 0: NaN C); below a tile in m
         * or in n, sgemm_nn */
        {0, 0, 46, 33, 300, 2, 1, 1},    {0, 0, 41, 50, 129, 0, 1, 0},    {0, 0, 4, 40, 150, 1, 1, 0.5f},
        {0, 0, 20, 15, 140, 0, 1, 0},
        /* sgemm_tn_small: one whole tile; a last row tile and column tile that overlap the one before (m 7,
         * n 17); beta 0 and 0.5, padded; k at its limit; and just past it, or too narrow or short, sgemm_tn */
        {1, 0, 6, 16, 3, 0, 1, 1},       {1, 0, 7, 17, 20, 1, 0.5f, 0.5f}, {1, 0, 23, 50, 128, 0, 1, 0},
        {1, 0, 23, 50, 129, 2, 1, 1},    {1, 0, 5, 40, 9, 0, 1, 1},        {1, 0, 40, 15, 9, 0, 1, 0},
        /* sgemm_tn_small with more column tiles than a group (17 or 34): the launch rounds up, and the work-items
         * past n still reach every barrier; row tiles past m in the group's last rows; padded, beta 0.5 */
        {1, 0, 50, 539, 20, 1, 1, 0.5f},
        /* the tiny cases end here */
        {0, 0, 67, 129, 131, 1, 1, 0},   {1, 0, 130, 97, 32, 0, 1, 1},    {0, 1, 33, 67, 300, 2, 1, 0},
        {0, 1, 32, 1000, 4096, 0, 1, 0}, /* fc8 forward at batch 32 */
        {0, 0, 32, 4096, 1000, 0, 1, 0}, /* fc8 backward data */
        {1, 0, 1000, 4096, 32, 0, 1, 1}, /* fc8 backward weights, accumulating */
        {1, 0, 200, 1000, 128, 3, 1, 0}, /* more row tiles than one work-item's, k = batch 128, padded */
    };
    int count = t->tiny ? 20 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, &cases[i], 4000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
