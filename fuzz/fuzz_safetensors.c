/* fuzz_safetensors.c: libFuzzer target for the safetensors reader (scripts/fuzz.sh builds and runs it).
 *
 * Any input must be refused with a status or opened; an opened file must answer every query, read every
 * tensor within its stated size, and survive a write-read round trip unchanged. A broken promise traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond))                                                                             \
            __builtin_trap();                                                                    \
    } while (0)

/* Writes what was read, reads it back, and compares names, shapes, bytes and metadata. */
static void round_trip(struct acl_st_file *f, size_t n, void **data)
{
    struct acl_st_tensor *t = calloc(n ? n : 1, sizeof *t);
    size_t n_meta = acl_st_meta_count(f);
    const char **kv = calloc(2 * n_meta + 1, sizeof *kv);
    CHECK(t && kv);
    for (size_t i = 0; i < n; i++) {
        struct acl_st_info info;
        acl_st_info_at(f, i, &info);
        t[i].name = info.name;
        t[i].dtype = info.dtype;
        t[i].ndim = info.ndim;
        memcpy(t[i].shape, info.shape, sizeof info.shape);
        t[i].data = data[i];
    }
    for (size_t i = 0; i < n_meta; i++)
        acl_st_meta_at(f, i, &kv[2 * i], &kv[2 * i + 1]);
    void *buf;
    size_t size;
    CHECK(acl_st_write_memory(t, (int)n, kv, (int)n_meta, &buf, &size) == ACL_OK);
    struct acl_st_file *g;
    CHECK(acl_st_open_memory(buf, size, "round trip", &g) == ACL_OK);
    CHECK(acl_st_count(g) == n && acl_st_meta_count(g) == n_meta);
    for (size_t i = 0; i < n; i++) {
        struct acl_st_info a, b;
        acl_st_info_at(f, i, &a);
        acl_st_info_at(g, i, &b);
        CHECK(strcmp(a.name, b.name) == 0 && a.dtype == b.dtype && a.ndim == b.ndim && a.nbytes == b.nbytes);
        CHECK(memcmp(a.shape, b.shape, sizeof a.shape) == 0);
        void *back = malloc(b.nbytes ? b.nbytes : 1);
        CHECK(back && acl_st_read_raw(g, b.name, back, b.nbytes) == ACL_OK);
        CHECK(b.nbytes == 0 || memcmp(back, data[i], b.nbytes) == 0);
        free(back);
    }
    for (size_t i = 0; i < n_meta; i++) {
        const char *v = acl_st_meta(g, kv[2 * i]);
        CHECK(v && strcmp(v, kv[2 * i + 1]) == 0);
    }
    acl_st_close(g);
    free(buf);
    free(kv);
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    struct acl_st_file *f = (struct acl_st_file *)1;
    acl_status st = acl_st_open_memory(input, size, "fuzz", &f);
    if (st != ACL_OK) {
        CHECK(f == NULL && st == ACL_ERR_FORMAT);
        return 0;
    }
    size_t n = acl_st_count(f), total = 0;
    void **data = calloc(n ? n : 1, sizeof *data);
    CHECK(data);
    for (size_t i = 0; i < n; i++) {
        struct acl_st_info info, found;
        acl_st_info_at(f, i, &info);
        CHECK(acl_st_find(f, info.name, &found) == ACL_OK && found.begin == info.begin);
        total += info.nbytes;
        CHECK(total <= size); /* the tensors lie inside the input, so their sizes add up to less */
        data[i] = malloc(info.nbytes ? info.nbytes : 1);
        CHECK(data[i]);
        if (info.dtype == ACL_ST_F32)
            CHECK(acl_st_read_f32(f, info.name, data[i], info.count) == ACL_OK);
        else
            CHECK(acl_st_read_f32(f, info.name, data[i], info.count) == ACL_ERR_FORMAT &&
                  acl_st_read_raw(f, info.name, data[i], info.nbytes) == ACL_OK);
    }
    for (size_t i = 0; i < acl_st_meta_count(f); i++) {
        const char *k, *v;
        acl_st_meta_at(f, i, &k, &v);
        CHECK(acl_st_meta(f, k) == v); /* keys are unique, so lookup finds this very pair */
    }
    if (n < 100000)
        round_trip(f, n, data);
    for (size_t i = 0; i < n; i++)
        free(data[i]);
    free(data);
    acl_st_close(f);
    return 0;
}
