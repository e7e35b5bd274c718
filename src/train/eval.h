/* eval.h: evaluation on the centre crop and on the paper's ten crops (the four corners and the centre, and their
 * mirrors, softmax averaged), and the preprocessing of one image for classification. */
#ifndef ACL_TRAIN_EVAL_H
#define ACL_TRAIN_EVAL_H

#include "data/decode.h"
#include "net/model.h"
#include "train/meta.h"
#include "train/sources.h"

#define ACL_TEN_CROPS 10

/* Crop k of the ten, an h x w window of a base x base image: k = 0..4 top-left, top-right, bottom-left,
 * bottom-right and centre (as the training crops and evaluation's centre crop are placed: (base - h) / 2 rounded
 * down); k + 5 the same window mirrored. */
void acl_ten_crop_at(int k, int base, int h, int w, int *top, int *left, int *flip);

/* A source whose sample i is the ten crops of p's sample i one after another: 10 * p->c channels of h x w, which
 * are ten of the model's inputs laid end to end. */
struct acl_source acl_ten_crop_source(struct acl_sample_prep *p, int classes);

struct acl_eval_result {
    long images;
    double top1, top5; /* fractions */
    double loss;       /* mean cross-entropy */
};

/* Evaluates m's current parameters on every sample of src. crops = 1: src yields the model's input (the centre
 * crop) and the loss and counts come from the device, as in training (acl_evaluate). crops = 10: src is an
 * acl_ten_crop_source; the softmax of each image's ten crops is averaged on the host in double, and the label is
 * in the top k when fewer than k classes have a strictly greater mean probability (a NaN ranks above it), as
 * accuracy.cl ranks logits. m's batch must hold at least `crops` images. */
acl_status acl_evaluate_crops(struct acl_model *m, const struct acl_source *src, int crops, int threads,
                              struct acl_eval_result *r);

/* The softmax of n rows of k logits (in double, the row's maximum subtracted), averaged over each group of crops
 * consecutive rows: probs is (n / crops) x k. */
void acl_average_softmax(const float *logits, int n, int k, int crops, double *probs);
/* How many of the k classes rank above class c: a strictly greater probability, or NaN. */
int acl_classes_above(const double *probs, int k, int c);
/* The indices of the top n of k probabilities, most likely first (ties: the lower index first). */
void acl_top_classes(const double *probs, int k, int n, int *top);

/* Classification's preprocessing of a decoded RGB image, as training's: gray for a one-channel model (ITU-R 601
 * luma, rounded, as PIL's convert("L")), the shorter side resized to p->base and the centre base x base kept,
 * then the centre crop of the model's input less p->mean, times p->scale. out: p->c x p->h x p->w floats. */
acl_status acl_prepare_image(const struct acl_sample_prep *p, const struct acl_image *img, float *out);

/* p for evaluating ds (mnist: the in-memory Fashion-MNIST) with net, preprocessed as training did, with m's mean
 * image, which must have the size and channels that preprocessing gives; weights names the file in messages. */
acl_status acl_eval_prep(struct acl_sample_prep *p, struct acl_dataset *ds, int mnist, const struct acl_net *net,
                         const struct acl_weights_meta *m, const char *weights);
/* p for acl_prepare_image: the base size and channels of m's mean image, m's pixel scale (1 when absent). */
acl_status acl_classify_prep(struct acl_sample_prep *p, const struct acl_net *net, const struct acl_weights_meta *m,
                             const char *weights);

#endif
