/* testutil.c: shared test helpers (see testutil.h). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel/pair.h"
#include "runtime/device.h"
#include "runtime/engine.h"
#include "runtime/error.h"

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

/* ---- two devices (src/parallel) ----------------------------------------------------------------- */

#define NPAIRS TEST_PAIR_KINDS

static struct acl_pair pairs[NPAIRS];
static int pair_state[NPAIRS]; /* 0 untried, 1 ready, -1 unavailable */
static char why[NPAIRS][256];

/* Two devices for the case: on one platform, or on two (the second one's first device). */
static int pick(enum test_pair_kind w, struct acl_device_ref *a, struct acl_device_ref *b)
{
    struct acl_device_ref *devs = NULL;
    size_t n = 0;
    int found = 0;
    if (acl_enumerate(&devs, &n) != ACL_OK) {
        snprintf(why[w], sizeof why[w], "no OpenCL device: %s", acl_last_error());
        return 0;
    }
    for (size_t i = 0; i < n && !found; i++)
        for (size_t j = i + 1; j < n && !found; j++)
            if ((devs[i].platform == devs[j].platform) == (w != TEST_PAIR_TWO_PLATFORMS)) {
                *a = devs[i];
                *b = devs[j];
                found = 1;
            }
    if (!found)
        snprintf(why[w], sizeof why[w], w == TEST_PAIR_TWO_PLATFORMS
                 ? "only one OpenCL platform is visible (Oclgrind not installed, or OCL_ICD_VENDORS lists one ICD)"
                 : "no platform has two devices (POCL_DEVICES=\"pthread pthread\" gives PoCL two)");
    free(devs);
    return found;
}

struct acl_pair *test_pair(enum test_pair_kind w)
{
    if (pair_state[w] == 0) {
        struct acl_device_ref a, b;
        pair_state[w] = -1;
        if (pick(w, &a, &b)) {
            enum acl_pair_mode mode = w == TEST_PAIR_SEPARATE_EVENTS || w == TEST_PAIR_SEPARATE_HOST_WAIT ? ACL_PAIR_SEPARATE
                                                                                      : ACL_PAIR_AUTO;
            acl_status st = acl_pair_init(&pairs[w], &a, &b, mode, NULL, NULL);
            if (st != ACL_OK)
                fail_msg("acl_pair_init(%s, %s): %s", a.info.name, b.info.name, acl_last_error());
            if (w == TEST_PAIR_SEPARATE_HOST_WAIT)
                pairs[w].stage = ACL_STAGE_HOST_WAIT;
            pair_state[w] = 1;
            print_message("[   INFO   ] devices %d (%s, %s) and %d (%s, %s), %s context%s\n", a.info.index,
                          a.info.name, a.info.platform, b.info.index, b.info.name, b.info.platform,
                          pairs[w].shared ? "one shared" : "separate", pairs[w].shared ? "" : "s");
            if (!pairs[w].shared)
                print_message("[   INFO   ] staged with %s\n", pairs[w].stage == ACL_STAGE_EVENTS
                              ? "event callbacks" : "host waits");
        }
    }
    if (pair_state[w] < 0) {
        print_message("[  SKIPPED ] %s\n", why[w]);
        skip();
    }
    return &pairs[w];
}

int test_pairs_release(void **state)
{
    (void)state;
    for (int w = 0; w < NPAIRS; w++)
        if (pair_state[w] > 0)
            acl_pair_release(&pairs[w]);
    memset(pair_state, 0, sizeof pair_state);
    return 0;
}
