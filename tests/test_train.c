/* test_train.c: the epoch order and the threaded loader; the training loop on a synthetic source: a
 * resumed run repeats the uninterrupted run's losses bit for bit, a diverging run stops naming the step,
 * an interrupted run saves a checkpoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "philox.h"
#include "runtime/engine.h"
#include "testutil.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

static const char tiny_net[] = "input channels=2 height=11 width=9\n"
                               "conv name=c1 out=4 kernel=3 stride=2 pad=1\n"
                               "relu\n"
                               "lrn size=3 alpha=0.1 beta=0.75 k=2\n"
                               "maxpool size=3 stride=1 pad=1\n"
                               "conv name=c2 out=6 kernel=3 pad=1 groups=2\n"
                               "relu\n"
                               "maxpool size=2 stride=2\n"
                               "fc name=f1 out=16\n"
                               "relu\n"
                               "dropout p=0.3\n"
                               "fc name=f2 out=classes\n";

/* Sample i: noise with a bright pixel at its label; augmentation flips it horizontally by a coin of
 * (seed, epoch, i), as the image pipeline does. */
static acl_status synth_get(void *impl, int i, int train, uint64_t seed, uint64_t epoch, float *out, int *label)
{
    (void)impl;
    uint64_t s = 1000 + (uint64_t)i;
    acl_rand_fill(&s, out, 2 * 11 * 9, -1, 1);
    *label = i % 5;
    out[*label * 9 + 4] += 3;
    if (train && (acl_philox_bits(seed, epoch, (uint64_t)i) & 1))
        for (int c = 0; c < 2 * 11; c++)
            for (int x = 0; x < 4; x++) {
                float t = out[c * 9 + x];
                out[c * 9 + x] = out[c * 9 + 8 - x];
                out[c * 9 + 8 - x] = t;
            }
    return ACL_OK;
}

static struct acl_source synth(int count)
{
    return (struct acl_source){count, 5, 2, 11, 9, NULL, synth_get, NULL};
}

static void epoch_order_is_a_seeded_permutation(void **state)
{
    (void)state;
    enum { N = 1000 };
    int a[N], b[N], seen[N] = {0};
    acl_epoch_order(a, N, 7, 0, 1);
    for (int i = 0; i < N; i++)
        seen[a[i]]++;
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    acl_epoch_order(b, N, 7, 0, 1);
    assert_memory_equal(a, b, sizeof a);
    acl_epoch_order(b, N, 7, 1, 1);
    assert_true(memcmp(a, b, sizeof a) != 0);
    acl_epoch_order(b, N, 8, 0, 1);
    assert_true(memcmp(a, b, sizeof a) != 0);
}

static void loader_threads_give_the_same_batches(void **state)
{
    (void)state;
    struct acl_source src = synth(37);
    float *one = malloc(37 * 198 * sizeof *one), *many = malloc(37 * 198 * sizeof *many);
    for (int threads = 1; threads <= 3; threads += 2) {
        struct acl_loader l;
        assert_int_equal(acl_loader_start(&l, &src, 5, 3, 2, 0, 1, 1, threads), ACL_OK);
        int total = 0, n = 0;
        const float *im;
        const int *lab;
        while (acl_loader_next(&l, &im, &lab, &n) == ACL_OK && n > 0) {
            memcpy((threads == 1 ? one : many) + (size_t)total * 198, im, (size_t)n * 198 * sizeof *im);
            total += n;
            acl_loader_done(&l);
        }
        acl_loader_stop(&l);
        assert_int_equal(total, 37); /* the last batch is partial */
    }
    assert_memory_equal(one, many, 37 * 198 * sizeof *one);
    free(one);
    free(many);
}

static struct acl_train_config config(const char *out, long steps)
{
    struct acl_train_config c = {.max_steps = steps, .batch = 8, .lr = 0.02f, .momentum = 0.9f,
                                 .weight_decay = 5e-4f, .policy = ACL_LR_STEP, .lr_step_epochs = 2,
                                 .init = ACL_INIT_HE, .seed = 5, .out_dir = out, .threads = 2};
    return c;
}

static void resume_repeats_the_uninterrupted_run(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", 5, &net), ACL_OK);
    struct acl_source src = synth(44); /* 6 batches an epoch, the last partial: steps cross epochs */
    char a[] = "/tmp/acl-train-a-XXXXXX", b[] = "/tmp/acl-train-b-XXXXXX", path[200], ckpt[200];
    assert_non_null(mkdtemp(a));
    assert_non_null(mkdtemp(b));
    struct acl_train_report rep;
    struct acl_train_config c = config(a, 20);
    assert_int_equal(acl_train(test_ctx(), net, tiny_net, &src, NULL, &c, &rep), ACL_OK);
    assert_int_equal(rep.steps, 20);
    free(rep.params);
    c = config(b, 9);
    assert_int_equal(acl_train(test_ctx(), net, tiny_net, &src, NULL, &c, &rep), ACL_OK);
    free(rep.params);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.ckpt", b);
    c = config(b, 20);
    c.resume = ckpt;
    assert_int_equal(acl_train(test_ctx(), net, tiny_net, &src, NULL, &c, &rep), ACL_OK);
    free(rep.params);
    snprintf(path, sizeof path, "%s/metrics.jsonl", a);
    char *whole = (char *)test_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/metrics.jsonl", b);
    char *resumed = (char *)test_read_file(path, NULL);
    assert_non_null(whole);
    assert_non_null(resumed);
    assert_string_equal(whole, resumed); /* every step's loss, printed to 6 decimals, the same */
    /* --lr-step 2 divides after two whole epochs (12 steps here), not one */
    assert_non_null(strstr(whole, "{\"step\": 7, \"epoch\": 1,"));
    assert_non_null(strstr(strstr(whole, "{\"step\": 12, "), "\"lr\": 0.02}"));
    assert_non_null(strstr(strstr(whole, "{\"step\": 13, "), "\"lr\": 0.002}"));
    /* and the parameters bit for bit */
    struct acl_checkpoint x, y;
    snprintf(path, sizeof path, "%s/checkpoint.ckpt", a);
    assert_int_equal(acl_ckpt_read(path, tiny_net, &x), ACL_OK);
    assert_int_equal(acl_ckpt_read(ckpt, tiny_net, &y), ACL_OK);
    assert_int_equal(x.state.step, 20);
    assert_memory_equal(x.params, y.params, x.state.param_count * sizeof(float));
    assert_memory_equal(x.momentum, y.momentum, x.state.param_count * sizeof(float));
    acl_ckpt_free(&x);
    acl_ckpt_free(&y);
    /* a checkpoint of another model is refused */
    c.resume = ckpt;
    assert_int_equal(acl_train(test_ctx(), net, "input size=3\nfc out=classes\n", &src, NULL, &c, &rep),
                     ACL_ERR_FORMAT);
    free(whole);
    free(resumed);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", a, b);
    assert_int_equal(system(cmd), 0);
    acl_net_free(net);
}

static void divergence_and_interrupts_stop_cleanly(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", 5, &net), ACL_OK);
    struct acl_source src = synth(44);
    char d[] = "/tmp/acl-train-d-XXXXXX", ckpt[200];
    assert_non_null(mkdtemp(d));
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.ckpt", d);
    struct acl_train_report rep;
    struct acl_train_config c = config(d, 50);
    c.lr = 1e9f;
    assert_int_equal(acl_train(test_ctx(), net, tiny_net, &src, NULL, &c, &rep), ACL_ERR_DIVERGED);
    assert_non_null(strstr(acl_last_error(), "at step"));
    assert_null(rep.params);
    volatile sig_atomic_t stop = 1;
    c = config(d, 50);
    c.interrupt = &stop;
    assert_int_equal(acl_train(test_ctx(), net, tiny_net, &src, NULL, &c, &rep), ACL_ERR_INTERRUPTED);
    assert_non_null(strstr(acl_last_error(), "--resume"));
    assert_int_equal(access(ckpt, F_OK), 0);
    free(rep.params);
    struct acl_source val = synth(20);
    c = config(d, 0);
    c.epochs = 2;
    assert_int_equal(acl_train(test_ctx(), net, tiny_net, &src, &val, &c, &rep), ACL_OK);
    assert_true(rep.evaluated && rep.top5 >= rep.top1 && rep.top1 >= 0 && rep.top5 <= 1);
    free(rep.params);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    assert_int_equal(system(cmd), 0);
    acl_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(epoch_order_is_a_seeded_permutation),
        cmocka_unit_test(loader_threads_give_the_same_batches),
        cmocka_unit_test(resume_repeats_the_uninterrupted_run),
        cmocka_unit_test(divergence_and_interrupts_stop_cleanly),
    };
    return cmocka_run_group_tests_name("train", tests, NULL, NULL);
}
