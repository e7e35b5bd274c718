/* fuzz_meta.c: the weights file's metadata (train/meta.h) on arbitrary safetensors images: the reader must refuse or
 * accept, never crash; what it accepts must be sound (a mean of the size its shape says, in 0..255) and come back
 * the same through the writer.
 * fuzz-sources and build: see scripts/fuzz.sh. */
// fuzz-sources: src/train/meta.c
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train/meta.h"

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond))                                                                             \
            __builtin_trap();                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct acl_weights_meta *a, const struct acl_weights_meta *b)
{
    if (!a->description != !b->description || (a->description && strcmp(a->description, b->description)))
        return 0;
    if (a->n_classes != b->n_classes || !a->mean != !b->mean || a->pixel_scale != b->pixel_scale ||
        !a->lighting != !b->lighting)
        return 0;
    for (int k = 0; k < a->n_classes; k++)
        if (strcmp(a->class_names[k], b->class_names[k]))
            return 0;
    if (a->mean && (a->mean_h != b->mean_h || a->mean_w != b->mean_w || a->mean_c != b->mean_c ||
                    memcmp(a->mean, b->mean, (size_t)a->mean_h * a->mean_w * a->mean_c * sizeof(float))))
        return 0;
    return !a->lighting || memcmp(a->lighting, b->lighting, sizeof *a->lighting) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acl_st_file *f = NULL, *g = NULL;
    struct acl_weights_meta m, back;
    if (acl_st_open_memory(data, size, "fuzz", &f) != ACL_OK)
        return 0;
    if (acl_meta_decode(f, "fuzz", &m) == ACL_OK) {
        size_t count = (size_t)m.mean_h * m.mean_w * m.mean_c;
        for (size_t i = 0; m.mean && i < count; i++)
            CHECK(m.mean[i] >= 0 && m.mean[i] <= 255);
        char **kv = NULL;
        int n = 0;
        void *buf = NULL;
        size_t len = 0;
        CHECK(acl_meta_encode(&m, &kv, &n) == ACL_OK);
        CHECK(acl_st_write_memory(NULL, 0, (const char *const *)kv, n, &buf, &len) == ACL_OK);
        CHECK(acl_st_open_memory(buf, len, "round trip", &g) == ACL_OK);
        CHECK(acl_meta_decode(g, "round trip", &back) == ACL_OK);
        free(m.model); /* the writer leaves "model" to weights.c */
        m.model = NULL;
        CHECK(same(&m, &back));
        acl_meta_free(&back);
        acl_st_close(g);
        free(buf);
        acl_meta_kv_free(kv, n);
        acl_meta_free(&m);
    }
    acl_st_close(f);
    return 0;
}
