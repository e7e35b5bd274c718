/* autotune.c: the tuning search (autotune.h). Coordinate descent over small candidate lists
 * (autotune_candidates.c), one program's defines at a time; a candidate counts only after its output matched
 * the host reference.
 *
 * Verification runs each layer's own shape at a batch of 1 (a fully connected layer, whose "image" is one
 * pixel, at up to 5 images, so the pixel tiles cross images), on random inputs whose double reference is
 * computed once, into a freshly poisoned output with a sentinel behind it (ops/check.h): an element a
 * candidate forgot, a write past the end or a wrong value all reject it. LRN and max pooling are checked
 * backward too (reading the device's forward outputs, as training does): one define builds both. A fully connected layer through
 * CLBlast is verified on its own shape: CLBlast runs small products with its direct kernel, so a reduced
 * shape would not run the Xgemm parameters being tried. One through the own SGEMM is verified forward and
 * backward (all three products) at the model's batch, which picks the kernels, with IN and OUT cut down.
 * Timing runs the model's batch,
 * bracketed by two markers on the profiling queue, median of TUNE_REPS runs (which tests may replace with
 * times of their own: tune_set_fake_time). */
#include "ops/autotune.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/error.h"

#define TUNE_REPS 3
/* The most coordinates a group's search walks, one a phase (tune_candidates has none for the phases a group
 * lacks). */
#define TUNE_PHASES 4

struct tune_ver {
    struct conv_shape conv;
    struct fc_shape fc;
    struct lrn_shape lrn;
    struct pool_shape pool;
    size_t nout, nin, ws_floats;
    cl_mem in, w, b, ws, dy;
    double *ref;    /* the expected output */
    int *ref_arg;   /* maxpool: the expected argmax */
    double *ref_dx; /* lrn, maxpool: the expected input gradient from dy (their backward is built with the
                       same define); own sgemm: the fc layer's input gradient */
    double *ref_dw, *ref_db; /* own sgemm: the accumulated weight and bias gradients */
    float *dw0, *db0;        /* own sgemm: the gradients they accumulate onto */
};

/* The own SGEMM's verification shape: IN and OUT at most these (odd: off every tile). */
enum { SG_VER_IN = 777, SG_VER_OUT = 333 };

struct tune_bufs {
    cl_mem act[5], w, ws;
    size_t ws_floats;
};

/* Tests only (tune_set_fake_time): what replaces each measured time, and the timings since it was set. */
static tune_fake_time_fn fake_time;
static int fake_calls;

void tune_set_fake_time(tune_fake_time_fn fn)
{
    fake_time = fn;
    fake_calls = 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static struct acl_view V(cl_mem m) { return (struct acl_view){m, 0}; }

static size_t conv_in(const struct conv_shape *s) { return (size_t)s->n * s->c * s->h * s->w; }
static size_t conv_out(const struct conv_shape *s) { return (size_t)s->n * s->k * conv_out_h(s) * conv_out_w(s); }
static size_t conv_wt(const struct conv_shape *s) { return (size_t)s->k * (s->c / s->groups) * s->kh * s->kw; }
static size_t pool_in(const struct pool_shape *s) { return (size_t)s->n * s->c * s->h * s->w; }
static size_t pool_out(const struct pool_shape *s)
{
    return (size_t)s->n * s->c * pool_out_size(s->h, s->size, s->stride, s->pad, s->ceil_mode) *
           pool_out_size(s->w, s->size, s->stride, s->pad, s->ceil_mode);
}
static size_t lrn_len(const struct lrn_shape *s) { return (size_t)s->n * s->c * s->h * s->w; }

void tune_xgemm_str(const struct acl_tune *t, char *buf, size_t size)
{
    if (!t->xgemm_set) {
        snprintf(buf, size, "Xgemm default");
        return;
    }
    const size_t *v = t->xgemm;
    snprintf(buf, size, "Xgemm MWG=%zu NWG=%zu KWG=%zu MDIMC=%zu NDIMC=%zu VWM=%zu VWN=%zu", v[XG_MWG], v[XG_NWG],
             v[XG_KWG], v[XG_MDIMC], v[XG_NDIMC], v[XG_VWM], v[XG_VWN]);
}

static void shape_str(const struct tune_case *tc, char *buf, size_t size)
{
    if (tc->kind == TUNE_CONV)
        conv_shape_str(&tc->conv, buf, size);
    else if (tc->kind == TUNE_LRN)
        snprintf(buf, size, "N%d C%d %dx%d n%d", tc->lrn.n, tc->lrn.c, tc->lrn.h, tc->lrn.w, tc->lrn.size);
    else if (tc->kind == TUNE_FC || tc->kind == TUNE_SGEMM)
        snprintf(buf, size, "N%d IN%d OUT%d", tc->fc.n, tc->fc.in, tc->fc.out);
    else
        snprintf(buf, size, "N%d C%d %dx%d %d/%d p%d", tc->pool.n, tc->pool.c, tc->pool.h, tc->pool.w, tc->pool.size,
                 tc->pool.stride, tc->pool.pad);
}

/* ---- verification ------------------------------------------------------------------------------ */

static void ver_free(struct tune_ver *v)
{
    if (!v)
        return;
    cl_mem m[] = {v->in, v->w, v->b, v->ws, v->dy};
    acl_release_mems(m, 5);
    free(v->ref);
    free(v->ref_arg);
    free(v->ref_dx);
    free(v->ref_dw);
    free(v->ref_db);
    free(v->dw0);
    free(v->db0);
    free(v);
}

/* Random host data as floats on the device and as doubles for the reference. */
static acl_status upload_rand(struct acl_ctx *c, uint64_t *state, size_t n, float lo, float hi, cl_mem *dev,
                              double **host)
{
    acl_status st = ACL_OK;
    float *f = malloc((n ? n : 1) * sizeof *f);
    *host = malloc((n ? n : 1) * sizeof **host);
    if (!f || !*host) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory for the tuner's reference");
        goto cleanup;
    }
    acl_rand_fill(state, f, n, lo, hi);
    acl_to_double(f, *host, n);
    ACL_TRY(acl_check_input(c, f, n, dev));
cleanup:
    free(f);
    return st;
}

static acl_status ver_make(struct acl_ctx *c, struct tune_case *tc)
{
    acl_status st = ACL_OK;
    uint64_t state = 0x5eed7u;
    double *x = NULL, *w = NULL, *b = NULL, *dy = NULL;
    struct tune_ver *v = calloc(1, sizeof *v);
    if (!v)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    if (tc->kind == TUNE_CONV) {
        v->conv = tc->conv;
        v->conv.n = tc->conv.h * tc->conv.w == 1 ? (tc->conv.n < 5 ? tc->conv.n : 5) : 1;
        const struct conv_shape *s = &v->conv;
        v->nout = conv_out(s);
        ACL_TRY(upload_rand(c, &state, conv_in(s), -1.0f, 1.0f, &v->in, &x));
        ACL_TRY(upload_rand(c, &state, conv_wt(s), -1.0f, 1.0f, &v->w, &w));
        ACL_TRY(upload_rand(c, &state, (size_t)s->k, -1.0f, 1.0f, &v->b, &b));
        v->ws_floats = conv_workspace_floats_batch(s, CONV_WORKSPACE_CAP);
        ACL_TRY(acl_buffer(c, v->ws_floats * sizeof(float), &v->ws));
        v->ref = malloc(v->nout * sizeof *v->ref);
        if (!v->ref) {
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
            goto cleanup;
        }
        conv_forward_ref(v->ref, x, w, b, s);
    } else if (tc->kind == TUNE_FC) {
        v->fc = tc->fc;
        const struct fc_shape *s = &v->fc;
        v->nout = (size_t)s->n * s->out;
        ACL_TRY(upload_rand(c, &state, (size_t)s->n * s->in, -1.0f, 1.0f, &v->in, &x));
        ACL_TRY(upload_rand(c, &state, (size_t)s->out * s->in, -1.0f, 1.0f, &v->w, &w));
        ACL_TRY(upload_rand(c, &state, (size_t)s->out, -1.0f, 1.0f, &v->b, &b));
        v->ref = malloc(v->nout * sizeof *v->ref);
        if (!v->ref) {
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
            goto cleanup;
        }
        fc_forward_ref(v->ref, x, w, b, s);
    } else if (tc->kind == TUNE_SGEMM) {
        v->fc = tc->fc;
        v->fc.in = tc->fc.in < SG_VER_IN ? tc->fc.in : SG_VER_IN;
        v->fc.out = tc->fc.out < SG_VER_OUT ? tc->fc.out : SG_VER_OUT;
        const struct fc_shape *s = &v->fc;
        const size_t nx = (size_t)s->n * s->in, nw = (size_t)s->out * s->in;
        v->nout = (size_t)s->n * s->out;
        v->nin = nx;
        ACL_TRY(upload_rand(c, &state, nx, -1.0f, 1.0f, &v->in, &x));
        ACL_TRY(upload_rand(c, &state, nw, -1.0f, 1.0f, &v->w, &w));
        ACL_TRY(upload_rand(c, &state, (size_t)s->out, -1.0f, 1.0f, &v->b, &b));
        ACL_TRY(upload_rand(c, &state, v->nout, -1.0f, 1.0f, &v->dy, &dy));
        v->ref = malloc(v->nout * sizeof *v->ref);
        v->ref_dx = malloc(nx * sizeof *v->ref_dx);
        v->ref_dw = malloc(nw * sizeof *v->ref_dw);
        v->ref_db = malloc((size_t)s->out * sizeof *v->ref_db);
        v->dw0 = malloc(nw * sizeof *v->dw0);
        v->db0 = malloc((size_t)s->out * sizeof *v->db0);
        if (!v->ref || !v->ref_dx || !v->ref_dw || !v->ref_db || !v->dw0 || !v->db0) {
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
            goto cleanup;
        }
        /* The gradients accumulate, as in training: onto random values, which must survive. */
        acl_rand_fill(&state, v->dw0, nw, -1.0f, 1.0f);
        acl_rand_fill(&state, v->db0, (size_t)s->out, -1.0f, 1.0f);
        acl_to_double(v->dw0, v->ref_dw, nw);
        acl_to_double(v->db0, v->ref_db, (size_t)s->out);
        fc_forward_ref(v->ref, x, w, b, s);
        fc_backward_ref(v->ref_dx, v->ref_dw, v->ref_db, dy, x, w, s);
    } else if (tc->kind == TUNE_LRN) {
        v->lrn = tc->lrn;
        v->lrn.n = 1;
        v->nout = v->nin = lrn_len(&v->lrn);
        ACL_TRY(upload_rand(c, &state, v->nout, -2.0f, 2.0f, &v->in, &x));
        ACL_TRY(upload_rand(c, &state, v->nout, -1.0f, 1.0f, &v->dy, &dy));
        v->ref = malloc(v->nout * sizeof *v->ref);
        v->ref_dx = malloc(v->nin * sizeof *v->ref_dx);
        if (!v->ref || !v->ref_dx) {
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
            goto cleanup;
        }
        lrn_forward_ref(v->ref, NULL, x, &v->lrn);
        lrn_backward_ref(v->ref_dx, dy, x, &v->lrn);
    } else {
        v->pool = tc->pool;
        v->pool.n = 1;
        v->nout = pool_out(&v->pool);
        v->nin = pool_in(&v->pool);
        ACL_TRY(upload_rand(c, &state, v->nin, -1.0f, 1.0f, &v->in, &x));
        ACL_TRY(upload_rand(c, &state, v->nout, -1.0f, 1.0f, &v->dy, &dy));
        v->ref = malloc(v->nout * sizeof *v->ref);
        v->ref_arg = malloc(v->nout * sizeof *v->ref_arg);
        v->ref_dx = malloc(v->nin * sizeof *v->ref_dx);
        if (!v->ref || !v->ref_arg || !v->ref_dx) {
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
            goto cleanup;
        }
        maxpool_forward_ref(v->ref, v->ref_arg, x, &v->pool);
        maxpool_backward_ref(v->ref_dx, dy, v->ref_arg, &v->pool);
    }
    tc->ver = v;
    v = NULL;
cleanup:
    ver_free(v);
    free(x);
    free(w);
    free(b);
    free(dy);
    return st;
}

/* A fully connected layer through the own SGEMM: the forward (NT) into out, then the backward's input
 * gradient (NN), and its weight gradient (TN) and bias gradient accumulated onto dw0 and db0. Each float sum of
 * k terms is bounded as in the SGEMM's selftest. */
static acl_status ver_run_sgemm(struct acl_ctx *c, const struct tune_ver *v, cl_mem out, acl_check_row *row)
{
    acl_status st = ACL_OK;
    const struct fc_shape *s = &v->fc;
    const size_t nw = (size_t)s->out * s->in;
    cl_mem dx = NULL, dw = NULL, db = NULL;
    snprintf(row->op, sizeof row->op, "sgemm.nt (fc.forward)");
    ACL_TRY(fc_forward(c, V(out), V(v->in), V(v->w), V(v->b), s, NULL));
    ACL_TRY(acl_check_compare(c, out, v->ref, v->nout, 4 * FLT_EPSILON * (4 + sqrt((double)s->in)), row));
    if (!row->pass)
        goto cleanup;
    ACL_TRY(acl_check_output(c, v->nin, &dx));
    ACL_TRY(acl_check_output_init(c, v->dw0, nw, &dw));
    ACL_TRY(acl_check_output_init(c, v->db0, (size_t)s->out, &db));
    ACL_TRY(fc_backward(c, V(dx), V(dw), V(db), V(v->dy), V(v->in), V(v->w), s, NULL));
    snprintf(row->op, sizeof row->op, "sgemm.nn (fc.backward data)");
    ACL_TRY(acl_check_compare(c, dx, v->ref_dx, v->nin, 4 * FLT_EPSILON * (4 + sqrt((double)s->out)), row));
    if (!row->pass)
        goto cleanup;
    snprintf(row->op, sizeof row->op, "sgemm.tn (fc.backward weights)");
    ACL_TRY(acl_check_compare(c, dw, v->ref_dw, nw, 4 * FLT_EPSILON * (4 + sqrt((double)s->n)), row));
    if (!row->pass)
        goto cleanup;
    snprintf(row->op, sizeof row->op, "fc.backward bias");
    ACL_TRY(acl_check_compare(c, db, v->ref_db, (size_t)s->out, 4 * FLT_EPSILON * (4 + sqrt((double)s->n)), row));
cleanup:
    acl_release_mems((cl_mem[]){dx, dw, db}, 3);
    return st;
}

/* Runs the case's op as c is now built on the verification shape and compares. */
static acl_status ver_run(struct acl_ctx *c, const struct tune_case *tc, acl_check_row *row)
{
    acl_status st = ACL_OK;
    const struct tune_ver *v = tc->ver;
    cl_mem out = NULL, aux = NULL, dx = NULL;
    memset(row, 0, sizeof *row);
    ACL_TRY(acl_check_output(c, v->nout, &out));
    if (tc->kind == TUNE_CONV) {
        snprintf(row->op, sizeof row->op, "conv.forward.direct");
        conv_shape_str(&v->conv, row->shape, sizeof row->shape);
        ACL_TRY(conv_forward(c, V(out), V(v->in), V(v->w), V(v->b), V(v->ws), v->ws_floats, CONV_ALGO_DIRECT,
                             &v->conv, NULL));
        ACL_TRY(acl_check_compare(c, out, v->ref, v->nout, 1e-5, row));
    } else if (tc->kind == TUNE_FC) {
        snprintf(row->op, sizeof row->op, "fc.forward");
        ACL_TRY(fc_forward(c, V(out), V(v->in), V(v->w), V(v->b), &v->fc, NULL));
        ACL_TRY(acl_check_compare(c, out, v->ref, v->nout, 1e-5, row));
    } else if (tc->kind == TUNE_SGEMM) {
        ACL_TRY(ver_run_sgemm(c, v, out, row));
    } else if (tc->kind == TUNE_LRN) {
        snprintf(row->op, sizeof row->op, "lrn.forward");
        ACL_TRY(lrn_forward(c, V(out), V(v->in), &v->lrn, NULL));
        ACL_TRY(acl_check_compare(c, out, v->ref, v->nout, 2e-6, row));
        if (row->pass) {
            snprintf(row->op, sizeof row->op, "lrn.backward");
            ACL_TRY(acl_check_output(c, v->nin, &dx));
            ACL_TRY(lrn_backward(c, V(dx), V(v->dy), V(v->in), &v->lrn, NULL));
            ACL_TRY(acl_check_compare(c, dx, v->ref_dx, v->nin, 2e-6, row));
        }
    } else {
        snprintf(row->op, sizeof row->op, "maxpool.forward");
        ACL_TRY(acl_check_output(c, v->nout, &aux));
        ACL_TRY(maxpool_forward(c, V(out), V(aux), V(v->in), &v->pool, NULL));
        ACL_TRY(acl_check_compare(c, out, v->ref, v->nout, 1e-7, row));
        if (row->pass) {
            snprintf(row->op, sizeof row->op, "maxpool.argmax");
            ACL_TRY(acl_check_compare_int(c, aux, v->ref_arg, v->nout, row));
        }
        if (row->pass) { /* backward reads the device's argmax, as training does */
            snprintf(row->op, sizeof row->op, "maxpool.backward");
            ACL_TRY(acl_check_output(c, v->nin, &dx));
            ACL_TRY(maxpool_backward(c, V(dx), V(v->dy), V(aux), &v->pool, NULL));
            ACL_TRY(acl_check_compare(c, dx, v->ref_dx, v->nin, 1e-6, row));
        }
    }
    if (tc->kind != TUNE_CONV)
        shape_str(tc, row->shape, sizeof row->shape);
cleanup:
    acl_release_mems((cl_mem[]){out, aux, dx}, 3);
    return st;
}

/* Verifies one case as c is built now, on its own verification inputs. */
static acl_status verify_one(struct acl_ctx *c, struct tune_case *tc, acl_check_row *row)
{
    acl_status st = ACL_OK;
    ACL_TRY(ver_make(c, tc));
    ACL_TRY(ver_run(c, tc, row));
cleanup:
    ver_free(tc->ver);
    tc->ver = NULL;
    return st;
}

acl_status tune_verify_fc(struct acl_ctx *c, const struct fc_shape *s, acl_check_row *row)
{
    return verify_one(c, &(struct tune_case){.kind = TUNE_FC, .fc = *s}, row);
}

acl_status tune_verify_sgemm(struct acl_ctx *c, const struct fc_shape *s, acl_check_row *row)
{
    return verify_one(c, &(struct tune_case){.kind = TUNE_SGEMM, .fc = *s}, row);
}

acl_status tune_verify_conv(struct acl_ctx *c, const struct conv_shape *s, acl_check_row *row)
{
    return verify_one(c, &(struct tune_case){.kind = TUNE_CONV, .conv = *s}, row);
}

/* ---- timing ----------------------------------------------------------------------------------- */

static acl_status run_case(struct acl_ctx *c, const struct tune_case *tc, const struct tune_bufs *b)
{
    const cl_mem *a = b->act;
    if (tc->kind == TUNE_CONV)
        return conv_forward(c, V(a[1]), V(a[0]), V(b->w), V(b->w), V(b->ws), b->ws_floats, CONV_ALGO_DIRECT,
                            &tc->conv, NULL);
    acl_status st = ACL_OK;
    if (tc->kind == TUNE_FC || tc->kind == TUNE_SGEMM) {
        /* Forward and both backward products: training runs all three. */
        ACL_TRY(fc_forward(c, V(a[1]), V(a[0]), V(b->w), V(a[2]), &tc->fc, NULL));
        ACL_TRY(fc_backward(c, V(a[3]), V(b->ws), V(a[4]), V(a[1]), V(a[0]), V(b->w), &tc->fc, NULL));
    } else if (tc->kind == TUNE_LRN) {
        ACL_TRY(lrn_forward(c, V(a[1]), V(a[0]), &tc->lrn, NULL));
        ACL_TRY(lrn_backward(c, V(a[3]), V(a[4]), V(a[0]), &tc->lrn, NULL));
    } else {
        ACL_TRY(maxpool_forward(c, V(a[1]), V(a[2]), V(a[0]), &tc->pool, NULL));
        ACL_TRY(maxpool_backward(c, V(a[3]), V(a[4]), V(a[2]), &tc->pool, NULL));
    }
cleanup:
    return st;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Device time of the case's op: from the end of a marker before it to the end of a marker after it (the
 * queue is in order), median of TUNE_REPS. */
static acl_status time_case(struct acl_ctx *c, const struct tune_case *tc, const struct tune_bufs *b, double *ns)
{
    acl_status st = ACL_OK;
    double t[TUNE_REPS];
    cl_event e0 = NULL, e1 = NULL;
    for (int r = 0; r < TUNE_REPS; r++) {
        double w0 = now_s();
        CL_TRY(clEnqueueMarkerWithWaitList(c->queue, 0, NULL, &e0));
        ACL_TRY(run_case(c, tc, b));
        CL_TRY(clEnqueueMarkerWithWaitList(c->queue, 0, NULL, &e1));
        CL_TRY(clWaitForEvents(1, &e1));
        cl_ulong a0 = 0, a1 = 0;
        if (clGetEventProfilingInfo(e0, CL_PROFILING_COMMAND_END, sizeof a0, &a0, NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(e1, CL_PROFILING_COMMAND_END, sizeof a1, &a1, NULL) == CL_SUCCESS && a1 > a0)
            t[r] = (double)(a1 - a0);
        else
            t[r] = (now_s() - w0) * 1e9; /* a driver without marker timestamps: host time */
        clReleaseEvent(e0);
        clReleaseEvent(e1);
        e0 = e1 = NULL;
    }
    qsort(t, TUNE_REPS, sizeof *t, cmp_double);
    *ns = t[TUNE_REPS / 2];
    if (fake_time)
        *ns = fake_time(tc, &c->tune, fake_calls++);
cleanup:
    if (e0)
        clReleaseEvent(e0);
    if (e1)
        clReleaseEvent(e1);
    return st;
}

static acl_status bufs_make(struct acl_ctx *c, const struct tune_case *cases, int n, struct tune_bufs *b)
{
    acl_status st = ACL_OK;
    size_t act = 1, w = 1, ws = 1;
    for (int i = 0; i < n; i++) {
        const struct tune_case *tc = &cases[i];
        size_t in = 0, out = 0;
        if (tc->kind == TUNE_CONV) {
            in = conv_in(&tc->conv), out = conv_out(&tc->conv);
            size_t need = conv_workspace_floats_batch(&tc->conv, CONV_WORKSPACE_CAP);
            ws = need > ws ? need : ws;
            size_t wt = conv_wt(&tc->conv) > (size_t)tc->conv.k ? conv_wt(&tc->conv) : (size_t)tc->conv.k;
            w = wt > w ? wt : w;
        } else if (tc->kind == TUNE_FC || tc->kind == TUNE_SGEMM) {
            in = (size_t)tc->fc.n * tc->fc.in, out = (size_t)tc->fc.n * tc->fc.out;
            size_t wt = (size_t)tc->fc.in * tc->fc.out;
            w = wt > w ? wt : w;
            ws = wt > ws ? wt : ws; /* the weight gradient */
            in = in > (size_t)tc->fc.out ? in : (size_t)tc->fc.out; /* the bias and its gradient */
        } else if (tc->kind == TUNE_LRN) {
            in = out = lrn_len(&tc->lrn);
        } else {
            in = pool_in(&tc->pool), out = pool_out(&tc->pool);
        }
        act = in > act ? in : act;
        act = out > act ? out : act;
    }
    for (int i = 0; i < 5; i++) {
        ACL_TRY(acl_buffer(c, act * sizeof(float), &b->act[i]));
        /* Small positive values: no denormals, no NaN, in every op's domain (also as a maxpool's argmax). */
        ACL_TRY(acl_fill_float(c, b->act[i], 0, act, i == 2 ? 0.0f : 0.25f));
    }
    ACL_TRY(acl_buffer(c, w * sizeof(float), &b->w));
    ACL_TRY(acl_fill_float(c, b->w, 0, w, 0.01f));
    ACL_TRY(acl_buffer(c, ws * sizeof(float), &b->ws));
    b->ws_floats = ws;
    ACL_TRY(acl_finish(c));
cleanup:
    return st;
}

static void bufs_free(struct tune_bufs *b)
{
    acl_release_mems(b->act, 5);
    cl_mem m[] = {b->w, b->ws};
    acl_release_mems(m, 2);
}

/* ---- the search ------------------------------------------------------------------------------- */

static const char *group_program(enum tune_kind k)
{
    return k == TUNE_CONV    ? "conv.cl"
           : k == TUNE_LRN   ? "lrn.cl"
           : k == TUNE_POOL  ? "maxpool.cl"
           : k == TUNE_SGEMM ? "sgemm.cl"
                             : "CLBlast Xgemm";
}

static void params_str(enum tune_kind k, const struct acl_tune *t, char *buf, size_t size)
{
    if (k == TUNE_CONV)
        snprintf(buf, size, "conv_px=%d conv_px_few=%d conv_local=%d", t->conv_px, t->conv_px_few, t->conv_local);
    else if (k == TUNE_LRN)
        snprintf(buf, size, "lrn_vec=%d", t->lrn_vec);
    else if (k == TUNE_POOL)
        snprintf(buf, size, "maxpool_vec=%d", t->maxpool_vec);
    else if (k == TUNE_SGEMM) {
        char sg[96];
        acl_tune_sgemm_str(t, sg, sizeof sg);
        snprintf(buf, size, "sgemm %s", sg);
    }
    else
        tune_xgemm_str(t, buf, size);
}

/* Whether b builds the group's program differently from a: the -D defines the program is built with differ
 * (runtime/tune.c says which values each program takes). */
static int needs_rebuild(enum tune_kind k, const struct acl_tune *a, const struct acl_tune *b)
{
    char da[256] = "", db[256] = "";
    acl_tune_defines(a, group_program(k), da, sizeof da);
    acl_tune_defines(b, group_program(k), db, sizeof db);
    return strcmp(da, db) != 0;
}

static acl_status set_tune(struct acl_ctx *c, enum tune_kind k, const struct acl_tune *t)
{
    if (k == TUNE_FC) {
        /* CLBlast recompiles Xgemm with the set on its next call. There is no way back to its own defaults
         * in one process, so the baseline is measured first and the Xgemm group runs last. */
        char why[128];
        if (t->xgemm_set && !acl_xgemm_valid(t->xgemm, why, sizeof why))
            return acl_fail(ACL_ERR_ARGUMENT, "the Xgemm set violates CLBlast's constraints: %s", why);
        if (t->xgemm_set && (!c->tune.xgemm_set || memcmp(t->xgemm, c->tune.xgemm, sizeof t->xgemm))) {
            acl_status st = acl_tune_apply_xgemm(&c->dev, t);
            if (st != ACL_OK)
                return st;
        }
        c->tune = *t;
        return ACL_OK;
    }
    if (needs_rebuild(k, &c->tune, t))
        return acl_ctx_rebuild(c, group_program(k), t);
    c->tune = *t;
    return ACL_OK;
}

/* Sets c to cand, verifies every case of kind k and times them. *total is the sum, or -1 when rejected. */
static acl_status try_candidate(struct acl_ctx *c, struct tune_case *cases, int n, enum tune_kind k,
                                const struct acl_tune *cand, const struct tune_bufs *b, int verbose, double *total)
{
    acl_status st = ACL_OK;
    char params[96];
    params_str(k, cand, params, sizeof params);
    *total = -1;
    if (set_tune(c, k, cand) != ACL_OK) {
        if (verbose)
            fprintf(stderr, "alexnet-cl tune: rejected: %s: %s\n", params, acl_last_error());
        return ACL_OK;
    }
    for (int i = 0; i < n; i++) {
        if (cases[i].kind != k)
            continue;
        acl_check_row row;
        acl_status vs = ver_run(c, &cases[i], &row);
        if (vs != ACL_OK || !row.pass) {
            if (verbose)
                fprintf(stderr, "alexnet-cl tune: rejected: %s: %s on %s %s: %s\n", params,
                        vs != ACL_OK ? "error" : "max error", row.op, row.shape,
                        vs != ACL_OK ? acl_last_error() : row.note[0] ? row.note : "out of bounds");
            if (verbose && vs == ACL_OK)
                fprintf(stderr, "alexnet-cl tune:   max |error| %.3g, %.3g times the bound\n", row.max_abs,
                        row.max_err);
            return ACL_OK;
        }
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
        if (cases[i].kind != k)
            continue;
        ACL_TRY(time_case(c, &cases[i], b, &cases[i].cur_ns));
        sum += cases[i].cur_ns;
    }
    *total = sum;
    if (verbose)
        fprintf(stderr, "alexnet-cl tune: %-28s %10.3f ms (verified)\n", params, sum * 1e-6);
cleanup:
    return st;
}

/* A winner replaces the baseline only if it beats it again, by TUNE_MIN_GAIN, in each of TUNE_CONFIRM rounds
 * that time the two back to back: on a shared machine one lucky timing in a long search is likely (a table
 * chosen in a busy minute ran the weight gradient 1.4x slower than the defaults it had "beaten"). *kept says
 * whether it did; the table then shows the last round's two times, measured side by side. Not for CLBlast,
 * which cannot be handed its defaults back. */
static acl_status confirm(struct acl_ctx *c, struct tune_case *cases, int n, enum tune_kind k,
                          const struct acl_tune *baseline, const struct acl_tune *best, const struct tune_bufs *b,
                          int verbose, int *kept)
{
    acl_status st = ACL_OK;
    *kept = 1;
    for (int round = 0; round < TUNE_CONFIRM && *kept; round++) {
        double base_total, best_total;
        ACL_TRY(try_candidate(c, cases, n, k, baseline, b, 0, &base_total));
        for (int i = 0; i < n; i++)
            if (cases[i].kind == k)
                cases[i].default_ns = cases[i].cur_ns;
        ACL_TRY(try_candidate(c, cases, n, k, best, b, 0, &best_total));
        *kept = best_total >= 0 && base_total >= 0 && best_total < base_total * (1.0 - TUNE_MIN_GAIN);
        if (verbose) {
            char p0[96], p1[96];
            params_str(k, baseline, p0, sizeof p0);
            params_str(k, best, p1, sizeof p1);
            fprintf(stderr, "alexnet-cl tune: confirming: %s %.3f ms against %s %.3f ms: %s\n", p1, best_total * 1e-6,
                    p0, base_total * 1e-6, *kept ? "faster" : "not faster, the baseline stays");
        }
    }
    if (*kept)
        for (int i = 0; i < n; i++)
            if (cases[i].kind == k)
                cases[i].best_ns = cases[i].cur_ns;
cleanup:
    return st;
}

acl_status acl_autotune(struct acl_ctx *c, struct tune_case *cases, int ncases, double budget_s, int verbose,
                        struct tune_report *rep)
{
    acl_status st = ACL_OK;
    struct tune_bufs b;
    double t0 = now_s();
    memset(&b, 0, sizeof b);
    memset(rep, 0, sizeof *rep);
    rep->best = c->tune;
    ACL_TRY(bufs_make(c, cases, ncases, &b));
    for (int i = 0; i < ncases; i++)
        ACL_TRY(ver_make(c, &cases[i]));
    /* Shares of the budget: the convolutions hold most of a step's time and their candidates each rebuild the
     * largest program; each CLBlast set costs a CLBlast compile. Time a group leaves unused passes on. */
    /* The cheap groups first, so that what they leave passes to the convolutions; CLBlast last, as it cannot
     * be handed back its defaults. */
    static const enum tune_kind kinds[] = {TUNE_LRN, TUNE_POOL, TUNE_SGEMM, TUNE_CONV, TUNE_FC};
    static const double weight[] = {1, 1, 2, 3, 3};
    enum { NGROUPS = sizeof kinds / sizeof *kinds };
    int present[NGROUPS] = {0};
    double wsum = 0, wcum = 0;
    for (int g = 0; g < NGROUPS; g++) {
        for (int i = 0; i < ncases; i++)
            present[g] |= cases[i].kind == kinds[g];
        wsum += present[g] ? weight[g] : 0;
    }
    for (int g = 0; g < NGROUPS; g++) {
        enum tune_kind k = kinds[g];
        if (!present[g])
            continue;
        wcum += weight[g];
        double deadline = budget_s * wcum / wsum;
        /* The baseline: the values in hand (the defaults), verified and timed whatever the budget. */
        double best_total;
        const struct acl_tune baseline = rep->best;
        ACL_TRY(try_candidate(c, cases, ncases, k, &rep->best, &b, verbose, &best_total));
        if (best_total < 0) {
            st = acl_fail(ACL_ERR_MISMATCH, "the default kernels of cl/%s fail their check on %s; run `alexnet-cl "
                          "selftest` on this device", group_program(k), c->dev.info.name);
            goto cleanup;
        }
        for (int i = 0; i < ncases; i++)
            if (cases[i].kind == k)
                cases[i].default_ns = cases[i].best_ns = cases[i].cur_ns;
        for (int phase = 0; phase < TUNE_PHASES; phase++) {
            struct acl_tune cand[TUNE_MAX_CANDIDATES];
            int nc = tune_candidates(k, phase, &rep->best, cand);
            for (int j = 0; j < nc; j++) {
                if (now_s() - t0 > deadline) {
                    rep->skipped += nc - j;
                    break;
                }
                double total;
                rep->tried++;
                ACL_TRY(try_candidate(c, cases, ncases, k, &cand[j], &b, verbose, &total));
                if (total < 0) {
                    rep->rejected++;
                    continue;
                }
                if (total < best_total * (1.0 - TUNE_MIN_GAIN)) {
                    best_total = total;
                    rep->best = cand[j];
                    for (int i = 0; i < ncases; i++)
                        if (cases[i].kind == k)
                            cases[i].best_ns = cases[i].cur_ns;
                }
            }
        }
        if (k != TUNE_FC && memcmp(&baseline, &rep->best, sizeof baseline)) {
            int kept = 1;
            ACL_TRY(confirm(c, cases, ncases, k, &baseline, &rep->best, &b, verbose, &kept));
            if (!kept) {
                rep->unconfirmed++;
                rep->best = baseline;
                for (int i = 0; i < ncases; i++)
                    if (cases[i].kind == k)
                        cases[i].best_ns = cases[i].default_ns; /* the baseline's, of the last round */
            }
        }
        /* Leave c built with the winner, so the next group's times are measured with it. */
        ACL_TRY(set_tune(c, k, &rep->best));
    }
cleanup:
    rep->seconds = now_s() - t0;
    for (int i = 0; i < ncases; i++) {
        ver_free(cases[i].ver);
        cases[i].ver = NULL;
    }
    bufs_free(&b);
    return st;
}
