/* fuzz_placement.c: libFuzzer target for the two-device placement (src/parallel/placement.h): every network
 * the parser accepts is either refused with a message or gets, at several splits, ranges that tile each
 * layer's channels and transfers that stay inside the tensors they copy from. */
// fuzz-sources: src/net/netdesc.c src/net/presets.c src/ops/conv_size.c src/parallel/placement.c -Icl
// fuzz-libs: -lm
// Built and run by scripts/fuzz.sh placement (seeds in fuzz/corpus/placement).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "parallel/placement.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct acl_net *net, const struct acl_placement *p)
{
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer_place *pl = &p->layers[i];
        int c = net->layers[i].out_c;
        if (pl->replicated) {
            if (pl->dev[0].begin || pl->dev[0].end != c || pl->dev[1].begin || pl->dev[1].end != c)
                abort();
        } else if (pl->dev[0].begin || pl->dev[0].end < 1 || pl->dev[0].end != pl->dev[1].begin ||
                   pl->dev[1].end != c || (i < net->n_layers - 1 && pl->dev[1].begin >= c)) {
            abort();
        }
    }
    struct acl_transfer *t = NULL;
    int n = 0;
    if (acl_placement_transfers(net, p, &t, &n) != ACL_OK)
        abort();
    for (int i = 0; i < n; i++) {
        const struct acl_layer *l = &net->layers[t[i].layer];
        if (t[i].layer < 1 || t[i].from == t[i].to || t[i].from < 0 || t[i].from > 1 || t[i].to < 0 || t[i].to > 1)
            abort();
        if (t[i].channels.begin < 0 || t[i].channels.end > l->in_c || t[i].channels.begin >= t[i].channels.end)
            abort();
        /* activations and halos lie on the sender; an input gradient is of the receiver's channels */
        int owner = t[i].kind == ACL_XFER_INPUT_GRAD ? t[i].to : t[i].from;
        struct acl_range src = p->layers[t[i].layer - 1].dev[owner];
        if (t[i].channels.begin < src.begin || t[i].channels.end > src.end)
            abort();
        if (t[i].bytes_per_image != (size_t)(t[i].channels.end - t[i].channels.begin) * l->in_h * l->in_w * 4)
            abort();
    }
    struct acl_transfer_totals tot;
    acl_transfer_totals(t, n, 3, &tot);
    if (tot.total != tot.forward + tot.backward)
        abort();
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct acl_net *net = NULL;
    if (acl_net_parse(text, "fuzz.net", 10, &net) == ACL_OK) {
        const double splits[] = {0.5, 0.7, 0.01, 0.99, 0.3333};
        for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
            struct acl_placement p;
            if (acl_placement_plan(net, splits[k], &p) == ACL_OK) {
                check(net, &p);
                acl_placement_free(&p);
            } else if (p.layers) {
                abort();
            }
        }
    }
    acl_net_free(net);
    free(text);
    return 0;
}
