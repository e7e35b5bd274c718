/* hash.h: 64-bit FNV-1a, used for cache keys and file checksums (integrity, not security). */
#ifndef ACL_RUNTIME_HASH_H
#define ACL_RUNTIME_HASH_H

#include <stddef.h>
#include <stdint.h>

#define ACL_FNV_OFFSET 0xcbf29ce484222325ULL

static inline uint64_t acl_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#endif
