/* report_metrics.c: reading metrics.jsonl back for the report (see report.h). */
#include <stdlib.h>
#include <string.h>

#include "data/decode.h"
#include "runtime/error.h"
#include "train/report.h"

#define METRICS_MAX_BYTES ((size_t)1 << 30) /* a 90-epoch ImageNet run writes about 70 MB */

void acl_metrics_free(struct acl_metrics *m)
{
    free(m->train);
    free(m->eval);
    memset(m, 0, sizeof *m);
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* true, false or null, whose values no record needs. */
static acl_status skip_literal(struct acl_json_reader *r)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(r->end - r->p) >= n && !memcmp(r->p, words[i], n)) {
            r->p += n;
            return ACL_OK;
        }
    }
    return acl_fail(ACL_ERR_FORMAT, "byte %zu: expected a number, a string, true, false or null",
                    acl_json_offset(r));
}

enum { K_STEP, K_EPOCH, K_LOSS, K_LR, K_TOP1, K_TOP5, K_COUNT };
static const char *const key_names[K_COUNT] = {"step", "epoch", "loss", "lr", "top1", "top5"};

/* One line's object: the known keys' values into v (seen[k] set), other scalar members skipped. */
static acl_status parse_object(struct acl_json_reader *r, double v[K_COUNT], uint64_t ints[K_COUNT], int seen[K_COUNT])
{
    acl_status st = ACL_OK;
    int count = 0, more = 0;
    ACL_TRY(acl_json_expect(r, '{'));
    for (;;) {
        ACL_TRY(acl_json_next(r, '}', &count, &more));
        if (!more)
            break;
        const char *key = NULL;
        ACL_TRY(acl_json_string(r, &key));
        ACL_TRY(acl_json_expect(r, ':'));
        int k = 0;
        while (k < K_COUNT && strcmp(key, key_names[k]))
            k++;
        if (k < K_COUNT && seen[k])
            return acl_fail(ACL_ERR_FORMAT, "\"%s\" appears twice", key);
        if (k == K_STEP || k == K_EPOCH) {
            ACL_TRY(acl_json_uint(r, &ints[k]));
            if (k == K_EPOCH && ints[k] > UINT32_MAX)
                return acl_fail(ACL_ERR_FORMAT, "epoch %llu is out of range", (unsigned long long)ints[k]);
            v[k] = (double)ints[k];
            seen[k] = 1;
        } else if (k < K_COUNT) {
            ACL_TRY(acl_json_number(r, &v[k]));
            seen[k] = 1;
        } else {
            int c = acl_json_peek(r);
            if (c == '"') {
                const char *ignored = NULL;
                ACL_TRY(acl_json_string(r, &ignored));
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                double ignored = 0;
                ACL_TRY(acl_json_number(r, &ignored));
            } else if (c == '{' || c == '[') {
                return acl_fail(ACL_ERR_FORMAT, "byte %zu: \"%s\" holds an object or array, where a record holds "
                                "only numbers and strings", acl_json_offset(r), key);
            } else {
                ACL_TRY(skip_literal(r));
            }
        }
    }
    ACL_TRY(acl_json_end(r));
cleanup:
    return st;
}

/* A resumed run restarts at step: what the file says from there on belongs to the abandoned run. */
static void start_over_at(struct acl_metrics *m, uint64_t step)
{
    while (m->n_train > 0 && m->train[m->n_train - 1].step >= step)
        m->n_train--;
    size_t kept = 0;
    for (size_t i = 0; i < m->n_eval; i++)
        if (!m->eval[i].has_step || m->eval[i].step < step)
            m->eval[kept++] = m->eval[i];
    m->n_eval = kept;
}

static acl_status add_record(struct acl_metrics *m, const double v[K_COUNT], const uint64_t ints[K_COUNT],
                             const int seen[K_COUNT])
{
    if (seen[K_TOP1] || seen[K_TOP5]) {
        if (!seen[K_EPOCH] || !seen[K_TOP1] || !seen[K_TOP5])
            return acl_fail(ACL_ERR_FORMAT, "an evaluation record needs \"epoch\", \"top1\" and \"top5\"");
        if (v[K_TOP1] < 0 || v[K_TOP1] > 1 || v[K_TOP5] < 0 || v[K_TOP5] > 1)
            return acl_fail(ACL_ERR_FORMAT, "top1 and top5 are fractions from 0 to 1, not %g and %g", v[K_TOP1],
                            v[K_TOP5]);
        if (grow((void **)&m->eval, &m->cap_eval, m->n_eval, sizeof *m->eval))
            return acl_fail(ACL_ERR_MEMORY, "out of host memory");
        m->eval[m->n_eval++] = (struct acl_eval_record){.epoch = (uint32_t)ints[K_EPOCH], .has_step = seen[K_STEP],
                                                        .has_loss = seen[K_LOSS], .step = ints[K_STEP],
                                                        .top1 = v[K_TOP1], .top5 = v[K_TOP5], .loss = v[K_LOSS]};
        return ACL_OK;
    }
    if (!seen[K_STEP] || !seen[K_EPOCH] || !seen[K_LOSS] || !seen[K_LR])
        return acl_fail(ACL_ERR_FORMAT, "neither a training record (\"step\", \"epoch\", \"loss\", \"lr\") nor an "
                        "evaluation record (\"epoch\", \"top1\", \"top5\")");
    if (m->n_train > 0 && ints[K_STEP] <= m->train[m->n_train - 1].step)
        start_over_at(m, ints[K_STEP]);
    if (grow((void **)&m->train, &m->cap_train, m->n_train, sizeof *m->train))
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    m->train[m->n_train++] = (struct acl_train_record){.step = ints[K_STEP], .epoch = (uint32_t)ints[K_EPOCH],
                                                       .loss = v[K_LOSS], .lr = v[K_LR]};
    return ACL_OK;
}

acl_status acl_metrics_parse(const char *text, size_t n, const char *name, struct acl_metrics *m)
{
    acl_status st = ACL_OK;
    char *arena = malloc(n + 1);
    memset(m, 0, sizeof *m);
    if (!arena)
        return acl_fail(ACL_ERR_MEMORY, "%s: out of host memory", name);
    size_t line = 0;
    for (size_t pos = 0; pos < n;) {
        const char *nl = memchr(text + pos, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - (text + pos)) : n - pos;
        line++;
        struct acl_json_reader r;
        acl_json_init(&r, text + pos, len, arena);
        pos += len + (nl != NULL);
        if (acl_json_peek(&r) < 0)
            continue; /* a blank line */
        double v[K_COUNT] = {0};
        uint64_t ints[K_COUNT] = {0};
        int seen[K_COUNT] = {0};
        st = parse_object(&r, v, ints, seen);
        if (st == ACL_OK)
            st = add_record(m, v, ints, seen);
        if (st != ACL_OK && !nl && st == ACL_ERR_FORMAT) {
            /* The writer was stopped inside its last line: what came before is whole. */
            acl_clear_error();
            st = ACL_OK;
            m->skipped_tail = 1;
            break;
        }
        if (st != ACL_OK) {
            acl_fail_context(st, "%s line %zu", name, line);
            goto cleanup;
        }
    }
cleanup:
    free(arena);
    if (st != ACL_OK)
        acl_metrics_free(m);
    return st;
}

acl_status acl_metrics_read(const char *path, struct acl_metrics *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    memset(m, 0, sizeof *m);
    acl_status st = acl_read_file(path, METRICS_MAX_BYTES, &buf, &len);
    if (st == ACL_OK)
        st = acl_metrics_parse((const char *)buf, len, path, m);
    free(buf);
    return st;
}
