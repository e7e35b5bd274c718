/* case_model.c: a whole training step (forward, loss, backward, SGD update) of the network that --shapes names,
 * timed whole with profiling markers, then once more layer by layer (acl_model_profile: a finish after every
 * layer, so the host-side launch cost of each layer is in its time) to show where a step's time goes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cases.h"
#include "net/model.h"
#include "ops/check.h"
#include "runtime/error.h"

struct step_arg {
    struct acl_model *m;
    uint64_t step;
};

static acl_status enqueue_step(struct acl_ctx *c, void *arg)
{
    struct step_arg *a = arg;
    acl_status st = ACL_OK;
    (void)c;
    ACL_TRY(acl_model_forward(a->m, 1, 1, a->step));
    ACL_TRY(acl_model_backward(a->m, 1, a->step));
    ACL_TRY(acl_model_update(a->m, 0.001f, 0.9f, 5e-4f));
    a->step++;
cleanup:
    return st;
}

static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Multiply-adds of one image's forward pass through the convolutions and fully connected layers. */
static double forward_macs(const struct acl_net *net)
{
    double macs = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        if (l->kind == ACL_CONV)
            macs += (double)acl_layer_out_size(l) * (l->in_c / l->groups) * l->kernel * l->kernel;
        else if (l->kind == ACL_FC)
            macs += (double)acl_layer_in_size(l) * l->out_c;
    }
    return macs;
}

acl_status bench_case_model(struct acl_ctx *c, struct bench_report *r)
{
    const struct acl_net *net = r->net;
    if (!report_wants(r, "model.step"))
        return ACL_OK;
    /* A paper step at batch 32 (140 GFLOP) takes tens of seconds on a CPU: a step past 20 GFLOP runs only when
     * asked for by name. */
    if (6 * forward_macs(net) * r->batch > 20e9 && !(r->only && !strncmp(r->only, "model", 5)))
        return ACL_OK;
    struct step_arg a = {NULL, 0};
    float *host = NULL;
    int *labels = NULL;
    acl_status st = ACL_OK;
    size_t per = (size_t)net->in_c * net->in_h * net->in_w, n = (size_t)r->batch;
    size_t nf = net->param_count > n * per ? net->param_count : n * per;
    host = malloc(nf * sizeof *host);
    labels = malloc(n * sizeof *labels);
    if (!host || !labels) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    ACL_TRY(acl_model_create(c, net, r->batch, 1, &a.m));
    acl_net_init_params(net, host, ACL_INIT_HE, 1);
    ACL_TRY(acl_model_write_params(a.m, host));
    uint64_t seed = 7;
    acl_rand_fill(&seed, host, n * per, -1, 1);
    for (size_t i = 0; i < n; i++)
        labels[i] = (int)(i % (size_t)net->classes);
    ACL_TRY(acl_model_input(a.m, host, labels, r->batch));

    double macs = forward_macs(net) * (double)n;
    struct bench_item item = {"model.step", "", 6 * macs, 4.0 * 3 * (double)net->param_count, enqueue_step, &a, 0};
    snprintf(item.shape, sizeof item.shape, "%s N%d (fwd+bwd+sgd)", net->name, r->batch);
    struct bench_result res;
    ACL_TRY(bench_time(c, &item, r->warmup, r->reps, &res));
    report_row(r, &item, &res);
    /* Processor time of the same steps: on a machine shared with other work it varies far less than wall time. */
    double cpu0 = cpu_s(), wall0 = wall_s();
    for (int rep = 0; rep < r->reps; rep++)
        ACL_TRY(enqueue_step(c, &a));
    ACL_TRY(acl_finish(c));
    double cpu = (cpu_s() - cpu0) / r->reps, wall = (wall_s() - wall0) / r->reps;
    printf("%-26s %-34s %10.1f images/s (median); mean of %d more steps: %.1f ms wall, %.1f ms processor time\n",
           "", "", 1000.0 * (double)n / res.median_ms, r->reps, 1e3 * wall, 1e3 * cpu);

    /* Layer by layer: the mean over reps steps, host wall time with a finish after each layer. */
    ACL_TRY(acl_model_profile(a.m));
    wall0 = wall_s();
    for (int rep = 0; rep < r->reps; rep++)
        ACL_TRY(enqueue_step(c, &a));
    ACL_TRY(acl_finish(c));
    r->step_s = (wall_s() - wall0) / r->reps;
    double total = 0;
    for (int i = 0; i < 2 * net->n_layers; i++)
        total += a.m->profile[i];
    printf("\nper layer, %s N%d, mean of %d steps, ms (a finish after each layer):\n", net->name, r->batch, r->reps);
    printf("  %-4s %-10s %-18s %10s %10s %7s\n", "#", "layer", "output", "forward", "backward", "share");
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        double f = a.m->profile[i] / r->reps, b = a.m->profile[net->n_layers + i] / r->reps;
        r->kind_s[l->kind] += f + b;
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%dx%d", l->out_c, l->out_h, l->out_w);
        printf("  %-4d %-10s %-18s %10.2f %10.2f %6.1f%%\n", i, l->kind == ACL_CONV || l->kind == ACL_FC ? l->name
               : acl_layer_kind_name(l->kind), shape, 1e3 * f, 1e3 * b, total > 0 ? 100 * (a.m->profile[i] +
               a.m->profile[net->n_layers + i]) / total : 0);
    }
    printf("  layers %.2f ms per step (the rest of a step: loss, gradient zeroing, update)\n\n", 1e3 * total / r->reps);
cleanup:
    acl_model_destroy(a.m);
    free(host);
    free(labels);
    return st;
}
