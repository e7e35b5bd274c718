/* fuzz_npy.c: libFuzzer target for the .npy reader (scripts/fuzz.sh builds and runs it).
 *
 * Any input must be refused with a status or read; an array read must have the size its shape says and
 * survive a write-read round trip bit for bit. A broken promise traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond))                                                                             \
            __builtin_trap();                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    struct acl_npy_array a, b;
    acl_status st = acl_npy_read_memory(input, size, "fuzz", &a);
    if (st != ACL_OK) {
        CHECK(st == ACL_ERR_FORMAT && a.data == NULL);
        return 0;
    }
    size_t count = 1;
    for (int i = 0; i < a.ndim; i++)
        count *= (size_t)a.shape[i];
    CHECK(a.data && count == a.count && a.count * 4 < size);
    void *buf;
    size_t n;
    CHECK(acl_npy_write_memory(a.data, a.ndim, a.shape, &buf, &n) == ACL_OK);
    CHECK(acl_npy_read_memory(buf, n, "round trip", &b) == ACL_OK);
    CHECK(b.ndim == a.ndim && b.count == a.count && memcmp(a.shape, b.shape, sizeof a.shape) == 0);
    CHECK(a.count == 0 || memcmp(a.data, b.data, a.count * 4) == 0);
    acl_npy_free(&b);
    acl_npy_free(&a);
    free(buf);
    return 0;
}
