/* fc.c: the fully connected layer: host references, launchers (CLBlast GEMMs and cl/fc.cl), selftest cases.
 *
 * The bias is added after the forward GEMM rather than broadcast into y first and accumulated with beta = 1:
 * with beta = 0 CLBlast never reads y, so its indirect path skips the kernel that pad-copies C into its
 * temporary (it runs only when beta != 0), and whatever the memory plan left in y cannot leak in. The price
 * is one in-place pass over y (N x OUT floats), small next to the GEMM's reads of W (OUT x IN). */
#include "ops/fc.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ops/gemm.h"
#include "runtime/error.h"

static void shape_str(const struct fc_shape *s, char *buf, size_t size)
{
    snprintf(buf, size, "N%d %d->%d", s->n, s->in, s->out);
}

acl_status fc_check_shape(const struct fc_shape *s)
{
    char d[64];
    shape_str(s, d, sizeof d);
    if (s->n < 1 || s->in < 1 || s->out < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "fc %s: batch, input and output sizes must be positive", d);
    /* Kernels index in int: every tensor must stay below INT_MAX elements. */
    const struct { const char *what; double count; } sizes[] = {
        {"input", (double)s->n * s->in},
        {"output", (double)s->n * s->out},
        {"weight", (double)s->out * s->in},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].count >= (double)INT_MAX)
            return acl_fail(ACL_ERR_ARGUMENT, "fc %s: the %s has %.0f elements, more than kernels index (%d)", d,
                            sizes[i].what, sizes[i].count, INT_MAX);
    return ACL_OK;
}

/* ---- references ------------------------------------------------------------------------------- */

void fc_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                    const struct fc_shape *s)
{
    for (int r = 0; r < s->n; r++) {
        const double *x = inp + (size_t)r * s->in;
        for (int j = 0; j < s->out; j++) {
            const double *w = weight + (size_t)j * s->in;
            double acc = bias[j];
            for (int p = 0; p < s->in; p++)
                acc += x[p] * w[p];
            out[(size_t)r * s->out + j] = acc;
        }
    }
}

void fc_backward_ref(double *dinp, double *dweight, double *dbias, const double *dout, const double *inp,
                     const double *weight, const struct fc_shape *s)
{
    for (int r = 0; r < s->n; r++) {
        const double *dy = dout + (size_t)r * s->out;
        const double *x = inp + (size_t)r * s->in;
        if (dinp) {
            double *dx = dinp + (size_t)r * s->in;
            for (int p = 0; p < s->in; p++)
                dx[p] = 0;
            for (int j = 0; j < s->out; j++)
                for (int p = 0; p < s->in; p++)
                    dx[p] += dy[j] * weight[(size_t)j * s->in + p];
        }
        for (int j = 0; j < s->out; j++) {
            if (dweight)
                for (int p = 0; p < s->in; p++)
                    dweight[(size_t)j * s->in + p] += dy[j] * x[p];
            if (dbias)
                dbias[j] += dy[j];
        }
    }
}

/* ---- launchers -------------------------------------------------------------------------------- */

/* A view of n floats must exist and end below INT_MAX: kernels take element offsets as int. */
static acl_status check_view(const struct fc_shape *s, const char *what, struct acl_view v, size_t n)
{
    char d[64];
    shape_str(s, d, sizeof d);
    if (!v.buf)
        return acl_fail(ACL_ERR_ARGUMENT, "fc %s: no buffer for the %s", d, what);
    if (v.off > (size_t)INT_MAX || n > (size_t)INT_MAX - v.off)
        return acl_fail(ACL_ERR_ARGUMENT, "fc %s: the %s (offset %zu, %zu floats) ends past INT_MAX floats", d,
                        what, v.off, n);
    return ACL_OK;
}

static acl_status finish_event(struct acl_ctx *c, cl_event *ev)
{
    acl_status st = ACL_OK;
    if (ev)
        CL_TRY(clEnqueueMarkerWithWaitList(c->queue, 0, NULL, ev));
cleanup:
    return st;
}

acl_status fc_forward(struct acl_ctx *c, struct acl_view out, struct acl_view inp, struct acl_view weight,
                      struct acl_view bias, const struct fc_shape *s, cl_event *ev)
{
    acl_status st = ACL_OK;
    ACL_TRY(fc_check_shape(s));
    size_t nx = (size_t)s->n * s->in, ny = (size_t)s->n * s->out, nw = (size_t)s->out * s->in;
    ACL_TRY(check_view(s, "output", out, ny));
    ACL_TRY(check_view(s, "input", inp, nx));
    ACL_TRY(check_view(s, "weight", weight, nw));
    ACL_TRY(check_view(s, "bias", bias, (size_t)s->out));
    /* out (N, OUT) = inp (N, IN) x weight^T: row-major NT with m = N, n = OUT, k = IN. */
    const struct acl_gemm g = {.trans_a = 0, .trans_b = 1, .m = (size_t)s->n, .n = (size_t)s->out,
                               .k = (size_t)s->in, .lda = (size_t)s->in, .ldb = (size_t)s->in,
                               .ldc = (size_t)s->out, .alpha = 1.0f, .beta = 0.0f};
    ACL_TRY(acl_gemm(c, &g, inp, weight, out, NULL));
    ACL_TRY(ACL_LAUNCH1(c, "fc_bias_forward", ny, NULL, ARG_VIEW(out), ARG_VIEW(bias), ARG_INT(s->out),
                        ARG_INT(ny)));
    ACL_TRY(finish_event(c, ev));
cleanup:
    return st;
}

acl_status fc_backward(struct acl_ctx *c, struct acl_view dinp, struct acl_view dweight, struct acl_view dbias,
                       struct acl_view dout, struct acl_view inp, struct acl_view weight, const struct fc_shape *s,
                       cl_event *ev)
{
    acl_status st = ACL_OK;
    ACL_TRY(fc_check_shape(s));
    size_t nx = (size_t)s->n * s->in, ny = (size_t)s->n * s->out, nw = (size_t)s->out * s->in;
    if (dinp.buf)
        ACL_TRY(check_view(s, "input gradient", dinp, nx));
    ACL_TRY(check_view(s, "weight gradient", dweight, nw));
    ACL_TRY(check_view(s, "bias gradient", dbias, (size_t)s->out));
    ACL_TRY(check_view(s, "output gradient", dout, ny));
    ACL_TRY(check_view(s, "input", inp, nx));
    ACL_TRY(check_view(s, "weight", weight, nw));
    if (dinp.buf) {
        /* dinp (N, IN) = dout (N, OUT) x weight (OUT, IN): NN, overwriting. */
        const struct acl_gemm g = {.trans_a = 0, .trans_b = 0, .m = (size_t)s->n, .n = (size_t)s->in,
                                   .k = (size_t)s->out, .lda = (size_t)s->out, .ldb = (size_t)s->in,
                                   .ldc = (size_t)s->in, .alpha = 1.0f, .beta = 0.0f};
        ACL_TRY(acl_gemm(c, &g, dout, weight, dinp, NULL));
    }
    /* dweight (OUT, IN) += dout^T (OUT, N) x inp (N, IN): TN with beta = 1; dout is stored (N, OUT), so its
     * leading dimension is OUT. CLBlast sums over k = N without atomics: the result is deterministic. */
    const struct acl_gemm gw = {.trans_a = 1, .trans_b = 0, .m = (size_t)s->out, .n = (size_t)s->in,
                                .k = (size_t)s->n, .lda = (size_t)s->out, .ldb = (size_t)s->in,
                                .ldc = (size_t)s->in, .alpha = 1.0f, .beta = 1.0f};
    ACL_TRY(acl_gemm(c, &gw, dout, inp, dweight, NULL));
    ACL_TRY(ACL_LAUNCH1(c, "fc_bias_backward", (size_t)s->out, NULL, ARG_VIEW(dbias), ARG_VIEW(dout),
                        ARG_INT(s->n), ARG_INT(s->out)));
    ACL_TRY(finish_event(c, ev));
cleanup:
    return st;
}

/* ---- selftest -------------------------------------------------------------------------------- */

struct fc_case {
    const char *label; /* the AlexNet layer, or NULL */
    int n, in, out;
    size_t pad;  /* every tensor starts this many floats into its buffer, behind data that must survive */
    int no_dinp; /* run the backward without an input gradient */
};

enum { X, W, B, DY, Y, DX, DW, DB, NT }; /* the tensors of a case: inputs, then outputs */

/* Floats of other data behind every tensor of a case. The sentinel of check.c is too large a float to show
 * an x += small written one past the end (it absorbs the addition); ordinary neighbours do show it. */
#define TAIL 3

/* Host copies of tensor i: floats f[i] and doubles d[i] of pad + n + TAIL random values (the neighbours stand
 * for the other tensors of a flat buffer). An overwritten output has its body poisoned with NaN, so an element
 * the kernels miss fails. */
static acl_status make_tensor(struct acl_ctx *c, uint64_t *seed, int i, size_t pad, size_t n, int overwrite,
                              float **f, double **d, cl_mem *m)
{
    size_t total = pad + n + TAIL;
    f[i] = malloc(total * sizeof **f);
    d[i] = malloc(total * sizeof **d);
    if (!f[i] || !d[i])
        return acl_fail(ACL_ERR_MEMORY, "out of host memory (%zu floats)", total);
    acl_rand_fill(seed, f[i], total, -1, 1);
    if (overwrite)
        for (size_t k = pad; k < pad + n; k++)
            f[i][k] = NAN;
    acl_to_double(f[i], d[i], total);
    acl_status st = i < Y ? acl_check_input(c, f[i], total, &m[i]) : acl_check_output_init(c, f[i], total, &m[i]);
    free(f[i]); /* the device holds it now; the fc6 weight is 150 MB */
    f[i] = NULL;
    return st;
}

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct fc_case *k, uint64_t seed)
{
    acl_status st = ACL_OK;
    const struct fc_shape s = {k->n, k->in, k->out};
    const size_t p = k->pad, nx = (size_t)s.n * s.in, ny = (size_t)s.n * s.out, nw = (size_t)s.out * s.in;
    const size_t count[NT] = {nx, nw, (size_t)s.out, ny, ny, nx, nw, (size_t)s.out};
    cl_mem m[NT] = {NULL};
    float *f[NT] = {NULL};
    double *d[NT] = {NULL};
    cl_event ev = NULL;

    for (int i = X; i <= DY; i++)
        ACL_TRY(make_tensor(c, &seed, i, p, count[i], 0, f, d, m));
    ACL_TRY(make_tensor(c, &seed, Y, p, ny, 1, f, d, m));
    fc_forward_ref(d[Y] + p, d[X] + p, d[W] + p, d[B] + p, &s);
    if (!k->no_dinp) {
        ACL_TRY(make_tensor(c, &seed, DX, p, nx, 1, f, d, m));
        fc_backward_ref(d[DX] + p, NULL, NULL, d[DY] + p, d[X] + p, d[W] + p, &s);
    }
    free(d[W]); /* the weight gradient's reference needs no weight: hold one of the two big arrays at a time */
    d[W] = NULL;
    ACL_TRY(make_tensor(c, &seed, DW, p, nw, 0, f, d, m));
    ACL_TRY(make_tensor(c, &seed, DB, p, (size_t)s.out, 0, f, d, m));
    fc_backward_ref(NULL, d[DW] + p, d[DB] + p, d[DY] + p, d[X] + p, NULL, &s);

#define VIEW(i) ((struct acl_view){m[i], p})
    ACL_TRY(fc_forward(c, VIEW(Y), VIEW(X), VIEW(W), VIEW(B), &s, NULL));
    struct acl_view dinp = k->no_dinp ? (struct acl_view){NULL, 0} : VIEW(DX);
    ACL_TRY(fc_backward(c, dinp, VIEW(DW), VIEW(DB), VIEW(DY), VIEW(X), VIEW(W), &s, &ev));
#undef VIEW
    CL_TRY(clWaitForEvents(1, &ev));

    char dims[64];
    shape_str(&s, dims, sizeof dims);

    static const struct { int i; const char *op; double tol; } outs[] = {
        {Y, "fc.forward", 1e-5},
        {DX, "fc.backward.dinp", 1e-5},
        {DW, "fc.backward.dweight", 1e-6},
        {DB, "fc.backward.dbias", 1e-6},
    };
    for (size_t o = 0; o < sizeof outs / sizeof outs[0]; o++) {
        int i = outs[o].i;
        if (!m[i])
            continue;
        acl_check_row row = {.pass = 0};
        snprintf(row.op, sizeof row.op, "%s", outs[o].op);
        snprintf(row.shape, sizeof row.shape, "%s%s%s%s%s", k->label ? k->label : "", k->label ? " " : "", dims,
                 p ? " at an offset" : "", k->no_dinp ? " no dinp" : "");
        ACL_TRY(acl_check_compare(c, m[i], d[i], p + count[i] + TAIL, outs[o].tol, &row));
        acl_selftest_report(t, &row);
    }
cleanup:
    if (ev)
        clReleaseEvent(ev);
    acl_release_mems(m, NT);
    for (int i = 0; i < NT; i++) {
        free(f[i]);
        free(d[i]);
    }
    return st;
}

acl_status fc_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    static const struct fc_case cases[] = {
        {NULL, 1, 37, 67, 0, 0},
        {NULL, 3, 67, 37, 0, 0},
        {NULL, 3, 37, 67, 5, 0}, /* inside flat buffers, as the trainer runs it */
        {NULL, 1, 67, 37, 3, 1},
        /* the tiny cases end here */
        {NULL, 32, 1000, 67, 0, 0},
        {NULL, 32, 67, 1000, 7, 0},
        {"fc6", 1, 9216, 4096, 0, 0},
        {"fc7", 1, 4096, 4096, 0, 0},
        {"fc8", 1, 4096, 1000, 0, 0},
    };
    int count = t->tiny ? 4 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, &cases[i], 3000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
