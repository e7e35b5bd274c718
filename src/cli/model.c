/* model.c: `alexnet-cl model`: a model's layers, shapes, parameter tensors and memory plan, or its
 * description text (for tools that rebuild it elsewhere, such as scripts/torch_reference.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "net/net.h"
#include "train/sources.h"

int cmd_model(int argc, char **argv)
{
    const char *model = "mini";
    long classes = 1000, batch = 128;
    int description = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            printf("usage: alexnet-cl model [--model paper|torchvision|mini|FILE] [--classes N] [--batch N] "
                   "[--description]\n\nPrints the layers with their output shapes, the parameter tensors and the "
                   "memory a training batch needs;\n--description prints the net description text instead.\n");
            return 0;
        }
        if (!strcmp(o, "--description")) {
            description = 1;
            continue;
        }
        if (strcmp(o, "--model") && strcmp(o, "--classes") && strcmp(o, "--batch"))
            return cli_usage_error("model", "unknown argument \"%s\"", o);
        if (!v)
            return cli_usage_error("model", "%s needs a value", o);
        if (!strcmp(o, "--model"))
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
    acl_net_free(net);
    return 0;
}
