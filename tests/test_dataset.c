/* test_dataset.c: image folders (class numbering and order, splits, missing and empty folders), list files and
 * labels files (good and bad lines), loading samples, and bad files (skipped, named, counted, limited). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "datatest.h"
#include "testutil.h"

static void assert_message_has(const char *what)
{
    const char *m = acl_last_error();
    if (!strstr(m, what))
        fail_msg("message '%s' lacks '%s'", m, what);
}

static char root[256];

static int make_root(void **state)
{
    (void)state;
    temp_folder(root, sizeof root);
    return 0;
}

static int drop_root(void **state)
{
    (void)state;
    remove_tree(root);
    return 0;
}

/* Writes an (h, w) RGB PNG (or JPEG when the name ends in .jpg/.JPEG) of a pattern under root. */
static void put_image(const char *rel, int h, int w, int seed)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    uint8_t *px = pattern(h, w, 3, seed);
    const char *dot = strrchr(rel, '.');
    struct bytes b = dot && (dot[1] == 'j' || dot[1] == 'J') ? encode_jpg(px, h, w, 3) : encode_png(px, h, w, 3);
    write_bytes(path, b.p, b.n);
    free(b.p);
    free(px);
}

static void put_dir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    make_folder(path);
}

static void put_text(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    write_text(path, text);
}

static char *at(const char *rel)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

/* ---- image folders ----------------------------------------------------------------------------- */

static void folder_classes_and_order(void **state)
{
    (void)state;
    put_dir("f");
    put_dir("f/b_dog");
    put_dir("f/a_cat");
    put_dir("f/Zebra"); /* uppercase sorts first in strcmp order, as in Python's sorted() */
    put_dir("f/.hidden");
    put_image("f/b_dog/img2.png", 4, 5, 1);
    put_image("f/b_dog/img10.png", 4, 5, 2); /* "img10" < "img2" in strcmp order */
    put_image("f/a_cat/x.JPEG", 8, 6, 3);
    put_image("f/a_cat/y.Png", 3, 3, 4);
    put_image("f/Zebra/z.jpeg", 5, 5, 5);
    put_text("f/a_cat/readme.txt", "not an image: ignored");
    put_image("f/.hidden/h.png", 2, 2, 6);
    put_text("f/stray.png", "a file beside the class folders: ignored");

    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_folder(&ds, at("f"), NULL), ACL_OK);
    assert_int_equal(ds->num_classes, 3);
    assert_string_equal(ds->class_names[0], "Zebra");
    assert_string_equal(ds->class_names[1], "a_cat");
    assert_string_equal(ds->class_names[2], "b_dog");
    assert_int_equal(ds->count, 5);
    const char *want[] = {"Zebra/z.jpeg", "a_cat/x.JPEG", "a_cat/y.Png", "b_dog/img10.png", "b_dog/img2.png"};
    const int labels[] = {0, 1, 1, 2, 2};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(acl_dataset_path(ds, i), want[i]);
        assert_int_equal(ds->labels[i], labels[i]);
    }
    struct acl_image img;
    assert_int_equal(acl_dataset_read(ds, 1, &img), ACL_OK);
    assert_true(img.height == 8 && img.width == 6 && img.channels == 3);
    acl_image_free(&img);

    /* Into a caller's buffer: exact fit works, one byte short is refused naming the size. */
    uint8_t buf[4 * 5 * 3];
    assert_int_equal(acl_dataset_read_into(ds, 3, buf, sizeof buf, &img), ACL_OK);
    assert_ptr_equal(img.data, buf);
    assert_int_equal(acl_dataset_read_into(ds, 3, buf, sizeof buf - 1, &img), ACL_ERR_ARGUMENT);
    assert_message_has("60 bytes");

    /* A labels file with readable names must name exactly as many classes as there are folders. */
    put_text("f_labels.txt", "# readable names\nzebra\ncat\n\ndog\n");
    assert_int_equal(acl_dataset_set_labels(ds, at("f_labels.txt")), ACL_OK);
    assert_string_equal(ds->class_names[1], "cat");
    put_text("f_labels2.txt", "zebra\ncat\n");
    assert_int_equal(acl_dataset_set_labels(ds, at("f_labels2.txt")), ACL_ERR_FORMAT);
    assert_message_has("3 class folders");
    acl_dataset_free(ds);

    /* Enough classes and files, made in a scrambled order, that the directory's own order cannot pass for sorted:
     * classes in strcmp order, files sorted within each class. */
    put_dir("g");
    for (int k = 0; k < 12; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "g/c%02d", (k * 5) % 12);
        put_dir(rel);
        for (int i = 0; i < 6; i++) {
            snprintf(rel, sizeof rel, "g/c%02d/f%d.png", (k * 5) % 12, (i * 7 + k) % 10);
            put_image(rel, 2, 2, i);
        }
    }
    assert_int_equal(acl_dataset_open_folder(&ds, at("g"), NULL), ACL_OK);
    assert_int_equal(ds->num_classes, 12);
    assert_int_equal(ds->count, 72);
    for (int k = 0; k < 12; k++) {
        char name[16];
        snprintf(name, sizeof name, "c%02d", k);
        assert_string_equal(ds->class_names[k], name);
    }
    for (size_t i = 1; i < ds->count; i++) {
        assert_true(strcmp(acl_dataset_path(ds, i - 1), acl_dataset_path(ds, i)) < 0);
        assert_int_equal(ds->labels[i], atoi(acl_dataset_path(ds, i) + 1));
    }
    acl_dataset_free(ds);
}

static void folder_splits(void **state)
{
    (void)state;
    put_dir("s");
    put_dir("s/train");
    put_dir("s/val");
    put_dir("s/train/a");
    put_dir("s/train/b");
    put_dir("s/val/a");
    put_dir("s/val/b");
    put_image("s/train/a/1.png", 2, 2, 1);
    put_image("s/train/b/1.png", 2, 2, 2);
    put_image("s/train/b/2.png", 2, 2, 3);
    put_image("s/val/a/1.png", 2, 2, 4);
    put_image("s/val/b/1.png", 2, 2, 5);
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_folder(&ds, at("s"), "train"), ACL_OK);
    assert_int_equal(ds->count, 3);
    assert_int_equal(ds->num_classes, 2);
    acl_dataset_free(ds);
    assert_int_equal(acl_dataset_open_folder(&ds, at("s/"), "val"), ACL_OK);
    assert_int_equal(ds->count, 2);
    acl_dataset_free(ds);
    assert_int_equal(acl_dataset_open_folder(&ds, at("s"), "test"), ACL_ERR_IO);
    assert_message_has("'test'");
    assert_null(ds);
}

static void folder_errors_name_the_folder(void **state)
{
    (void)state;
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_folder(&ds, at("nowhere"), NULL), ACL_ERR_IO);
    assert_message_has(at("nowhere"));
    assert_message_has("does not exist");

    put_dir("empty");
    assert_int_equal(acl_dataset_open_folder(&ds, at("empty"), NULL), ACL_ERR_FORMAT);
    assert_message_has(at("empty"));
    assert_message_has("no class sub-folders");

    put_dir("e2");
    put_dir("e2/full");
    put_dir("e2/hollow");
    put_image("e2/full/a.png", 2, 2, 1);
    put_text("e2/hollow/a.txt", "no images here");
    assert_int_equal(acl_dataset_open_folder(&ds, at("e2"), NULL), ACL_ERR_FORMAT);
    assert_message_has(at("e2/hollow"));
    assert_message_has("no images");

    put_text("plainfile", "x");
    assert_int_equal(acl_dataset_open_folder(&ds, at("plainfile"), NULL), ACL_ERR_IO);
    assert_message_has("not a folder");
    assert_null(ds);
}

/* ---- list and labels files --------------------------------------------------------------------- */

static void list_parsing(void **state)
{
    (void)state;
    struct acl_dataset *ds = NULL;
    const char *text = "# a comment\n"
                       "a/1.jpg 0\r\n"
                       "\n"
                       "   \t\n"
                       "  b/with space.png   3  \n"
                       "/abs/c.png 1\n"
                       "   # an indented comment\n"
                       "last.png 2"; /* no final newline */
    assert_int_equal(acl_dataset_new(&ds, "t.txt", "/data"), ACL_OK);
    assert_int_equal(acl_list_parse(ds, text, strlen(text), "t.txt"), ACL_OK);
    assert_int_equal(acl_dataset_finish(ds), ACL_OK);
    assert_int_equal(ds->count, 4);
    assert_string_equal(acl_dataset_path(ds, 0), "a/1.jpg");
    assert_string_equal(acl_dataset_path(ds, 1), "b/with space.png");
    assert_int_equal(ds->labels[1], 3);
    assert_int_equal(ds->num_classes, 4);
    assert_string_equal(ds->class_names[3], "3");
    char path[256];
    assert_int_equal(acl_dataset_full_path(ds, 0, path, sizeof path), ACL_OK);
    assert_string_equal(path, "/data/a/1.jpg");
    assert_int_equal(acl_dataset_full_path(ds, 2, path, sizeof path), ACL_OK);
    assert_string_equal(path, "/abs/c.png");
    acl_dataset_free(ds);

    /* Each bad line is refused with file:line. */
    const struct {
        const char *text, *where;
    } bad[] = {
        {"ok.png 1\nno_label_here\n", "t.txt:2:"},
        {"ok.png 1\n\n# c\nneg.png -1\n", "t.txt:4:"},
        {"x.png 1x\n", "t.txt:1:"},
        {"x.png 99999999999\n", "t.txt:1:"},
        {"x.png 131072\n", "t.txt:1:"}, /* ACL_MAX_CLASSES */
        {"7\n", "t.txt:1:"},
        {"a.png 1\nb\0.png 2\n", "t.txt:2:"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(acl_dataset_new(&ds, "t.txt", NULL), ACL_OK);
        size_t len = strlen(bad[k].text);
        if (k == 6)
            len = 17; /* holds a NUL byte */
        assert_int_equal(acl_list_parse(ds, bad[k].text, len, "t.txt"), ACL_ERR_FORMAT);
        assert_message_has(bad[k].where);
        acl_dataset_free(ds);
    }
    /* No samples at all. */
    assert_int_equal(acl_dataset_new(&ds, "t.txt", NULL), ACL_OK);
    assert_int_equal(acl_list_parse(ds, "# nothing\n\n", 11, "t.txt"), ACL_OK);
    assert_int_equal(acl_dataset_finish(ds), ACL_ERR_FORMAT);
    acl_dataset_free(ds);
}

static void labels_parsing(void **state)
{
    (void)state;
    char **names = NULL;
    int n = 0;
    const char *plain = "n01440764 tench, Tinca tinca\r\n# comment\n\n  n01443537 goldfish  \n";
    assert_int_equal(acl_labels_parse(plain, strlen(plain), "p.txt", &names, &n), ACL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "n01440764 tench, Tinca tinca");
    assert_string_equal(names[1], "n01443537 goldfish");
    acl_labels_free(names, n);

    const char *indexed = "2 bird\n0 cat\n1\tsea lion\n";
    assert_int_equal(acl_labels_parse(indexed, strlen(indexed), "i.txt", &names, &n), ACL_OK);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "cat");
    assert_string_equal(names[1], "sea lion");
    assert_string_equal(names[2], "bird");
    acl_labels_free(names, n);

    const struct {
        const char *text, *what;
    } bad[] = {
        {"0 a\n0 b\n", "i.txt:2: index 0 given twice"},
        {"0 a\n2 b\n", "i.txt:2: index out of range"},
        {"0 a\nplain\n", "i.txt:2: expected 'index name'"},
        {"# only comments\n\n", "no class names"},
        {"", "no class names"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        names = NULL;
        assert_int_equal(acl_labels_parse(bad[k].text, strlen(bad[k].text), "i.txt", &names, &n), ACL_ERR_FORMAT);
        assert_message_has(bad[k].what);
        assert_null(names);
    }
}

static void list_file_dataset(void **state)
{
    (void)state;
    put_dir("l");
    put_dir("l/img");
    put_image("l/img/a.png", 3, 4, 1);
    put_image("l/img/b.jpg", 6, 2, 2);
    put_text("l/train.txt", "img/a.png 1\nimg/b.jpg 0\n");
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_list(&ds, at("l/train.txt"), NULL), ACL_OK); /* root: the list's folder */
    assert_int_equal(ds->count, 2);
    assert_int_equal(ds->num_classes, 2);
    struct acl_image img;
    assert_int_equal(acl_dataset_read(ds, 1, &img), ACL_OK);
    assert_true(img.height == 6 && img.width == 2 && img.channels == 3);
    acl_image_free(&img);
    put_text("l/labels.txt", "0 no\n1 yes\n2 maybe\n");
    assert_int_equal(acl_dataset_set_labels(ds, at("l/labels.txt")), ACL_OK);
    assert_int_equal(ds->num_classes, 3); /* the labels file may name classes the list does not use */
    assert_string_equal(ds->class_names[1], "yes");
    put_text("l/short.txt", "no\n");
    assert_int_equal(acl_dataset_set_labels(ds, at("l/short.txt")), ACL_ERR_FORMAT);
    assert_message_has("label 1");
    acl_dataset_free(ds);

    put_text("l/bad.txt", "img/a.png 1\nimg/b.jpg\n");
    assert_int_equal(acl_dataset_open_list(&ds, at("l/bad.txt"), NULL), ACL_ERR_FORMAT);
    assert_message_has("bad.txt:2:");
    assert_int_equal(acl_dataset_open_list(&ds, at("l/none.txt"), NULL), ACL_ERR_IO);
    assert_message_has("none.txt");
    put_text("l/empty.txt", "");
    assert_int_equal(acl_dataset_open_list(&ds, at("l/empty.txt"), NULL), ACL_ERR_FORMAT);
    assert_message_has("no samples");
    assert_null(ds);
}

/* ---- bad files --------------------------------------------------------------------------------- */

struct seen {
    int calls;
    char last[1024];
};

static void on_bad(const char *message, void *user)
{
    struct seen *s = user;
    s->calls++;
    snprintf(s->last, sizeof s->last, "%s", message);
}

/* b/good/ holds 8 good images; b/bad/ a zero-byte file, a text file, a truncated JPEG and a PNG whose header
 * claims 100000x100000. */
static void make_bad_folder(void)
{
    put_dir("b");
    put_dir("b/good");
    put_dir("b/bad");
    for (int i = 0; i < 8; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "b/good/%d.png", i);
        put_image(rel, 5, 4, i);
    }
    put_text("b/bad/0_zero.jpg", "");
    put_text("b/bad/1_text.png", "hello, I am not a picture\n");
    uint8_t *px = pattern(20, 20, 3, 1);
    struct bytes jpg = encode_jpg(px, 20, 20, 3);
    write_bytes(at("b/bad/2_cut.jpg"), jpg.p, jpg.n / 2);
    struct bytes huge = png_claiming(100000, 100000);
    write_bytes(at("b/bad/3_huge.png"), huge.p, huge.n);
    put_image("b/bad/4_fine.png", 3, 3, 9); /* so that the class is not empty after the scan */
    free(jpg.p);
    free(huge.p);
    free(px);
}

static void scan_drops_bad_files(void **state)
{
    (void)state;
    make_bad_folder();
    const enum acl_scan_level levels[] = {ACL_SCAN_HEADER, ACL_SCAN_DECODE};
    for (size_t l = 0; l < 2; l++) {
        struct acl_dataset *ds = NULL;
        struct seen seen = {0};
        assert_int_equal(acl_dataset_open_folder(&ds, at("b"), NULL), ACL_OK);
        assert_int_equal(ds->count, 13);
        assert_int_equal(acl_dataset_set_bad_policy(ds, 0.5, on_bad, &seen), ACL_OK);
        assert_int_equal(acl_dataset_scan(ds, levels[l]), ACL_OK);
        assert_int_equal(acl_dataset_bad_count(ds), 4);
        assert_int_equal(seen.calls, 4);
        assert_int_equal(ds->count, 9);
        /* Each bad file is named, with its reason. */
        const char *expect[][2] = {{"0_zero.jpg", "empty"}, {"1_text.png", "not a JPEG or PNG"},
                                   {"2_cut.jpg", "truncated"}, {"3_huge.png", "too large"}};
        for (size_t k = 0; k < 4; k++) {
            const char *m = acl_dataset_bad_message(ds, k);
            assert_non_null(m);
            if (!strstr(m, expect[k][0]) || !strstr(m, expect[k][1]) || !strstr(m, root))
                fail_msg("bad file %zu: '%s'", k, m);
        }
        assert_null(acl_dataset_bad_message(ds, 4));
        /* What is left is all good and still labelled. */
        assert_string_equal(acl_dataset_path(ds, 0), "bad/4_fine.png");
        assert_int_equal(ds->labels[0], 0);
        assert_int_equal(ds->labels[8], 1);
        for (size_t i = 0; i < ds->count; i++) {
            struct acl_image img;
            assert_int_equal(acl_dataset_read(ds, i, &img), ACL_OK);
            acl_image_free(&img);
        }
        acl_dataset_free(ds);
    }

    /* The default 1%: the first bad file of 13 is already too many. */
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_folder(&ds, at("b"), NULL), ACL_OK);
    assert_int_equal(acl_dataset_scan(ds, ACL_SCAN_HEADER), ACL_ERR_FORMAT);
    assert_message_has("1 of 13 files are bad");
    assert_message_has("0_zero.jpg");
    acl_dataset_free(ds);
    /* 3 allowed (25% of 13 = 3.25), 4 found. */
    assert_int_equal(acl_dataset_open_folder(&ds, at("b"), NULL), ACL_OK);
    assert_int_equal(acl_dataset_set_bad_policy(ds, 0.25, NULL, NULL), ACL_OK);
    assert_int_equal(acl_dataset_scan(ds, ACL_SCAN_HEADER), ACL_ERR_FORMAT);
    assert_message_has("4 of 13");
    assert_int_equal(acl_dataset_set_bad_policy(ds, 1.0, NULL, NULL), ACL_ERR_ARGUMENT);
    acl_dataset_free(ds);
}

static void load_skips_bad_files(void **state)
{
    (void)state;
    struct acl_dataset *ds = NULL;
    struct seen seen = {0};
    assert_int_equal(acl_dataset_open_folder(&ds, at("b"), NULL), ACL_OK);
    assert_int_equal(acl_dataset_set_bad_policy(ds, 0.35, on_bad, &seen), ACL_OK); /* 4 of 13 allowed */
    int good = 0, skipped_total = 0;
    uint8_t buf[5 * 4 * 3];
    for (int pass = 0; pass < 2; pass++) /* a second epoch: known bad files are skipped without reading */
        for (size_t i = 0; i < ds->count; i++) {
            struct acl_image img;
            int skipped = -1;
            assert_int_equal(acl_dataset_load(ds, i, buf, sizeof buf, &img, &skipped), ACL_OK);
            if (skipped) {
                assert_null(img.data);
                skipped_total++;
            } else {
                assert_ptr_equal(img.data, buf);
                good++;
            }
        }
    assert_int_equal(good, 18);
    assert_int_equal(skipped_total, 8);
    assert_int_equal(acl_dataset_bad_count(ds), 4); /* counted once each */
    assert_int_equal(seen.calls, 4);
    assert_non_null(strstr(seen.last, "3_huge.png"));
    assert_int_equal(acl_dataset_mark_bad(ds, 0, "again"), ACL_OK); /* already known: not counted twice */
    assert_int_equal(acl_dataset_bad_count(ds), 4);
    assert_int_equal(acl_dataset_mark_bad(ds, 6, "x: y"), ACL_ERR_FORMAT); /* a fifth: 5 > 0.35 * 13 */
    assert_int_equal(acl_dataset_bad_count(ds), 5);
    assert_message_has("5 of 13");
    acl_dataset_free(ds);

    /* With a strict limit the loader stops at the first bad file. */
    assert_int_equal(acl_dataset_open_folder(&ds, at("b"), NULL), ACL_OK);
    struct acl_image img;
    int skipped = 0;
    assert_int_equal(acl_dataset_load(ds, 0, NULL, 0, &img, &skipped), ACL_ERR_FORMAT);
    assert_int_equal(skipped, 1);
    assert_message_has("0_zero.jpg");
    acl_dataset_free(ds);
}

struct loader {
    struct acl_dataset *ds;
    int first, good, skipped, failed;
};

static void *load_all(void *arg)
{
    struct loader *l = arg;
    for (size_t k = 0; k < l->ds->count; k++) {
        size_t i = (k + (size_t)l->first) % l->ds->count; /* threads start at different samples */
        struct acl_image img;
        int skipped = 0;
        if (acl_dataset_load(l->ds, i, NULL, 0, &img, &skipped) != ACL_OK)
            l->failed++;
        else if (skipped)
            l->skipped++;
        else
            l->good++;
        acl_image_free(&img);
    }
    return NULL;
}

static void loader_threads_count_each_bad_file_once(void **state)
{
    (void)state;
    struct acl_dataset *ds = NULL;
    struct seen seen = {0};
    assert_int_equal(acl_dataset_open_folder(&ds, at("b"), NULL), ACL_OK);
    assert_int_equal(acl_dataset_set_bad_policy(ds, 0.35, on_bad, &seen), ACL_OK);
    enum { T = 4 };
    pthread_t th[T];
    struct loader l[T];
    for (int t = 0; t < T; t++) {
        l[t] = (struct loader){ds, 3 * t, 0, 0, 0};
        assert_int_equal(pthread_create(&th[t], NULL, load_all, &l[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(l[t].failed, 0);
        assert_int_equal(l[t].good, 9);
        assert_int_equal(l[t].skipped, 4);
    }
    assert_int_equal(acl_dataset_bad_count(ds), 4);
    assert_int_equal(seen.calls, 4);
    acl_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(folder_classes_and_order),
        cmocka_unit_test(folder_splits),
        cmocka_unit_test(folder_errors_name_the_folder),
        cmocka_unit_test(list_parsing),
        cmocka_unit_test(labels_parsing),
        cmocka_unit_test(list_file_dataset),
        cmocka_unit_test(scan_drops_bad_files),
        cmocka_unit_test(load_skips_bad_files),
        cmocka_unit_test(loader_threads_count_each_bad_file_once),
    };
    return cmocka_run_group_tests_name("dataset", tests, make_root, drop_root);
}
