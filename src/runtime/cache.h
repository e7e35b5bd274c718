/* cache.h: the on-disk cache of program binaries.
 *
 * A file is named by a 128-bit hash of its key and holds: magic "ACLPROG\0", format version, the key text
 * (engine version, platform, device, driver, build options, hash of the source), the binary, and an
 * FNV-1a checksum of all that precedes it. It is written to a temporary file, flushed and renamed, so a
 * reader sees a whole file or none. Anything that does not validate is deleted and rebuilt. */
#ifndef ACL_RUNTIME_CACHE_H
#define ACL_RUNTIME_CACHE_H

#include <stddef.h>

#include "alexnet_cl.h"

#define ACL_CACHE_FORMAT 1

/* Resolves the cache folder (explicit, $ACL_CACHE_DIR, $XDG_CACHE_HOME/alexnet-cl, ~/.cache/alexnet-cl)
 * and creates it. Writes "" to dir when caching is off or impossible. */
void acl_cache_dir(const char *explicit_dir, char *dir, size_t size);

/* The path of the file for key. */
void acl_cache_path(const char *dir, const char *key, char *path, size_t size);

/* Loads the binary stored under key. A miss returns ACL_OK with *bin NULL. A file that exists but does
 * not validate is deleted, *rejected set to 1 and a miss returned: a bad file is never trusted. */
acl_status acl_cache_load(const char *dir, const char *key, unsigned char **bin, size_t *len, int *rejected);

/* Stores bin under key, atomically. */
acl_status acl_cache_store(const char *dir, const char *key, const unsigned char *bin, size_t len);

#endif
