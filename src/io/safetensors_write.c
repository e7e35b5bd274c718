/* safetensors_write.c: the safetensors writer of safetensors.h: validation, header, atomic file or memory image. */
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"
#include "io/bytes.h"
#include "io/json.h"
#include "io/safetensors.h"
#include "runtime/error.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* 1 when two of the n strings, taken every `stride`-th from s, are equal. */
static acl_status check_unique(const char *const *s, int n, int stride, const char *what)
{
    /* n > 0 rather than n != 0: GCC 12 at -O2 otherwise warns of a negative n's huge malloc. */
    const char **sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (!sorted)
        return acl_fail(ACL_ERR_MEMORY, "out of memory");
    for (int i = 0; i < n; i++)
        sorted[i] = s[(size_t)i * (size_t)stride];
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
    acl_status st = ACL_OK;
    for (int i = 1; i < n && st == ACL_OK; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            st = acl_fail(ACL_ERR_ARGUMENT, "%s '%.200s' appears twice", what, sorted[i]);
    free(sorted);
    return st;
}

/* Validates what is to be written and builds the header (padded to a multiple of 8 bytes). */
static acl_status build_header(const struct acl_st_tensor *t, int n, const char *const *meta_kv, int n_meta,
                               struct acl_json_buf *h, uint64_t *data_size)
{
    acl_status st = ACL_OK;
    const char **names = NULL;
    if (n < 0 || n_meta < 0 || (n > 0 && !t) || (n_meta > 0 && !meta_kv))
        return acl_fail(ACL_ERR_ARGUMENT, "no tensors or metadata given (n = %d, n_meta = %d)", n, n_meta);
    for (int i = 0; i < 2 * n_meta; i++)
        if (!meta_kv[i] || !acl_utf8_valid(meta_kv[i], strlen(meta_kv[i])))
            return acl_fail(ACL_ERR_ARGUMENT, "metadata %s %d is %s", i % 2 ? "value" : "key", i / 2,
                            meta_kv[i] ? "not valid UTF-8" : "NULL");
    ACL_TRY(check_unique(meta_kv, n_meta, 2, "metadata key"));
    if (!(names = malloc((size_t)(n ? n : 1) * sizeof *names)))
        return acl_fail(ACL_ERR_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) {
        const char *name = t[i].name;
        size_t count, nbytes;
        if (!name || !acl_utf8_valid(name, strlen(name)) || strcmp(name, "__metadata__") == 0) {
            st = acl_fail(ACL_ERR_ARGUMENT, "tensor %d: the name '%.200s' is not allowed", i, name ? name : "(NULL)");
            goto cleanup;
        }
        names[i] = name;
        if ((unsigned)t[i].dtype >= ACL_ST_DTYPE_COUNT || t[i].ndim < 0 || t[i].ndim > ACL_ST_MAX_DIMS) {
            st = acl_fail(ACL_ERR_ARGUMENT, "tensor %.200s: bad dtype %d or rank %d", name, (int)t[i].dtype, t[i].ndim);
            goto cleanup;
        }
        for (int d = 0; d < t[i].ndim; d++)
            if (t[i].shape[d] < 0) {
                st = acl_fail(ACL_ERR_ARGUMENT, "tensor %.200s: negative dimension %lld", name,
                              (long long)t[i].shape[d]);
                goto cleanup;
            }
        if (acl_st_shape_size(t[i].shape, t[i].ndim, t[i].dtype, &count, &nbytes) != 0 ||
            nbytes > UINT64_MAX - *data_size) {
            st = acl_fail(ACL_ERR_ARGUMENT, "tensor %.200s: too large", name);
            goto cleanup;
        }
        if (nbytes > 0 && !t[i].data) {
            st = acl_fail(ACL_ERR_ARGUMENT, "tensor %.200s: no data", name);
            goto cleanup;
        }
        *data_size += nbytes;
    }
    ACL_TRY(check_unique(names, n, 1, "tensor name"));

    uint64_t offset = 0;
    acl_json_buf_cstr(h, "{");
    if (n_meta > 0) {
        acl_json_buf_cstr(h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            acl_json_buf_cstr(h, i ? "," : "");
            acl_json_buf_quoted(h, meta_kv[2 * i]);
            acl_json_buf_cstr(h, ":");
            acl_json_buf_quoted(h, meta_kv[2 * i + 1]);
        }
        acl_json_buf_cstr(h, n > 0 ? "}," : "}");
    }
    for (int i = 0; i < n; i++) {
        size_t count, nbytes;
        acl_st_shape_size(t[i].shape, t[i].ndim, t[i].dtype, &count, &nbytes);
        acl_json_buf_cstr(h, i ? "," : "");
        acl_json_buf_quoted(h, t[i].name);
        acl_json_buf_cstr(h, ":{\"dtype\":\"");
        acl_json_buf_cstr(h, acl_st_dtype_name(t[i].dtype));
        acl_json_buf_cstr(h, "\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++) {
            acl_json_buf_cstr(h, d ? "," : "");
            acl_json_buf_u64(h, (uint64_t)t[i].shape[d]);
        }
        acl_json_buf_cstr(h, "],\"data_offsets\":[");
        acl_json_buf_u64(h, offset);
        acl_json_buf_cstr(h, ",");
        acl_json_buf_u64(h, offset + nbytes);
        acl_json_buf_cstr(h, "]}");
        offset += nbytes;
    }
    acl_json_buf_cstr(h, "}");
    while (!h->failed && h->n % 8 != 0) /* the data region starts 8-byte aligned, as the reference writer does */
        acl_json_buf_cstr(h, " ");
    if (h->failed)
        st = acl_fail(ACL_ERR_MEMORY, "out of memory building the header");
    else if (h->n > ACL_ST_MAX_HEADER)
        st = acl_fail(ACL_ERR_ARGUMENT, "the header would take %zu bytes, over the %u MB limit", h->n,
                      ACL_ST_MAX_HEADER >> 20);
cleanup:
    free(names);
    return st;
}

static void put_le64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
}

acl_status acl_st_write_memory(const struct acl_st_tensor *t, int n, const char *const *meta_kv, int n_meta,
                               void **buf, size_t *size)
{
    struct acl_json_buf h = {0};
    uint64_t data_size = 0;
    unsigned char *out = NULL;
    *buf = NULL;
    *size = 0;
    acl_status st = build_header(t, n, meta_kv, n_meta, &h, &data_size);
    if (st == ACL_OK && (data_size > SIZE_MAX - 8 - h.n || !(out = malloc(8 + h.n + (size_t)data_size))))
        st = acl_fail(ACL_ERR_MEMORY, "out of memory for a safetensors image of %llu bytes",
                      (unsigned long long)data_size);
    if (st == ACL_OK) {
        size_t k = 8 + h.n;
        put_le64(out, h.n);
        memcpy(out + 8, h.p, h.n);
        for (int i = 0; i < n; i++) {
            size_t esize = acl_st_dtype_size(t[i].dtype), count, nbytes;
            acl_st_shape_size(t[i].shape, t[i].ndim, t[i].dtype, &count, &nbytes);
            if (nbytes)
                memcpy(out + k, t[i].data, nbytes);
            acl_swap_elements(out + k, count, esize);
            k += nbytes;
        }
        *buf = out;
        *size = k;
    }
    free(h.p);
    return st;
}

acl_status acl_st_write(const char *path, const struct acl_st_tensor *t, int n, const char *const *meta_kv,
                        int n_meta)
{
    struct acl_json_buf h = {0};
    struct acl_atomic_file a = {0};
    uint64_t data_size = 0;
    unsigned char len[8], *chunk = NULL;
    acl_status st = ACL_OK;
    if ((st = build_header(t, n, meta_kv, n_meta, &h, &data_size)) != ACL_OK) {
        acl_fail_context(st, "%s", path);
        goto cleanup;
    }
    ACL_TRY(acl_atomic_begin(&a, path));
    put_le64(len, h.n);
    acl_atomic_write(&a, len, 8);
    acl_atomic_write(&a, h.p, h.n);
    for (int i = 0; i < n; i++) {
        size_t esize = acl_st_dtype_size(t[i].dtype), count, nbytes;
        acl_st_shape_size(t[i].shape, t[i].ndim, t[i].dtype, &count, &nbytes);
        if (esize == 1 || acl_host_little_endian()) {
            acl_atomic_write(&a, t[i].data, nbytes);
            continue;
        }
        enum { CHUNK = 1 << 16 };
        if (!chunk && !(chunk = malloc(CHUNK))) {
            st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory", path);
            goto cleanup;
        }
        for (size_t k = 0; k < nbytes; k += CHUNK) {
            size_t m = nbytes - k < CHUNK ? nbytes - k : CHUNK;
            memcpy(chunk, (const unsigned char *)t[i].data + k, m);
            acl_swap_elements(chunk, m / esize, esize);
            acl_atomic_write(&a, chunk, m);
        }
    }
    st = acl_atomic_commit(&a);
cleanup:
    if (st != ACL_OK)
        acl_atomic_abort(&a);
    free(chunk);
    free(h.p);
    return st;
}
