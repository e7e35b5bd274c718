/* eval.c: centre-crop and ten-crop evaluation, and classification's preprocessing (see eval.h). */
#include "train/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/resize.h"
#include "runtime/error.h"
#include "train/trainer.h"

void acl_ten_crop_at(int k, int base, int h, int w, int *top, int *left, int *flip)
{
    int corner = k % 5;
    *flip = k >= 5;
    if (corner == 4) {
        *top = (base - h) / 2;
        *left = (base - w) / 2;
    } else {
        *top = corner >= 2 ? base - h : 0;
        *left = corner & 1 ? base - w : 0;
    }
}

static acl_status ten_crop_get(void *impl, int index, int train, uint64_t seed, uint64_t epoch, float *out,
                               int *label)
{
    (void)train;
    (void)seed;
    (void)epoch;
    const struct acl_sample_prep *p = impl;
    uint8_t *img = malloc((size_t)p->base * p->base * p->channels);
    if (!img)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    acl_status st = acl_sample_load_base(p, index, img, label); /* decoded once for all ten */
    if (st == ACL_OK) {
        size_t per = (size_t)p->c * p->h * p->w;
        for (int k = 0; k < ACL_TEN_CROPS; k++) {
            int top, left, flip;
            acl_ten_crop_at(k, p->base, p->h, p->w, &top, &left, &flip);
            acl_sample_crop(p, img, top, left, flip, NULL, out + (size_t)k * per);
        }
    }
    free(img);
    return st;
}

struct acl_source acl_ten_crop_source(struct acl_sample_prep *p, int classes)
{
    return (struct acl_source){(int)p->ds->count, classes, ACL_TEN_CROPS * p->c, p->h, p->w, p, ten_crop_get, NULL};
}

void acl_average_softmax(const float *logits, int n, int k, int crops, double *probs)
{
    for (int g = 0; g < n / crops; g++) {
        double *avg = probs + (size_t)g * k;
        for (int j = 0; j < k; j++)
            avg[j] = 0;
        for (int c = 0; c < crops; c++) {
            const float *row = logits + ((size_t)g * crops + c) * k;
            double mx = row[0], sum = 0;
            for (int j = 1; j < k; j++)
                if (row[j] > mx || isnan(row[j]))
                    mx = row[j];
            for (int j = 0; j < k; j++)
                sum += exp((double)row[j] - mx);
            for (int j = 0; j < k; j++)
                avg[j] += exp((double)row[j] - mx) / sum / crops;
        }
    }
}

int acl_classes_above(const double *probs, int k, int c)
{
    int above = 0;
    for (int j = 0; j < k; j++)
        if (j != c && (probs[j] > probs[c] || isnan(probs[j])))
            above++;
    return above;
}

void acl_top_classes(const double *probs, int k, int n, int *top)
{
    for (int r = 0; r < n && r < k; r++) {
        int best = -1;
        for (int j = 0; j < k; j++) {
            int taken = 0;
            for (int q = 0; q < r; q++)
                taken |= top[q] == j;
            if (!taken && (best < 0 || probs[j] > probs[best] || (isnan(probs[j]) && !isnan(probs[best]))))
                best = j;
        }
        top[r] = best;
    }
}

acl_status acl_evaluate_crops(struct acl_model *m, const struct acl_source *src, int crops, int threads,
                              struct acl_eval_result *r)
{
    memset(r, 0, sizeof *r);
    if (crops == 1) {
        r->images = src->count;
        return acl_evaluate(m, src, threads, &r->top1, &r->top5, &r->loss);
    }
    const int k = m->net->classes;
    if (crops != ACL_TEN_CROPS || m->batch < crops || src->c != crops * m->net->in_c)
        return acl_fail(ACL_ERR_ARGUMENT, "ten-crop evaluation needs a ten-crop source and a model batch of at least "
                        "10 (crops %d, batch %d)", crops, m->batch);
    int per_pass = m->batch / crops;
    float *logits = malloc((size_t)per_pass * crops * k * sizeof *logits);
    double *probs = malloc((size_t)per_pass * k * sizeof *probs);
    int *lab = malloc((size_t)per_pass * sizeof *lab);
    if (!logits || !probs || !lab) {
        free(logits);
        free(probs);
        free(lab);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for %d x %d logits", per_pass * crops, k);
    }
    struct acl_loader l;
    acl_status st = acl_loader_start(&l, src, per_pass, 0, 0, 0, 0, 0, threads);
    if (st != ACL_OK) {
        free(logits);
        free(probs);
        free(lab);
        return st;
    }
    long c1 = 0, c5 = 0, seen = 0;
    double loss_sum = 0;
    for (;;) {
        const float *images = NULL;
        const int *labels = NULL;
        int n = 0;
        ACL_TRY(acl_loader_next(&l, &images, &labels, &n));
        if (n == 0)
            break;
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                st = acl_fail(ACL_ERR_FORMAT, "label %d outside the model's %d classes", labels[i], k);
                goto cleanup;
            }
            lab[i] = labels[i]; /* the loader's slot is refilled once handed back */
        }
        ACL_TRY(acl_model_input(m, images, NULL, n * crops)); /* a sample's ten crops are ten images in a row */
        acl_loader_done(&l);
        ACL_TRY(acl_model_forward(m, 0, 0, 0));
        ACL_TRY(acl_model_read_logits(m, logits));
        acl_average_softmax(logits, n * crops, k, crops, probs);
        for (int i = 0; i < n; i++) {
            const double *p = probs + (size_t)i * k;
            int above = acl_classes_above(p, k, lab[i]);
            c1 += above < 1;
            c5 += above < 5;
            loss_sum += -log(p[lab[i]]);
        }
        seen += n;
    }
    r->images = seen;
    r->top1 = seen ? (double)c1 / (double)seen : 0;
    r->top5 = seen ? (double)c5 / (double)seen : 0;
    r->loss = seen ? loss_sum / (double)seen : 0;
cleanup:
    acl_loader_stop(&l);
    free(logits);
    free(probs);
    free(lab);
    return st;
}

acl_status acl_prepare_image(const struct acl_sample_prep *p, const struct acl_image *img, float *out)
{
    if (img->channels != 3 || (p->channels != 1 && p->channels != 3))
        return acl_fail(ACL_ERR_ARGUMENT, "an image of %d channels for a model that takes %d", img->channels,
                        p->channels);
    size_t px = (size_t)img->height * img->width;
    uint8_t *gray = NULL, *base = malloc((size_t)p->base * p->base * p->channels);
    const uint8_t *src = img->data;
    acl_status st = ACL_OK;
    if (!base)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    if (p->channels == 1) {
        if (!(gray = malloc(px))) {
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory for a %dx%d image", img->height, img->width);
            goto cleanup;
        }
        for (size_t i = 0; i < px; i++) {
            const uint8_t *q = img->data + 3 * i;
            gray[i] = (uint8_t)((q[0] * 299u + q[1] * 587u + q[2] * 114u + 500u) / 1000u);
        }
        src = gray;
    }
    ACL_TRY(acl_resize_shorter_crop(base, p->base, src, img->height, img->width, p->channels));
    acl_sample_crop(p, base, (p->base - p->h) / 2, (p->base - p->w) / 2, 0, NULL, out);
cleanup:
    free(gray);
    free(base);
    return st;
}

static acl_status no_mean(const char *weights)
{
    return acl_fail(ACL_ERR_ARGUMENT, "%s carries no mean image (weights not written by alexnet-cl train): give "
                    "--mean FILE, the mean.npy of the training run", weights);
}

static acl_status check_channels(const struct acl_net *net, int channels)
{
    if (net->in_c != 1 && net->in_c != 3)
        return acl_fail(ACL_ERR_ARGUMENT, "the model takes %d input channels; images give 1 or 3", net->in_c);
    if (channels == 3 && net->in_c == 1)
        return acl_fail(ACL_ERR_ARGUMENT, "the model takes gray images but its mean image or the data is RGB");
    return ACL_OK;
}

acl_status acl_eval_prep(struct acl_sample_prep *p, struct acl_dataset *ds, int mnist, const struct acl_net *net,
                         const struct acl_weights_meta *m, const char *weights)
{
    int channels = mnist ? 1 : 3;
    if (mnist && (net->in_h != 28 || net->in_w != 28))
        return acl_fail(ACL_ERR_ARGUMENT, "Fashion-MNIST images are 28x28 but the model %s takes %dx%d", net->name,
                        net->in_h, net->in_w);
    acl_status st = check_channels(net, channels);
    if (st != ACL_OK)
        return st;
    if (!m->mean)
        return no_mean(weights);
    acl_sample_prep_init(p, ds, mnist, channels, net);
    if (m->mean_h != p->base || m->mean_w != p->base || m->mean_c != channels)
        return acl_fail(ACL_ERR_ARGUMENT, "the mean image of %s is %dx%dx%d but %s is preprocessed to %dx%dx%d: the "
                        "weights were trained on another kind of data", weights, m->mean_h, m->mean_w, m->mean_c,
                        ds->name, p->base, p->base, channels);
    p->mean = m->mean;
    return ACL_OK;
}

acl_status acl_classify_prep(struct acl_sample_prep *p, const struct acl_net *net, const struct acl_weights_meta *m,
                             const char *weights)
{
    memset(p, 0, sizeof *p);
    if (!m->mean)
        return no_mean(weights);
    acl_status st = check_channels(net, m->mean_c);
    if (st != ACL_OK)
        return st;
    if (m->mean_h != m->mean_w || m->mean_h < net->in_h || m->mean_w < net->in_w)
        return acl_fail(ACL_ERR_ARGUMENT, "the mean image of %s is %dx%d: want a square at least as large as the "
                        "model's %dx%d input", weights, m->mean_h, m->mean_w, net->in_h, net->in_w);
    p->base = m->mean_h;
    p->resize = 1;
    p->channels = m->mean_c;
    p->mean = m->mean;
    p->scale = m->pixel_scale > 0 ? m->pixel_scale : 1.0f;
    p->c = net->in_c;
    p->h = net->in_h;
    p->w = net->in_w;
    return ACL_OK;
}
