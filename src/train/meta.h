/* meta.h: what travels with a model's weights so that `eval` and `classify` need nothing but the weights file:
 * the net description, the class names, the mean image, the input scale and the PCA lighting, kept in the
 * safetensors `__metadata__` (strings only) so that the tensors keep the names PyTorch and Caffe give them and a
 * PyTorch `load_state_dict` of the file still loads with strict=True.
 *
 * Keys (all optional; a reader takes what is there):
 *   model                    the net's name ("mini", "paper", ...), written by weights.c
 *   alexnet_cl.description   the net description text (net.h)
 *   alexnet_cl.classes       the class names as a JSON array of strings, class 0 first
 *   alexnet_cl.mean_shape    "H,W,C" of the mean image (0..255 levels, HWC) that inputs are reduced by
 *   alexnet_cl.mean          its H*W*C float32 values, little-endian, in base64 (RFC 4648, padded)
 *   alexnet_cl.pixel_scale   the model's input is (pixel - mean) * pixel_scale ("1", or 1/255 for Fashion-MNIST)
 *   alexnet_cl.lighting      12 numbers: the 3 eigenvalues, then the 3 eigenvectors (r g b each), of lighting.h
 * Floats are written with 9 significant digits, which read back to the same float. A value that is present but
 * malformed is refused (ACL_ERR_FORMAT naming the file and the key), never half-used. Opening the model a weights
 * file holds (its net from this description, its parameters) is weights.h's. */
#ifndef ACL_TRAIN_META_H
#define ACL_TRAIN_META_H

#include "io/safetensors.h"
#include "train/lighting.h"

#define ACL_META_MAX_MEAN_FLOATS ((size_t)1 << 26) /* 4096 x 4096 x 3 and then some */

struct acl_weights_meta {
    char *description;         /* NULL when absent */
    char *model;               /* read only: the "model" key, NULL when absent */
    char **class_names;        /* n_classes names, or NULL */
    int n_classes;
    float *mean;               /* mean_h x mean_w x mean_c, or NULL */
    int mean_h, mean_w, mean_c;
    float pixel_scale;         /* 0 when absent */
    const struct acl_lighting *lighting; /* NULL when absent; after a read it points at lighting_store */
    struct acl_lighting lighting_store;
};

/* The metadata pairs for m: *kv holds 2 * *n malloc'd strings, key then value (acl_meta_kv_free). Absent
 * fields (NULL, 0) are left out. */
acl_status acl_meta_encode(const struct acl_weights_meta *m, char ***kv, int *n);
void acl_meta_kv_free(char **kv, int n);

/* Fills m (zeroed first; malloc'd fields, acl_meta_free) from an open file's metadata; name is for messages. */
acl_status acl_meta_decode(const struct acl_st_file *f, const char *name, struct acl_weights_meta *m);
/* The same from a file. */
acl_status acl_meta_read(const char *path, struct acl_weights_meta *m);
void acl_meta_free(struct acl_weights_meta *m);

/* Replaces m's mean image with a .npy file's (H x W x C, C 1 or 3, values in 0..255, as `train` writes mean.npy). */
acl_status acl_meta_mean_from_npy(struct acl_weights_meta *m, const char *path);

#endif
