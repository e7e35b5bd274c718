/* atomic.h: writing a file so that a crash or a full disk never leaves a half file under its name.
 *
 * The data goes to "<path>.tmp", which is flushed, fsync'ed and renamed over path; the folder is then
 * fsync'ed so the rename itself survives a power cut. On any failure the temporary file is removed and
 * whatever was at path before is untouched. */
#ifndef ACL_IO_ATOMIC_H
#define ACL_IO_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

#include "alexnet_cl.h"

struct acl_atomic_file {
    FILE *f;
    char *path, *tmp;
    int failed_errno; /* the first write error, reported at commit */
};

/* Creates the temporary file; refuses a path that exists and is not a regular file (a folder, a device such as
 * /dev/null, a fifo), which the rename would replace. On failure nothing is left behind. */
acl_status acl_atomic_begin(struct acl_atomic_file *a, const char *path);
/* Appends n bytes; an error is remembered and reported by acl_atomic_commit. */
void acl_atomic_write(struct acl_atomic_file *a, const void *data, size_t n);
/* Flushes, syncs and renames into place; on failure removes the temporary file (ACL_ERR_IO naming path
 * and the system's reason). Releases a in both cases. */
acl_status acl_atomic_commit(struct acl_atomic_file *a);
/* Gives up: closes and removes the temporary file. Safe on a zeroed or released struct. */
void acl_atomic_abort(struct acl_atomic_file *a);

#endif
