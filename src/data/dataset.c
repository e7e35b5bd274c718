/* dataset.c: the dataset container (samples, labels, class names), loading samples, and bad-file accounting. */
#include "data/dataset.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "runtime/error.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- building ---------------------------------------------------------------------------------- */

acl_status acl_dataset_new(struct acl_dataset **out, const char *name, const char *root)
{
    *out = NULL;
    struct acl_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return acl_fail(ACL_ERR_MEMORY, "out of memory for a dataset");
    ds->name = dup_str(name ? name : "dataset");
    ds->root = root ? dup_str(root) : NULL;
    ds->max_bad_fraction = ACL_DEFAULT_MAX_BAD_FRACTION;
    ds->limits = acl_decode_default_limits();
    if (!ds->name || (root && !ds->root) || pthread_mutex_init(&ds->lock, NULL) != 0) {
        free(ds->name);
        free(ds->root);
        free(ds);
        return acl_fail(ACL_ERR_MEMORY, "out of memory for a dataset");
    }
    *out = ds;
    return ACL_OK;
}

void acl_dataset_free(struct acl_dataset *ds)
{
    if (!ds)
        return;
    acl_labels_free(ds->class_names, ds->num_classes);
    for (size_t k = 0; k < ds->bad_count; k++)
        free(ds->bad_files[k].message);
    free(ds->bad_files);
    free(ds->bad);
    free(ds->labels);
    free(ds->path_off);
    free(ds->paths);
    if (ds->prepared)
        acl_prepared_release(ds->prepared); /* pixels point into its mapping */
    else
        free(ds->pixels);
    free(ds->name);
    free(ds->root);
    pthread_mutex_destroy(&ds->lock);
    free(ds);
}

/* Grows *p (of *cap elements of size sz) to hold at least need elements, doubling. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 1;
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > SIZE_MAX / 2 / sz)
            return 0;
        c *= 2;
    }
    void *q = realloc(*p, c * sz);
    if (!q)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

acl_status acl_dataset_add(struct acl_dataset *ds, const char *path, size_t path_len, int32_t label)
{
    if (path_len == 0 || memchr(path, '\0', path_len))
        return acl_fail(ACL_ERR_ARGUMENT, "%s: an empty path or one with a NUL byte", ds->name);
    if (label < 0 || label >= ACL_MAX_CLASSES)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: label %" PRId32 " outside [0, %d)", ds->name, label,
                        ACL_MAX_CLASSES);
    if (ds->pixels)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: cannot add files to an in-memory dataset", ds->name);
    size_t cap_off = ds->samples_cap, cap_lab = ds->samples_cap;
    if (!grow((void **)&ds->path_off, &cap_off, ds->count + 1, sizeof *ds->path_off) ||
        !grow((void **)&ds->labels, &cap_lab, ds->count + 1, sizeof *ds->labels) ||
        !grow((void **)&ds->paths, &ds->paths_cap, ds->paths_len + path_len + 1, 1))
        return acl_fail(ACL_ERR_MEMORY, "%s: out of memory after %zu samples", ds->name, ds->count);
    ds->samples_cap = cap_off < cap_lab ? cap_off : cap_lab;
    memcpy(ds->paths + ds->paths_len, path, path_len);
    ds->paths[ds->paths_len + path_len] = '\0';
    ds->path_off[ds->count] = ds->paths_len;
    ds->labels[ds->count] = label;
    ds->paths_len += path_len + 1;
    ds->count++;
    return ACL_OK;
}

acl_status acl_dataset_finish(struct acl_dataset *ds)
{
    if (ds->count == 0)
        return acl_fail(ACL_ERR_FORMAT, "%s: no samples", ds->name);
    int32_t max_label = 0;
    for (size_t i = 0; i < ds->count; i++)
        if (ds->labels[i] > max_label)
            max_label = ds->labels[i];
    if (ds->class_names) {
        if (max_label >= ds->num_classes)
            return acl_fail(ACL_ERR_FORMAT, "%s: label %" PRId32 " but only %d class names", ds->name, max_label,
                            ds->num_classes);
    } else {
        int n = (int)max_label + 1;
        ds->class_names = calloc((size_t)n, sizeof *ds->class_names);
        if (!ds->class_names)
            return acl_fail(ACL_ERR_MEMORY, "%s: out of memory for %d class names", ds->name, n);
        ds->num_classes = n;
        for (int k = 0; k < n; k++) {
            char tmp[16];
            snprintf(tmp, sizeof tmp, "%d", k);
            if (!(ds->class_names[k] = dup_str(tmp)))
                return acl_fail(ACL_ERR_MEMORY, "%s: out of memory for class names", ds->name);
        }
    }
    ds->total = ds->count;
    return ACL_OK;
}

acl_status acl_dataset_set_class_names(struct acl_dataset *ds, char *const *names, int count, const char *source)
{
    if (count <= 0 || count > ACL_MAX_CLASSES)
        return acl_fail(ACL_ERR_FORMAT, "%s: %d class names (want 1 to %d)", source, count, ACL_MAX_CLASSES);
    if (ds->folder_classes && count != ds->num_classes)
        return acl_fail(ACL_ERR_FORMAT, "%s names %d classes but %s has %d class folders", source, count, ds->name,
                        ds->num_classes);
    for (size_t i = 0; i < ds->count; i++)
        if (ds->labels[i] >= count)
            return acl_fail(ACL_ERR_FORMAT, "%s names %d classes but %s uses label %" PRId32, source, count,
                            ds->name, ds->labels[i]);
    char **copy = calloc((size_t)count, sizeof *copy);
    if (!copy)
        return acl_fail(ACL_ERR_MEMORY, "out of memory for %d class names", count);
    for (int k = 0; k < count; k++)
        if (!(copy[k] = dup_str(names[k]))) {
            acl_labels_free(copy, count);
            return acl_fail(ACL_ERR_MEMORY, "out of memory for class names");
        }
    acl_labels_free(ds->class_names, ds->num_classes);
    ds->class_names = copy;
    ds->num_classes = count;
    return ACL_OK;
}

acl_status acl_dataset_set_labels(struct acl_dataset *ds, const char *labels_path)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char **names = NULL;
    int count = 0;
    acl_status st = acl_read_file(labels_path, ACL_MAX_TEXT_BYTES, &text, &len);
    if (st == ACL_OK)
        st = acl_labels_parse((const char *)text, len, labels_path, &names, &count);
    if (st == ACL_OK)
        st = acl_dataset_set_class_names(ds, names, count, labels_path);
    acl_labels_free(names, count);
    free(text);
    return st;
}

/* ---- samples ----------------------------------------------------------------------------------- */

const char *acl_dataset_path(const struct acl_dataset *ds, size_t i)
{
    return ds->path_off && i < ds->count ? ds->paths + ds->path_off[i] : NULL;
}

acl_status acl_dataset_full_path(const struct acl_dataset *ds, size_t i, char *buf, size_t cap)
{
    const char *p = acl_dataset_path(ds, i);
    if (!p)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: sample %zu has no file (of %zu samples)", ds->name, i, ds->count);
    int n = (p[0] == '/' || !ds->root) ? snprintf(buf, cap, "%s", p) : snprintf(buf, cap, "%s/%s", ds->root, p);
    if (n < 0 || (size_t)n >= cap)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: the path of sample %zu is longer than %zu bytes", ds->name, i, cap);
    return ACL_OK;
}

static acl_status read_sample(const struct acl_dataset *ds, size_t i, struct acl_image *img)
{
    memset(img, 0, sizeof *img);
    if (i >= ds->count)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: sample %zu of %zu", ds->name, i, ds->count);
    if (ds->pixels) {
        size_t n = (size_t)ds->height * ds->width * ds->channels;
        uint8_t *d = malloc(n);
        if (!d)
            return acl_fail(ACL_ERR_MEMORY, "out of memory for an image of %zu bytes", n);
        memcpy(d, ds->pixels + i * n, n);
        *img = (struct acl_image){d, ds->height, ds->width, ds->channels};
        return ACL_OK;
    }
    char path[4096];
    acl_status st = acl_dataset_full_path(ds, i, path, sizeof path);
    if (st != ACL_OK)
        return st;
    return acl_decode_file(path, &ds->limits, img);
}

acl_status acl_dataset_read(const struct acl_dataset *ds, size_t i, struct acl_image *img)
{
    return read_sample(ds, i, img);
}

static acl_status into_buffer(const struct acl_dataset *ds, size_t i, struct acl_image *tmp, uint8_t *buf,
                              size_t cap, struct acl_image *img)
{
    size_t n = (size_t)tmp->height * tmp->width * tmp->channels;
    if (n > cap) {
        acl_status st = acl_fail(ACL_ERR_ARGUMENT, "%s: sample %zu is %dx%dx%d (%zu bytes), over the buffer's %zu",
                                 ds->name, i, tmp->height, tmp->width, tmp->channels, n, cap);
        acl_image_free(tmp);
        return st;
    }
    memcpy(buf, tmp->data, n);
    *img = (struct acl_image){buf, tmp->height, tmp->width, tmp->channels};
    acl_image_free(tmp);
    return ACL_OK;
}

acl_status acl_dataset_read_into(const struct acl_dataset *ds, size_t i, uint8_t *buf, size_t cap,
                                 struct acl_image *img)
{
    memset(img, 0, sizeof *img);
    if (ds->pixels && i < ds->count) { /* no need for a temporary copy */
        size_t n = (size_t)ds->height * ds->width * ds->channels;
        if (n > cap)
            return acl_fail(ACL_ERR_ARGUMENT, "%s: sample %zu is %zu bytes, over the buffer's %zu", ds->name, i,
                            n, cap);
        memcpy(buf, ds->pixels + i * n, n);
        *img = (struct acl_image){buf, ds->height, ds->width, ds->channels};
        return ACL_OK;
    }
    struct acl_image tmp;
    acl_status st = read_sample(ds, i, &tmp);
    if (st != ACL_OK)
        return st;
    return into_buffer(ds, i, &tmp, buf, cap, img);
}

acl_status acl_dataset_load(struct acl_dataset *ds, size_t i, uint8_t *buf, size_t cap, struct acl_image *img,
                            int *skipped)
{
    memset(img, 0, sizeof *img);
    *skipped = 0;
    if (i >= ds->count)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: sample %zu of %zu", ds->name, i, ds->count);
    pthread_mutex_lock(&ds->lock);
    int known_bad = ds->bad && ds->bad[i];
    pthread_mutex_unlock(&ds->lock);
    if (known_bad) {
        *skipped = 1;
        return ACL_OK;
    }
    acl_status st = buf ? acl_dataset_read_into(ds, i, buf, cap, img) : read_sample(ds, i, img);
    if (st == ACL_ERR_FORMAT || st == ACL_ERR_IO) {
        *skipped = 1;
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", acl_last_error());
        return acl_dataset_mark_bad(ds, i, msg);
    }
    return st;
}

/* ---- bad files --------------------------------------------------------------------------------- */

acl_status acl_dataset_set_bad_policy(struct acl_dataset *ds, double max_fraction, acl_bad_file_fn on_bad,
                                      void *user)
{
    if (!(max_fraction >= 0 && max_fraction < 1))
        return acl_fail(ACL_ERR_ARGUMENT, "the allowed fraction of bad files must be in [0, 1), not %g",
                        max_fraction);
    pthread_mutex_lock(&ds->lock);
    ds->max_bad_fraction = max_fraction;
    ds->on_bad = on_bad;
    ds->on_bad_user = user;
    pthread_mutex_unlock(&ds->lock);
    return ACL_OK;
}

static int too_many_bad(const struct acl_dataset *ds)
{
    return (double)ds->bad_count > ds->max_bad_fraction * (double)ds->total;
}

static acl_status too_many_error(const struct acl_dataset *ds, const char *last)
{
    return acl_fail(ACL_ERR_FORMAT, "%s: %zu of %zu files are bad (%.2f%%), over the allowed %.2f%%; the last: %s",
                    ds->name, ds->bad_count, ds->total, 100.0 * (double)ds->bad_count / (double)ds->total,
                    100.0 * ds->max_bad_fraction, last);
}

acl_status acl_dataset_mark_bad(struct acl_dataset *ds, size_t i, const char *message)
{
    acl_status st = ACL_OK;
    char *copy = NULL;
    if (i >= ds->count)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: sample %zu of %zu", ds->name, i, ds->count);
    pthread_mutex_lock(&ds->lock);
    if (!ds->bad && !(ds->bad = calloc(ds->count, 1))) {
        st = acl_fail(ACL_ERR_MEMORY, "out of memory for bad-file flags");
        goto cleanup;
    }
    if (ds->bad[i]) /* another thread got there first */
        goto cleanup;
    if (!(copy = dup_str(message)) || !grow((void **)&ds->bad_files, &ds->bad_cap, ds->bad_count + 1,
                                            sizeof *ds->bad_files)) {
        st = acl_fail(ACL_ERR_MEMORY, "out of memory for the list of bad files");
        goto cleanup;
    }
    ds->bad[i] = 1;
    ds->bad_files[ds->bad_count++].message = copy;
    copy = NULL;
    if (ds->on_bad)
        ds->on_bad(message, ds->on_bad_user);
    if (too_many_bad(ds))
        st = too_many_error(ds, message);
cleanup:
    pthread_mutex_unlock(&ds->lock);
    free(copy);
    return st;
}

size_t acl_dataset_bad_count(struct acl_dataset *ds)
{
    pthread_mutex_lock(&ds->lock);
    size_t n = ds->bad_count;
    pthread_mutex_unlock(&ds->lock);
    return n;
}

const char *acl_dataset_bad_message(struct acl_dataset *ds, size_t k)
{
    pthread_mutex_lock(&ds->lock);
    const char *m = k < ds->bad_count ? ds->bad_files[k].message : NULL;
    pthread_mutex_unlock(&ds->lock);
    return m;
}

/* Checks one file as the level asks: ACL_ERR_FORMAT/ACL_ERR_IO for a bad file. */
static acl_status scan_one(const struct acl_dataset *ds, size_t i, enum acl_scan_level level)
{
    char path[4096];
    acl_status st = acl_dataset_full_path(ds, i, path, sizeof path);
    if (st != ACL_OK)
        return st;
    if (level == ACL_SCAN_DECODE) {
        struct acl_image img;
        st = acl_decode_file(path, &ds->limits, &img);
        acl_image_free(&img);
        return st;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    int w, h, c;
    st = acl_read_file(path, ds->limits.max_file_bytes, &buf, &len);
    if (st == ACL_OK)
        st = acl_image_info(buf, len, path, &ds->limits, &w, &h, &c);
    free(buf);
    return st;
}

acl_status acl_dataset_scan(struct acl_dataset *ds, enum acl_scan_level level)
{
    if (ds->pixels)
        return ACL_OK;
    for (size_t i = 0; i < ds->count; i++) {
        if (ds->bad && ds->bad[i])
            continue;
        acl_status st = scan_one(ds, i, level);
        if (st == ACL_ERR_FORMAT || st == ACL_ERR_IO) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", acl_last_error());
            st = acl_dataset_mark_bad(ds, i, msg);
        }
        if (st != ACL_OK)
            return st;
    }
    if (!ds->bad)
        return ACL_OK;
    size_t kept = 0;
    for (size_t i = 0; i < ds->count; i++) {
        if (ds->bad[i])
            continue;
        ds->path_off[kept] = ds->path_off[i];
        ds->labels[kept] = ds->labels[i];
        kept++;
    }
    ds->count = kept;
    memset(ds->bad, 0, kept); /* the remaining samples are all good */
    if (kept == 0)
        return acl_fail(ACL_ERR_FORMAT, "%s: every file is bad", ds->name);
    return ACL_OK;
}
