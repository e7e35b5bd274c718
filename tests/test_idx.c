/* test_idx.c: IDX parsing and gzip decompression on crafted files (good, truncated, corrupt), and the real
 * Fashion-MNIST from Debian's dataset-fashion-mnist when it is installed (skipped visibly otherwise). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/idx.h"
#include "datatest.h"
#include "testutil.h"

static void assert_message_has(const char *what)
{
    const char *m = acl_last_error();
    if (!strstr(m, what))
        fail_msg("message '%s' lacks '%s'", m, what);
}

/* An IDX file of unsigned bytes: magic 00 00 08 nd, the dimensions, then data (count bytes, i*7+seed). */
static struct bytes make_idx(int nd, const uint32_t *dims, int seed)
{
    struct bytes b = {0};
    uint8_t magic[4] = {0, 0, 8, (uint8_t)nd};
    bytes_put(&b, magic, 4);
    size_t count = 1;
    for (int k = 0; k < nd; k++) {
        bytes_be32(&b, dims[k]);
        count *= dims[k];
    }
    for (size_t i = 0; i < count; i++) {
        uint8_t v = (uint8_t)(i * 7 + (size_t)seed);
        bytes_put(&b, &v, 1);
    }
    return b;
}

static void idx_parse_good_and_bad(void **state)
{
    (void)state;
    const uint32_t dims[3] = {3, 4, 5};
    struct bytes b = make_idx(3, dims, 1);
    struct acl_idx idx;
    assert_int_equal(acl_idx_parse(b.p, b.n, "x.idx", &idx), ACL_OK);
    assert_int_equal(idx.ndims, 3);
    assert_true(idx.dims[0] == 3 && idx.dims[1] == 4 && idx.dims[2] == 5);
    assert_int_equal(idx.count, 60);
    assert_ptr_equal(idx.data, b.p + 16);

    assert_int_equal(acl_idx_parse(b.p, b.n - 1, "x.idx", &idx), ACL_ERR_FORMAT);
    assert_message_has("truncated");
    assert_message_has("x.idx");
    assert_int_equal(acl_idx_parse(b.p, 10, "x.idx", &idx), ACL_ERR_FORMAT); /* inside the header */
    assert_message_has("truncated IDX header");
    assert_int_equal(acl_idx_parse(b.p, 2, "x.idx", &idx), ACL_ERR_FORMAT);

    struct bytes longer = {0};
    bytes_put(&longer, b.p, b.n);
    bytes_put(&longer, "zz", 2);
    assert_int_equal(acl_idx_parse(longer.p, longer.n, "x.idx", &idx), ACL_ERR_FORMAT);
    assert_message_has("trailing");
    free(longer.p);

    uint8_t save = b.p[0];
    b.p[0] = 0x1F; /* e.g. a gzip file handed over undecompressed */
    assert_int_equal(acl_idx_parse(b.p, b.n, "x.idx", &idx), ACL_ERR_FORMAT);
    assert_message_has("not an IDX file");
    b.p[0] = save;
    b.p[2] = 0x0D; /* float */
    assert_int_equal(acl_idx_parse(b.p, b.n, "x.idx", &idx), ACL_ERR_FORMAT);
    assert_message_has("0x0d");
    b.p[2] = 8;
    b.p[3] = 0;
    assert_int_equal(acl_idx_parse(b.p, b.n, "x.idx", &idx), ACL_ERR_FORMAT);
    b.p[3] = 9;
    assert_int_equal(acl_idx_parse(b.p, b.n, "x.idx", &idx), ACL_ERR_FORMAT);
    b.p[3] = 3;
    b.p[4] = 0xFF; /* first dimension 0xFF000003: far more data than there is */
    assert_int_equal(acl_idx_parse(b.p, b.n, "x.idx", &idx), ACL_ERR_FORMAT);
    const uint32_t huge[4] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0}; /* a product that overflows, then 0 */
    struct bytes h = {0};
    uint8_t magic[4] = {0, 0, 8, 4};
    bytes_put(&h, magic, 4);
    for (int k = 0; k < 4; k++)
        bytes_be32(&h, huge[k]);
    assert_int_equal(acl_idx_parse(h.p, h.n, "h.idx", &idx), ACL_ERR_FORMAT);
    free(h.p);
    free(b.p);
}

static void gunzip_good_and_bad(void **state)
{
    (void)state;
    const uint32_t dims[1] = {70000}; /* more than one stored block */
    struct bytes raw = make_idx(1, dims, 3);
    struct bytes gz = gzip_stored(raw.p, raw.n);
    uint8_t *out = NULL;
    size_t n = 0;
    assert_int_equal(acl_gunzip(gz.p, gz.n, 1 << 20, "a.gz", &out, &n), ACL_OK);
    assert_int_equal(n, raw.n);
    assert_memory_equal(out, raw.p, n);
    free(out);

    /* Two members back to back make one stream, as gzip -c a b does. */
    struct bytes two = {0};
    bytes_put(&two, gz.p, gz.n);
    bytes_put(&two, gz.p, gz.n);
    assert_int_equal(acl_gunzip(two.p, two.n, 1 << 20, "a.gz", &out, &n), ACL_OK);
    assert_int_equal(n, 2 * raw.n);
    free(out);
    free(two.p);

    const size_t cuts[] = {0, 5, 12, gz.n / 2, gz.n - 4, gz.n - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        assert_int_equal(acl_gunzip(gz.p, cuts[k], 1 << 20, "a.gz", &out, &n), ACL_ERR_FORMAT);
        assert_null(out);
        assert_message_has("a.gz");
    }
    assert_int_equal(acl_gunzip(gz.p, gz.n / 2, 1 << 20, "a.gz", &out, &n), ACL_ERR_FORMAT);
    assert_message_has("truncated");
    /* A flipped data byte fails the CRC; junk after the member is refused; output past the cap is refused. */
    gz.p[100] ^= 1;
    assert_int_equal(acl_gunzip(gz.p, gz.n, 1 << 20, "a.gz", &out, &n), ACL_ERR_FORMAT);
    assert_message_has("corrupt");
    gz.p[100] ^= 1;
    struct bytes junk = {0};
    bytes_put(&junk, gz.p, gz.n);
    bytes_put(&junk, "junk", 4);
    assert_int_equal(acl_gunzip(junk.p, junk.n, 1 << 20, "a.gz", &out, &n), ACL_ERR_FORMAT);
    assert_message_has("after the end");
    free(junk.p);
    assert_int_equal(acl_gunzip(gz.p, gz.n, 1000, "a.gz", &out, &n), ACL_ERR_FORMAT);
    assert_message_has("more than 1000 bytes");
    free(gz.p);
    free(raw.p);
}

/* Writes a Fashion-MNIST-shaped split (n images of 28x28, labels i % 10) into dir, gzipped or not. */
static void write_split(const char *dir, const char *prefix, uint32_t n, int gz, struct bytes *img_out)
{
    char path[512];
    uint32_t idims[3] = {n, 28, 28}, ldims[1] = {n};
    struct bytes img = make_idx(3, idims, 0), lab = {0};
    uint8_t magic[4] = {0, 0, 8, 1};
    bytes_put(&lab, magic, 4);
    bytes_be32(&lab, ldims[0]);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t v = (uint8_t)(i % 10);
        bytes_put(&lab, &v, 1);
    }
    struct bytes gi = gz ? gzip_stored(img.p, img.n) : img, gl = gz ? gzip_stored(lab.p, lab.n) : lab;
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_bytes(path, gi.p, gi.n);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_bytes(path, gl.p, gl.n);
    if (gz) {
        free(gi.p);
        free(gl.p);
    }
    free(lab.p);
    if (img_out)
        *img_out = img;
    else
        free(img.p);
}

static void crafted_fashion_mnist_files(void **state)
{
    (void)state;
    char dir[256], path[512];
    temp_folder(dir, sizeof dir);
    struct bytes img;
    write_split(dir, "train", 12, 1, &img);
    write_split(dir, "t10k", 5, 0, NULL); /* uncompressed files are read too */
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "train"), ACL_OK);
    assert_int_equal(ds->count, 12);
    assert_int_equal(ds->num_classes, 10);
    assert_string_equal(ds->class_names[9], "Ankle boot");
    assert_string_equal(ds->class_names[0], "T-shirt/top");
    assert_int_equal(ds->labels[11], 1);
    struct acl_image im;
    assert_int_equal(acl_dataset_read(ds, 2, &im), ACL_OK);
    assert_true(im.height == 28 && im.width == 28 && im.channels == 1);
    assert_memory_equal(im.data, img.p + 16 + 2 * 784, 784);
    acl_image_free(&im);
    uint8_t buf[784];
    assert_int_equal(acl_dataset_read_into(ds, 3, buf, sizeof buf, &im), ACL_OK);
    assert_memory_equal(buf, img.p + 16 + 3 * 784, 784);
    assert_int_equal(acl_dataset_read_into(ds, 3, buf, 783, &im), ACL_ERR_ARGUMENT);
    assert_int_equal(acl_dataset_scan(ds, ACL_SCAN_DECODE), ACL_OK); /* nothing to check in memory */
    acl_dataset_free(ds);
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "test"), ACL_OK);
    assert_int_equal(ds->count, 5);
    assert_string_equal(ds->name, "fashion-mnist/test");
    acl_dataset_free(ds);
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "extra"), ACL_ERR_ARGUMENT);

    /* Truncated gzip of the images. */
    struct bytes gi = gzip_stored(img.p, img.n);
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    write_bytes(path, gi.p, gi.n - 100);
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "train"), ACL_ERR_FORMAT);
    assert_message_has("train-images-idx3-ubyte.gz");
    assert_message_has("truncated");
    /* A complete gzip of a truncated IDX. */
    struct bytes gshort = gzip_stored(img.p, img.n - 784);
    write_bytes(path, gshort.p, gshort.n);
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "train"), ACL_ERR_FORMAT);
    assert_message_has("truncated");
    free(gshort.p);
    /* Another image size. */
    uint32_t d32[3] = {12, 32, 32};
    struct bytes other = make_idx(3, d32, 0), go = gzip_stored(other.p, other.n);
    write_bytes(path, go.p, go.n);
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "train"), ACL_ERR_FORMAT);
    assert_message_has("28x28");
    free(other.p);
    free(go.p);
    /* Counts that disagree: 11 images for 12 labels. */
    uint32_t d11[3] = {11, 28, 28};
    other = make_idx(3, d11, 0);
    go = gzip_stored(other.p, other.n);
    write_bytes(path, go.p, go.n);
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "train"), ACL_ERR_FORMAT);
    assert_message_has("11 images but 12 labels");
    free(other.p);
    free(go.p);
    /* A label out of range. */
    write_bytes(path, gi.p, gi.n);
    struct bytes lab = {0};
    uint8_t magic[4] = {0, 0, 8, 1};
    bytes_put(&lab, magic, 4);
    bytes_be32(&lab, 12);
    for (int i = 0; i < 12; i++) {
        uint8_t v = (uint8_t)(i == 7 ? 10 : 1);
        bytes_put(&lab, &v, 1);
    }
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    write_bytes(path, lab.p, lab.n);
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "train"), ACL_ERR_FORMAT);
    assert_message_has("label 10 of image 7");
    /* Missing files say what to install. */
    remove(path);
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, dir, "train"), ACL_ERR_IO);
    assert_message_has("dataset-fashion-mnist");
    assert_null(ds);
    free(lab.p);
    free(gi.p);
    free(img.p);
    remove_tree(dir);
}

static void real_fashion_mnist(void **state)
{
    (void)state;
    struct stat sb;
    if (stat(ACL_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz", &sb) != 0) {
        print_message("[  SKIPPED ] Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)\n");
        skip();
    }
    struct acl_dataset *ds = NULL;
    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, NULL, "train"), ACL_OK);
    assert_int_equal(ds->count, 60000);
    assert_true(ds->height == 28 && ds->width == 28 && ds->channels == 1);
    assert_int_equal(ds->labels[0], 9); /* the first training image is an ankle boot */
    assert_string_equal(ds->class_names[ds->labels[0]], "Ankle boot");
    size_t per_class[10] = {0};
    for (size_t i = 0; i < ds->count; i++) {
        assert_in_range(ds->labels[i], 0, 9);
        per_class[ds->labels[i]]++;
    }
    for (int k = 0; k < 10; k++)
        assert_int_equal(per_class[k], 6000); /* the training set is balanced */
    /* Pixels use the whole byte range, and the images are mostly background. */
    size_t n = ds->count * 784, zeros = 0;
    int lo = 255, hi = 0;
    for (size_t i = 0; i < n; i++) {
        int v = ds->pixels[i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        zeros += v == 0;
    }
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 255);
    assert_true(zeros > n / 3 && zeros < n * 9 / 10);
    acl_dataset_free(ds);

    assert_int_equal(acl_dataset_open_fashion_mnist(&ds, NULL, "test"), ACL_OK);
    assert_int_equal(ds->count, 10000);
    for (size_t i = 0; i < ds->count; i++)
        assert_in_range(ds->labels[i], 0, 9);
    acl_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idx_parse_good_and_bad),
        cmocka_unit_test(gunzip_good_and_bad),
        cmocka_unit_test(crafted_fashion_mnist_files),
        cmocka_unit_test(real_fashion_mnist),
    };
    return cmocka_run_group_tests_name("idx", tests, NULL, NULL);
}
