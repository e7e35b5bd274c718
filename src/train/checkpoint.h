/* checkpoint.h: one file holding everything a run needs to continue exactly where it stopped.
 *
 * Layout (little-endian): magic "ACLCKPT\0", u32 format version, u32 header bytes, the header (below), the
 * model description text, the parameters and the momentum (param_count floats each), and a u64 FNV-1a
 * checksum of every byte before it. Written to a temporary file beside the target, flushed, fsync'd and
 * renamed, so a crash at any moment leaves the previous checkpoint intact. A reader validates the magic,
 * version, sizes against the file size, the model description against the model it is asked to load, and
 * the checksum, before it trusts anything. */
#ifndef ACL_TRAIN_CHECKPOINT_H
#define ACL_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "alexnet_cl.h"

#define ACL_CKPT_VERSION 1

struct acl_ckpt_state {
    uint64_t seed;          /* the run's seed: dropout masks, data order and augmentation derive from it */
    uint64_t step;          /* optimizer steps done */
    uint32_t epoch;         /* the epoch in progress */
    uint32_t position;      /* batches of this epoch already done */
    uint32_t batch;
    uint32_t classes;
    float lr;               /* the current learning rate */
    float momentum, weight_decay;
    float best_metric;      /* plateau policy: best validation error so far */
    uint32_t bad_epochs;    /* plateau policy: epochs without improvement */
    uint64_t param_count;
};

struct acl_checkpoint {
    struct acl_ckpt_state state;
    char *model_text;       /* the net description */
    float *params, *momentum;
};

acl_status acl_ckpt_write(const char *path, const struct acl_ckpt_state *state, const char *model_text,
                          const float *params, const float *momentum);
/* Reads and validates path. When expect_model is not NULL, a checkpoint of another model is refused. */
acl_status acl_ckpt_read(const char *path, const char *expect_model, struct acl_checkpoint *out);
/* Same, from memory (the fuzz target's entry). */
acl_status acl_ckpt_read_memory(const void *data, size_t size, const char *name, const char *expect_model,
                                struct acl_checkpoint *out);
void acl_ckpt_free(struct acl_checkpoint *c);

#endif
