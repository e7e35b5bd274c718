/* loader.h: batches of preprocessed samples, made on loader threads ahead of the device.
 *
 * A source yields sample i as floats (C x H x W) and a label; with train set it augments, drawing its
 * randomness from (seed, epoch, i) only, so a batch is the same whatever thread made it and whether the run
 * was resumed. The loader walks an epoch in an order that is a Philox permutation of (seed, epoch), keeping
 * up to ACL_LOADER_SLOTS batches in flight, and reports how long the caller waited for data. */
#ifndef ACL_TRAIN_LOADER_H
#define ACL_TRAIN_LOADER_H

#include <pthread.h>
#include <stdint.h>

#include "alexnet_cl.h"

struct acl_source {
    int count, classes;
    int c, h, w;
    void *impl;
    acl_status (*get)(void *impl, int index, int train, uint64_t seed, uint64_t epoch, float *out, int *label);
    void (*destroy)(void *impl);
};

void acl_source_destroy(struct acl_source *s);

/* order[i] for i < n: a permutation of 0..n-1 that depends only on (seed, epoch) (shuffle = 0: identity). */
void acl_epoch_order(int *order, int n, uint64_t seed, uint64_t epoch, int shuffle);

#define ACL_LOADER_SLOTS 4

struct acl_loader_slot {
    float *images;
    int *labels;
    int n;
    long batch;        /* which batch it holds, -1 if none */
    acl_status status;
    char error[512];
};

struct acl_loader {
    const struct acl_source *src;
    int batch, train, shuffle, threads;
    uint64_t seed, epoch;
    int *order;
    long nbatches, next_fill, next_take;
    struct acl_loader_slot slots[ACL_LOADER_SLOTS];
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    double wait_s;     /* total time acl_loader_next waited */
};

/* Starts threads that make the batches of an epoch from batch first on. */
acl_status acl_loader_start(struct acl_loader *l, const struct acl_source *src, int batch, uint64_t seed,
                            uint64_t epoch, long first, int train, int shuffle, int threads);
/* The next batch (blocking); *n = 0 at the end of the epoch. The slot stays valid until acl_loader_done. */
acl_status acl_loader_next(struct acl_loader *l, const float **images, const int **labels, int *n);
void acl_loader_done(struct acl_loader *l);
void acl_loader_stop(struct acl_loader *l);

#endif
