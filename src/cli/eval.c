/* eval.c: `alexnet-cl eval`: top-1, top-5 and loss of a weights file on a dataset, on the centre crop or the paper's
 * ten crops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/idx.h"
#include "parallel/runner.h"
#include "runtime/engine.h"
#include "runtime/error.h"
#include "train/eval.h"
#include "train/weights.h"

static const char usage_text[] =
    "usage: alexnet-cl eval --weights FILE --data DIR|fashion-mnist [options]\n\n"
    "Prints the top-1 and top-5 accuracy and the loss of the weights on a dataset, preprocessed as in training\n"
    "(shorter side 256, centre 256x256, the training set's mean image subtracted), on the centre crop of the model's\n"
    "input size or, with --ten-crop, on the paper's ten crops (four corners and centre, and their mirrors, softmax\n"
    "averaged). The model, the class names and the mean image come from the weights file written by `train`.\n\n"
    "  --weights FILE        a safetensors file (train's weights.safetensors)\n"
    "  --data DIR|fashion-mnist  DIR/val/<class>/... when DIR/val exists, else DIR/<class>/...; Fashion-MNIST's\n"
    "                        test set\n"
    "  --model M             paper|torchvision|mini|FILE (default: the description stored in the weights)\n"
    "  --mean FILE           the mean image as .npy, H x W x C (default: the one stored in the weights)\n"
    "  --ten-crop            the paper's ten crops instead of the centre crop\n"
    "  --batch N             images per pass (default 100; 10 with --ten-crop, which runs 10 crops per image)\n"
    "  --device N|NAME       (default 0)          --threads N   loader threads (default 2)\n"
    "  --devices A,B         split the model across two devices; --split X|auto  device A's share (default 0.5)\n"
    "  -v                    more detail\n";

static void report_bad(const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "alexnet-cl eval: skipping bad image %s\n", message);
}

struct args {
    const char *weights, *data, *model, *mean, *device, *devices, *split;
    long batch, threads;
    int ten_crop, verbose;
};

static int parse(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (!strcmp(o, "--ten-crop") || !strcmp(o, "-v")) {
            *(o[1] == 'v' ? &a->verbose : &a->ten_crop) = 1;
            continue;
        }
        const char **slot = !strcmp(o, "--weights") ? &a->weights : !strcmp(o, "--data") ? &a->data
                          : !strcmp(o, "--model") ? &a->model : !strcmp(o, "--mean") ? &a->mean
                          : !strcmp(o, "--device") ? &a->device : !strcmp(o, "--devices") ? &a->devices
                          : !strcmp(o, "--split") ? &a->split : NULL;
        long *num = !strcmp(o, "--batch") ? &a->batch : !strcmp(o, "--threads") ? &a->threads : NULL;
        if (!slot && !num)
            return cli_usage_error("eval", "unknown argument \"%s\"", o);
        if (!v)
            return cli_usage_error("eval", "%s needs a value", o);
        if (slot)
            *slot = v;
        else if (cli_parse_int("eval", o, v, 1, num == &a->batch ? 65536 : 64, num))
            return EXIT_USAGE;
        i++;
    }
    if (!a->weights)
        return cli_usage_error("eval", "--weights FILE is needed");
    if (!a->data)
        return cli_usage_error("eval", "--data DIR|fashion-mnist is needed");
    return 0;
}

static acl_status open_data(const char *data, struct acl_dataset **ds)
{
    acl_status st;
    if (!strcmp(data, "fashion-mnist"))
        st = acl_dataset_open_fashion_mnist(ds, ACL_FASHION_MNIST_DIR, "test");
    else if (acl_dataset_open_folder(ds, data, "val") != ACL_OK) /* ImageNet layout, as train reads it */
        st = acl_dataset_open_folder(ds, data, NULL);
    else
        st = ACL_OK;
    if (st == ACL_OK)
        st = acl_dataset_set_bad_policy(*ds, ACL_DEFAULT_MAX_BAD_FRACTION, report_bad, NULL);
    return st;
}

/* The classes the weights were trained on against the dataset's folders: another order would be silently wrong. */
static acl_status same_classes(const struct acl_weights_meta *m, const struct acl_dataset *ds, const char *weights)
{
    if (!m->class_names || !ds->folder_classes)
        return ACL_OK;
    if (m->n_classes != ds->num_classes)
        return acl_fail(ACL_ERR_ARGUMENT, "%s was trained on %d classes but %s has %d", weights, m->n_classes,
                        ds->name, ds->num_classes);
    for (int k = 0; k < m->n_classes; k++)
        if (strcmp(m->class_names[k], ds->class_names[k]))
            return acl_fail(ACL_ERR_ARGUMENT, "class %d of %s is \"%s\" but %s was trained with \"%s\" there", k,
                            ds->name, ds->class_names[k], weights, m->class_names[k]);
    return ACL_OK;
}

int cmd_eval(int argc, char **argv)
{
    struct args a = {.threads = 2};
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    int crops = a.ten_crop ? ACL_TEN_CROPS : 1;
    long batch = a.batch ? a.batch : a.ten_crop ? 10 : 100;
    struct acl_weights_meta meta = {0};
    struct acl_net *net = NULL;
    float *params = NULL;
    struct acl_dataset *ds = NULL;
    struct acl_runner run = {0};
    struct acl_model *m = NULL;
    const char *what = "reading the weights";
    acl_status st = acl_weights_open_model(a.weights, a.model, &meta, &net, &params);
    if (st != ACL_OK)
        goto out;
    if (a.mean && (st = acl_meta_mean_from_npy(&meta, a.mean)) != ACL_OK)
        goto out;
    what = "reading the data";
    if ((st = open_data(a.data, &ds)) != ACL_OK)
        goto out;
    if (ds->num_classes != net->classes) {
        st = acl_fail(ACL_ERR_ARGUMENT, "%s has %d classes but the model in %s has %d", ds->name, ds->num_classes,
                      a.weights, net->classes);
        goto out;
    }
    if ((st = same_classes(&meta, ds, a.weights)) != ACL_OK)
        goto out;
    struct acl_sample_prep prep;
    if ((st = acl_eval_prep(&prep, ds, !strcmp(a.data, "fashion-mnist"), net, &meta, a.mean ? a.mean : a.weights)) !=
        ACL_OK)
        goto out;
    struct acl_source src = a.ten_crop ? acl_ten_crop_source(&prep, ds->num_classes)
                                       : acl_sample_source(&prep, ds->num_classes);
    if (a.verbose)
        fprintf(stderr, "model %s, %d classes; %zu images of %s at %dx%d from %dx%d, %s\n", net->name, net->classes,
                ds->count, ds->name, net->in_h, net->in_w, prep.base, prep.base,
                a.ten_crop ? "ten crops" : "centre crop");
    what = a.devices ? "starting the devices" : "starting the engine";
    if ((st = acl_runner_open(&run, a.device, a.devices, a.split, a.verbose)) != ACL_OK)
        goto out;
    what = "evaluating";
    if ((st = acl_runner_model(&run, net, (int)(batch * crops), 0, &m)) != ACL_OK ||
        (st = acl_model_write_params(m, params)) != ACL_OK)
        goto out;
    struct acl_eval_result r;
    if ((st = acl_evaluate_crops(m, &src, crops, (int)a.threads, &r)) != ACL_OK)
        goto out;
    printf("%s on %ld images of %s: top-1 %.2f%%, top-5 %.2f%%, loss %.4f\n", a.ten_crop ? "ten crops" : "centre crop",
           r.images, ds->name, 100 * r.top1, 100 * r.top5, r.loss);
    size_t bad = acl_dataset_bad_count(ds);
    if (bad)
        printf("%zu bad files were skipped (the next image stood in for each)\n", bad);
out:
    acl_model_destroy(m);
    acl_runner_close(&run);
    acl_dataset_free(ds);
    free(params);
    acl_net_free(net);
    acl_meta_free(&meta);
    return st == ACL_OK ? 0 : cli_error(st, what);
}
