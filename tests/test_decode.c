/* test_decode.c: JPEG/PNG decoding: colour conversion, and refusal of empty, non-image, truncated and oversized
 * files (the last before any large allocation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/decode.h"
#include "datatest.h"
#include "testutil.h"

static void assert_message_has(const char *what)
{
    const char *m = acl_last_error();
    if (!strstr(m, what))
        fail_msg("message '%s' lacks '%s'", m, what);
}

static void png_gray_rgb_rgba_become_rgb(void **state)
{
    (void)state;
    enum { H = 5, W = 7 };
    for (int c = 1; c <= 4; c++) {
        uint8_t *px = pattern(H, W, c, 11 * c);
        struct bytes png = encode_png(px, H, W, c);
        struct acl_image img;
        assert_int_equal(acl_decode_image(png.p, png.n, "p.png", NULL, &img), ACL_OK);
        assert_int_equal(img.height, H);
        assert_int_equal(img.width, W);
        assert_int_equal(img.channels, 3);
        for (int i = 0; i < H * W; i++)
            for (int k = 0; k < 3; k++) {
                /* gray (and gray+alpha) repeat the gray value; RGBA drops alpha */
                int src = c <= 2 ? px[i * c] : px[i * c + k];
                assert_int_equal(img.data[i * 3 + k], src);
            }
        int w, h, n;
        assert_int_equal(acl_image_info(png.p, png.n, "p.png", NULL, &w, &h, &n), ACL_OK);
        assert_true(w == W && h == H && n == c);
        acl_image_free(&img);
        assert_null(img.data);
        free(png.p);
        free(px);
    }
}

static void jpeg_decodes_close_to_source(void **state)
{
    (void)state;
    enum { H = 32, W = 48 };
    uint8_t *px = pattern(H, W, 3, 5);
    struct bytes jpg = encode_jpg(px, H, W, 3);
    struct acl_image img;
    assert_int_equal(acl_decode_image(jpg.p, jpg.n, "a.jpg", NULL, &img), ACL_OK);
    assert_true(img.height == H && img.width == W && img.channels == 3);
    double err = 0;
    for (int i = 0; i < H * W * 3; i++)
        err += abs((int)img.data[i] - (int)px[i]);
    assert_true(err / (H * W * 3) < 4.0); /* quality 95 on a smooth gradient */
    acl_image_free(&img);

    /* Bytes after the end-of-image marker are common (camera trailers) and allowed. */
    struct bytes more = {0};
    bytes_put(&more, jpg.p, jpg.n);
    bytes_put(&more, "trailing junk", 13);
    assert_int_equal(acl_decode_image(more.p, more.n, "b.jpg", NULL, &img), ACL_OK);
    acl_image_free(&img);
    free(more.p);

    /* A gray JPEG becomes RGB too. */
    uint8_t *g = pattern(H, W, 1, 9);
    struct bytes gj = encode_jpg(g, H, W, 1);
    assert_int_equal(acl_decode_image(gj.p, gj.n, "g.jpg", NULL, &img), ACL_OK);
    assert_int_equal(img.channels, 3);
    assert_true(img.data[0] == img.data[1] && img.data[1] == img.data[2]);
    acl_image_free(&img);
    free(gj.p);
    free(g);
    free(jpg.p);
    free(px);
}

static void truncated_jpeg_is_refused(void **state)
{
    (void)state;
    enum { H = 40, W = 40 };
    uint8_t *px = pattern(H, W, 3, 1);
    struct bytes jpg = encode_jpg(px, H, W, 3);
    struct acl_image img;
    /* Cut at several places: in the headers, at the start of the scan, in the middle, just before EOI. */
    size_t cuts[] = {3, 20, jpg.n / 2, jpg.n - 2, jpg.n - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        assert_int_equal(acl_decode_image(jpg.p, cuts[k], "cut.jpg", NULL, &img), ACL_ERR_FORMAT);
        assert_message_has("cut.jpg");
        assert_null(img.data);
    }
    assert_int_equal(acl_decode_image(jpg.p, jpg.n / 2, "cut.jpg", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("truncated");

    /* An end marker inside an APP1 segment (an EXIF thumbnail ends with one) must not hide a truncation. */
    struct bytes app = {0};
    bytes_put(&app, jpg.p, 2); /* SOI */
    static const uint8_t app1[] = {0xFF, 0xE1, 0x00, 0x08, 0xFF, 0xD8, 0xFF, 0xD9, 0x00, 0x00};
    bytes_put(&app, app1, sizeof app1);
    bytes_put(&app, jpg.p + 2, jpg.n - 2);
    assert_int_equal(acl_decode_image(app.p, app.n, "app.jpg", NULL, &img), ACL_OK);
    acl_image_free(&img);
    assert_int_equal(acl_decode_image(app.p, app.n - app.n / 3, "app.jpg", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("truncated");
    free(app.p);
    free(jpg.p);
    free(px);
}

static void jpeg_structure_is_checked_before_stb(void **state)
{
    (void)state;
    uint8_t *px = pattern(16, 16, 3, 4);
    struct bytes jpg = encode_jpg(px, 16, 16, 3);
    struct acl_image img;
    /* FF fill bytes before the start-of-image marker are allowed (stb_image takes them too). */
    struct bytes fill = {0};
    bytes_put(&fill, "\xFF\xFF", 2);
    bytes_put(&fill, jpg.p, jpg.n);
    assert_int_equal(acl_decode_image(fill.p, fill.n, "fill.jpg", NULL, &img), ACL_OK);
    acl_image_free(&img);
    /* A Huffman table whose code counts add up past 256 would overflow stb_image 2.27's tables: refused first,
     * also behind fill bytes (found by fuzz_image). */
    size_t dht = 0;
    while (dht + 4 < jpg.n && !(jpg.p[dht] == 0xFF && jpg.p[dht + 1] == 0xC4))
        dht++;
    assert_true(dht + 4 < jpg.n);
    for (size_t i = 0; i < 16; i++) /* the first table's counts: 16 x 255 codes */
        jpg.p[dht + 5 + i] = 255;
    assert_int_equal(acl_decode_image(jpg.p, jpg.n, "dht.jpg", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("more than 256 codes");
    int w, h, c;
    assert_int_equal(acl_image_info(jpg.p, jpg.n, "dht.jpg", NULL, &w, &h, &c), ACL_ERR_FORMAT);
    memcpy(fill.p + 2, jpg.p, jpg.n);
    assert_int_equal(acl_decode_image(fill.p, fill.n, "dht.jpg", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("more than 256 codes");
    /* Counts that fit but run past the segment. */
    memset(jpg.p + dht + 5, 0, 16);
    jpg.p[dht + 5 + 7] = 250;
    assert_int_equal(acl_decode_image(jpg.p, jpg.n, "dht.jpg", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("Huffman table");
    free(fill.p);
    free(jpg.p);
    free(px);
}

/* JPEGs whose entropy-coded data drive stb_image 2.27 past what C defines (found by fuzz_image): each decodes to
 * some picture of the size its header gives, or is refused with a message; never a crash. The sanitizer build
 * (scripts/test.sh) runs this with UndefinedBehaviorSanitizer stopping at the first report, so it also checks
 * that stb_image_impl.c keeps its own flags. */
static void corrupt_entropy_data_decodes_or_is_refused(void **state)
{
    (void)state;
    static const char *const files[] = {"stb_negative_bit_count.jpg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", ACL_TEST_DATA, files[i]);
        uint8_t *buf;
        size_t len;
        assert_int_equal(acl_read_file(path, 1 << 20, &buf, &len), ACL_OK);
        int w, h, c;
        assert_int_equal(acl_image_info(buf, len, files[i], NULL, &w, &h, &c), ACL_OK);
        struct acl_image img;
        acl_status st = acl_decode_image(buf, len, files[i], NULL, &img);
        if (st == ACL_OK) {
            assert_true(img.width == w && img.height == h && img.channels == 3);
            acl_image_free(&img);
        } else {
            assert_int_equal(st, ACL_ERR_FORMAT);
            assert_message_has(files[i]);
        }
        free(buf);
    }
}

static void empty_and_non_images_are_refused(void **state)
{
    (void)state;
    struct acl_image img;
    assert_int_equal(acl_decode_image((const uint8_t *)"", 0, "zero.jpg", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("zero.jpg");
    assert_message_has("empty");
    const char *text = "this is a text file, not a picture\n";
    assert_int_equal(acl_decode_image((const uint8_t *)text, strlen(text), "notes.png", NULL, &img),
                     ACL_ERR_FORMAT);
    assert_message_has("notes.png");
    assert_message_has("not a JPEG or PNG");
    assert_message_has("stb_image:");
    /* A GIF or BMP is not accepted either (only JPEG and PNG are built in). */
    const char *gif = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    assert_int_equal(acl_decode_image((const uint8_t *)gif, 14, "x.gif", NULL, &img), ACL_ERR_FORMAT);
}

static void truncated_png_is_refused(void **state)
{
    (void)state;
    uint8_t *px = pattern(16, 16, 3, 2);
    struct bytes png = encode_png(px, 16, 16, 3);
    struct acl_image img;
    assert_int_equal(acl_decode_image(png.p, png.n - 5, "cut.png", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("cut.png");
    assert_message_has("truncated");
    assert_int_equal(acl_decode_image(png.p, 30, "cut.png", NULL, &img), ACL_ERR_FORMAT);
    free(png.p);
    free(px);
}

static void huge_header_is_refused_before_allocating(void **state)
{
    (void)state;
    struct acl_image img;
    int w, h, c;
    /* 100000 x 100000: past stb_image's own ceiling as well as ours. */
    struct bytes png = png_claiming(100000, 100000);
    acl_decode_reset_peak_alloc();
    assert_int_equal(acl_decode_image(png.p, png.n, "huge.png", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("huge.png");
    assert_message_has("100000x100000");
    assert_null(img.data);
    assert_true(acl_decode_peak_alloc() < (1 << 20));
    assert_int_equal(acl_image_info(png.p, png.n, "huge.png", NULL, &w, &h, &c), ACL_ERR_FORMAT);
    free(png.p);

    /* 20000 x 100: within stb's ceiling, over our 16384 a side. */
    png = png_claiming(20000, 100);
    acl_decode_reset_peak_alloc();
    assert_int_equal(acl_decode_image(png.p, png.n, "wide.png", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("20000x100");
    assert_true(acl_decode_peak_alloc() < (1 << 20));
    free(png.p);

    /* 12000 x 12000 = 144 Mpx: each side is fine, the pixel count is not. */
    png = png_claiming(12000, 12000);
    acl_decode_reset_peak_alloc();
    assert_int_equal(acl_decode_image(png.p, png.n, "big.png", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("pixels");
    assert_true(acl_decode_peak_alloc() < (1 << 20));
    free(png.p);

    /* A real JPEG whose start-of-frame is patched to claim 60000 x 50000. */
    uint8_t *px = pattern(8, 8, 3, 1);
    struct bytes jpg = encode_jpg(px, 8, 8, 3);
    size_t sof = 2;
    while (sof + 9 < jpg.n && !(jpg.p[sof] == 0xFF && jpg.p[sof + 1] == 0xC0))
        sof++;
    assert_true(sof + 9 < jpg.n);
    jpg.p[sof + 5] = 50000 >> 8;
    jpg.p[sof + 6] = 50000 & 255;
    jpg.p[sof + 7] = 60000 >> 8;
    jpg.p[sof + 8] = 60000 & 255;
    acl_decode_reset_peak_alloc();
    assert_int_equal(acl_decode_image(jpg.p, jpg.n, "huge.jpg", NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("60000x50000");
    assert_true(acl_decode_peak_alloc() < (1 << 20));
    free(jpg.p);
    free(px);

    /* Caller's limits: a 64x64 header against a 32-pixel side limit. */
    png = png_claiming(64, 64);
    struct acl_decode_limits lim = {32, 1000000, 1 << 20};
    assert_int_equal(acl_image_info(png.p, png.n, "s.png", &lim, &w, &h, &c), ACL_ERR_FORMAT);
    lim.max_side = 64;
    assert_int_equal(acl_image_info(png.p, png.n, "s.png", &lim, &w, &h, &c), ACL_OK);
    assert_true(w == 64 && h == 64 && c == 3);
    /* Its data is one byte where 64 rows are needed: decoding fails, cleanly. */
    assert_int_equal(acl_decode_image(png.p, png.n, "s.png", &lim, &img), ACL_ERR_FORMAT);
    assert_message_has("stb_image:");
    free(png.p);
}

static void files_are_read_with_their_path_in_errors(void **state)
{
    (void)state;
    char dir[256], path[512];
    temp_folder(dir, sizeof dir);
    struct acl_image img;
    snprintf(path, sizeof path, "%s/missing.png", dir);
    assert_int_equal(acl_decode_file(path, NULL, &img), ACL_ERR_IO);
    assert_message_has(path);
    assert_int_equal(acl_decode_file(dir, NULL, &img), ACL_ERR_IO); /* a folder */

    uint8_t *px = pattern(6, 4, 3, 3);
    struct bytes png = encode_png(px, 6, 4, 3);
    snprintf(path, sizeof path, "%s/ok.png", dir);
    write_bytes(path, png.p, png.n);
    assert_int_equal(acl_decode_file(path, NULL, &img), ACL_OK);
    assert_int_equal(memcmp(img.data, px, 6 * 4 * 3), 0);
    acl_image_free(&img);
    struct acl_decode_limits lim = {100, 10000, 10}; /* a file over max_file_bytes is not even read */
    assert_int_equal(acl_decode_file(path, &lim, &img), ACL_ERR_FORMAT);
    assert_message_has("over the limit");

    snprintf(path, sizeof path, "%s/zero.jpg", dir);
    write_bytes(path, "", 0);
    assert_int_equal(acl_decode_file(path, NULL, &img), ACL_ERR_FORMAT);
    assert_message_has("zero.jpg");
    free(png.p);
    free(px);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_gray_rgb_rgba_become_rgb),
        cmocka_unit_test(jpeg_decodes_close_to_source),
        cmocka_unit_test(truncated_jpeg_is_refused),
        cmocka_unit_test(jpeg_structure_is_checked_before_stb),
        cmocka_unit_test(corrupt_entropy_data_decodes_or_is_refused),
        cmocka_unit_test(empty_and_non_images_are_refused),
        cmocka_unit_test(truncated_png_is_refused),
        cmocka_unit_test(huge_header_is_refused_before_allocating),
        cmocka_unit_test(files_are_read_with_their_path_in_errors),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
