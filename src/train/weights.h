/* weights.h: a model's parameters as a safetensors file, under the tensor names of its description
 * (Caffe's bvlc_alexnet names for `paper`, torchvision's state_dict names for `torchvision`). */
#ifndef ACL_TRAIN_WEIGHTS_H
#define ACL_TRAIN_WEIGHTS_H

#include "net/net.h"

acl_status acl_weights_save(const struct acl_net *net, const float *params, const char *path);
struct acl_weights_meta;
/* The same with what meta.h describes in the file's metadata (meta NULL: none). */
acl_status acl_weights_save_meta(const struct acl_net *net, const float *params, const char *path,
                                 const struct acl_weights_meta *meta);

/* Fills params from path. Every tensor of the net must be there with its shape, except that when only the
 * last layer's shapes differ (another number of classes) and allow_new_head is set, that layer is left as
 * params holds it (re-initialized by the caller) and *new_head is set. */
acl_status acl_weights_load(const struct acl_net *net, const char *path, int allow_new_head, float *params,
                            int *new_head);

/* The net of a model argument (preset or description) with as many classes as the weights file's last layer
 * has outputs. */
acl_status acl_weights_net(const char *model, const char *path, struct acl_net **net);

/* The net that the weights at path hold, with as many classes as its last layer's bias has outputs: from model
 * (a preset name or a description file) when it is not NULL, else from the description in m. Without either,
 * ACL_ERR_ARGUMENT asking for --model. */
acl_status acl_weights_meta_net(const char *model, const char *path, const struct acl_weights_meta *m,
                                struct acl_net **net);
/* Everything a weights file gives: its metadata, its net (acl_weights_meta_net, model may be NULL) and its parameters
 * (malloc'd, *params). On failure nothing is left to free. */
acl_status acl_weights_open_model(const char *path, const char *model, struct acl_weights_meta *m,
                                  struct acl_net **net, float **params);

#endif
