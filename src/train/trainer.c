/* trainer.c: the training loop (see trainer.h). */
#include "train/trainer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "net/model.h"
#include "parallel/runner.h"
#include "parallel/split.h"
#include "runtime/error.h"
#include "train/checkpoint.h"
#include "train/report.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

acl_status acl_evaluate(struct acl_model *m, const struct acl_source *src, int threads, double *top1, double *top5,
                        double *loss)
{
    struct acl_loader l;
    acl_status st = acl_loader_start(&l, src, m->batch, 0, 0, 0, 0, 0, threads);
    if (st != ACL_OK)
        return st;
    long c1 = 0, c5 = 0, seen = 0;
    double loss_sum = 0;
    for (;;) {
        const float *images = NULL;
        const int *labels = NULL;
        int n = 0;
        ACL_TRY(acl_loader_next(&l, &images, &labels, &n));
        if (n == 0)
            break;
        ACL_TRY(acl_model_input(m, images, labels, n));
        acl_loader_done(&l);
        ACL_TRY(acl_model_forward(m, 0, 0, 0));
        float bl = 0;
        int t1 = 0, t5 = 0;
        ACL_TRY(acl_model_results(m, &bl, &t1, &t5));
        c1 += t1;
        c5 += t5;
        loss_sum += (double)bl * n;
        seen += n;
    }
    *top1 = seen ? (double)c1 / (double)seen : 0;
    *top5 = seen ? (double)c5 / (double)seen : 0;
    if (loss)
        *loss = seen ? loss_sum / (double)seen : 0;
cleanup:
    acl_loader_stop(&l);
    return st;
}

struct run {
    struct acl_ctx *c;
    const struct acl_net *net;
    const char *model_text;
    const struct acl_train_config *cfg;
    struct acl_model *m;
    struct acl_ckpt_state state;
    float *host_params, *host_momentum;
    FILE *metrics;
    char ckpt_path[4096];
    int saved;              /* a checkpoint of this run is on disk, at saved_step */
    uint64_t saved_step, resumed_step;
    double t0, images, last_print;
    double eval_s;                   /* spent evaluating: not training, so not in images/s */
    double rate_t, rate_images, ips; /* the recent speed: images/s smoothed over about 30 s */
    uint64_t printed_step;
    int line_open;                   /* a terminal progress line waits for its newline */
};

static acl_status save_checkpoint(struct run *r)
{
    if (!r->cfg->out_dir)
        return ACL_OK;
    acl_status st = ACL_OK;
    ACL_TRY(acl_model_read_params(r->m, r->host_params));
    ACL_TRY(acl_model_read_momentum(r->m, r->host_momentum));
    ACL_TRY(acl_ckpt_write(r->ckpt_path, &r->state, r->model_text, r->host_params, r->host_momentum));
    r->saved = 1;
    r->saved_step = r->state.step;
    acl_report_during_run(r->cfg->out_dir, r->net, r->host_params, r->metrics, r->cfg->report,
                          r->images / (now_s() - r->t0 - r->eval_s));
cleanup:
    return st;
}

/* "1:02:03" or "2:03". */
static void format_duration(char *buf, size_t size, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void end_line(struct run *r)
{
    if (r->line_open)
        fputc('\n', stderr);
    r->line_open = 0;
}

/* On a terminal (cfg->progress) one line, rewritten in place at most twice a second; in a log a plain line
 * every 10 s. final: the epoch's (or the run's) last step, always shown, and the terminal's line closed. */
static void progress(struct run *r, long nbatches, float loss, double wait_s, int final)
{
    const struct acl_train_config *cfg = r->cfg;
    double t = now_s(), elapsed = t - r->t0 - r->eval_s; /* training time, for the data-wait share */
    /* Images/s over the recent past (a 30 s exponential average), measured from the first step of each epoch
     * so that kernel compilation and evaluations stay out of it. */
    if (r->rate_t == 0) {
        r->rate_t = t;
        r->rate_images = r->images;
    } else if (t - r->rate_t >= 2.0) {
        double dt = t - r->rate_t, now = (r->images - r->rate_images) / dt;
        r->ips = r->ips > 0 ? r->ips + (1 - exp(-dt / 30)) * (now - r->ips) : now;
        r->rate_t = t;
        r->rate_images = r->images;
    }
    if (final && r->printed_step == r->state.step) {
        end_line(r);
        return;
    }
    if (!final && t - r->last_print < (cfg->progress ? 0.5 : 10.0))
        return;
    r->last_print = t;
    r->printed_step = r->state.step;
    long total = cfg->max_steps;
    if (cfg->epochs > 0 && (total == 0 || (long)cfg->epochs * nbatches < total))
        total = (long)cfg->epochs * nbatches;
    double ips = r->ips; /* until the average has its first 2 s: what the steps so far give */
    if (ips <= 0 && t > r->rate_t && r->images > r->rate_images)
        ips = (r->images - r->rate_images) / (t - r->rate_t);
    char line[256], rate[32], eta[32] = "-";
    int n = snprintf(line, sizeof line, "epoch %u", r->state.epoch + 1);
    if (cfg->epochs > 0)
        n += snprintf(line + n, sizeof line - (size_t)n, "/%d", cfg->epochs);
    if (ips > 0) {
        snprintf(rate, sizeof rate, "%.1f", ips);
        if (total > (long)r->state.step)
            format_duration(eta, sizeof eta, (double)(total - (long)r->state.step) * cfg->batch / ips);
        else
            snprintf(eta, sizeof eta, "0:00");
    } else {
        snprintf(rate, sizeof rate, "-");
    }
    snprintf(line + n, sizeof line - (size_t)n, " step %llu (%u/%ld) loss %.4f lr %.3g %s img/s data wait %.0f%% ETA %s",
             (unsigned long long)r->state.step, r->state.position, nbatches, loss, r->state.lr, rate,
             elapsed > 0 ? 100 * wait_s / elapsed : 0.0, eta);
    if (cfg->progress) {
        /* Cut to the terminal's width: a line that wraps cannot be rewritten by a carriage return. */
        struct winsize ws;
        int width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col - 1 : (int)sizeof line;
        fprintf(stderr, "\r%.*s\033[K%s", width, line, final ? "\n" : "");
        r->line_open = !final;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

/* The learning-rate policy at the end of an epoch; err is the validation error (NAN without validation). */
static void end_of_epoch_lr(struct run *r, double err)
{
    const struct acl_train_config *cfg = r->cfg;
    struct acl_ckpt_state *s = &r->state;
    if (cfg->policy == ACL_LR_STEP) {
        if (cfg->lr_step_epochs > 0 && s->epoch % (uint32_t)cfg->lr_step_epochs == 0) /* epoch: those completed */
            s->lr /= 10;
        return;
    }
    if (isnan(err))
        return;
    if (err < s->best_metric - 1e-4f) {
        s->best_metric = (float)err;
        s->bad_epochs = 0;
    } else if (++s->bad_epochs >= (uint32_t)(cfg->patience > 0 ? cfg->patience : 1)) {
        s->lr /= 10;
        s->bad_epochs = 0;
        if (cfg->verbose)
            fprintf(stderr, "validation error %.4f did not improve on %.4f: learning rate now %.3g\n", err,
                    s->best_metric, s->lr);
    }
}

static acl_status start(struct run *r, const struct acl_source *train)
{
    const struct acl_train_config *cfg = r->cfg;
    const struct acl_net *net = r->net;
    acl_status st = ACL_OK;
    struct acl_checkpoint ck = {0};
    memset(&r->state, 0, sizeof r->state);
    r->state.seed = cfg->seed;
    r->state.batch = (uint32_t)cfg->batch;
    r->state.classes = (uint32_t)net->classes;
    r->state.lr = cfg->lr;
    r->state.momentum = cfg->momentum;
    r->state.weight_decay = cfg->weight_decay;
    r->state.best_metric = INFINITY;
    r->state.param_count = net->param_count;
    r->host_params = malloc(net->param_count * sizeof(float));
    r->host_momentum = calloc(net->param_count, sizeof(float));
    if (!r->host_params || !r->host_momentum)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for %zu parameters", net->param_count);
    if (cfg->resume) {
        ACL_TRY(acl_ckpt_read(cfg->resume, r->model_text, &ck));
        if (ck.state.param_count != net->param_count || ck.state.classes != (uint32_t)net->classes) {
            st = acl_fail(ACL_ERR_FORMAT, "%s holds %llu parameters for %u classes; this model has %zu for %d",
                          cfg->resume, (unsigned long long)ck.state.param_count, ck.state.classes, net->param_count,
                          net->classes);
            goto cleanup;
        }
        if (ck.state.batch != (uint32_t)cfg->batch) {
            st = acl_fail(ACL_ERR_CONFLICT, "%s was trained with batch %u; resume with --batch %u", cfg->resume,
                          ck.state.batch, ck.state.batch);
            goto cleanup;
        }
        r->state = ck.state;
        r->resumed_step = ck.state.step;
        memcpy(r->host_params, ck.params, net->param_count * sizeof(float));
        memcpy(r->host_momentum, ck.momentum, net->param_count * sizeof(float));
    } else if (cfg->initial_params) {
        memcpy(r->host_params, cfg->initial_params, net->param_count * sizeof(float));
    } else {
        acl_net_init_params(net, r->host_params, cfg->init, cfg->seed);
    }
    if (cfg->runner)
        ACL_TRY(acl_runner_model(cfg->runner, net, cfg->batch, 1, &r->m));
    else
        ACL_TRY(acl_model_create(r->c, net, cfg->batch, 1, &r->m));
    if (r->m->split && cfg->verbose)
        acl_split_timing(r->m->split, 1);
    ACL_TRY(acl_model_write_params(r->m, r->host_params));
    ACL_TRY(acl_model_write_momentum(r->m, r->host_momentum));
    if (cfg->out_dir) {
        char path[4200];
        snprintf(r->ckpt_path, sizeof r->ckpt_path, "%s/checkpoint.ckpt", cfg->out_dir);
        snprintf(path, sizeof path, "%s/metrics.jsonl", cfg->out_dir);
        r->metrics = fopen(path, cfg->resume ? "a" : "w");
        if (!r->metrics) {
            st = acl_fail(ACL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
            goto cleanup;
        }
    }
    (void)train;
cleanup:
    acl_ckpt_free(&ck);
    return st;
}

static acl_status evaluate_and_log(struct run *r, const struct acl_source *val, struct acl_train_report *rep)
{
    double t1 = 0, t5 = 0, vl = 0, t = now_s();
    acl_status st = acl_evaluate(r->m, val, r->cfg->threads, &t1, &t5, &vl);
    r->eval_s += now_s() - t;
    if (st != ACL_OK)
        return st;
    rep->evaluated = 1;
    rep->top1 = t1;
    rep->top5 = t5;
    if (r->metrics)
        fprintf(r->metrics, "{\"epoch\": %u, \"step\": %llu, \"top1\": %.6f, \"top5\": %.6f, \"loss\": %.6f}\n",
                r->state.epoch, (unsigned long long)r->state.step, t1, t5, vl);
    end_line(r);
    if (r->state.position == 0) /* after a whole epoch: state.epoch has counted it */
        fprintf(stderr, "epoch %u done, step %llu: ", r->state.epoch, (unsigned long long)r->state.step);
    else
        fprintf(stderr, "step %llu (in epoch %u): ", (unsigned long long)r->state.step, r->state.epoch + 1);
    fprintf(stderr, "validation top-1 %.2f%%, top-5 %.2f%%, loss %.4f\n", 100 * t1, 100 * t5, vl);
    return ACL_OK;
}

static int done(const struct run *r)
{
    const struct acl_train_config *cfg = r->cfg;
    if (cfg->max_steps && (long)r->state.step >= cfg->max_steps)
        return 1;
    return cfg->epochs > 0 && r->state.epoch >= (uint32_t)cfg->epochs;
}

/* One epoch from the state's position; stops early at max_steps or on interrupt. */
/* -v on two devices: what the step moved between them, how long the host waited on transfers, and each
 * device's busy time (the device time of its commands). */
static acl_status report_transfers(struct acl_model *m, uint64_t step)
{
    struct acl_split_stats t;
    acl_status st = acl_split_stats(m->split, &t);
    if (st == ACL_OK)
        fprintf(stderr, "step %llu: moved %.2f MiB between the devices in %llu copies (%llu staged through the "
                "host), transfer wait %.1f ms, copy time %.1f ms; busy: device 0 %.1f ms, device 1 %.1f ms\n",
                (unsigned long long)step, (double)t.moved.bytes / 1048576.0, (unsigned long long)t.moved.copies,
                (unsigned long long)t.moved.staged, 1e3 * t.moved.wait_s, 1e3 * t.moved.device_s, 1e3 * t.busy_s[0],
                1e3 * t.busy_s[1]);
    return st;
}

static acl_status train_epoch(struct run *r, const struct acl_source *train, double *wait_s, int *interrupted)
{
    const struct acl_train_config *cfg = r->cfg;
    struct acl_ckpt_state *s = &r->state;
    struct acl_loader l;
    acl_status st = acl_loader_start(&l, train, cfg->batch, s->seed, s->epoch, s->position, 1, 1, cfg->threads);
    if (st != ACL_OK)
        return st;
    float loss = 0;
    long steps_here = 0;
    int end_of_epoch = 0;
    r->rate_t = 0;
    for (;;) {
        if (cfg->max_steps && (long)s->step >= cfg->max_steps)
            break;
        if (cfg->interrupt && *cfg->interrupt) {
            *interrupted = 1;
            break;
        }
        const float *images = NULL;
        const int *labels = NULL;
        int n = 0;
        ACL_TRY(acl_loader_next(&l, &images, &labels, &n));
        if (n == 0) {
            end_of_epoch = 1;
            break;
        }
        ACL_TRY(acl_model_input(r->m, images, labels, n));
        acl_loader_done(&l);
        ACL_TRY(acl_model_forward(r->m, 1, s->seed, s->step));
        ACL_TRY(acl_model_backward(r->m, s->seed, s->step));
        ACL_TRY(acl_model_update(r->m, s->lr, s->momentum, s->weight_decay));
        ACL_TRY(acl_model_results(r->m, &loss, NULL, NULL));
        if (!isfinite(loss)) {
            /* Steps count from 1 here as in metrics.jsonl and the progress line: this is step s->step + 1. */
            char kept[4400];
            if (r->saved)
                snprintf(kept, sizeof kept, "the last good checkpoint, of step %llu, is %s",
                         (unsigned long long)r->saved_step, r->ckpt_path);
            else if (cfg->resume)
                snprintf(kept, sizeof kept, "the checkpoint resumed from, of step %llu, is unchanged: %s",
                         (unsigned long long)r->resumed_step, cfg->resume);
            else
                snprintf(kept, sizeof kept, "no checkpoint was written before it (%s)",
                         cfg->out_dir ? "they are written at the end of each epoch or every --checkpoint-every steps"
                                      : "no output folder");
            st = acl_fail(ACL_ERR_DIVERGED, "the loss became %s at step %llu (epoch %u): training stopped; %s; try a "
                          "smaller --lr", isnan(loss) ? "NaN" : "infinite", (unsigned long long)s->step + 1,
                          s->epoch + 1, kept);
            goto cleanup;
        }
        s->step++;
        s->position++;
        steps_here++;
        r->images += n;
        if (r->m->split && cfg->verbose)
            ACL_TRY(report_transfers(r->m, s->step));
        if (r->metrics)
            fprintf(r->metrics, "{\"step\": %llu, \"epoch\": %u, \"loss\": %.6f, \"lr\": %.6g}\n",
                    (unsigned long long)s->step, s->epoch, loss, s->lr);
        progress(r, l.nbatches, loss, *wait_s + l.wait_s, 0);
        if (cfg->checkpoint_every > 0 && s->step % (uint64_t)cfg->checkpoint_every == 0)
            ACL_TRY(save_checkpoint(r));
    }
    if (steps_here > 0)
        progress(r, l.nbatches, loss, *wait_s + l.wait_s, 1);
    if (end_of_epoch) {
        s->epoch++;
        s->position = 0;
    }
cleanup:
    if (st != ACL_OK)
        end_line(r);
    *wait_s += l.wait_s;
    acl_loader_stop(&l);
    return st;
}

acl_status acl_train(struct acl_ctx *c, const struct acl_net *net, const char *model_text,
                     const struct acl_source *train, const struct acl_source *val, const struct acl_train_config *cfg,
                     struct acl_train_report *rep)
{
    struct run r = {.c = c, .net = net, .model_text = model_text, .cfg = cfg};
    acl_status st = ACL_OK;
    int interrupted = 0;
    double wait_s = 0;
    memset(rep, 0, sizeof *rep);
    if (train->classes != net->classes || train->c != net->in_c || train->h != net->in_h || train->w != net->in_w)
        return acl_fail(ACL_ERR_ARGUMENT, "the data gives %dx%dx%d images of %d classes; the model takes %dx%dx%d and "
                        "%d classes", train->c, train->h, train->w, train->classes, net->in_c, net->in_h, net->in_w,
                        net->classes);
    if (cfg->epochs <= 0 && cfg->max_steps <= 0)
        return acl_fail(ACL_ERR_ARGUMENT, "give a number of epochs or a step limit");
    ACL_TRY(start(&r, train));
    r.t0 = r.last_print = now_s();
    while (!done(&r) && !interrupted) {
        uint32_t epoch = r.state.epoch;
        ACL_TRY(train_epoch(&r, train, &wait_s, &interrupted));
        if (r.state.epoch == epoch) /* stopped inside the epoch: max_steps or interrupt */
            break;
        double err = NAN;
        if (val) {
            ACL_TRY(evaluate_and_log(&r, val, rep));
            err = 1 - rep->top1;
        }
        end_of_epoch_lr(&r, err);
        ACL_TRY(save_checkpoint(&r));
        if (r.metrics)
            fflush(r.metrics);
    }
    /* A run that stopped inside an epoch (a step limit) is evaluated too, so it ends with a number. */
    if (val && !interrupted && (!rep->evaluated || r.state.position != 0))
        ACL_TRY(evaluate_and_log(&r, val, rep));
    ACL_TRY(save_checkpoint(&r));
    if (interrupted) {
        st = acl_fail(ACL_ERR_INTERRUPTED, "interrupted at step %llu; %s%s", (unsigned long long)r.state.step,
                      cfg->out_dir ? "resume with --resume " : "nothing was saved (no --out)",
                      cfg->out_dir ? r.ckpt_path : "");
    }
cleanup:
    rep->steps = (long)r.state.step;
    rep->epochs = (int)r.state.epoch;
    rep->seconds = now_s() - r.t0;
    rep->images_per_s = rep->seconds - r.eval_s > 0 ? r.images / (rep->seconds - r.eval_s) : 0;
    rep->data_wait_s = wait_s;
    if (r.m && (st == ACL_OK || st == ACL_ERR_INTERRUPTED) && acl_model_read_params(r.m, r.host_params) == ACL_OK) {
        rep->params = r.host_params;
        r.host_params = NULL;
    }
    if (r.m)
        acl_model_results(r.m, &rep->last_loss, NULL, NULL);
    if (r.metrics)
        fclose(r.metrics);
    acl_model_destroy(r.m);
    free(r.host_params);
    free(r.host_momentum);
    return st;
}
