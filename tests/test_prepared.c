/* test_prepared.c: prepared datasets: a small image folder prepared and read back (pixels, labels, class names,
 * per-image checksums, the same file whatever the thread count), the same batches and mean image as the folder for
 * the same seed, bad images skipped or too many of them stopping the run with nothing left behind, and damaged
 * files (truncated, wrong magic, wrong version, a header claiming more images than the file holds, corrupt tables
 * or pixels) refused with a message that says so; an interrupted run leaves nothing behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/prepared.h"
#include "data/resize.h"
#include "datatest.h"
#include "net/net.h"
#include "runtime/hash.h"
#include "testutil.h"
#include "train/loader.h"
#include "train/sources.h"

static char root[256];

static void assert_message_has(const char *what)
{
    const char *m = acl_last_error();
    if (!strstr(m, what))
        fail_msg("message '%s' lacks '%s'", m, what);
}

static char *at(const char *rel)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", root, rel);
    return path[k];
}

/* An (h, w) RGB image under root: JPEG when the name ends in .jpg, else PNG. */
static void put_image(const char *rel, int h, int w, int seed)
{
    uint8_t *px = pattern(h, w, 3, seed);
    const char *dot = strrchr(rel, '.');
    struct bytes b = !strcmp(dot, ".jpg") ? encode_jpg(px, h, w, 3) : encode_png(px, h, w, 3);
    write_bytes(at(rel), b.p, b.n);
    free(b.p);
    free(px);
}

/* The folder f: three classes, JPEGs and PNGs, smaller and larger than 256, elongated both ways. */
static int make_root(void **state)
{
    (void)state;
    temp_folder(root, sizeof root);
    make_folder(at("f"));
    make_folder(at("f/ant"));
    make_folder(at("f/bee"));
    make_folder(at("f/cat"));
    put_image("f/ant/1.jpg", 300, 410, 1);
    put_image("f/ant/2.png", 100, 80, 2);
    put_image("f/bee/a.jpg", 256, 256, 3);
    put_image("f/bee/b.png", 40, 600, 4);
    put_image("f/cat/z.jpg", 511, 257, 5);
    put_image("f/cat/y.png", 64, 64, 6);
    return 0;
}

static int drop_root(void **state)
{
    (void)state;
    remove_tree(root);
    return 0;
}

static struct acl_dataset *open_folder(const char *rel)
{
    struct acl_dataset *ds = NULL;
    if (acl_dataset_open_folder(&ds, at(rel), NULL) != ACL_OK)
        fail_msg("opening %s: %s", rel, acl_last_error());
    return ds;
}

/* Prepares folder rel into out at size s with n threads. */
static void prepare(const char *rel, const char *out, int s, int threads)
{
    struct acl_dataset *ds = open_folder(rel);
    struct acl_prepare_options opt = {.size = s, .threads = threads};
    struct acl_prepare_report rep;
    if (acl_prepare_write(ds, at(out), &opt, &rep) != ACL_OK)
        fail_msg("preparing %s: %s", rel, acl_last_error());
    assert_int_equal(rep.written, ds->count);
    assert_int_equal(rep.bad, 0);
    acl_dataset_free(ds);
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* ---- round trip -------------------------------------------------------------------------------- */

static void round_trip_keeps_images_labels_and_names(void **state)
{
    (void)state;
    prepare("f", "f.prep", 256, 3);
    assert_false(exists(at("f.prep.tmp")));
    struct acl_dataset *src = open_folder("f");
    /* recognized by its magic through the folder opener, as train opens --data */
    struct acl_dataset *p = open_folder("f.prep");
    assert_true(acl_dataset_is_prepared(p));
    assert_int_equal(p->count, 6);
    assert_int_equal(p->num_classes, 3);
    assert_int_equal(p->height, 256);
    assert_int_equal(p->width, 256);
    assert_int_equal(p->channels, 3);
    for (int k = 0; k < 3; k++)
        assert_string_equal(p->class_names[k], src->class_names[k]);
    size_t n = 256 * 256 * 3;
    uint8_t *want = malloc(n);
    for (size_t i = 0; i < p->count; i++) {
        assert_int_equal(p->labels[i], src->labels[i]);
        struct acl_image img, got;
        assert_int_equal(acl_dataset_read(src, i, &img), ACL_OK);
        assert_int_equal(acl_resize_shorter_crop(want, 256, img.data, img.height, img.width, 3), ACL_OK);
        assert_int_equal(acl_dataset_read(p, i, &got), ACL_OK);
        assert_int_equal(got.height, 256);
        assert_memory_equal(got.data, want, n);
        acl_image_free(&img);
        acl_image_free(&got);
    }
    size_t bad = 99;
    assert_int_equal(acl_prepared_verify(p, 2, &bad), ACL_OK);
    assert_int_equal(bad, 0);
    /* the mean image is the average of the stored images */
    float *mean = malloc(n * sizeof *mean);
    assert_int_equal(acl_prepared_mean(p, mean), ACL_OK);
    for (size_t k = 0; k < n; k += 997) {
        double s = 0;
        for (size_t i = 0; i < p->count; i++)
            s += p->pixels[i * n + k];
        assert_true(mean[k] == (float)(s / 6));
    }
    free(mean);
    free(want);
    acl_dataset_free(p);
    acl_dataset_free(src);
}

static void same_file_whatever_the_threads(void **state)
{
    (void)state;
    prepare("f", "one.bin", 256, 1);
    prepare("f", "four.bin", 256, 4);
    size_t a_n, b_n;
    unsigned char *a = test_read_file(at("one.bin"), &a_n), *b = test_read_file(at("four.bin"), &b_n);
    assert_int_equal(a_n, b_n);
    assert_memory_equal(a, b, a_n);
    free(a);
    free(b);
    /* a name without .prep is still recognized */
    struct acl_dataset *p = open_folder("one.bin");
    assert_int_equal(p->count, 6);
    acl_dataset_free(p);
    /* and a regular file that is not prepared is still "not a folder" */
    write_text(at("notes.txt"), "hello");
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_folder(&ds, at("notes.txt"), NULL), ACL_ERR_IO);
    assert_message_has("is not a folder");
    /* a prepared file has no splits */
    assert_int_equal(acl_dataset_open_folder(&ds, at("one.bin"), "train"), ACL_ERR_IO);
    assert_message_has("no 'train' split");
}

static void list_file_with_labels(void **state)
{
    (void)state;
    write_text(at("list.txt"), "f/cat/z.jpg 1\nf/ant/2.png 0\n");
    write_text(at("labels.txt"), "zero\none\n");
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_list(&ds, at("list.txt"), NULL), ACL_OK);
    assert_int_equal(acl_dataset_set_labels(ds, at("labels.txt")), ACL_OK);
    struct acl_prepare_options opt = {.size = 32, .threads = 2};
    assert_int_equal(acl_prepare_write(ds, at("list.prep"), &opt, NULL), ACL_OK);
    acl_dataset_free(ds);
    assert_int_equal(acl_prepared_open(&ds, at("list.prep")), ACL_OK);
    assert_int_equal(ds->count, 2);
    assert_int_equal(ds->height, 32);
    assert_int_equal(ds->labels[0], 1);
    assert_int_equal(ds->labels[1], 0);
    assert_string_equal(ds->class_names[1], "one");
    acl_dataset_free(ds);
}

/* ---- the same batches as the folder -------------------------------------------------------------- */

/* Every batch of one epoch of both sources, compared bit for bit. */
static void same_batches(const struct acl_source *a, const struct acl_source *b, int train, uint64_t epoch)
{
    struct acl_loader la, lb;
    assert_int_equal(acl_loader_start(&la, a, 4, 7, epoch, 0, train, train, 2), ACL_OK);
    assert_int_equal(acl_loader_start(&lb, b, 4, 7, epoch, 0, train, train, 3), ACL_OK);
    size_t sample = (size_t)a->c * a->h * a->w;
    int batches = 0;
    for (;;) {
        const float *xa, *xb;
        const int *ya, *yb;
        int na, nb;
        assert_int_equal(acl_loader_next(&la, &xa, &ya, &na), ACL_OK);
        assert_int_equal(acl_loader_next(&lb, &xb, &yb, &nb), ACL_OK);
        assert_int_equal(na, nb);
        if (na == 0)
            break;
        assert_memory_equal(ya, yb, (size_t)na * sizeof *ya);
        assert_memory_equal(xa, xb, (size_t)na * sample * sizeof *xa);
        acl_loader_done(&la);
        acl_loader_done(&lb);
        batches++;
    }
    assert_int_equal(batches, 2);
    acl_loader_stop(&la);
    acl_loader_stop(&lb);
}

static void same_batches_and_mean_as_the_folder(void **state)
{
    (void)state;
    prepare("f", "same.prep", 256, 2);
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_load("paper", 3, &net), ACL_OK);
    struct acl_sources fs, ps, mixed;
    assert_int_equal(acl_sources_open(&fs, at("f"), at("f"), 0), ACL_OK);
    assert_int_equal(acl_sources_open(&ps, at("same.prep"), at("same.prep"), 0), ACL_OK);
    assert_int_equal(acl_sources_open(&mixed, at("same.prep"), at("f"), 0), ACL_OK);
    assert_true(ps.has_val);
    assert_int_equal(ps.train.count, 6);
    assert_int_equal(ps.train.classes, 3);
    assert_int_equal(acl_sources_fit(&fs, net), ACL_OK);
    assert_int_equal(acl_sources_fit(&ps, net), ACL_OK);
    assert_int_equal(acl_sources_fit(&mixed, net), ACL_OK);
    assert_memory_equal(fs.mean, ps.mean, 256 * 256 * 3 * sizeof(float));
    for (uint64_t epoch = 0; epoch < 2; epoch++)
        same_batches(&fs.train, &ps.train, 1, epoch);
    same_batches(&fs.val, &ps.val, 0, 0);
    same_batches(&fs.val, &mixed.val, 0, 0); /* a folder beside a prepared training set */
    acl_sources_close(&fs);
    acl_sources_close(&ps);
    acl_sources_close(&mixed);

    /* a prepared file smaller than the model's input is refused, naming the size to prepare */
    prepare("f", "small.prep", 64, 1);
    struct acl_sources ss;
    assert_int_equal(acl_sources_open(&ss, at("small.prep"), NULL, 0), ACL_OK);
    assert_int_equal(ss.has_val, 0);
    assert_int_equal(acl_sources_fit(&ss, net), ACL_ERR_ARGUMENT);
    assert_message_has("--size 227");
    acl_sources_close(&ss);
    acl_net_free(net);
}

/* ---- bad images -------------------------------------------------------------------------------- */

static int bad_seen;

static void count_bad(const char *message, void *user)
{
    (void)user;
    if (strstr(message, "empty.jpg") || strstr(message, "junk.png"))
        bad_seen++;
}

static void bad_images_skipped_or_stopping(void **state)
{
    (void)state;
    make_folder(at("g"));
    make_folder(at("g/a"));
    make_folder(at("g/b"));
    put_image("g/a/1.png", 20, 30, 1);
    put_image("g/a/2.jpg", 30, 20, 2);
    write_bytes(at("g/a/empty.jpg"), "", 0);
    put_image("g/b/3.png", 25, 25, 3);
    write_text(at("g/b/junk.png"), "not a png at all");
    struct acl_dataset *ds = open_folder("g");
    assert_int_equal(acl_dataset_set_bad_policy(ds, 0.5, count_bad, NULL), ACL_OK);
    struct acl_prepare_options opt = {.size = 16, .threads = 2};
    struct acl_prepare_report rep;
    bad_seen = 0;
    assert_int_equal(acl_prepare_write(ds, at("g.prep"), &opt, &rep), ACL_OK);
    assert_int_equal(rep.written, 3);
    assert_int_equal(rep.bad, 2);
    assert_int_equal(bad_seen, 2);
    acl_dataset_free(ds);
    struct acl_dataset *p = open_folder("g.prep");
    assert_int_equal(p->count, 3);
    assert_int_equal(acl_prepared_bad_count(p), 2);
    assert_int_equal(p->labels[0], 0);
    assert_int_equal(p->labels[1], 0);
    assert_int_equal(p->labels[2], 1);
    acl_dataset_free(p);

    /* too many: an error that says so, the earlier file untouched and no temporary left */
    write_text(at("keep.prep"), "the previous file");
    ds = open_folder("g");
    assert_int_equal(acl_dataset_set_bad_policy(ds, 0.2, NULL, NULL), ACL_OK);
    assert_int_equal(acl_prepare_write(ds, at("keep.prep"), &opt, &rep), ACL_ERR_FORMAT);
    assert_message_has("files are bad");
    acl_dataset_free(ds);
    assert_false(exists(at("keep.prep.tmp")));
    size_t n;
    unsigned char *kept = test_read_file(at("keep.prep"), &n);
    assert_string_equal((char *)kept, "the previous file");
    free(kept);
    ds = open_folder("g");
    assert_int_equal(acl_dataset_set_bad_policy(ds, 0, NULL, NULL), ACL_OK);
    assert_int_equal(acl_prepare_write(ds, at("none.prep"), &opt, &rep), ACL_ERR_FORMAT);
    acl_dataset_free(ds);
    assert_false(exists(at("none.prep")));
    assert_false(exists(at("none.prep.tmp")));

    /* interrupted (Ctrl-C in the CLI): stopped after the first chunk, nothing left */
    static volatile sig_atomic_t stop = 1;
    ds = open_folder("g");
    assert_int_equal(acl_dataset_set_bad_policy(ds, 0.5, NULL, NULL), ACL_OK);
    opt.interrupt = &stop;
    assert_int_equal(acl_prepare_write(ds, at("stop.prep"), &opt, &rep), ACL_ERR_INTERRUPTED);
    assert_message_has("interrupted");
    acl_dataset_free(ds);
    assert_false(exists(at("stop.prep")));
    assert_false(exists(at("stop.prep.tmp")));
}

/* ---- damaged files ----------------------------------------------------------------------------- */

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

/* Rewrites the checksum at the end of a file after an edit, so a check past it is reached. */
static void fix_checksum(unsigned char *d, size_t size)
{
    uint64_t table = le64(d + 48), names = le64(d + 56), names_bytes = le64(d + 64), sums = le64(d + 72);
    uint64_t count = le64(d + 16), image = (uint64_t)(d[24] | d[25] << 8) * (uint64_t)(d[28] | d[29] << 8) * d[32];
    uint64_t h = acl_fnv1a(ACL_FNV_OFFSET, d, 128);
    h = acl_fnv1a(h, d + table, count * 8);
    h = acl_fnv1a(h, d + names, names_bytes);
    h = acl_fnv1a(h, d + sums, image * 8);
    put_le64(d + size - 8, h);
}

/* Expects the bytes to be refused with ACL_ERR_FORMAT and a message holding what. */
static void refused(const unsigned char *d, size_t size, const char *what)
{
    struct acl_dataset *ds = NULL;
    unsigned char *copy = malloc(size ? size : 1); /* exactly size bytes, so a read past them is caught by ASan */
    memcpy(copy, d, size);
    acl_status st = acl_prepared_open_memory(&ds, copy, size, "damaged.prep");
    if (st != ACL_ERR_FORMAT)
        fail_msg("%zu bytes: status %d (%s), wanted a format error with '%s'", size, st, acl_last_error(), what);
    assert_null(ds);
    assert_message_has("damaged.prep");
    assert_message_has(what);
    free(copy);
}

static void damaged_files_are_refused(void **state)
{
    (void)state;
    prepare("f", "good.prep", 48, 2);
    size_t n;
    unsigned char *good = test_read_file(at("good.prep"), &n);
    unsigned char *d = malloc(n);
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_prepared_open_memory(&ds, good, n, "good.prep"), ACL_OK);
    acl_dataset_free(ds);

    /* truncated anywhere */
    const size_t cuts[] = {0, 3, 8, 100, 135, 136, 4096, 4096 + 48 * 48 * 3 + 5, n - 100, n - 8, n - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++)
        refused(good, cuts[k], cuts[k] < 136 ? "truncated" : "claims");
    /* the same through a file, mapped or too small to map */
    for (size_t k = 0; k < 2; k++) {
        size_t cut = k ? n - 1 : 50;
        write_bytes(at("cut.prep"), good, cut);
        assert_int_equal(acl_prepared_open(&ds, at("cut.prep")), ACL_ERR_FORMAT);
        assert_message_has(k ? "truncated or corrupt" : "truncated");
        assert_int_equal(acl_dataset_open_folder(&ds, at("cut.prep"), NULL), ACL_ERR_FORMAT);
        assert_null(ds);
    }
    /* one byte more than described */
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, good, n);
    longer[n] = 0;
    refused(longer, n + 1, "where the header describes");
    free(longer);

    memcpy(d, good, n);
    d[0] = 'X';
    refused(d, n, "is not a prepared dataset");

    memcpy(d, good, n);
    d[8] = 2;
    refused(d, n, "format version 2");

    /* a header claiming more images than the file holds, even with a matching checksum */
    memcpy(d, good, n);
    put_le64(d + 16, le64(d + 16) + 1);
    fix_checksum(d, n);
    refused(d, n, "claims 7 images");
    memcpy(d, good, n);
    put_le64(d + 16, (uint64_t)1 << 62);
    refused(d, n, "overflow");

    /* offsets that do not follow the counts */
    memcpy(d, good, n);
    put_le64(d + 48, le64(d + 48) + 8);
    refused(d, n, "table offset");

    /* a label flipped: the checksum catches it; with the checksum fixed, the label check does */
    memcpy(d, good, n);
    uint64_t table = le64(good + 48);
    d[table] = 9;
    refused(d, n, "checksum mismatch");
    fix_checksum(d, n);
    refused(d, n, "has label 9");

    /* class names that do not fill their bytes */
    memcpy(d, good, n);
    uint64_t names = le64(good + 56);
    d[names + 1] = 0; /* "ant" -> "a", "t": four names where there are three */
    fix_checksum(d, n);
    refused(d, n, "after the last class name");

    /* a pixel flipped: opening does not read the pixels; verifying names the image */
    memcpy(d, good, n);
    d[4096 + 2 * 48 * 48 * 3 + 77] ^= 0x40;
    assert_int_equal(acl_prepared_open_memory(&ds, d, n, "flipped.prep"), ACL_OK);
    size_t bad = 0;
    assert_int_equal(acl_prepared_verify(ds, 3, &bad), ACL_ERR_FORMAT);
    assert_int_equal(bad, 1);
    assert_message_has("image 2");
    acl_dataset_free(ds);

    /* sums that do not match the pixels, checksum fixed */
    memcpy(d, good, n);
    uint64_t sums = le64(good + 72);
    put_le64(d + sums + 8 * 5, le64(d + sums + 8 * 5) + 1);
    fix_checksum(d, n);
    assert_int_equal(acl_prepared_open_memory(&ds, d, n, "sums.prep"), ACL_OK);
    assert_int_equal(acl_prepared_verify(ds, 1, &bad), ACL_ERR_FORMAT);
    assert_message_has("sums do not match");
    acl_dataset_free(ds);

    free(d);
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_keeps_images_labels_and_names),
        cmocka_unit_test(same_file_whatever_the_threads),
        cmocka_unit_test(list_file_with_labels),
        cmocka_unit_test(same_batches_and_mean_as_the_folder),
        cmocka_unit_test(bad_images_skipped_or_stopping),
        cmocka_unit_test(damaged_files_are_refused),
    };
    return cmocka_run_group_tests(tests, make_root, drop_root);
}
