/* bench.c: `alexnet-cl bench`: whole-model figures a user compares engines by: training and inference
 * images/s, planned device memory, peak host memory, and the time from nothing to the first training step
 * with an empty program cache and with a hot one. With --devices A,B, also device A alone against both and
 * the share of a step spent moving data between them. Kernel-level timings are bench/bench_kernels's. */
#define _XOPEN_SOURCE 700 /* nftw, to remove the temporary cache folders */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "net/model.h"
#include "net/net.h"
#include "parallel/runner.h"
#include "parallel/split.h"
#include "runtime/ctx.h"
#include "runtime/engine.h"
#include "runtime/error.h"

static const char usage_text[] =
    "usage: alexnet-cl bench [--model paper|torchvision|mini|FILE] [--batch N] [--steps N] [--classes N]\n"
    "                        [--device N|NAME | --devices A,B [--split X|auto]] [--no-cold] [--json] [-v]\n\n"
    "Times whole training steps (forward, backward, SGD update) and inference passes of a model on random\n"
    "data: the median of --steps timed steps after one untimed, as images/s. Also: the device memory the model\n"
    "plans, the host's peak resident memory, and the start-up to the first training step with an empty program\n"
    "cache (cold: a fresh folder for this engine's cache and, when POCL_CACHE_DIR is not set, for PoCL's) and\n"
    "with the cache hot (warm). With --devices A,B: device A alone and both, and the share of a two-device step\n"
    "spent copying between them. --json: the last line is one JSON object of every figure.\n\n"
    "  --model M      (default mini)       --batch N   (default 32)     --steps N  (default 5)\n"
    "  --classes N    (default 1000; 10 for mini)\n"
    "  --no-cold      skip the cold start (it compiles every kernel: tens of seconds on a CPU)\n";

struct args {
    const char *model, *device, *devices, *split;
    long batch, steps, classes;
    int json, verbose, no_cold;
};

static int parse(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        }
        int *flag = !strcmp(o, "--json") ? &a->json : !strcmp(o, "-v") ? &a->verbose
                  : !strcmp(o, "--no-cold") ? &a->no_cold : NULL;
        if (flag) {
            *flag = 1;
            continue;
        }
        const char **slot = !strcmp(o, "--model") ? &a->model : !strcmp(o, "--device") ? &a->device
                          : !strcmp(o, "--devices") ? &a->devices : !strcmp(o, "--split") ? &a->split : NULL;
        long *num = !strcmp(o, "--batch") ? &a->batch : !strcmp(o, "--steps") ? &a->steps
                  : !strcmp(o, "--classes") ? &a->classes : NULL;
        if (!slot && !num)
            return cli_usage_error("bench", "unknown argument \"%s\"", o);
        if (!v)
            return cli_usage_error("bench", "%s needs a value", o);
        if (slot)
            *slot = v;
        else if (cli_parse_int("bench", o, v, 1, num == &a->classes ? 100000 : 65536, num))
            return EXIT_USAGE;
        i++;
    }
    if (!a->classes)
        a->classes = !strcmp(a->model, "mini") ? 10 : 1000;
    return cli_check_model("bench", a->model) ? EXIT_USAGE : 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The random batch every measurement runs on, and the initial weights. */
struct data {
    float *images, *params;
    int *labels;
};

static acl_status make_data(const struct acl_net *net, int batch, struct data *d)
{
    size_t per = (size_t)net->in_c * net->in_h * net->in_w, n = (size_t)batch * per;
    d->images = malloc(n * sizeof *d->images);
    d->params = malloc(net->param_count * sizeof *d->params);
    d->labels = malloc((size_t)batch * sizeof *d->labels);
    if (!d->images || !d->params || !d->labels)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for a batch of %d", batch);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        d->images[i] = (float)((double)(x >> 40) / 16777216.0 - 0.5);
    }
    for (int i = 0; i < batch; i++)
        d->labels[i] = (int)((uint64_t)i * 2654435761u % (uint64_t)net->classes);
    acl_net_init_params(net, d->params, ACL_INIT_HE, 1);
    return ACL_OK;
}

static void free_data(struct data *d)
{
    free(d->images);
    free(d->params);
    free(d->labels);
}

/* One training step, waited for (reading the loss waits for every device's work). */
static acl_status train_step(struct acl_model *m, const struct data *d, int batch, uint64_t step)
{
    acl_status st = ACL_OK;
    float loss = 0;
    ACL_TRY(acl_model_input(m, d->images, d->labels, batch));
    ACL_TRY(acl_model_forward(m, 1, 1, step));
    ACL_TRY(acl_model_backward(m, 1, step));
    ACL_TRY(acl_model_update(m, 0.001f, 0.9f, 5e-4f));
    ACL_TRY(acl_model_results(m, &loss, NULL, NULL));
cleanup:
    return st;
}

struct timing {
    double train_ips, infer_ips;
    double moved_bytes, move_share; /* two devices: per step, and copy time / step time */
};

/* --steps timed training steps (after one untimed) and inference passes of a model made by make(). */
static acl_status time_model(struct acl_model *m, struct acl_model *inf, const struct data *d, int batch, int steps,
                             struct timing *t)
{
    acl_status st = ACL_OK;
    double *dt = calloc((size_t)steps, sizeof *dt), *share = calloc((size_t)steps, sizeof *share);
    double moved = 0;
    if (!dt || !share) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    ACL_TRY(acl_model_write_params(m, d->params));
    ACL_TRY(train_step(m, d, batch, 0));
    if (m->split)
        acl_split_timing(m->split, 1);
    for (int k = 0; k < steps; k++) {
        struct acl_split_stats s;
        if (m->split)
            ACL_TRY(acl_split_stats(m->split, &s)); /* start each step's counts from zero */
        double t0 = now_s();
        ACL_TRY(train_step(m, d, batch, (uint64_t)k + 1));
        dt[k] = now_s() - t0;
        if (m->split) {
            ACL_TRY(acl_split_stats(m->split, &s));
            moved = (double)s.moved.bytes;
            share[k] = s.moved.device_s / dt[k];
        }
    }
    t->train_ips = batch / median(dt, steps);
    t->moved_bytes = moved;
    t->move_share = m->split ? median(share, steps) : 0;
    if (inf) {
        ACL_TRY(acl_model_write_params(inf, d->params));
        ACL_TRY(acl_model_input(inf, d->images, NULL, batch));
        for (int k = -1; k < steps; k++) {
            double t0 = now_s();
            ACL_TRY(acl_model_forward(inf, 0, 0, 0));
            ACL_TRY(acl_finish(inf->c));
            if (inf->split)
                ACL_TRY(acl_pair_finish(inf->split->pair));
            if (k >= 0)
                dt[k] = now_s() - t0;
        }
        t->infer_ips = batch / median(dt, steps);
    }
cleanup:
    free(dt);
    free(share);
    return st;
}

/* ---- start-up: from nothing to the end of the first training step ---------------------------------- */

struct start {
    double ready_s, first_step_s; /* devices, kernels, model and weights ready; then the first step */
    acl_startup_stats programs;
};

/* Opens the devices with the cache folder (NULL: the default), makes the training model and runs one step;
 * the runner and model stay open for the caller. */
static acl_status start_up(const struct args *a, const char *cache_dir, const struct acl_net *net,
                           const struct data *d, struct acl_runner *run, struct acl_model **m, struct start *out)
{
    acl_status st = ACL_OK;
    acl_engine_options opt = {.device = a->device, .cache_dir = cache_dir, .verbose = a->verbose};
    double t0 = now_s();
    ACL_TRY(acl_runner_open_with(run, &opt, a->devices, a->split));
    ACL_TRY(acl_runner_model(run, net, (int)a->batch, 1, m));
    ACL_TRY(acl_model_write_params(*m, d->params));
    ACL_TRY(acl_finish(acl_runner_ctx(run)));
    out->ready_s = now_s() - t0;
    double t1 = now_s();
    ACL_TRY(train_step(*m, d, (int)a->batch, 0));
    out->first_step_s = now_s() - t1;
    out->programs = run->two ? run->startup[0] : run->engine->startup;
cleanup:
    return st;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void print_json(const struct args *a, const struct acl_net *net, const char *dev, const struct start *cold,
                       const struct start *warm, const struct timing *t, const struct timing *one, size_t device_bytes,
                       size_t host_bytes)
{
    printf("{\"model\": \"%s\", \"batch\": %ld, \"steps\": %ld, \"device\": \"%s\", \"devices\": %d, "
           "\"train_images_per_s\": %.4g, \"infer_images_per_s\": %.4g, \"peak_device_bytes\": %zu, "
           "\"peak_host_bytes\": %zu, ", net->name, a->batch, a->steps, dev, a->devices ? 2 : 1, t->train_ips,
           t->infer_ips, device_bytes, host_bytes);
    if (cold)
        printf("\"cold_start_s\": %.4g, \"cold_first_step_s\": %.4g, ", cold->ready_s,
               cold->ready_s + cold->first_step_s);
    else
        printf("\"cold_start_s\": null, ");
    printf("\"warm_start_s\": %.4g, \"warm_first_step_s\": %.4g", warm->ready_s, warm->ready_s + warm->first_step_s);
    if (one)
        printf(", \"one_device_train_images_per_s\": %.4g, \"one_device_infer_images_per_s\": %.4g, "
               "\"moved_bytes_per_step\": %.0f, \"move_share\": %.4g", one->train_ips, one->infer_ips,
               t->moved_bytes, t->move_share);
    printf("}\n");
}

int cmd_bench(int argc, char **argv)
{
    struct args a = {.model = "mini", .batch = 32, .steps = 5};
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    char tmp[] = "/tmp/alexnet-cl-bench-XXXXXX", acl_cache[64], pocl_cache[64];
    int have_tmp = 0;
    if (!a.no_cold) {
        /* Before any OpenCL call: PoCL reads POCL_CACHE_DIR when its platform starts. */
        if (!mkdtemp(tmp)) {
            fprintf(stderr, "alexnet-cl bench: cannot make a temporary folder in /tmp: %s\n", strerror(errno));
            return 1;
        }
        have_tmp = 1;
        snprintf(acl_cache, sizeof acl_cache, "%s/acl", tmp);
        snprintf(pocl_cache, sizeof pocl_cache, "%s/pocl", tmp);
        if (!getenv("POCL_CACHE_DIR"))
            setenv("POCL_CACHE_DIR", pocl_cache, 1);
    }
    struct acl_net *net = NULL;
    struct data d = {0};
    struct acl_runner run = {0}, cold_run = {0};
    struct acl_model *m = NULL, *inf = NULL, *m1 = NULL, *inf1 = NULL;
    struct start cold = {0}, warm = {0};
    struct timing t = {0}, one = {0};
    const char *what = "reading the model";
    acl_status st = acl_net_load(a.model, (int)a.classes, &net);
    if (st != ACL_OK)
        goto out;
    if ((st = make_data(net, (int)a.batch, &d)) != ACL_OK)
        goto out;
    if (!a.no_cold) {
        what = "starting with an empty program cache";
        st = start_up(&a, acl_cache, net, &d, &cold_run, &m, &cold);
        acl_model_destroy(m);
        m = NULL;
        acl_runner_close(&cold_run);
        if (st != ACL_OK)
            goto out;
    }
    what = "starting";
    if ((st = start_up(&a, a.no_cold ? NULL : acl_cache, net, &d, &run, &m, &warm)) != ACL_OK)
        goto out;
    what = "timing";
    if ((st = acl_runner_model(&run, net, (int)a.batch, 0, &inf)) != ACL_OK ||
        (st = time_model(m, inf, &d, (int)a.batch, (int)a.steps, &t)) != ACL_OK)
        goto out;
    if (run.two) {
        what = "timing device A alone";
        if ((st = acl_model_create(&run.pair.dev[0], net, (int)a.batch, 1, &m1)) != ACL_OK ||
            (st = acl_model_create(&run.pair.dev[0], net, (int)a.batch, 0, &inf1)) != ACL_OK ||
            (st = time_model(m1, inf1, &d, (int)a.batch, (int)a.steps, &one)) != ACL_OK)
            goto out;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    size_t host = (size_t)ru.ru_maxrss * 1024, dev_bytes = m->plan.total;
    char dev[300];
    if (run.two)
        snprintf(dev, sizeof dev, "%s + %s", run.pair.dev[0].dev.info.name, run.pair.dev[1].dev.info.name);
    else
        snprintf(dev, sizeof dev, "%s", acl_runner_ctx(&run)->dev.info.name);
    const double mib = 1048576.0;
    printf("model %s, batch %ld, %ld timed steps (median) on %s%s\n", net->name, a.batch, a.steps, dev,
           run.two ? " (two devices)" : "");
    printf("  training        %10.2f images/s\n", t.train_ips);
    printf("  inference       %10.2f images/s\n", t.infer_ips);
    if (run.two) {
        printf("  device A alone  %10.2f images/s training, %.2f inference: two devices are %.2fx\n", one.train_ips,
               one.infer_ips, t.train_ips / one.train_ips);
        printf("  moved per step  %10.2f MiB, copies busy %.1f%% of a step\n", t.moved_bytes / mib,
               100 * t.move_share);
    }
    printf("  device memory   %10.1f MiB planned for training%s\n", dev_bytes / mib, run.two ? " (both devices)" : "");
    printf("  host memory     %10.1f MiB peak resident\n", host / mib);
    if (!a.no_cold)
        printf("  cold start      %10.2f s to the first step (%d programs built), which took %.2f s more\n",
               cold.ready_s, cold.programs.programs, cold.first_step_s);
    printf("  warm start      %10.2f s to the first step (%d of %d programs from the cache), which took %.2f s more\n",
           warm.ready_s, warm.programs.cache_hits, warm.programs.programs, warm.first_step_s);
    if (a.json)
        print_json(&a, net, dev, a.no_cold ? NULL : &cold, &warm, &t, run.two ? &one : NULL, dev_bytes, host);
out:
    acl_model_destroy(m);
    acl_model_destroy(inf);
    acl_model_destroy(m1);
    acl_model_destroy(inf1);
    acl_runner_close(&run);
    acl_net_free(net);
    free_data(&d);
    if (have_tmp)
        nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (st != ACL_OK)
        return st == ACL_ERR_ARGUMENT ? cli_usage_error("bench", "%s", acl_last_error()) : cli_error(st, what);
    return 0;
}
