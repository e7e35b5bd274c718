/* npy.h: NumPy .npy files of float32 arrays, for `infer`'s input and output.
 *
 * Layout: "\x93NUMPY", major and minor version bytes, the header length (2 bytes little-endian in
 * version 1.0, 4 bytes in 2.0 and 3.0), the header: a Python dict literal such as
 * "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" padded with spaces and a newline, then
 * the array's bytes.
 *
 * The reader accepts exactly the keys descr, fortran_order and shape (as NumPy does), each once; only
 * little-endian float32 ('<f4') in C order; a header of at most 64 KiB; and data of exactly the size the
 * shape says, checked against the file's size before anything is allocated. The writer produces the
 * same bytes as numpy.save (version 1.0, header padded so the data starts 64-byte aligned), atomically
 * (atomic.h). Failures are ACL_ERR_FORMAT or ACL_ERR_IO with a message starting with the file name. */
#ifndef ACL_IO_NPY_H
#define ACL_IO_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "alexnet_cl.h"

#define ACL_NPY_MAX_DIMS 32
#define ACL_NPY_MAX_HEADER 65536

struct acl_npy_array {
    int ndim;                         /* 0 for a scalar */
    int64_t shape[ACL_NPY_MAX_DIMS];
    size_t count;                     /* elements: the product of shape */
    float *data;                      /* malloc'd (never NULL after a successful read); acl_npy_free */
};

/* Reads path into *a (zeroed on failure). */
acl_status acl_npy_read(const char *path, struct acl_npy_array *a);
/* The same from a file image in memory; label names it in messages (NULL: "<memory>"). */
acl_status acl_npy_read_memory(const void *buf, size_t size, const char *label, struct acl_npy_array *a);
void acl_npy_free(struct acl_npy_array *a);

/* Writes count = product(shape) floats (host order) as a '<f4' C-order array, atomically. */
acl_status acl_npy_write(const char *path, const float *data, int ndim, const int64_t *shape);
/* The same file image in memory: *buf (free() it) of *size bytes. */
acl_status acl_npy_write_memory(const float *data, int ndim, const int64_t *shape, void **buf, size_t *size);

#endif
