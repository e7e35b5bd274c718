/* test_safetensors.c: safetensors round trips, the golden file, and the rejection of every kind of bad file. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "testutil.h"

/* ---- helpers */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof tmpdir, "st");
}

static int remove_tmpdir(void **state)
{
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* Expects st to be `want` with a message containing `part`. */
/* A file image: the header length, json, and data_size zero bytes. Returned in an exact-size allocation so
 * AddressSanitizer sees any read past the end. */
static unsigned char *image_n(const char *json, size_t n, size_t data_size, size_t *size)
{
    *size = 8 + n + data_size;
    unsigned char *b = calloc(1, *size);
    assert_non_null(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(b + 8, json, n);
    return b;
}

static unsigned char *image(const char *json, size_t data_size, size_t *size)
{
    return image_n(json, strlen(json), data_size, size);
}

static acl_status open_json_n(const char *json, size_t n, size_t data_size)
{
    size_t size;
    unsigned char *b = image_n(json, n, data_size, &size);
    struct acl_st_file *f = NULL;
    acl_status st = acl_st_open_memory(b, size, "x.safetensors", &f);
    assert_true(st == ACL_OK ? f != NULL : f == NULL);
    acl_st_close(f);
    free(b);
    return st;
}

static acl_status open_json(const char *json, size_t data_size)
{
    return open_json_n(json, strlen(json), data_size);
}

static void expect_bad(const char *json, size_t data_size, const char *part)
{
    test_expect_status(open_json(json, data_size), ACL_ERR_FORMAT, part);
}

#define T1(name) "\"" name "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

/* ---- the tensors of the round trips */

static float w[6] = {-1.5f, 0.0f, 3.25f, 1e-30f, -0.0f, 65504.0f};
static float bias[2] = {0.125f, -7.0f};
static float scalar = 42.5f;
static int64_t steps[2] = {-3, 1234567890123LL};
static unsigned char mask[3] = {1, 0, 255};
static const char *const meta[] = {"format", "pt", "note",
                                   "quote \" backslash \\ newline \n tab \t bell \a caf\xc3\xa9"};

static void fill_tensors(struct acl_st_tensor t[6])
{
    memset(t, 0, 6 * sizeof *t);
    t[0] = (struct acl_st_tensor){"conv1.weight", ACL_ST_F32, 4, {2, 3, 1, 1}, w};
    t[1] = (struct acl_st_tensor){"conv1.bias", ACL_ST_F32, 1, {2}, bias};
    t[2] = (struct acl_st_tensor){"scale", ACL_ST_F32, 0, {0}, &scalar};
    t[3] = (struct acl_st_tensor){"steps", ACL_ST_I64, 1, {2}, steps};
    t[4] = (struct acl_st_tensor){"mask \"odd\" name\n", ACL_ST_U8, 1, {3}, mask};
    t[5] = (struct acl_st_tensor){"empty", ACL_ST_F32, 2, {0, 5}, NULL};
}

static void check_contents(struct acl_st_file *f)
{
    struct acl_st_info info;
    float got[6];
    int64_t got_steps[2];
    unsigned char got_mask[3];
    assert_int_equal(acl_st_count(f), 6);
    acl_st_info_at(f, 0, &info);
    assert_string_equal(info.name, "conv1.weight");
    assert_int_equal(acl_st_find(f, "conv1.weight", &info), ACL_OK);
    assert_int_equal(info.dtype, ACL_ST_F32);
    assert_int_equal(info.ndim, 4);
    assert_true(info.shape[0] == 2 && info.shape[1] == 3 && info.shape[2] == 1 && info.shape[3] == 1);
    assert_int_equal(info.count, 6);
    assert_int_equal(info.nbytes, 24);
    assert_int_equal(acl_st_read_f32(f, "conv1.weight", got, 6), ACL_OK);
    assert_memory_equal(got, w, sizeof w); /* bit for bit, -0.0 and denormal-ish values included */
    assert_int_equal(acl_st_read_f32(f, "conv1.bias", got, 2), ACL_OK);
    assert_memory_equal(got, bias, sizeof bias);
    assert_int_equal(acl_st_find(f, "scale", &info), ACL_OK);
    assert_true(info.ndim == 0 && info.count == 1);
    assert_int_equal(acl_st_read_f32(f, "scale", got, 1), ACL_OK);
    assert_true(got[0] == 42.5f);
    assert_int_equal(acl_st_read_raw(f, "steps", got_steps, sizeof got_steps), ACL_OK);
    assert_memory_equal(got_steps, steps, sizeof steps); /* little-endian file, little-endian host */
    assert_int_equal(acl_st_read_raw(f, "mask \"odd\" name\n", got_mask, 3), ACL_OK);
    assert_memory_equal(got_mask, mask, 3);
    assert_int_equal(acl_st_find(f, "empty", &info), ACL_OK);
    assert_true(info.count == 0 && info.nbytes == 0 && info.ndim == 2 && info.shape[1] == 5);
    assert_int_equal(acl_st_read_f32(f, "empty", got, 0), ACL_OK);
    assert_string_equal(acl_st_meta(f, "format"), "pt");
    assert_string_equal(acl_st_meta(f, "note"), meta[3]);
    assert_null(acl_st_meta(f, "missing"));
    assert_int_equal(acl_st_meta_count(f), 2);
}

/* ---- tests */

static void round_trip_memory(void **state)
{
    (void)state;
    struct acl_st_tensor t[6];
    void *buf;
    size_t size;
    struct acl_st_file *f;
    fill_tensors(t);
    assert_int_equal(acl_st_write_memory(t, 6, meta, 2, &buf, &size), ACL_OK);
    uint64_t hlen = 0;
    memcpy(&hlen, buf, 8);
    assert_int_equal(hlen % 8, 0); /* data region 8-byte aligned */
    assert_int_equal(acl_st_open_memory(buf, size, NULL, &f), ACL_OK);
    check_contents(f);
    acl_st_close(f);
    free(buf);
}

static void round_trip_file(void **state)
{
    (void)state;
    struct acl_st_tensor t[6];
    char path[128], tmp[140];
    void *buf;
    size_t size, fsize;
    struct acl_st_file *f;
    fill_tensors(t);
    snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(acl_st_write(path, t, 6, meta, 2), ACL_OK);
    assert_false(exists(tmp));
    assert_int_equal(acl_st_open(path, &f), ACL_OK);
    check_contents(f);
    acl_st_close(f);
    /* the file and the memory image are the same bytes */
    assert_int_equal(acl_st_write_memory(t, 6, meta, 2, &buf, &size), ACL_OK);
    unsigned char *disk = test_read_file(path, &fsize);
    assert_int_equal(fsize, size);
    assert_memory_equal(disk, buf, size);
    free(disk);
    free(buf);
    /* no tensors at all is a valid file */
    assert_int_equal(acl_st_write(path, NULL, 0, NULL, 0), ACL_OK);
    assert_int_equal(acl_st_open(path, &f), ACL_OK);
    assert_int_equal(acl_st_count(f), 0);
    acl_st_close(f);
}

static void golden_file(void **state)
{
    (void)state;
    struct acl_st_file *f;
    struct acl_st_info info;
    float got[6];
    int64_t step;
    unsigned char m[3];
    assert_int_equal(acl_st_open(ACL_TEST_DATA "/golden.safetensors", &f), ACL_OK);
    assert_int_equal(acl_st_count(f), 5);
    assert_int_equal(acl_st_find(f, "conv1.weight", &info), ACL_OK);
    assert_true(info.ndim == 4 && info.shape[0] == 2 && info.shape[1] == 3 && info.shape[3] == 1);
    assert_int_equal(acl_st_read_f32(f, "conv1.weight", got, 6), ACL_OK);
    for (int i = 0; i < 6; i++)
        assert_true(got[i] == (float)i * 0.5f - 1.0f);
    assert_int_equal(acl_st_read_f32(f, "conv1.bias", got, 2), ACL_OK);
    assert_true(got[0] == 0.25f && got[1] == -4.0f);
    assert_int_equal(acl_st_find(f, "step", &info), ACL_OK);
    assert_true(info.dtype == ACL_ST_I64 && info.ndim == 0);
    assert_int_equal(acl_st_read_raw(f, "step", &step, 8), ACL_OK);
    assert_true(step == 1234567890123LL);
    assert_int_equal(acl_st_read_raw(f, "mask", m, 3), ACL_OK);
    assert_true(m[0] == 1 && m[1] == 0 && m[2] == 255);
    assert_int_equal(acl_st_find(f, "empty", &info), ACL_OK);
    assert_true(info.count == 0 && info.shape[0] == 0 && info.shape[1] == 4);
    assert_string_equal(acl_st_meta(f, "format"), "pt");
    /* Python wrote these as \u escapes, the emoji as a surrogate pair */
    assert_string_equal(acl_st_meta(f, "note"), "caf\xc3\xa9 \"quoted\" back\\slash\nline \xf0\x9f\x98\x80");
    test_expect_status(acl_st_read_f32(f, "step", got, 1), ACL_ERR_FORMAT, "tensor step is I64 [], not F32");
    test_expect_status(acl_st_read_f32(f, "conv1.bias", got, 3), ACL_ERR_FORMAT,
                 "tensor conv1.bias has shape [2] (2 elements), expected 3");
    test_expect_status(acl_st_find(f, "fc8.bias", &info), ACL_ERR_FORMAT,
                       "golden.safetensors: no tensor named 'fc8.bias'");
    acl_st_close(f);
}

/* Every proper prefix of a valid file is refused, from memory (exact-size copies) and from disk. */
static void truncated_at_every_length(void **state)
{
    (void)state;
    size_t size;
    char path[128];
    unsigned char *full = test_read_file(ACL_TEST_DATA "/golden.safetensors", &size);
    snprintf(path, sizeof path, "%s/cut.safetensors", tmpdir);
    for (size_t n = 0; n < size; n++) {
        unsigned char *cut = malloc(n ? n : 1);
        struct acl_st_file *f = (struct acl_st_file *)1;
        memcpy(cut, full, n);
        acl_status st = acl_st_open_memory(cut, n, "cut", &f);
        if (st != ACL_ERR_FORMAT || f != NULL)
            fail_msg("prefix of %zu bytes: %s %s", n, acl_status_name(st), acl_last_error());
        free(cut);
        test_write_file(path, full, n);
        f = (struct acl_st_file *)1;
        st = acl_st_open(path, &f);
        if (st != ACL_ERR_FORMAT || f != NULL)
            fail_msg("file of %zu bytes: %s %s", n, acl_status_name(st), acl_last_error());
    }
    free(full);
}

static void bad_offsets_and_layout(void **state)
{
    (void)state;
    assert_int_equal(open_json("{" T1("a") "}", 8), ACL_OK);
    expect_bad("{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[96,3,11,11],\"data_offsets\":[0,40]}}", 40,
               "x.safetensors: tensor conv1.weight: data_offsets [0, 40] do not match shape [96,3,11,11] of F32 "
               "(139392 bytes)");
    expect_bad("{" T1("a") "}", 4, "tensor a: data_offsets [0, 8] go past the end of the data region (4 bytes)");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "end before they begin");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
               16, "bytes [8, 12) of the data region belong to no tensor (before b)");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12, "tensor b (data_offsets [4, 12]) overlaps tensor a ([0, 8])");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
               8, "overlaps");
    expect_bad("{" T1("a") "}", 12, "the data region has 12 bytes but its tensors cover 8 (extra bytes");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
               "shape [4294967296,4294967296,4294967296] of F32 is too large");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
               "more than 8 dimensions");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, "more than 2 entries");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", 8, "has 1 entries, not 2");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551616]}}", 8,
               "does not fit 64 bits");
    /* a zero-size tensor sits anywhere on a boundary; inside another tensor it overlaps */
    assert_int_equal(open_json("{" T1("a") ",\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", 8),
                     ACL_OK);
    expect_bad("{" T1("a") ",\"z\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[4,4]}}", 8, "overlaps");
    assert_int_equal(open_json("{}", 0), ACL_OK);
    expect_bad("{}", 1, "extra bytes");
}

static void bad_header_length(void **state)
{
    (void)state;
    struct acl_st_file *f;
    unsigned char b[64] = {0};
    for (size_t n = 0; n < 8; n++)
        test_expect_status(acl_st_open_memory(b, n, "x", &f), ACL_ERR_FORMAT, "too short for a safetensors file");
    memcpy(b + 8, "{}", 2);
    b[7] = 0x80; /* 2^63 */
    test_expect_status(acl_st_open_memory(b, 10, "x", &f), ACL_ERR_FORMAT, "over the 100 MB limit");
    memset(b, 0, 8);
    b[3] = 0x10; /* 256 MB */
    test_expect_status(acl_st_open_memory(b, 10, "x", &f), ACL_ERR_FORMAT, "over the 100 MB limit");
    memset(b, 0, 8);
    b[0] = 3;
    test_expect_status(acl_st_open_memory(b, 10, "x", &f), ACL_ERR_FORMAT, "goes past the end of the file (10 bytes)");
    b[0] = 0;
    test_expect_status(acl_st_open_memory(b, 10, "x", &f), ACL_ERR_FORMAT, "not a JSON object");
    b[0] = 1;
    test_expect_status(acl_st_open_memory(b, 10, "x", &f), ACL_ERR_FORMAT, "not a JSON object");
    expect_bad("[1]", 0, "not a JSON object");
    expect_bad(" {}", 0, "not a JSON object"); /* the format demands '{' first */
    assert_int_equal(open_json("{}      ", 0), ACL_OK); /* padding after it is fine */
}

static void bad_json(void **state)
{
    (void)state;
    expect_bad("{" T1("a") ",}", 8, "expected a string, found '}'");
    expect_bad("{" T1("a") "} x", 8, "expected nothing after the closing '}', found 'x'");
    expect_bad("{" T1("a") "}}", 8, "found '}'");
    expect_bad("{" T1("a"), 8, "expected ',' or '}', found the end of the header");
    expect_bad("{\"a\" {}}", 0, "expected ':', found '{'");
    expect_bad("{\"a:{}}", 0, "string is not terminated");
    expect_bad("{'a':{}}", 0, "expected a string, found '''");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}", 8, "leading zero");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, "fraction or exponent");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}", 8, "fraction or exponent");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "negative number");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[[2]],\"data_offsets\":[0,8]}}", 8,
               "non-negative integer, found '['");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,],\"data_offsets\":[0,8]}}", 8, "found ']'");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2 2],\"data_offsets\":[0,8]}}", 8, "expected ',' or ']'");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":null,\"data_offsets\":[0,8]}}", 8, "expected '['");
    expect_bad("{\"a\":{\"dtype\":true,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "expected a string");
    expect_bad("{\"a\":[]}", 0, "expected '{', found '['");
    expect_bad("{\"a\tb\":{}}", 0, "control character 0x09");
    expect_bad("{\"a\xff\":{}}", 0, "invalid UTF-8");
    expect_bad("{\"a\xc0\x80\":{}}", 0, "invalid UTF-8");          /* overlong NUL */
    expect_bad("{\"a\xed\xa0\x80\":{}}", 0, "invalid UTF-8");      /* an encoded surrogate */
    expect_bad("{\"a\xe2\x82\":{}}", 0, "invalid UTF-8");          /* cut sequence */
    expect_bad("{\"\\ud800\":{}}", 0, "high surrogate without its low half");
    expect_bad("{\"\\udc00\":{}}", 0, "low surrogate without its high half");
    expect_bad("{\"\\u0000\":{}}", 0, "NUL character");
    expect_bad("{\"\\x41\":{}}", 0, "after a backslash");
    expect_bad("{\"\\u12g4\":{}}", 0, "four hex digits");
    static const char nul[] = "{\"a\":{\"dtype\":\"F32\"\0,\"shape\":[2],\"data_offsets\":[0,8]}}";
    test_expect_status(open_json_n(nul, sizeof nul - 1, 8), ACL_ERR_FORMAT, "found byte 0x00");
    /* escapes that are fine, in a name found by its unescaped value */
    size_t size;
    struct acl_st_file *f;
    struct acl_st_info info;
    unsigned char *b = image("{\"\\u0041\\/\\\"\\\\\\b\\f\\n\\r\\t\\ud83d\\ude00\\u00e9\":"
                             "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                             8, &size);
    assert_int_equal(acl_st_open_memory(b, size, "x", &f), ACL_OK);
    assert_int_equal(acl_st_find(f, "A/\"\\\b\f\n\r\t\xf0\x9f\x98\x80\xc3\xa9", &info), ACL_OK);
    acl_st_close(f);
    free(b);
}

static void bad_tensor_entries(void **state)
{
    (void)state;
    expect_bad("{" T1("a") "," T1("a") "}", 16, "tensor a appears twice");
    expect_bad("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor a: unknown dtype 'F33'");
    expect_bad("{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'f32'");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
               "key 'dtype' appears twice");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
               "key 'shape' appears twice");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"strides\":[1]}}", 8,
               "unknown key 'strides'");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "tensor a: missing data_offsets");
    expect_bad("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing dtype");
    expect_bad("{\"a\":{}}", 0, "missing dtype");
    expect_bad("{\"__metadata__\":{\"k\":1}," T1("a") "}", 8, "the value of 'k' is not a string");
    expect_bad("{\"__metadata__\":{\"k\":\"v\"},\"__metadata__\":{}," T1("a") "}", 8, "__metadata__ appears twice");
    expect_bad("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}," T1("a") "}", 8, "key 'k' appears twice");
    expect_bad("{\"__metadata__\":[]}", 0, "expected '{'");
    assert_int_equal(open_json("{\"__metadata__\":{}}", 0), ACL_OK);
    /* every known dtype: 2 elements of its size */
    static const char *names[] = {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
                                  "BF16", "I32", "U32", "F32", "I64", "U64", "F64"};
    for (int d = 0; d < ACL_ST_DTYPE_COUNT; d++) {
        char json[160];
        size_t sz = acl_st_dtype_size((enum acl_st_dtype)d);
        assert_string_equal(acl_st_dtype_name((enum acl_st_dtype)d), names[d]);
        snprintf(json, sizeof json, "{\"a\":{\"dtype\":\"%s\",\"shape\":[2],\"data_offsets\":[0,%zu]}}", names[d],
                 2 * sz);
        assert_int_equal(open_json(json, 2 * sz), ACL_OK);
    }
}

static void writer_rejects_bad_tensors(void **state)
{
    (void)state;
    char path[128], tmp[140];
    size_t before_size, after_size;
    struct acl_st_tensor t[6];
    fill_tensors(t);
    snprintf(path, sizeof path, "%s/keep.safetensors", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(acl_st_write(path, t, 2, NULL, 0), ACL_OK);
    unsigned char *before = test_read_file(path, &before_size);

    struct acl_st_tensor bad[2] = {t[0], t[1]};
    bad[1].name = "conv1.weight";
    test_expect_status(acl_st_write(path, bad, 2, NULL, 0), ACL_ERR_ARGUMENT,
                 "keep.safetensors: tensor name 'conv1.weight' appears twice");
    bad[1] = t[1];
    bad[1].name = "__metadata__";
    test_expect_status(acl_st_write(path, bad, 2, NULL, 0), ACL_ERR_ARGUMENT, "is not allowed");
    bad[1].name = NULL;
    test_expect_status(acl_st_write(path, bad, 2, NULL, 0), ACL_ERR_ARGUMENT, "is not allowed");
    bad[1].name = "bad\xff";
    test_expect_status(acl_st_write(path, bad, 2, NULL, 0), ACL_ERR_ARGUMENT, "is not allowed");
    bad[1] = t[1];
    bad[1].shape[0] = -2;
    test_expect_status(acl_st_write(path, bad, 2, NULL, 0), ACL_ERR_ARGUMENT, "negative dimension -2");
    bad[1] = t[1];
    bad[1].ndim = 9;
    test_expect_status(acl_st_write(path, bad, 2, NULL, 0), ACL_ERR_ARGUMENT, "rank 9");
    bad[1] = t[1];
    bad[1].data = NULL;
    test_expect_status(acl_st_write(path, bad, 2, NULL, 0), ACL_ERR_ARGUMENT, "conv1.bias: no data");
    static const char *const dup[] = {"k", "v", "k", "w"};
    test_expect_status(acl_st_write(path, t, 2, dup, 2), ACL_ERR_ARGUMENT, "metadata key 'k' appears twice");
    static const char *const null_value[] = {"k", NULL};
    test_expect_status(acl_st_write(path, t, 2, null_value, 1), ACL_ERR_ARGUMENT, "metadata value 0 is NULL");

    unsigned char *after = test_read_file(path, &after_size);
    assert_int_equal(before_size, after_size);
    assert_memory_equal(before, after, before_size);
    assert_false(exists(tmp));
    free(before);
    free(after);

    snprintf(path, sizeof path, "%s/no/such/folder/x.safetensors", tmpdir);
    test_expect_status(acl_st_write(path, t, 2, NULL, 0), ACL_ERR_IO, "cannot create");
}

/* A disk that fills up mid-write (simulated by a file size limit): an error, the old file intact, no
 * temporary file left. */
static void full_disk_keeps_old_file(void **state)
{
    (void)state;
    char path[128], tmp[140];
    size_t before_size, after_size;
    struct acl_st_tensor t[6];
    struct rlimit old;
    enum { N = 4096 };
    static float big[N];
    fill_tensors(t);
    snprintf(path, sizeof path, "%s/full.safetensors", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(acl_st_write(path, t, 2, NULL, 0), ACL_OK);
    unsigned char *before = test_read_file(path, &before_size);

    struct acl_st_tensor large = {"big", ACL_ST_F32, 1, {N}, big};
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit small = {4096, old.rlim_max};
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit then fails with EFBIG instead of killing us */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    acl_status st = acl_st_write(path, &large, 1, NULL, 0);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    test_expect_status(st, ACL_ERR_IO, "full.safetensors: writing failed");

    unsigned char *after = test_read_file(path, &after_size);
    assert_int_equal(before_size, after_size);
    assert_memory_equal(before, after, before_size);
    assert_false(exists(tmp));
    free(before);
    free(after);
}

static void open_errors(void **state)
{
    (void)state;
    struct acl_st_file *f;
    char path[128];
    test_expect_status(acl_st_open("/nonexistent/x.safetensors", &f), ACL_ERR_IO,
                       "/nonexistent/x.safetensors: cannot open");
    test_expect_status(acl_st_open(tmpdir, &f), ACL_ERR_IO, "not a regular file");
    snprintf(path, sizeof path, "%s/text.safetensors", tmpdir);
    test_write_file(path, "hello, world\n", 13);
    test_expect_status(acl_st_open(path, &f), ACL_ERR_FORMAT, "text.safetensors: header length");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_memory),
        cmocka_unit_test(round_trip_file),
        cmocka_unit_test(golden_file),
        cmocka_unit_test(truncated_at_every_length),
        cmocka_unit_test(bad_offsets_and_layout),
        cmocka_unit_test(bad_header_length),
        cmocka_unit_test(bad_json),
        cmocka_unit_test(bad_tensor_entries),
        cmocka_unit_test(writer_rejects_bad_tensors),
        cmocka_unit_test(full_disk_keeps_old_file),
        cmocka_unit_test(open_errors),
    };
    return cmocka_run_group_tests_name("safetensors", tests, make_tmpdir, remove_tmpdir);
}
