/* testutil.c: shared test helpers (see testutil.h). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engine.h"

static acl_engine *engine;
static int tried;

static void destroy_engine(void) { acl_engine_destroy(engine); }

acl_engine *test_engine(void)
{
    if (!tried) {
        tried = 1;
        acl_engine_options opt = {.device = getenv("ACL_TEST_DEVICE")};
        acl_status st = acl_engine_create(&opt, &engine);
        if (st != ACL_OK) {
            engine = NULL;
            /* No platform or device: tests skip. Anything else (a kernel that fails to build) is a failure. */
            if (st != ACL_ERR_NO_PLATFORM && st != ACL_ERR_NO_DEVICE) {
                fprintf(stderr, "engine start failed: %s\n", acl_last_error());
                exit(1);
            }
        } else {
            atexit(destroy_engine);
        }
    }
    return engine;
}

struct acl_ctx *test_ctx(void) { return test_engine() ? acl_engine_ctx(test_engine()) : NULL; }

int test_tiny(void)
{
    const char *t = getenv("ACL_TEST_TINY");
    return t && *t && strcmp(t, "0") != 0;
}

struct tally {
    int rows;
};

static void report(const acl_check_row *r, void *user)
{
    struct tally *t = user;
    t->rows++;
    if (!r->pass)
        print_message("[  FAILED  ] %s %s: max|err| %.3g, err/bound %.3g %s\n", r->op, r->shape, r->max_abs,
                      r->max_err, r->note);
}

void test_op_cases(const char *prefix)
{
    TEST_NEED_DEVICE();
    struct tally t = {0};
    int failures = -1;
    acl_status st = acl_selftest(test_engine(), test_tiny(), prefix, report, &t, &failures);
    if (st != ACL_OK)
        print_message("selftest %s: %s\n", prefix, acl_last_error());
    assert_int_equal(st, ACL_OK);
    assert_true(t.rows > 0);
    assert_int_equal(failures, 0);
}

double fd_max_error(fd_fn f, void *ctx, double *x, size_t n, const double *analytic, double h, double atol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = x[i];
        x[i] = keep + h;
        double up = f(ctx, x);
        x[i] = keep - h;
        double down = f(ctx, x);
        x[i] = keep;
        double num = (up - down) / (2 * h);
        double e = fabs(num - analytic[i]) / (atol + fabs(num) + fabs(analytic[i]));
        if (e > worst)
            worst = e;
    }
    return worst;
}

double fd_dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

void test_rand(uint64_t *seed, double *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (acl_rand_u32(seed) / 4294967296.0);
}

unsigned char *test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = '\0';
    if (size)
        *size = (size_t)n;
    return b;
}

void test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

void test_expect_status(acl_status st, acl_status want, const char *part)
{
    if (st != want || !strstr(acl_last_error(), part))
        fail_msg("expected %s with \"%s\", got %s: %s", acl_status_name(want), part, acl_status_name(st),
                 acl_last_error());
}

int test_tmpdir_make(char *dir, size_t size, const char *tag)
{
    snprintf(dir, size, "/tmp/acl-%s-XXXXXX", tag);
    return mkdtemp(dir) ? 0 : -1;
}

int test_tmpdir_remove(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}
