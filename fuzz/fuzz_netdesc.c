/* fuzz_netdesc.c: libFuzzer target for the net description parser (the text `--model FILE` reads): any bytes
 * are refused with a message or give a network whose geometry and parameter table hold together. */
// fuzz-sources: src/net/netdesc.c src/net/presets.c src/ops/conv_size.c -Icl
// fuzz-libs: -lm
// Built and run by scripts/fuzz.sh; by hand, from the repository root:
//   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -Isrc -Icl
//     fuzz/fuzz_netdesc.c src/net/netdesc.c src/net/presets.c src/ops/conv_size.c src/runtime/error.c -lm -o fuzz_netdesc
//   ./fuzz_netdesc -max_total_time=60 fuzz/corpus/netdesc
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What every accepted network must satisfy; anything else is a parser bug. */
static void check(const struct acl_net *net, int classes)
{
    if (net->n_layers < 1 || net->in_c < 1 || net->in_h < 1 || net->in_w < 1)
        abort();
    const struct acl_layer *last = &net->layers[net->n_layers - 1];
    if (last->kind != ACL_FC || net->classes != last->out_c || (classes > 0 && net->classes != classes))
        abort();
    size_t params = 0;
    for (int t = 0; t < net->n_tensors; t++) {
        const struct acl_tensor_desc *d = &net->tensors[t];
        size_t count = 1;
        if (d->ndim < 1 || d->ndim > ACL_MAX_DIMS || d->offset != params)
            abort();
        for (int k = 0; k < d->ndim; k++) {
            if (d->dims[k] < 1)
                abort();
            count *= (size_t)d->dims[k];
        }
        if (count != d->count)
            abort();
        params += count;
    }
    if (params != net->param_count)
        abort();
    int c = net->in_c, h = net->in_h, w = net->in_w;
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        if (l->in_c != c || l->in_h != h || l->in_w != w || l->out_c < 1 || l->out_h < 1 || l->out_w < 1)
            abort();
        if ((l->weight >= 0) != (l->bias >= 0) || l->weight >= net->n_tensors || l->bias >= net->n_tensors)
            abort();
        if (l->weight >= 0 && net->tensors[l->weight].dims[0] != l->out_c)
            abort();
        if (acl_layer_in_size(l) > INT32_MAX / 4 || acl_layer_out_size(l) > INT32_MAX / 4)
            abort();
        if (l->kind == ACL_FC && (size_t)net->tensors[l->weight].dims[1] != acl_layer_in_size(l))
            abort();
        c = l->out_c;
        h = l->out_h;
        w = l->out_w;
    }
    struct acl_memory_plan plan;
    acl_net_memory_plan(net, 1, 1, &plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1); /* the file reader hands the parser a NUL-terminated text */
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const int classes[2] = {10, 1000};
    for (int k = 0; k < 2; k++) {
        struct acl_net *net = NULL;
        if (acl_net_parse(text, "fuzz.net", classes[k], &net) == ACL_OK) {
            if (!net)
                abort();
            check(net, classes[k]);
        } else if (net) {
            abort();
        }
        acl_net_free(net);
    }
    free(text);
    return 0;
}
