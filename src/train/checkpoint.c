/* checkpoint.c: writes and validates training checkpoints (format in checkpoint.h). */
#include "train/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/error.h"
#include "runtime/hash.h"

static const char magic[8] = {'A', 'C', 'L', 'C', 'K', 'P', 'T', '\0'};
#define MAX_MODEL_TEXT (1u << 20)

struct writer {
    FILE *f;
    uint64_t h;
    int bad;
};

static void put(struct writer *w, const void *p, size_t n)
{
    if (w->bad || n == 0)
        return;
    w->h = acl_fnv1a(w->h, p, n);
    w->bad = fwrite(p, 1, n, w->f) != n;
}

acl_status acl_ckpt_write(const char *path, const struct acl_ckpt_state *state, const char *model_text,
                          const float *params, const float *momentum)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return acl_fail(ACL_ERR_IO, "cannot write checkpoint %s: %s (the previous checkpoint, if any, is intact)",
                        tmp, strerror(errno));
    struct writer w = {f, ACL_FNV_OFFSET, 0};
    uint32_t version = ACL_CKPT_VERSION, header = sizeof *state;
    uint64_t text_len = strlen(model_text);
    put(&w, magic, sizeof magic);
    put(&w, &version, sizeof version);
    put(&w, &header, sizeof header);
    put(&w, state, sizeof *state);
    put(&w, &text_len, sizeof text_len);
    put(&w, model_text, text_len);
    put(&w, params, state->param_count * sizeof(float));
    put(&w, momentum, state->param_count * sizeof(float));
    uint64_t sum = w.h;
    int bad = w.bad || fwrite(&sum, sizeof sum, 1, f) != 1 || fflush(f) != 0 || fsync(fileno(f)) != 0;
    int e = errno;
    bad = fclose(f) != 0 || bad;
    if (bad) {
        unlink(tmp);
        return acl_fail(ACL_ERR_IO, "writing checkpoint %s failed: %s (disk full?); the previous checkpoint is "
                        "intact", path, strerror(e ? e : EIO));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return acl_fail(ACL_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return ACL_OK;
}

struct reader {
    const unsigned char *p;
    size_t left;
    uint64_t h;
};

static int take(struct reader *r, void *dst, size_t n)
{
    if (n > r->left)
        return -1;
    if (dst)
        memcpy(dst, r->p, n);
    r->h = acl_fnv1a(r->h, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

/* Copies up to cap - 1 bytes of the line at p (without its newline). */
static void copy_line(const char *p, char *dst, size_t cap)
{
    size_t n = strcspn(p, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

/* The 1-based number of the first line where two description texts differ, and those two lines. */
static int first_difference(const char *a, const char *b, char *la, char *lb)
{
    int line = 1;
    const char *sa = a, *sb = b; /* starts of the current lines */
    for (; *a && *a == *b; a++, b++)
        if (*a == '\n') {
            line++;
            sa = a + 1;
            sb = b + 1;
        }
    copy_line(sa, la, 120);
    copy_line(sb, lb, 120);
    return line;
}

acl_status acl_ckpt_read_memory(const void *data, size_t size, const char *name, const char *expect_model,
                                struct acl_checkpoint *out)
{
    struct reader r = {data, size, ACL_FNV_OFFSET};
    char m[8];
    uint32_t version = 0, header = 0;
    uint64_t text_len = 0;
    memset(out, 0, sizeof *out);
    if (take(&r, m, sizeof m) || memcmp(m, magic, sizeof m))
        return acl_fail(ACL_ERR_FORMAT, "%s is not an alexnet-cl checkpoint (wrong magic number)", name);
    if (take(&r, &version, sizeof version) || version != ACL_CKPT_VERSION)
        return acl_fail(ACL_ERR_FORMAT, "%s is a checkpoint of format version %u; this alexnet-cl reads version %d",
                        name, version, ACL_CKPT_VERSION);
    if (take(&r, &header, sizeof header) || header != sizeof out->state || take(&r, &out->state, header))
        return acl_fail(ACL_ERR_FORMAT, "%s: truncated or corrupt checkpoint header", name);
    const struct acl_ckpt_state *s = &out->state;
    if (take(&r, &text_len, sizeof text_len) || text_len == 0 || text_len > MAX_MODEL_TEXT || text_len > r.left)
        return acl_fail(ACL_ERR_FORMAT, "%s: truncated or corrupt checkpoint (model description)", name);
    /* Sizes are checked against what is left before any allocation, so a corrupt count cannot ask for
     * gigabytes. */
    if (s->param_count == 0 || s->param_count > r.left / 8 || r.left - text_len != 2 * s->param_count * 4 + 8)
        return acl_fail(ACL_ERR_FORMAT, "%s: truncated or corrupt checkpoint (%zu bytes do not hold %llu "
                        "parameters and their momentum)", name, size, (unsigned long long)s->param_count);
    out->model_text = malloc(text_len + 1);
    out->params = malloc(s->param_count * sizeof(float));
    out->momentum = malloc(s->param_count * sizeof(float));
    if (!out->model_text || !out->params || !out->momentum) {
        acl_ckpt_free(out);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory reading %s", name);
    }
    take(&r, out->model_text, text_len);
    out->model_text[text_len] = '\0';
    take(&r, out->params, s->param_count * sizeof(float));
    take(&r, out->momentum, s->param_count * sizeof(float));
    uint64_t expect = r.h, stored = 0;
    memcpy(&stored, r.p, sizeof stored);
    if (stored != expect) {
        acl_ckpt_free(out);
        return acl_fail(ACL_ERR_FORMAT, "%s: checksum mismatch: the checkpoint is corrupt", name);
    }
    if (expect_model && strcmp(expect_model, out->model_text) != 0) {
        char theirs[120], ours[120];
        int line = first_difference(out->model_text, expect_model, theirs, ours);
        acl_ckpt_free(out);
        return acl_fail(ACL_ERR_FORMAT, "%s is a checkpoint of another model: line %d of its description is \"%s\" "
                        "where the model requested has \"%s\" (give the --model it was trained with)", name, line,
                        theirs, ours);
    }
    return ACL_OK;
}

acl_status acl_ckpt_read(const char *path, const char *expect_model, struct acl_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return acl_fail(ACL_ERR_IO, "cannot open checkpoint %s: %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return acl_fail(ACL_ERR_IO, "cannot read checkpoint %s", path);
    }
    unsigned char *buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        fclose(f);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory reading %s (%ld bytes)", path, size);
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    acl_status st = got == (size_t)size ? acl_ckpt_read_memory(buf, (size_t)size, path, expect_model, out)
                                        : acl_fail(ACL_ERR_IO, "short read of checkpoint %s", path);
    free(buf);
    return st;
}

void acl_ckpt_free(struct acl_checkpoint *c)
{
    free(c->model_text);
    free(c->params);
    free(c->momentum);
    memset(c, 0, sizeof *c);
}
