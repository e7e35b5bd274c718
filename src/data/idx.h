/* idx.h: the IDX format of MNIST and Fashion-MNIST, gzip decompression from memory, and Fashion-MNIST as a
 * dataset (28x28 gray images, 10 classes).
 *
 * An IDX file is: two zero bytes, a type byte (0x08 = unsigned byte, the only type accepted here), the number of
 * dimensions (1 to 4), each dimension as a big-endian uint32, then the data in row-major order. Readers check the
 * magic, the type, every dimension, and that the data is exactly as long as the dimensions say (a shorter file is
 * truncated, a longer one is not IDX). */
#ifndef ACL_DATA_IDX_H
#define ACL_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "alexnet_cl.h"
#include "data/dataset.h"

#define ACL_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist" /* Debian's dataset-fashion-mnist */
#define ACL_IDX_MAX_BYTES ((size_t)1 << 30)                       /* an IDX file decompressing to more is refused */

struct acl_idx {
    int type;               /* 0x08 */
    int ndims;              /* 1..4 */
    uint32_t dims[4];
    const uint8_t *data;    /* points into the parsed buffer */
    size_t count;           /* dims[0] * ... * dims[ndims-1] */
};

/* Parses an uncompressed IDX file in memory; out->data points into buf. ACL_ERR_FORMAT, naming name, for a bad
 * magic, type or dimension count, or a size that does not match the dimensions. */
acl_status acl_idx_parse(const uint8_t *buf, size_t len, const char *name, struct acl_idx *out);

/* Decompresses gzip data (one member or several concatenated) into a malloc'd buffer of *out_len bytes (plus a
 * NUL byte after the end). ACL_ERR_FORMAT for corrupt or truncated data, trailing bytes that are not another
 * gzip member, or output over max_out bytes. */
acl_status acl_gunzip(const uint8_t *in, size_t len, size_t max_out, const char *name, uint8_t **out,
                      size_t *out_len);

/* Reads an IDX file, gunzipping it when it starts with gzip's magic bytes. *buf is malloc'd. */
acl_status acl_idx_read_file(const char *path, uint8_t **buf, size_t *len);

/* A dataset of the images (N, H, W) in images (type 0x08, 3 dimensions, 1 <= H, W <= 4096) with the labels (N) in
 * labels, each below num_classes; pixels are copied. class_names: num_classes names, or NULL for "0", "1"... */
acl_status acl_dataset_from_idx(struct acl_dataset **out, const char *name, const struct acl_idx *images,
                                const struct acl_idx *labels, int num_classes, const char *const *class_names);

/* The ten class names of Fashion-MNIST, label order: "T-shirt/top", "Trouser", ... "Ankle boot". */
extern const char *const acl_fashion_mnist_classes[10];

/* Fashion-MNIST's split "train" (60000 images) or "test" (10000; "val" means the same) from dir (NULL:
 * ACL_FASHION_MNIST_DIR): the files {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, or the same names without
 * .gz. Samples are 28x28x1. ACL_ERR_IO, with the package to install, when the files are missing. */
acl_status acl_dataset_open_fashion_mnist(struct acl_dataset **out, const char *dir, const char *split);

#endif
