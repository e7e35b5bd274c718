/* safetensors.c: the safetensors reader of safetensors.h: header validation, lookups, tensor reads. */
#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/bytes.h"
#include "io/json.h"
#include "runtime/error.h"

static const struct {
    const char *name;
    size_t size;
} dtypes[ACL_ST_DTYPE_COUNT] = {
    [ACL_ST_BOOL] = {"BOOL", 1},       [ACL_ST_U8] = {"U8", 1},   [ACL_ST_I8] = {"I8", 1},
    [ACL_ST_F8_E5M2] = {"F8_E5M2", 1}, [ACL_ST_F8_E4M3] = {"F8_E4M3", 1},
    [ACL_ST_I16] = {"I16", 2},         [ACL_ST_U16] = {"U16", 2}, [ACL_ST_F16] = {"F16", 2},
    [ACL_ST_BF16] = {"BF16", 2},       [ACL_ST_I32] = {"I32", 4}, [ACL_ST_U32] = {"U32", 4},
    [ACL_ST_F32] = {"F32", 4},         [ACL_ST_I64] = {"I64", 8}, [ACL_ST_U64] = {"U64", 8},
    [ACL_ST_F64] = {"F64", 8},
};

const char *acl_st_dtype_name(enum acl_st_dtype dtype)
{
    return (unsigned)dtype < ACL_ST_DTYPE_COUNT ? dtypes[dtype].name : "?";
}

size_t acl_st_dtype_size(enum acl_st_dtype dtype)
{
    return (unsigned)dtype < ACL_ST_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

struct entry {
    struct acl_st_info info;
    uint64_t end;
};

struct meta {
    const char *key, *value;
};

struct acl_st_file {
    char *label;
    int fd;                    /* -1 for an image in memory */
    const unsigned char *mem;  /* the data region of an image in memory */
    uint64_t data_start;       /* where the data region starts in the file */
    uint64_t data_size;
    char *arena;               /* names, keys and values */
    struct entry *t;
    size_t n, cap;
    struct entry **by_name;    /* sorted, for lookups */
    struct meta *meta;
    size_t n_meta, meta_cap;
};

static const char *shape_str(const int64_t *shape, int ndim, char *buf, size_t size)
{
    size_t k = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (k < size)
        snprintf(buf + k, size - k, "]");
    return buf;
}

int acl_st_shape_size(const int64_t *shape, int ndim, enum acl_st_dtype dtype, size_t *count, size_t *nbytes)
{
    uint64_t c = 1;
    size_t esize = acl_st_dtype_size(dtype);
    if (esize == 0 || ndim < 0 || ndim > ACL_ST_MAX_DIMS)
        return -1;
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return -1;
        else if (shape[i] == 0)
            c = 0;
    for (int i = 0; i < ndim && c; i++) {
        if ((uint64_t)shape[i] > UINT64_MAX / c)
            return -1;
        c *= (uint64_t)shape[i];
    }
    if (c > SIZE_MAX / esize)
        return -1;
    *count = (size_t)c;
    *nbytes = (size_t)c * esize;
    return 0;
}

/* ---- header parsing: errors name the tensor; the caller prefixes the file name */

#define JSON_TRY(expr)                                                                           \
    do {                                                                                         \
        acl_status json_st_ = (expr);                                                            \
        if (json_st_ != ACL_OK)                                                                  \
            return acl_fail_context(json_st_, "header");                                         \
    } while (0)

static acl_status parse_shape(struct acl_json_reader *r, struct acl_st_info *t)
{
    int count = 0, more;
    JSON_TRY(acl_json_expect(r, '['));
    for (;;) {
        JSON_TRY(acl_json_next(r, ']', &count, &more));
        if (!more)
            return ACL_OK;
        uint64_t v;
        JSON_TRY(acl_json_uint(r, &v));
        if (t->ndim == ACL_ST_MAX_DIMS)
            return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: more than %d dimensions", t->name, ACL_ST_MAX_DIMS);
        if (v > INT64_MAX)
            return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: dimension %llu is too large", t->name,
                            (unsigned long long)v);
        t->shape[t->ndim++] = (int64_t)v;
    }
}

static acl_status parse_offsets(struct acl_json_reader *r, struct entry *e)
{
    uint64_t v[2];
    int count = 0, more;
    JSON_TRY(acl_json_expect(r, '['));
    for (;;) {
        JSON_TRY(acl_json_next(r, ']', &count, &more));
        if (!more)
            break;
        if (count > 2)
            return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: data_offsets has more than 2 entries", e->info.name);
        JSON_TRY(acl_json_uint(r, &v[count - 1]));
    }
    if (count != 2)
        return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: data_offsets has %d entries, not 2 ([begin, end])",
                        e->info.name, count);
    e->info.begin = v[0];
    e->end = v[1];
    return ACL_OK;
}

static acl_status parse_dtype(struct acl_json_reader *r, struct acl_st_info *t)
{
    const char *s;
    JSON_TRY(acl_json_string(r, &s));
    for (int d = 0; d < ACL_ST_DTYPE_COUNT; d++)
        if (strcmp(s, dtypes[d].name) == 0) {
            t->dtype = (enum acl_st_dtype)d;
            return ACL_OK;
        }
    return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: unknown dtype '%.40s'", t->name, s);
}

/* Checks one tensor's sizes against its offsets and the data region. */
static acl_status check_entry(struct entry *e, uint64_t data_size)
{
    struct acl_st_info *t = &e->info;
    char shape[256];
    shape_str(t->shape, t->ndim, shape, sizeof shape);
    if (acl_st_shape_size(t->shape, t->ndim, t->dtype, &t->count, &t->nbytes) != 0)
        return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: shape %s of %s is too large", t->name, shape,
                        dtypes[t->dtype].name);
    if (e->end < t->begin)
        return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: data_offsets [%llu, %llu] end before they begin", t->name,
                        (unsigned long long)t->begin, (unsigned long long)e->end);
    if (e->end - t->begin != t->nbytes)
        return acl_fail(ACL_ERR_FORMAT,
                        "tensor %.200s: data_offsets [%llu, %llu] do not match shape %s of %s (%zu bytes)",
                        t->name, (unsigned long long)t->begin, (unsigned long long)e->end, shape,
                        dtypes[t->dtype].name, t->nbytes);
    if (e->end > data_size)
        return acl_fail(ACL_ERR_FORMAT,
                        "tensor %.200s: data_offsets [%llu, %llu] go past the end of the data region (%llu bytes): "
                        "truncated file?",
                        t->name, (unsigned long long)t->begin, (unsigned long long)e->end,
                        (unsigned long long)data_size);
    return ACL_OK;
}

static acl_status parse_tensor(struct acl_json_reader *r, struct entry *e, uint64_t data_size)
{
    int count = 0, more, seen_dtype = 0, seen_shape = 0, seen_offsets = 0;
    acl_status st;
    JSON_TRY(acl_json_expect(r, '{'));
    for (;;) {
        JSON_TRY(acl_json_next(r, '}', &count, &more));
        if (!more)
            break;
        const char *key;
        int *seen;
        JSON_TRY(acl_json_string(r, &key));
        JSON_TRY(acl_json_expect(r, ':'));
        if (strcmp(key, "dtype") == 0)
            seen = &seen_dtype;
        else if (strcmp(key, "shape") == 0)
            seen = &seen_shape;
        else if (strcmp(key, "data_offsets") == 0)
            seen = &seen_offsets;
        else
            return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: unknown key '%.40s' (expected dtype, shape, data_offsets)",
                            e->info.name, key);
        if (*seen)
            return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: key '%s' appears twice", e->info.name, key);
        *seen = 1;
        st = seen == &seen_dtype ? parse_dtype(r, &e->info)
             : seen == &seen_shape ? parse_shape(r, &e->info)
                                   : parse_offsets(r, e);
        if (st != ACL_OK)
            return st;
    }
    if (!seen_dtype || !seen_shape || !seen_offsets)
        return acl_fail(ACL_ERR_FORMAT, "tensor %.200s: missing %s", e->info.name,
                        !seen_dtype ? "dtype" : !seen_shape ? "shape" : "data_offsets");
    return check_entry(e, data_size);
}

static acl_status parse_meta(struct acl_json_reader *r, struct acl_st_file *f)
{
    int count = 0, more;
    JSON_TRY(acl_json_expect(r, '{'));
    for (;;) {
        JSON_TRY(acl_json_next(r, '}', &count, &more));
        if (!more)
            return ACL_OK;
        struct meta m;
        JSON_TRY(acl_json_string(r, &m.key));
        JSON_TRY(acl_json_expect(r, ':'));
        if (acl_json_peek(r) != '"')
            return acl_fail(ACL_ERR_FORMAT, "__metadata__: the value of '%.200s' is not a string", m.key);
        JSON_TRY(acl_json_string(r, &m.value));
        if (f->n_meta == f->meta_cap) {
            size_t cap = f->meta_cap ? 2 * f->meta_cap : 8;
            struct meta *p = realloc(f->meta, cap * sizeof *p);
            if (!p)
                return acl_fail(ACL_ERR_MEMORY, "out of memory reading the metadata");
            f->meta = p;
            f->meta_cap = cap;
        }
        f->meta[f->n_meta++] = m;
    }
}

static int cmp_entry_name(const void *a, const void *b)
{
    return strcmp((*(struct entry *const *)a)->info.name, (*(struct entry *const *)b)->info.name);
}

static int cmp_entry_offset(const void *a, const void *b)
{
    const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
    if (x->info.begin != y->info.begin)
        return x->info.begin < y->info.begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_meta_key(const void *a, const void *b)
{
    return strcmp(((const struct meta *)a)->key, ((const struct meta *)b)->key);
}

/* Unique names and metadata keys; tensors tiling the data region [0, data_size) exactly. */
static acl_status check_layout(struct acl_st_file *f)
{
    acl_status st = ACL_OK;
    struct entry **by_offset = NULL;
    struct meta *keys = NULL;
    f->by_name = malloc((f->n ? f->n : 1) * sizeof *f->by_name);
    by_offset = malloc((f->n ? f->n : 1) * sizeof *by_offset);
    keys = malloc((f->n_meta ? f->n_meta : 1) * sizeof *keys);
    if (!f->by_name || !by_offset || !keys) {
        st = acl_fail(ACL_ERR_MEMORY, "out of memory checking the header");
        goto cleanup;
    }
    for (size_t i = 0; i < f->n; i++)
        f->by_name[i] = by_offset[i] = &f->t[i];
    qsort(f->by_name, f->n, sizeof *f->by_name, cmp_entry_name);
    for (size_t i = 1; i < f->n; i++)
        if (cmp_entry_name(&f->by_name[i - 1], &f->by_name[i]) == 0) {
            st = acl_fail(ACL_ERR_FORMAT, "tensor %.200s appears twice", f->by_name[i]->info.name);
            goto cleanup;
        }
    if (f->n_meta)
        memcpy(keys, f->meta, f->n_meta * sizeof *keys);
    qsort(keys, f->n_meta, sizeof *keys, cmp_meta_key);
    for (size_t i = 1; i < f->n_meta; i++)
        if (strcmp(keys[i - 1].key, keys[i].key) == 0) {
            st = acl_fail(ACL_ERR_FORMAT, "__metadata__: key '%.200s' appears twice", keys[i].key);
            goto cleanup;
        }
    qsort(by_offset, f->n, sizeof *by_offset, cmp_entry_offset);
    uint64_t covered = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct entry *e = by_offset[i];
        if (e->info.begin > covered) {
            st = acl_fail(ACL_ERR_FORMAT, "bytes [%llu, %llu) of the data region belong to no tensor (before %.200s)",
                          (unsigned long long)covered, (unsigned long long)e->info.begin, e->info.name);
            goto cleanup;
        }
        if (e->info.begin < covered) {
            const struct entry *p = by_offset[i - 1];
            st = acl_fail(ACL_ERR_FORMAT,
                          "tensor %.200s (data_offsets [%llu, %llu]) overlaps tensor %.200s ([%llu, %llu])",
                          e->info.name, (unsigned long long)e->info.begin, (unsigned long long)e->end, p->info.name,
                          (unsigned long long)p->info.begin, (unsigned long long)p->end);
            goto cleanup;
        }
        covered = e->end;
    }
    if (covered != f->data_size)
        st = acl_fail(ACL_ERR_FORMAT, "the data region has %llu bytes but its tensors cover %llu (%s)",
                      (unsigned long long)f->data_size, (unsigned long long)covered,
                      covered < f->data_size ? "extra bytes after the last tensor" : "truncated file?");
cleanup:
    free(by_offset);
    free(keys);
    return st;
}

static acl_status parse_header(struct acl_st_file *f, const unsigned char *text, size_t n)
{
    struct acl_json_reader r;
    int count = 0, more, seen_meta = 0;
    acl_status st;
    f->arena = malloc(n);
    if (!f->arena)
        return acl_fail(ACL_ERR_MEMORY, "out of memory for a header of %zu bytes", n);
    acl_json_init(&r, text, n, f->arena);
    JSON_TRY(acl_json_expect(&r, '{'));
    for (;;) {
        JSON_TRY(acl_json_next(&r, '}', &count, &more));
        if (!more)
            break;
        const char *name;
        JSON_TRY(acl_json_string(&r, &name));
        JSON_TRY(acl_json_expect(&r, ':'));
        if (strcmp(name, "__metadata__") == 0) {
            if (seen_meta++)
                return acl_fail(ACL_ERR_FORMAT, "__metadata__ appears twice");
            if ((st = parse_meta(&r, f)) != ACL_OK)
                return st;
            continue;
        }
        if (f->n == f->cap) {
            size_t cap = f->cap ? 2 * f->cap : 16;
            struct entry *p = realloc(f->t, cap * sizeof *p);
            if (!p)
                return acl_fail(ACL_ERR_MEMORY, "out of memory reading the header");
            f->t = p;
            f->cap = cap;
        }
        struct entry *e = &f->t[f->n++];
        memset(e, 0, sizeof *e);
        e->info.name = name;
        if ((st = parse_tensor(&r, e, f->data_size)) != ACL_OK)
            return st;
    }
    JSON_TRY(acl_json_end(&r));
    return check_layout(f);
}

/* The checks on the 8-byte length that come before any JSON is read. */
static acl_status check_header_length(uint64_t n, uint64_t file_size, unsigned char first)
{
    if (n > ACL_ST_MAX_HEADER)
        return acl_fail(ACL_ERR_FORMAT, "header length %llu is over the %u MB limit (not a safetensors file?)",
                        (unsigned long long)n, ACL_ST_MAX_HEADER >> 20);
    if (n > file_size - 8)
        return acl_fail(ACL_ERR_FORMAT, "header length %llu goes past the end of the file (%llu bytes): truncated?",
                        (unsigned long long)n, (unsigned long long)file_size);
    if (n < 2 || first != '{')
        return acl_fail(ACL_ERR_FORMAT, "the header is not a JSON object (not a safetensors file?)");
    return ACL_OK;
}

static uint64_t le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static struct acl_st_file *new_file(const char *label)
{
    struct acl_st_file *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->fd = -1;
    f->label = strdup(label);
    if (!f->label) {
        free(f);
        return NULL;
    }
    return f;
}

void acl_st_close(struct acl_st_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->label);
    free(f->arena);
    free(f->t);
    free(f->by_name);
    free(f->meta);
    free(f);
}

acl_status acl_st_open_memory(const void *data, size_t size, const char *label, struct acl_st_file **file)
{
    const unsigned char *b = data;
    acl_status st = ACL_OK;
    struct acl_st_file *f = NULL;
    *file = NULL;
    if (!label)
        label = "<memory>";
    if (!data && size)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: no data", label);
    if (size < 8)
        return acl_fail(ACL_ERR_FORMAT, "%s: %zu bytes, too short for a safetensors file (8-byte header length)",
                        label, size);
    uint64_t n = le64(b);
    if ((st = check_header_length(n, size, size > 8 ? b[8] : 0)) != ACL_OK)
        return acl_fail_context(st, "%s", label);
    if (!(f = new_file(label)))
        return acl_fail(ACL_ERR_MEMORY, "%s: out of memory", label);
    f->data_start = 8 + n;
    f->data_size = size - 8 - n;
    f->mem = b + f->data_start;
    ACL_TRY(parse_header(f, b + 8, (size_t)n));
cleanup:
    if (st != ACL_OK) {
        acl_fail_context(st, "%s", label);
        acl_st_close(f);
        return st;
    }
    *file = f;
    return ACL_OK;
}

/* Reads exactly n bytes at offset, or fails naming what was being read. */
static acl_status pread_exact(int fd, void *dst, size_t n, uint64_t offset, const char *label, const char *what)
{
    unsigned char *p = dst;
    while (n > 0) {
        ssize_t k = pread(fd, p, n, (off_t)offset);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return acl_fail(ACL_ERR_IO, "%s: reading %s: %s", label, what, strerror(errno));
        if (k == 0)
            return acl_fail(ACL_ERR_IO, "%s: reading %s: the file ended early (changed since it was opened?)",
                            label, what);
        p += k;
        n -= (size_t)k;
        offset += (uint64_t)k;
    }
    return ACL_OK;
}

acl_status acl_st_open(const char *path, struct acl_st_file **file)
{
    acl_status st = ACL_OK;
    struct acl_st_file *f = NULL;
    unsigned char len[8], *header = NULL;
    struct stat sb;
    *file = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return acl_fail(ACL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0) {
        st = acl_fail(ACL_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = acl_fail(ACL_ERR_IO, "%s: not a regular file", path);
        goto cleanup;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size < 8) {
        st = acl_fail(ACL_ERR_FORMAT, "%s: %llu bytes, too short for a safetensors file (8-byte header length)",
                      path, (unsigned long long)size);
        goto cleanup;
    }
    ACL_TRY(pread_exact(fd, len, 8, 0, path, "the header length"));
    uint64_t n = le64(len);
    unsigned char first = 0;
    if (size > 8)
        ACL_TRY(pread_exact(fd, &first, 1, 8, path, "the header"));
    if ((st = check_header_length(n, size, first)) != ACL_OK) {
        acl_fail_context(st, "%s", path);
        goto cleanup;
    }
    if (!(header = malloc((size_t)n)) || !(f = new_file(path))) {
        st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory for a header of %llu bytes", path, (unsigned long long)n);
        goto cleanup;
    }
    ACL_TRY(pread_exact(fd, header, (size_t)n, 8, path, "the header"));
    f->data_start = 8 + n;
    f->data_size = size - 8 - n;
    if ((st = parse_header(f, header, (size_t)n)) != ACL_OK) {
        acl_fail_context(st, "%s", path);
        goto cleanup;
    }
    f->fd = fd;
    fd = -1;
cleanup:
    free(header);
    if (fd >= 0)
        close(fd);
    if (st != ACL_OK) {
        acl_st_close(f);
        return st;
    }
    *file = f;
    return ACL_OK;
}

/* ---- queries and reads */

size_t acl_st_count(const struct acl_st_file *f) { return f->n; }

void acl_st_info_at(const struct acl_st_file *f, size_t index, struct acl_st_info *info)
{
    *info = f->t[index].info;
}

static const struct entry *lookup(const struct acl_st_file *f, const char *name)
{
    struct entry key, *pkey = &key;
    key.info.name = name;
    struct entry **hit = bsearch(&pkey, f->by_name, f->n, sizeof *f->by_name, cmp_entry_name);
    return hit ? *hit : NULL;
}

acl_status acl_st_find(const struct acl_st_file *f, const char *name, struct acl_st_info *info)
{
    const struct entry *e = lookup(f, name);
    if (!e)
        return acl_fail(ACL_ERR_FORMAT, "%s: no tensor named '%.200s'", f->label, name);
    *info = e->info;
    return ACL_OK;
}

static acl_status read_entry(struct acl_st_file *f, const struct entry *e, void *dst)
{
    if (e->info.nbytes == 0)
        return ACL_OK;
    if (f->mem) {
        memcpy(dst, f->mem + e->info.begin, e->info.nbytes);
        return ACL_OK;
    }
    char what[256];
    snprintf(what, sizeof what, "tensor %.200s", e->info.name);
    return pread_exact(f->fd, dst, e->info.nbytes, f->data_start + e->info.begin, f->label, what);
}

acl_status acl_st_read_f32(struct acl_st_file *f, const char *name, float *dst, size_t count)
{
    acl_status st = ACL_OK;
    struct acl_st_info t;
    char shape[256];
    ACL_TRY(acl_st_find(f, name, &t));
    shape_str(t.shape, t.ndim, shape, sizeof shape);
    if (t.dtype != ACL_ST_F32)
        return acl_fail(ACL_ERR_FORMAT, "%s: tensor %.200s is %s %s, not F32 (convert it to float32 first)",
                        f->label, name, dtypes[t.dtype].name, shape);
    if (t.count != count)
        return acl_fail(ACL_ERR_FORMAT, "%s: tensor %.200s has shape %s (%zu elements), expected %zu elements",
                        f->label, name, shape, t.count, count);
    ACL_TRY(read_entry(f, lookup(f, name), dst));
    acl_swap_elements(dst, count, sizeof(float));
cleanup:
    return st;
}

acl_status acl_st_read_raw(struct acl_st_file *f, const char *name, void *dst, size_t nbytes)
{
    acl_status st = ACL_OK;
    struct acl_st_info t;
    ACL_TRY(acl_st_find(f, name, &t));
    if (t.nbytes != nbytes)
        return acl_fail(ACL_ERR_FORMAT, "%s: tensor %.200s has %zu bytes, expected %zu", f->label, name, t.nbytes,
                        nbytes);
    ACL_TRY(read_entry(f, lookup(f, name), dst));
cleanup:
    return st;
}

const char *acl_st_meta(const struct acl_st_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}

size_t acl_st_meta_count(const struct acl_st_file *f) { return f->n_meta; }

void acl_st_meta_at(const struct acl_st_file *f, size_t index, const char **key, const char **value)
{
    *key = f->meta[index].key;
    *value = f->meta[index].value;
}
