/* relu.c: ReLU forward and backward: host reference, launcher, selftest cases. */
#include "ops/relu.h"

#include <stdio.h>
#include <stdlib.h>

#include "runtime/error.h"

/* ---- reference ------------------------------------------------------------------------------- */

void relu_forward_ref(double *y, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] < 0 ? 0 : x[i];
}

void relu_backward_ref(double *dx, const double *dy, const double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0 ? dy[i] : 0;
}

/* ---- launcher -------------------------------------------------------------------------------- */

acl_status relu_forward(struct acl_ctx *c, struct acl_view y, struct acl_view x, size_t n, cl_event *ev)
{
    return ACL_LAUNCH1(c, "relu_forward", (n + 15) / 16, ev, ARG_VIEW(y), ARG_VIEW(x), ARG_INT(n));
}

acl_status relu_backward(struct acl_ctx *c, struct acl_view dx, struct acl_view dy, struct acl_view y, size_t n,
                         cl_event *ev)
{
    return ACL_LAUNCH1(c, "relu_backward", (n + 15) / 16, ev, ARG_VIEW(dx), ARG_VIEW(dy), ARG_VIEW(y),
                       ARG_INT(n));
}

/* ---- selftest -------------------------------------------------------------------------------- */

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, size_t n, uint64_t seed)
{
    acl_status st = ACL_OK;
    cl_mem m[5] = {NULL};            /* x, y, dy, dx, x again for the in-place run */
    float *x = malloc(2 * n * sizeof *x), *dy = x ? x + n : NULL;
    double *xd = malloc(4 * n * sizeof *xd), *yd = xd ? xd + n : NULL, *dyd = xd ? yd + n : NULL,
           *dxd = xd ? dyd + n : NULL;
    if (!x || !xd) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    acl_rand_fill(&seed, x, n, -1, 1);
    acl_rand_fill(&seed, dy, n, -1, 1);
    acl_to_double(x, xd, n);
    acl_to_double(dy, dyd, n);
    relu_forward_ref(yd, xd, n);
    relu_backward_ref(dxd, dyd, yd, n);

    acl_check_row row = {.op = "relu.forward"};
    snprintf(row.shape, sizeof row.shape, "n=%zu", n);
    ACL_TRY(acl_check_input(c, x, n, &m[0]));
    ACL_TRY(acl_check_output(c, n, &m[1]));
    ACL_TRY(relu_forward(c, (struct acl_view){m[1], 0}, (struct acl_view){m[0], 0}, n, NULL));
    ACL_TRY(acl_check_compare(c, m[1], yd, n, 1e-7, &row));
    acl_selftest_report(t, &row);

    snprintf(row.op, sizeof row.op, "relu.backward");
    ACL_TRY(acl_check_input(c, dy, n, &m[2]));
    ACL_TRY(acl_check_output(c, n, &m[3]));
    ACL_TRY(relu_backward(c, (struct acl_view){m[3], 0}, (struct acl_view){m[2], 0}, (struct acl_view){m[1], 0},
                          n, NULL));
    ACL_TRY(acl_check_compare(c, m[3], dxd, n, 1e-7, &row));
    acl_selftest_report(t, &row);

    /* In place, at an offset, as the engine runs it inside a larger activation buffer. */
    snprintf(row.op, sizeof row.op, "relu.forward.inplace");
    ACL_TRY(acl_check_output_init(c, x, n, &m[4]));
    ACL_TRY(relu_forward(c, (struct acl_view){m[4], 0}, (struct acl_view){m[4], 0}, n, NULL));
    ACL_TRY(acl_check_compare(c, m[4], yd, n, 1e-7, &row));
    acl_selftest_report(t, &row);
cleanup:
    acl_release_mems(m, 5);
    free(x);
    free(xd);
    return st;
}

acl_status relu_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    /* 1, a prime past the work-group size, and conv1's output at batch 1 (96x55x55). */
    static const size_t sizes[] = {1, 67, 1021, 96 * 55 * 55};
    int count = t->tiny ? 3 : 4;
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, sizes[i], 1000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
