/* test_runtime.c: error names, device selection, the program-binary cache (hits, and corrupt, truncated
 * or foreign files discarded), kernel sources that fail to build, and allocations a device cannot hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "runtime/cache.h"
#include "runtime/engine.h"
#include "runtime/error.h"
#include "runtime/sources.h"
#include "testutil.h"

static char *make_temp_dir(void)
{
    char tmpl[] = "/tmp/acl-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void remove_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void error_names(void **state)
{
    (void)state;
    assert_string_equal(acl_cl_error_name(-5), "CL_OUT_OF_RESOURCES");
    assert_string_equal(acl_cl_error_name(CL_BUILD_PROGRAM_FAILURE), "CL_BUILD_PROGRAM_FAILURE");
    assert_string_equal(acl_status_name(ACL_ERR_FORMAT), "ACL_ERR_FORMAT");
    acl_status st = acl_cl_fail(CL_OUT_OF_RESOURCES, "clFinish(q)", "x.c", 12);
    assert_int_equal(st, ACL_ERR_OPENCL);
    assert_non_null(strstr(acl_last_error(), "clFinish failed with CL_OUT_OF_RESOURCES at x.c:12"));
    assert_int_equal(acl_cl_fail(CL_MEM_OBJECT_ALLOCATION_FAILURE, "clCreateBuffer", "y.c", 1), ACL_ERR_MEMORY);
}

static long file_size(const char *path)
{
    struct stat s;
    return stat(path, &s) == 0 ? (long)s.st_size : -1;
}

static void cache_round_trip_and_rejects(void **state)
{
    (void)state;
    char *dir = make_temp_dir(), path[4200];
    const char *key = "engine test\nsource 1234\n";
    unsigned char bin[300], *got = NULL;
    size_t len = 0;
    int rejected = -1;
    for (int i = 0; i < 300; i++)
        bin[i] = (unsigned char)(i * 7);
    /* miss */
    assert_int_equal(acl_cache_load(dir, key, &got, &len, &rejected), ACL_OK);
    assert_null(got);
    assert_int_equal(rejected, 0);
    /* hit */
    assert_int_equal(acl_cache_store(dir, key, bin, sizeof bin), ACL_OK);
    assert_int_equal(acl_cache_load(dir, key, &got, &len, &rejected), ACL_OK);
    assert_non_null(got);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(got, bin, sizeof bin);
    free(got);
    acl_cache_path(dir, key, path, sizeof path);
    long full = file_size(path);
    assert_true(full > (long)sizeof bin);

    /* one flipped byte in the binary: checksum fails, file deleted */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, full - 20, SEEK_SET);
    fputc(0x55 ^ bin[290], f);
    fclose(f);
    assert_int_equal(acl_cache_load(dir, key, &got, &len, &rejected), ACL_OK);
    assert_null(got);
    assert_int_equal(rejected, 1);
    assert_int_equal(file_size(path), -1);

    /* truncated */
    assert_int_equal(acl_cache_store(dir, key, bin, sizeof bin), ACL_OK);
    assert_int_equal(truncate(path, full / 2), 0);
    assert_int_equal(acl_cache_load(dir, key, &got, &len, &rejected), ACL_OK);
    assert_null(got);
    assert_int_equal(rejected, 1);

    /* a foreign file under the right name */
    test_write_file(path, "GIF89a not a program binary at all", 34);
    assert_int_equal(acl_cache_load(dir, key, &got, &len, &rejected), ACL_OK);
    assert_null(got);
    assert_int_equal(rejected, 1);

    /* a valid file for another key copied under this key's name */
    char other[4200];
    assert_int_equal(acl_cache_store(dir, "another key", bin, sizeof bin), ACL_OK);
    acl_cache_path(dir, "another key", other, sizeof other);
    assert_int_equal(rename(other, path), 0);
    assert_int_equal(acl_cache_load(dir, key, &got, &len, &rejected), ACL_OK);
    assert_null(got);
    assert_int_equal(rejected, 1);

    /* an unwritable folder is an error with the path, not a crash */
    assert_int_equal(acl_cache_store("/proc/acl-no-such-dir", key, bin, sizeof bin), ACL_ERR_IO);
    assert_non_null(strstr(acl_last_error(), "/proc/acl-no-such-dir"));
    remove_dir(dir);
    free(dir);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void corrupt_all(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        long n = file_size(path);
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        fseek(f, n / 2, SEEK_SET);
        int ch = fgetc(f);
        fseek(f, n / 2, SEEK_SET);
        fputc(ch ^ 0xff, f);
        fclose(f);
    }
    closedir(d);
}

static void engine_uses_cache_and_survives_corruption(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    char *dir = make_temp_dir();
    acl_engine_options opt = {.device = getenv("ACL_TEST_DEVICE"), .cache_dir = dir};
    acl_engine *e = NULL;
    acl_startup_stats s;
    assert_int_equal(acl_engine_create(&opt, &e), ACL_OK);
    acl_engine_startup(e, &s);
    assert_int_equal(s.cache_hits, 0);
    assert_int_equal(s.programs, acl_program_count());
    acl_engine_destroy(e);
    assert_int_equal(count_files(dir), s.programs);

    assert_int_equal(acl_engine_create(&opt, &e), ACL_OK); /* warm */
    acl_engine_startup(e, &s);
    assert_int_equal(s.cache_hits, s.programs);
    acl_engine_destroy(e);

    corrupt_all(dir); /* every file now fails its checksum: rebuilt, never trusted */
    assert_int_equal(acl_engine_create(&opt, &e), ACL_OK);
    acl_engine_startup(e, &s);
    assert_int_equal(s.cache_hits, 0);
    assert_int_equal(s.cache_rejects, s.programs);
    int failures = -1;
    assert_int_equal(acl_selftest(e, 1, "relu", NULL, NULL, &failures), ACL_OK);
    assert_int_equal(failures, 0);
    acl_engine_destroy(e);
    remove_dir(dir);
    free(dir);
}

static void broken_kernel_source_names_the_file(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    char *dir = make_temp_dir();
    for (int i = 0; i < acl_embedded_source_count; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, acl_embedded_sources[i].name);
        const char *text = acl_embedded_sources[i].text;
        if (!strcmp(acl_embedded_sources[i].name, "relu.cl"))
            text = "__kernel void relu_forward(__global float *y) { y[0] = undefined_thing; }\n";
        test_write_file(path, text, strlen(text));
    }
    acl_engine_options opt = {.device = getenv("ACL_TEST_DEVICE"), .cache_dir = "", .kernel_dir = dir};
    acl_engine *e = NULL;
    assert_int_equal(acl_engine_create(&opt, &e), ACL_ERR_BUILD);
    assert_null(e);
    assert_non_null(strstr(acl_last_error(), "cl/relu.cl"));
    /* a folder without the sources is an I/O error naming the path */
    opt.kernel_dir = "/nonexistent-acl-kernels";
    assert_int_equal(acl_engine_create(&opt, &e), ACL_ERR_IO);
    assert_non_null(strstr(acl_last_error(), "/nonexistent-acl-kernels"));
    remove_dir(dir);
    free(dir);
}

static void device_selection(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    acl_device_info *devs = NULL;
    size_t n = 0;
    assert_int_equal(acl_list_devices(&devs, &n), ACL_OK);
    assert_true(n >= 1);
    struct acl_device_ref r;
    char sel[32];
    snprintf(sel, sizeof sel, "%zu", n);
    assert_int_equal(acl_select_device(sel, &r), ACL_ERR_NO_DEVICE);
    assert_non_null(strstr(acl_last_error(), "does not exist"));
    assert_int_equal(acl_select_device("no-such-device-name-xyz", &r), ACL_ERR_NO_DEVICE);
    assert_int_equal(acl_select_device("99999999999999999999", &r), ACL_ERR_NO_DEVICE);
    /* by a substring of the name, in another case */
    char part[8] = {0};
    for (int i = 0; i < 4 && devs[n - 1].name[i]; i++)
        part[i] = (char)(devs[n - 1].name[i] ^ ((devs[n - 1].name[i] >= 'a' && devs[n - 1].name[i] <= 'z') ? 32 : 0));
    assert_int_equal(acl_select_device(part, &r), ACL_OK);
    assert_int_equal(acl_select_device("0", &r), ACL_OK);
    assert_int_equal(r.info.index, 0);
    free(devs);
}

static void allocation_too_large_is_refused(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_ctx *c = test_ctx();
    cl_mem m = NULL;
    assert_int_equal(acl_buffer(c, (size_t)c->dev.info.max_alloc_bytes + 4096, &m), ACL_ERR_MEMORY);
    assert_null(m);
    assert_non_null(strstr(acl_last_error(), c->dev.info.name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_names),
        cmocka_unit_test(cache_round_trip_and_rejects),
        cmocka_unit_test(engine_uses_cache_and_survives_corruption),
        cmocka_unit_test(broken_kernel_source_names_the_file),
        cmocka_unit_test(device_selection),
        cmocka_unit_test(allocation_too_large_is_refused),
    };
    return cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
}
