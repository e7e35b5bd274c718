/* sources.h: the kernel sources of cl/, embedded at build time or read from a folder on disk. */
#ifndef ACL_RUNTIME_SOURCES_H
#define ACL_RUNTIME_SOURCES_H

#include "alexnet_cl.h"

struct acl_source {
    const char *name; /* file name inside cl/, e.g. "relu.cl" */
    const char *text;
};

extern const struct acl_source acl_embedded_sources[];
extern const int acl_embedded_source_count;

/* One program's full text: every header of cl/ (sorted by name) followed by the .cl file itself, so that
 * kernels can use the shared headers without #include. From dir when it is non-NULL, else embedded.
 * *text is malloc'd. */
acl_status acl_program_text(const char *dir, const char *cl_name, char **text);

/* The names of the .cl files (not the headers), in a stable order; count in *n. From the embedded copy. */
const char *acl_program_name(int i);
int acl_program_count(void);

#endif
