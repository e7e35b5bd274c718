/* fuzz_metrics.c: libFuzzer target for the metrics.jsonl reader behind the HTML report (a file a crashed or
 * edited run may have left in any state). */
// fuzz-sources: src/train/report_metrics.c src/data/decode.c src/data/stb_image_impl.c
// fuzz-libs: -lm
// Built and run by scripts/fuzz.sh; replay a crash with build-fuzz/fuzz_metrics FILE.
#include <stdint.h>
#include <stdlib.h>

#include "train/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acl_metrics m = {0};
    if (acl_metrics_parse((const char *)data, size, "fuzz.jsonl", &m) == ACL_OK) {
        /* Records a resumed run replaced are dropped, so the steps the chart draws only go forward. */
        for (size_t i = 1; i < m.n_train; i++)
            if (m.train[i].step <= m.train[i - 1].step)
                abort();
        if (m.n_train > m.cap_train || m.n_eval > m.cap_eval)
            abort();
    }
    acl_metrics_free(&m);
    return 0;
}
