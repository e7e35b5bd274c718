/* stb_image_impl.h: the three calls decode.c makes into stb_image, whose implementation lives alone in
 * stb_image_impl.c so that it can be built with its own flags (see there). Internal to src/data/. */
#ifndef ACL_DATA_STB_IMAGE_IMPL_H
#define ACL_DATA_STB_IMAGE_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* stb's own ceiling on a side; our limits (acl_decode_limits.max_side) are checked first and never exceed it. */
#define ACL_STB_MAX_SIDE 65535

/* stbi_info_from_memory: 1 and the size and channel count if stb can read the header, else 0. */
int acl_stb_info(const uint8_t *buf, int len, int *w, int *h, int *c);

/* stbi_load_from_memory as 8-bit RGB (free the result with free()). Any one allocation stb asks for past
 * alloc_ceiling bytes fails, so a decode cannot take more than its header promised. NULL on failure. */
uint8_t *acl_stb_load_rgb(const uint8_t *buf, int len, size_t alloc_ceiling, int *w, int *h);

/* stb's reason for the last failure on this thread, never NULL. */
const char *acl_stb_failure_reason(void);

#endif
