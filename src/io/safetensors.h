/* safetensors.h: reading and writing weights in the safetensors format, the exchange format with PyTorch.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON (an object mapping each tensor name to
 * {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional "__metadata__" object of strings),
 * then the data region: every tensor's little-endian bytes, offsets relative to the region's start.
 *
 * The reader trusts nothing: the header length is bounded by the file and by 100 MB, the JSON is parsed
 * strictly (json.h), every dtype must be known, every shape's byte size must equal its offsets, names and
 * metadata keys must be unique, and the tensors must tile the data region exactly (no overlap, no hole,
 * nothing after the last one), as the format's reference loader demands. Only the header is read at open;
 * tensor data is read on request. Failures are ACL_ERR_FORMAT (the file is wrong) or ACL_ERR_IO (it
 * cannot be read or written), with a message that starts with the file name.
 *
 * The writer lays the tensors out in the order given, pads the header with spaces so the data region
 * starts 8-byte aligned, and writes through atomic.h: a failed write leaves the previous file intact. */
#ifndef ACL_IO_SAFETENSORS_H
#define ACL_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "alexnet_cl.h"

#define ACL_ST_MAX_DIMS 8
#define ACL_ST_MAX_HEADER (100u << 20) /* bytes of JSON, as the reference loader allows */

enum acl_st_dtype {
    ACL_ST_BOOL,
    ACL_ST_U8,
    ACL_ST_I8,
    ACL_ST_F8_E5M2,
    ACL_ST_F8_E4M3,
    ACL_ST_I16,
    ACL_ST_U16,
    ACL_ST_F16,
    ACL_ST_BF16,
    ACL_ST_I32,
    ACL_ST_U32,
    ACL_ST_F32,
    ACL_ST_I64,
    ACL_ST_U64,
    ACL_ST_F64,
    ACL_ST_DTYPE_COUNT
};

/* "F32" ...; "?" for a value out of range. */
const char *acl_st_dtype_name(enum acl_st_dtype dtype);
/* Bytes per element; 0 for a value out of range. */
size_t acl_st_dtype_size(enum acl_st_dtype dtype);

/* Element count and byte size of a tensor of this shape and dtype; -1 when a dimension is negative, the
 * rank or dtype is out of range, or the size does not fit size_t. A scalar (ndim 0) has one element. */
int acl_st_shape_size(const int64_t *shape, int ndim, enum acl_st_dtype dtype, size_t *count, size_t *nbytes);

/* A tensor to write. data holds count * dtype size bytes in the host's byte order (NULL when empty). */
struct acl_st_tensor {
    const char *name;
    enum acl_st_dtype dtype;
    int ndim;                         /* 0 (a scalar) .. ACL_ST_MAX_DIMS */
    int64_t shape[ACL_ST_MAX_DIMS];
    const void *data;
};

/* Writes n tensors and n_meta metadata pairs (meta_kv holds key0, value0, key1, value1, ...; NULL when
 * n_meta is 0) to path atomically. Names must be unique, valid UTF-8 and not "__metadata__" (an empty name is
 * allowed, as by the reader: whatever was read can be written back).
 * ACL_ERR_ARGUMENT for a bad tensor (checked before anything is written), ACL_ERR_IO for the file. */
acl_status acl_st_write(const char *path, const struct acl_st_tensor *tensors, int n, const char *const *meta_kv,
                        int n_meta);
/* The same file image in memory: *buf (free() it) of *size bytes. */
acl_status acl_st_write_memory(const struct acl_st_tensor *tensors, int n, const char *const *meta_kv, int n_meta,
                               void **buf, size_t *size);

/* What the header says about one tensor. name points into the open file (valid until acl_st_close). */
struct acl_st_info {
    const char *name;
    enum acl_st_dtype dtype;
    int ndim;
    int64_t shape[ACL_ST_MAX_DIMS];
    size_t count;   /* elements: the product of shape (1 for a scalar) */
    size_t nbytes;  /* count * dtype size */
    uint64_t begin; /* offset of the first byte in the data region */
};

struct acl_st_file;

/* Opens path and validates its header (the data is read later, by the acl_st_read_* calls). */
acl_status acl_st_open(const char *path, struct acl_st_file **file);
/* The same on a file image in memory. The image is not copied: it must outlive the file. label names
 * the image in messages (NULL: "<memory>"). */
acl_status acl_st_open_memory(const void *data, size_t size, const char *label, struct acl_st_file **file);
/* Safe on NULL. */
void acl_st_close(struct acl_st_file *file);

/* Tensors in the order of the header. */
size_t acl_st_count(const struct acl_st_file *file);
void acl_st_info_at(const struct acl_st_file *file, size_t index, struct acl_st_info *info);
/* ACL_ERR_FORMAT ("x.safetensors: no tensor named 'fc8.bias'") when absent. */
acl_status acl_st_find(const struct acl_st_file *file, const char *name, struct acl_st_info *info);
/* Reads an F32 tensor of exactly count elements into dst, in the host's byte order. Another dtype or
 * count is ACL_ERR_FORMAT naming the tensor, its dtype and shape; nothing is converted. */
acl_status acl_st_read_f32(struct acl_st_file *file, const char *name, float *dst, size_t count);
/* Reads a tensor's bytes as stored (little-endian), exactly nbytes of them. */
acl_status acl_st_read_raw(struct acl_st_file *file, const char *name, void *dst, size_t nbytes);

/* The metadata value of key, or NULL. */
const char *acl_st_meta(const struct acl_st_file *file, const char *key);
size_t acl_st_meta_count(const struct acl_st_file *file);
void acl_st_meta_at(const struct acl_st_file *file, size_t index, const char **key, const char **value);

#endif
