/* test_checkpoint.c: checkpoints round-trip; truncated, corrupt, foreign-version and other-model files are
 * refused with a message saying which; a failed write (unwritable folder, disk full) leaves the previous
 * checkpoint intact. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "testutil.h"
#include "train/checkpoint.h"

enum { P = 1000 };
static char dir[64];
static float params[P], momentum[P];
static const char *model = "input size=8\nfc out=classes\n";

static struct acl_ckpt_state sample_state(void)
{
    struct acl_ckpt_state s = {.seed = 42, .step = 1234, .epoch = 3, .position = 17, .batch = 128, .classes = 10,
                               .lr = 0.001f, .momentum = 0.9f, .weight_decay = 5e-4f, .best_metric = 0.25f,
                               .bad_epochs = 1, .param_count = P};
    return s;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/acl-ckpt-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    uint64_t seed = 1;
    acl_rand_fill(&seed, params, P, -1, 1);
    acl_rand_fill(&seed, momentum, P, -1, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static void round_trip(void **state)
{
    (void)state;
    char path[128];
    path_of(path, sizeof path, "a.ckpt");
    struct acl_ckpt_state s = sample_state();
    assert_int_equal(acl_ckpt_write(path, &s, model, params, momentum), ACL_OK);
    struct acl_checkpoint c;
    assert_int_equal(acl_ckpt_read(path, model, &c), ACL_OK);
    assert_memory_equal(&c.state, &s, sizeof s);
    assert_string_equal(c.model_text, model);
    assert_memory_equal(c.params, params, sizeof params);
    assert_memory_equal(c.momentum, momentum, sizeof momentum);
    acl_ckpt_free(&c);
    char tmp[140];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0); /* no temporary left behind */
}

static void bad_files_are_refused(void **state)
{
    (void)state;
    char path[128];
    path_of(path, sizeof path, "b.ckpt");
    struct acl_ckpt_state s = sample_state();
    assert_int_equal(acl_ckpt_write(path, &s, model, params, momentum), ACL_OK);
    size_t n = 0;
    unsigned char *b = test_read_file(path, &n);
    struct acl_checkpoint c;
    for (size_t len = 0; len < n; len += len < 200 ? 1 : 97) /* every truncation fails cleanly */
        assert_int_equal(acl_ckpt_read_memory(b, len, "t.ckpt", NULL, &c), ACL_ERR_FORMAT);
    assert_int_equal(acl_ckpt_read_memory(b, n, "t.ckpt", NULL, &c), ACL_OK);
    acl_ckpt_free(&c);
    b[n / 2] ^= 0x40; /* one flipped bit in the parameters */
    assert_int_equal(acl_ckpt_read_memory(b, n, "t.ckpt", NULL, &c), ACL_ERR_FORMAT);
    assert_non_null(strstr(acl_last_error(), "checksum"));
    b[n / 2] ^= 0x40;
    b[8] = 99; /* another format version */
    assert_int_equal(acl_ckpt_read_memory(b, n, "t.ckpt", NULL, &c), ACL_ERR_FORMAT);
    assert_non_null(strstr(acl_last_error(), "format version 99"));
    b[8] = ACL_CKPT_VERSION;
    b[0] = 'X';
    assert_int_equal(acl_ckpt_read_memory(b, n, "t.ckpt", NULL, &c), ACL_ERR_FORMAT);
    assert_non_null(strstr(acl_last_error(), "not an alexnet-cl checkpoint"));
    b[0] = 'A';
    assert_int_equal(acl_ckpt_read_memory(b, n, "t.ckpt", "input size=9\nfc out=classes\n", &c), ACL_ERR_FORMAT);
    assert_non_null(strstr(acl_last_error(), "another model"));
    free(b);
    assert_int_equal(acl_ckpt_read("/nonexistent/x.ckpt", NULL, &c), ACL_ERR_IO);
}

static void failed_writes_keep_the_previous_checkpoint(void **state)
{
    (void)state;
    char path[128];
    path_of(path, sizeof path, "c.ckpt");
    struct acl_ckpt_state s = sample_state();
    assert_int_equal(acl_ckpt_write(path, &s, model, params, momentum), ACL_OK);
    size_t n0 = 0;
    unsigned char *before = test_read_file(path, &n0);
    /* the disk fills up: a file-size limit makes writes fail with EFBIG part way */
    struct rlimit old, small = {1024, 0};
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    s.step = 9999;
    acl_status st = acl_ckpt_write(path, &s, model, params, momentum);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(st, ACL_ERR_IO);
    assert_non_null(strstr(acl_last_error(), "previous checkpoint is intact"));
    size_t n1 = 0;
    unsigned char *after = test_read_file(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
    assert_int_equal(acl_ckpt_write("/nonexistent-dir/x.ckpt", &s, model, params, momentum), ACL_ERR_IO);
    assert_non_null(strstr(acl_last_error(), "/nonexistent-dir/x.ckpt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(bad_files_are_refused),
        cmocka_unit_test(failed_writes_keep_the_previous_checkpoint),
    };
    return cmocka_run_group_tests_name("checkpoint", tests, setup, teardown);
}
