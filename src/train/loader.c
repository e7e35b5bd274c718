/* loader.c: the epoch order and the threaded batch loader (see loader.h). */
#include "train/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "philox.h"
#include "runtime/error.h"

void acl_source_destroy(struct acl_source *s)
{
    if (s && s->destroy)
        s->destroy(s->impl);
    if (s)
        memset(s, 0, sizeof *s);
}

void acl_epoch_order(int *order, int n, uint64_t seed, uint64_t epoch, int shuffle)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    if (!shuffle)
        return;
    /* Fisher-Yates with Philox draws on a stream of its own (the high bit marks the order's stream). */
    for (int i = n - 1; i > 0; i--) {
        uint64_t r = ((uint64_t)acl_philox_bits(seed, epoch | (1ULL << 63), 2 * (uint64_t)i) << 32) |
                     acl_philox_bits(seed, epoch | (1ULL << 63), 2 * (uint64_t)i + 1);
        int j = (int)(r % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fill(struct acl_loader *l, struct acl_loader_slot *s, long b)
{
    const struct acl_source *src = l->src;
    size_t per = (size_t)src->c * src->h * src->w;
    long first = b * l->batch;
    int n = (int)((long)src->count - first < l->batch ? (long)src->count - first : l->batch);
    s->status = ACL_OK;
    s->n = n;
    for (int i = 0; i < n && s->status == ACL_OK; i++) {
        s->status = src->get(src->impl, l->order[first + i], l->train, l->seed, l->epoch, s->images + (size_t)i * per,
                             &s->labels[i]);
        if (s->status != ACL_OK)
            snprintf(s->error, sizeof s->error, "%s", acl_last_error());
    }
}

static void *worker(void *arg)
{
    struct acl_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && (l->next_fill >= l->nbatches || l->next_fill >= l->next_take + ACL_LOADER_SLOTS))
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop)
            break;
        long b = l->next_fill++;
        struct acl_loader_slot *s = &l->slots[b % ACL_LOADER_SLOTS];
        pthread_mutex_unlock(&l->mu);
        fill(l, s, b);
        pthread_mutex_lock(&l->mu);
        s->batch = b;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

acl_status acl_loader_start(struct acl_loader *l, const struct acl_source *src, int batch, uint64_t seed,
                            uint64_t epoch, long first, int train, int shuffle, int threads)
{
    memset(l, 0, sizeof *l);
    if (batch < 1 || src->count < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "loader: batch %d over %d samples", batch, src->count);
    /* From here on acl_loader_stop cleans up whatever was made. */
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->src = src;
    l->batch = batch;
    l->seed = seed;
    l->epoch = epoch;
    l->train = train;
    l->shuffle = shuffle;
    int want_threads = threads < 1 ? 1 : threads;
    l->nbatches = (src->count + batch - 1) / batch;
    l->next_fill = l->next_take = first < 0 ? 0 : first;
    size_t per = (size_t)src->c * src->h * src->w;
    l->order = malloc((size_t)src->count * sizeof *l->order);
    l->tids = calloc((size_t)want_threads, sizeof *l->tids);
    int ok = l->order && l->tids;
    for (int i = 0; ok && i < ACL_LOADER_SLOTS; i++) {
        l->slots[i].batch = -1;
        ok = (l->slots[i].images = malloc((size_t)batch * per * sizeof(float))) &&
             (l->slots[i].labels = malloc((size_t)batch * sizeof(int)));
    }
    if (!ok) {
        acl_loader_stop(l);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for %d loader slots of batch %d", ACL_LOADER_SLOTS,
                        batch);
    }
    acl_epoch_order(l->order, src->count, seed, epoch, shuffle);
    for (int i = 0; i < want_threads; i++, l->threads++)
        if (pthread_create(&l->tids[i], NULL, worker, l) != 0) {
            acl_loader_stop(l);
            return acl_fail(ACL_ERR_MEMORY, "cannot start loader threads");
        }
    return ACL_OK;
}

acl_status acl_loader_next(struct acl_loader *l, const float **images, const int **labels, int *n)
{
    *n = 0;
    if (l->next_take >= l->nbatches)
        return ACL_OK;
    long b = l->next_take;
    struct acl_loader_slot *s = &l->slots[b % ACL_LOADER_SLOTS];
    double t0 = now_s();
    pthread_mutex_lock(&l->mu);
    while (s->batch != b)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    l->wait_s += now_s() - t0;
    if (s->status != ACL_OK)
        return acl_fail(s->status, "%s", s->error);
    *images = s->images;
    *labels = s->labels;
    *n = s->n;
    return ACL_OK;
}

void acl_loader_done(struct acl_loader *l)
{
    pthread_mutex_lock(&l->mu);
    l->next_take++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void acl_loader_stop(struct acl_loader *l)
{
    if (!l->src)
        return; /* never started */
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->threads; i++)
        pthread_join(l->tids[i], NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    for (int i = 0; i < ACL_LOADER_SLOTS; i++) {
        free(l->slots[i].images);
        free(l->slots[i].labels);
    }
    free(l->order);
    free(l->tids);
    memset(l, 0, sizeof *l);
}
