/* test_eval.c: evaluation and what travels with the weights: the ten crops' places, softmax averaging and ranks on
 * hand-made values, ten-crop evaluation equal to the centre crop's where every crop is the same image and equal to a
 * host reference (the network in double) where they differ, the weights' metadata through a file and refused when
 * malformed, and classification's preprocessing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/idx.h"
#include "io/safetensors.h"
#include "net/reference.h"
#include "testutil.h"
#include "train/eval.h"
#include "train/meta.h"
#include "train/weights.h"

static const char tiny_net[] = "input channels=1 height=6 width=6\n"
                               "conv name=c1 out=4 kernel=3 pad=1\n"
                               "relu\n"
                               "maxpool size=2 stride=2\n"
                               "fc name=f out=classes\n";
enum { CLASSES = 7 };

static void ten_crop_places(void **state)
{
    (void)state;
    /* base 8, crops of 6 high and 5 wide: corners, then the centre at ((8-6)/2, (8-5)/2) = (1, 1) */
    const int want[10][3] = {{0, 0, 0}, {0, 3, 0}, {2, 0, 0}, {2, 3, 0}, {1, 1, 0},
                             {0, 0, 1}, {0, 3, 1}, {2, 0, 1}, {2, 3, 1}, {1, 1, 1}};
    for (int k = 0; k < 10; k++) {
        int top, left, flip;
        acl_ten_crop_at(k, 8, 6, 5, &top, &left, &flip);
        assert_int_equal(top, want[k][0]);
        assert_int_equal(left, want[k][1]);
        assert_int_equal(flip, want[k][2]);
    }
}

static void softmax_average_and_ranks(void **state)
{
    (void)state;
    /* two crops of one image: softmax(0, ln 3) = (1/4, 3/4) and softmax(ln 3, 0) = (3/4, 1/4): the mean is a tie */
    const float logits[] = {0, logf(3), logf(3), 0, 1000, 1000};
    double p[4];
    acl_average_softmax(logits, 2, 2, 2, p);
    assert_true(fabs(p[0] - 0.5) < 1e-7 && fabs(p[1] - 0.5) < 1e-7);
    acl_average_softmax(logits + 4, 1, 2, 1, p + 2); /* large logits do not overflow */
    assert_true(p[2] == 0.5 && p[3] == 0.5);

    const double q[] = {0.1, 0.4, 0.2, 0.4, 0.05, 0.05, NAN};
    assert_int_equal(acl_classes_above(q, 6, 1), 0); /* a tie counts for the label */
    assert_int_equal(acl_classes_above(q, 6, 3), 0);
    assert_int_equal(acl_classes_above(q, 6, 2), 2);
    assert_int_equal(acl_classes_above(q, 6, 4), 4);
    assert_int_equal(acl_classes_above(q, 7, 1), 1); /* a NaN ranks above */
    int top[5];
    acl_top_classes(q, 6, 5, top);
    const int want[5] = {1, 3, 2, 0, 4}; /* ties: the lower index first */
    assert_memory_equal(top, want, sizeof want);
}

/* An in-memory gray dataset of n side x side images, labels i % CLASSES; symmetric: mirrored left to right. */
static struct acl_dataset *gray_set(int n, int side, int symmetric, uint64_t seed)
{
    size_t px = (size_t)side * side;
    uint8_t *pixels = malloc((size_t)n * px), *labels = malloc((size_t)n);
    for (int i = 0; i < n; i++) {
        labels[i] = (uint8_t)(i % CLASSES);
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                int sx = symmetric && x >= side / 2 ? side - 1 - x : x;
                uint8_t v = (uint8_t)acl_rand_u32(&seed);
                pixels[(size_t)i * px + (size_t)y * side + x] =
                    sx == x ? v : pixels[(size_t)i * px + (size_t)y * side + sx];
            }
    }
    struct acl_idx im = {0x08, 3, {(uint32_t)n, (uint32_t)side, (uint32_t)side, 0}, pixels, (size_t)n * px};
    struct acl_idx lb = {0x08, 1, {(uint32_t)n, 0, 0, 0}, labels, (size_t)n};
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_from_idx(&ds, "gray", &im, &lb, CLASSES, NULL), ACL_OK);
    free(pixels);
    free(labels);
    return ds;
}

static struct acl_model *model_with(const struct acl_net *net, const float *params, int batch)
{
    struct acl_model *m = NULL;
    assert_int_equal(acl_model_create(test_ctx(), net, batch, 0, &m), ACL_OK);
    assert_int_equal(acl_model_write_params(m, params), ACL_OK);
    return m;
}

static void ten_crop_of_identical_crops_is_the_centre_crop(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", CLASSES, &net), ACL_OK);
    float *params = malloc(net->param_count * sizeof *params);
    acl_net_init_params(net, params, ACL_INIT_HE, 4);
    /* images of the model's size, mirror-symmetric, with a mirror-symmetric mean: all ten crops are one image */
    struct acl_dataset *ds = gray_set(23, 6, 1, 8);
    float mean[36];
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 6; x++)
            mean[y * 6 + x] = (float)(40 + 13 * y + 7 * (x < 3 ? x : 5 - x));
    struct acl_sample_prep p = {.ds = ds, .base = 6, .channels = 1, .mean = mean, .scale = 1 / 255.0f, .c = 1, .h = 6,
                                .w = 6};
    struct acl_source centre = acl_sample_source(&p, CLASSES), ten = acl_ten_crop_source(&p, CLASSES);
    assert_int_equal(ten.c, 10);
    struct acl_model *m1 = model_with(net, params, 5), *m10 = model_with(net, params, 40);
    struct acl_eval_result a, b;
    assert_int_equal(acl_evaluate_crops(m1, &centre, 1, 2, &a), ACL_OK);
    assert_int_equal(acl_evaluate_crops(m10, &ten, 10, 2, &b), ACL_OK);
    assert_int_equal(a.images, 23);
    assert_int_equal(b.images, 23);
    assert_true(a.top1 == b.top1 && a.top5 == b.top5);
    assert_true(a.top1 > 0 && a.top5 < 1); /* neither count is trivial */
    if (fabs(a.loss - b.loss) > 1e-5 * (1 + a.loss))
        fail_msg("centre loss %.9g, ten-crop loss %.9g", a.loss, b.loss);
    /* a model batch that cannot hold ten crops is refused */
    assert_int_equal(acl_evaluate_crops(m1, &ten, 10, 1, &b), ACL_ERR_ARGUMENT);
    acl_model_destroy(m1);
    acl_model_destroy(m10);
    acl_dataset_free(ds);
    free(params);
    acl_net_free(net);
}

static void ten_crop_matches_the_host_reference(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    enum { N = 13, B = 9, S = 6 };
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", CLASSES, &net), ACL_OK);
    float *params = malloc(net->param_count * sizeof *params);
    double *dparams = malloc(net->param_count * sizeof *dparams);
    acl_net_init_params(net, params, ACL_INIT_HE, 6);
    for (size_t i = 0; i < net->param_count; i++)
        dparams[i] = params[i];
    struct acl_dataset *ds = gray_set(N, B, 0, 12);
    float mean[B * B];
    uint64_t seed = 3;
    acl_rand_fill(&seed, mean, B * B, 60, 190);
    struct acl_sample_prep p = {.ds = ds, .base = B, .channels = 1, .mean = mean, .scale = 1 / 255.0f, .c = 1, .h = S,
                                .w = S};
    struct acl_source ten = acl_ten_crop_source(&p, CLASSES);
    struct acl_model *m = model_with(net, params, 40); /* 4 images a pass: the last of 13 is partial */
    struct acl_eval_result r;
    assert_int_equal(acl_evaluate_crops(m, &ten, 10, 2, &r), ACL_OK);

    /* the reference: the crops cut straight from the dataset's pixels, the network in double */
    long c1 = 0, c5 = 0;
    double loss = 0, crops[10 * S * S], logits[10 * CLASSES];
    int labels[10];
    for (int i = 0; i < N; i++) {
        const uint8_t *img = ds->pixels + (size_t)i * B * B;
        for (int k = 0; k < 10; k++) {
            int top = (k % 5 == 4) ? (B - S) / 2 : (k % 5 >= 2 ? B - S : 0);
            int left = (k % 5 == 4) ? (B - S) / 2 : (k % 5 == 1 || k % 5 == 3 ? B - S : 0);
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++) {
                    int at = (top + y) * B + left + (k >= 5 ? S - 1 - x : x);
                    crops[(k * S + y) * S + x] = ((double)img[at] - mean[at]) / 255.0;
                }
            labels[k] = ds->labels[i];
        }
        struct acl_net_ref_result res = {.logits = logits};
        assert_int_equal(acl_net_ref_run(net, dparams, crops, labels, 10, 0, 0, 0, &res), ACL_OK);
        double avg[CLASSES] = {0};
        for (int k = 0; k < 10; k++) {
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j < CLASSES; j++)
                mx = fmax(mx, logits[k * CLASSES + j]);
            for (int j = 0; j < CLASSES; j++)
                sum += exp(logits[k * CLASSES + j] - mx);
            for (int j = 0; j < CLASSES; j++)
                avg[j] += exp(logits[k * CLASSES + j] - mx) / sum / 10;
        }
        int above = 0;
        for (int j = 0; j < CLASSES; j++)
            above += avg[j] > avg[labels[0]];
        c1 += above < 1;
        c5 += above < 5;
        loss += -log(avg[labels[0]]) / N;
    }
    assert_int_equal(r.images, N);
    assert_true(c1 > 0 && c5 < N);
    if (r.top1 != (double)c1 / N || r.top5 != (double)c5 / N || fabs(r.loss - loss) > 1e-5 * loss)
        fail_msg("device top-1 %g top-5 %g loss %.9g; reference %g %g %.9g", r.top1, r.top5, r.loss, (double)c1 / N,
                 (double)c5 / N, loss);
    acl_model_destroy(m);
    acl_dataset_free(ds);
    free(params);
    free(dparams);
    acl_net_free(net);
}

static void metadata_round_trip(void **state)
{
    (void)state;
    char path[] = "/tmp/acl-meta-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct acl_net *net = NULL, *back = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", 5, &net), ACL_OK);
    float *params = malloc(net->param_count * sizeof *params);
    acl_net_init_params(net, params, ACL_INIT_HE, 1);
    char *names[5] = {"ant", "b \"quoted\" \\ name", "caf\xc3\xa9", "tab\there", "e"};
    float mean[5 * 4 * 3];
    uint64_t seed = 9;
    acl_rand_fill(&seed, mean, 60, 0, 255);
    mean[0] = 0;
    mean[1] = 255;
    mean[2] = 1e-30f;
    struct acl_lighting light = {{0.2f, 0.0123456789f, 1e-7f}, {{0.5f, -0.6f, 0.7f}, {1, 0, 0}, {0, 0, -1}}};
    struct acl_weights_meta w = {.description = (char *)tiny_net, .class_names = names, .n_classes = 5, .mean = mean,
                                 .mean_h = 5, .mean_w = 4, .mean_c = 3, .pixel_scale = 1 / 255.0f, .lighting = &light};
    assert_int_equal(acl_weights_save_meta(net, params, path, &w), ACL_OK);

    struct acl_weights_meta r;
    assert_int_equal(acl_meta_read(path, &r), ACL_OK);
    assert_string_equal(r.description, tiny_net);
    assert_string_equal(r.model, "tiny");
    assert_int_equal(r.n_classes, 5);
    for (int k = 0; k < 5; k++)
        assert_string_equal(r.class_names[k], names[k]);
    assert_true(r.mean_h == 5 && r.mean_w == 4 && r.mean_c == 3);
    assert_memory_equal(r.mean, mean, sizeof mean);
    assert_true(r.pixel_scale == 1 / 255.0f);
    assert_non_null(r.lighting);
    assert_memory_equal(r.lighting, &light, sizeof light);
    /* the tensors keep their names and are all there is */
    struct acl_st_file *f = NULL;
    assert_int_equal(acl_st_open(path, &f), ACL_OK);
    assert_int_equal(acl_st_count(f), (size_t)net->n_tensors);
    struct acl_st_info info;
    assert_int_equal(acl_st_find(f, "c1.weight", &info), ACL_OK);
    acl_st_close(f);
    /* the net from the description alone, with the classes of the weights */
    float *loaded = NULL;
    struct acl_weights_meta r2;
    assert_int_equal(acl_weights_open_model(path, NULL, &r2, &back, &loaded), ACL_OK);
    assert_int_equal(back->classes, 5);
    assert_memory_equal(loaded, params, net->param_count * sizeof *params);
    acl_meta_free(&r2);
    acl_net_free(back);
    free(loaded);

    /* a file without any of it reads as empty, and the net then needs --model */
    assert_int_equal(acl_weights_save(net, params, path), ACL_OK);
    acl_meta_free(&r);
    assert_int_equal(acl_meta_read(path, &r), ACL_OK);
    assert_true(!r.description && !r.class_names && !r.mean && r.pixel_scale == 0 && !r.lighting);
    assert_int_equal(acl_weights_meta_net(NULL, path, &r, &back), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "--model"));
    acl_meta_free(&r);
    unlink(path);
    free(params);
    acl_net_free(net);
}

/* Decodes a file whose metadata is the given pairs; returns the status. */
static acl_status decode_pairs(const char *const *kv, int n)
{
    void *buf = NULL;
    size_t size = 0;
    struct acl_st_file *f = NULL;
    struct acl_weights_meta m;
    assert_int_equal(acl_st_write_memory(NULL, 0, kv, n, &buf, &size), ACL_OK);
    assert_int_equal(acl_st_open_memory(buf, size, "crafted", &f), ACL_OK);
    acl_status st = acl_meta_decode(f, "crafted", &m);
    if (st == ACL_OK)
        acl_meta_free(&m);
    else
        assert_true(!m.mean && !m.class_names && !m.description);
    acl_st_close(f);
    free(buf);
    return st;
}

static void malformed_metadata_is_refused(void **state)
{
    (void)state;
    /* "AAAAAAAAAAA=" is 8 zero bytes: two floats of 0 */
    const char *ok[] = {"alexnet_cl.mean_shape", "1,2,1", "alexnet_cl.mean", "AAAAAAAAAAA="};
    assert_int_equal(decode_pairs(ok, 2), ACL_OK);
    const char *bad[][4] = {
        {"alexnet_cl.mean_shape", "1,2,1", "alexnet_cl.mean", "AAAAAAAAAAB="}, /* bits past the data */
        {"alexnet_cl.mean_shape", "1,2,1", "alexnet_cl.mean", "AAAAAAAAAAA"},  /* unpadded */
        {"alexnet_cl.mean_shape", "1,2,1", "alexnet_cl.mean", "AAAAAAAA*AA="},
        {"alexnet_cl.mean_shape", "1,3,1", "alexnet_cl.mean", "AAAAAAAAAAA="}, /* another size */
        {"alexnet_cl.mean_shape", "0,2,1", "alexnet_cl.mean", ""},
        {"alexnet_cl.mean_shape", "1,1,2", "alexnet_cl.mean", "AAAAAAAAAAA="},
        {"alexnet_cl.mean_shape", "1,2,1 ", "alexnet_cl.mean", "AAAAAAAAAAA="},
        {"alexnet_cl.mean_shape", "99999,99999,3", "alexnet_cl.mean", "AAAA"},
        {"alexnet_cl.mean_shape", "1,1,1", "alexnet_cl.mean", "AACAQw=="},      /* 256.0 */
        {"alexnet_cl.mean_shape", "1,1,1", "alexnet_cl.mean", "AADAfw=="},      /* NaN */
        {"alexnet_cl.mean", "AAAAAAAAAAA=", "x", "y"},                        /* no shape */
        {"alexnet_cl.mean_shape", "1,2,1", "x", "y"},                         /* no values */
        {"alexnet_cl.classes", "not json", "x", "y"},
        {"alexnet_cl.classes", "[1, 2]", "x", "y"},
        {"alexnet_cl.classes", "[]", "x", "y"},
        {"alexnet_cl.classes", "[\"a\"] x", "x", "y"},
        {"alexnet_cl.classes", "[\"a\",]", "x", "y"},
        {"alexnet_cl.pixel_scale", "-1", "x", "y"},
        {"alexnet_cl.pixel_scale", "abc", "x", "y"},
        {"alexnet_cl.pixel_scale", "0.5 ", "x", "y"},
        {"alexnet_cl.lighting", "1 2 3 4 5 6 7 8 9 10 11", "x", "y"},
        {"alexnet_cl.lighting", "1 2 3 4 5 6 7 8 9 10 11 12 13", "x", "y"},
        {"alexnet_cl.lighting", "1 2 nan 4 5 6 7 8 9 10 11 12", "x", "y"},
        {"alexnet_cl.lighting", "1 -2 3 4 5 6 7 8 9 10 11 12", "x", "y"},
        {"alexnet_cl.lighting", "1  2 3 4 5 6 7 8 9 10 11 12", "x", "y"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        acl_status st = decode_pairs(bad[i], 2);
        if (st != ACL_ERR_FORMAT || !strstr(acl_last_error(), "crafted: metadata alexnet_cl."))
            fail_msg("case %zu (%s = %s): status %d, \"%s\"", i, bad[i][0], bad[i][1], st, acl_last_error());
    }
}

static void classification_preprocessing(void **state)
{
    (void)state;
    /* a 6x6 RGB image, base 6 (no resizing), model input 4x4: the centre, less the mean */
    uint8_t px[6 * 6 * 3];
    uint64_t seed = 2;
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)acl_rand_u32(&seed);
    px[(2 * 6 + 2) * 3] = 255, px[(2 * 6 + 2) * 3 + 1] = 0, px[(2 * 6 + 2) * 3 + 2] = 0;
    struct acl_image img = {px, 6, 6, 3};
    float mean3[6 * 6 * 3], mean1[6 * 6], out[3 * 16];
    acl_rand_fill(&seed, mean3, 108, 0, 255);
    acl_rand_fill(&seed, mean1, 36, 0, 255);
    struct acl_net *rgb = NULL, *gray = NULL;
    assert_int_equal(acl_net_parse("input channels=3 height=4 width=4\nfc name=f out=classes\n", "rgb", 3, &rgb),
                     ACL_OK);
    assert_int_equal(acl_net_parse("input channels=1 height=4 width=4\nfc name=f out=classes\n", "g", 3, &gray),
                     ACL_OK);
    struct acl_weights_meta m = {.mean = mean3, .mean_h = 6, .mean_w = 6, .mean_c = 3, .pixel_scale = 0.5f};
    struct acl_sample_prep p;
    assert_int_equal(acl_classify_prep(&p, rgb, &m, "w"), ACL_OK);
    assert_int_equal(acl_prepare_image(&p, &img, out), ACL_OK);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) {
                int at = ((y + 1) * 6 + x + 1) * 3 + c;
                assert_true(out[(c * 4 + y) * 4 + x] == ((float)px[at] - mean3[at]) * 0.5f);
            }
    /* a gray model: ITU-R 601 luma, rounded */
    m = (struct acl_weights_meta){.mean = mean1, .mean_h = 6, .mean_w = 6, .mean_c = 1};
    assert_int_equal(acl_classify_prep(&p, gray, &m, "w"), ACL_OK);
    assert_int_equal(acl_prepare_image(&p, &img, out), ACL_OK);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            int at = (y + 1) * 6 + x + 1;
            const uint8_t *q = px + 3 * at;
            unsigned luma = (q[0] * 299u + q[1] * 587u + q[2] * 114u + 500u) / 1000u;
            if (out[y * 4 + x] != (float)luma - mean1[at])
                fail_msg("pixel (%d, %d): %g, want %u - %g", y, x, out[y * 4 + x], luma, mean1[at]);
        }
    assert_true(out[1 * 4 + 1] == 76.0f - mean1[2 * 6 + 2]); /* pure red: 0.299 * 255 = 76.2 */
    /* refused: no mean, an RGB mean for a gray model, a mean smaller than the input */
    m = (struct acl_weights_meta){0};
    assert_int_equal(acl_classify_prep(&p, rgb, &m, "w.safetensors"), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "--mean"));
    m = (struct acl_weights_meta){.mean = mean3, .mean_h = 6, .mean_w = 6, .mean_c = 3};
    assert_int_equal(acl_classify_prep(&p, gray, &m, "w"), ACL_ERR_ARGUMENT);
    m = (struct acl_weights_meta){.mean = mean3, .mean_h = 3, .mean_w = 3, .mean_c = 3};
    assert_int_equal(acl_classify_prep(&p, rgb, &m, "w"), ACL_ERR_ARGUMENT);
    acl_net_free(rgb);
    acl_net_free(gray);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ten_crop_places),
        cmocka_unit_test(softmax_average_and_ranks),
        cmocka_unit_test(ten_crop_of_identical_crops_is_the_centre_crop),
        cmocka_unit_test(ten_crop_matches_the_host_reference),
        cmocka_unit_test(metadata_round_trip),
        cmocka_unit_test(malformed_metadata_is_refused),
        cmocka_unit_test(classification_preprocessing),
    };
    return cmocka_run_group_tests_name("eval", tests, NULL, NULL);
}
