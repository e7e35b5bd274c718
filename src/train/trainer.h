/* trainer.h: the training loop: the paper's momentum SGD over batches from the loader, learning-rate
 * policies, evaluation, metrics, checkpoints that resume bit for bit, and clean stops. */
#ifndef ACL_TRAIN_TRAINER_H
#define ACL_TRAIN_TRAINER_H

#include <signal.h>

#include "net/net.h"
#include "runtime/ctx.h"
#include "train/loader.h"

enum acl_lr_policy {
    ACL_LR_STEP,    /* divide by 10 every lr_step_epochs epochs */
    ACL_LR_PLATEAU, /* divide by 10 when the validation error has not improved for `patience` epochs (the paper) */
};

struct acl_train_config {
    int epochs;                 /* 0 with max_steps: as many as the steps need */
    long max_steps;             /* 0: no limit */
    int batch;
    float lr, momentum, weight_decay;
    enum acl_lr_policy policy;
    int lr_step_epochs;
    int patience;
    enum acl_init init;
    uint64_t seed;
    const float *initial_params; /* NULL: initialize from init and seed */
    const char *out_dir;        /* checkpoint.ckpt and metrics.jsonl go here (NULL: nowhere) */
    long checkpoint_every;      /* steps; 0: at the end of each epoch only */
    const char *resume;         /* a checkpoint to continue from, or NULL */
    int threads;                /* loader threads */
    int verbose;
    int progress;               /* 1: a live progress line (a terminal); 0: plain lines at intervals */
    volatile sig_atomic_t *interrupt; /* set (by a signal handler) to stop after saving a checkpoint */
    struct acl_runner *runner;  /* the device(s) (parallel/runner.h); NULL: one device, the c of acl_train */
    const struct acl_report_info *report; /* labels for out_dir/report.html, remade at each checkpoint (NULL:
                                           * the net's name only) */
};

struct acl_report_info;

struct acl_train_report {
    long steps;
    int epochs;
    float last_loss;
    int evaluated;
    double top1, top5;          /* last evaluation, as fractions */
    double seconds, images_per_s, data_wait_s; /* images_per_s: over the training time, evaluations left out */
    float *params;              /* the final parameters (malloc'd; the caller frees) */
};

/* model_text is the description the checkpoint records (and resume compares against). */
acl_status acl_train(struct acl_ctx *c, const struct acl_net *net, const char *model_text,
                     const struct acl_source *train, const struct acl_source *val, const struct acl_train_config *cfg,
                     struct acl_train_report *rep);

struct acl_model;
/* top-1, top-5 (fractions) and mean loss of the model's current parameters over a whole source. */
acl_status acl_evaluate(struct acl_model *m, const struct acl_source *src, int threads, double *top1, double *top5,
                        double *loss);

#endif
