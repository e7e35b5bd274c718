/* model.c: `alexnet-cl model`: a model's layers, shapes, parameter tensors and memory plan, or its
 * description text (for tools that rebuild it elsewhere, such as scripts/torch_reference.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "net/net.h"
#include "parallel/devlist.h"
#include "parallel/placement.h"
#include "train/sources.h"

/* --split: each layer's channels on two devices, what it reads, and the bytes a step moves. */
static int print_placement(const struct acl_net *net, double split, long batch)
{
    struct acl_placement p;
    struct acl_transfer *t = NULL;
    int n = 0;
    acl_status st = acl_placement_plan(net, split, &p);
    if (st == ACL_OK)
        st = acl_placement_transfers(net, &p, &t, &n);
    if (st != ACL_OK) {
        acl_placement_free(&p);
        return cli_error(st, "placing the model on two devices");
    }
    printf("\non two devices, device 0's share %.2f (--devices A,B --split %g):\n", split, split);
    printf("%-12s %-14s %-14s %s\n", "layer", "device 0", "device 1", "reads");
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        const struct acl_layer_place *lp = &p.layers[i];
        char d0[32], d1[32];
        snprintf(d0, sizeof d0, "[%d, %d)", lp->dev[0].begin, lp->dev[0].end);
        snprintf(d1, sizeof d1, "[%d, %d)", lp->dev[1].begin, lp->dev[1].end);
        int from_input = i == 0 || p.layers[i - 1].replicated;
        const char *reads = lp->replicated || from_input ? "the network input, whole on both" :
                            l->kind == ACL_CONV || l->kind == ACL_FC ? (lp->cross ? "both devices" : "its own device")
                            : l->kind == ACL_LRN ? "its own, and a halo across the split" : "its own device";
        printf("%-12s %-14s %-14s %s\n", l->name, d0, d1, reads);
    }
    struct acl_transfer_totals one, step;
    acl_transfer_totals(t, n, 1, &one);
    acl_transfer_totals(t, n, (int)batch, &step);
    printf("moved between the devices: %zu bytes per image forward, %zu backward; %.2f MiB per training step at batch "
           "%ld, in %d copies\n", one.forward, one.backward, step.total / 1048576.0, batch, n);
    free(t);
    acl_placement_free(&p);
    return 0;
}

int cmd_model(int argc, char **argv)
{
    const char *model = "mini";
    long classes = 1000, batch = 128;
    int description = 0, split_auto = 0;
    double split = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            printf("usage: alexnet-cl model [--model paper|torchvision|mini|FILE] [--classes N] [--batch N] "
                   "[--split X] [--description]\n\nPrints the layers with their output shapes, the parameter tensors "
                   "and the memory a training batch needs;\n--split X adds each layer's channels on two devices "
                   "(device 0's share X) and the bytes moved;\n--description prints the net description text "
                   "instead.\n");
            return 0;
        }
        if (!strcmp(o, "--description")) {
            description = 1;
            continue;
        }
        if (strcmp(o, "--model") && strcmp(o, "--classes") && strcmp(o, "--batch") && strcmp(o, "--split"))
            return cli_usage_error("model", "unknown argument \"%s\"", o);
        if (!v)
            return cli_usage_error("model", "%s needs a value", o);
        if (!strcmp(o, "--split")) {
            if (acl_split_parse(v, &split, &split_auto) != ACL_OK)
                return cli_usage_error("model", "%s", acl_last_error());
            if (split_auto)
                return cli_usage_error("model", "--split auto measures devices: give a number here");
        } else if (!strcmp(o, "--model"))
            model = v;
        else if (cli_parse_int("model", o, v, 1, 1 << 20, !strcmp(o, "--classes") ? &classes : &batch))
            return EXIT_USAGE;
        i++;
    }
    if (cli_check_model("model", model))
        return EXIT_USAGE;
    struct acl_net *net = NULL;
    acl_status st = acl_net_load(model, (int)classes, &net);
    if (st != ACL_OK)
        return cli_error(st, "reading the model");
    if (description) {
        char *text = acl_net_text(model, net);
        fputs(text ? text : "", stdout);
        free(text);
        acl_net_free(net);
        return 0;
    }
    printf("%s: input %dx%dx%d, %d classes, %zu parameters\n\n", net->name, net->in_c, net->in_h, net->in_w,
           net->classes, net->param_count);
    printf("%-12s %-8s %-16s %s\n", "layer", "kind", "output", "parameters");
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        char out[32], params[160] = "";
        snprintf(out, sizeof out, "%dx%dx%d", l->out_c, l->out_h, l->out_w);
        if (l->weight >= 0) {
            const struct acl_tensor_desc *w = &net->tensors[l->weight], *b = &net->tensors[l->bias];
            int n = snprintf(params, sizeof params, "%s [", w->name);
            for (int k = 0; k < w->ndim; k++)
                n += snprintf(params + n, sizeof params - (size_t)n, "%s%d", k ? "," : "", w->dims[k]);
            snprintf(params + n, sizeof params - (size_t)n, "], %s [%d]", b->name, b->dims[0]);
        }
        printf("%-12s %-8s %-16s %s\n", l->name, acl_layer_kind_name(l->kind), out, params);
    }
    struct acl_memory_plan p;
    acl_net_memory_plan(net, (int)batch, 1, &p);
    printf("\ntraining at batch %ld: %.1f MiB (parameters, gradients, momentum %.1f; activations %.1f; workspace %.1f)\n",
           batch, p.total / 1048576.0, p.params / 1048576.0, p.activations / 1048576.0, p.workspace / 1048576.0);
    int rc = split > 0 ? print_placement(net, split, batch) : 0;
    acl_net_free(net);
    return rc;
}
