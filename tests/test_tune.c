/* test_tune.c: the tuning table (key, parse, write, read; a corrupt file or one of another device, driver or
 * engine is ignored), CLBlast's Xgemm constraints, the verification rejecting a candidate whose kernel and
 * launcher disagree, and a context built from a stored non-default table passing the ops' selftests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/autotune.h"
#include "ops/conv.h"
#include "ops/lrn.h"
#include "ops/maxpool.h"
#include "ops/sgemm.h"
#include "runtime/ctx.h"
#include "runtime/hash.h"
#include "runtime/tune.h"
#include "testutil.h"

static char dir[256];

/* The current format and a valid sgemm line, for tables written by hand below. */
#define FORMAT "3"
#define SGEMM_LINE "sgemm vw=8 tm=6 nn_tm=5 dm=2 dn=5\n"

static int setup(void **state)
{
    (void)state;
    return test_tmpdir_make(dir, sizeof dir, "tune");
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(dir);
}

static acl_device_info fake_device(void)
{
    acl_device_info d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "Test Device 9000");
    snprintf(d.driver_version, sizeof d.driver_version, "1.2.3");
    return d;
}

static struct acl_tune tuned(void)
{
    struct acl_tune t;
    acl_tune_defaults(&t);
    t.conv_px = 4;
    t.conv_px_few = 5;
    t.conv_local = 16;
    t.lrn_vec = 4;
    t.maxpool_vec = 8;
    t.sg_vw = 16;
    t.sg_tm = 4;
    t.sg_nn_tm = 7;
    t.sg_dm = 3;
    t.sg_dn = 4;
    return t;
}

/* A table file with a correct checksum around body (which ends with "xgemm ...\n"). */
static void write_with_checksum(const char *path, const char *body)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s", body);
    n += snprintf(buf + n, sizeof buf - (size_t)n, "checksum %016llx\n",
                  (unsigned long long)acl_fnv1a(ACL_FNV_OFFSET, body, strlen(body)));
    test_write_file(path, buf, (size_t)n);
}

static void roundtrip(void **state)
{
    (void)state;
    acl_device_info d = fake_device();
    char path[512], why[1024];
    acl_tune_path(dir, &d, path, sizeof path);
    assert_non_null(strstr(path, "/tune-"));
    struct acl_tune t = tuned(), r;
    assert_int_equal(acl_tune_write(path, &d, &t), ACL_OK);
    assert_int_equal(acl_tune_read(path, &d, &r, why, sizeof why), 1);
    assert_int_equal(memcmp(&t, &r, sizeof t), 0);

    /* With a CLBlast Xgemm set (the one measured correct in ../shared/peer/MEASURED.md). */
    const size_t xg[ACL_XGEMM_NPARAMS] = {0, 1, 16, 2, 4, 4, 64, 4, 4, 64, 0, 0, 0, 0, 16, 16};
    t.xgemm_set = 1;
    memcpy(t.xgemm, xg, sizeof xg);
    assert_int_equal(acl_tune_write(path, &d, &t), ACL_OK);
    assert_int_equal(acl_tune_read(path, &d, &r, why, sizeof why), 1);
    assert_int_equal(memcmp(&t, &r, sizeof t), 0);

    /* No file: the defaults, and no complaint. */
    struct acl_tune def;
    acl_tune_defaults(&def);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.txt", dir);
    assert_int_equal(acl_tune_read(missing, &d, &r, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_int_equal(memcmp(&def, &r, sizeof r), 0);
}

static void ignored(const char *path, const acl_device_info *d, const char *part)
{
    struct acl_tune r, def;
    char why[1024];
    acl_tune_defaults(&def);
    assert_int_equal(acl_tune_read(path, d, &r, why, sizeof why), 0);
    if (!strstr(why, part))
        fail_msg("expected \"%s\" in \"%s\"", part, why);
    assert_int_equal(memcmp(&def, &r, sizeof r), 0); /* the defaults, never part of the file */
}

static void corrupt_files(void **state)
{
    (void)state;
    acl_device_info d = fake_device();
    char path[512];
    acl_tune_path(dir, &d, path, sizeof path);
    struct acl_tune t = tuned();
    assert_int_equal(acl_tune_write(path, &d, &t), ACL_OK);
    size_t n = 0;
    unsigned char *good = test_read_file(path, &n);

    /* One changed digit: the checksum fails. */
    unsigned char *bad = malloc(n);
    memcpy(bad, good, n);
    char *px = strstr((char *)bad, "conv_px 4");
    assert_non_null(px);
    px[8] = '5';
    test_write_file(path, bad, n);
    ignored(path, &d, "corrupt");
    /* Cut short, empty, binary, garbage. */
    test_write_file(path, good, n / 2);
    ignored(path, &d, "");
    test_write_file(path, "", 0);
    ignored(path, &d, "empty");
    test_write_file(path, "\0\1\2\n", 4);
    ignored(path, &d, "not text");
    test_write_file(path, "hello\n", 6);
    ignored(path, &d, "corrupt");
    /* A well-checksummed file with an unknown line, or a value out of range. */
    write_with_checksum(path, "alexnet-cl tuning table " FORMAT "\nengine " ACL_VERSION_STRING
                              "\ndevice Test Device 9000\ndriver 1.2.3\nconv_px 4\nconv_px_few 5\nconv_local 16\nlrn_vec 4\n"
                              "colour blue\n" SGEMM_LINE "xgemm default\n");
    ignored(path, &d, "does not parse");
    write_with_checksum(path, "alexnet-cl tuning table " FORMAT "\nengine " ACL_VERSION_STRING
                              "\ndevice Test Device 9000\ndriver 1.2.3\nconv_px 99\nconv_px_few 5\nconv_local 16\nlrn_vec 4\n"
                              "maxpool_vec 8\n" SGEMM_LINE "xgemm default\n");
    ignored(path, &d, "invalid value");
    /* An Xgemm set that violates CLBlast's constraints is not trusted from a file either. */
    write_with_checksum(path, "alexnet-cl tuning table " FORMAT "\nengine " ACL_VERSION_STRING
                              "\ndevice Test Device 9000\ndriver 1.2.3\nconv_px 4\nconv_px_few 5\nconv_local 16\nlrn_vec 4\n"
                              "maxpool_vec 8\n" SGEMM_LINE
                              "xgemm GEMMK=0 KREG=1 KWG=16 KWI=2 MDIMA=4 MDIMC=4 MWG=32 NDIMB=4 "
                              "NDIMC=4 NWG=64 SA=0 SB=0 STRM=0 STRN=0 VWM=16 VWN=16\n");
    ignored(path, &d, "MWG % (MDIMC*VWM)");
    /* The own SGEMM's tiles: out of range, or not in the expected form. */
    write_with_checksum(path, "alexnet-cl tuning table " FORMAT "\nengine " ACL_VERSION_STRING
                              "\ndevice Test Device 9000\ndriver 1.2.3\nconv_px 4\nconv_px_few 5\nconv_local 16\nlrn_vec 4\n"
                              "maxpool_vec 8\nsgemm vw=12 tm=6 nn_tm=5 dm=2 dn=5\nxgemm default\n");
    ignored(path, &d, "vw 12");
    write_with_checksum(path, "alexnet-cl tuning table " FORMAT "\nengine " ACL_VERSION_STRING
                              "\ndevice Test Device 9000\ndriver 1.2.3\nconv_px 4\nconv_px_few 5\nconv_local 16\nlrn_vec 4\n"
                              "maxpool_vec 8\nsgemm vw=8 tm=9 nn_tm=5 dm=2 dn=5\nxgemm default\n");
    ignored(path, &d, "tm 9");
    write_with_checksum(path, "alexnet-cl tuning table " FORMAT "\nengine " ACL_VERSION_STRING
                              "\ndevice Test Device 9000\ndriver 1.2.3\nconv_px 4\nconv_px_few 5\nconv_local 16\nlrn_vec 4\n"
                              "maxpool_vec 8\nsgemm vw=8 tm=6 nn_tm=5 dm=2 dn=5 x\nxgemm default\n");
    ignored(path, &d, "does not parse");
    free(bad);
    free(good);
}

static void other_key(void **state)
{
    (void)state;
    acl_device_info d = fake_device(), other = d;
    char path[512];
    acl_tune_path(dir, &d, path, sizeof path);
    struct acl_tune t = tuned();
    assert_int_equal(acl_tune_write(path, &d, &t), ACL_OK);
    snprintf(other.name, sizeof other.name, "Another Device");
    ignored(path, &other, "another engine, device or driver");
    other = d;
    snprintf(other.driver_version, sizeof other.driver_version, "1.2.4");
    ignored(path, &other, "another engine, device or driver");
    write_with_checksum(path, "alexnet-cl tuning table " FORMAT "\nengine 0.0.0-old\ndevice Test Device 9000\n"
                              "driver 1.2.3\nconv_px 4\nconv_px_few 5\nconv_local 16\nlrn_vec 4\nmaxpool_vec 8\n" SGEMM_LINE
                              "xgemm default\n");
    ignored(path, &d, "engine 0.0.0-old");
    /* Format 1, before the own SGEMM's tiles: ignored, not half read. */
    write_with_checksum(path, "alexnet-cl tuning table 1\nengine " ACL_VERSION_STRING
                              "\ndevice Test Device 9000\ndriver 1.2.3\nconv_px 4\nconv_local 16\nlrn_vec 4\n"
                              "maxpool_vec 8\nxgemm default\n");
    ignored(path, &d, "format " FORMAT);
    /* Format 2, before conv_px_few, likewise. */
    write_with_checksum(path, "alexnet-cl tuning table 2\nengine " ACL_VERSION_STRING
                              "\ndevice Test Device 9000\ndriver 1.2.3\nconv_px 4\nconv_local 16\nlrn_vec 4\n"
                              "maxpool_vec 8\n" SGEMM_LINE "xgemm default\n");
    ignored(path, &d, "format " FORMAT);
    /* A table the writer refuses to write. */
    t.conv_local = 3;
    test_expect_status(acl_tune_write(path, &d, &t), ACL_ERR_ARGUMENT, "conv_local");
}

static void xgemm_constraints(void **state)
{
    (void)state;
    char why[128];
    size_t good[ACL_XGEMM_NPARAMS] = {0, 1, 16, 2, 4, 4, 64, 4, 4, 64, 0, 0, 0, 0, 16, 16};
    assert_int_equal(acl_xgemm_valid(good, why, sizeof why), 1);
    /* MEASURED.md's garbage at "325 GFLOP/s": MWG=32 with MDIMC*VWM = 64. */
    size_t bad[ACL_XGEMM_NPARAMS];
    memcpy(bad, good, sizeof bad);
    bad[XG_MWG] = 32;
    assert_int_equal(acl_xgemm_valid(bad, why, sizeof why), 0);
    assert_non_null(strstr(why, "MWG % (MDIMC*VWM)"));
    memcpy(bad, good, sizeof bad);
    bad[XG_KWI] = 3;
    assert_int_equal(acl_xgemm_valid(bad, why, sizeof why), 0);
    memcpy(bad, good, sizeof bad);
    bad[XG_MDIMA] = 8;
    assert_int_equal(acl_xgemm_valid(bad, why, sizeof why), 0);
    memcpy(bad, good, sizeof bad);
    bad[XG_VWN] = 3;
    assert_int_equal(acl_xgemm_valid(bad, why, sizeof why), 0);
}

/* A candidate whose kernel was built with CONV_PX=4 but whose launcher thinks 8 leaves half the output
 * unwritten (poisoned): the verification must reject it, and accept the matching pair. */
static void verification_rejects(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_ctx *c = test_ctx();
    struct acl_tune keep = c->tune, t4 = c->tune;
    t4.conv_px = 4;
    t4.conv_px_few = 3;
    assert_int_equal(acl_ctx_rebuild(c, "conv.cl", &t4), ACL_OK);
    /* 3 input channels a group take conv_direct_forward_few (CONV_PX_FEW), 20 take conv_direct_forward (CONV_PX) */
    const struct conv_shape few = {1, 6, 13, 11, 20, 3, 3, 1, 1, 2}, many = {1, 40, 9, 11, 20, 3, 3, 1, 1, 2};
    const struct conv_shape *shapes[2] = {&few, &many};
    for (int i = 0; i < 2; i++) {
        int *px = i ? &c->tune.conv_px : &c->tune.conv_px_few, built = *px;
        acl_check_row row;
        assert_int_equal(tune_verify_conv(c, shapes[i], &row), ACL_OK);
        if (!row.pass)
            fail_msg("%s %s: %g %g %s", row.op, row.shape, row.max_abs, row.max_err, row.note);
        *px = 2 * built; /* a fast wrong answer: half the tiles */
        assert_int_equal(tune_verify_conv(c, shapes[i], &row), ACL_OK);
        assert_false(row.pass);
        *px = built - 1; /* the other way round only launches idle work-items (the kernel guards them): correct */
        assert_int_equal(tune_verify_conv(c, shapes[i], &row), ACL_OK);
        assert_true(row.pass);
        *px = built;
    }
    assert_int_equal(acl_ctx_rebuild(c, "conv.cl", &keep), ACL_OK);
    acl_check_row row;
    assert_int_equal(tune_verify_conv(c, &few, &row), ACL_OK);
    assert_true(row.pass);
}

/* The own SGEMM's tiles follow the device's preferred vector width where no table says otherwise. */
static void device_defaults(void **state)
{
    (void)state;
    acl_device_info d = fake_device();
    struct acl_tune t, def;
    acl_tune_defaults(&def);
    acl_tune_device_defaults(&t, &d);
    assert_int_equal(memcmp(&t, &def, sizeof t), 0);
    d.float_vector_width = 8;
    acl_tune_device_defaults(&t, &d);
    assert_int_equal(t.sg_vw, 8);
    d.float_vector_width = 16;
    acl_tune_device_defaults(&t, &d);
    assert_int_equal(t.sg_vw, 16);
    def.sg_vw = 16, def.sg_dm = 4, def.sg_dn = 4; /* and the dot tile that 32 registers hold */
    assert_int_equal(memcmp(&t, &def, sizeof t), 0); /* nothing else changes */
}

/* The own SGEMM built with 8-wide vectors under a launcher that thinks 16 leaves half of every product's
 * columns unwritten: the verification of a fully connected layer rejects it, and passes the matching pair.
 * Likewise a dot tile the kernel was not built with. */
static void sgemm_verification_rejects(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    setenv("ACL_GEMM", "own", 1);
    struct acl_ctx *c = test_ctx();
    struct acl_tune keep = c->tune, t8 = c->tune;
    t8.sg_vw = 8;
    assert_int_equal(acl_ctx_rebuild(c, "sgemm.cl", &t8), ACL_OK);
    struct fc_shape s = {13, 300, 70};
    acl_check_row row;
    assert_int_equal(tune_verify_sgemm(c, &s, &row), ACL_OK);
    if (!row.pass)
        fail_msg("%s %s: %g %g %s", row.op, row.shape, row.max_abs, row.max_err, row.note);
    c->tune.sg_vw = 16; /* a fast wrong answer */
    assert_int_equal(tune_verify_sgemm(c, &s, &row), ACL_OK);
    assert_false(row.pass);
    c->tune = t8;
    c->tune.sg_dn = 8; /* the forward's dot tile: 8 columns launched as if the kernel made 8, it makes 5 */
    assert_int_equal(tune_verify_sgemm(c, &s, &row), ACL_OK);
    assert_false(row.pass);
    assert_non_null(strstr(row.op, "sgemm.nt"));
    assert_int_equal(acl_ctx_rebuild(c, "sgemm.cl", &keep), ACL_OK);
    assert_int_equal(tune_verify_sgemm(c, &s, &row), ACL_OK);
    assert_true(row.pass);
    unsetenv("ACL_GEMM");
}

/* A context started where a non-default table is stored builds with it, and the ops stay correct. */
static void stored_table_is_used(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_ctx *tc = test_ctx();
    char path[512];
    acl_tune_path(dir, &tc->dev.info, path, sizeof path);
    struct acl_tune t = tuned();
    assert_int_equal(acl_tune_write(path, &tc->dev.info, &t), ACL_OK);
    acl_engine_options opt = {.cache_dir = dir};
    acl_startup_stats stats;
    struct acl_ctx c;
    assert_int_equal(acl_ctx_init(&c, &tc->dev, &opt, &stats), ACL_OK);
    assert_int_equal(memcmp(&c.tune, &t, sizeof t), 0);
    struct acl_selftest st = {.tiny = 1};
    assert_int_equal(conv_selftest(&c, &st), ACL_OK);
    assert_int_equal(lrn_selftest(&c, &st), ACL_OK);
    assert_int_equal(maxpool_selftest(&c, &st), ACL_OK);
    assert_int_equal(sgemm_selftest(&c, &st), ACL_OK);
    assert_true(st.rows > 0);
    assert_int_equal(st.failures, 0);
    acl_ctx_release(&c);
    /* ACL_TUNE=0 ignores it. */
    setenv("ACL_TUNE", "0", 1);
    assert_int_equal(acl_ctx_init(&c, &tc->dev, &opt, &stats), ACL_OK);
    unsetenv("ACL_TUNE");
    struct acl_tune def;
    acl_tune_device_defaults(&def, &tc->dev.info);
    assert_int_equal(memcmp(&c.tune, &def, sizeof def), 0);
    acl_ctx_release(&c);
    remove(path);
}

/* MEASURED.md's invalid Xgemm set (MWG=32 with MDIMC*VWM = 64) ran "fast" and returned garbage: handed to
 * CLBlast anyway (the search's own filter would refuse it), the verification rejects its output. Then the
 * valid set passes. Large enough that CLBlast takes its Xgemm kernel (512x512x1024 still ran its direct one). */
static void invalid_xgemm_rejected(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    /* On a CPU the fully connected layers take the own SGEMM, which CLBlast's parameters never reach. */
    setenv("ACL_GEMM", "clblast", 1);
    struct acl_ctx *c = test_ctx();
    struct acl_tune t = c->tune;
    const size_t good[ACL_XGEMM_NPARAMS] = {0, 1, 16, 2, 4, 4, 64, 4, 4, 64, 0, 0, 0, 0, 16, 16};
    memcpy(t.xgemm, good, sizeof good);
    t.xgemm[XG_MWG] = 32;
    t.xgemm_set = 1;
    char why[128];
    assert_int_equal(acl_xgemm_valid(t.xgemm, why, sizeof why), 0);
    assert_int_equal(acl_tune_apply_xgemm(&c->dev, &t), ACL_OK);
    struct fc_shape s = {1024, 1024, 1024};
    acl_check_row row;
    acl_status st = tune_verify_fc(c, &s, &row);
    assert_true(st != ACL_OK || !row.pass);
    memcpy(t.xgemm, good, sizeof good);
    assert_int_equal(acl_tune_apply_xgemm(&c->dev, &t), ACL_OK);
    assert_int_equal(tune_verify_fc(c, &s, &row), ACL_OK);
    if (!row.pass)
        fail_msg("%s %s: %g %g %s", row.op, row.shape, row.max_abs, row.max_err, row.note);
    unsetenv("ACL_GEMM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip),           cmocka_unit_test(corrupt_files),
        cmocka_unit_test(other_key),           cmocka_unit_test(xgemm_constraints),
        cmocka_unit_test(verification_rejects), cmocka_unit_test(stored_table_is_used),
        cmocka_unit_test(invalid_xgemm_rejected), cmocka_unit_test(device_defaults),
        cmocka_unit_test(sgemm_verification_rejects),
    };
    return cmocka_run_group_tests_name("tune", tests, setup, teardown);
}
