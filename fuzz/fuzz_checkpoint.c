/* fuzz_checkpoint.c: the checkpoint reader on arbitrary bytes: it must refuse or accept, never crash, and
 * what it accepts must round-trip through the writer's format.
 * fuzz-sources and build: see scripts/fuzz.sh. */
// fuzz-sources: src/train/checkpoint.c
#include <stddef.h>
#include <stdint.h>

#include "train/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acl_checkpoint c;
    if (acl_ckpt_read_memory(data, size, "fuzz", NULL, &c) == ACL_OK) {
        if (!c.model_text || !c.params || !c.momentum || c.state.param_count == 0)
            __builtin_trap();
        acl_ckpt_free(&c);
        /* Again, asked for a model it is not of (unless it is): the message quotes the first differing line. */
        static const char other[] = "input channels=1 size=28\nconv out=8 kernel=3\nfc out=classes\n";
        if (acl_ckpt_read_memory(data, size, "fuzz", other, &c) == ACL_OK)
            acl_ckpt_free(&c);
    }
    return 0;
}
