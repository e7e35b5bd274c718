/* prepared.h: a prepared dataset: the images of a dataset decoded and preprocessed once, stored in one file that
 * training memory-maps, so full-size JPEGs are not decoded again every epoch.
 *
 * `alexnet-cl prepare` (acl_prepare_write) decodes every image of an image folder or list file on threads, applies
 * the paper's preprocessing (shorter side resized to S, default 256, then the centre S x S crop; data/resize.h) and
 * streams the images into one file. acl_prepared_open maps that file read-only and returns an acl_dataset whose
 * samples are its images in memory (dataset.h's in-memory path), so the loader's crops, flips and mean subtraction
 * run unchanged. acl_dataset_open_folder opens a prepared file as well: it is recognized by its magic, whatever its
 * name, so `train --data X --val Y` takes prepared files wherever it takes folders.
 *
 * File format, version 1. Little-endian; every section starts where the header says, and the reader checks each
 * offset and size against the layout the counts imply and against the file's size before it touches anything.
 *
 *   offset 0     header, 128 bytes:
 *                  0 magic "ACLPREP\0"       8 u32 format version (1)     12 u32 header bytes (128)
 *                 16 u64 image count        24 u32 height  28 u32 width  32 u32 channels (1 or 3)
 *                 36 u32 class count        40 u64 pixels offset (4096)  48 u64 table offset
 *                 56 u64 names offset       64 u64 names bytes           72 u64 sums offset
 *                 80 u64 file bytes         88 u64 bad images skipped when the file was made
 *                 96..127 zero; zero padding up to the pixels
 *   4096         pixels: count images of height x width x channels uint8, HWC, image i at 4096 + i * H*W*C.
 *                HWC because it is what the decoder produces, what the mean image (and mean.npy) use and what the
 *                loader's crop indexes: a sample is one memcpy out of the mapping, with no transpose, and a crop
 *                reads whole rows (W*C contiguous bytes). Each 256x256x3 image is 48 whole pages, so every image
 *                starts on a page and a sample faults in exactly its own pages.
 *   table        (at a multiple of 8) count records {i32 label, u32 CRC-32 of the image's pixels}
 *   names        class-count class names, each NUL-terminated, one after another (the folder names, or a
 *                labels file's)
 *   sums         (at a multiple of 8) H*W*C u64: at each position, the sum over all images of the pixel there. The
 *                mean image is sums / count, which is bit for bit what train computes by averaging the decoded
 *                folder in double (sums of bytes are exact in both), and it costs nothing at start-up.
 *   last 8 bytes u64 FNV-1a (runtime/hash.h) of the header, the table, the names and the sums, in that order.
 *
 * Opening checks that checksum (a few MB even for ImageNet) and every label; the pixels (many GB) are covered by
 * the per-image CRCs, which acl_prepared_verify (`alexnet-cl prepare --verify FILE`) checks on demand.
 *
 * A prepared file holds only the good images: bad ones are skipped when it is made (see acl_prepare_write), so its
 * sample indices are those of the folder without its bad files. With no bad files, the prepared file and the folder
 * give the same samples, the same mean image and the same batches for the same seed, bit for bit. */
#ifndef ACL_DATA_PREPARED_H
#define ACL_DATA_PREPARED_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

#define ACL_PREPARED_VERSION 1
#define ACL_PREPARED_HEADER_BYTES 128
#define ACL_PREPARED_PIXELS_OFFSET 4096
#define ACL_PREPARED_DEFAULT_SIZE 256

/* What a mapping holds, for dataset.c; opaque elsewhere. */
struct acl_prepared;

/* 1 when path is a regular file whose first bytes are a prepared file's magic, else 0 (also when unreadable). */
int acl_prepared_detect(const char *path);

/* Maps path read-only (mmap, MAP_PRIVATE) and checks it as the top of this file says. ACL_ERR_IO when it cannot be
 * opened or mapped; ACL_ERR_FORMAT, naming the path and what is wrong (not a prepared file, another format version,
 * truncated, a header that does not fit the file, a checksum mismatch, a bad label), otherwise. The mapping lives as
 * long as the dataset (acl_dataset_free unmaps it). The file must not be truncated while it is mapped: reading past
 * the end of a mapped file raises SIGBUS, which no check at open time can prevent. */
acl_status acl_prepared_open(struct acl_dataset **out, const char *path);

/* The same on size bytes in memory, which the dataset borrows (they must outlive it): for tests and fuzzing. */
acl_status acl_prepared_open_memory(struct acl_dataset **out, const uint8_t *data, size_t size, const char *name);

/* 1 when ds came from a prepared file; its images are then ds->height x ds->width x ds->channels, preprocessed. */
int acl_dataset_is_prepared(const struct acl_dataset *ds);

/* Images skipped as bad when the file was made (from its header). */
uint64_t acl_prepared_bad_count(const struct acl_dataset *ds);

/* The mean image (height x width x channels floats, HWC) from the stored sums. */
acl_status acl_prepared_mean(const struct acl_dataset *ds, float *mean);

/* Checks every image against its CRC-32 and the stored sums against the pixels, on threads (at least 1). ACL_OK, or
 * ACL_ERR_FORMAT naming the first corrupt image and how many there are; *bad_images (may be NULL) gets the count. */
acl_status acl_prepared_verify(const struct acl_dataset *ds, int threads, size_t *bad_images);

/* Releases what acl_prepared_open made (unmaps); called by acl_dataset_free. */
void acl_prepared_release(struct acl_prepared *p);

/* ---- the layout, shared by the reader and the writer ------------------------------------------------ */

struct acl_prepared_layout {
    uint64_t count;
    uint32_t height, width, channels, classes;
    uint64_t names_bytes, bad;
    /* from the above, by acl_prepared_layout_make */
    uint64_t image_bytes, pixels, table, names, sums, file_bytes;
};

/* Computes image_bytes and the offsets from the counts and sizes; 0 when they overflow 64 bits, else 1. */
int acl_prepared_layout_make(struct acl_prepared_layout *l);
/* Writes the 128-byte header of l. */
void acl_prepared_header_encode(const struct acl_prepared_layout *l, uint8_t *header);
/* CRC-32 (zlib's) of n bytes: the per-image checksum of the table. */
uint32_t acl_prepared_crc(const uint8_t *p, uint64_t n);

/* ---- writing ----------------------------------------------------------------------------------- */

struct acl_prepare_options {
    int size;    /* side of the stored images (0: ACL_PREPARED_DEFAULT_SIZE) */
    int threads; /* decoding threads (0: 1) */
    /* Called on the calling thread after each chunk of images is written (may be NULL). */
    void (*progress)(void *user, size_t done, size_t total, size_t bad);
    void *user;
    /* When set and *interrupt becomes non-zero (a signal handler), the run stops after the current chunk with
     * ACL_ERR_INTERRUPTED and leaves nothing behind. */
    const volatile sig_atomic_t *interrupt;
};

struct acl_prepare_report {
    size_t written, bad;
    uint64_t bytes; /* of the file */
};

/* Decodes every sample of ds (an image folder or list file), preprocesses it to size x size x 3 and writes the file
 * to path through path.tmp, streaming (memory in use: a chunk of images, the table and the sums). Bad images are
 * handled by ds's bad-file policy (acl_dataset_set_bad_policy): skipped, named through its on_bad callback and
 * counted, and once more than the allowed fraction are bad the run stops with that error. On any failure nothing is
 * left behind (no path.tmp) and whatever was at path is untouched. */
acl_status acl_prepare_write(struct acl_dataset *ds, const char *path, const struct acl_prepare_options *opt,
                             struct acl_prepare_report *rep);

#endif
