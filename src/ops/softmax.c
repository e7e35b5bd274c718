/* softmax.c: softmax with cross-entropy loss: host reference, launchers, selftest cases. */
#include "ops/softmax.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

acl_status softmax_check_shape(const struct softmax_shape *s)
{
    if (s->n < 1 || s->k < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "softmax N%d K%d: the sample and class counts must be positive", s->n,
                        s->k);
    if ((double)s->n * s->k >= (double)INT_MAX)
        return acl_fail(ACL_ERR_ARGUMENT, "softmax N%d K%d: %.0f logits, more than kernels index (%d)", s->n, s->k,
                        (double)s->n * s->k, INT_MAX);
    return ACL_OK;
}

/* ---- reference ------------------------------------------------------------------------------- */

void softmax_forward_ref(double *probs, double *loss, const double *logits, const int *labels,
                         const struct softmax_shape *s)
{
    for (int r = 0; r < s->n; r++) {
        const double *x = logits + (size_t)r * s->k;
        double *p = probs + (size_t)r * s->k;
        double m = -INFINITY, sum = 0;
        for (int j = 0; j < s->k; j++)
            m = fmax(m, x[j]);
        for (int j = 0; j < s->k; j++)
            sum += p[j] = exp(x[j] - m);
        for (int j = 0; j < s->k; j++)
            p[j] /= sum;
        int label = labels[r];
        loss[r] = label >= 0 && label < s->k ? log(sum) - (x[label] - m) : NAN;
    }
}

double softmax_mean_loss_ref(const double *loss, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += loss[i];
    return s / n;
}

void softmax_backward_ref(double *dlogits, const double *probs, const int *labels, const struct softmax_shape *s)
{
    for (int r = 0; r < s->n; r++) {
        int label = labels[r];
        int valid = label >= 0 && label < s->k;
        for (int j = 0; j < s->k; j++) {
            size_t i = (size_t)r * s->k + j;
            dlogits[i] = valid ? (probs[i] - (j == label)) / s->n : NAN;
        }
    }
}

/* ---- launchers ------------------------------------------------------------------------------- */

/* A view of n elements must exist and end below INT_MAX: kernels take element offsets as int. */
static acl_status check_view(const char *what, struct acl_view v, size_t n)
{
    if (!v.buf)
        return acl_fail(ACL_ERR_ARGUMENT, "softmax: no buffer for %s", what);
    if (v.off > (size_t)INT_MAX || n > (size_t)INT_MAX - v.off)
        return acl_fail(ACL_ERR_ARGUMENT, "softmax: %s (offset %zu, %zu elements) ends past INT_MAX elements", what,
                        v.off, n);
    return ACL_OK;
}

/* The largest power of two <= min(want, 256, what the kernel allows on this device): a group is never wider
 * than the work it shares, and the reductions in the kernels need a power of two. */
static acl_status group_size(struct acl_ctx *c, const char *kernel, int want, size_t *local)
{
    struct acl_kernel_entry *k = NULL;
    acl_status st = acl_kernel(c, kernel, &k);
    if (st != ACL_OK)
        return st;
    size_t l = 1;
    while (l * 2 <= (size_t)want && l * 2 <= 256 && l * 2 <= k->max_wg)
        l *= 2;
    *local = l;
    return ACL_OK;
}

acl_status softmax_forward(struct acl_ctx *c, struct acl_view probs, struct acl_view loss, struct acl_view mean,
                           struct acl_view logits, struct acl_view labels, const struct softmax_shape *s,
                           cl_event *ev)
{
    acl_status st = softmax_check_shape(s);
    if (st != ACL_OK)
        return st;
    size_t nk = (size_t)s->n * s->k, local = 1;
    ACL_TRY(check_view("the probabilities", probs, nk));
    ACL_TRY(check_view("the losses", loss, (size_t)s->n));
    ACL_TRY(check_view("the logits", logits, nk));
    ACL_TRY(check_view("the labels", labels, (size_t)s->n));
    if (mean.buf)
        ACL_TRY(check_view("the mean loss", mean, 1));
    ACL_TRY(group_size(c, "softmax_forward", s->k, &local));
    ACL_TRY(acl_launch(c, "softmax_forward", 1, (const size_t[]){(size_t)s->n * local}, (const size_t[]){local},
                       ACL_ARGS(ARG_VIEW(probs), ARG_VIEW(loss), ARG_VIEW(logits), ARG_VIEW(labels), ARG_INT(s->n),
                                ARG_INT(s->k), ARG_LOCAL(local * sizeof(float))),
                       mean.buf ? NULL : ev));
    if (mean.buf) {
        ACL_TRY(group_size(c, "softmax_mean_loss", s->n, &local));
        ACL_TRY(acl_launch(c, "softmax_mean_loss", 1, (const size_t[]){local}, (const size_t[]){local},
                           ACL_ARGS(ARG_VIEW(mean), ARG_VIEW(loss), ARG_INT(s->n), ARG_LOCAL(local * sizeof(float))),
                           ev));
    }
cleanup:
    return st;
}

acl_status softmax_backward(struct acl_ctx *c, struct acl_view dlogits, struct acl_view probs,
                            struct acl_view labels, const struct softmax_shape *s, cl_event *ev)
{
    acl_status st = softmax_check_shape(s);
    if (st != ACL_OK)
        return st;
    size_t nk = (size_t)s->n * s->k;
    ACL_TRY(check_view("the logit gradient", dlogits, nk));
    ACL_TRY(check_view("the probabilities", probs, nk));
    ACL_TRY(check_view("the labels", labels, (size_t)s->n));
    ACL_TRY(ACL_LAUNCH1(c, "softmax_backward", nk, ev, ARG_VIEW(dlogits), ARG_VIEW(probs), ARG_VIEW(labels),
                        ARG_INT(s->n), ARG_INT(s->k), ARG_FLOAT(1.0 / s->n)));
cleanup:
    return st;
}

/* ---- selftest -------------------------------------------------------------------------------- */

static acl_status upload_ints(struct acl_ctx *c, const int *host, size_t n, cl_mem *out)
{
    acl_status st = acl_buffer(c, n * sizeof *host, out);
    if (st == ACL_OK && (st = acl_write(c, *out, 0, n * sizeof *host, host)) != ACL_OK) {
        clReleaseMemObject(*out);
        *out = NULL;
    }
    return st;
}

/* acl_check_compare for an output whose reference holds NaN on purpose (samples with a bad label): there the
 * device must have written NaN too. The device output is read back with its sentinel, the expected NaNs are
 * set to 0 on both sides, and the rest goes through acl_check_compare via a scratch buffer, so poison,
 * sentinel and bound are checked as usual. */
static acl_status compare_allow_nan(struct acl_ctx *c, cl_mem out, const double *ref, size_t n, double tol,
                                    acl_check_row *row)
{
    size_t expected = 0, missing = 0;
    for (size_t i = 0; i < n; i++)
        expected += isnan(ref[i]) != 0;
    if (!expected)
        return acl_check_compare(c, out, ref, n, tol, row);
    acl_status st = ACL_OK;
    cl_mem scratch = NULL;
    size_t total = n + ACL_SENTINEL_FLOATS;
    float *dev = malloc(total * sizeof *dev);
    double *r = malloc(n * sizeof *r);
    if (!dev || !r) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    ACL_TRY(acl_read(c, out, 0, total * sizeof *dev, dev));
    for (size_t i = 0; i < n; i++) {
        r[i] = ref[i];
        if (isnan(ref[i])) {
            r[i] = 0;
            if (isnan(dev[i])) {
                dev[i] = 0;
            } else {
                missing++;
                dev[i] = NAN; /* fails the comparison below */
            }
        }
    }
    ACL_TRY(acl_buffer(c, total * sizeof *dev, &scratch));
    ACL_TRY(acl_write(c, scratch, 0, total * sizeof *dev, dev));
    ACL_TRY(acl_check_compare(c, scratch, r, n, tol, row));
    if (missing)
        snprintf(row->note, sizeof row->note, "%zu finite where NaN was expected", missing);
cleanup:
    if (scratch)
        clReleaseMemObject(scratch);
    free(dev);
    free(r);
    return st;
}

enum logit_kind { LOGITS_RANDOM, LOGITS_EXTREME, LOGITS_BAD_LABELS };
static const char *const kind_names[] = {"", " +-1e4", " bad labels"};

static void make_inputs(uint64_t seed, float *x, int *labels, const struct softmax_shape *s, enum logit_kind kind)
{
    size_t nk = (size_t)s->n * s->k;
    acl_rand_fill(&seed, x, nk, -4, 4);
    for (int r = 0; r < s->n; r++)
        labels[r] = (int)(acl_rand_u32(&seed) % (uint32_t)s->k);
    if (kind == LOGITS_EXTREME) /* a quarter of the logits at +-1e4, some labels on them, some not */
        for (size_t i = 0; i < nk; i++) {
            uint32_t u = acl_rand_u32(&seed) % 8;
            if (u < 2)
                x[i] = u ? 1e4f : -1e4f;
        }
    if (kind == LOGITS_BAD_LABELS) { /* every other sample: -1, k or INT_MAX; the others stay valid */
        const int bad[3] = {-1, s->k, INT_MAX};
        for (int r = 0; r < s->n; r += 2)
            labels[r] = bad[(r / 2) % 3];
    }
}

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct softmax_shape *s,
                             enum logit_kind kind, uint64_t seed)
{
    acl_status st = ACL_OK;
    size_t nk = (size_t)s->n * s->k;
    cl_mem m[8] = {NULL}; /* logits, labels, probs, loss, mean, probs in, dlogits, in place */
    float *x = malloc(2 * nk * sizeof *x), *pf = x ? x + nk : NULL;
    int *labels = malloc((size_t)s->n * sizeof *labels);
    double *xd = malloc((3 * nk + s->n) * sizeof *xd), *pd = xd ? xd + nk : NULL, *dd = xd ? pd + nk : NULL,
           *ld = xd ? dd + nk : NULL;
    if (!x || !labels || !xd) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    make_inputs(seed, x, labels, s, kind);
    acl_to_double(x, xd, nk);
    softmax_forward_ref(pd, ld, xd, labels, s);
    double mean = softmax_mean_loss_ref(ld, s->n);

    acl_check_row row = {.op = "softmax.forward.probs"};
    snprintf(row.shape, sizeof row.shape, "N%d K%d%s", s->n, s->k, kind_names[kind]);
    ACL_TRY(acl_check_input(c, x, nk, &m[0]));
    ACL_TRY(upload_ints(c, labels, (size_t)s->n, &m[1]));
    ACL_TRY(acl_check_output(c, nk, &m[2]));
    ACL_TRY(acl_check_output(c, (size_t)s->n, &m[3]));
    ACL_TRY(acl_check_output(c, 1, &m[4]));
    ACL_TRY(softmax_forward(c, (struct acl_view){m[2], 0}, (struct acl_view){m[3], 0}, (struct acl_view){m[4], 0},
                            (struct acl_view){m[0], 0}, (struct acl_view){m[1], 0}, s, NULL));
    ACL_TRY(compare_allow_nan(c, m[2], pd, nk, 2e-6, &row));
    acl_selftest_report(t, &row);
    snprintf(row.op, sizeof row.op, "softmax.forward.loss");
    ACL_TRY(compare_allow_nan(c, m[3], ld, (size_t)s->n, 2e-6, &row));
    acl_selftest_report(t, &row);
    snprintf(row.op, sizeof row.op, "softmax.mean_loss");
    ACL_TRY(compare_allow_nan(c, m[4], &mean, 1, 4e-6, &row));
    acl_selftest_report(t, &row);

    /* The backward from the reference's probabilities rounded to float, so only the backward is measured. */
    for (size_t i = 0; i < nk; i++)
        pf[i] = (float)pd[i];
    acl_to_double(pf, pd, nk);
    softmax_backward_ref(dd, pd, labels, s);
    snprintf(row.op, sizeof row.op, "softmax.backward");
    ACL_TRY(acl_check_input(c, pf, nk, &m[5]));
    ACL_TRY(acl_check_output(c, nk, &m[6]));
    ACL_TRY(softmax_backward(c, (struct acl_view){m[6], 0}, (struct acl_view){m[5], 0}, (struct acl_view){m[1], 0},
                             s, NULL));
    ACL_TRY(compare_allow_nan(c, m[6], dd, nk, 1e-6, &row));
    acl_selftest_report(t, &row);

    /* In place over the probabilities, as the trainer runs it. */
    snprintf(row.op, sizeof row.op, "softmax.backward.inplace");
    ACL_TRY(acl_check_output_init(c, pf, nk, &m[7]));
    ACL_TRY(softmax_backward(c, (struct acl_view){m[7], 0}, (struct acl_view){m[7], 0}, (struct acl_view){m[1], 0},
                             s, NULL));
    ACL_TRY(compare_allow_nan(c, m[7], dd, nk, 1e-6, &row));
    acl_selftest_report(t, &row);
cleanup:
    acl_release_mems(m, 8);
    free(x);
    free(labels);
    free(xd);
    return st;
}

acl_status softmax_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    acl_status st = ACL_OK;
    /* AlexNet's classifier at batch 1 and 128, one class, ten classes (Fashion-MNIST), an odd class count. The
     * first nine are small enough for Oclgrind. */
    static const struct {
        struct softmax_shape s;
        enum logit_kind kind;
    } cases[] = {
        {{1, 1}, LOGITS_RANDOM},       {{1, 1000}, LOGITS_RANDOM},     {{3, 10}, LOGITS_RANDOM},
        {{3, 37}, LOGITS_RANDOM},      {{128, 1}, LOGITS_RANDOM},      {{128, 10}, LOGITS_RANDOM},
        {{3, 37}, LOGITS_EXTREME},     {{3, 10}, LOGITS_BAD_LABELS},   {{128, 37}, LOGITS_BAD_LABELS},
        {{128, 1000}, LOGITS_RANDOM},  {{128, 1000}, LOGITS_EXTREME},  {{3, 1000}, LOGITS_BAD_LABELS},
    };
    int count = t->tiny ? 9 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++)
        ACL_TRY(check_case(c, t, &cases[i].s, cases[i].kind, 200 + (uint64_t)i));
cleanup:
    return st;
}
