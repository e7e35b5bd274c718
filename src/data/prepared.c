/* prepared.c: reading prepared datasets: the layout, checking a file before use, mapping it as a dataset, the
 * mean image from its sums, and verifying every image on demand (format in data/prepared.h). */
#include "data/prepared.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "runtime/error.h"
#include "runtime/hash.h"

static const uint8_t magic[8] = {'A', 'C', 'L', 'P', 'R', 'E', 'P', 0};

struct acl_prepared {
    const uint8_t *base; /* the whole file */
    size_t len;
    int mapped;          /* 1: base is our mapping, 0: borrowed bytes */
    struct acl_prepared_layout l;
};

/* ---- little-endian fields ---------------------------------------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

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

/* ---- layout ------------------------------------------------------------------------------------ */

static int add_ok(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_add_overflow(a, b, r); }
static int mul_ok(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_mul_overflow(a, b, r); }
static int align8_ok(uint64_t a, uint64_t *r) { return add_ok(a, 7, r) && ((*r &= ~(uint64_t)7), 1); }

int acl_prepared_layout_make(struct acl_prepared_layout *l)
{
    uint64_t t, pixel_bytes, table_bytes, sums_bytes;
    return mul_ok(l->height, l->width, &t) && mul_ok(t, l->channels, &l->image_bytes) &&
           (l->pixels = ACL_PREPARED_PIXELS_OFFSET, mul_ok(l->count, l->image_bytes, &pixel_bytes)) &&
           add_ok(l->pixels, pixel_bytes, &t) && align8_ok(t, &l->table) && mul_ok(l->count, 8, &table_bytes) &&
           add_ok(l->table, table_bytes, &l->names) && add_ok(l->names, l->names_bytes, &t) &&
           align8_ok(t, &l->sums) && mul_ok(l->image_bytes, 8, &sums_bytes) && add_ok(l->sums, sums_bytes, &t) &&
           add_ok(t, 8, &l->file_bytes);
}

void acl_prepared_header_encode(const struct acl_prepared_layout *l, uint8_t *h)
{
    memset(h, 0, ACL_PREPARED_HEADER_BYTES);
    memcpy(h, magic, 8);
    put32(h + 8, ACL_PREPARED_VERSION);
    put32(h + 12, ACL_PREPARED_HEADER_BYTES);
    put64(h + 16, l->count);
    put32(h + 24, l->height);
    put32(h + 28, l->width);
    put32(h + 32, l->channels);
    put32(h + 36, l->classes);
    put64(h + 40, l->pixels);
    put64(h + 48, l->table);
    put64(h + 56, l->names);
    put64(h + 64, l->names_bytes);
    put64(h + 72, l->sums);
    put64(h + 80, l->file_bytes);
    put64(h + 88, l->bad);
}

uint32_t acl_prepared_crc(const uint8_t *p, uint64_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) { /* zlib counts in 32 bits */
        uInt m = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, m);
        p += m;
        n -= m;
    }
    return (uint32_t)c;
}

/* ---- checking ---------------------------------------------------------------------------------- */

static const char how_to_fix[] = "make it again with `alexnet-cl prepare`";

/* Checks the header against the file's size and fills l. */
static acl_status parse_header(const uint8_t *d, size_t size, const char *name, struct acl_prepared_layout *l)
{
    if (size < sizeof magic || memcmp(d, magic, sizeof magic) != 0) {
        if (size < sizeof magic && memcmp(d, magic, size) == 0)
            return acl_fail(ACL_ERR_FORMAT, "%s: truncated prepared dataset (%zu bytes): %s", name, size, how_to_fix);
        return acl_fail(ACL_ERR_FORMAT, "%s is not a prepared dataset (it does not start with \"ACLPREP\"); a "
                        "dataset is an image folder or a file made by `alexnet-cl prepare`", name);
    }
    if (size < ACL_PREPARED_HEADER_BYTES + 8)
        return acl_fail(ACL_ERR_FORMAT, "%s: truncated prepared dataset (%zu bytes, less than its %d-byte header): %s",
                        name, size, ACL_PREPARED_HEADER_BYTES, how_to_fix);
    uint32_t version = get32(d + 8);
    if (version != ACL_PREPARED_VERSION)
        return acl_fail(ACL_ERR_FORMAT, "%s: prepared dataset of format version %" PRIu32 ", but this alexnet-cl reads "
                        "version %d: %s", name, version, ACL_PREPARED_VERSION, how_to_fix);
    if (get32(d + 12) != ACL_PREPARED_HEADER_BYTES)
        return acl_fail(ACL_ERR_FORMAT, "%s: corrupt header (header size %" PRIu32 ", not %d): %s", name,
                        get32(d + 12), ACL_PREPARED_HEADER_BYTES, how_to_fix);
    for (int k = 96; k < ACL_PREPARED_HEADER_BYTES; k++)
        if (d[k])
            return acl_fail(ACL_ERR_FORMAT, "%s: corrupt header (reserved byte %d is not zero): %s", name, k,
                            how_to_fix);
    *l = (struct acl_prepared_layout){.count = get64(d + 16), .height = get32(d + 24), .width = get32(d + 28),
                                      .channels = get32(d + 32), .classes = get32(d + 36),
                                      .names_bytes = get64(d + 64), .bad = get64(d + 88)};
    if (l->count == 0 || l->height == 0 || l->height > ACL_DECODE_MAX_SIDE || l->width == 0 ||
        l->width > ACL_DECODE_MAX_SIDE || (l->channels != 1 && l->channels != 3) || l->classes == 0 ||
        l->classes > ACL_MAX_CLASSES || l->names_bytes < 2 * (uint64_t)l->classes ||
        l->names_bytes > ACL_MAX_TEXT_BYTES)
        return acl_fail(ACL_ERR_FORMAT, "%s: corrupt header (%" PRIu64 " images of %" PRIu32 "x%" PRIu32 "x%" PRIu32
                        ", %" PRIu32 " classes, %" PRIu64 " bytes of class names): %s", name, l->count, l->height,
                        l->width, l->channels, l->classes, l->names_bytes, how_to_fix);
    if (!acl_prepared_layout_make(l))
        return acl_fail(ACL_ERR_FORMAT, "%s: corrupt header (%" PRIu64 " images of %" PRIu32 "x%" PRIu32 "x%" PRIu32
                        " overflow 64-bit sizes): %s", name, l->count, l->height, l->width, l->channels, how_to_fix);
    if (l->file_bytes > size)
        return acl_fail(ACL_ERR_FORMAT, "%s: the header claims %" PRIu64 " images of %" PRIu32 "x%" PRIu32 "x%" PRIu32
                        ", which take %" PRIu64 " bytes, but the file has %zu: it is truncated or corrupt; %s", name,
                        l->count, l->height, l->width, l->channels, l->file_bytes, size, how_to_fix);
    const struct {
        const char *what;
        uint64_t stored, want;
    } offs[] = {{"pixels offset", get64(d + 40), l->pixels}, {"table offset", get64(d + 48), l->table},
                {"names offset", get64(d + 56), l->names},   {"sums offset", get64(d + 72), l->sums},
                {"file size", get64(d + 80), l->file_bytes}};
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++)
        if (offs[k].stored != offs[k].want)
            return acl_fail(ACL_ERR_FORMAT, "%s: corrupt header (its %s is %" PRIu64 " where the counts put it at %"
                            PRIu64 "): %s", name, offs[k].what, offs[k].stored, offs[k].want, how_to_fix);
    if (l->file_bytes != size)
        return acl_fail(ACL_ERR_FORMAT, "%s: %zu bytes where the header describes %" PRIu64 ": corrupt; %s", name, size,
                        l->file_bytes, how_to_fix);
    return ACL_OK;
}

/* Everything but the pixels: the checksum, the class names, the labels and the sums' range. */
static acl_status check_tables(const uint8_t *d, size_t size, const char *name, const struct acl_prepared_layout *l)
{
    uint64_t h = acl_fnv1a(ACL_FNV_OFFSET, d, ACL_PREPARED_HEADER_BYTES);
    h = acl_fnv1a(h, d + l->table, (size_t)(l->count * 8));
    h = acl_fnv1a(h, d + l->names, (size_t)l->names_bytes);
    h = acl_fnv1a(h, d + l->sums, (size_t)(l->image_bytes * 8));
    if (h != get64(d + size - 8))
        return acl_fail(ACL_ERR_FORMAT, "%s: checksum mismatch: its header, labels, class names or mean-image sums are "
                        "corrupt; %s", name, how_to_fix);
    const char *names = (const char *)d + l->names;
    uint64_t at = 0;
    for (uint32_t k = 0; k < l->classes; k++) {
        const char *end = memchr(names + at, '\0', (size_t)(l->names_bytes - at));
        if (!end || end == names + at)
            return acl_fail(ACL_ERR_FORMAT, "%s: class name %" PRIu32 " is %s: corrupt; %s", name, k,
                            end ? "empty" : "missing", how_to_fix);
        at = (uint64_t)(end - names) + 1;
    }
    if (at != l->names_bytes)
        return acl_fail(ACL_ERR_FORMAT, "%s: %" PRIu64 " bytes after the last class name: corrupt; %s", name,
                        l->names_bytes - at, how_to_fix);
    for (uint64_t i = 0; i < l->count; i++) {
        uint32_t label = get32(d + l->table + 8 * i);
        if (label >= l->classes)
            return acl_fail(ACL_ERR_FORMAT, "%s: image %" PRIu64 " has label %" PRIu32 ", not below its %" PRIu32
                            " classes: corrupt; %s", name, i, label, l->classes, how_to_fix);
    }
    uint64_t max_sum = 255 * l->count; /* count <= size / image_bytes: no overflow */
    for (uint64_t k = 0; k < l->image_bytes; k++)
        if (get64(d + l->sums + 8 * k) > max_sum)
            return acl_fail(ACL_ERR_FORMAT, "%s: mean-image sum %" PRIu64 " is over 255 x %" PRIu64 " images: corrupt; "
                            "%s", name, k, l->count, how_to_fix);
    return ACL_OK;
}

/* ---- opening ----------------------------------------------------------------------------------- */

static acl_status open_bytes(struct acl_dataset **out, const uint8_t *d, size_t size, const char *name, int mapped)
{
    acl_status st = ACL_OK;
    struct acl_dataset *ds = NULL;
    struct acl_prepared *p = NULL;
    struct acl_prepared_layout l;
    *out = NULL;
    ACL_TRY(parse_header(d, size, name, &l));
    ACL_TRY(check_tables(d, size, name, &l));
    if (l.count > SIZE_MAX / sizeof(int32_t) || l.count > (uint64_t)SIZE_MAX / l.image_bytes) {
        st = acl_fail(ACL_ERR_FORMAT, "%s: %" PRIu64 " images are more than this machine can address", name, l.count);
        goto cleanup;
    }
    ACL_TRY(acl_dataset_new(&ds, name, NULL));
    p = malloc(sizeof *p);
    ds->labels = malloc((size_t)l.count * sizeof *ds->labels);
    ds->class_names = calloc(l.classes, sizeof *ds->class_names);
    if (!p || !ds->labels || !ds->class_names) {
        free(p);
        p = NULL;
        st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory for %" PRIu64 " labels", name, l.count);
        goto cleanup;
    }
    *p = (struct acl_prepared){d, size, mapped, l};
    ds->prepared = p; /* from here on acl_dataset_free releases the bytes */
    ds->num_classes = (int)l.classes;
    const char *names = (const char *)d + l.names;
    for (uint32_t k = 0; k < l.classes; k++) {
        size_t n = strlen(names) + 1; /* check_tables made sure each ends inside the names */
        if (!(ds->class_names[k] = malloc(n))) {
            st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory for class names", name);
            goto cleanup;
        }
        memcpy(ds->class_names[k], names, n);
        names += n;
    }
    for (uint64_t i = 0; i < l.count; i++)
        ds->labels[i] = (int32_t)get32(d + l.table + 8 * i);
    /* The dataset's in-memory path reads pixels and never writes them; the mapping is read-only. */
    ds->pixels = (uint8_t *)(uintptr_t)(d + l.pixels);
    ds->height = (int)l.height;
    ds->width = (int)l.width;
    ds->channels = (int)l.channels;
    ds->count = ds->total = ds->samples_cap = (size_t)l.count;
    ds->folder_classes = 1; /* a labels file must name exactly the stored classes */
    *out = ds;
    return ACL_OK;
cleanup:
    if (ds && ds->prepared)
        ds->prepared->mapped = 0; /* the caller unmaps on failure */
    acl_dataset_free(ds);
    return st;
}

acl_status acl_prepared_open_memory(struct acl_dataset **out, const uint8_t *data, size_t size, const char *name)
{
    *out = NULL;
    if (!data && size)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: no data", name);
    static const uint8_t none[1];
    return open_bytes(out, data ? data : none, size, name, 0);
}

acl_status acl_prepared_open(struct acl_dataset **out, const char *path)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return acl_fail(ACL_ERR_IO, "cannot open the prepared dataset %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return acl_fail(ACL_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return acl_fail(ACL_ERR_IO, "%s is not a regular file, so not a prepared dataset", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return acl_fail(ACL_ERR_FORMAT, "%s: %lld bytes, more than this machine can map", path, (long long)sb.st_size);
    }
    size_t size = (size_t)sb.st_size;
    if (size < ACL_PREPARED_HEADER_BYTES + 8) { /* too small to map usefully: let the checks name the problem */
        uint8_t small[ACL_PREPARED_HEADER_BYTES + 8];
        ssize_t got = pread(fd, small, size, 0);
        close(fd);
        if (got < 0 || (size_t)got != size)
            return acl_fail(ACL_ERR_IO, "cannot read the prepared dataset %s", path);
        acl_status st = parse_header(small, size, path, &(struct acl_prepared_layout){0});
        return st != ACL_OK ? st : acl_fail(ACL_ERR_FORMAT, "%s: truncated prepared dataset", path);
    }
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file */
    if (m == MAP_FAILED)
        return acl_fail(ACL_ERR_IO, "cannot map the prepared dataset %s (%zu bytes): %s", path, size, strerror(e));
    acl_status st = open_bytes(out, m, size, path, 1);
    if (st != ACL_OK)
        munmap(m, size);
    return st;
}

int acl_prepared_detect(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint8_t head[sizeof magic];
    ssize_t got = pread(fd, head, sizeof head, 0);
    close(fd);
    return got == (ssize_t)sizeof head && memcmp(head, magic, sizeof magic) == 0;
}

void acl_prepared_release(struct acl_prepared *p)
{
    if (!p)
        return;
    if (p->mapped)
        munmap((void *)(uintptr_t)p->base, p->len);
    free(p);
}

int acl_dataset_is_prepared(const struct acl_dataset *ds) { return ds && ds->prepared; }

uint64_t acl_prepared_bad_count(const struct acl_dataset *ds) { return ds->prepared ? ds->prepared->l.bad : 0; }

/* ---- the mean image and verification ----------------------------------------------------------- */

acl_status acl_prepared_mean(const struct acl_dataset *ds, float *mean)
{
    const struct acl_prepared *p = ds->prepared;
    if (!p)
        return acl_fail(ACL_ERR_ARGUMENT, "%s is not a prepared dataset", ds->name);
    const uint8_t *sums = p->base + p->l.sums;
    for (uint64_t k = 0; k < p->l.image_bytes; k++) /* as train's mean: a double sum divided by the count */
        mean[k] = (float)((double)get64(sums + 8 * k) / (double)p->l.count);
    return ACL_OK;
}

struct verify_part {
    const struct acl_prepared *p;
    uint64_t first, end;  /* images */
    uint64_t *sums;       /* image_bytes partial sums */
    uint64_t bad, first_bad;
};

static void *verify_thread(void *arg)
{
    struct verify_part *v = arg;
    const struct acl_prepared_layout *l = &v->p->l;
    const uint8_t *d = v->p->base;
    v->first_bad = UINT64_MAX;
    for (uint64_t i = v->first; i < v->end; i++) {
        const uint8_t *img = d + l->pixels + i * l->image_bytes;
        if (acl_prepared_crc(img, l->image_bytes) != get32(d + l->table + 8 * i + 4)) {
            if (v->bad++ == 0)
                v->first_bad = i;
        }
        for (uint64_t k = 0; k < l->image_bytes; k++)
            v->sums[k] += img[k];
    }
    return NULL;
}

acl_status acl_prepared_verify(const struct acl_dataset *ds, int threads, size_t *bad_images)
{
    const struct acl_prepared *p = ds->prepared;
    if (bad_images)
        *bad_images = 0;
    if (!p)
        return acl_fail(ACL_ERR_ARGUMENT, "%s is not a prepared dataset", ds->name);
    const struct acl_prepared_layout *l = &p->l;
    /* Each thread keeps its own sums: limit threads so that they take at most 256 MiB together. */
    uint64_t per = l->image_bytes * 8, cap = ((uint64_t)256 << 20) / per;
    if (threads < 1)
        threads = 1;
    if ((uint64_t)threads > cap)
        threads = cap > 0 ? (int)cap : 1;
    if ((uint64_t)threads > l->count)
        threads = (int)l->count;
    acl_status st = ACL_OK;
    struct verify_part *parts = calloc((size_t)threads, sizeof *parts);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    int started = 0;
    if (!parts || !tids) {
        st = acl_fail(ACL_ERR_MEMORY, "out of memory verifying %s", ds->name);
        goto cleanup;
    }
    for (int t = 0; t < threads; t++) {
        parts[t] = (struct verify_part){p, l->count * (uint64_t)t / (uint64_t)threads,
                                        l->count * (uint64_t)(t + 1) / (uint64_t)threads, NULL, 0, 0};
        if (!(parts[t].sums = calloc((size_t)l->image_bytes, sizeof(uint64_t)))) {
            st = acl_fail(ACL_ERR_MEMORY, "out of memory for the sums of %s (%" PRIu64 " bytes)", ds->name, per);
            goto cleanup;
        }
    }
    for (; started < threads; started++)
        if (pthread_create(&tids[started], NULL, verify_thread, &parts[started]) != 0) {
            st = acl_fail(ACL_ERR_MEMORY, "cannot start a thread to verify %s", ds->name);
            break;
        }
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    if (st != ACL_OK)
        goto cleanup;
    uint64_t bad = 0, first_bad = UINT64_MAX;
    for (int t = 0; t < threads; t++) {
        bad += parts[t].bad;
        if (parts[t].first_bad < first_bad)
            first_bad = parts[t].first_bad;
    }
    if (bad_images)
        *bad_images = (size_t)bad;
    if (bad) {
        st = acl_fail(ACL_ERR_FORMAT, "%s: %" PRIu64 " of %" PRIu64 " images do not match their checksums (the first: "
                      "image %" PRIu64 ", label %" PRId32 "): the file is corrupt; %s", ds->name, bad, l->count,
                      first_bad, ds->labels[first_bad], how_to_fix);
        goto cleanup;
    }
    for (uint64_t k = 0; k < l->image_bytes; k++) {
        uint64_t s = 0;
        for (int t = 0; t < threads; t++)
            s += parts[t].sums[k];
        if (s != get64(p->base + l->sums + 8 * k)) {
            st = acl_fail(ACL_ERR_FORMAT, "%s: the stored mean-image sums do not match the images (first at byte %"
                          PRIu64 " of an image): the file is corrupt; %s", ds->name, k, how_to_fix);
            goto cleanup;
        }
    }
cleanup:
    for (int t = 0; parts && t < threads; t++)
        free(parts[t].sums);
    free(parts);
    free(tids);
    return st;
}
