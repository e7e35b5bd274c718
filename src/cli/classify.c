/* classify.c: `alexnet-cl classify`: the five most likely classes of each image, with their probabilities. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/dataset.h"
#include "parallel/runner.h"
#include "runtime/engine.h"
#include "runtime/error.h"
#include "train/eval.h"
#include "train/weights.h"

#define TOP 5

static const char usage_text[] =
    "usage: alexnet-cl classify --weights FILE [options] IMAGE...\n\n"
    "Prints, for each JPEG or PNG image, its path and then the five most likely classes with their probabilities,\n"
    "one per line (\"  87.12%  name\"). Images are preprocessed as in training: shorter side to 256 (the size of the\n"
    "mean image), centre crop, mean subtracted, centre crop of the model's input size. A bad image is named on\n"
    "stderr and skipped; the exit status is then 1.\n\n"
    "  --weights FILE     a safetensors file (train's weights.safetensors)\n"
    "  --model M          paper|torchvision|mini|FILE (default: the description stored in the weights)\n"
    "  --labels FILE      class names: `index name` lines, or one name a line (default: the class folder names\n"
    "                     stored in the weights, else class numbers)\n"
    "  --mean FILE        the mean image as .npy, H x W x C (default: the one stored in the weights)\n"
    "  --batch N          images per pass (default 16)\n"
    "  --device N|NAME    (default 0)\n"
    "  --devices A,B      split the model across two devices; --split X|auto  device A's share (default 0.5)\n";

struct args {
    const char *weights, *model, *labels, *mean, *device, *devices, *split;
    long batch;
    char **images;
    int n_images;
};

static int parse(int argc, char **argv, struct args *a)
{
    a->images = argv + 1;
    int only_images = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!only_images && !strcmp(o, "--")) {
            only_images = 1;
            continue;
        }
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (only_images || o[0] != '-') { /* an image */
            a->images[a->n_images++] = argv[i];
            continue;
        }
        const char **slot = !strcmp(o, "--weights") ? &a->weights : !strcmp(o, "--model") ? &a->model
                          : !strcmp(o, "--labels") ? &a->labels : !strcmp(o, "--mean") ? &a->mean
                          : !strcmp(o, "--device") ? &a->device : !strcmp(o, "--devices") ? &a->devices
                          : !strcmp(o, "--split") ? &a->split : NULL;
        if (!slot && strcmp(o, "--batch"))
            return cli_usage_error("classify", "unknown argument \"%s\"", o);
        if (!v)
            return cli_usage_error("classify", "%s needs a value", o);
        if (slot)
            *slot = v;
        else if (cli_parse_int("classify", o, v, 1, 65536, &a->batch))
            return EXIT_USAGE;
        i++;
    }
    if (!a->weights)
        return cli_usage_error("classify", "--weights FILE is needed");
    if (a->n_images == 0)
        return cli_usage_error("classify", "no images given: name one or more JPEG or PNG files");
    return 0;
}

/* The class names to print: --labels, else the weights' metadata when it names every class, else none. */
static acl_status class_names(const char *labels, const struct acl_weights_meta *m, int classes, char ***names,
                              int *count)
{
    *names = NULL;
    *count = 0;
    if (!labels) {
        if (m->class_names && m->n_classes != classes)
            fprintf(stderr, "alexnet-cl classify: the weights name %d classes but the model has %d: printing class "
                    "numbers\n", m->n_classes, classes);
        return ACL_OK;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    acl_status st = acl_read_file(labels, ACL_MAX_TEXT_BYTES, &text, &len);
    if (st == ACL_OK)
        st = acl_labels_parse((const char *)text, len, labels, names, count);
    free(text);
    if (st == ACL_OK && *count != classes) {
        st = acl_fail(ACL_ERR_FORMAT, "%s names %d classes but the model has %d", labels, *count, classes);
        acl_labels_free(*names, *count);
        *names = NULL;
        *count = 0;
    }
    return st;
}

static void print_top(const char *image, const double *probs, int classes, char *const *names)
{
    int top[TOP];
    int n = classes < TOP ? classes : TOP;
    acl_top_classes(probs, classes, n, top);
    printf("%s\n", image);
    for (int r = 0; r < n; r++) {
        if (names)
            printf("  %6.2f%%  %s\n", 100 * probs[top[r]], names[top[r]]);
        else
            printf("  %6.2f%%  class %d\n", 100 * probs[top[r]], top[r]);
    }
}

int cmd_classify(int argc, char **argv)
{
    struct args a = {.batch = 16};
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct acl_weights_meta meta = {0};
    struct acl_net *net = NULL;
    float *params = NULL, *inputs = NULL, *logits = NULL;
    double *probs = NULL;
    int *which = NULL, bad = 0;
    char **labels = NULL;
    int n_labels = 0;
    struct acl_runner run = {0};
    struct acl_model *m = NULL;
    const char *what = "reading the weights";
    acl_status st = acl_weights_open_model(a.weights, a.model, &meta, &net, &params);
    if (st != ACL_OK)
        goto out;
    if (a.mean && (st = acl_meta_mean_from_npy(&meta, a.mean)) != ACL_OK)
        goto out;
    struct acl_sample_prep prep;
    if ((st = acl_classify_prep(&prep, net, &meta, a.mean ? a.mean : a.weights)) != ACL_OK)
        goto out;
    what = "reading the labels";
    if ((st = class_names(a.labels, &meta, net->classes, &labels, &n_labels)) != ACL_OK)
        goto out;
    char *const *names = labels ? labels : meta.class_names && meta.n_classes == net->classes ? meta.class_names : NULL;
    what = a.devices ? "starting the devices" : "starting the engine";
    if ((st = acl_runner_open(&run, a.device, a.devices, a.split, 0)) != ACL_OK)
        goto out;
    what = "classifying";
    int batch = (int)(a.batch < a.n_images ? a.batch : a.n_images), k = net->classes;
    size_t per = (size_t)net->in_c * net->in_h * net->in_w;
    inputs = malloc((size_t)batch * per * sizeof *inputs);
    logits = malloc((size_t)batch * k * sizeof *logits);
    probs = malloc((size_t)batch * k * sizeof *probs);
    which = malloc((size_t)batch * sizeof *which);
    if (!inputs || !logits || !probs || !which) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory for a batch of %d images", batch);
        goto out;
    }
    if ((st = acl_runner_model(&run, net, batch, 0, &m)) != ACL_OK ||
        (st = acl_model_write_params(m, params)) != ACL_OK)
        goto out;
    for (int next = 0; next < a.n_images;) {
        int n = 0;
        for (; next < a.n_images && n < batch; next++) {
            struct acl_image img = {0};
            acl_status is = acl_decode_file(a.images[next], NULL, &img);
            if (is == ACL_OK)
                is = acl_prepare_image(&prep, &img, inputs + (size_t)n * per);
            acl_image_free(&img);
            if (is == ACL_ERR_MEMORY) {
                st = is;
                goto out;
            }
            if (is != ACL_OK) { /* the decoder's messages start with the path already */
                const char *msg = acl_last_error();
                int named = !strncmp(msg, a.images[next], strlen(a.images[next]));
                fprintf(stderr, "alexnet-cl classify: skipping %s%s%s\n", named ? "" : a.images[next],
                        named ? "" : ": ", msg);
                bad++;
                continue;
            }
            which[n++] = next;
        }
        if (n == 0)
            continue;
        if ((st = acl_model_input(m, inputs, NULL, n)) != ACL_OK || (st = acl_model_forward(m, 0, 0, 0)) != ACL_OK ||
            (st = acl_model_read_logits(m, logits)) != ACL_OK)
            goto out;
        acl_average_softmax(logits, n, k, 1, probs);
        for (int i = 0; i < n; i++)
            print_top(a.images[which[i]], probs + (size_t)i * k, k, names);
        fflush(stdout);
    }
    if (bad)
        fprintf(stderr, "alexnet-cl classify: %d of %d images could not be read\n", bad, a.n_images);
out:
    acl_model_destroy(m);
    acl_runner_close(&run);
    acl_labels_free(labels, n_labels);
    free(inputs);
    free(logits);
    free(probs);
    free(which);
    free(params);
    acl_net_free(net);
    acl_meta_free(&meta);
    if (st != ACL_OK)
        return cli_error(st, what);
    return bad ? 1 : 0;
}
