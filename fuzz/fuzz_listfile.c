/* fuzz_listfile.c: libFuzzer target for the list-file and labels-file parsers from memory (the same input is
 * given to both, then the names are attached to the samples). */
// fuzz-sources: src/data/*.c
// fuzz-libs: -lz -lm
// Built and run by scripts/fuzz.sh; by hand, from the repository root:
//   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -Isrc
//     fuzz/fuzz_listfile.c src/data/*.c src/runtime/error.c -lz -lm -o fuzz_listfile
//   ./fuzz_listfile -max_total_time=120 fuzz/corpus/listfile
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct acl_dataset *ds = NULL;
    char **names = NULL;
    int count = 0;
    if (acl_dataset_new(&ds, "fuzz.txt", "/root") != ACL_OK)
        return 0;
    int listed = acl_list_parse(ds, text, size, "fuzz.txt") == ACL_OK && acl_dataset_finish(ds) == ACL_OK;
    if (listed) {
        char path[4096];
        for (size_t i = 0; i < ds->count; i++) {
            const char *p = acl_dataset_path(ds, i);
            if (!p || !p[0] || ds->labels[i] < 0 || ds->labels[i] >= ds->num_classes)
                abort();
            acl_dataset_full_path(ds, i, path, sizeof path);
        }
    }
    if (acl_labels_parse(text, size, "fuzz-labels.txt", &names, &count) == ACL_OK) {
        for (int k = 0; k < count; k++)
            if (!names[k] || !names[k][0]) /* every index is filled with a non-empty name */
                abort();
        if (listed && acl_dataset_set_class_names(ds, names, count, "fuzz-labels.txt") == ACL_OK &&
            ds->num_classes != count)
            abort();
    }
    acl_labels_free(names, count);
    acl_dataset_free(ds);
    return 0;
}
