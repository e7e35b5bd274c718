/* placement.c: splits every layer's output channels between two devices and lists the transfers a step
 * needs (the rules are in placement.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parallel/placement.h"
#include "runtime/error.h"

static int is_weight(const struct acl_layer *l) { return l->kind == ACL_CONV || l->kind == ACL_FC; }

/* A grouped conv that reads only its own device's channels: its split is fixed by its groups. */
static int own_groups(const struct acl_layer *l) { return l->kind == ACL_CONV && !l->cross && l->groups > 1; }

/* Groups device 0 holds in a cross=0 grouped conv. */
static int groups_on_dev0(const struct acl_layer *l, double f)
{
    long g0 = lround(f * l->groups);
    return (int)(g0 < 1 ? 1 : g0 > l->groups - 1 ? l->groups - 1 : g0);
}

/* f of width rounded to a multiple of align, each side keeping at least one multiple. */
static int round_split(double f, int width, int align)
{
    long s = lround(f * width / align) * align;
    if (s < align)
        s = align;
    if (s > width - align)
        s = width - align;
    return (int)s;
}

acl_status acl_placement_plan(const struct acl_net *net, double split, struct acl_placement *out)
{
    acl_status st = ACL_OK;
    memset(out, 0, sizeof *out);
    if (!(split > 0 && split < 1))
        return acl_fail(ACL_ERR_ARGUMENT, "split %g: wants device 0's share, a number between 0 and 1 (exclusive)",
                        split);
    int n = net->n_layers;
    struct acl_layer_place *pl = calloc((size_t)(n > 0 ? n : 1), sizeof *pl);
    int *s = calloc((size_t)(n > 0 ? n : 1), sizeof *s); /* weight layers: device 1's first channel */
    if (!pl || !s) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    /* Each weight layer's own wish. */
    for (int i = 0; i < n; i++) {
        const struct acl_layer *l = &net->layers[i];
        if (!is_weight(l))
            continue;
        if (i == n - 1)
            s[i] = l->out_c; /* the logits stay whole on device 0 */
        else if (own_groups(l))
            s[i] = groups_on_dev0(l, split) * (l->out_c / l->groups);
        else if (l->out_c >= 2 * ACL_CHANNEL_ALIGN)
            s[i] = round_split(split, l->out_c, ACL_CHANNEL_ALIGN);
        else if (l->out_c >= 2)
            s[i] = round_split(split, l->out_c, 1);
        else {
            st = acl_fail(ACL_ERR_ARGUMENT, "%s (line %d) has one output channel: it cannot be split across two "
                          "devices", l->name, l->line);
            goto cleanup;
        }
    }
    /* A cross=0 grouped conv fixes where its input is split, hence the split of the layer feeding it. */
    for (int i = 0; i < n; i++) {
        const struct acl_layer *l = &net->layers[i];
        if (!is_weight(l) || !own_groups(l))
            continue;
        int p = i - 1;
        while (p >= 0 && !is_weight(&net->layers[p]))
            p--;
        if (p < 0)
            continue; /* it reads the network input, which both devices hold */
        const struct acl_layer *prod = &net->layers[p];
        int need = groups_on_dev0(l, split) * (l->in_c / l->groups);
        if (own_groups(prod) && s[p] != need) {
            st = acl_fail(ACL_ERR_ARGUMENT, "%s (line %d) puts its groups' split at channel %d, but %s (line %d) "
                          "reads only its own device's channels and needs its input split at channel %d: give one "
                          "of them cross=1, or groups that split at the same channel", prod->name, prod->line, s[p],
                          l->name, l->line, need);
            goto cleanup;
        }
        s[p] = need;
    }
    int seen_weight = 0;
    for (int i = 0; i < n; i++) {
        const struct acl_layer *l = &net->layers[i];
        if (is_weight(l)) {
            seen_weight = 1;
            pl[i].cross = l->cross;
            pl[i].dev[0] = (struct acl_range){0, s[i]};
            pl[i].dev[1] = (struct acl_range){s[i], l->out_c};
        } else if (!seen_weight) {
            pl[i].replicated = 1;
            pl[i].dev[0] = pl[i].dev[1] = (struct acl_range){0, l->out_c};
        } else {
            pl[i].dev[0] = pl[i - 1].dev[0]; /* channel-wise layers keep their input's channels */
            pl[i].dev[1] = pl[i - 1].dev[1];
        }
    }
    out->split = split;
    out->n_layers = n;
    out->layers = pl;
    pl = NULL;
cleanup:
    free(pl);
    free(s);
    return st;
}

void acl_placement_free(struct acl_placement *p)
{
    if (!p)
        return;
    free(p->layers);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- transfers */

struct xfer_list {
    struct acl_transfer *t;
    int n, cap;
};

static acl_status push(struct xfer_list *x, const struct acl_layer *l, enum acl_pass pass, enum acl_xfer_kind kind,
                       int layer, int from, int to, struct acl_range ch)
{
    if (acl_range_size(ch) <= 0)
        return ACL_OK;
    if (x->n == x->cap) {
        int cap = x->cap ? 2 * x->cap : 16;
        struct acl_transfer *grown = realloc(x->t, (size_t)cap * sizeof *grown);
        if (!grown)
            return acl_fail(ACL_ERR_MEMORY, "out of host memory");
        x->t = grown;
        x->cap = cap;
    }
    x->t[x->n++] = (struct acl_transfer){pass, kind, layer, from, to, ch,
                                         (size_t)acl_range_size(ch) * l->in_h * l->in_w * sizeof(float)};
    return ACL_OK;
}

/* The transfers into layer i in one pass. */
static acl_status layer_transfers(struct xfer_list *x, const struct acl_net *net, const struct acl_placement *p,
                                  int i, enum acl_pass pass)
{
    acl_status st = ACL_OK;
    const struct acl_layer *l = &net->layers[i];
    const struct acl_layer_place *me = &p->layers[i];
    /* The network input, and what is computed whole from it, is on both devices: nothing to move, and no
     * gradient flows back into it. */
    if (me->replicated || i == 0 || p->layers[i - 1].replicated)
        return ACL_OK;
    const struct acl_layer_place *in = &p->layers[i - 1];
    int fwd = pass == ACL_PASS_FORWARD;
    if (is_weight(l) && me->cross) {
        /* Forward, device d receives the other's input channels; backward, it returns the gradient of them. */
        for (int d = 0; d < 2; d++)
            if (acl_range_size(me->dev[d]) > 0)
                ACL_TRY(push(x, l, pass, fwd ? ACL_XFER_INPUT : ACL_XFER_INPUT_GRAD, i, fwd ? 1 - d : d,
                             fwd ? d : 1 - d, in->dev[1 - d]));
    } else if (l->kind == ACL_LRN && acl_range_size(in->dev[0]) > 0 && acl_range_size(in->dev[1]) > 0) {
        /* size - 1 channels past the split each way, both passes (split.h says why twice the window's reach). */
        int reach = l->size - 1;
        int s = in->dev[0].end;
        struct acl_range lo = {s - reach < in->dev[0].begin ? in->dev[0].begin : s - reach, s};
        struct acl_range hi = {s, s + reach > in->dev[1].end ? in->dev[1].end : s + reach};
        enum acl_xfer_kind k = fwd ? ACL_XFER_LRN_HALO : ACL_XFER_LRN_HALO_GRAD;
        ACL_TRY(push(x, l, pass, k, i, 0, 1, lo));
        ACL_TRY(push(x, l, pass, k, i, 1, 0, hi));
    }
cleanup:
    return st;
}

acl_status acl_placement_transfers(const struct acl_net *net, const struct acl_placement *p,
                                   struct acl_transfer **list, int *count)
{
    acl_status st = ACL_OK;
    struct xfer_list x = {0};
    *list = NULL;
    *count = 0;
    if (p->n_layers != net->n_layers)
        return acl_fail(ACL_ERR_ARGUMENT, "the placement has %d layers but the net %s has %d: plan it for this net",
                        p->n_layers, net->name, net->n_layers);
    for (int i = 0; i < net->n_layers; i++)
        ACL_TRY(layer_transfers(&x, net, p, i, ACL_PASS_FORWARD));
    for (int i = net->n_layers - 1; i >= 0; i--)
        ACL_TRY(layer_transfers(&x, net, p, i, ACL_PASS_BACKWARD));
    *list = x.t;
    *count = x.n;
    x.t = NULL;
cleanup:
    free(x.t);
    return st;
}

void acl_transfer_totals(const struct acl_transfer *list, int count, int batch, struct acl_transfer_totals *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < count; i++) {
        size_t b = list[i].bytes_per_image * (size_t)batch;
        if (list[i].pass == ACL_PASS_FORWARD)
            out->forward += b;
        else
            out->backward += b;
    }
    out->total = out->forward + out->backward;
}

const char *acl_xfer_kind_name(enum acl_xfer_kind kind)
{
    switch (kind) {
    case ACL_XFER_INPUT:
        return "input";
    case ACL_XFER_INPUT_GRAD:
        return "input gradient";
    case ACL_XFER_LRN_HALO:
        return "lrn halo";
    case ACL_XFER_LRN_HALO_GRAD:
        return "lrn halo gradient";
    }
    return "?";
}
