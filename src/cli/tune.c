/* tune.c: `alexnet-cl tune`: searches the tuning table for a model's layer shapes on one device, every
 * candidate verified against the host references, and stores the winners where training and inference
 * read them at start-up (runtime/tune.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "net/model.h"
#include "net/net.h"
#include "net/shapes.h"
#include "ops/autotune.h"
#include "ops/sgemm.h"
#include "runtime/ctx.h"
#include "runtime/error.h"

static void usage(void)
{
    printf("usage: alexnet-cl tune [--device N|NAME] [--model paper|torchvision|mini|FILE] [--batch N]\n"
           "                       [--budget SECONDS] [-v]\n\n"
           "Searches the engine's kernel parameters (CONV_PX, CONV_PX_FEW and the direct convolution's\n"
           "work-group, LRN_VEC, MAXPOOL_VEC; for the fully connected layers, the own SGEMM's tiles where it serves\n"
           "them (CPUs), else CLBlast's Xgemm parameters (GPUs, or ACL_GEMM=clblast))\n"
           "for the layer shapes the model uses at that batch,\n"
           "checks every candidate against the host reference before timing it (OpenCL profiling, median\n"
           "of 3), and writes the winners to tune-<hash>.txt in the cache folder ($ACL_CACHE_DIR or\n"
           "~/.cache/alexnet-cl). Every later run on that device, driver and engine version builds its\n"
           "kernels with them and hands CLBlast the Xgemm set (ACL_TUNE=0 ignores the file).\n"
           "  --device  an index from `alexnet-cl devices` or a part of a device name (default 0)\n"
           "  --model   the layer shapes to tune for (default mini)\n"
           "  --batch   images per batch (default 128)\n"
           "  --budget  seconds for the search after the defaults' baseline (default 120)\n"
           "  -v        each candidate's time, and why each rejected candidate was\n");
}

/* How the fully connected layers run decides what there is to tune for them. */
enum fc_route { FC_AS_CONV, FC_CLBLAST, FC_OWN_SGEMM };

static int add_cases(const struct acl_net *net, int batch, enum fc_route fc, struct tune_case *cases, int max)
{
    int n = 0;
    for (int i = 0; i < net->n_layers && n < max; i++) {
        const struct acl_layer *l = &net->layers[i];
        struct tune_case *tc = &cases[n];
        memset(tc, 0, sizeof *tc);
        snprintf(tc->name, sizeof tc->name, "%s", l->name);
        if (l->kind == ACL_CONV)
            tc->kind = TUNE_CONV, tc->conv = acl_conv_shape(l, batch);
        else if (l->kind == ACL_FC && fc == FC_AS_CONV)
            tc->kind = TUNE_CONV, tc->conv = acl_fc_conv_shape(l, batch);
        else if (l->kind == ACL_FC && fc == FC_CLBLAST)
            tc->kind = TUNE_FC, tc->fc = acl_fc_shape(l, batch);
        else if (l->kind == ACL_FC && fc == FC_OWN_SGEMM)
            tc->kind = TUNE_SGEMM, tc->fc = acl_fc_shape(l, batch);
        else if (l->kind == ACL_LRN)
            tc->kind = TUNE_LRN, tc->lrn = acl_lrn_shape(l, batch);
        else if (l->kind == ACL_MAXPOOL)
            tc->kind = TUNE_POOL, tc->pool = acl_pool_shape(l, batch);
        else
            continue;
        n++;
    }
    return n;
}

static const char *kind_kernel(enum tune_kind k)
{
    return k == TUNE_CONV    ? "conv_direct_forward"
           : k == TUNE_LRN   ? "lrn fwd+bwd"
           : k == TUNE_POOL  ? "maxpool fwd+bwd"
           : k == TUNE_SGEMM ? "fc fwd+bwd (sgemm)"
                             : "fc fwd+bwd (CLBlast)";
}

static void params_of(enum tune_kind k, const struct acl_tune *t, char *buf, size_t size)
{
    if (k == TUNE_CONV)
        snprintf(buf, size, "CONV_PX=%d CONV_PX_FEW=%d local=%d", t->conv_px, t->conv_px_few, t->conv_local);
    else if (k == TUNE_LRN)
        snprintf(buf, size, "LRN_VEC=%d", t->lrn_vec);
    else if (k == TUNE_POOL)
        snprintf(buf, size, "MAXPOOL_VEC=%d", t->maxpool_vec);
    else if (k == TUNE_SGEMM)
        snprintf(buf, size, "SG_VW=%d SG_TM=%d SG_NN_TM=%d SG_DM=%d SG_DN=%d", t->sg_vw, t->sg_tm, t->sg_nn_tm,
                 t->sg_dm, t->sg_dn);
    else
        tune_xgemm_str(t, buf, size);
}

int cmd_tune(int argc, char **argv)
{
    acl_engine_options opt = {0};
    const char *model = "mini";
    long batch = 128, budget = 120;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        } else if (!strcmp(a, "-v")) {
            opt.verbose++;
        } else if (!strcmp(a, "--device") || !strcmp(a, "--model") || !strcmp(a, "--batch") ||
                   !strcmp(a, "--budget")) {
            if (i + 1 >= argc)
                return cli_usage_error("tune", "%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--device"))
                opt.device = v;
            else if (!strcmp(a, "--model"))
                model = v;
            else if (!strcmp(a, "--batch") && cli_parse_int("tune", a, v, 1, 65536, &batch))
                return EXIT_USAGE;
            else if (!strcmp(a, "--budget") && cli_parse_int("tune", a, v, 0, 86400, &budget))
                return EXIT_USAGE;
        } else {
            return cli_usage_error("tune", "unknown argument \"%s\"", a);
        }
    }
    int rc = cli_check_model("tune", model);
    if (rc)
        return rc;
    struct acl_net *net = NULL;
    struct acl_device_ref dev;
    struct acl_ctx ctx;
    acl_startup_stats stats;
    struct tune_case cases[64];
    struct tune_report rep;
    int ctx_up = 0;
    acl_status st = acl_net_load(model, strcmp(model, "mini") ? 1000 : 10, &net);
    if (st != ACL_OK)
        return cli_error(st, "loading the model");
    rc = 1;
    if ((st = acl_select_device(opt.device, &dev)) != ACL_OK) {
        rc = cli_error(st, "choosing the device");
        goto done;
    }
    /* The search starts from the defaults, not from a table already stored. */
    if ((st = acl_ctx_init_tuned(&ctx, &dev, NULL, &opt, NULL, &stats)) != ACL_OK) {
        rc = cli_error(st, "starting the device");
        goto done;
    }
    ctx_up = 1;
    /* Where the own SGEMM serves the fully connected layers, its tiles are tuned; CLBlast's Xgemm parameters
     * would not reach it. */
    enum fc_route fc = !acl_fc_through_gemm(&ctx) ? FC_AS_CONV : acl_sgemm_preferred(&ctx) ? FC_OWN_SGEMM
                                                                                           : FC_CLBLAST;
    int n = add_cases(net, (int)batch, fc, cases, 64);
    printf("tuning %s at batch %ld on device %d (%s), budget %ld s\n", net->name, batch, dev.info.index,
           dev.info.name, budget);
    if (fc == FC_OWN_SGEMM)
        printf("fully connected layers run through the own SGEMM (cl/sgemm.cl): its tiles are tuned; "
               "ACL_GEMM=clblast tunes CLBlast's Xgemm for them instead\n");
    fflush(stdout);
    if ((st = acl_autotune(&ctx, cases, n, (double)budget, opt.verbose, &rep)) != ACL_OK) {
        rc = cli_error(st, "tuning");
        goto done;
    }
    printf("\n%-9s %-20s %-36s %11s %11s %8s  %s\n", "layer", "kernel", "shape", "default ms", "best ms",
           "speed-up", "parameters");
    double sum_def = 0, sum_best = 0;
    for (int i = 0; i < n; i++) {
        const struct tune_case *tc = &cases[i];
        char shape[96], params[128];
        if (tc->kind == TUNE_CONV)
            conv_shape_str(&tc->conv, shape, sizeof shape);
        else if (tc->kind == TUNE_LRN)
            snprintf(shape, sizeof shape, "N%d C%d %dx%d", tc->lrn.n, tc->lrn.c, tc->lrn.h, tc->lrn.w);
        else if (tc->kind == TUNE_FC || tc->kind == TUNE_SGEMM)
            snprintf(shape, sizeof shape, "N%d IN%d OUT%d", tc->fc.n, tc->fc.in, tc->fc.out);
        else
            snprintf(shape, sizeof shape, "N%d C%d %dx%d %d/%d", tc->pool.n, tc->pool.c, tc->pool.h, tc->pool.w,
                     tc->pool.size, tc->pool.stride);
        params_of(tc->kind, &rep.best, params, sizeof params);
        printf("%-9s %-20s %-36s %11.3f %11.3f %7.2fx  %s\n", tc->name, kind_kernel(tc->kind), shape,
               tc->default_ns * 1e-6, tc->best_ns * 1e-6, tc->best_ns > 0 ? tc->default_ns / tc->best_ns : 0.0,
               params);
        sum_def += tc->default_ns;
        sum_best += tc->best_ns;
    }
    printf("%-9s %-20s %-36s %11.3f %11.3f %7.2fx\n", "total", "", "", sum_def * 1e-6, sum_best * 1e-6,
           sum_best > 0 ? sum_def / sum_best : 0.0);
    printf("\n%d candidates tried, %d rejected by verification, %d left untried by the budget, %d winners not "
           "confirmed by a second side-by-side timing (the defaults kept), %.1f s\n", rep.tried, rep.rejected,
           rep.skipped, rep.unconfirmed, rep.seconds);
    char path[4200];
    acl_tune_path(ctx.cache_dir, &dev.info, path, sizeof path);
    if ((st = acl_tune_write(path, &dev.info, &rep.best)) != ACL_OK) {
        rc = cli_error(st, "writing the tuning table");
        goto done;
    }
    printf("tuning table written to %s\n", path);
    rc = 0;
done:
    if (ctx_up)
        acl_ctx_release(&ctx);
    acl_net_free(net);
    return rc;
}
