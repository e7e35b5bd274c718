/* test_report.c: the run report: the filter image against hand-computed pixels (decoded back with stb_image),
 * the page's charts, escaping and embedded PNG, and metrics.jsonl read strictly, naming a bad line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/decode.h"
#include "net/net.h"
#include "train/report.h"
#include "testutil.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof tmpdir, "report");
}

static int remove_tmpdir(void **state)
{
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

/* The grid as PNG, decoded back by stb_image (through data/decode.c, which gives RGB): checks the stored
 * channel count and returns the RGB pixels. */
static struct acl_image png_roundtrip(const struct acl_filter_grid *g, int want_channels)
{
    uint8_t *png = NULL;
    size_t len = 0;
    int w = 0, h = 0, c = 0;
    struct acl_image img = {0};
    assert_int_equal(acl_filter_png(g, &png, &len), ACL_OK);
    assert_int_equal(acl_image_info(png, len, "filters.png", NULL, &w, &h, &c), ACL_OK);
    assert_int_equal(c, want_channels);
    assert_int_equal(acl_decode_image(png, len, "filters.png", NULL, &img), ACL_OK);
    assert_int_equal(img.width, g->width);
    assert_int_equal(img.height, g->height);
    free(png);
    return img;
}

static void gray_filters_tile_as_computed_by_hand(void **state)
{
    (void)state;
    /* Two 1x2x2 kernels: 0 1 / 2 3 stretches to 0 85 / 170 255; -1 1 / 1 -1 to 0 255 / 255 0. */
    const float w[8] = {0, 1, 2, 3, -1, 1, 1, -1};
    struct acl_filter_grid g;
    assert_int_equal(acl_filter_tile(w, 2, 1, 2, 2, 2, 1, &g), ACL_OK);
    /* 2 columns of 2x2 kernels at 2x (4 pixels) with a 1-pixel white gap between and around: 11 x 6. */
    static const uint8_t want[6][11] = {
        {255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
        {255, 0, 0, 85, 85, 255, 0, 0, 255, 255, 255},
        {255, 0, 0, 85, 85, 255, 0, 0, 255, 255, 255},
        {255, 170, 170, 255, 255, 255, 255, 255, 0, 0, 255},
        {255, 170, 170, 255, 255, 255, 255, 255, 0, 0, 255},
        {255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    };
    assert_int_equal(g.cols, 2);
    assert_int_equal(g.rows, 1);
    assert_int_equal(g.width, 11);
    assert_int_equal(g.height, 6);
    assert_int_equal(g.channels, 1);
    assert_memory_equal(g.pixels, want, sizeof want);
    struct acl_image img = png_roundtrip(&g, 1);
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 11; x++)
            for (int k = 0; k < 3; k++)
                if (img.data[(y * 11 + x) * 3 + k] != want[y][x])
                    fail_msg("pixel (%d, %d) channel %d: %d, want %d", x, y, k, img.data[(y * 11 + x) * 3 + k],
                             want[y][x]);
    acl_image_free(&img);
    acl_filter_grid_free(&g);
}

static void rgb_and_other_channel_counts(void **state)
{
    (void)state;
    /* One 3x1x2 kernel: R 0 1, G 1 0, B .5 .5, stretched over all three channels together (0..1). */
    const float rgb[6] = {0, 1, 1, 0, 0.5f, 0.5f};
    struct acl_filter_grid g;
    assert_int_equal(acl_filter_tile(rgb, 1, 3, 1, 2, 1, 1, &g), ACL_OK);
    assert_int_equal(g.channels, 3);
    assert_int_equal(g.width, 4);
    assert_int_equal(g.height, 3);
    struct acl_image img = png_roundtrip(&g, 3);
    const uint8_t *p = img.data + (1 * 4 + 1) * 3;
    assert_int_equal(p[0], 0);
    assert_int_equal(p[1], 255);
    assert_int_equal(p[2], 128);
    assert_int_equal(p[3], 255);
    assert_int_equal(p[4], 0);
    assert_int_equal(p[5], 128);
    assert_int_equal(img.data[0], 255); /* the border */
    acl_image_free(&img);
    acl_filter_grid_free(&g);
    /* Two channels: grey, the mean over channels ({0, 2} and {2, 4} give 1, 3: 0 and 255). */
    const float two[4] = {0, 2, 2, 4};
    assert_int_equal(acl_filter_tile(two, 1, 2, 1, 2, 1, 0, &g), ACL_OK);
    assert_int_equal(g.channels, 1);
    assert_int_equal(g.width, 2);
    assert_int_equal(g.pixels[0], 0);
    assert_int_equal(g.pixels[1], 255);
    acl_filter_grid_free(&g);
    /* A constant kernel is mid-grey; the default scale makes an 11x11 kernel 44 pixels wide. */
    float flat[121];
    for (int i = 0; i < 121; i++)
        flat[i] = 0.25f;
    assert_int_equal(acl_filter_tile(flat, 1, 1, 11, 11, 0, -1, &g), ACL_OK);
    assert_int_equal(g.scale, 4);
    assert_int_equal(g.width, 44 + 2 * 2);
    assert_int_equal(g.pixels[2 * g.width + 2], 128);
    acl_filter_grid_free(&g);
    assert_int_equal(acl_filter_tile(flat, 0, 1, 11, 11, 0, -1, &g), ACL_ERR_ARGUMENT);
}

static void grid_columns_follow_the_paper(void **state)
{
    (void)state;
    assert_int_equal(acl_filter_columns(96), 16); /* the paper's 6 rows of 16 */
    assert_int_equal(acl_filter_columns(64), 16); /* torchvision: 4 rows */
    assert_int_equal(acl_filter_columns(32), 8);  /* mini: 4 rows */
    assert_int_equal(acl_filter_columns(2), 2);
    assert_int_equal(acl_filter_columns(1), 1);
    assert_int_equal(acl_filter_columns(97), 16); /* a prime: no divisor near, the last row partial */
}

/* The points of the polyline of this class in the page. */
static int polyline_points(const char *html, const char *cls)
{
    char key[64];
    snprintf(key, sizeof key, "<polyline class=\"%s\" points=\"", cls);
    const char *p = strstr(html, key);
    if (!p)
        return -1;
    p += strlen(key);
    int n = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == ',')
            n++;
    }
    return n;
}

static int b64_value(char c)
{
    const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(abc, c) : NULL;
    return p ? (int)(p - abc) : -1;
}

/* Decodes base64 from s up to the first character outside the alphabet and padding. */
static uint8_t *b64_decode(const char *s, size_t *n)
{
    size_t len = 0;
    while (b64_value(s[len]) >= 0 || s[len] == '=')
        len++;
    assert_int_equal(len % 4, 0);
    uint8_t *out = malloc(len / 4 * 3 + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            int d = b64_value(s[i + j]);
            pad += d < 0;
            v = v << 6 | (uint32_t)(d < 0 ? 0 : d);
        }
        out[k++] = (uint8_t)(v >> 16);
        if (pad < 2)
            out[k++] = (uint8_t)(v >> 8);
        if (pad < 1)
            out[k++] = (uint8_t)v;
    }
    *n = k;
    return out;
}

static const char tiny_net[] = "input name=tiny channels=3 size=8\n"
                               "conv name=conv1 out=4 kernel=3\n"
                               "relu\n"
                               "fc name=fc out=classes\n";

/* Seven training steps over two epochs of four steps, the rate divided at step 5, two evaluations. */
static const char metrics_text[] =
    "{\"step\": 1, \"epoch\": 0, \"loss\": 2.5, \"lr\": 0.01}\n"
    "{\"step\": 2, \"epoch\": 0, \"loss\": 2.25, \"lr\": 0.01}\n"
    "{\"step\": 3, \"epoch\": 0, \"loss\": 2.0, \"lr\": 0.01}\n"
    "{\"step\": 4, \"epoch\": 0, \"loss\": 1.75, \"lr\": 0.01}\n"
    "{\"epoch\": 1, \"step\": 4, \"top1\": 0.5, \"top5\": 0.9, \"loss\": 1.6}\n"
    "{\"step\": 5, \"epoch\": 1, \"loss\": 1.5, \"lr\": 1e-3}\n"
    "{\"step\": 6, \"epoch\": 1, \"loss\": 1.25, \"lr\": 1e-3}\n"
    "{\"step\": 7, \"epoch\": 1, \"loss\": 1.0, \"lr\": 1e-3}\n"
    "{\"epoch\": 1, \"step\": 7, \"top1\": 0.625, \"top5\": 0.95, \"loss\": 1.1}\n";

static void page_has_the_charts_escapes_and_embeds_the_png(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/metrics.jsonl", tmpdir);
    test_write_file(path, metrics_text, strlen(metrics_text));
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(tiny_net, "tiny", 3, &net), ACL_OK);
    float *params = malloc(net->param_count * sizeof *params);
    acl_net_init_params(net, params, ACL_INIT_HE, 7);
    struct acl_report_info info = {.model = "net<script>&\"x\"", .data = "/data/<b>", .images_per_s = 12.5,
                                   .seconds = 75};
    assert_int_equal(acl_report_write(tmpdir, net, params, &info), ACL_OK);
    snprintf(path, sizeof path, "%s/report.html", tmpdir);
    char *html = (char *)test_read_file(path, NULL);
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(html, "</html>\n"));
    /* self-contained: nothing fetched from elsewhere */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "http"));
    assert_null(strstr(html, "<link"));
    /* outside text escaped */
    assert_null(strstr(html, "net<script>"));
    assert_non_null(strstr(html, "net&lt;script&gt;&amp;&quot;x&quot; (tiny)"));
    assert_non_null(strstr(html, "/data/&lt;b&gt;"));
    /* a point per record, the rate as its two levels, and three <svg> that close */
    assert_int_equal(polyline_points(html, "loss-raw"), 7);
    assert_int_equal(polyline_points(html, "loss-smooth"), 7);
    assert_int_equal(polyline_points(html, "top1"), 2);
    assert_int_equal(polyline_points(html, "top5"), 2);
    assert_int_equal(polyline_points(html, "lr"), 4);
    int open = 0, close = 0;
    for (const char *p = html; (p = strstr(p, "<svg")); p++)
        open++;
    for (const char *p = html; (p = strstr(p, "</svg>")); p++)
        close++;
    assert_int_equal(open, 3);
    assert_int_equal(close, 3);
    /* the summary: steps per epoch found from the records, the last evaluation */
    assert_non_null(strstr(html, "1.75 (4 steps each)"));
    assert_non_null(strstr(html, "top-1 62.50%, top-5 95.00% (step 7)"));
    assert_non_null(strstr(html, "12.5"));
    /* the data URI holds the bytes of conv1_filters.png */
    const char *uri = strstr(html, "src=\"data:image/png;base64,");
    assert_non_null(uri);
    size_t n = 0, file_n = 0;
    uint8_t *decoded = b64_decode(uri + strlen("src=\"data:image/png;base64,"), &n);
    snprintf(path, sizeof path, "%s/conv1_filters.png", tmpdir);
    unsigned char *file = test_read_file(path, &file_n);
    assert_int_equal(n, file_n);
    assert_memory_equal(decoded, file, n);
    /* and that image is conv1's 4 kernels of 3x3x3, 4 in a row at 15x (a 45-pixel tile) */
    int w = 0, h = 0, c = 0;
    assert_int_equal(acl_image_info(file, file_n, "conv1_filters.png", NULL, &w, &h, &c), ACL_OK);
    assert_int_equal(c, 3);
    assert_int_equal(w, 4 * 45 + 5 * 2);
    assert_int_equal(h, 45 + 2 * 2);
    /* the same folder gives the same page */
    assert_int_equal(acl_report_write(tmpdir, net, params, &info), ACL_OK);
    snprintf(path, sizeof path, "%s/report.html", tmpdir);
    char *again = (char *)test_read_file(path, NULL);
    assert_string_equal(html, again);
    free(again);
    free(file);
    free(decoded);
    free(html);
    free(params);
    acl_net_free(net);
}

static void long_runs_are_binned_and_empty_ones_still_make_a_page(void **state)
{
    (void)state;
    size_t n = 5000;
    char *text = malloc(n * 64);
    size_t k = 0;
    for (size_t i = 1; i <= n; i++)
        k += (size_t)sprintf(text + k, "{\"step\": %zu, \"epoch\": %zu, \"loss\": %.3f, \"lr\": 0.01}\n", i,
                             (i - 1) / 1000, 3.0 / (double)i);
    struct acl_metrics m;
    assert_int_equal(acl_metrics_parse(text, k, "big", &m), ACL_OK);
    assert_int_equal(m.n_train, n);
    struct acl_json_buf b = {0};
    acl_report_html(&b, &m, NULL, NULL, NULL, NULL, NULL, 0);
    assert_false(b.failed);
    assert_int_equal(polyline_points(b.p, "loss-raw"), 1200);
    assert_int_equal(polyline_points(b.p, "loss-smooth"), 1200);
    assert_int_equal(polyline_points(b.p, "lr"), 2);
    assert_non_null(strstr(b.p, "5.00 (1000 steps each)"));
    assert_non_null(strstr(b.p, "No evaluation records yet."));
    free(b.p);
    acl_metrics_free(&m);
    free(text);
    /* no records at all */
    assert_int_equal(acl_metrics_parse("", 0, "empty", &m), ACL_OK);
    memset(&b, 0, sizeof b);
    acl_report_html(&b, &m, NULL, NULL, NULL, NULL, NULL, 0);
    assert_non_null(strstr(b.p, "No training records yet."));
    assert_null(strstr(b.p, "<svg"));
    free(b.p);
    acl_metrics_free(&m);
}

static void base64_matches_known_strings(void **state)
{
    (void)state;
    static const char *const cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                                          {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct acl_json_buf b = {0};
        acl_base64(&b, (const uint8_t *)cases[i][0], strlen(cases[i][0]));
        assert_string_equal(b.p ? b.p : "", cases[i][1]);
        free(b.p);
    }
}

static void metrics_lines_are_read_strictly(void **state)
{
    (void)state;
    struct acl_metrics m;
    static const struct {
        const char *text, *part;
    } bad[] = {
        {"{\"step\": 1, \"epoch\": 0, \"loss\": 2, \"lr\": 0.1}\n{\"step\": 2, \"epoch\": 0, \"loss\": }\n", "line 2: byte 32"},
        {"{\"step\": 1, \"epoch\": 0, \"loss\": 2, \"lr\": 0.1}\n\n{\"step\": 2, \"epoch\": 0, \"lr\": 0.1}\n",
         "line 3: neither a training record"},
        {"{\"step\": 1, \"epoch\": 0, \"loss\": 02, \"lr\": 0.1}\n", "line 1: byte 32: number with a leading zero"},
        {"{\"step\": 1, \"epoch\": 0, \"loss\": 2., \"lr\": 0.1}\n", "line 1: byte 32: a digit must follow"},
        {"{\"step\": 1, \"epoch\": 0, \"loss\": 1e999, \"lr\": 0.1}\n", "does not fit a double"},
        {"{\"step\": -1, \"epoch\": 0, \"loss\": 2, \"lr\": 0.1}\n", "line 1: byte 9: negative number"},
        {"{\"step\": 1, \"step\": 2, \"epoch\": 0, \"loss\": 2, \"lr\": 0.1}\n", "\"step\" appears twice"},
        {"{\"epoch\": 1, \"top1\": 0.5}\n", "line 1: an evaluation record needs"},
        {"{\"epoch\": 1, \"top1\": 50, \"top5\": 90}\n", "fractions from 0 to 1"},
        {"{\"step\": 1, \"epoch\": 0, \"loss\": 2, \"lr\": 0.1, \"x\": [1]}\n", "holds an object or array"},
        {"[1]\n", "line 1: byte 0: expected '{'"},
        {"{\"step\": 1, \"epoch\": 0, \"loss\": 2, \"lr\": 0.1} x\n", "line 1: byte 46: expected nothing after"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        acl_status st = acl_metrics_parse(bad[i].text, strlen(bad[i].text), "run/metrics.jsonl", &m);
        test_expect_status(st, ACL_ERR_FORMAT, bad[i].part);
        test_expect_status(st, ACL_ERR_FORMAT, "run/metrics.jsonl line ");
    }
    /* Through the file, as `report` meets it: the message names the file and the line. */
    char path[256];
    snprintf(path, sizeof path, "%s/bad", tmpdir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/bad/metrics.jsonl", tmpdir);
    test_write_file(path, bad[0].text, strlen(bad[0].text));
    snprintf(path, sizeof path, "%s/bad", tmpdir);
    test_expect_status(acl_report_write(path, NULL, NULL, NULL), ACL_ERR_FORMAT, "bad/metrics.jsonl line 2: ");
    snprintf(path, sizeof path, "%s/none", tmpdir);
    test_expect_status(acl_report_write(path, NULL, NULL, NULL), ACL_ERR_IO, "none/metrics.jsonl");

    /* Other scalar keys are ignored; an unterminated last line that does not parse is a write cut short. */
    static const char ok[] = "{\"step\": 1, \"epoch\": 0, \"loss\": 2.5e-1, \"lr\": 0.1, \"note\": \"a\\\"b\", "
                             "\"t\": -3.5E+2, \"ok\": true, \"n\": null}\n{\"step\": 2, \"epo";
    assert_int_equal(acl_metrics_parse(ok, strlen(ok), "ok", &m), ACL_OK);
    assert_int_equal(m.n_train, 1);
    assert_true(m.train[0].loss == 0.25);
    assert_int_equal(m.skipped_tail, 1);
    acl_metrics_free(&m);

    /* A resumed run appends from its checkpoint's step: the later records replace the abandoned ones. */
    static const char resumed[] = "{\"step\": 1, \"epoch\": 0, \"loss\": 3, \"lr\": 0.1}\n"
                                  "{\"step\": 2, \"epoch\": 0, \"loss\": 2, \"lr\": 0.1}\n"
                                  "{\"epoch\": 0, \"step\": 2, \"top1\": 0.1, \"top5\": 0.5}\n"
                                  "{\"epoch\": 0, \"top1\": 0.2, \"top5\": 0.6}\n"
                                  "{\"step\": 3, \"epoch\": 0, \"loss\": 1, \"lr\": 0.1}\n"
                                  "{\"step\": 2, \"epoch\": 0, \"loss\": 2.5, \"lr\": 0.1}\n"
                                  "{\"step\": 3, \"epoch\": 0, \"loss\": 1.5, \"lr\": 0.1}\n";
    assert_int_equal(acl_metrics_parse(resumed, strlen(resumed), "resumed", &m), ACL_OK);
    assert_int_equal(m.n_train, 3);
    assert_true(m.train[1].loss == 2.5);
    assert_true(m.train[2].loss == 1.5);
    assert_int_equal(m.n_eval, 1); /* the step-2 evaluation was dropped; the one without a step is kept */
    assert_true(m.eval[0].top1 == 0.2);
    acl_metrics_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gray_filters_tile_as_computed_by_hand),
        cmocka_unit_test(rgb_and_other_channel_counts),
        cmocka_unit_test(grid_columns_follow_the_paper),
        cmocka_unit_test(base64_matches_known_strings),
        cmocka_unit_test(page_has_the_charts_escapes_and_embeds_the_png),
        cmocka_unit_test(long_runs_are_binned_and_empty_ones_still_make_a_page),
        cmocka_unit_test(metrics_lines_are_read_strictly),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
