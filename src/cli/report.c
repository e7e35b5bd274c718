/* report.c: `alexnet-cl report`: remakes report.html and conv1_filters.png from a training output folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "runtime/error.h"
#include "train/checkpoint.h"
#include "train/report.h"
#include "train/weights.h"

static const char usage_text[] =
    "usage: alexnet-cl report [--out DIR] [--model M]\n\n"
    "Remakes DIR/report.html (loss, accuracy and learning-rate charts and a summary, from DIR/metrics.jsonl) and\n"
    "DIR/conv1_filters.png (the first convolution's kernels, from DIR/checkpoint.ckpt). `train` writes both\n"
    "itself; this is for a run that was stopped, or copied without them.\n\n"
    "  --out DIR    the training output folder (default out)\n"
    "  --model M    take the filters from DIR/weights.safetensors, read as model M (a preset or a description\n"
    "               file), instead of the checkpoint\n";

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

int cmd_report(int argc, char **argv)
{
    const char *out = "out", *model = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(o, "--out") && strcmp(o, "--model"))
            return cli_usage_error("report", "unknown argument \"%s\"", o);
        if (!v)
            return cli_usage_error("report", "%s needs a value", o);
        *(!strcmp(o, "--out") ? &out : &model) = v;
        i++;
    }
    char ckpt_path[4200], weights_path[4200], metrics_path[4200];
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoint.ckpt", out);
    snprintf(weights_path, sizeof weights_path, "%s/weights.safetensors", out);
    snprintf(metrics_path, sizeof metrics_path, "%s/metrics.jsonl", out);
    if (!exists(metrics_path)) {
        fprintf(stderr, "alexnet-cl report: %s has no metrics.jsonl (%s): is it the --out folder of a training "
                "run?\n", out, strerror(errno));
        return 1;
    }
    struct acl_checkpoint ck = {0};
    struct acl_net *net = NULL;
    float *params = NULL;
    const char *what = "reading the checkpoint";
    acl_status st = ACL_OK;
    if (model) {
        what = "reading the weights";
        int new_head = 0;
        if ((st = acl_weights_net(model, weights_path, &net)) != ACL_OK)
            goto out;
        if (!(params = malloc(net->param_count * sizeof *params))) {
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
            goto out;
        }
        if ((st = acl_weights_load(net, weights_path, 0, params, &new_head)) != ACL_OK)
            goto out;
    } else if (exists(ckpt_path)) {
        /* The checkpoint holds its model's description: no --model needed. */
        if ((st = acl_ckpt_read(ckpt_path, NULL, &ck)) != ACL_OK)
            goto out;
        if ((st = acl_net_parse(ck.model_text, ckpt_path, (int)ck.state.classes, &net)) != ACL_OK)
            goto out;
        if (net->param_count != ck.state.param_count) {
            st = acl_fail(ACL_ERR_FORMAT, "%s: its model description has %zu parameters, the file %llu", ckpt_path,
                          net->param_count, (unsigned long long)ck.state.param_count);
            goto out;
        }
        params = ck.params;
    } else {
        fprintf(stderr, "alexnet-cl report: %s has no checkpoint.ckpt: the report will have no filter image "
                "(give --model M to take them from weights.safetensors)\n", out);
    }
    what = "writing the report";
    if ((st = acl_report_write(out, net, params, NULL)) != ACL_OK)
        goto out;
    int has_conv = 0;
    for (int i = 0; net && i < net->n_layers; i++)
        has_conv |= net->layers[i].kind == ACL_CONV;
    printf("wrote %s/report.html%s\n", out, has_conv ? " and conv1_filters.png" : "");
out:
    if (params != ck.params)
        free(params);
    acl_ckpt_free(&ck);
    acl_net_free(net);
    return st == ACL_OK ? 0 : cli_error(st, what);
}
