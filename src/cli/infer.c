/* infer.c: `alexnet-cl infer`: logits of a batch of preprocessed float32 NCHW tensors from a .npy file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "io/npy.h"
#include "net/model.h"
#include "parallel/runner.h"
#include "runtime/engine.h"
#include "runtime/error.h"
#include "train/meta.h"
#include "train/weights.h"

static const char usage_text[] =
    "usage: alexnet-cl infer --weights FILE --input X.npy --output Y.npy [--model M] [--batch N]\n"
    "                        [--device N|NAME | --devices A,B [--split X|auto]]\n\n"
    "Runs the model on X (float32, N x C x H x W, already preprocessed) and writes its logits (float32, N x\n"
    "classes) to Y. The model is the description stored in the weights (train writes it there) unless --model\n"
    "names one; the number of classes comes from the weights. --devices splits the model across two devices.\n";

int cmd_infer(int argc, char **argv)
{
    const char *model = NULL, *weights = NULL, *input = NULL, *output = NULL, *device = NULL, *devices = NULL;
    const char *split = NULL;
    long batch = 32;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        const char **slot = !strcmp(o, "--model") ? &model : !strcmp(o, "--weights") ? &weights
                          : !strcmp(o, "--input") ? &input : !strcmp(o, "--output") ? &output
                          : !strcmp(o, "--device") ? &device : !strcmp(o, "--devices") ? &devices
                          : !strcmp(o, "--split") ? &split : NULL;
        if (!slot && strcmp(o, "--batch"))
            return cli_usage_error("infer", "unknown argument \"%s\"", o);
        if (!v)
            return cli_usage_error("infer", "%s needs a value", o);
        if (slot)
            *slot = v;
        else if (cli_parse_int("infer", o, v, 1, 65536, &batch))
            return EXIT_USAGE;
        i++;
    }
    if (!weights || !input || !output)
        return cli_usage_error("infer", "--weights, --input and --output are all needed");
    if (model && cli_check_model("infer", model))
        return EXIT_USAGE;
    struct acl_runner run = {0};
    struct acl_net *net = NULL;
    struct acl_npy_array x = {0};
    struct acl_weights_meta meta = {0};
    struct acl_model *m = NULL;
    float *params = NULL, *logits = NULL;
    const char *what = "reading the model";
    acl_status st = acl_weights_open_model(weights, model, &meta, &net, &params);
    if (st != ACL_OK)
        goto out;
    what = "reading the input";
    if ((st = acl_npy_read(input, &x)) != ACL_OK)
        goto out;
    if (x.ndim != 4 || x.shape[1] != net->in_c || x.shape[2] != net->in_h || x.shape[3] != net->in_w || x.shape[0] < 1) {
        st = acl_fail(ACL_ERR_FORMAT, "%s has shape (%lld%s...) but %s takes N x %d x %d x %d", input,
                      (long long)(x.ndim ? x.shape[0] : 0), x.ndim > 1 ? ", " : "", net->name, net->in_c, net->in_h,
                      net->in_w);
        goto out;
    }
    what = devices ? "starting the devices" : "starting the engine";
    if ((st = acl_runner_open(&run, device, devices, split, 0)) != ACL_OK)
        goto out;
    what = "running the model";
    long n = (long)x.shape[0], b = batch < n ? batch : n;
    size_t per = (size_t)net->in_c * net->in_h * net->in_w;
    if ((st = acl_runner_model(&run, net, (int)b, 0, &m)) != ACL_OK ||
        (st = acl_model_write_params(m, params)) != ACL_OK)
        goto out;
    if (!(logits = malloc((size_t)n * net->classes * sizeof *logits))) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto out;
    }
    for (long at = 0; at < n; at += b) {
        int k = (int)(n - at < b ? n - at : b);
        if ((st = acl_model_input(m, x.data + (size_t)at * per, NULL, k)) != ACL_OK ||
            (st = acl_model_forward(m, 0, 0, 0)) != ACL_OK ||
            (st = acl_model_read_logits(m, logits + (size_t)at * net->classes)) != ACL_OK)
            goto out;
    }
    what = "writing the output";
    int64_t shape[2] = {n, net->classes};
    st = acl_npy_write(output, logits, 2, shape);
out:
    acl_model_destroy(m);
    acl_runner_close(&run);
    acl_meta_free(&meta);
    acl_npy_free(&x);
    free(params);
    free(logits);
    acl_net_free(net);
    return st == ACL_OK ? 0 : cli_error(st, what);
}
