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

#endif
