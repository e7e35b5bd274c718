/* testutil.h: what every test file shares: the engine (or a visible skip without a device), running an
 * op's selftest cases as a test, and central finite differences on the references. */
#ifndef ACL_TESTUTIL_H
#define ACL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alexnet_cl.h"
#include "ops/check.h"

/* The process's engine on $ACL_TEST_DEVICE (default 0), or NULL when no OpenCL device exists. */
acl_engine *test_engine(void);
struct acl_ctx *test_ctx(void);
/* skip() (visible in the output) when there is no device. */
#define TEST_NEED_DEVICE()                                                                         \
    do {                                                                                           \
        if (!test_engine()) {                                                                      \
            print_message("[  SKIPPED ] no OpenCL device: %s\n", acl_last_error());               \
            skip();                                                                                \
        }                                                                                          \
    } while (0)
/* Small shapes only: set ACL_TEST_TINY=1 (Oclgrind runs). */
int test_tiny(void);

/* Runs the selftest cases of ops whose name starts with prefix; fails on any failing row or if none ran. */
void test_op_cases(const char *prefix);

/* A scalar function of x (the rest of the inputs live in ctx). */
typedef double (*fd_fn)(void *ctx, const double *x);
/* Largest |numeric - analytic| / (atol + |numeric| + |analytic|) over x's n elements, with central
 * differences of step h. x is perturbed and restored. */
double fd_max_error(fd_fn f, void *ctx, double *x, size_t n, const double *analytic, double h, double atol);
double fd_dot(const double *a, const double *b, size_t n);
/* A whole file, malloc'd and NUL-terminated (*size may be NULL); fails the test when unreadable. */
/* Fails the test unless st is want and the last error message contains part. */
void test_expect_status(acl_status st, acl_status want, const char *part);
/* A fresh folder /tmp/acl-<tag>-XXXXXX written into dir (64 bytes or more), and its removal with what it holds:
 * the bodies of cmocka group fixtures; 0 on success. */
int test_tmpdir_make(char *dir, size_t size, const char *tag);
int test_tmpdir_remove(const char *dir);

/* Two devices for the tests of src/parallel, built once per process: both on one platform in one shared context
 * (POCL_DEVICES="pthread pthread" gives PoCL two), the same in a context each, staged with event callbacks or
 * with host waits, or on two platforms (PoCL and Oclgrind through OCL_ICD_VENDORS). skip() (visible) when the
 * machine has no such pair; test_pairs_release, a group teardown, releases every pair made. */
enum test_pair_kind { TEST_PAIR_SHARED, TEST_PAIR_SEPARATE_EVENTS, TEST_PAIR_SEPARATE_HOST_WAIT, TEST_PAIR_TWO_PLATFORMS,
                      TEST_PAIR_KINDS };
struct acl_pair;
struct acl_pair *test_pair(enum test_pair_kind kind);
int test_pairs_release(void **state);

unsigned char *test_read_file(const char *path, size_t *size);
/* Writes n bytes to path; fails the test on any error. */
void test_write_file(const char *path, const void *data, size_t n);
/* Random doubles in [lo, hi) from a seeded generator. */
void test_rand(uint64_t *seed, double *x, size_t n, double lo, double hi);

#endif
