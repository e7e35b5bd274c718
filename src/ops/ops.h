/* ops.h: the op table. Adding a layer kind adds src/ops/<op>.c, cl/<op>.cl, its tests and one line here
 * and in ops.c. */
#ifndef ACL_OPS_OPS_H
#define ACL_OPS_OPS_H

#include "ops/check.h"

struct acl_op_entry {
    const char *name;
    acl_status (*selftest)(struct acl_ctx *c, struct acl_selftest *t);
};

extern const struct acl_op_entry acl_ops[];
extern const int acl_op_count;

#endif
