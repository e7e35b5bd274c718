/* sources.h: turns a --data/--val argument into the training and validation sources the loader reads:
 * decoding, the paper's preprocessing (shorter side to 256, centre 256x256, the training set's mean image
 * subtracted), random crops of the model's input size with horizontal flips for training, and the centre crop
 * for evaluation. Fashion-MNIST (28x28 gray) is used at its own size, flipped for training. */
#ifndef ACL_TRAIN_SOURCES_H
#define ACL_TRAIN_SOURCES_H

#include "data/dataset.h"
#include "net/net.h"
#include "train/lighting.h"
#include "train/loader.h"

#define ACL_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

struct acl_sample_prep {
    struct acl_dataset *ds;
    int base;            /* side of the stored image after preprocessing (256, or the images' own size) */
    int resize;          /* 1: resize the shorter side to base and take the centre (decoded files) */
    int channels;        /* of the stored images */
    const float *mean;   /* base x base x channels, HWC */
    float scale;         /* (pixel - mean) * scale */
    int c, h, w;         /* the model's input */
    const struct acl_lighting *lighting; /* training crops get PCA lighting; NULL: none */
};

struct acl_sources {
    struct acl_dataset *train_ds, *val_ds;
    struct acl_sample_prep train_prep, val_prep;
    struct acl_source train, val;
    int has_val;
    float *mean;
    struct acl_lighting lighting; /* of the training set, when it is RGB */
    int no_lighting;     /* set before acl_sources_fit to train without PCA lighting */
    int verbose;
};

acl_status acl_sources_open(struct acl_sources *s, const char *data, const char *val, int verbose);
/* The fraction of image files that may be bad (skipped and named) before a run stops; default 1%. */
acl_status acl_sources_set_max_bad(struct acl_sources *s, double fraction);
/* Sizes the sources for the net's input and computes the training set's mean image. */
acl_status acl_sources_fit(struct acl_sources *s, const struct acl_net *net);
/* Writes what a trained model needs besides its checkpoint into out_dir: the weights (with the description, the
 * class names, the mean image and the lighting in their metadata, meta.h) and mean.npy. */
acl_status acl_sources_save_outputs(struct acl_sources *s, const struct acl_net *net, const char *model_text,
                                    const char *out_dir, const float *params);
void acl_sources_close(struct acl_sources *s);

/* ---- one sample, for evaluation and classification (eval.h) ---------------------------------------- */

/* p for ds and the net's input: base size, resizing, channels and scale as training uses them; p->mean is the
 * caller's to set. mnist: the in-memory images are used at their own size. */
void acl_sample_prep_init(struct acl_sample_prep *p, struct acl_dataset *ds, int mnist, int channels,
                          const struct acl_net *net);
/* Sample i as a base x base x channels image (the next good one when i is bad) and its label. */
acl_status acl_sample_load_base(const struct acl_sample_prep *p, int i, uint8_t *base_img, int *label);
/* The model's input (c x h x w floats) from a base image: the h x w window at (top, left), mirrored when flip,
 * plus offset (r, g, b levels; NULL: none), less the mean, times the scale. A gray image feeds every channel. */
void acl_sample_crop(const struct acl_sample_prep *p, const uint8_t *base_img, int top, int left, int flip,
                     const float *offset, float *out);
/* A source over p's dataset: centre crops, or for training random crops, flips and lighting. */
struct acl_source acl_sample_source(struct acl_sample_prep *p, int classes);

/* The description text of a model argument (a preset's text or the file's), malloc'd; NULL when unreadable. */
char *acl_net_text(const char *model, const struct acl_net *net);

#endif
