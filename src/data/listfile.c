/* listfile.c: parsers for list files (`path label` lines) and labels files (class names), from memory and from
 * files. The accepted syntax is described at the top of data/dataset.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "runtime/error.h"

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* One line of text, trimmed of blanks at both ends. */
struct line {
    const char *s;
    size_t n;
    size_t number; /* 1-based */
};

/* Steps *pos through text one line at a time; returns 0 at the end. */
static int next_line(const char *text, size_t len, size_t *pos, struct line *l)
{
    if (*pos >= len)
        return 0;
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    l->number++;
    while (n && is_blank(*start)) {
        start++;
        n--;
    }
    while (n && is_blank(start[n - 1]))
        n--;
    l->s = start;
    l->n = n;
    return 1;
}

static int skipped_line(const struct line *l) { return l->n == 0 || l->s[0] == '#'; }

/* A printable excerpt of a line for messages: at most 60 characters, control bytes as '?'. */
static void excerpt(char *out, size_t cap, const struct line *l)
{
    size_t n = l->n < 60 ? l->n : 60, k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)l->s[i];
        out[k++] = c < 32 || c == 127 ? '?' : (char)c;
    }
    out[k] = '\0';
    if (l->n > 60 && k + 4 < cap)
        strcat(out, "...");
}

/* Parses a non-negative decimal integer below ACL_MAX_CLASSES from s[0..n); -1 if it is not one. */
static long parse_index(const char *s, size_t n)
{
    if (n == 0 || n > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v < ACL_MAX_CLASSES ? v : -1;
}

/* ---- list files -------------------------------------------------------------------------------- */

acl_status acl_list_parse(struct acl_dataset *ds, const char *text, size_t len, const char *name)
{
    size_t pos = 0;
    struct line l = {0};
    char ex[80];
    while (next_line(text, len, &pos, &l)) {
        if (skipped_line(&l))
            continue;
        if (memchr(l.s, '\0', l.n)) {
            excerpt(ex, sizeof ex, &l);
            return acl_fail(ACL_ERR_FORMAT, "%s:%zu: a NUL byte in the line '%s'", name, l.number, ex);
        }
        size_t e = l.n; /* the label is the last field */
        while (e > 0 && !is_blank(l.s[e - 1]))
            e--;
        if (e == 0) {
            excerpt(ex, sizeof ex, &l);
            return acl_fail(ACL_ERR_FORMAT, "%s:%zu: expected 'path label', got '%s'", name, l.number, ex);
        }
        long label = parse_index(l.s + e, l.n - e);
        if (label < 0) {
            excerpt(ex, sizeof ex, &l);
            return acl_fail(ACL_ERR_FORMAT, "%s:%zu: the label '%.*s' is not an integer in [0, %d) in '%s'", name,
                            l.number, (int)(l.n - e < 20 ? l.n - e : 20), l.s + e, ACL_MAX_CLASSES, ex);
        }
        size_t pn = e;
        while (pn > 0 && is_blank(l.s[pn - 1]))
            pn--;
        acl_status st = acl_dataset_add(ds, l.s, pn, (int32_t)label);
        if (st != ACL_OK)
            return acl_fail_context(st, "%s:%zu", name, l.number);
    }
    return ACL_OK;
}

static char *dirname_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (slash == path)
        n = 1; /* "/list.txt" lives in "/" */
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, slash ? path : ".", n);
    d[n] = '\0';
    return d;
}

acl_status acl_dataset_open_list(struct acl_dataset **out, const char *list_path, const char *root)
{
    acl_status st = ACL_OK;
    struct acl_dataset *ds = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    char *dir = NULL;
    *out = NULL;
    if (!root && !(root = dir = dirname_of(list_path)))
        return acl_fail(ACL_ERR_MEMORY, "out of memory");
    ACL_TRY(acl_read_file(list_path, ACL_MAX_TEXT_BYTES, &text, &len));
    ACL_TRY(acl_dataset_new(&ds, list_path, root));
    ACL_TRY(acl_list_parse(ds, (const char *)text, len, list_path));
    if (ds->count == 0) {
        st = acl_fail(ACL_ERR_FORMAT, "%s: the list file has no samples (lines 'path label')", list_path);
        goto cleanup;
    }
    ACL_TRY(acl_dataset_finish(ds));
    *out = ds;
    ds = NULL;
cleanup:
    acl_dataset_free(ds);
    free(text);
    free(dir);
    return st;
}

/* ---- labels files ------------------------------------------------------------------------------ */

void acl_labels_free(char **names, int count)
{
    if (!names)
        return;
    for (int k = 0; k < count; k++)
        free(names[k]);
    free(names);
}

/* "index name": the index and where the name starts; 0 if the line is not of that form. */
static int split_indexed(const struct line *l, long *index, size_t *name_at)
{
    size_t d = 0;
    while (d < l->n && is_digit(l->s[d]))
        d++;
    if (d == 0 || d >= l->n || !is_blank(l->s[d]))
        return 0;
    size_t k = d;
    while (k < l->n && is_blank(l->s[k]))
        k++;
    *index = parse_index(l->s, d);
    *name_at = k;
    return 1;
}

acl_status acl_labels_parse(const char *text, size_t len, const char *name, char ***names_out, int *count_out)
{
    acl_status st = ACL_OK;
    char **names = NULL;
    size_t pos = 0, n = 0;
    struct line l = {0};
    char ex[80];
    int indexed = -1;
    *names_out = NULL;
    *count_out = 0;
    while (next_line(text, len, &pos, &l)) { /* first pass: count the names and decide the form */
        if (skipped_line(&l))
            continue;
        if (indexed < 0) {
            long idx;
            size_t at;
            indexed = split_indexed(&l, &idx, &at);
        }
        if (++n > ACL_MAX_CLASSES)
            return acl_fail(ACL_ERR_FORMAT, "%s: more than %d class names", name, ACL_MAX_CLASSES);
    }
    if (n == 0)
        return acl_fail(ACL_ERR_FORMAT, "%s: no class names (one name per line, or 'index name' lines)", name);
    if (!(names = calloc(n, sizeof *names)))
        return acl_fail(ACL_ERR_MEMORY, "out of memory for %zu class names", n);
    pos = 0;
    l = (struct line){0};
    size_t k = 0;
    while (next_line(text, len, &pos, &l)) {
        if (skipped_line(&l))
            continue;
        excerpt(ex, sizeof ex, &l);
        if (memchr(l.s, '\0', l.n)) {
            st = acl_fail(ACL_ERR_FORMAT, "%s:%zu: a NUL byte in the line '%s'", name, l.number, ex);
            goto cleanup;
        }
        size_t at = 0, slot = k++;
        if (indexed) {
            long idx = -1;
            if (!split_indexed(&l, &idx, &at)) {
                st = acl_fail(ACL_ERR_FORMAT, "%s:%zu: expected 'index name' (as on the first line), got '%s'",
                              name, l.number, ex);
                goto cleanup;
            }
            if (idx < 0 || (size_t)idx >= n) {
                st = acl_fail(ACL_ERR_FORMAT, "%s:%zu: index out of range [0, %zu) in '%s'", name, l.number, n, ex);
                goto cleanup;
            }
            slot = (size_t)idx;
            if (names[slot]) {
                st = acl_fail(ACL_ERR_FORMAT, "%s:%zu: index %ld given twice", name, l.number, idx);
                goto cleanup;
            }
        }
        size_t m = l.n - at;
        if (!(names[slot] = malloc(m + 1))) {
            st = acl_fail(ACL_ERR_MEMORY, "out of memory for class names");
            goto cleanup;
        }
        memcpy(names[slot], l.s + at, m);
        names[slot][m] = '\0';
    }
    /* n lines with distinct indices in [0, n) cover every index: nothing can be missing. */
    *names_out = names;
    *count_out = (int)n;
    names = NULL;
cleanup:
    acl_labels_free(names, (int)n);
    return st;
}
