/* gemm.c: CLBlast SGEMM with status names, the host reference, and selftest cases. */
#include "ops/gemm.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>

#include "ops/sgemm.h"
#include "runtime/error.h"

/* ---- reference ------------------------------------------------------------------------------- */

void gemm_ref(const struct acl_gemm *g, const double *a, const double *b, double *c)
{
    for (size_t i = 0; i < g->m; i++)
        for (size_t j = 0; j < g->n; j++) {
            double s = 0;
            for (size_t p = 0; p < g->k; p++) {
                double av = g->trans_a ? a[p * g->lda + i] : a[i * g->lda + p];
                double bv = g->trans_b ? b[j * g->ldb + p] : b[p * g->ldb + j];
                s += av * bv;
            }
            double *out = &c[i * g->ldc + j];
            *out = g->alpha * s + (g->beta == 0 ? 0 : g->beta * *out);
        }
}

/* ---- CLBlast ---------------------------------------------------------------------------------- */

const char *acl_clblast_status_name(int code)
{
    switch (code) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    }
    return code < 0 && code > -100 ? acl_cl_error_name(code) : "CLBlast status unknown";
}

static acl_status blast_fail(CLBlastStatusCode s, const char *what, const struct acl_gemm *g)
{
    acl_status st = s == CLBlastTempBufferAllocFailure || s == CLBlastOpenCLOutOfHostMemory ? ACL_ERR_MEMORY
                                                                                             : ACL_ERR_BLAS;
    return acl_fail(st, "%s (m=%zu n=%zu k=%zu) failed with %s (%d)", what, g->m, g->n, g->k,
                    acl_clblast_status_name(s), (int)s);
}

#define TRANS(t) ((t) ? CLBlastTransposeYes : CLBlastTransposeNo)

acl_status acl_gemm(struct acl_ctx *c, const struct acl_gemm *g, struct acl_view a, struct acl_view b,
                    struct acl_view cm, cl_event *ev)
{
    if (g->m == 0 || g->n == 0)
        return ACL_OK;
    if (acl_sgemm_preferred(c) && acl_sgemm_fits(g, a, b, cm)) /* CPUs: CLBlast's defaults are slow there */
        return acl_sgemm(c, g, a, b, cm, ev);
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, TRANS(g->trans_a), TRANS(g->trans_b), g->m, g->n,
                                       g->k, g->alpha, a.buf, a.off, g->lda, b.buf, b.off, g->ldb, g->beta,
                                       cm.buf, cm.off, g->ldc, &c->queue, ev);
    return s == CLBlastSuccess ? ACL_OK : blast_fail(s, "CLBlastSgemm", g);
}

acl_status acl_gemm_batched(struct acl_ctx *c, const struct acl_gemm *g, struct acl_view a, size_t stride_a,
                            struct acl_view b, size_t stride_b, struct acl_view cm, size_t stride_c,
                            size_t batch, cl_event *ev)
{
    if (g->m == 0 || g->n == 0 || batch == 0)
        return ACL_OK;
    if (batch == 1)
        return acl_gemm(c, g, a, b, cm, ev);
    CLBlastStatusCode s = CLBlastSgemmStridedBatched(
        CLBlastLayoutRowMajor, TRANS(g->trans_a), TRANS(g->trans_b), g->m, g->n, g->k, g->alpha, a.buf, a.off,
        g->lda, stride_a, b.buf, b.off, g->ldb, stride_b, g->beta, cm.buf, cm.off, g->ldc, stride_c, batch,
        &c->queue, ev);
    return s == CLBlastSuccess ? ACL_OK : blast_fail(s, "CLBlastSgemmStridedBatched", g);
}

/* ---- selftest -------------------------------------------------------------------------------- */

struct gemm_case {
    int ta, tb;
    size_t m, n, k, batch, stride_a_zero;
    float beta;
};

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct gemm_case *k, uint64_t seed)
{
    acl_status st = ACL_OK;
    struct acl_gemm g = {k->ta, k->tb, k->m, k->n, k->k, k->ta ? k->m : k->k, k->tb ? k->k : k->n, k->n,
                         1.0f, k->beta};
    size_t sa = k->stride_a_zero ? 0 : k->m * k->k, sb = k->k * k->n, sc = k->m * k->n;
    size_t na = k->stride_a_zero ? sa + k->m * k->k : sa * k->batch, nb = sb * k->batch, nc = sc * k->batch;
    cl_mem m[3] = {NULL};
    float *a = malloc((na + nb + nc) * sizeof *a), *b = a ? a + na : NULL, *cc = a ? b + nb : NULL;
    double *ad = malloc((na + nb + nc) * sizeof *ad), *bd = ad ? ad + na : NULL, *cd = ad ? bd + nb : NULL;
    if (!a || !ad) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    acl_rand_fill(&seed, a, na + nb + nc, -1, 1);
    acl_to_double(a, ad, na + nb + nc);
    for (size_t i = 0; i < k->batch; i++)
        gemm_ref(&g, ad + i * sa, bd + i * sb, cd + i * sc);
    ACL_TRY(acl_check_input(c, a, na, &m[0]));
    ACL_TRY(acl_check_input(c, b, nb, &m[1]));
    ACL_TRY(k->beta == 0 ? acl_check_output(c, nc, &m[2]) : acl_check_output_init(c, cc, nc, &m[2]));
    ACL_TRY(acl_gemm_batched(c, &g, (struct acl_view){m[0], 0}, sa, (struct acl_view){m[1], 0}, sb,
                             (struct acl_view){m[2], 0}, sc, k->batch, NULL));
    acl_check_row row = {.op = "gemm"};
    snprintf(row.shape, sizeof row.shape, "%c%c m%zu n%zu k%zu b%zu%s beta%g", k->ta ? 'T' : 'N', k->tb ? 'T' : 'N',
             k->m, k->n, k->k, k->batch, k->stride_a_zero ? " sharedA" : "", (double)k->beta);
    ACL_TRY(acl_check_compare(c, m[2], cd, nc, 1e-5, &row));
    acl_selftest_report(t, &row);
cleanup:
    acl_release_mems(m, 3);
    free(a);
    free(ad);
    return st;
}

acl_status gemm_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    static const struct gemm_case cases[] = {
        {0, 0, 1, 1, 1, 1, 0, 0},      {0, 0, 17, 33, 65, 1, 0, 0},  {1, 0, 19, 7, 130, 1, 0, 1},
        {0, 1, 5, 67, 29, 1, 0, 0.5f}, {1, 1, 31, 3, 9, 1, 0, 0},    {0, 0, 6, 45, 27, 3, 1, 0},
        {0, 0, 96, 3025, 363, 1, 0, 0}, /* conv1 at batch 1 as im2col GEMM */
        {0, 1, 1, 4096, 9216, 1, 0, 0}, /* fc6 at batch 1 */
    };
    int count = t->tiny ? 6 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, &cases[i], 2000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
