/* fuzz_idx.c: libFuzzer target for the IDX parser, gzip decompression and building a dataset from IDX images and
 * labels, all from memory. Input: either one IDX file (gzipped or not), or 'P', the length of the images part
 * (2 bytes, big-endian), the images IDX, then the labels IDX (each gzipped or not). */
// fuzz-sources: src/data/*.c
// fuzz-libs: -lz -lm
// Built and run by scripts/fuzz.sh; by hand, from the repository root:
//   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -Isrc
//     fuzz/fuzz_idx.c src/data/*.c src/runtime/error.c -lz -lm -o fuzz_idx
//   ./fuzz_idx -max_total_time=120 fuzz/corpus/idx
#include <stdint.h>
#include <stdlib.h>

#include "data/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses d (gunzipping it first when it starts like gzip); *owned holds the decompressed bytes. */
static acl_status parse(const uint8_t *d, size_t n, struct acl_idx *idx, uint8_t **owned)
{
    *owned = NULL;
    if (n >= 2 && d[0] == 0x1F && d[1] == 0x8B) {
        size_t m = 0;
        acl_status st = acl_gunzip(d, n, 1 << 20, "fuzz.gz", owned, &m);
        if (st != ACL_OK)
            return st;
        if ((*owned)[m] != 0) /* the promised NUL after the end */
            abort();
        d = *owned;
        n = m;
    }
    acl_status st = acl_idx_parse(d, n, "fuzz", idx);
    if (st == ACL_OK && (idx->data + idx->count != d + n || idx->type != 8 || idx->ndims < 1 || idx->ndims > 4))
        abort();
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acl_idx a, b;
    uint8_t *oa = NULL, *ob = NULL;
    if (size >= 3 && data[0] == 'P') {
        size_t split = (size_t)data[1] << 8 | data[2];
        if (split > size - 3)
            split = size - 3;
        if (parse(data + 3, split, &a, &oa) == ACL_OK && parse(data + 3 + split, size - 3 - split, &b, &ob) == ACL_OK) {
            struct acl_dataset *ds = NULL;
            if (acl_dataset_from_idx(&ds, "fuzz", &a, &b, 10, acl_fashion_mnist_classes) == ACL_OK) {
                struct acl_image img;
                if (acl_dataset_read(ds, ds->count - 1, &img) == ACL_OK)
                    acl_image_free(&img);
                for (size_t i = 0; i < ds->count; i++)
                    if (ds->labels[i] < 0 || ds->labels[i] >= ds->num_classes)
                        abort();
            }
            acl_dataset_free(ds);
        }
    } else {
        parse(data, size, &a, &oa);
    }
    free(oa);
    free(ob);
    return 0;
}
