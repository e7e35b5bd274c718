/* ops.c: the table of ops, and `selftest`, which runs every op's cases on a device. */
#include "ops/ops.h"

#include <string.h>

#include "ops/accuracy.h"
#include "ops/add.h"
#include "ops/conv.h"
#include "ops/dropout.h"
#include "ops/fc.h"
#include "ops/gemm.h"
#include "ops/lrn.h"
#include "ops/maxpool.h"
#include "ops/relu.h"
#include "ops/sgd.h"
#include "ops/sgemm.h"
#include "ops/softmax.h"
#include "runtime/engine.h"
#include "runtime/error.h"

/* In the order a forward pass meets them. */
const struct acl_op_entry acl_ops[] = {
    {"conv", conv_selftest},
    {"relu", relu_selftest},
    {"lrn", lrn_selftest},
    {"maxpool", maxpool_selftest},
    {"gemm", gemm_selftest},
    {"sgemm", sgemm_selftest}, /* the own GEMM that acl_gemm takes on CPUs */
    {"fc", fc_selftest},
    {"dropout", dropout_selftest},
    {"softmax", softmax_selftest},
    {"accuracy", accuracy_selftest},
    {"sgd", sgd_selftest},
    {"add", add_selftest}, /* the two-device model's sum of partial results */
};
const int acl_op_count = (int)(sizeof acl_ops / sizeof acl_ops[0]);

acl_status acl_selftest(acl_engine *engine, int tiny, const char *op_filter, acl_check_fn report, void *user,
                        int *failures)
{
    if (!engine)
        return acl_fail(ACL_ERR_ARGUMENT, "acl_selftest: no engine");
    struct acl_selftest t = {.tiny = tiny, .report = report, .user = user};
    int ran = 0;
    for (int i = 0; i < acl_op_count; i++) {
        if (op_filter && strncmp(acl_ops[i].name, op_filter, strlen(op_filter)) != 0)
            continue;
        ran++;
        acl_status st = acl_ops[i].selftest(acl_engine_ctx(engine), &t);
        if (st != ACL_OK) {
            if (failures)
                *failures = t.failures;
            return acl_fail_context(st, "selftest of %s", acl_ops[i].name);
        }
    }
    if (failures)
        *failures = t.failures;
    if (!ran)
        return acl_fail(ACL_ERR_ARGUMENT, "no op name starts with \"%s\"", op_filter);
    return ACL_OK;
}
