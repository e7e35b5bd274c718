/* idx.c: IDX parsing, gzip decompression with zlib, and Fashion-MNIST as a dataset. */
#include "data/idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "runtime/error.h"

const char *const acl_fashion_mnist_classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- IDX --------------------------------------------------------------------------------------- */

acl_status acl_idx_parse(const uint8_t *buf, size_t len, const char *name, struct acl_idx *out)
{
    memset(out, 0, sizeof *out);
    if (len < 4)
        return acl_fail(ACL_ERR_FORMAT, "%s: %zu bytes, too short for an IDX header", name, len);
    if (buf[0] != 0 || buf[1] != 0)
        return acl_fail(ACL_ERR_FORMAT, "%s: not an IDX file (the magic number %02x %02x %02x %02x should start "
                        "with two zero bytes)", name, buf[0], buf[1], buf[2], buf[3]);
    if (buf[2] != 0x08)
        return acl_fail(ACL_ERR_FORMAT, "%s: IDX element type 0x%02x; only unsigned bytes (0x08) are supported",
                        name, buf[2]);
    int nd = buf[3];
    if (nd < 1 || nd > 4)
        return acl_fail(ACL_ERR_FORMAT, "%s: %d dimensions in the IDX header (want 1 to 4)", name, nd);
    size_t header = 4 + 4 * (size_t)nd;
    if (len < header)
        return acl_fail(ACL_ERR_FORMAT, "%s: truncated IDX header (%zu of %zu bytes)", name, len, header);
    size_t count = 1;
    for (int k = 0; k < nd; k++) {
        out->dims[k] = be32(buf + 4 + 4 * k);
        if (out->dims[k] != 0 && count > SIZE_MAX / out->dims[k])
            return acl_fail(ACL_ERR_FORMAT, "%s: IDX dimensions whose product overflows", name);
        count *= out->dims[k];
    }
    if (count != len - header)
        return acl_fail(ACL_ERR_FORMAT, "%s: the IDX header's dimensions need %zu bytes of data but the file has %zu "
                        "(%s)", name, count, len - header, count > len - header ? "truncated" : "trailing bytes");
    out->type = buf[2];
    out->ndims = nd;
    out->data = buf + header;
    out->count = count;
    return ACL_OK;
}

/* ---- gzip -------------------------------------------------------------------------------------- */

acl_status acl_gunzip(const uint8_t *in, size_t len, size_t max_out, const char *name, uint8_t **out,
                      size_t *out_len)
{
    acl_status st = ACL_OK;
    *out = NULL;
    *out_len = 0;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return acl_fail(ACL_ERR_MEMORY, "%s: zlib could not start", name);
    /* Start from the size the trailer claims (it is only a hint: it may lie), within what deflate can reach. */
    size_t cap = 1 << 16;
    if (len >= 4) {
        size_t hint = (size_t)in[len - 4] | (size_t)in[len - 3] << 8 | (size_t)in[len - 2] << 16 |
                      (size_t)in[len - 1] << 24;
        size_t reach = len < SIZE_MAX / 1100 ? len * 1100 : SIZE_MAX;
        if (hint > cap)
            cap = hint < reach ? hint : reach;
    }
    if (cap > max_out)
        cap = max_out;
    uint8_t *buf = malloc(cap + 1);
    size_t used = 0, in_pos = 0;
    if (!buf) {
        st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory for %zu bytes", name, cap + 1);
        goto cleanup;
    }
    for (;;) {
        if (used == cap) {
            if (cap >= max_out) {
                st = acl_fail(ACL_ERR_FORMAT, "%s: decompresses to more than %zu bytes", name, max_out);
                goto cleanup;
            }
            size_t ncap = cap > max_out / 2 ? max_out : 2 * cap;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory for %zu bytes", name, ncap + 1);
                goto cleanup;
            }
            buf = nb;
            cap = ncap;
        }
        /* zlib counts in 32 bits: feed at most 1 GiB at a time. */
        size_t in_chunk = len - in_pos < ((size_t)1 << 30) ? len - in_pos : (size_t)1 << 30;
        size_t out_chunk = cap - used < ((size_t)1 << 30) ? cap - used : (size_t)1 << 30;
        zs.next_in = (Bytef *)(uintptr_t)(in + in_pos);
        zs.avail_in = (uInt)in_chunk;
        zs.next_out = buf + used;
        zs.avail_out = (uInt)out_chunk;
        int r = inflate(&zs, Z_NO_FLUSH);
        in_pos += in_chunk - zs.avail_in;
        used += out_chunk - zs.avail_out;
        if (r == Z_STREAM_END) {
            if (in_pos == len)
                break;
            if (len - in_pos >= 2 && in[in_pos] == 0x1F && in[in_pos + 1] == 0x8B) { /* another member */
                inflateReset(&zs);
                continue;
            }
            st = acl_fail(ACL_ERR_FORMAT, "%s: %zu bytes after the end of the gzip data", name, len - in_pos);
            goto cleanup;
        }
        if (r == Z_BUF_ERROR && in_pos == len) {
            st = acl_fail(ACL_ERR_FORMAT, "%s: truncated gzip data (ends after %zu compressed bytes)", name, len);
            goto cleanup;
        }
        if (r != Z_OK && r != Z_BUF_ERROR) {
            st = acl_fail(r == Z_MEM_ERROR ? ACL_ERR_MEMORY : ACL_ERR_FORMAT, "%s: corrupt gzip data (zlib: %s)", name,
                          zs.msg ? zs.msg : zError(r));
            goto cleanup;
        }
        if (in_pos == len && zs.avail_out != 0) {
            st = acl_fail(ACL_ERR_FORMAT, "%s: truncated gzip data (ends after %zu compressed bytes)", name, len);
            goto cleanup;
        }
    }
    buf[used] = 0;
    *out = buf;
    *out_len = used;
    buf = NULL;
cleanup:
    free(buf);
    inflateEnd(&zs);
    return st;
}

acl_status acl_idx_read_file(const char *path, uint8_t **buf, size_t *len)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    acl_status st = acl_read_file(path, ACL_IDX_MAX_BYTES, &raw, &n);
    if (st != ACL_OK)
        return st;
    if (n >= 2 && raw[0] == 0x1F && raw[1] == 0x8B) {
        st = acl_gunzip(raw, n, ACL_IDX_MAX_BYTES, path, buf, len);
        free(raw);
        return st;
    }
    *buf = raw;
    *len = n;
    return ACL_OK;
}

/* ---- datasets ---------------------------------------------------------------------------------- */

acl_status acl_dataset_from_idx(struct acl_dataset **out, const char *name, const struct acl_idx *images,
                                const struct acl_idx *labels, int num_classes, const char *const *class_names)
{
    acl_status st = ACL_OK;
    struct acl_dataset *ds = NULL;
    *out = NULL;
    if (images->type != 0x08 || images->ndims != 3)
        return acl_fail(ACL_ERR_FORMAT, "%s: the images file has %d dimensions; want 3 (count, rows, columns)", name,
                        images->ndims);
    if (labels->type != 0x08 || labels->ndims != 1)
        return acl_fail(ACL_ERR_FORMAT, "%s: the labels file has %d dimensions; want 1 (count)", name,
                        labels->ndims);
    uint32_t n = images->dims[0], h = images->dims[1], w = images->dims[2];
    if (n == 0 || h < 1 || h > 4096 || w < 1 || w > 4096)
        return acl_fail(ACL_ERR_FORMAT, "%s: %u images of %ux%u (want at least one, at most 4096 a side)", name, n, h,
                        w);
    if (labels->dims[0] != n)
        return acl_fail(ACL_ERR_FORMAT, "%s: %u images but %u labels", name, n, labels->dims[0]);
    if (num_classes < 1 || num_classes > 256)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: %d classes (byte labels allow 1 to 256)", name, num_classes);
    for (uint32_t i = 0; i < n; i++)
        if (labels->data[i] >= num_classes)
            return acl_fail(ACL_ERR_FORMAT, "%s: label %u of image %u is not below %d", name, labels->data[i], i,
                            num_classes);
    ACL_TRY(acl_dataset_new(&ds, name, NULL));
    ds->pixels = malloc(images->count);
    ds->labels = malloc((size_t)n * sizeof *ds->labels);
    ds->class_names = calloc((size_t)num_classes, sizeof *ds->class_names);
    if (!ds->pixels || !ds->labels || !ds->class_names) {
        st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory for %u images", name, n);
        goto cleanup;
    }
    ds->num_classes = num_classes;
    for (int k = 0; k < num_classes; k++) {
        char tmp[16];
        snprintf(tmp, sizeof tmp, "%d", k);
        const char *s = class_names ? class_names[k] : tmp;
        size_t m = strlen(s) + 1;
        if (!(ds->class_names[k] = malloc(m))) {
            st = acl_fail(ACL_ERR_MEMORY, "out of memory for class names");
            goto cleanup;
        }
        memcpy(ds->class_names[k], s, m);
    }
    memcpy(ds->pixels, images->data, images->count);
    for (uint32_t i = 0; i < n; i++)
        ds->labels[i] = labels->data[i];
    ds->count = ds->total = n;
    ds->samples_cap = n;
    ds->height = (int)h;
    ds->width = (int)w;
    ds->channels = 1;
    *out = ds;
    ds = NULL;
cleanup:
    acl_dataset_free(ds);
    return st;
}

/* Reads dir/base.gz, or dir/base when that is missing. */
static acl_status read_idx_named(const char *dir, const char *base, char *path, size_t cap, uint8_t **buf,
                                 size_t *len)
{
    struct stat sb;
    snprintf(path, cap, "%s/%s.gz", dir, base);
    if (stat(path, &sb) != 0) {
        snprintf(path, cap, "%s/%s", dir, base);
        if (stat(path, &sb) != 0)
            return acl_fail(ACL_ERR_IO, "Fashion-MNIST: %s/%s.gz not found; install it with 'apt-get install "
                            "dataset-fashion-mnist' (Debian) or point to a folder holding the IDX files", dir, base);
    }
    return acl_idx_read_file(path, buf, len);
}

acl_status acl_dataset_open_fashion_mnist(struct acl_dataset **out, const char *dir, const char *split)
{
    acl_status st = ACL_OK;
    uint8_t *ib = NULL, *lb = NULL;
    size_t il = 0, ll = 0;
    char ipath[4096], lpath[4096], base[64], name[64];
    struct acl_idx images, labels;
    *out = NULL;
    if (!dir || !dir[0])
        dir = ACL_FASHION_MNIST_DIR;
    const char *prefix;
    if (!split || !split[0] || strcmp(split, "train") == 0)
        prefix = "train";
    else if (strcmp(split, "test") == 0 || strcmp(split, "val") == 0 || strcmp(split, "t10k") == 0)
        prefix = "t10k";
    else
        return acl_fail(ACL_ERR_ARGUMENT, "Fashion-MNIST has the splits 'train' and 'test', not '%s'", split);
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    ACL_TRY(read_idx_named(dir, base, ipath, sizeof ipath, &ib, &il));
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    ACL_TRY(read_idx_named(dir, base, lpath, sizeof lpath, &lb, &ll));
    ACL_TRY(acl_idx_parse(ib, il, ipath, &images));
    ACL_TRY(acl_idx_parse(lb, ll, lpath, &labels));
    if (images.ndims != 3 || images.dims[1] != 28 || images.dims[2] != 28) {
        st = acl_fail(ACL_ERR_FORMAT, "%s: Fashion-MNIST images are 28x28 (3 dimensions), this file holds %d "
                      "dimensions of %u x %u", ipath, images.ndims, images.dims[1], images.dims[2]);
        goto cleanup;
    }
    snprintf(name, sizeof name, "fashion-mnist/%s", prefix[0] == 't' && prefix[1] == '1' ? "test" : "train");
    ACL_TRY(acl_dataset_from_idx(out, name, &images, &labels, 10, acl_fashion_mnist_classes));
cleanup:
    free(ib);
    free(lb);
    return st;
}
