/* check.c: device-versus-reference comparison with poison and sentinels (see check.h). */
#include "ops/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

/* -1.2345678f: an ordinary magnitude, so that even "+= small" past the end changes it, and negative, so that
 * ReLU or max of a copied sentinel does not reproduce it. */
static const uint32_t sentinel_bits = 0xbf9e0651u;
static const uint32_t poison_bits = 0x7fc0dead;     /* a quiet NaN */

void acl_selftest_report(struct acl_selftest *t, const acl_check_row *row)
{
    t->rows++;
    t->failures += !row->pass;
    if (t->report)
        t->report(row, t->user);
}

static acl_status alloc_with_sentinel(struct acl_ctx *c, const float *init, size_t n, cl_mem *out)
{
    acl_status st = ACL_OK;
    size_t total = n + ACL_SENTINEL_FLOATS;
    float *host = malloc(total * sizeof *host);
    if (!host)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory (%zu floats)", total);
    for (size_t i = 0; i < total; i++) {
        uint32_t bits = i < n ? poison_bits : sentinel_bits;
        memcpy(&host[i], &bits, sizeof bits);
    }
    if (init)
        memcpy(host, init, n * sizeof *host);
    ACL_TRY(acl_buffer(c, total * sizeof *host, out));
    st = acl_write(c, *out, 0, total * sizeof *host, host);
    if (st != ACL_OK) {
        clReleaseMemObject(*out);
        *out = NULL;
    }
cleanup:
    free(host);
    return st;
}

acl_status acl_check_output(struct acl_ctx *c, size_t n, cl_mem *out) { return alloc_with_sentinel(c, NULL, n, out); }

acl_status acl_check_output_init(struct acl_ctx *c, const float *init, size_t n, cl_mem *out)
{
    return alloc_with_sentinel(c, init, n, out);
}

acl_status acl_check_input(struct acl_ctx *c, const float *host, size_t n, cl_mem *out)
{
    acl_status st = acl_buffer(c, n * sizeof(float), out);
    if (st == ACL_OK && (st = acl_write(c, *out, 0, n * sizeof(float), host)) != ACL_OK) {
        clReleaseMemObject(*out);
        *out = NULL;
    }
    return st;
}

static int sentinel_intact(const uint32_t *bits, size_t n)
{
    for (size_t i = n; i < n + ACL_SENTINEL_FLOATS; i++)
        if (bits[i] != sentinel_bits)
            return 0;
    return 1;
}

acl_status acl_check_compare(struct acl_ctx *c, cl_mem out, const double *ref, size_t n, double tol,
                             acl_check_row *row)
{
    size_t total = n + ACL_SENTINEL_FLOATS;
    float *dev = malloc(total * sizeof *dev);
    if (!dev)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory (%zu floats)", total);
    acl_status st = acl_read(c, out, 0, total * sizeof *dev, dev);
    if (st != ACL_OK) {
        free(dev);
        return st;
    }
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(ref[i]));
    if (scale == 0)
        scale = 1e-30;
    row->max_err = 0;
    row->max_abs = 0;
    row->pass = 1;
    row->note[0] = '\0';
    size_t nonfinite = 0, first_bad = n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(dev[i])) {
            if (nonfinite++ == 0)
                first_bad = i;
            continue;
        }
        double d = fabs((double)dev[i] - ref[i]);
        double e = d / (tol * (fabs(ref[i]) + scale));
        row->max_abs = fmax(row->max_abs, d);
        if (e > row->max_err) {
            row->max_err = e;
            if (e > 1 && first_bad == n)
                first_bad = i;
        }
    }
    if (nonfinite) {
        row->pass = 0;
        snprintf(row->note, sizeof row->note, "%zu NaN/Inf (first at %zu)", nonfinite, first_bad);
    } else if (!sentinel_intact((const uint32_t *)dev, n)) {
        row->pass = 0;
        snprintf(row->note, sizeof row->note, "wrote past the end");
    } else if (row->max_err > 1) {
        row->pass = 0;
        snprintf(row->note, sizeof row->note, "error bound exceeded at %zu", first_bad);
    }
    free(dev);
    return ACL_OK;
}

acl_status acl_check_compare_int(struct acl_ctx *c, cl_mem out, const int *ref, size_t n, acl_check_row *row)
{
    size_t total = n + ACL_SENTINEL_FLOATS;
    int32_t *dev = malloc(total * sizeof *dev);
    if (!dev)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory (%zu ints)", total);
    acl_status st = acl_read(c, out, 0, total * sizeof *dev, dev);
    if (st != ACL_OK) {
        free(dev);
        return st;
    }
    size_t wrong = 0, first = n;
    for (size_t i = 0; i < n; i++)
        if (dev[i] != ref[i] && wrong++ == 0)
            first = i;
    row->max_abs = (double)wrong;
    row->max_err = wrong ? 2 : 0;
    row->pass = wrong == 0;
    row->note[0] = '\0';
    if (wrong)
        snprintf(row->note, sizeof row->note, "%zu wrong (first at %zu)", wrong, first);
    else if (!sentinel_intact((const uint32_t *)dev, n)) {
        row->pass = 0;
        row->max_err = 2;
        snprintf(row->note, sizeof row->note, "wrote past the end");
    }
    free(dev);
    return ACL_OK;
}

/* splitmix64: a tiny, well-mixed generator for test data (the kernels' generator is Philox). */
static uint64_t next64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t acl_rand_u32(uint64_t *state) { return (uint32_t)(next64(state) >> 32); }

void acl_rand_fill(uint64_t *state, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)((next64(state) >> 40) * (1.0 / 16777216.0));
}

void acl_to_double(const float *x, double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i];
}

void acl_release_mems(cl_mem *mems, int n)
{
    for (int i = 0; i < n; i++)
        if (mems[i]) {
            clReleaseMemObject(mems[i]);
            mems[i] = NULL;
        }
}
