/* check.h: comparing a device result with its host reference, the way every test and `selftest` does.
 *
 * Outputs are allocated with a sentinel region behind them: the output itself is poisoned with NaN (so
 * an element the kernel forgot fails), the sentinel is filled with a pattern that must survive (so a
 * write past the end fails). An element passes when |dev - ref| <= tol * (|ref| + max|ref|): the bound
 * scales with the data. NaN and Inf always fail. */
#ifndef ACL_OPS_CHECK_H
#define ACL_OPS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/ctx.h"

#define ACL_SENTINEL_FLOATS 67 /* odd on purpose: catches vector stores past the end */

/* One run of selftest: which cases, where results go, how many failed. */
struct acl_selftest {
    int tiny;             /* small shapes only (simulators, Oclgrind) */
    acl_check_fn report;  /* may be NULL */
    void *user;
    int rows;
    int failures;
};

/* Counts and forwards a row. */
void acl_selftest_report(struct acl_selftest *t, const acl_check_row *row);

/* A device buffer holding host data (n floats). */
acl_status acl_check_input(struct acl_ctx *c, const float *host, size_t n, cl_mem *out);
/* A poisoned output of n floats followed by the sentinel. */
acl_status acl_check_output(struct acl_ctx *c, size_t n, cl_mem *out);
/* An output that the kernel updates in place (accumulating gradients, SGD): holds init, then the sentinel. */
acl_status acl_check_output_init(struct acl_ctx *c, const float *init, size_t n, cl_mem *out);

/* Reads out back and compares it with ref; fills row (op and shape are the caller's). */
acl_status acl_check_compare(struct acl_ctx *c, cl_mem out, const double *ref, size_t n, double tol,
                             acl_check_row *row);
/* The same for an int output (top-k counts, argmax): exact match required. */
acl_status acl_check_compare_int(struct acl_ctx *c, cl_mem out, const int *ref, size_t n, acl_check_row *row);

/* Host-side helpers shared by the references and the tests. */
void acl_rand_fill(uint64_t *state, float *x, size_t n, float lo, float hi);
uint32_t acl_rand_u32(uint64_t *state);
void acl_to_double(const float *x, double *y, size_t n);
void acl_release_mems(cl_mem *mems, int n);

#endif
