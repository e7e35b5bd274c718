/* prepared_write.c: the prepare step: a dataset's images decoded on threads, preprocessed as the paper did and
 * streamed in order into a prepared file (format in data/prepared.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "data/resize.h"
#include "io/atomic.h"
#include "runtime/error.h"
#include "runtime/hash.h"

#define CHUNK_BYTES ((size_t)256 << 20) /* decoded images held at once, at most (one image if larger) */

/* A run of consecutive samples, decoded by the threads in any order and written in order. */
struct chunk {
    struct acl_dataset *ds;
    int size;
    size_t image_bytes;
    size_t first, n;
    uint8_t *pixels; /* n images */
    uint8_t *good;   /* 1: decoded into pixels; 0: skipped as bad */
    uint32_t *crc;
    pthread_mutex_t mu;
    size_t next;     /* the next image to take */
    acl_status st;   /* the first error that stops the run */
    char error[1024];
};

static void put32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Decodes and preprocesses image k of the chunk: ACL_OK also when it is bad (skipped, counted by the dataset). */
static acl_status decode_one(struct chunk *c, size_t k)
{
    struct acl_image img;
    int skipped = 0;
    size_t i = c->first + k;
    c->good[k] = 0;
    acl_status st = acl_dataset_load(c->ds, i, NULL, 0, &img, &skipped);
    if (st != ACL_OK || skipped)
        return st;
    uint8_t *dst = c->pixels + k * c->image_bytes;
    if (img.channels != 3) /* the decoder gives RGB for every file */
        st = acl_fail(ACL_ERR_FORMAT, "%s: sample %zu has %d channels, not 3", c->ds->name, i, img.channels);
    else
        st = acl_resize_shorter_crop(dst, c->size, img.data, img.height, img.width, 3);
    acl_image_free(&img);
    if (st == ACL_ERR_ARGUMENT) { /* an image too elongated to resize is bad, as an undecodable one is */
        char path[4096], msg[1024];
        snprintf(msg, sizeof msg, "%s", acl_last_error());
        if (acl_dataset_full_path(c->ds, i, path, sizeof path) != ACL_OK)
            snprintf(path, sizeof path, "sample %zu", i);
        char named[1200];
        snprintf(named, sizeof named, "%s: %s", path, msg);
        return acl_dataset_mark_bad(c->ds, i, named);
    }
    if (st == ACL_OK) {
        c->crc[k] = acl_prepared_crc(dst, c->image_bytes);
        c->good[k] = 1;
    }
    return st;
}

static void *decode_thread(void *arg)
{
    struct chunk *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        size_t k = c->st == ACL_OK && c->next < c->n ? c->next++ : SIZE_MAX;
        pthread_mutex_unlock(&c->mu);
        if (k == SIZE_MAX)
            return NULL;
        acl_status st = decode_one(c, k);
        if (st != ACL_OK) {
            pthread_mutex_lock(&c->mu);
            if (c->st == ACL_OK) {
                c->st = st;
                snprintf(c->error, sizeof c->error, "%s", acl_last_error());
            }
            pthread_mutex_unlock(&c->mu);
        }
    }
}

/* Decodes the chunk's n images on threads (the caller's thread alone when threads is 1). */
static acl_status decode_chunk(struct chunk *c, int threads)
{
    pthread_t tids[256];
    int started = 0;
    c->next = 0;
    c->st = ACL_OK;
    if (threads > 1)
        for (; started < threads; started++)
            if (pthread_create(&tids[started], NULL, decode_thread, c) != 0)
                break;
    if (started == 0)
        decode_thread(c);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    return c->st == ACL_OK ? ACL_OK : acl_fail(c->st, "%s", c->error);
}

static acl_status write_error(struct acl_atomic_file *a, const char *path)
{
    return acl_fail(ACL_ERR_IO, "%s: writing failed: %s (nothing was left behind)", path, strerror(a->failed_errno));
}

acl_status acl_prepare_write(struct acl_dataset *ds, const char *path, const struct acl_prepare_options *opt,
                             struct acl_prepare_report *rep)
{
    acl_status st = ACL_OK;
    struct acl_atomic_file a = {0};
    struct chunk c = {0};
    uint64_t *sums = NULL;
    uint8_t *table = NULL, *bytes = NULL;
    int mu_made = 0;
    struct acl_prepare_report r = {0};
    int size = opt && opt->size ? opt->size : ACL_PREPARED_DEFAULT_SIZE;
    int threads = opt && opt->threads > 0 ? opt->threads : 1;
    if (rep)
        *rep = r;
    if (!ds->path_off)
        return acl_fail(ACL_ERR_ARGUMENT, "%s holds its images in memory; prepare reads image folders and list files",
                        ds->name);
    if (size < 1 || size > ACL_DECODE_MAX_SIDE)
        return acl_fail(ACL_ERR_ARGUMENT, "the size of prepared images must be from 1 to %d, not %d",
                        ACL_DECODE_MAX_SIDE, size);
    if (threads > 256)
        threads = 256;

    struct acl_prepared_layout l = {.height = (uint32_t)size, .width = (uint32_t)size, .channels = 3,
                                    .classes = (uint32_t)ds->num_classes, .count = 1};
    for (int k = 0; k < ds->num_classes; k++)
        l.names_bytes += strlen(ds->class_names[k]) + 1;
    if (!acl_prepared_layout_make(&l))
        return acl_fail(ACL_ERR_ARGUMENT, "%s: sizes overflow", ds->name);
    c.ds = ds;
    c.size = size;
    c.image_bytes = (size_t)l.image_bytes;
    size_t cap = (size_t)threads * 32;
    if (cap > CHUNK_BYTES / c.image_bytes)
        cap = CHUNK_BYTES / c.image_bytes;
    if (cap < 1)
        cap = 1;
    c.pixels = malloc(cap * c.image_bytes);
    c.good = malloc(cap);
    c.crc = malloc(cap * sizeof *c.crc);
    sums = calloc(c.image_bytes, sizeof *sums);
    table = malloc(ds->count * 8);
    if (!c.pixels || !c.good || !c.crc || !sums || !table) {
        st = acl_fail(ACL_ERR_MEMORY, "out of memory preparing %s (%zu images of %zu bytes at a time)", ds->name, cap,
                      c.image_bytes);
        goto cleanup;
    }
    if (pthread_mutex_init(&c.mu, NULL) != 0) {
        st = acl_fail(ACL_ERR_MEMORY, "cannot make a mutex");
        goto cleanup;
    }
    mu_made = 1;
    ACL_TRY(acl_atomic_begin(&a, path));

    /* The header goes in last, when the count is known: a zero placeholder until then. */
    static const uint8_t zeros[ACL_PREPARED_PIXELS_OFFSET];
    acl_atomic_write(&a, zeros, ACL_PREPARED_PIXELS_OFFSET);
    for (size_t first = 0; first < ds->count; first += c.n) {
        c.first = first;
        c.n = ds->count - first < cap ? ds->count - first : cap;
        ACL_TRY(decode_chunk(&c, threads));
        for (size_t k = 0; k < c.n; k++) {
            if (!c.good[k])
                continue;
            const uint8_t *img = c.pixels + k * c.image_bytes;
            acl_atomic_write(&a, img, c.image_bytes);
            for (size_t j = 0; j < c.image_bytes; j++)
                sums[j] += img[j];
            put32(table + 8 * r.written, (uint32_t)ds->labels[first + k]);
            put32(table + 8 * r.written + 4, c.crc[k]);
            r.written++;
        }
        if (a.failed_errno) { /* a full disk: stop now rather than decode the rest */
            st = write_error(&a, path);
            goto cleanup;
        }
        if (opt && opt->progress)
            opt->progress(opt->user, first + c.n, ds->count, acl_dataset_bad_count(ds));
        if (opt && opt->interrupt && *opt->interrupt) {
            st = acl_fail(ACL_ERR_INTERRUPTED, "interrupted after %zu of %zu images; %s was not written", first + c.n,
                          ds->count, path);
            goto cleanup;
        }
    }
    r.bad = acl_dataset_bad_count(ds);
    if (r.written == 0) {
        st = acl_fail(ACL_ERR_FORMAT, "%s: no image could be read", ds->name);
        goto cleanup;
    }

    l.count = r.written;
    l.bad = r.bad;
    if (!acl_prepared_layout_make(&l)) {
        st = acl_fail(ACL_ERR_ARGUMENT, "%s: sizes overflow", ds->name);
        goto cleanup;
    }
    /* table, class names and sums after the pixels, each at its offset; then the checksum; then the header */
    uint8_t header[ACL_PREPARED_HEADER_BYTES];
    acl_prepared_header_encode(&l, header);
    size_t sums_bytes = c.image_bytes * 8;
    if (!(bytes = malloc(sums_bytes))) {
        st = acl_fail(ACL_ERR_MEMORY, "out of memory for the sums of %s", ds->name);
        goto cleanup;
    }
    for (size_t j = 0; j < c.image_bytes; j++)
        put64(bytes + 8 * j, sums[j]);
    uint64_t h = acl_fnv1a(ACL_FNV_OFFSET, header, sizeof header);
    h = acl_fnv1a(h, table, r.written * 8);
    acl_atomic_write(&a, zeros, (size_t)(l.table - (l.pixels + l.count * l.image_bytes)));
    acl_atomic_write(&a, table, r.written * 8);
    for (int k = 0; k < ds->num_classes; k++) {
        const char *name = ds->class_names[k];
        size_t n = strlen(name) + 1;
        h = acl_fnv1a(h, name, n);
        acl_atomic_write(&a, name, n);
    }
    acl_atomic_write(&a, zeros, (size_t)(l.sums - (l.names + l.names_bytes)));
    acl_atomic_write(&a, bytes, sums_bytes);
    h = acl_fnv1a(h, bytes, sums_bytes);
    uint8_t tail[8];
    put64(tail, h);
    acl_atomic_write(&a, tail, 8);
    if (!a.failed_errno && (fflush(a.f) != 0 || fseeko(a.f, 0, SEEK_SET) != 0))
        a.failed_errno = errno ? errno : EIO;
    acl_atomic_write(&a, header, sizeof header);
    if (a.failed_errno) {
        st = write_error(&a, path);
        goto cleanup;
    }
    ACL_TRY(acl_atomic_commit(&a));
    r.bytes = l.file_bytes;
    if (rep)
        *rep = r;
cleanup:
    if (st != ACL_OK)
        acl_atomic_abort(&a);
    if (mu_made)
        pthread_mutex_destroy(&c.mu);
    free(c.pixels);
    free(c.good);
    free(c.crc);
    free(sums);
    free(table);
    free(bytes);
    return st;
}
