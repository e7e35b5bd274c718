/* meta.c: the weights file's metadata, written and read (see meta.h). */
#include "train/meta.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h" /* ACL_MAX_CLASSES */
#include "io/bytes.h"
#include "io/json.h"
#include "io/npy.h"
#include "runtime/error.h"

#define KEY_DESCRIPTION "alexnet_cl.description"
#define KEY_CLASSES "alexnet_cl.classes"
#define KEY_MEAN_SHAPE "alexnet_cl.mean_shape"
#define KEY_MEAN "alexnet_cl.mean"
#define KEY_SCALE "alexnet_cl.pixel_scale"
#define KEY_LIGHTING "alexnet_cl.lighting"

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- base64 ------------------------------------------------------------------------------------ */

static char *b64_encode(const uint8_t *in, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        *o++ = b64_chars[v >> 18 & 63];
        *o++ = b64_chars[v >> 12 & 63];
        *o++ = i + 1 < n ? b64_chars[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? b64_chars[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64_chars, c) : NULL;
    return p ? (int)(p - b64_chars) : -1;
}

/* Decodes exactly n bytes from text, which must be their padded encoding and nothing else; 0 on success. */
static int b64_decode(const char *text, uint8_t *out, size_t n)
{
    if (strlen(text) != (n + 2) / 3 * 4)
        return -1;
    for (size_t i = 0, k = 0; i < n; i += 3, k += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            int pad_ok = (j == 2 && i + 1 >= n) || (j == 3 && i + 2 >= n);
            v[j] = pad_ok && text[k + j] == '=' ? 0 : b64_value(text[k + j]);
            if (v[j] < 0 || (pad_ok && text[k + j] != '='))
                return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[i] = (uint8_t)(w >> 16);
        if (i + 1 < n)
            out[i + 1] = (uint8_t)(w >> 8);
        else if (w & 0xffff)
            return -1; /* bits past the data: not the canonical encoding */
        if (i + 2 < n)
            out[i + 2] = (uint8_t)w;
        else if (w & 0xff)
            return -1;
    }
    return 0;
}

/* ---- writing ----------------------------------------------------------------------------------- */

struct kv_list {
    char **kv;
    int n, failed;
};

static void put(struct kv_list *l, const char *key, char *value)
{
    char *k = dup_str(key);
    if (!value || !k) {
        free(k);
        free(value);
        l->failed = 1;
        return;
    }
    l->kv[2 * l->n] = k;
    l->kv[2 * l->n + 1] = value;
    l->n++;
}

static char *format_floats(const float *v, int n)
{
    char *s = malloc((size_t)n * 24 + 1);
    if (!s)
        return NULL;
    size_t at = 0;
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, 24, "%s%.9g", i ? " " : "", (double)v[i]);
    return s;
}

static char *encode_classes(char *const *names, int n)
{
    struct acl_json_buf b = {0};
    acl_json_buf_cstr(&b, "[");
    for (int i = 0; i < n; i++) {
        acl_json_buf_cstr(&b, i ? "," : "");
        acl_json_buf_quoted(&b, names[i]);
    }
    acl_json_buf_cstr(&b, "]");
    acl_json_buf_raw(&b, "", 1); /* the terminating NUL */
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static char *encode_mean(const struct acl_weights_meta *m)
{
    size_t count = (size_t)m->mean_h * m->mean_w * m->mean_c;
    uint8_t *le = malloc(count * 4);
    if (!le)
        return NULL;
    memcpy(le, m->mean, count * 4);
    acl_swap_elements(le, count, 4);
    char *s = b64_encode(le, count * 4);
    free(le);
    return s;
}

acl_status acl_meta_encode(const struct acl_weights_meta *m, char ***kv, int *n)
{
    struct kv_list l = {calloc(2 * 6, sizeof(char *)), 0, 0};
    *kv = NULL;
    *n = 0;
    if (!l.kv)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for the weights' metadata");
    if (m->description)
        put(&l, KEY_DESCRIPTION, dup_str(m->description));
    if (m->class_names && m->n_classes > 0)
        put(&l, KEY_CLASSES, encode_classes(m->class_names, m->n_classes));
    if (m->mean) {
        char shape[64];
        snprintf(shape, sizeof shape, "%d,%d,%d", m->mean_h, m->mean_w, m->mean_c);
        put(&l, KEY_MEAN_SHAPE, dup_str(shape));
        put(&l, KEY_MEAN, encode_mean(m));
    }
    if (m->pixel_scale > 0)
        put(&l, KEY_SCALE, format_floats(&m->pixel_scale, 1));
    if (m->lighting) {
        float v[12];
        memcpy(v, m->lighting->eigval, sizeof(float) * 3);
        memcpy(v + 3, m->lighting->eigvec, sizeof(float) * 9);
        put(&l, KEY_LIGHTING, format_floats(v, 12));
    }
    if (l.failed) {
        acl_meta_kv_free(l.kv, l.n);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for the weights' metadata");
    }
    *kv = l.kv;
    *n = l.n;
    return ACL_OK;
}

void acl_meta_kv_free(char **kv, int n)
{
    if (!kv)
        return;
    for (int i = 0; i < 2 * n; i++)
        free(kv[i]);
    free(kv);
}

/* ---- reading ----------------------------------------------------------------------------------- */

/* n finite floats separated by single spaces, nothing else; 0 on success. */
static int parse_floats(const char *s, float *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (i > 0 && *s++ != ' ')
            return -1;
        if (!*s || *s == ' ')
            return -1;
        char *end = NULL;
        v[i] = strtof(s, &end);
        if (end == s || !isfinite(v[i]))
            return -1;
        s = end;
    }
    return *s ? -1 : 0;
}

static acl_status bad(const char *name, const char *key, const char *what)
{
    return acl_fail(ACL_ERR_FORMAT, "%s: metadata %s is %s", name, key, what);
}

static acl_status decode_classes(const char *value, const char *name, struct acl_weights_meta *m)
{
    size_t len = strlen(value);
    char *arena = malloc(len + 1);
    acl_status st = ACL_OK;
    int count = 0, more = 0, cap = 0;
    if (!arena)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    struct acl_json_reader r;
    acl_json_init(&r, value, len, arena);
    if (acl_json_expect(&r, '[') != ACL_OK || acl_json_next(&r, ']', &count, &more) != ACL_OK) {
        st = bad(name, KEY_CLASSES, "not a JSON array of strings");
        goto cleanup;
    }
    while (more) {
        const char *s = NULL;
        if (acl_json_string(&r, &s) != ACL_OK) {
            st = bad(name, KEY_CLASSES, "not a JSON array of strings");
            goto cleanup;
        }
        if (m->n_classes >= ACL_MAX_CLASSES) {
            st = bad(name, KEY_CLASSES, "longer than any model's class count");
            goto cleanup;
        }
        if (m->n_classes == cap) {
            int c = cap ? 2 * cap : 16;
            char **g = realloc(m->class_names, (size_t)c * sizeof *g);
            if (!g) {
                st = acl_fail(ACL_ERR_MEMORY, "out of host memory for class names");
                goto cleanup;
            }
            m->class_names = g;
            cap = c;
        }
        if (!(m->class_names[m->n_classes] = dup_str(s))) {
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory for class names");
            goto cleanup;
        }
        m->n_classes++;
        if (acl_json_next(&r, ']', &count, &more) != ACL_OK) {
            st = bad(name, KEY_CLASSES, "not a JSON array of strings");
            goto cleanup;
        }
    }
    if (acl_json_end(&r) != ACL_OK || m->n_classes == 0)
        st = bad(name, KEY_CLASSES, m->n_classes ? "followed by more text" : "an empty list");
cleanup:
    free(arena);
    return st;
}

static acl_status decode_mean(const char *shape, const char *value, const char *name, struct acl_weights_meta *m)
{
    int h = 0, w = 0, c = 0, used = 0;
    if (!value)
        return bad(name, KEY_MEAN_SHAPE, "there but " KEY_MEAN " is not");
    if (sscanf(shape, "%5d,%5d,%1d%n", &h, &w, &c, &used) != 3 || shape[used] || h < 1 || w < 1 ||
        (c != 1 && c != 3) || (size_t)h * (size_t)w * (size_t)c > ACL_META_MAX_MEAN_FLOATS)
        return bad(name, KEY_MEAN_SHAPE, "not \"H,W,C\" with C 1 or 3");
    size_t count = (size_t)h * w * c;
    if (strlen(value) != (count * 4 + 2) / 3 * 4) /* before allocating what the shape claims */
        return bad(name, KEY_MEAN, "not the base64 of as many floats as " KEY_MEAN_SHAPE " says");
    float *mean = malloc(count * sizeof *mean);
    if (!mean)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for a %dx%dx%d mean image", h, w, c);
    if (b64_decode(value, (uint8_t *)mean, count * 4) != 0) {
        free(mean);
        return bad(name, KEY_MEAN, "not the base64 of as many floats as " KEY_MEAN_SHAPE " says");
    }
    acl_swap_elements(mean, count, 4);
    for (size_t i = 0; i < count; i++)
        if (!(mean[i] >= 0 && mean[i] <= 255)) {
            free(mean);
            return bad(name, KEY_MEAN, "holding a value outside 0..255");
        }
    m->mean = mean;
    m->mean_h = h;
    m->mean_w = w;
    m->mean_c = c;
    return ACL_OK;
}

acl_status acl_meta_decode(const struct acl_st_file *f, const char *name, struct acl_weights_meta *m)
{
    acl_status st = ACL_OK;
    memset(m, 0, sizeof *m);
    const char *v;
    if ((v = acl_st_meta(f, "model")) && !(m->model = dup_str(v)))
        goto oom;
    if ((v = acl_st_meta(f, KEY_DESCRIPTION)) && !(m->description = dup_str(v)))
        goto oom;
    if ((v = acl_st_meta(f, KEY_CLASSES)))
        ACL_TRY(decode_classes(v, name, m));
    if ((v = acl_st_meta(f, KEY_MEAN_SHAPE)))
        ACL_TRY(decode_mean(v, acl_st_meta(f, KEY_MEAN), name, m));
    else if (acl_st_meta(f, KEY_MEAN))
        ACL_TRY(bad(name, KEY_MEAN, "there but " KEY_MEAN_SHAPE " is not"));
    if ((v = acl_st_meta(f, KEY_SCALE)) && (parse_floats(v, &m->pixel_scale, 1) != 0 || !(m->pixel_scale > 0)))
        ACL_TRY(bad(name, KEY_SCALE, "not a positive number"));
    if ((v = acl_st_meta(f, KEY_LIGHTING))) {
        float x[12];
        if (parse_floats(v, x, 12) != 0 || x[0] < 0 || x[1] < 0 || x[2] < 0)
            ACL_TRY(bad(name, KEY_LIGHTING, "not 3 eigenvalues (>= 0) and 3 eigenvectors"));
        memcpy(m->lighting_store.eigval, x, sizeof(float) * 3);
        memcpy(m->lighting_store.eigvec, x + 3, sizeof(float) * 9);
        m->lighting = &m->lighting_store;
    }
cleanup:
    if (st != ACL_OK)
        acl_meta_free(m);
    return st;
oom:
    acl_meta_free(m);
    return acl_fail(ACL_ERR_MEMORY, "out of host memory for the metadata of %s", name);
}

acl_status acl_meta_read(const char *path, struct acl_weights_meta *m)
{
    struct acl_st_file *f = NULL;
    memset(m, 0, sizeof *m);
    acl_status st = acl_st_open(path, &f);
    if (st == ACL_OK)
        st = acl_meta_decode(f, path, m);
    acl_st_close(f);
    return st;
}

void acl_meta_free(struct acl_weights_meta *m)
{
    if (!m)
        return;
    for (int i = 0; m->class_names && i < m->n_classes; i++)
        free(m->class_names[i]);
    free(m->class_names);
    free(m->description);
    free(m->model);
    free(m->mean);
    memset(m, 0, sizeof *m);
}

acl_status acl_meta_mean_from_npy(struct acl_weights_meta *m, const char *path)
{
    struct acl_npy_array a = {0};
    acl_status st = acl_npy_read(path, &a);
    if (st != ACL_OK)
        return st;
    if (a.ndim != 3 || a.shape[0] < 1 || a.shape[1] < 1 || (a.shape[2] != 1 && a.shape[2] != 3) ||
        a.shape[0] > 65536 || a.shape[1] > 65536) {
        acl_npy_free(&a);
        return acl_fail(ACL_ERR_FORMAT, "%s is not a mean image: want H x W x C with C 1 or 3 (train writes one as "
                        "mean.npy)", path);
    }
    for (size_t i = 0; i < a.count; i++)
        if (!(a.data[i] >= 0 && a.data[i] <= 255)) {
            acl_npy_free(&a);
            return acl_fail(ACL_ERR_FORMAT, "%s: a mean image holds levels in 0..255, not %g", path, (double)a.data[i]);
        }
    free(m->mean);
    m->mean = a.data; /* taken over from the array */
    m->mean_h = (int)a.shape[0];
    m->mean_w = (int)a.shape[1];
    m->mean_c = (int)a.shape[2];
    return ACL_OK;
}
