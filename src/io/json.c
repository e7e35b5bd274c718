/* json.c: the strict JSON cursor and string builder of json.h. */
#include "io/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

void acl_json_init(struct acl_json_reader *r, const void *text, size_t n, char *arena)
{
    r->begin = r->p = text;
    r->end = r->begin + n;
    r->arena = arena;
    r->arena_used = 0;
}

size_t acl_json_offset(const struct acl_json_reader *r) { return (size_t)(r->p - r->begin); }

static void skip_ws(struct acl_json_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

int acl_json_peek(struct acl_json_reader *r)
{
    skip_ws(r);
    return r->p < r->end ? *r->p : -1;
}

/* What the cursor points at, for messages: a printable character in quotes, a byte value, or the end. */
static const char *describe(const struct acl_json_reader *r, char *buf, size_t size)
{
    if (r->p >= r->end)
        snprintf(buf, size, "the end of the header");
    else if (*r->p >= 0x20 && *r->p < 0x7f)
        snprintf(buf, size, "'%c'", *r->p);
    else
        snprintf(buf, size, "byte 0x%02x", *r->p);
    return buf;
}

static acl_status fail_at(const struct acl_json_reader *r, const char *expected)
{
    char what[32];
    return acl_fail(ACL_ERR_FORMAT, "byte %zu: expected %s, found %s", acl_json_offset(r), expected,
                    describe(r, what, sizeof what));
}

acl_status acl_json_expect(struct acl_json_reader *r, char c)
{
    char expected[8] = {'\'', c, '\'', '\0'};
    skip_ws(r);
    if (r->p >= r->end || *r->p != (unsigned char)c)
        return fail_at(r, expected);
    r->p++;
    return ACL_OK;
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is not a valid one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0; /* a continuation byte, an overlong lead (0xc0, 0xc1) or past U+10FFFF (0xf5..) */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int acl_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(u + i, n - i);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
    unsigned v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xc0 | cp >> 6);
        dst[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xe0 | cp >> 12);
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        dst[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    dst[0] = (char)(0xf0 | cp >> 18);
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    dst[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads the escape after a backslash (r->p at the character after it) into dst; returns bytes written,
 * or 0 after recording a failure. */
static size_t read_escape(struct acl_json_reader *r, char *dst, acl_status *st)
{
    const unsigned char *start = r->p - 1;
    if (r->p >= r->end) {
        *st = fail_at(r, "an escaped character");
        return 0;
    }
    unsigned char e = *r->p++;
    switch (e) {
    case '"': *dst = '"'; return 1;
    case '\\': *dst = '\\'; return 1;
    case '/': *dst = '/'; return 1;
    case 'b': *dst = '\b'; return 1;
    case 'f': *dst = '\f'; return 1;
    case 'n': *dst = '\n'; return 1;
    case 'r': *dst = '\r'; return 1;
    case 't': *dst = '\t'; return 1;
    case 'u': break;
    default:
        r->p--;
        *st = fail_at(r, "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u after a backslash");
        return 0;
    }
    unsigned cp, lo;
    if (hex4(r->p, r->end, &cp) != 0) {
        *st = fail_at(r, "four hex digits after \\u");
        return 0;
    }
    r->p += 4;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        /* A high surrogate must be followed by an escaped low one; together they name one code point. */
        if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, r->end, &lo) != 0 ||
            lo < 0xdc00 || lo > 0xdfff) {
            *st = acl_fail(ACL_ERR_FORMAT, "byte %zu: \\u%04x is a high surrogate without its low half",
                           (size_t)(start - r->begin), cp);
            return 0;
        }
        r->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        *st = acl_fail(ACL_ERR_FORMAT, "byte %zu: \\u%04x is a low surrogate without its high half",
                       (size_t)(start - r->begin), cp);
        return 0;
    } else if (cp == 0) {
        *st = acl_fail(ACL_ERR_FORMAT, "byte %zu: \\u0000 (a NUL character) is not allowed in a string",
                       (size_t)(start - r->begin));
        return 0;
    }
    return put_utf8(dst, cp);
}

acl_status acl_json_string(struct acl_json_reader *r, const char **out)
{
    acl_status st = acl_json_expect(r, '"');
    if (st != ACL_OK)
        return fail_at(r, "a string");
    size_t start = acl_json_offset(r) - 1;
    char *dst = r->arena + r->arena_used, *w = dst;
    for (;;) {
        if (r->p >= r->end)
            return acl_fail(ACL_ERR_FORMAT, "byte %zu: string is not terminated", start);
        unsigned char c = *r->p;
        if (c == '"') {
            r->p++;
            break;
        }
        if (c < 0x20)
            return acl_fail(ACL_ERR_FORMAT, "byte %zu: control character 0x%02x in a string (must be escaped)",
                            acl_json_offset(r), c);
        if (c == '\\') {
            r->p++;
            size_t k = read_escape(r, w, &st);
            if (k == 0)
                return st;
            w += k;
            continue;
        }
        size_t len = utf8_len(r->p, (size_t)(r->end - r->p));
        if (len == 0)
            return acl_fail(ACL_ERR_FORMAT, "byte %zu: invalid UTF-8 in a string", acl_json_offset(r));
        memcpy(w, r->p, len);
        w += len;
        r->p += len;
    }
    *w++ = '\0';
    r->arena_used += (size_t)(w - dst);
    *out = dst;
    return ACL_OK;
}

acl_status acl_json_uint(struct acl_json_reader *r, uint64_t *out)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == '-')
        return acl_fail(ACL_ERR_FORMAT, "byte %zu: negative number where a size or offset was expected",
                        acl_json_offset(r));
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return fail_at(r, "a non-negative integer");
    size_t start = acl_json_offset(r);
    uint64_t v = 0;
    if (*r->p == '0' && r->end - r->p > 1 && r->p[1] >= '0' && r->p[1] <= '9')
        return acl_fail(ACL_ERR_FORMAT, "byte %zu: number with a leading zero", start);
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        unsigned d = *r->p - '0';
        if (v > (UINT64_MAX - d) / 10)
            return acl_fail(ACL_ERR_FORMAT, "byte %zu: integer does not fit 64 bits", start);
        v = v * 10 + d;
        r->p++;
    }
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
        return acl_fail(ACL_ERR_FORMAT, "byte %zu: number with a fraction or exponent where an integer was expected",
                        start);
    *out = v;
    return ACL_OK;
}

static int is_digit(const unsigned char *p, const unsigned char *end) { return p < end && *p >= '0' && *p <= '9'; }

acl_status acl_json_number(struct acl_json_reader *r, double *out)
{
    skip_ws(r);
    const unsigned char *s = r->p, *p = r->p;
    size_t start = acl_json_offset(r);
    if (p < r->end && *p == '-')
        p++;
    if (!is_digit(p, r->end))
        return fail_at(r, "a number");
    if (*p == '0' && is_digit(p + 1, r->end))
        return acl_fail(ACL_ERR_FORMAT, "byte %zu: number with a leading zero", start);
    while (is_digit(p, r->end))
        p++;
    if (p < r->end && *p == '.') {
        if (!is_digit(++p, r->end))
            return acl_fail(ACL_ERR_FORMAT, "byte %zu: a digit must follow the decimal point", start);
        while (is_digit(p, r->end))
            p++;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, r->end))
            return acl_fail(ACL_ERR_FORMAT, "byte %zu: a digit must follow the exponent's 'e'", start);
        while (is_digit(p, r->end))
            p++;
    }
    /* strtod needs a terminated string; the grammar above has already fixed where the number ends. */
    char text[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof text)
        return acl_fail(ACL_ERR_FORMAT, "byte %zu: number longer than %zu characters", start, sizeof text - 1);
    memcpy(text, s, n);
    text[n] = '\0';
    double v = strtod(text, NULL);
    if (!isfinite(v))
        return acl_fail(ACL_ERR_FORMAT, "byte %zu: number %s does not fit a double", start, text);
    r->p = p;
    *out = v;
    return ACL_OK;
}

acl_status acl_json_next(struct acl_json_reader *r, char close, int *count, int *more)
{
    int c = acl_json_peek(r);
    if (c == close) {
        r->p++;
        *more = 0;
        return ACL_OK;
    }
    if (*count > 0) {
        if (c != ',') {
            char expected[16];
            snprintf(expected, sizeof expected, "',' or '%c'", close);
            return fail_at(r, expected);
        }
        r->p++;
    }
    (*count)++;
    *more = 1;
    return ACL_OK;
}

acl_status acl_json_end(struct acl_json_reader *r)
{
    skip_ws(r);
    if (r->p != r->end)
        return fail_at(r, "nothing after the closing '}'");
    return ACL_OK;
}

/* ---- building */

void acl_json_buf_raw(struct acl_json_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->cap - b->n < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n + 1) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void acl_json_buf_cstr(struct acl_json_buf *b, const char *s) { acl_json_buf_raw(b, s, strlen(s)); }

void acl_json_buf_quoted(struct acl_json_buf *b, const char *s)
{
    acl_json_buf_raw(b, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '\0' && c != '"' && c != '\\' && c >= 0x20)
            continue;
        acl_json_buf_raw(b, run, (size_t)(s - run));
        if (c == '\0')
            break;
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        acl_json_buf_cstr(b, esc);
        run = s + 1;
    }
    acl_json_buf_raw(b, "\"", 1);
}

void acl_json_buf_u64(struct acl_json_buf *b, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    acl_json_buf_cstr(b, num);
}
