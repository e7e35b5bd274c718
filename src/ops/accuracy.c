/* accuracy.c: top-1 and top-5 correct counts: host reference, launcher, selftest cases. */
#include "ops/accuracy.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

acl_status accuracy_check_shape(const struct accuracy_shape *s)
{
    if (s->n < 1 || s->k < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "accuracy N%d K%d: the sample and class counts must be positive", s->n,
                        s->k);
    if ((double)s->n * s->k >= (double)INT_MAX)
        return acl_fail(ACL_ERR_ARGUMENT, "accuracy N%d K%d: %.0f logits, more than kernels index (%d)", s->n,
                        s->k, (double)s->n * s->k, INT_MAX);
    return ACL_OK;
}

/* ---- reference ------------------------------------------------------------------------------- */

void accuracy_ref(int counts[2], const double *logits, const int *labels, const struct accuracy_shape *s)
{
    counts[0] = counts[1] = 0;
    for (int r = 0; r < s->n; r++) {
        int label = labels[r];
        if (label < 0 || label >= s->k)
            continue;
        const double *x = logits + (size_t)r * s->k;
        if (isnan(x[label]))
            continue;
        int greater = 0;
        for (int j = 0; j < s->k; j++)
            greater += x[j] > x[label] || isnan(x[j]);
        counts[0] += greater < 1;
        counts[1] += greater < 5;
    }
}

/* ---- launcher -------------------------------------------------------------------------------- */

/* A view of n elements must exist and end below INT_MAX: kernels take element offsets as int. */
static acl_status check_view(const char *what, struct acl_view v, size_t n)
{
    if (!v.buf)
        return acl_fail(ACL_ERR_ARGUMENT, "accuracy: no buffer for %s", what);
    if (v.off > (size_t)INT_MAX || n > (size_t)INT_MAX - v.off)
        return acl_fail(ACL_ERR_ARGUMENT, "accuracy: %s (offset %zu, %zu elements) ends past INT_MAX elements",
                        what, v.off, n);
    return ACL_OK;
}

acl_status accuracy_count(struct acl_ctx *c, struct acl_view counts, struct acl_view logits, struct acl_view labels,
                          const struct accuracy_shape *s, cl_event *ev)
{
    acl_status st = accuracy_check_shape(s);
    if (st != ACL_OK)
        return st;
    ACL_TRY(check_view("the counts", counts, 2));
    ACL_TRY(check_view("the logits", logits, (size_t)s->n * s->k));
    ACL_TRY(check_view("the labels", labels, (size_t)s->n));
    struct acl_kernel_entry *k = NULL;
    ACL_TRY(acl_kernel(c, "accuracy_count", &k));
    /* One group, as wide as a power of two allows up to n samples (the kernel's reduction needs the power). */
    size_t local = 1;
    while (local * 2 <= (size_t)s->n && local * 2 <= 256 && local * 2 <= k->max_wg)
        local *= 2;
    ACL_TRY(acl_launch(c, "accuracy_count", 1, (const size_t[]){local}, (const size_t[]){local},
                       ACL_ARGS(ARG_VIEW(counts), ARG_VIEW(logits), ARG_VIEW(labels), ARG_INT(s->n), ARG_INT(s->k),
                                ARG_LOCAL(2 * local * sizeof(cl_int))),
                       ev));
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

enum logit_kind {
    LOGITS_RANKED,     /* the label's logit copied from the row's r-th largest, r < 8: ties and a mix of ranks */
    LOGITS_TIED,       /* logits in {0, 1, 2}: ties everywhere */
    LOGITS_NAN,        /* ranked, with about one logit in 16 NaN */
    LOGITS_BAD_LABELS, /* ranked, with every third label outside [0, k) */
};
static const char *const kind_names[] = {"ranked", "ties", "NaN", "bad labels"};

static int descending(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static acl_status make_inputs(uint64_t seed, float *x, int *labels, const struct accuracy_shape *s,
                              enum logit_kind kind)
{
    size_t nk = (size_t)s->n * s->k;
    float *sorted = malloc((size_t)s->k * sizeof *sorted);
    if (!sorted)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    acl_rand_fill(&seed, x, nk, -1, 1);
    for (int r = 0; r < s->n; r++) {
        float *row = x + (size_t)r * s->k;
        labels[r] = (int)(acl_rand_u32(&seed) % (uint32_t)s->k);
        if (kind == LOGITS_TIED) {
            for (int j = 0; j < s->k; j++)
                row[j] = (float)(acl_rand_u32(&seed) % 3);
            continue;
        }
        memcpy(sorted, row, (size_t)s->k * sizeof *sorted);
        qsort(sorted, (size_t)s->k, sizeof *sorted, descending);
        uint32_t depth = s->k < 8 ? (uint32_t)s->k : 8;
        row[labels[r]] = sorted[acl_rand_u32(&seed) % depth];
        if (kind == LOGITS_NAN)
            for (int j = 0; j < s->k; j++)
                if (acl_rand_u32(&seed) % 16 == 0)
                    row[j] = NAN;
        if (kind == LOGITS_BAD_LABELS && r % 3 == 0)
            labels[r] = (r / 3) % 2 ? -1 : s->k;
    }
    free(sorted);
    return ACL_OK;
}

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct accuracy_shape *s,
                             enum logit_kind kind, uint64_t seed)
{
    acl_status st = ACL_OK;
    size_t nk = (size_t)s->n * s->k;
    cl_mem m[3] = {NULL}; /* logits, labels, counts */
    float *x = malloc(nk * sizeof *x);
    int *labels = malloc((size_t)s->n * sizeof *labels), ref[2];
    double *xd = malloc(nk * sizeof *xd);
    if (!x || !labels || !xd) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    ACL_TRY(make_inputs(seed, x, labels, s, kind));
    acl_to_double(x, xd, nk); /* exact: the reference compares the very values the device compares */
    accuracy_ref(ref, xd, labels, s);

    acl_check_row row = {.op = "accuracy.count"};
    snprintf(row.shape, sizeof row.shape, "N%d K%d %s: top1 %d top5 %d", s->n, s->k, kind_names[kind], ref[0],
             ref[1]);
    ACL_TRY(acl_check_input(c, x, nk, &m[0]));
    ACL_TRY(upload_ints(c, labels, (size_t)s->n, &m[1]));
    ACL_TRY(acl_check_output(c, 2, &m[2]));
    ACL_TRY(accuracy_count(c, (struct acl_view){m[2], 0}, (struct acl_view){m[0], 0}, (struct acl_view){m[1], 0}, s,
                           NULL));
    ACL_TRY(acl_check_compare_int(c, m[2], ref, 2, &row));
    acl_selftest_report(t, &row);
cleanup:
    acl_release_mems(m, 3);
    free(x);
    free(labels);
    free(xd);
    return st;
}

acl_status accuracy_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    acl_status st = ACL_OK;
    /* AlexNet's classifier at batch 1 and 128, ten classes, fewer than five classes, one class, exactly five,
     * an odd batch; ties, NaN (with fewer than five classes too, where only the NaN-at-label rule keeps the
     * sample out of the top 5) and bad labels. All but the last are small enough for Oclgrind. */
    static const struct {
        struct accuracy_shape s;
        enum logit_kind kind;
    } cases[] = {
        {{1, 1000}, LOGITS_RANKED}, {{1, 10}, LOGITS_TIED},   {{128, 10}, LOGITS_RANKED},
        {{128, 10}, LOGITS_TIED},   {{128, 3}, LOGITS_RANKED}, {{37, 4}, LOGITS_TIED},
        {{128, 1}, LOGITS_RANKED},  {{5, 5}, LOGITS_TIED},     {{128, 37}, LOGITS_NAN},
        {{64, 3}, LOGITS_NAN},      {{128, 10}, LOGITS_BAD_LABELS}, {{128, 1000}, LOGITS_RANKED},
    };
    int count = t->tiny ? 11 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++)
        ACL_TRY(check_case(c, t, &cases[i].s, cases[i].kind, 300 + (uint64_t)i));
cleanup:
    return st;
}
