/* sgd.c: the SGD update with momentum and weight decay: host reference, launcher, selftest cases. */
#include "ops/sgd.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

acl_status sgd_check_params(const struct sgd_params *p)
{
    const struct { const char *name; float value; } vals[] = {
        {"learning rate", p->lr}, {"momentum", p->momentum}, {"weight decay", p->weight_decay}};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        if (!isfinite(vals[i].value) || vals[i].value < 0)
            return acl_fail(ACL_ERR_ARGUMENT, "sgd: the %s is %g; it must be finite and >= 0", vals[i].name,
                            (double)vals[i].value);
    return ACL_OK;
}

/* ---- reference ------------------------------------------------------------------------------- */

void sgd_update_ref(double *w, double *v, const double *g, size_t n, const struct sgd_params *p)
{
    const double lr = p->lr, momentum = p->momentum, decay = p->weight_decay;
    for (size_t i = 0; i < n; i++) {
        v[i] = momentum * v[i] - lr * (g[i] + decay * w[i]);
        w[i] += v[i];
    }
}

/* ---- launcher -------------------------------------------------------------------------------- */

/* A range [off, off + count) of a view must exist and end below INT_MAX: kernels take int offsets. */
static acl_status check_range(const char *what, struct acl_view v, size_t offset, size_t count)
{
    if (!v.buf)
        return acl_fail(ACL_ERR_ARGUMENT, "sgd: no buffer for the %s", what);
    if (v.off > (size_t)INT_MAX || offset > (size_t)INT_MAX - v.off || count > (size_t)INT_MAX - v.off - offset)
        return acl_fail(ACL_ERR_ARGUMENT, "sgd: the %s range (view offset %zu + %zu, %zu floats) ends past "
                        "INT_MAX floats", what, v.off, offset, count);
    return ACL_OK;
}

acl_status sgd_update(struct acl_ctx *c, struct acl_view w, struct acl_view v, struct acl_view g, size_t offset,
                      size_t count, const struct sgd_params *p, cl_event *ev)
{
    acl_status st = ACL_OK;
    if (count == 0)
        return acl_fail(ACL_ERR_ARGUMENT, "sgd: the range at offset %zu is empty", offset);
    ACL_TRY(sgd_check_params(p));
    ACL_TRY(check_range("parameters", w, offset, count));
    ACL_TRY(check_range("momentum", v, offset, count));
    ACL_TRY(check_range("gradient", g, offset, count));
    w = acl_at(w, offset);
    v = acl_at(v, offset);
    g = acl_at(g, offset);
    ACL_TRY(ACL_LAUNCH1(c, "sgd_update", (count + 15) / 16, ev, ARG_VIEW(w), ARG_VIEW(v), ARG_VIEW(g), ARG_INT(count),
                        ARG_FLOAT(p->lr), ARG_FLOAT(p->momentum), ARG_FLOAT(p->weight_decay)));
cleanup:
    return st;
}

/* ---- selftest -------------------------------------------------------------------------------- */

struct sgd_range {
    size_t off, count;
    struct sgd_params p;
};

/* A buffer of total floats updated over one or two ranges; everything outside them must stay as it was. */
struct sgd_case {
    size_t total;
    int nranges;
    struct sgd_range r[2];
};

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct sgd_case *k, uint64_t seed)
{
    acl_status st = ACL_OK;
    const size_t n = k->total;
    cl_mem m[3] = {NULL}; /* w, v, g */
    float *f = malloc(3 * n * sizeof *f);
    double *d = malloc(3 * n * sizeof *d);
    if (!f || !d) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    acl_rand_fill(&seed, f, 3 * n, -1, 1);
    acl_to_double(f, d, 3 * n);
    ACL_TRY(acl_check_output_init(c, f, n, &m[0]));
    ACL_TRY(acl_check_output_init(c, f + n, n, &m[1]));
    ACL_TRY(acl_check_input(c, f + 2 * n, n, &m[2]));

    acl_check_row row = {.pass = 0};
    size_t len = 0;
    for (int i = 0; i < k->nranges; i++) {
        const struct sgd_range *r = &k->r[i];
        sgd_update_ref(d + r->off, d + n + r->off, d + 2 * n + r->off, r->count, &r->p);
        ACL_TRY(sgd_update(c, (struct acl_view){m[0], 0}, (struct acl_view){m[1], 0}, (struct acl_view){m[2], 0},
                           r->off, r->count, &r->p, NULL));
        if (len < sizeof row.shape)
            len += (size_t)snprintf(row.shape + len, sizeof row.shape - len, "%s%zu@%zu lr%g m%g wd%g",
                                    i ? ", " : "", r->count, r->off, (double)r->p.lr, (double)r->p.momentum,
                                    (double)r->p.weight_decay);
    }
    static const char *const names[2] = {"sgd.w", "sgd.v"};
    for (int i = 0; i < 2; i++) {
        snprintf(row.op, sizeof row.op, "%s", names[i]);
        /* Three or four float roundings per element: a few ulps. A dropped decay term at the paper's rates
         * (lr * decay * w = 5e-6 w) is still over ten bounds away. */
        ACL_TRY(acl_check_compare(c, m[i], d + (size_t)i * n, n, 2e-7, &row));
        acl_selftest_report(t, &row);
    }
cleanup:
    acl_release_mems(m, 3);
    free(f);
    free(d);
    return st;
}

acl_status sgd_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    /* Exaggerated rates make a wrong decay or momentum term stand out from float rounding; the big case uses
     * the paper's. Offsets are not multiples of 4, and data after each range must survive. */
    static const struct sgd_case cases[] = {
        {1, 1, {{0, 1, {0.1f, 0.9f, 0.01f}}}},
        {72, 1, {{3, 67, {0.1f, 0.9f, 0.01f}}}},
        {70, 1, {{1, 67, {0.0f, 0.9f, 0.01f}}}},      /* lr 0: only the momentum moves w */
        {1049, 2, {{3, 1003, {0.1f, 0.9f, 0.05f}},    /* per tensor: a weight with decay, */
                   {1006, 37, {0.2f, 0.9f, 0.0f}}}},  /* then its bias without */
        /* the tiny cases end here */
        {1000011, 1, {{5, 1000003, {0.01f, 0.9f, 0.0005f}}}},
    };
    int count = t->tiny ? 4 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, &cases[i], 4000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
