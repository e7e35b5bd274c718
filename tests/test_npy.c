/* test_npy.c: .npy files made by numpy read back, our writer byte-identical to numpy.save, bad files refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/npy.h"
#include "testutil.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof tmpdir, "npy");
}

static int remove_tmpdir(void **state)
{
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

/* A version 1.0 (or 2.0) file image with this header text (used as is) and data_bytes zero bytes, in an
 * exact-size allocation. */
static unsigned char *image(int major, const char *header, size_t data_bytes, size_t *size)
{
    size_t n = strlen(header), prefix = major == 1 ? 10 : 12;
    *size = prefix + n + data_bytes;
    unsigned char *b = calloc(1, *size);
    assert_non_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    for (size_t i = 0; i < prefix - 8; i++)
        b[8 + i] = (unsigned char)(n >> (8 * i));
    memcpy(b + prefix, header, n);
    return b;
}

static acl_status read_header(int major, const char *header, size_t data_bytes, struct acl_npy_array *a)
{
    size_t size;
    unsigned char *b = image(major, header, data_bytes, &size);
    acl_status st = acl_npy_read_memory(b, size, "x.npy", a);
    free(b);
    return st;
}

static void expect_bad(const char *header, size_t data_bytes, const char *part)
{
    struct acl_npy_array a;
    test_expect_status(read_header(1, header, data_bytes, &a), ACL_ERR_FORMAT, part);
    assert_null(a.data);
}

static void expect_good(const char *header, size_t data_bytes, int ndim, size_t count)
{
    struct acl_npy_array a;
    acl_status st = read_header(1, header, data_bytes, &a);
    if (st != ACL_OK)
        fail_msg("%s: %s", header, acl_last_error());
    assert_int_equal(a.ndim, ndim);
    assert_int_equal(a.count, count);
    assert_non_null(a.data);
    acl_npy_free(&a);
}

/* ---- tests */

static void golden_reads(void **state)
{
    (void)state;
    struct acl_npy_array a;
    assert_int_equal(acl_npy_read(ACL_TEST_DATA "/f32_2x3.npy", &a), ACL_OK);
    assert_true(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.count == 6);
    for (int i = 0; i < 6; i++)
        assert_true(a.data[i] == (float)i * 0.5f - 1.0f);
    acl_npy_free(&a);
    assert_null(a.data);

    assert_int_equal(acl_npy_read(ACL_TEST_DATA "/f32_v2.npy", &a), ACL_OK);
    assert_true(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.data[5] == 1.5f);
    acl_npy_free(&a);

    const float d1[] = {1.5f, -2.25f, 0.0f, 3e-3f, 65504.0f};
    assert_int_equal(acl_npy_read(ACL_TEST_DATA "/f32_1d.npy", &a), ACL_OK);
    assert_true(a.ndim == 1 && a.shape[0] == 5);
    assert_memory_equal(a.data, d1, sizeof d1);
    acl_npy_free(&a);

    assert_int_equal(acl_npy_read(ACL_TEST_DATA "/f32_scalar.npy", &a), ACL_OK);
    assert_true(a.ndim == 0 && a.count == 1 && a.data[0] == 3.25f);
    acl_npy_free(&a);

    assert_int_equal(acl_npy_read(ACL_TEST_DATA "/f32_empty.npy", &a), ACL_OK);
    assert_true(a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 3 && a.count == 0 && a.data != NULL);
    acl_npy_free(&a);

    assert_int_equal(acl_npy_read(ACL_TEST_DATA "/f32_4d.npy", &a), ACL_OK);
    assert_true(a.ndim == 4 && a.shape[0] == 1 && a.shape[1] == 3 && a.shape[2] == 2 && a.shape[3] == 2);
    for (int i = 0; i < 12; i++)
        assert_true(a.data[i] == (float)i / 8);
    acl_npy_free(&a);
}

static void golden_rejects(void **state)
{
    (void)state;
    struct acl_npy_array a;
    test_expect_status(acl_npy_read(ACL_TEST_DATA "/f64.npy", &a), ACL_ERR_FORMAT,
                 "f64.npy: dtype '<f8' (float64) is not supported");
    assert_null(a.data);
    test_expect_status(acl_npy_read(ACL_TEST_DATA "/i64.npy", &a), ACL_ERR_FORMAT, "dtype '<i8' (int64)");
    test_expect_status(acl_npy_read(ACL_TEST_DATA "/f32_big_endian.npy", &a), ACL_ERR_FORMAT,
                 "dtype '>f4' (big-endian float32)");
    test_expect_status(acl_npy_read(ACL_TEST_DATA "/f32_fortran.npy", &a), ACL_ERR_FORMAT, "fortran_order is True");
    test_expect_status(acl_npy_read("/nonexistent.npy", &a), ACL_ERR_IO, "/nonexistent.npy: cannot open");
    test_expect_status(acl_npy_read(tmpdir, &a), ACL_ERR_IO, "not a regular file");
    test_expect_status(acl_npy_read(ACL_TEST_DATA "/golden.safetensors", &a), ACL_ERR_FORMAT, "not a .npy file");
}

/* Our writer produces exactly the bytes numpy.save did for the same array. */
static void writer_matches_numpy(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int ndim;
        int64_t shape[16];
    } cases[] = {
        {"f32_2x3.npy", 2, {2, 3}}, {"f32_1d.npy", 1, {5}}, {"f32_scalar.npy", 0, {0}},
        {"f32_empty.npy", 2, {0, 3}}, {"f32_4d.npy", 4, {1, 3, 2, 2}},
        /* long enough that numpy's spare room for growing axis 0 moves the data start by 64 bytes */
        {"f32_15d.npy", 15, {1, 1, 2, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        size_t gsize, size;
        void *buf;
        snprintf(path, sizeof path, "%s/%s", ACL_TEST_DATA, cases[i].file);
        unsigned char *golden = test_read_file(path, &gsize);
        struct acl_npy_array a;
        assert_int_equal(acl_npy_read(path, &a), ACL_OK);
        assert_int_equal(acl_npy_write_memory(a.data, cases[i].ndim, cases[i].shape, &buf, &size), ACL_OK);
        if (size != gsize || memcmp(buf, golden, size) != 0)
            fail_msg("%s: our bytes (%zu) differ from numpy's (%zu)", cases[i].file, size, gsize);
        assert_int_equal((size - a.count * 4) % 64, 0); /* the data starts 64-byte aligned */
        acl_npy_free(&a);
        free(buf);
        free(golden);
    }
}

static void file_round_trip(void **state)
{
    (void)state;
    char path[128], tmp[140];
    float x[2 * 3 * 5];
    const int64_t shape[3] = {2, 3, 5};
    struct acl_npy_array a;
    for (int i = 0; i < 30; i++)
        x[i] = (float)(i * i) * -0.37f;
    snprintf(path, sizeof path, "%s/y.npy", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(acl_npy_write(path, x, 3, shape), ACL_OK);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(acl_npy_read(path, &a), ACL_OK);
    assert_true(a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 5 && a.count == 30);
    assert_memory_equal(a.data, x, sizeof x);
    acl_npy_free(&a);

    /* bad arguments leave the previous file as it was */
    const int64_t negative[2] = {2, -3};
    test_expect_status(acl_npy_write(path, x, 2, negative), ACL_ERR_ARGUMENT, "y.npy: negative dimension -3");
    test_expect_status(acl_npy_write(path, x, 33, shape), ACL_ERR_ARGUMENT, "rank 33");
    test_expect_status(acl_npy_write(path, NULL, 3, shape), ACL_ERR_ARGUMENT, "no data");
    assert_int_equal(acl_npy_read(path, &a), ACL_OK);
    assert_int_equal(a.count, 30);
    acl_npy_free(&a);
    assert_int_equal(access(tmp, F_OK), -1);

    snprintf(path, sizeof path, "%s/missing/y.npy", tmpdir);
    test_expect_status(acl_npy_write(path, x, 3, shape), ACL_ERR_IO, "cannot create");
}

static void truncated_at_every_length(void **state)
{
    (void)state;
    static const char *files[] = {"f32_2x3.npy", "f32_v2.npy", "f32_scalar.npy"};
    char cut_path[128];
    snprintf(cut_path, sizeof cut_path, "%s/cut.npy", tmpdir);
    for (size_t k = 0; k < 3; k++) {
        char path[512];
        size_t size;
        snprintf(path, sizeof path, "%s/%s", ACL_TEST_DATA, files[k]);
        unsigned char *full = test_read_file(path, &size);
        for (size_t n = 0; n < size; n++) {
            struct acl_npy_array a;
            unsigned char *cut = malloc(n ? n : 1);
            memcpy(cut, full, n);
            acl_status st = acl_npy_read_memory(cut, n, "cut", &a);
            if (st != ACL_ERR_FORMAT || a.data)
                fail_msg("%s cut to %zu bytes: %s %s", files[k], n, acl_status_name(st), acl_last_error());
            free(cut);
            test_write_file(cut_path, full, n);
            st = acl_npy_read(cut_path, &a);
            if (st != ACL_ERR_FORMAT || a.data)
                fail_msg("%s cut to %zu bytes on disk: %s %s", files[k], n, acl_status_name(st), acl_last_error());
        }
        free(full);
    }
}

static void hand_built_headers(void **state)
{
    (void)state;
    /* what numpy (and older numpys, and hands) write */
    expect_good("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }      \n", 24, 2, 6);
    expect_good("{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,3)}", 24, 2, 6);
    expect_good("{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}\n", 12, 1, 3);
    expect_good("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n", 24, 2, 6);
    expect_good("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 4, 0, 1);
    expect_good("{'descr': '<f4',\n 'fortran_order': False,\t'shape': ( 4 , ) }\n", 16, 1, 4);
    /* and what they must not */
    expect_bad("{'descr': '<f4', 'fortran_order': False, }\n", 0, "x.npy: header: missing key 'shape'");
    expect_bad("{'descr': '<f4', 'shape': (1,), }\n", 4, "missing key 'fortran_order'");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", 4, "unknown key 'x'");
    expect_bad("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", 4,
               "key 'descr' appears twice");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3)}\n", 12, "shape (3) is not a tuple");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3\n", 24, "expected ',' or ')'");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}\n", 24, "expected ',' or ')'");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}\n", 0, "negative dimension");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (,)}\n", 0, "expected a dimension");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (01,)}\n", 4, "without leading zeros");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}\n", 8, "expected '('");
    expect_bad("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}\n", 8, "expected True or False");
    expect_bad("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}\n", 8, "expected True or False");
    expect_bad("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}\n", 8, "structured dtypes");
    expect_bad("{'descr': '<f4\\n', 'fortran_order': False, 'shape': (2,)}\n", 8, "plain ASCII string");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x\n", 8, "only padding after");
    expect_bad("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}\n", 8, "expected ',' or '}'");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)\n", 8, "expected ',' or '}', found the end");
    expect_bad("", 0, "expected '{'");
    /* sizes: a huge shape is refused before any allocation; so is an overflowing one, and extra bytes */
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 4)}\n", 16,
               "truncated: shape (1099511627776, 4) needs 17592186044416 bytes of data, the file has 16");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}\n", 16,
               "needs over");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,)}\n", 16, "too large");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\n", 20,
               "needs 24 bytes of data, the file has 20");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\n", 28,
               "4 bytes follow the data of shape (2, 3)");
    char many[512] = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (int i = 0; i < 33; i++)
        strcat(many, "1,");
    strcat(many, ")}\n");
    expect_bad(many, 4, "more than 32 dimensions");
}

static void bad_preambles(void **state)
{
    (void)state;
    struct acl_npy_array a;
    size_t size;
    unsigned char *b = image(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", 4, &size);
    assert_int_equal(acl_npy_read_memory(b, size, "x", &a), ACL_OK);
    acl_npy_free(&a);
    b[6] = 4;
    test_expect_status(acl_npy_read_memory(b, size, "x", &a), ACL_ERR_FORMAT, "version 4.0 is not supported");
    b[6] = 1;
    b[7] = 1;
    test_expect_status(acl_npy_read_memory(b, size, "x", &a), ACL_ERR_FORMAT, "version 1.1");
    b[7] = 0;
    b[1] = 'n';
    test_expect_status(acl_npy_read_memory(b, size, "x", &a), ACL_ERR_FORMAT, "x: not a .npy file");
    b[1] = 'N';
    b[8] = 0xff;
    b[9] = 0xff;
    test_expect_status(acl_npy_read_memory(b, size, "x", &a), ACL_ERR_FORMAT, "the header needs 65545 bytes");
    free(b);
    b = image(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", 4, &size);
    assert_int_equal(acl_npy_read_memory(b, size, "x", &a), ACL_OK);
    acl_npy_free(&a);
    b[10] = 1; /* 65536 + the real length */
    test_expect_status(acl_npy_read_memory(b, size, "x", &a), ACL_ERR_FORMAT, "over the 65536-byte limit");
    b[10] = 0;
    b[11] = 0x80;
    test_expect_status(acl_npy_read_memory(b, size, "x", &a), ACL_ERR_FORMAT, "over the 65536-byte limit");
    b[6] = 3; /* version 3.0 only allows UTF-8 in the header; the layout is 2.0's */
    b[11] = 0;
    assert_int_equal(acl_npy_read_memory(b, size, "x", &a), ACL_OK);
    acl_npy_free(&a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_reads),
        cmocka_unit_test(golden_rejects),
        cmocka_unit_test(writer_matches_numpy),
        cmocka_unit_test(file_round_trip),
        cmocka_unit_test(truncated_at_every_length),
        cmocka_unit_test(hand_built_headers),
        cmocka_unit_test(bad_preambles),
    };
    return cmocka_run_group_tests_name("npy", tests, make_tmpdir, remove_tmpdir);
}
