/* netdesc.c: parses a plain-text network description (format in net.h) into an acl_net, checking every
 * layer against its input and laying out the parameter tensors. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "ops/pool_size.h"
#include "runtime/error.h"

#define MAX_LAYERS 256
#define MAX_KEYS 16

struct kv {
    char key[32];
    char value[96];
    int used;
};

struct line_ctx {
    const char *source;
    int line;
};

static const struct {
    const char *name;
    enum acl_layer_kind kind;
} kinds[] = {{"conv", ACL_CONV},       {"relu", ACL_RELU},       {"lrn", ACL_LRN}, {"maxpool", ACL_MAXPOOL},
             {"avgpool", ACL_AVGPOOL}, {"dropout", ACL_DROPOUT}, {"fc", ACL_FC}};

const char *acl_layer_kind_name(enum acl_layer_kind kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "?";
}

static acl_status line_fail(const struct line_ctx *lc, const char *fmt, const char *a, const char *b)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    return acl_fail(ACL_ERR_FORMAT, "%s:%d: %s", lc->source, lc->line, msg);
}

/* Splits "kind k=v k=v" into words; returns the number of key=value pairs or -1 on a malformed word. */
static int split(char *text, char **kind, struct kv *kv, const struct line_ctx *lc, acl_status *st)
{
    int n = 0;
    char *save = NULL;
    *kind = strtok_r(text, " \t\r", &save);
    for (char *w = strtok_r(NULL, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
        char *eq = strchr(w, '=');
        if (!eq || eq == w || !eq[1]) {
            *st = line_fail(lc, "\"%s\" is not key=value", w, NULL);
            return -1;
        }
        if (n == MAX_KEYS) {
            *st = line_fail(lc, "too many keys", NULL, NULL);
            return -1;
        }
        *eq = '\0';
        if (strlen(w) >= sizeof kv[n].key || strlen(eq + 1) >= sizeof kv[n].value) {
            *st = line_fail(lc, "key or value too long at \"%s\"", w, NULL);
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (!strcmp(kv[i].key, w)) {
                *st = line_fail(lc, "key \"%s\" given twice", w, NULL);
                return -1;
            }
        snprintf(kv[n].key, sizeof kv[n].key, "%s", w);
        snprintf(kv[n].value, sizeof kv[n].value, "%s", eq + 1);
        kv[n].used = 0;
        n++;
    }
    return n;
}

static struct kv *find(struct kv *kv, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(kv[i].key, key)) {
            kv[i].used = 1;
            return &kv[i];
        }
    return NULL;
}

static acl_status get_int(struct kv *kv, int n, const char *key, int dflt, int lo, int hi, int classes, int *out,
                          const struct line_ctx *lc)
{
    struct kv *e = find(kv, n, key);
    if (!e) {
        if (dflt == INT_MIN)
            return line_fail(lc, "missing %s=", key, NULL);
        *out = dflt;
        return ACL_OK;
    }
    if (classes > 0 && !strcmp(e->value, "classes")) {
        *out = classes;
        return ACL_OK;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(e->value, &end, 10);
    if (errno || *end || end == e->value || v < lo || v > hi) {
        char range[64];
        snprintf(range, sizeof range, "an integer from %d to %d", lo, hi);
        char what[140];
        snprintf(what, sizeof what, "%s=%s", key, e->value);
        return line_fail(lc, "%s: wants %s", what, range);
    }
    *out = (int)v;
    return ACL_OK;
}

static acl_status get_float(struct kv *kv, int n, const char *key, float dflt, double lo, double hi, float *out,
                            const struct line_ctx *lc)
{
    struct kv *e = find(kv, n, key);
    if (!e) {
        *out = dflt;
        return ACL_OK;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(e->value, &end);
    if (errno || *end || end == e->value || !isfinite(v) || v < lo || v > hi) {
        char what[140], range[80];
        snprintf(what, sizeof what, "%s=%s", key, e->value);
        snprintf(range, sizeof range, "a number from %g to %g", lo, hi);
        return line_fail(lc, "%s: wants %s", what, range);
    }
    *out = (float)v;
    return ACL_OK;
}

static acl_status add_tensor(struct acl_net *net, const char *prefix, const char *suffix, int ndim, const int *dims,
                             int *index)
{
    struct acl_tensor_desc *grown = realloc(net->tensors, (size_t)(net->n_tensors + 1) * sizeof *grown);
    if (!grown)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    net->tensors = grown;
    struct acl_tensor_desc *t = &net->tensors[net->n_tensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s.%s", prefix, suffix);
    for (int i = 0; i < net->n_tensors; i++)
        if (!strcmp(net->tensors[i].name, t->name))
            return acl_fail(ACL_ERR_FORMAT, "two layers have the tensor %s: give them different names", t->name);
    t->ndim = ndim;
    t->count = 1;
    for (int i = 0; i < ndim; i++) {
        t->dims[i] = dims[i];
        t->count *= (size_t)dims[i];
    }
    t->offset = net->param_count;
    net->param_count += t->count;
    *index = net->n_tensors++;
    return ACL_OK;
}

/* Fills a layer's geometry from its keys and its input, checking that it fits. */
static acl_status build_layer(struct acl_net *net, struct acl_layer *l, struct kv *kv, int nkv, const char *tensors,
                              const struct line_ctx *lc)
{
    acl_status st = ACL_OK;
    char num[32];
    l->out_c = l->in_c;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    l->weight = l->bias = -1;
    switch (l->kind) {
    case ACL_CONV:
        ACL_TRY(get_int(kv, nkv, "out", INT_MIN, 1, 1 << 16, net->classes, &l->out_c, lc));
        ACL_TRY(get_int(kv, nkv, "kernel", INT_MIN, 1, 64, 0, &l->kernel, lc));
        ACL_TRY(get_int(kv, nkv, "stride", 1, 1, 64, 0, &l->stride, lc));
        ACL_TRY(get_int(kv, nkv, "pad", 0, 0, 64, 0, &l->pad, lc));
        ACL_TRY(get_int(kv, nkv, "groups", 1, 1, 64, 0, &l->groups, lc));
        ACL_TRY(get_float(kv, nkv, "bias_init", 0, -1e3, 1e3, &l->bias_init, lc));
        if (l->in_c % l->groups || l->out_c % l->groups) {
            snprintf(num, sizeof num, "%d", l->groups);
            return line_fail(lc, "groups=%s must divide the input channels and out=", num, NULL);
        }
        if (l->in_h + 2 * l->pad < l->kernel || l->in_w + 2 * l->pad < l->kernel) {
            snprintf(num, sizeof num, "%dx%d", l->in_h, l->in_w);
            return line_fail(lc, "the kernel is larger than the padded input (%s)", num, NULL);
        }
        l->out_h = (l->in_h + 2 * l->pad - l->kernel) / l->stride + 1;
        l->out_w = (l->in_w + 2 * l->pad - l->kernel) / l->stride + 1;
        ACL_TRY(get_int(kv, nkv, "cross", l->groups > 1 ? 0 : 1, 0, 1, 0, &l->cross, lc));
        /* Reading only one's own channels equals the one-device layer only when the groups do not mix them. */
        if (!l->cross && l->groups < 2)
            return line_fail(lc, "cross=0 needs groups=2 or more: a layer that mixes all its input channels "
                             "must read both devices' channels (cross=1)", NULL, NULL);
        ACL_TRY(add_tensor(net, tensors, "weight", 4, (int[]){l->out_c, l->in_c / l->groups, l->kernel, l->kernel},
                           &l->weight));
        ACL_TRY(add_tensor(net, tensors, "bias", 1, (int[]){l->out_c}, &l->bias));
        break;
    case ACL_FC:
        ACL_TRY(get_int(kv, nkv, "out", INT_MIN, 1, 1 << 20, net->classes, &l->out_c, lc));
        ACL_TRY(get_float(kv, nkv, "bias_init", 0, -1e3, 1e3, &l->bias_init, lc));
        ACL_TRY(get_int(kv, nkv, "cross", 1, 0, 1, 0, &l->cross, lc));
        if (!l->cross)
            return line_fail(lc, "cross=0: an fc layer reads every input channel, so it must read both "
                             "devices' channels (cross=1)", NULL, NULL);
        l->out_h = l->out_w = 1;
        ACL_TRY(add_tensor(net, tensors, "weight", 2, (int[]){l->out_c, (int)acl_layer_in_size(l)}, &l->weight));
        ACL_TRY(add_tensor(net, tensors, "bias", 1, (int[]){l->out_c}, &l->bias));
        break;
    case ACL_LRN:
        ACL_TRY(get_int(kv, nkv, "size", 5, 1, 63, 0, &l->size, lc));
        ACL_TRY(get_float(kv, nkv, "alpha", 1e-4f, 0, 1e3, &l->alpha, lc));
        ACL_TRY(get_float(kv, nkv, "beta", 0.75f, 0, 1e3, &l->beta, lc));
        ACL_TRY(get_float(kv, nkv, "k", 2.0f, 1e-6, 1e6, &l->k, lc));
        break;
    case ACL_MAXPOOL:
        ACL_TRY(get_int(kv, nkv, "size", 3, 1, 64, 0, &l->kernel, lc));
        ACL_TRY(get_int(kv, nkv, "stride", 2, 1, 64, 0, &l->stride, lc));
        ACL_TRY(get_int(kv, nkv, "pad", 0, 0, 63, 0, &l->pad, lc));
        ACL_TRY(get_int(kv, nkv, "ceil", 0, 0, 1, 0, &l->ceil_mode, lc));
        if (l->pad >= l->kernel)
            return line_fail(lc, "pad must be smaller than size", NULL, NULL);
        l->out_h = pool_out_size(l->in_h, l->kernel, l->stride, l->pad, l->ceil_mode);
        l->out_w = pool_out_size(l->in_w, l->kernel, l->stride, l->pad, l->ceil_mode);
        break;
    case ACL_AVGPOOL:
        ACL_TRY(get_int(kv, nkv, "out", INT_MIN, 1, 4096, 0, &l->out_h, lc));
        l->out_w = l->out_h;
        /* Only the case the presets meet: the input already has the output size, so the pool is the
         * identity (torchvision's AlexNet at 224 px). */
        if (l->in_h != l->out_h || l->in_w != l->out_w) {
            snprintf(num, sizeof num, "%dx%d", l->in_h, l->in_w);
            return line_fail(lc, "avgpool to a size other than its input (%s) is not supported yet: use an input "
                             "size that gives it directly", num, NULL);
        }
        break;
    case ACL_DROPOUT:
        ACL_TRY(get_float(kv, nkv, "p", 0.5f, 0, 0.99, &l->p, lc));
        break;
    case ACL_RELU:
        break;
    }
    if (l->out_h < 1 || l->out_w < 1)
        return line_fail(lc, "the layer's output would be empty", NULL, NULL);
    if ((double)l->out_c * l->out_h * l->out_w > INT_MAX / 4)
        return line_fail(lc, "the layer's output is too large", NULL, NULL);
cleanup:
    return st;
}

static acl_status parse_input(struct acl_net *net, struct kv *kv, int nkv, const struct line_ctx *lc)
{
    acl_status st = ACL_OK;
    int size = 0;
    ACL_TRY(get_int(kv, nkv, "channels", 3, 1, 4096, 0, &net->in_c, lc));
    ACL_TRY(get_int(kv, nkv, "size", 0, 1, 16384, 0, &size, lc));
    ACL_TRY(get_int(kv, nkv, "height", size ? size : INT_MIN, 1, 16384, 0, &net->in_h, lc));
    ACL_TRY(get_int(kv, nkv, "width", size ? size : INT_MIN, 1, 16384, 0, &net->in_w, lc));
    /* The same bound as every layer's output: element counts and byte offsets of a batch stay in int range. */
    if ((double)net->in_c * net->in_h * net->in_w > INT_MAX / 4)
        return line_fail(lc, "the input is too large (channels x height x width over 2^29)", NULL, NULL);
    struct kv *name = find(kv, nkv, "name");
    if (name)
        snprintf(net->name, sizeof net->name, "%s", name->value);
cleanup:
    return st;
}

static acl_status parse_line(struct acl_net *net, char *text, struct line_ctx *lc, int *have_input)
{
    acl_status st = ACL_OK;
    struct kv kv[MAX_KEYS];
    char *kind = NULL;
    int nkv = split(text, &kind, kv, lc, &st);
    if (nkv < 0)
        return st;
    if (!kind)
        return ACL_OK;
    if (!strcmp(kind, "input")) {
        if (*have_input)
            return line_fail(lc, "a second input line", NULL, NULL);
        *have_input = 1;
        ACL_TRY(parse_input(net, kv, nkv, lc));
    } else {
        int k = -1;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (!strcmp(kind, kinds[i].name))
                k = (int)i;
        if (k < 0)
            return line_fail(lc, "unknown layer kind \"%s\" (known: input conv relu lrn maxpool avgpool dropout fc)",
                             kind, NULL);
        if (!*have_input)
            return line_fail(lc, "the first layer line must be `input channels=.. height=.. width=..`", NULL, NULL);
        if (net->n_layers == MAX_LAYERS)
            return line_fail(lc, "too many layers", NULL, NULL);
        struct acl_layer *l = &net->layers[net->n_layers];
        memset(l, 0, sizeof *l);
        l->kind = kinds[k].kind;
        l->line = lc->line;
        const struct acl_layer *prev = net->n_layers ? &net->layers[net->n_layers - 1] : NULL;
        l->in_c = prev ? prev->out_c : net->in_c;
        l->in_h = prev ? prev->out_h : net->in_h;
        l->in_w = prev ? prev->out_w : net->in_w;
        struct kv *name = find(kv, nkv, "name"), *tensors = find(kv, nkv, "tensors");
        if (name)
            snprintf(l->name, sizeof l->name, "%s", name->value);
        else
            snprintf(l->name, sizeof l->name, "%s%d", kinds[k].name, net->n_layers);
        ACL_TRY(build_layer(net, l, kv, nkv, tensors ? tensors->value : l->name, lc));
        net->n_layers++;
    }
    for (int i = 0; i < nkv; i++)
        if (!kv[i].used)
            return line_fail(lc, "unknown key \"%s\" for %s", kv[i].key, kind);
cleanup:
    return st;
}

acl_status acl_net_parse(const char *text, const char *source, int classes, struct acl_net **out)
{
    acl_status st = ACL_OK;
    struct line_ctx lc = {source, 0};
    int have_input = 0;
    char *copy = strdup(text ? text : "");
    struct acl_net *net = calloc(1, sizeof *net);
    *out = NULL;
    if (!copy || !net || !(net->layers = calloc(MAX_LAYERS, sizeof *net->layers))) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    snprintf(net->name, sizeof net->name, "%s", source);
    net->classes = classes;
    char *save = NULL;
    for (char *p = copy, *end; p; p = end ? end + 1 : NULL) {
        end = strchr(p, '\n');
        if (end)
            *end = '\0';
        lc.line++;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        ACL_TRY(parse_line(net, p, &lc, &have_input));
    }
    (void)save;
    if (!have_input || net->n_layers == 0) {
        st = acl_fail(ACL_ERR_FORMAT, "%s: no layers (a description needs an input line and at least one layer)",
                      source);
        goto cleanup;
    }
    const struct acl_layer *last = &net->layers[net->n_layers - 1];
    if (last->kind != ACL_FC || (classes > 0 && last->out_c != classes)) {
        st = acl_fail(ACL_ERR_FORMAT, "%s:%d: the last layer must be fc out=classes (the loss reads one logit per "
                      "class)", source, last->line);
        goto cleanup;
    }
    net->classes = last->out_c;
    *out = net;
    net = NULL;
cleanup:
    free(copy);
    acl_net_free(net);
    return st;
}

void acl_net_free(struct acl_net *net)
{
    if (!net)
        return;
    free(net->layers);
    free(net->tensors);
    free(net);
}

acl_status acl_net_load(const char *model, int classes, struct acl_net **out)
{
    if (acl_net_preset_text(model))
        return acl_net_preset(model, classes, out);
    FILE *f = fopen(model, "rb");
    if (!f)
        return acl_fail(ACL_ERR_IO, "cannot open net description %s: %s (presets: paper, torchvision, mini)", model,
                        strerror(errno));
    char *text = malloc(1 << 20);
    size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    int big = text && n == (1 << 20) - 1;
    fclose(f);
    if (!text)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    if (big) {
        free(text);
        return acl_fail(ACL_ERR_FORMAT, "%s: larger than 1 MiB: not a net description", model);
    }
    text[n] = '\0';
    if (memchr(text, '\0', n)) {
        free(text);
        return acl_fail(ACL_ERR_FORMAT, "%s: contains NUL bytes: not a net description", model);
    }
    acl_status st = acl_net_parse(text, model, classes, out);
    free(text);
    return st;
}
