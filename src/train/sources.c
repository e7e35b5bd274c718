/* sources.c: datasets to loader sources, with the paper's preprocessing and augmentation (see sources.h). */
#include "train/sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/idx.h"
#include "data/prepared.h"
#include "data/resize.h"
#include "io/npy.h"
#include "philox.h"
#include "runtime/error.h"
#include "train/meta.h"
#include "train/weights.h"

#define PREP_STREAM 0xa5a5000000000000ULL /* augmentation draws on its own Philox stream */

/* Called with the dataset's lock held, so its count can be read directly. */
static void report_bad(const char *message, void *user)
{
    const struct acl_dataset *ds = user;
    fprintf(stderr, "alexnet-cl: skipping bad image %s (%zu bad of %zu in %s)\n", message, ds->bad_count, ds->total,
            ds->name);
}

acl_status acl_sample_load_base(const struct acl_sample_prep *p, int i, uint8_t *base_img, int *label)
{
    acl_status st = ACL_OK;
    size_t n = p->ds->count;
    for (size_t attempt = 0; attempt < n; attempt++) {
        size_t j = ((size_t)i + attempt) % n;
        struct acl_image img = {0};
        int skipped = 0;
        ACL_TRY(acl_dataset_load(p->ds, j, NULL, 0, &img, &skipped));
        if (skipped)
            continue;
        if (img.channels != p->channels) {
            acl_image_free(&img);
            return acl_fail(ACL_ERR_FORMAT, "%s: sample %zu has %d channels where the set has %d", p->ds->name, j,
                            img.channels, p->channels);
        }
        if (p->resize)
            st = acl_resize_shorter_crop(base_img, p->base, img.data, img.height, img.width, img.channels);
        else if (img.height == p->base && img.width == p->base)
            memcpy(base_img, img.data, (size_t)p->base * p->base * p->channels);
        else
            st = acl_fail(ACL_ERR_FORMAT, "%s: sample %zu is %dx%d, not %dx%d like the rest", p->ds->name, j,
                          img.height, img.width, p->base, p->base);
        acl_image_free(&img);
        *label = p->ds->labels[j];
        return st;
    }
    return acl_fail(ACL_ERR_FORMAT, "%s: no readable image left", p->ds->name);
cleanup:
    return st;
}

static acl_status prep_get(void *impl, int index, int train, uint64_t seed, uint64_t epoch, float *out, int *label)
{
    const struct acl_sample_prep *p = impl;
    size_t bytes = (size_t)p->base * p->base * p->channels;
    uint8_t *img = malloc(bytes);
    if (!img)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    acl_status st = acl_sample_load_base(p, index, img, label);
    if (st != ACL_OK) {
        free(img);
        return st;
    }
    int top = (p->base - p->h) / 2, left = (p->base - p->w) / 2, flip = 0;
    float light[3], *offset = NULL;
    if (train) {
        uint64_t stream = PREP_STREAM | epoch;
        top = (int)(acl_philox_bits(seed, stream, 4 * (uint64_t)index) % (uint32_t)(p->base - p->h + 1));
        left = (int)(acl_philox_bits(seed, stream, 4 * (uint64_t)index + 1) % (uint32_t)(p->base - p->w + 1));
        flip = (int)(acl_philox_bits(seed, stream, 4 * (uint64_t)index + 2) & 1);
        if (p->lighting && p->channels == 3) {
            acl_lighting_offset(p->lighting, seed, epoch, (uint64_t)index, light);
            offset = light;
        }
    }
    acl_sample_crop(p, img, top, left, flip, offset, out);
    free(img);
    return ACL_OK;
}

void acl_sample_crop(const struct acl_sample_prep *p, const uint8_t *img, int top, int left, int flip,
                     const float *offset, float *out)
{
    for (int c = 0; c < p->c; c++) {
        int sc = p->channels == 1 ? 0 : c; /* a gray image feeds every channel of an RGB model */
        float add = offset ? offset[sc] : 0.0f;
        for (int y = 0; y < p->h; y++)
            for (int x = 0; x < p->w; x++) {
                int sx = left + (flip ? p->w - 1 - x : x);
                size_t at = ((size_t)(top + y) * p->base + (size_t)sx) * p->channels + (size_t)sc;
                out[((size_t)c * p->h + y) * p->w + x] = ((float)img[at] + add - p->mean[at]) * p->scale;
            }
    }
}

struct acl_source acl_sample_source(struct acl_sample_prep *p, int classes)
{
    return (struct acl_source){(int)p->ds->count, classes, p->c, p->h, p->w, p, prep_get, NULL};
}

static acl_status open_set(const char *spec, const char *split, int verbose, struct acl_dataset **out)
{
    acl_status st;
    if (!strcmp(spec, "fashion-mnist"))
        st = acl_dataset_open_fashion_mnist(out, ACL_FASHION_MNIST_DIR, split);
    else
        st = acl_dataset_open_folder(out, spec, split);
    if (st == ACL_OK)
        st = acl_dataset_set_bad_policy(*out, ACL_DEFAULT_MAX_BAD_FRACTION, report_bad, *out);
    (void)verbose;
    return st;
}

static int is_folder(const char *dir, const char *sub)
{
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

acl_status acl_sources_open(struct acl_sources *s, const char *data, const char *val, int verbose)
{
    acl_status st = ACL_OK;
    memset(s, 0, sizeof *s);
    s->verbose = verbose;
    int mnist = !strcmp(data, "fashion-mnist");
    if (mnist) {
        ACL_TRY(open_set(data, "train", verbose, &s->train_ds));
        ACL_TRY(open_set(data, "test", verbose, &s->val_ds));
    } else {
        /* DIR/train/<class> when DIR/train exists, else DIR/<class>; validation from --val or DIR/val when it
         * exists. A split folder that exists but is wrong is an error about it, not a reason to look elsewhere. */
        ACL_TRY(open_set(data, is_folder(data, "train") ? "train" : NULL, verbose, &s->train_ds));
        if (val)
            ACL_TRY(open_set(val, NULL, verbose, &s->val_ds));
        else if (is_folder(data, "val"))
            ACL_TRY(open_set(data, "val", verbose, &s->val_ds));
    }
    if (s->val_ds && s->val_ds->num_classes != s->train_ds->num_classes) {
        st = acl_fail(ACL_ERR_FORMAT, "%s has %d classes but %s has %d", s->val_ds->name, s->val_ds->num_classes,
                      s->train_ds->name, s->train_ds->num_classes);
        goto cleanup;
    }
    s->has_val = s->val_ds != NULL;
    s->train.classes = s->train_ds->num_classes;
    s->train.count = (int)s->train_ds->count;
cleanup:
    if (st != ACL_OK)
        acl_sources_close(s);
    return st;
}

acl_status acl_sources_set_max_bad(struct acl_sources *s, double fraction)
{
    acl_status st = ACL_OK;
    if (s->train_ds)
        st = acl_dataset_set_bad_policy(s->train_ds, fraction, report_bad, s->train_ds);
    if (st == ACL_OK && s->val_ds)
        st = acl_dataset_set_bad_policy(s->val_ds, fraction, report_bad, s->val_ds);
    return st;
}

void acl_sample_prep_init(struct acl_sample_prep *p, struct acl_dataset *ds, int mnist, int channels,
                          const struct acl_net *net)
{
    memset(p, 0, sizeof *p);
    p->ds = ds;
    p->resize = !mnist;
    p->base = mnist ? net->in_h : 256;
    if (!mnist && (net->in_h > 256 || net->in_w > 256))
        p->base = net->in_h > net->in_w ? net->in_h : net->in_w;
    p->channels = channels;
    /* Fashion-MNIST pixels are scaled to [0, 1] so He-initialized small nets train at lr 0.01; image folders
     * stay in the paper's 0..255 range. */
    p->scale = mnist ? 1.0f / 255.0f : 1.0f;
    p->c = net->in_c;
    p->h = net->in_h;
    p->w = net->in_w;
}

/* A prepared file (data/prepared.h) holds images already preprocessed at its own size, which is then the base of both
 * sets: a folder beside it is resized to that size too, since both share one mean image. */
static acl_status fit_prepared(struct acl_sources *s, const struct acl_net *net)
{
    struct acl_sample_prep *t = &s->train_prep, *v = s->has_val ? &s->val_prep : NULL;
    struct acl_sample_prep *pp[2] = {t, v};
    for (int k = 0; k < 2; k++) {
        struct acl_sample_prep *p = pp[k];
        if (!p || !acl_dataset_is_prepared(p->ds))
            continue;
        if (p->ds->height != p->ds->width || p->ds->height < net->in_h || p->ds->width < net->in_w)
            return acl_fail(ACL_ERR_ARGUMENT, "%s holds %dx%d images but the model %s takes %dx%d: prepare it again "
                            "with --size %d", p->ds->name, p->ds->height, p->ds->width, net->name, net->in_h,
                            net->in_w, net->in_h > net->in_w ? net->in_h : net->in_w);
        if (p->ds->channels != t->channels)
            return acl_fail(ACL_ERR_FORMAT, "%s has %d channels where %s has %d", p->ds->name, p->ds->channels,
                            t->ds->name, t->channels);
        p->resize = 0;
        p->base = p->ds->height;
    }
    if (v && v->base != t->base) {
        if (acl_dataset_is_prepared(v->ds) && acl_dataset_is_prepared(t->ds))
            return acl_fail(ACL_ERR_FORMAT, "%s holds %dx%d images but %s %dx%d: prepare both with the same --size",
                            v->ds->name, v->base, v->base, t->ds->name, t->base, t->base);
        if (acl_dataset_is_prepared(v->ds))
            return acl_fail(ACL_ERR_FORMAT, "%s holds %dx%d images, but the training images are used at %dx%d: "
                            "prepare it with --size %d", v->ds->name, v->base, v->base, t->base, t->base, t->base);
        v->base = t->base; /* a folder: resized to the prepared training set's size */
    }
    return ACL_OK;
}

/* The mean over the training set of the base x base images, in HWC, and for RGB images the moments of their
 * pixels that PCA lighting needs. */
static acl_status mean_image(struct acl_sources *s)
{
    struct acl_sample_prep *p = &s->train_prep;
    size_t px = (size_t)p->base * p->base * p->channels;
    double *sum = calloc(px, sizeof *sum);
    uint8_t *img = malloc(px);
    s->mean = calloc(px, sizeof *s->mean);
    if (!sum || !img || !s->mean) {
        free(sum);
        free(img);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for the mean image");
    }
    acl_status st = ACL_OK;
    size_t n = p->ds->count;
    struct acl_rgb_moments moments = {0};
    if (acl_dataset_is_prepared(p->ds)) { /* the mean from the sums stored in the file: the same numbers, at once */
        st = acl_prepared_mean(p->ds, s->mean);
        for (size_t i = 0; st == ACL_OK && p->channels == 3 && i < n; i++) {
            int label; /* the lighting's moments still need one pass, over memory-mapped pixels */
            st = acl_sample_load_base(p, (int)i, img, &label);
            if (st == ACL_OK)
                acl_rgb_moments_add(&moments, img, px / 3);
        }
        if (st == ACL_OK)
            acl_lighting_from_moments(&moments, &s->lighting);
        free(sum);
        free(img);
        return st;
    }
    if (s->verbose)
        fprintf(stderr, "computing the mean image of %zu training images\n", n);
    for (size_t i = 0; i < n; i++) {
        int label;
        ACL_TRY(acl_sample_load_base(p, (int)i, img, &label));
        for (size_t k = 0; k < px; k++)
            sum[k] += img[k];
        if (p->channels == 3)
            acl_rgb_moments_add(&moments, img, px / 3);
    }
    for (size_t k = 0; k < px; k++)
        s->mean[k] = (float)(sum[k] / (double)n);
    acl_lighting_from_moments(&moments, &s->lighting);
cleanup:
    free(sum);
    free(img);
    return st;
}

acl_status acl_sources_fit(struct acl_sources *s, const struct acl_net *net)
{
    int mnist = s->train_ds->root == NULL && !acl_dataset_is_prepared(s->train_ds); /* in-memory images: IDX */
    int channels = mnist ? 1 : acl_dataset_is_prepared(s->train_ds) ? s->train_ds->channels : 3;
    if (mnist && (net->in_h != 28 || net->in_w != 28))
        return acl_fail(ACL_ERR_ARGUMENT, "Fashion-MNIST images are 28x28 but the model %s takes %dx%d (use --model "
                        "mini)", net->name, net->in_h, net->in_w);
    if (net->in_c != 1 && net->in_c != 3)
        return acl_fail(ACL_ERR_ARGUMENT, "the model takes %d input channels; images give 1 or 3", net->in_c);
    if (channels == 3 && net->in_c == 1)
        return acl_fail(ACL_ERR_ARGUMENT, "the model takes gray images but the data is RGB");
    acl_sample_prep_init(&s->train_prep, s->train_ds, mnist, channels, net);
    if (s->has_val)
        acl_sample_prep_init(&s->val_prep, s->val_ds, mnist, channels, net);
    acl_status st = fit_prepared(s, net);
    if (st == ACL_OK)
        st = mean_image(s);
    if (st != ACL_OK)
        return st;
    s->train_prep.mean = s->mean;
    /* The paper's lighting is a colour augmentation: gray images (Fashion-MNIST) have no colour to shift. */
    if (channels == 3 && !s->no_lighting)
        s->train_prep.lighting = &s->lighting;
    if (s->verbose) {
        const struct acl_lighting *l = &s->lighting;
        if (s->train_prep.lighting)
            fprintf(stderr, "PCA lighting: eigenvalues %.3g %.3g %.3g of the RGB covariance (pixels in [0, 1]), "
                    "alpha ~ N(0, %g)\n", l->eigval[0], l->eigval[1], l->eigval[2], ACL_LIGHTING_SIGMA);
        else
            fprintf(stderr, "PCA lighting: off (%s)\n", channels == 3 ? "--no-lighting" : "the images are gray");
    }
    s->train = acl_sample_source(&s->train_prep, s->train_ds->num_classes);
    if (s->has_val) {
        s->val_prep.mean = s->mean;
        s->val = acl_sample_source(&s->val_prep, s->val_ds->num_classes);
    }
    return ACL_OK;
}

acl_status acl_sources_save_outputs(struct acl_sources *s, const struct acl_net *net, const char *model_text,
                                    const char *out_dir, const float *params)
{
    char path[4200];
    acl_status st = ACL_OK;
    const struct acl_sample_prep *p = &s->train_prep;
    if (params) {
        /* what eval and classify need besides the tensors travels in the metadata: the file stands alone */
        struct acl_weights_meta meta = {
            .description = (char *)model_text, .class_names = s->train_ds->class_names,
            .n_classes = s->train_ds->num_classes, .mean = s->mean, .mean_h = p->base, .mean_w = p->base,
            .mean_c = p->channels, .pixel_scale = p->scale, .lighting = p->lighting};
        snprintf(path, sizeof path, "%s/weights.safetensors", out_dir);
        ACL_TRY(acl_weights_save_meta(net, params, path, &meta));
    }
    if (s->mean) { /* the preprocessing the weights expect: pixel - mean (HWC, 0..255) */
        int64_t shape[3] = {p->base, p->base, p->channels};
        snprintf(path, sizeof path, "%s/mean.npy", out_dir);
        ACL_TRY(acl_npy_write(path, s->mean, 3, shape));
    }
cleanup:
    return st;
}

void acl_sources_close(struct acl_sources *s)
{
    acl_dataset_free(s->train_ds);
    acl_dataset_free(s->val_ds);
    free(s->mean);
    memset(s, 0, sizeof *s);
}

char *acl_net_text(const char *model, const struct acl_net *net)
{
    (void)net;
    const char *preset = acl_net_preset_text(model);
    if (preset)
        return strdup(preset);
    FILE *f = fopen(model, "rb");
    if (!f)
        return NULL;
    char *text = calloc(1, 1 << 20);
    if (text && fread(text, 1, (1 << 20) - 1, f) == 0) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}
