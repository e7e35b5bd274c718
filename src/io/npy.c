/* npy.c: the .npy reader (preamble and dict-literal header) and writer of npy.h. */
#include "io/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"
#include "io/bytes.h"
#include "runtime/error.h"

static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
#define NPY_ALIGN 64        /* numpy.lib.format.ARRAY_ALIGN */
#define NPY_GROWTH_DIGITS 21 /* numpy.lib.format.GROWTH_AXIS_MAX_DIGITS: spare room numpy leaves in the header */

/* The shape as Python writes a tuple: "()", "(3,)", "(2, 3)". */
static const char *tuple_str(const int64_t *shape, int ndim, char *buf, size_t size)
{
    size_t k = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < size)
        snprintf(buf + k, size - k, ndim == 1 ? ",)" : ")");
    return buf;
}

/* ---- the header: a Python dict literal, of which only strings, True/False and int tuples are read */

struct lit {
    const unsigned char *begin, *p, *end;
};

static void lit_ws(struct lit *l)
{
    while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
        l->p++;
}

static int lit_peek(struct lit *l)
{
    lit_ws(l);
    return l->p < l->end ? *l->p : -1;
}

static acl_status lit_fail(const struct lit *l, const char *expected)
{
    if (l->p >= l->end)
        return acl_fail(ACL_ERR_FORMAT, "header: expected %s, found the end of the header", expected);
    if (*l->p >= 0x20 && *l->p < 0x7f)
        return acl_fail(ACL_ERR_FORMAT, "header byte %zu: expected %s, found '%c'", (size_t)(l->p - l->begin),
                        expected, *l->p);
    return acl_fail(ACL_ERR_FORMAT, "header byte %zu: expected %s, found byte 0x%02x", (size_t)(l->p - l->begin),
                    expected, *l->p);
}

static acl_status lit_expect(struct lit *l, char c)
{
    char what[4] = {'\'', c, '\'', '\0'};
    if (lit_peek(l) != (unsigned char)c)
        return lit_fail(l, what);
    l->p++;
    return ACL_OK;
}

/* A quoted string without escapes (none of the values read here needs one); s is not NUL-terminated. */
static acl_status lit_string(struct lit *l, const char **s, size_t *len)
{
    int q = lit_peek(l);
    if (q != '\'' && q != '"')
        return lit_fail(l, "a quoted string");
    const unsigned char *start = ++l->p;
    while (l->p < l->end && *l->p != q) {
        if (*l->p == '\\' || *l->p < 0x20 || *l->p >= 0x7f)
            return lit_fail(l, "a plain ASCII string");
        l->p++;
    }
    if (l->p >= l->end)
        return lit_fail(l, "the end of the string");
    *s = (const char *)start;
    *len = (size_t)(l->p - start);
    l->p++;
    return ACL_OK;
}

static int lit_word(struct lit *l, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(l->end - l->p) < n || memcmp(l->p, w, n) != 0)
        return 0;
    /* a whole word only: "Truex" is not True */
    if ((size_t)(l->end - l->p) > n) {
        unsigned char c = l->p[n];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            return 0;
    }
    l->p += n;
    return 1;
}

static acl_status lit_bool(struct lit *l, int *v)
{
    lit_ws(l);
    if (lit_word(l, "True"))
        *v = 1;
    else if (lit_word(l, "False"))
        *v = 0;
    else
        return lit_fail(l, "True or False");
    return ACL_OK;
}

static acl_status lit_int(struct lit *l, int64_t *v)
{
    if (lit_peek(l) == '-')
        return acl_fail(ACL_ERR_FORMAT, "header byte %zu: negative dimension in the shape", (size_t)(l->p - l->begin));
    if (l->p >= l->end || *l->p < '0' || *l->p > '9')
        return lit_fail(l, "a dimension (a non-negative integer)");
    if (*l->p == '0' && l->end - l->p > 1 && l->p[1] >= '0' && l->p[1] <= '9')
        return lit_fail(l, "an integer without leading zeros");
    uint64_t x = 0;
    while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
        if (x > ((uint64_t)INT64_MAX - (uint64_t)(*l->p - '0')) / 10)
            return acl_fail(ACL_ERR_FORMAT, "header byte %zu: dimension too large", (size_t)(l->p - l->begin));
        x = x * 10 + (uint64_t)(*l->p++ - '0');
    }
    if (l->p < l->end && *l->p == 'L') /* Python 2 wrote long integers so, and numpy still reads such files */
        l->p++;
    *v = (int64_t)x;
    return ACL_OK;
}

/* A tuple of integers; "(3)" is an int in Python, not a tuple, so one element needs its comma. */
static acl_status lit_shape(struct lit *l, struct acl_npy_array *a)
{
    acl_status st;
    int comma = 0;
    if ((st = lit_expect(l, '(')) != ACL_OK)
        return st;
    a->ndim = 0;
    while (lit_peek(l) != ')') {
        if (a->ndim > 0 && !comma)
            return lit_fail(l, "',' or ')' in the shape");
        if (a->ndim == ACL_NPY_MAX_DIMS)
            return acl_fail(ACL_ERR_FORMAT, "header: shape has more than %d dimensions", ACL_NPY_MAX_DIMS);
        if ((st = lit_int(l, &a->shape[a->ndim++])) != ACL_OK)
            return st;
        comma = lit_peek(l) == ',';
        if (comma)
            l->p++;
    }
    if (a->ndim == 1 && !comma)
        return acl_fail(ACL_ERR_FORMAT, "header: shape (%lld) is not a tuple (a 1-d shape is written (n,))",
                        (long long)a->shape[0]);
    l->p++;
    return ACL_OK;
}

/* What numpy calls a descr, in words, for the message that refuses it. */
static const char *descr_words(const char *s, size_t n)
{
    static const struct {
        const char *descr, *words;
    } known[] = {
        {"<f8", "float64"}, {"<f2", "float16"}, {">f4", "big-endian float32"}, {"<i4", "int32"},
        {"<i8", "int64"},   {"|u1", "uint8"},   {"|i1", "int8"},               {"|b1", "bool"},
        {"<i2", "int16"},   {"<u2", "uint16"},  {"<c8", "complex64"},          {"<c16", "complex128"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].descr) == n && memcmp(s, known[i].descr, n) == 0)
            return known[i].words;
    return "an unsupported dtype";
}

static acl_status parse_dict(const unsigned char *text, size_t n, struct acl_npy_array *a)
{
    struct lit l = {text, text, text + n};
    int seen_descr = 0, seen_order = 0, seen_shape = 0, fortran = 0;
    acl_status st;
    if ((st = lit_expect(&l, '{')) != ACL_OK)
        return st;
    while (lit_peek(&l) != '}') {
        const char *key, *val;
        size_t klen, vlen;
        if ((st = lit_string(&l, &key, &klen)) != ACL_OK || (st = lit_expect(&l, ':')) != ACL_OK)
            return st;
        int *seen = klen == 5 && memcmp(key, "descr", 5) == 0            ? &seen_descr
                    : klen == 13 && memcmp(key, "fortran_order", 13) == 0 ? &seen_order
                    : klen == 5 && memcmp(key, "shape", 5) == 0           ? &seen_shape
                                                                        : NULL;
        if (!seen)
            return acl_fail(ACL_ERR_FORMAT, "header: unknown key '%.*s' (expected descr, fortran_order, shape)",
                            (int)(klen < 40 ? klen : 40), key);
        if (*seen)
            return acl_fail(ACL_ERR_FORMAT, "header: key '%.*s' appears twice", (int)klen, key);
        *seen = 1;
        if (seen == &seen_descr) {
            if (lit_peek(&l) == '[')
                return acl_fail(ACL_ERR_FORMAT, "structured dtypes (a list as descr) are not supported: only "
                                                "little-endian float32 ('<f4')");
            if ((st = lit_string(&l, &val, &vlen)) != ACL_OK)
                return st;
            if (vlen != 3 || memcmp(val, "<f4", 3) != 0)
                return acl_fail(ACL_ERR_FORMAT, "dtype '%.*s' (%s) is not supported: only little-endian float32 "
                                                "('<f4'); convert with arr.astype('<f4')",
                                (int)(vlen < 40 ? vlen : 40), val, descr_words(val, vlen));
        } else if (seen == &seen_order) {
            if ((st = lit_bool(&l, &fortran)) != ACL_OK)
                return st;
            if (fortran)
                return acl_fail(ACL_ERR_FORMAT, "fortran_order is True: only C-order arrays are supported (save "
                                                "numpy.ascontiguousarray(arr))");
        } else if ((st = lit_shape(&l, a)) != ACL_OK) {
            return st;
        }
        if (lit_peek(&l) == ',')
            l.p++;
        else if (lit_peek(&l) != '}')
            return lit_fail(&l, "',' or '}'");
    }
    l.p++;
    if (lit_peek(&l) != -1)
        return lit_fail(&l, "only padding after the header's '}'");
    if (!seen_descr || !seen_order || !seen_shape)
        return acl_fail(ACL_ERR_FORMAT, "header: missing key '%s'",
                        !seen_descr ? "descr" : !seen_order ? "fortran_order" : "shape");
    return ACL_OK;
}

/* Validates the preamble and header held in the first avail bytes of a file of file_size bytes; sets a's
 * shape and count and where the data starts. */
static acl_status parse_preamble(const unsigned char *b, size_t avail, uint64_t file_size, struct acl_npy_array *a,
                                 size_t *data_offset)
{
    char shape[ACL_NPY_MAX_DIMS * 22 + 8];
    if (avail < 10)
        return acl_fail(ACL_ERR_FORMAT, "%llu bytes, too short for a .npy file", (unsigned long long)file_size);
    if (memcmp(b, magic, sizeof magic) != 0)
        return acl_fail(ACL_ERR_FORMAT, "not a .npy file (it does not start with \\x93NUMPY)");
    size_t prefix, hlen;
    if (b[6] == 1 && b[7] == 0) {
        prefix = 10;
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
    } else if ((b[6] == 2 || b[6] == 3) && b[7] == 0) {
        prefix = 12;
        if (avail < 12)
            return acl_fail(ACL_ERR_FORMAT, "truncated in the header length");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    } else {
        return acl_fail(ACL_ERR_FORMAT, ".npy format version %d.%d is not supported (1.0, 2.0 and 3.0 are)", b[6],
                        b[7]);
    }
    if (hlen > ACL_NPY_MAX_HEADER)
        return acl_fail(ACL_ERR_FORMAT, "header length %zu is over the %d-byte limit", hlen, ACL_NPY_MAX_HEADER);
    if (avail < prefix + hlen)
        return acl_fail(ACL_ERR_FORMAT, "truncated: the header needs %zu bytes, the file has %llu", prefix + hlen,
                        (unsigned long long)file_size);
    acl_status st = parse_dict(b + prefix, hlen, a);
    if (st != ACL_OK)
        return st;
    uint64_t count = 1;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] == 0)
            count = 0;
    for (int i = 0; i < a->ndim && count; i++) {
        if ((uint64_t)a->shape[i] > UINT64_MAX / count)
            count = UINT64_MAX;
        else
            count *= (uint64_t)a->shape[i];
    }
    tuple_str(a->shape, a->ndim, shape, sizeof shape);
    *data_offset = prefix + hlen;
    uint64_t have = file_size - *data_offset;
    if (count > have / 4)
        return acl_fail(ACL_ERR_FORMAT, "truncated: shape %s needs %s%llu bytes of data, the file has %llu", shape,
                        count > UINT64_MAX / 4 ? "over " : "",
                        (unsigned long long)(count > UINT64_MAX / 4 ? UINT64_MAX : count * 4),
                        (unsigned long long)have);
    if (count * 4 != have)
        return acl_fail(ACL_ERR_FORMAT, "%llu bytes follow the data of shape %s (not a single .npy array?)",
                        (unsigned long long)(have - count * 4), shape);
    a->count = (size_t)count;
    return ACL_OK;
}

void acl_npy_free(struct acl_npy_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

static acl_status alloc_data(struct acl_npy_array *a, const char *label)
{
    a->data = malloc((a->count ? a->count : 1) * sizeof(float));
    if (!a->data)
        return acl_fail(ACL_ERR_MEMORY, "%s: out of memory for %zu floats", label, a->count);
    return ACL_OK;
}

acl_status acl_npy_read_memory(const void *buf, size_t size, const char *label, struct acl_npy_array *a)
{
    size_t offset;
    acl_status st;
    memset(a, 0, sizeof *a);
    if (!label)
        label = "<memory>";
    if (!buf && size)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: no data", label);
    if ((st = parse_preamble(buf, size, size, a, &offset)) != ACL_OK) {
        memset(a, 0, sizeof *a);
        return acl_fail_context(st, "%s", label);
    }
    if ((st = alloc_data(a, label)) != ACL_OK) {
        acl_npy_free(a);
        return st;
    }
    if (a->count)
        memcpy(a->data, (const unsigned char *)buf + offset, a->count * sizeof(float));
    acl_swap_elements(a->data, a->count, sizeof(float));
    return ACL_OK;
}

acl_status acl_npy_read(const char *path, struct acl_npy_array *a)
{
    acl_status st = ACL_OK;
    unsigned char *head = NULL;
    struct stat sb;
    size_t offset;
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f)
        return acl_fail(ACL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = acl_fail(ACL_ERR_IO, "%s: not a regular file", path);
        goto cleanup;
    }
    /* Only the preamble and header are read before the sizes are checked against the file. */
    uint64_t size = (uint64_t)sb.st_size;
    size_t want = size < 12 + ACL_NPY_MAX_HEADER ? (size_t)size : 12 + ACL_NPY_MAX_HEADER;
    if (!(head = malloc(want ? want : 1))) {
        st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory", path);
        goto cleanup;
    }
    if (fread(head, 1, want, f) != want) {
        st = acl_fail(ACL_ERR_IO, "%s: reading the header: %s", path, ferror(f) ? strerror(errno) : "file ended early");
        goto cleanup;
    }
    if ((st = parse_preamble(head, want, size, a, &offset)) != ACL_OK) {
        acl_fail_context(st, "%s", path);
        goto cleanup;
    }
    ACL_TRY(alloc_data(a, path));
    if (fseek(f, (long)offset, SEEK_SET) != 0 || fread(a->data, sizeof(float), a->count, f) != a->count) {
        st = acl_fail(ACL_ERR_IO, "%s: reading %zu floats: %s", path, a->count,
                      ferror(f) ? strerror(errno) : "the file ended early (changed while reading?)");
        goto cleanup;
    }
    acl_swap_elements(a->data, a->count, sizeof(float));
cleanup:
    if (st != ACL_OK)
        acl_npy_free(a);
    free(head);
    fclose(f);
    return st;
}

/* ---- writing */

/* The preamble and header numpy.save writes for this shape; returns its length (a multiple of 64). */
static acl_status build_header(int ndim, const int64_t *shape, const float *data, char *h, size_t hsize,
                               size_t *hlen, size_t *count)
{
    char tuple[ACL_NPY_MAX_DIMS * 22 + 8];
    uint64_t c = 1;
    if (ndim < 0 || ndim > ACL_NPY_MAX_DIMS || (ndim > 0 && !shape))
        return acl_fail(ACL_ERR_ARGUMENT, "rank %d is not between 0 and %d", ndim, ACL_NPY_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return acl_fail(ACL_ERR_ARGUMENT, "negative dimension %lld", (long long)shape[i]);
        else if (shape[i] == 0)
            c = 0;
    for (int i = 0; i < ndim && c; i++) {
        if ((uint64_t)shape[i] > UINT64_MAX / c)
            return acl_fail(ACL_ERR_ARGUMENT, "shape too large");
        c *= (uint64_t)shape[i];
    }
    if (c > SIZE_MAX / 4 / 2)
        return acl_fail(ACL_ERR_ARGUMENT, "shape too large");
    if (c > 0 && !data)
        return acl_fail(ACL_ERR_ARGUMENT, "no data");
    tuple_str(shape, ndim, tuple, sizeof tuple);
    int k = snprintf(h + 10, hsize - 10, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", tuple);
    size_t n = (size_t)k;
    if (ndim > 0) { /* the room numpy leaves to grow the first axis in place */
        char first[24];
        size_t digits = (size_t)snprintf(first, sizeof first, "%lld", (long long)shape[0]);
        for (size_t i = digits; i < NPY_GROWTH_DIGITS; i++)
            h[10 + n++] = ' ';
    }
    size_t pad = NPY_ALIGN - (10 + n + 1) % NPY_ALIGN;
    memset(h + 10 + n, ' ', pad);
    n += pad;
    h[10 + n++] = '\n';
    memcpy(h, magic, sizeof magic);
    h[6] = 1;
    h[7] = 0;
    h[8] = (char)(n & 0xff);
    h[9] = (char)(n >> 8);
    *hlen = 10 + n;
    *count = (size_t)c;
    return ACL_OK;
}

/* Large enough for 32 dimensions of 19 digits, the growth room and the alignment. */
#define NPY_HEADER_BUF 1024

acl_status acl_npy_write_memory(const float *data, int ndim, const int64_t *shape, void **buf, size_t *size)
{
    char h[NPY_HEADER_BUF];
    size_t hlen, count;
    *buf = NULL;
    *size = 0;
    acl_status st = build_header(ndim, shape, data, h, sizeof h, &hlen, &count);
    if (st != ACL_OK)
        return st;
    unsigned char *out = malloc(hlen + count * 4);
    if (!out)
        return acl_fail(ACL_ERR_MEMORY, "out of memory for a .npy image of %zu floats", count);
    memcpy(out, h, hlen);
    if (count)
        memcpy(out + hlen, data, count * 4);
    acl_swap_elements(out + hlen, count, sizeof(float));
    *buf = out;
    *size = hlen + count * 4;
    return ACL_OK;
}

acl_status acl_npy_write(const char *path, const float *data, int ndim, const int64_t *shape)
{
    char h[NPY_HEADER_BUF];
    size_t hlen, count;
    struct acl_atomic_file a = {0};
    float *chunk = NULL;
    acl_status st = build_header(ndim, shape, data, h, sizeof h, &hlen, &count);
    if (st != ACL_OK)
        return acl_fail_context(st, "%s", path);
    ACL_TRY(acl_atomic_begin(&a, path));
    acl_atomic_write(&a, h, hlen);
    if (acl_host_little_endian()) {
        acl_atomic_write(&a, data, count * sizeof(float));
    } else {
        enum { CHUNK = 16384 };
        if (!(chunk = malloc(CHUNK * sizeof(float)))) {
            st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory", path);
            goto cleanup;
        }
        for (size_t k = 0; k < count; k += CHUNK) {
            size_t m = count - k < CHUNK ? count - k : CHUNK;
            memcpy(chunk, data + k, m * sizeof(float));
            acl_swap_elements(chunk, m, sizeof(float));
            acl_atomic_write(&a, chunk, m * sizeof(float));
        }
    }
    st = acl_atomic_commit(&a);
cleanup:
    if (st != ACL_OK)
        acl_atomic_abort(&a);
    free(chunk);
    return st;
}
