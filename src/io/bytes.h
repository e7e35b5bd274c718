/* bytes.h: byte order for the file formats, which are little-endian whatever the host is. */
#ifndef ACL_IO_BYTES_H
#define ACL_IO_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline int acl_host_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* Converts count elements of size bytes between little-endian and the host's order, in place. */
static inline void acl_swap_elements(void *p, size_t count, size_t size)
{
    unsigned char *b = p;
    if (size < 2 || acl_host_little_endian())
        return;
    for (size_t i = 0; i < count; i++, b += size)
        for (size_t j = 0; j < size / 2; j++) {
            unsigned char t = b[j];
            b[j] = b[size - 1 - j];
            b[size - 1 - j] = t;
        }
}

#endif
