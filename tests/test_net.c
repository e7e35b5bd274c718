/* test_net.c: net descriptions and presets (geometry, parameter counts, errors naming lines), the
 * initialization, the memory plan, and the whole network on the device against the host reference,
 * forward and backward, with the reference's gradients checked by finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/model.h"
#include "net/net.h"
#include "net/reference.h"
#include "testutil.h"

static void paper_geometry(void **state)
{
    (void)state;
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_preset("paper", 1000, &net), ACL_OK);
    /* conv1 55x55x96, pool1 27, conv2 27x27x256, pool2 13, conv3-5 13x13, pool5 6, fc6 reads 9216 */
    assert_int_equal(net->layers[0].out_h, 55);
    assert_int_equal(net->layers[0].out_c, 96);
    assert_int_equal(net->layers[3].out_h, 27);
    assert_int_equal(net->layers[7].out_h, 13);
    assert_int_equal(net->layers[14].out_h, 6);
    assert_int_equal(acl_layer_in_size(&net->layers[15]), 9216);
    /* the number of parameters of Caffe's bvlc_alexnet */
    assert_int_equal(net->param_count, 60965224);
    assert_string_equal(net->tensors[2].name, "conv2.weight");
    assert_int_equal(net->tensors[2].dims[1], 48); /* groups of two */
    acl_net_free(net);
    assert_int_equal(acl_net_preset("torchvision", 1000, &net), ACL_OK);
    assert_int_equal(net->param_count, 61100840); /* torchvision.models.alexnet() */
    assert_string_equal(net->tensors[0].name, "features.0.weight");
    assert_string_equal(net->tensors[net->n_tensors - 1].name, "classifier.6.bias");
    acl_net_free(net);
    assert_int_equal(acl_net_preset("mini", 10, &net), ACL_OK);
    assert_int_equal(net->classes, 10);
    assert_int_equal(net->in_h, 28);
    acl_net_free(net);
}

static void expect_error(const char *text, const char *needle)
{
    struct acl_net *net = NULL;
    acl_status st = acl_net_parse(text, "t.net", 10, &net);
    if (st == ACL_OK || !strstr(acl_last_error(), needle))
        print_message("for:\n%s\ngot: %s\nwanted: %s\n", text, acl_last_error(), needle);
    assert_int_not_equal(st, ACL_OK);
    assert_null(net);
    assert_non_null(strstr(acl_last_error(), needle));
}

static void description_errors_name_the_line(void **state)
{
    (void)state;
    expect_error("input size=8\nconv out=4 kernel=3\nsoftmax\nfc out=classes\n", "t.net:3: unknown layer kind \"softmax\"");
    expect_error("input size=8\nconv out=4 kernel=3 strid=2\nfc out=classes\n", "t.net:2: unknown key \"strid\"");
    expect_error("conv out=4 kernel=3\n", "t.net:1: the first layer line must be `input");
    expect_error("input size=8\nconv out=4 kernel=x\nfc out=classes\n", "t.net:2: kernel=x: wants an integer");
    expect_error("input size=8 channels=3\nconv out=4 kernel=3 groups=2\nfc out=classes\n", "t.net:2: groups=2 must divide");
    expect_error("input size=8\n\n# comment\nconv out=4 kernel=11\nfc out=classes\n", "t.net:4: the kernel is larger");
    expect_error("input size=8\nconv out=4 kernel=3\n", "the last layer must be fc out=classes");
    expect_error("input size=8\nconv out=4 kernel=3 kernel=5\nfc out=classes\n", "t.net:2: key \"kernel\" given twice");
    expect_error("input size=8\nconv out=4 kernel=3\nconv out=4 kernel=3 name=conv0\nfc out=classes\n", "tensor conv0.weight");
    expect_error("input size=8\ndropout p=1.5\nfc out=classes\n", "t.net:2: p=1.5");
    expect_error("input size=8\nmaxpool size=3 stride=2 pad=3\nfc out=classes\n", "t.net:2: pad must be smaller");
    expect_error("", "no layers");
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_load("/nonexistent/model.net", 10, &net), ACL_ERR_IO);
    assert_non_null(strstr(acl_last_error(), "/nonexistent/model.net"));
}

static void initialization(void **state)
{
    (void)state;
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_preset("mini", 10, &net), ACL_OK);
    float *a = malloc(net->param_count * sizeof *a), *b = malloc(net->param_count * sizeof *b);
    acl_net_init_params(net, a, ACL_INIT_PAPER, 7);
    acl_net_init_params(net, b, ACL_INIT_PAPER, 7);
    assert_memory_equal(a, b, net->param_count * sizeof *a); /* same seed, same weights */
    const struct acl_tensor_desc *w = &net->tensors[0], *b2 = &net->tensors[3], *b1 = &net->tensors[1];
    double sum = 0, sq = 0;
    for (size_t i = 0; i < w->count; i++) {
        sum += a[w->offset + i];
        sq += (double)a[w->offset + i] * a[w->offset + i];
    }
    double mean = sum / (double)w->count, sd = sqrt(sq / (double)w->count - mean * mean);
    assert_true(fabs(mean) < 0.002 && fabs(sd - 0.01) < 0.001);
    assert_true(a[b1->offset] == 0.0f && a[b2->offset] == 1.0f); /* conv1 bias 0, conv2 bias 1 (paper) */
    acl_net_init_params(net, b, ACL_INIT_PAPER, 8);
    assert_true(memcmp(a, b, net->param_count * sizeof *a) != 0);
    acl_net_init_params(net, b, ACL_INIT_HE, 7);
    sq = 0;
    for (size_t i = 0; i < w->count; i++)
        sq += (double)b[w->offset + i] * b[w->offset + i];
    assert_true(fabs(sqrt(sq / (double)w->count) - sqrt(2.0 / 25)) < 0.03);
    assert_true(b[b2->offset] == 0.0f);
    free(a);
    free(b);
    acl_net_free(net);
}

/* Every layer kind, groups of two, odd sizes: small enough for finite differences in double. */
static const char tiny_net[] = "input channels=2 height=11 width=9\n"
                               "conv name=c1 out=4 kernel=3 stride=2 pad=1\n"
                               "relu\n"
                               "lrn size=3 alpha=0.1 beta=0.75 k=2\n"
                               "maxpool size=3 stride=1 pad=1\n"
                               "conv name=c2 out=6 kernel=3 pad=1 groups=2\n"
                               "relu\n"
                               "maxpool size=2 stride=2\n"
                               "fc name=f1 out=7\n"
                               "relu\n"
                               "dropout p=0.3\n"
                               "fc name=f2 out=classes\n";

static void random_setup(const struct acl_net *net, int n, uint64_t seed, double *params, double *images, int *labels)
{
    test_rand(&seed, params, net->param_count, -0.5, 0.5);
    test_rand(&seed, images, (size_t)n * net->in_c * net->in_h * net->in_w, -1, 1);
    for (int i = 0; i < n; i++)
        labels[i] = (int)(acl_rand_u32(&seed) % (uint32_t)net->classes);
}

struct fd_ctx {
    const struct acl_net *net;
    const double *images;
    const int *labels;
    int n;
    double *logits;
};

static double net_loss(void *ctx, const double *params)
{
    struct fd_ctx *f = ctx;
    struct acl_net_ref_result r = {.logits = f->logits};
    assert_int_equal(acl_net_ref_run(f->net, params, f->images, f->labels, f->n, 1, 11, 3, &r), ACL_OK);
    return r.loss;
}

static void reference_gradients_match_finite_differences(void **state)
{
    (void)state;
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", 5, &net), ACL_OK);
    enum { N = 3 };
    double *p = malloc(net->param_count * sizeof *p), *g = malloc(net->param_count * sizeof *g);
    double images[N * 2 * 11 * 9], logits[N * 5];
    int labels[N];
    random_setup(net, N, 5, p, images, labels);
    struct acl_net_ref_result r = {.logits = logits, .grads = g};
    assert_int_equal(acl_net_ref_run(net, p, images, labels, N, 1, 11, 3, &r), ACL_OK);
    struct fd_ctx f = {net, images, labels, N, logits};
    /* all parameters: a few hundred; small steps keep max-pool choices and ReLU signs fixed */
    double err = fd_max_error(net_loss, &f, p, net->param_count, g, 1e-6, 1e-7);
    print_message("whole-net finite differences: worst relative error %.3g over %zu parameters\n", err,
                  net->param_count);
    assert_true(err < 1e-4);
    free(p);
    free(g);
    acl_net_free(net);
}

static void device_matches_reference(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", 5, &net), ACL_OK);
    enum { N = 3, B = 4 }; /* a pass smaller than the model's batch, as the last batch of an epoch */
    size_t P = net->param_count, in = (size_t)N * 2 * 11 * 9;
    double *p = malloc(P * sizeof *p), *g = malloc(P * sizeof *g), images[N * 2 * 11 * 9], logits[N * 5];
    float *pf = malloc(P * sizeof *pf), *gf = malloc(P * sizeof *gf), imf[N * 2 * 11 * 9], lf[N * 5];
    int labels[N];
    random_setup(net, N, 9, p, images, labels);
    for (size_t i = 0; i < P; i++)
        p[i] = pf[i] = (float)p[i];
    for (size_t i = 0; i < in; i++)
        images[i] = imf[i] = (float)images[i];
    struct acl_model *m = NULL;
    assert_int_equal(acl_model_create(test_ctx(), net, B, 1, &m), ACL_OK);
    assert_int_equal(acl_model_write_params(m, pf), ACL_OK);
    assert_int_equal(acl_model_input(m, imf, labels, N), ACL_OK);
    assert_int_equal(acl_model_forward(m, 1, 11, 3), ACL_OK);
    assert_int_equal(acl_model_backward(m, 11, 3), ACL_OK);
    float loss = 0;
    int top1 = -1, top5 = -1;
    assert_int_equal(acl_model_results(m, &loss, &top1, &top5), ACL_OK);
    assert_int_equal(acl_model_read_logits(m, lf), ACL_OK);
    assert_int_equal(acl_model_read_grads(m, gf), ACL_OK);
    struct acl_net_ref_result r = {.logits = logits, .grads = g};
    assert_int_equal(acl_net_ref_run(net, p, images, labels, N, 1, 11, 3, &r), ACL_OK);
    assert_true(fabs(loss - r.loss) <= 1e-5 * (1 + fabs(r.loss)));
    assert_int_equal(top1, r.top1);
    assert_int_equal(top5, r.top5);
    double gmax = 0, lmax = 0;
    for (size_t i = 0; i < P; i++)
        gmax = fmax(gmax, fabs(g[i]));
    for (int i = 0; i < N * 5; i++)
        lmax = fmax(lmax, fabs(logits[i]));
    for (int i = 0; i < N * 5; i++)
        assert_true(fabs(lf[i] - logits[i]) <= 1e-5 * (lmax + fabs(logits[i])));
    size_t bad = 0;
    for (size_t i = 0; i < P; i++)
        bad += !(fabs(gf[i] - g[i]) <= 1e-4 * (gmax + fabs(g[i])));
    assert_int_equal(bad, 0);
    /* A second identical pass gives bit-identical gradients: the engine is deterministic. */
    float *g2 = malloc(P * sizeof *g2);
    assert_int_equal(acl_model_forward(m, 1, 11, 3), ACL_OK);
    assert_int_equal(acl_model_backward(m, 11, 3), ACL_OK);
    assert_int_equal(acl_model_read_grads(m, g2), ACL_OK);
    assert_memory_equal(g2, gf, P * sizeof *gf);
    free(g2);
    acl_model_destroy(m);
    free(p);
    free(g);
    free(pf);
    free(gf);
    acl_net_free(net);
}

static void training_reduces_the_loss(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", 5, &net), ACL_OK);
    enum { N = 16 };
    float *p = malloc(net->param_count * sizeof *p), images[N * 2 * 11 * 9];
    int labels[N];
    acl_net_init_params(net, p, ACL_INIT_HE, 1);
    uint64_t seed = 3;
    acl_rand_fill(&seed, images, sizeof images / sizeof images[0], -1, 1);
    for (int i = 0; i < N; i++) { /* the class is written into the image, so it can be learned */
        labels[i] = i % 5;
        images[i * 2 * 11 * 9 + labels[i]] += 3.0f;
    }
    struct acl_model *m = NULL;
    assert_int_equal(acl_model_create(test_ctx(), net, N, 1, &m), ACL_OK);
    assert_int_equal(acl_model_write_params(m, p), ACL_OK);
    assert_int_equal(acl_model_input(m, images, labels, N), ACL_OK);
    float first = 0, last = 0;
    for (int step = 0; step < 60; step++) {
        assert_int_equal(acl_model_forward(m, 1, 1, (uint64_t)step), ACL_OK);
        assert_int_equal(acl_model_backward(m, 1, (uint64_t)step), ACL_OK);
        assert_int_equal(acl_model_update(m, 0.05f, 0.9f, 5e-4f), ACL_OK);
        assert_int_equal(acl_model_results(m, step == 0 ? &first : &last, NULL, NULL), ACL_OK);
    }
    print_message("loss %.4f -> %.4f\n", first, last);
    assert_true(isfinite(last) && last < 0.5f * first);
    acl_model_destroy(m);
    free(p);
    acl_net_free(net);
}

static void a_batch_that_does_not_fit_is_refused(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_preset("paper", 1000, &net), ACL_OK);
    struct acl_model *m = NULL;
    assert_int_equal(acl_model_create(test_ctx(), net, 100000, 1, &m), ACL_ERR_MEMORY);
    assert_null(m);
    assert_non_null(strstr(acl_last_error(), "smaller --batch"));
    assert_non_null(strstr(acl_last_error(), test_ctx()->dev.info.name));
    acl_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paper_geometry),
        cmocka_unit_test(description_errors_name_the_line),
        cmocka_unit_test(initialization),
        cmocka_unit_test(reference_gradients_match_finite_differences),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(training_reduces_the_loss),
        cmocka_unit_test(a_batch_that_does_not_fit_is_refused),
    };
    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
