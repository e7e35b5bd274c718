/* runner.c: one device or two, from the command's options (runner.h). */
#include "parallel/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parallel/devlist.h"
#include "runtime/device.h"
#include "runtime/engine.h"
#include "runtime/error.h"

acl_status acl_runner_open(struct acl_runner *r, const char *device, const char *devices, const char *split,
                           int verbose)
{
    acl_engine_options opt = {.device = device, .verbose = verbose};
    return acl_runner_open_with(r, &opt, devices, split);
}

acl_status acl_runner_open_with(struct acl_runner *r, const acl_engine_options *options, const char *devices,
                                const char *split)
{
    acl_status st = ACL_OK;
    acl_engine_options opt = *options;
    const char *device = opt.device;
    int verbose = opt.verbose;
    struct acl_device_ref *devs = NULL;
    struct acl_devlist_entry *names = NULL;
    size_t n = 0;
    memset(r, 0, sizeof *r);
    r->verbose = verbose;
    r->split = 0.5;
    if (devices && device)
        return acl_fail(ACL_ERR_ARGUMENT, "--device %s and --devices %s: give one device with --device, or two "
                        "with --devices", device, devices);
    if (split && !devices)
        return acl_fail(ACL_ERR_ARGUMENT, "--split %s needs two devices: add --devices A,B", split);
    if (!devices)
        return acl_engine_create(&opt, &r->engine);
    if (split)
        ACL_TRY(acl_split_parse(split, &r->split, &r->split_auto));
    ACL_TRY(acl_enumerate(&devs, &n));
    names = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = (struct acl_devlist_entry){devs[i].info.name, devs[i].info.platform};
    int idx[2];
    ACL_TRY(acl_devlist_parse(devices, names, n, idx));
    const char *mode = getenv("ACL_PAIR");
    opt.device = NULL;
    ACL_TRY(acl_pair_init(&r->pair, &devs[idx[0]], &devs[idx[1]],
                          mode && !strcmp(mode, "separate") ? ACL_PAIR_SEPARATE : ACL_PAIR_AUTO, &opt, r->startup));
    r->two = 1;
    if (verbose)
        fprintf(stderr, "two devices: %d (%s) and %d (%s), %s\n", devs[idx[0]].info.index, devs[idx[0]].info.name,
                devs[idx[1]].info.index, devs[idx[1]].info.name,
                r->pair.shared ? "one shared context" : "separate contexts (copies staged through host memory)");
cleanup:
    free(devs);
    free(names);
    return st;
}

void acl_runner_close(struct acl_runner *r)
{
    if (r->engine)
        acl_engine_destroy(r->engine);
    if (r->two)
        acl_pair_release(&r->pair);
    memset(r, 0, sizeof *r);
}

struct acl_ctx *acl_runner_ctx(struct acl_runner *r) { return r->two ? &r->pair.dev[0] : acl_engine_ctx(r->engine); }

double acl_split_from_times(double t0, double t1)
{
    /* shares proportional to speed: f / t0 = (1 - f) / t1 */
    double f = t0 > 0 && t1 > 0 ? t1 / (t0 + t1) : 0.5;
    return f < 0.05 ? 0.05 : f > 0.95 ? 0.95 : f;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The median of three training steps of net at a small batch on one device, after one to warm up. */
static acl_status time_device(struct acl_ctx *c, const struct acl_net *net, int batch, double *seconds)
{
    acl_status st = ACL_OK;
    struct acl_model *m = NULL;
    size_t per = (size_t)net->in_c * net->in_h * net->in_w;
    float *x = calloc((size_t)batch * per, sizeof *x), *w = calloc(net->param_count, sizeof *w);
    int *labels = calloc((size_t)batch, sizeof *labels);
    double t[4];
    if (!x || !w || !labels) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    acl_net_init_params(net, w, ACL_INIT_HE, 1);
    for (size_t i = 0; i < (size_t)batch * per; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    ACL_TRY(acl_model_create(c, net, batch, 1, &m));
    ACL_TRY(acl_model_write_params(m, w));
    ACL_TRY(acl_model_input(m, x, labels, batch));
    for (int k = 0; k < 4; k++) {
        double t0 = now_s();
        ACL_TRY(acl_model_forward(m, 1, 1, (uint64_t)k));
        ACL_TRY(acl_model_backward(m, 1, (uint64_t)k));
        ACL_TRY(acl_model_update(m, 0.0f, 0.0f, 0.0f));
        ACL_TRY(acl_finish(c));
        t[k] = now_s() - t0;
    }
    double a = t[1], b = t[2], d = t[3];
    *seconds = a > b ? (b > d ? b : a > d ? d : a) : (a > d ? a : b > d ? d : b);
cleanup:
    acl_model_destroy(m);
    free(x);
    free(w);
    free(labels);
    return st;
}

acl_status acl_runner_model(struct acl_runner *r, const struct acl_net *net, int batch, int training,
                            struct acl_model **out)
{
    acl_status st = ACL_OK;
    if (!r->two)
        return acl_model_create(acl_engine_ctx(r->engine), net, batch, training, out);
    if (r->split_auto) {
        double t[2];
        int small = batch < 8 ? batch : 8;
        for (int d = 0; d < 2; d++) {
            st = time_device(&r->pair.dev[d], net, small, &t[d]);
            if (st != ACL_OK)
                return acl_fail_context(st, "--split auto: timing %s on device %d (%s)", net->name,
                                        r->pair.dev[d].dev.info.index, r->pair.dev[d].dev.info.name);
        }
        r->split = acl_split_from_times(t[0], t[1]);
        r->split_auto = 0;
        fprintf(stderr, "--split auto: a step of %s at batch %d took %.1f ms on device %d and %.1f ms on device "
                "%d: device %d takes %.2f of each layer\n", net->name, small, 1e3 * t[0],
                r->pair.dev[0].dev.info.index, 1e3 * t[1], r->pair.dev[1].dev.info.index,
                r->pair.dev[0].dev.info.index, r->split);
    }
    return acl_model_create_pair(&r->pair, net, r->split, batch, training, out);
}
