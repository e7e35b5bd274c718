/* sources.h: turns a --data/--val argument into the training and validation sources the loader reads:
 * decoding, the paper's preprocessing (shorter side to 256, centre 256x256, the training set's mean image
 * subtracted), random crops of the model's input size with horizontal flips for training, and the centre crop
 * for evaluation. Fashion-MNIST (28x28 gray) is used at its own size, flipped for training. */
#ifndef ACL_TRAIN_SOURCES_H
#define ACL_TRAIN_SOURCES_H

#include "data/dataset.h"
#include "net/net.h"
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
};

struct acl_sources {
    struct acl_dataset *train_ds, *val_ds;
    struct acl_sample_prep train_prep, val_prep;
    struct acl_source train, val;
    int has_val;
    float *mean;
    int verbose;
};

acl_status acl_sources_open(struct acl_sources *s, const char *data, const char *val, int verbose);
/* The fraction of image files that may be bad (skipped and named) before a run stops; default 1%. */
acl_status acl_sources_set_max_bad(struct acl_sources *s, double fraction);
/* Sizes the sources for the net's input and computes the training set's mean image. */
acl_status acl_sources_fit(struct acl_sources *s, const struct acl_net *net);
/* Writes what a trained model needs besides its checkpoint into out_dir. */
acl_status acl_sources_save_outputs(struct acl_sources *s, const struct acl_net *net, const char *out_dir,
                                    const float *params);
void acl_sources_close(struct acl_sources *s);

/* The description text of a model argument (a preset's text or the file's), malloc'd; NULL when unreadable. */
char *acl_net_text(const char *model, const struct acl_net *net);

#endif
