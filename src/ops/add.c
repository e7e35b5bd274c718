/* add.c: elementwise y += x: host reference, launcher, selftest cases. */
#include "ops/add.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

/* ---- reference ------------------------------------------------------------------------------- */

void add_ref(double *y, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

/* ---- launcher -------------------------------------------------------------------------------- */

acl_status tensor_add(struct acl_ctx *c, struct acl_view y, struct acl_view x, size_t n, cl_event *ev)
{
    return ACL_LAUNCH1(c, "tensor_add", (n + 15) / 16, ev, ARG_VIEW(y), ARG_VIEW(x), ARG_INT(n));
}

acl_status tensor_copy(struct acl_ctx *c, struct acl_view y, struct acl_view x, size_t n, cl_event *ev)
{
    return ACL_LAUNCH1(c, "tensor_copy", (n + 15) / 16, ev, ARG_VIEW(y), ARG_VIEW(x), ARG_INT(n));
}

/* ---- selftest -------------------------------------------------------------------------------- */

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, size_t n, uint64_t seed)
{
    acl_status st = ACL_OK;
    cl_mem m[3] = {NULL}; /* x, y, the copy of x */
    float *x = malloc(2 * n * sizeof *x), *y = x ? x + n : NULL;
    double *xd = malloc(2 * n * sizeof *xd), *yd = xd ? xd + n : NULL;
    if (!x || !xd) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    acl_rand_fill(&seed, x, n, -1, 1);
    acl_rand_fill(&seed, y, n, -1, 1);
    acl_to_double(x, xd, n);
    acl_to_double(y, yd, n);
    add_ref(yd, xd, n);

    acl_check_row row = {.op = "add"};
    snprintf(row.shape, sizeof row.shape, "n=%zu", n);
    ACL_TRY(acl_check_input(c, x, n, &m[0]));
    ACL_TRY(acl_check_output_init(c, y, n, &m[1]));
    ACL_TRY(tensor_add(c, (struct acl_view){m[1], 0}, (struct acl_view){m[0], 0}, n, NULL));
    /* One float rounding of the sum: relative to the data, well under 1e-7. */
    ACL_TRY(acl_check_compare(c, m[1], yd, n, 1e-7, &row));
    acl_selftest_report(t, &row);

    snprintf(row.op, sizeof row.op, "add.copy");
    ACL_TRY(acl_check_output(c, n, &m[2]));
    ACL_TRY(tensor_copy(c, (struct acl_view){m[2], 0}, (struct acl_view){m[0], 0}, n, NULL));
    ACL_TRY(acl_check_compare(c, m[2], xd, n, 0, &row));
    acl_selftest_report(t, &row);
cleanup:
    acl_release_mems(m, 3);
    free(x);
    free(xd);
    return st;
}

acl_status add_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    /* 1, a prime past the work-group size, and conv2's output at batch 1 (256x27x27). */
    static const size_t sizes[] = {1, 67, 1021, 256 * 27 * 27};
    int count = t->tiny ? 3 : 4;
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, sizes[i], 2000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
