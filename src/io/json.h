/* json.h: a small strict JSON reader for headers of known layout, and an escaping string builder.
 *
 * The reader is a cursor, driven by the caller's grammar (the safetensors header is an object of objects
 * of arrays of integers), so it never builds a tree and nests only as deep as the caller does. It accepts
 * RFC 8259 JSON only: no comments, no trailing commas, no leading zeros, no unescaped control characters,
 * valid UTF-8 only. Strings are unescaped into an arena as large as the text, which always suffices: a
 * string in the text takes at least its unescaped length plus two quotes. A string holding "\u0000" is
 * refused, so every string is a plain C string. Errors are acl_fail(ACL_ERR_FORMAT) naming the byte
 * offset ("byte 17: expected ':'"); the caller adds the file name. */
#ifndef ACL_IO_JSON_H
#define ACL_IO_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "alexnet_cl.h"

struct acl_json_reader {
    const unsigned char *begin, *p, *end;
    char *arena;          /* holds the unescaped strings; caller-owned, >= end - begin bytes */
    size_t arena_used;
};

/* text[0..n) is read; arena must hold at least n bytes and outlive the strings returned. */
void acl_json_init(struct acl_json_reader *r, const void *text, size_t n, char *arena);
/* The next character after whitespace, without consuming it; -1 at the end. */
int acl_json_peek(struct acl_json_reader *r);
/* Skips whitespace and consumes c, or fails naming what was found. */
acl_status acl_json_expect(struct acl_json_reader *r, char c);
/* A string value, unescaped into the arena (NUL-terminated). */
acl_status acl_json_string(struct acl_json_reader *r, const char **out);
/* A non-negative integer that fits 64 bits (no sign, fraction or exponent). */
acl_status acl_json_uint(struct acl_json_reader *r, uint64_t *out);
/* A number in JSON's grammar (optional minus, no leading zeros, optional fraction and exponent) as a
 * double; one that overflows a double is refused. */
acl_status acl_json_number(struct acl_json_reader *r, double *out);
/* Walks the members of an object or the elements of an array whose opening bracket was consumed:
 * *more = 1 when another member follows (after its comma), 0 when `close` was consumed. *count starts at
 * 0 and counts the members seen. */
acl_status acl_json_next(struct acl_json_reader *r, char close, int *count, int *more);
/* Fails unless only whitespace remains. */
acl_status acl_json_end(struct acl_json_reader *r);
/* Byte offset of the cursor, for messages. */
size_t acl_json_offset(const struct acl_json_reader *r);

/* A growing text buffer; any allocation failure sticks in `failed` and later appends do nothing. */
struct acl_json_buf {
    char *p;
    size_t n, cap;
    int failed;
};

void acl_json_buf_raw(struct acl_json_buf *b, const char *s, size_t n);
void acl_json_buf_cstr(struct acl_json_buf *b, const char *s);
/* s as a quoted JSON string, escaping quotes, backslashes and control characters. */
void acl_json_buf_quoted(struct acl_json_buf *b, const char *s);
void acl_json_buf_u64(struct acl_json_buf *b, uint64_t v);
/* 1 when s is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
int acl_utf8_valid(const char *s, size_t n);

#endif
