/* fuzz_prepared.c: the prepared-dataset reader on arbitrary bytes: it must refuse or accept, never crash or read
 * past the bytes, and what it accepts must load every sample, give a mean image and verify without fault. Each input
 * is tried as it is and, when its header's offsets lie inside it, once more with its checksum made right, so that
 * the fuzzer gets past the checksum to the class names, labels and sums.
 * fuzz-sources and build: see scripts/fuzz.sh. */
// fuzz-sources: src/data/*.c
// fuzz-libs: -lz -lm
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "runtime/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int inside(uint64_t off, uint64_t len, size_t size) { return off <= size - 8 && len <= size - 8 - off; }

static void try_bytes(const uint8_t *data, size_t size)
{
    struct acl_dataset *ds = NULL;
    if (acl_prepared_open_memory(&ds, data, size, "fuzz.prep") != ACL_OK) {
        if (ds)
            __builtin_trap();
        return;
    }
    size_t n = (size_t)ds->height * ds->width * ds->channels;
    if (!acl_dataset_is_prepared(ds) || ds->count == 0 || n == 0 || ds->num_classes < 1)
        __builtin_trap();
    uint8_t *buf = malloc(n);
    float *mean = malloc(n * sizeof *mean);
    if (buf && mean) {
        for (size_t i = 0; i < ds->count; i++) {
            struct acl_image img;
            if (acl_dataset_read_into(ds, i, buf, n, &img) != ACL_OK || ds->labels[i] < 0 ||
                ds->labels[i] >= ds->num_classes)
                __builtin_trap();
        }
        if (acl_prepared_mean(ds, mean) != ACL_OK)
            __builtin_trap();
        for (size_t k = 0; k < n; k++)
            if (!(mean[k] >= 0 && mean[k] <= 255))
                __builtin_trap();
        size_t bad = 0;
        (void)acl_prepared_verify(ds, 2, &bad);
    }
    free(buf);
    free(mean);
    acl_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_bytes(data, size);
    if (size < ACL_PREPARED_HEADER_BYTES + 8)
        return 0;
    /* the same bytes with the checksum the header's layout implies */
    uint64_t count = le64(data + 16), table = le64(data + 48), names = le64(data + 56), names_bytes = le64(data + 64);
    uint64_t sums = le64(data + 72), image = (uint64_t)le32(data + 24) * le32(data + 28);
    if (le32(data + 24) > 65535 || le32(data + 28) > 65535 || le32(data + 32) > 3)
        return 0;
    image *= le32(data + 32);
    if (count > size / 8 || image > size / 8 || !inside(table, count * 8, size) || !inside(names, names_bytes, size) ||
        !inside(sums, image * 8, size))
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    uint64_t h = acl_fnv1a(ACL_FNV_OFFSET, copy, ACL_PREPARED_HEADER_BYTES);
    h = acl_fnv1a(h, copy + table, (size_t)(count * 8));
    h = acl_fnv1a(h, copy + names, (size_t)names_bytes);
    h = acl_fnv1a(h, copy + sums, (size_t)(image * 8));
    for (int k = 0; k < 8; k++)
        copy[size - 8 + k] = (uint8_t)(h >> (8 * k));
    try_bytes(copy, size);
    free(copy);
    return 0;
}
