/* weights.c: parameters to and from safetensors (see weights.h). */
#include "train/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "io/safetensors.h"
#include "runtime/error.h"
#include "train/meta.h"

acl_status acl_weights_save(const struct acl_net *net, const float *params, const char *path)
{
    return acl_weights_save_meta(net, params, path, NULL);
}

acl_status acl_weights_save_meta(const struct acl_net *net, const float *params, const char *path,
                                 const struct acl_weights_meta *meta)
{
    char **extra = NULL;
    int n_extra = 0;
    if (meta) {
        acl_status st = acl_meta_encode(meta, &extra, &n_extra);
        if (st != ACL_OK)
            return st;
    }
    struct acl_st_tensor *t = calloc((size_t)net->n_tensors, sizeof *t);
    const char **kv = calloc(2 * (size_t)(3 + n_extra), sizeof *kv);
    if (!t || !kv) {
        free(t);
        free(kv);
        acl_meta_kv_free(extra, n_extra);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    }
    for (int i = 0; i < net->n_tensors; i++) {
        const struct acl_tensor_desc *d = &net->tensors[i];
        t[i].name = d->name;
        t[i].dtype = ACL_ST_F32;
        t[i].ndim = d->ndim;
        for (int k = 0; k < d->ndim; k++)
            t[i].shape[k] = d->dims[k];
        t[i].data = params + d->offset;
    }
    const char *base[] = {"format", "pt", "producer", "alexnet-cl " ACL_VERSION_STRING, "model", net->name};
    memcpy(kv, base, sizeof base);
    for (int i = 0; i < 2 * n_extra; i++)
        kv[6 + i] = extra[i];
    acl_status st = acl_st_write(path, t, net->n_tensors, kv, 3 + n_extra);
    free(t);
    free(kv);
    acl_meta_kv_free(extra, n_extra);
    return st;
}

static int same_shape(const struct acl_tensor_desc *d, const struct acl_st_info *info)
{
    if (info->ndim != d->ndim)
        return 0;
    for (int k = 0; k < d->ndim; k++)
        if (info->shape[k] != d->dims[k])
            return 0;
    return 1;
}

acl_status acl_weights_load(const struct acl_net *net, const char *path, int allow_new_head, float *params,
                            int *new_head)
{
    struct acl_st_file *f = NULL;
    acl_status st = acl_st_open(path, &f);
    if (st != ACL_OK)
        return st;
    *new_head = 0;
    const struct acl_layer *last = &net->layers[net->n_layers - 1];
    for (int i = 0; i < net->n_tensors && st == ACL_OK; i++) {
        const struct acl_tensor_desc *d = &net->tensors[i];
        struct acl_st_info info;
        st = acl_st_find(f, d->name, &info);
        if (st != ACL_OK) {
            st = acl_fail(ACL_ERR_FORMAT, "%s has no tensor %s: it holds weights of another model (use the --model "
                          "they were trained with)", path, d->name);
            break;
        }
        if (!same_shape(d, &info)) {
            if (allow_new_head && (i == last->weight || i == last->bias)) {
                *new_head = 1;
                continue;
            }
            st = acl_fail(ACL_ERR_FORMAT, "%s: tensor %s has another shape than the model's (%d dimensions, first "
                          "%lld; the model wants %d): weights of another model", path, d->name, info.ndim,
                          (long long)(info.ndim ? info.shape[0] : 1), d->dims[0]);
            break;
        }
        st = acl_st_read_f32(f, d->name, params + d->offset, d->count);
    }
    acl_st_close(f);
    return st;
}

acl_status acl_weights_net(const char *model, const char *path, struct acl_net **net)
{
    struct acl_net *probe = NULL;
    struct acl_st_file *f = NULL;
    struct acl_st_info info;
    *net = NULL;
    acl_status st = acl_net_load(model, 1, &probe);
    if (st != ACL_OK)
        return st;
    const char *bias = probe->tensors[probe->layers[probe->n_layers - 1].bias].name;
    st = acl_st_open(path, &f);
    if (st == ACL_OK && (st = acl_st_find(f, bias, &info)) != ACL_OK)
        st = acl_fail(ACL_ERR_FORMAT, "%s has no tensor %s: it holds weights of another model (give the --model "
                      "they were trained with)", path, bias);
    if (st == ACL_OK && (info.ndim != 1 || info.shape[0] < 1 || info.shape[0] > (1 << 20)))
        st = acl_fail(ACL_ERR_FORMAT, "%s: tensor %s is not a vector of class biases", path, bias);
    if (st == ACL_OK)
        st = acl_net_load(model, (int)info.shape[0], net);
    acl_st_close(f);
    acl_net_free(probe);
    return st;
}

/* ---- the net ----------------------------------------------------------------------------------- */

acl_status acl_weights_meta_net(const char *model, const char *path, const struct acl_weights_meta *m,
                                struct acl_net **net)
{
    *net = NULL;
    if (model)
        return acl_weights_net(model, path, net);
    if (!m->description)
        return acl_fail(ACL_ERR_ARGUMENT, "%s does not say which model it holds (no %s in its metadata: not written "
                        "by alexnet-cl train): give --model", path, "alexnet_cl.description");
    char source[4200];
    snprintf(source, sizeof source, "%s (its %s)", path, "alexnet_cl.description");
    struct acl_net *probe = NULL;
    struct acl_st_file *f = NULL;
    struct acl_st_info info;
    acl_status st = acl_net_parse(m->description, source, 1, &probe);
    if (st != ACL_OK)
        return st;
    const char *bias = probe->tensors[probe->layers[probe->n_layers - 1].bias].name;
    st = acl_st_open(path, &f);
    if (st == ACL_OK && (st = acl_st_find(f, bias, &info)) != ACL_OK)
        st = acl_fail(ACL_ERR_FORMAT, "%s has no tensor %s although its description names it", path, bias);
    if (st == ACL_OK && (info.ndim != 1 || info.shape[0] < 1 || info.shape[0] > ACL_MAX_CLASSES))
        st = acl_fail(ACL_ERR_FORMAT, "%s: tensor %s is not a vector of class biases", path, bias);
    if (st == ACL_OK)
        st = acl_net_parse(m->description, source, (int)info.shape[0], net);
    acl_st_close(f);
    acl_net_free(probe);
    return st;
}

acl_status acl_weights_open_model(const char *path, const char *model, struct acl_weights_meta *m,
                                  struct acl_net **net, float **params)
{
    *net = NULL;
    *params = NULL;
    acl_status st = acl_meta_read(path, m);
    if (st != ACL_OK)
        return st;
    int new_head = 0;
    ACL_TRY(acl_weights_meta_net(model, path, m, net));
    if (!(*params = malloc((*net)->param_count * sizeof **params))) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory for %zu parameters", (*net)->param_count);
        goto cleanup;
    }
    ACL_TRY(acl_weights_load(*net, path, 0, *params, &new_head));
cleanup:
    if (st != ACL_OK) {
        free(*params);
        *params = NULL;
        acl_net_free(*net);
        *net = NULL;
        acl_meta_free(m);
    }
    return st;
}

