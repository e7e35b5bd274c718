/* dataset.h: a dataset is a list of labelled samples (image files, or images held in memory) with class names;
 * sample i loads as an 8-bit HWC image. Sources: image folders, list files, Fashion-MNIST (IDX); bad files are
 * skipped, named and counted, up to a set fraction of the dataset.
 *
 * Sources and what they accept:
 *   - image folder (acl_dataset_open_folder): DIR/<class>/<file> where file ends in .jpg, .jpeg or .png in any
 *     case. Classes are the sub-folders (names starting with '.' are ignored) numbered in strcmp order of their
 *     names; the files of a class are taken in strcmp order too, so the numbering and order are those of
 *     torchvision's ImageFolder. Files are looked for directly inside each class folder (not in deeper
 *     folders); other files are ignored. With a split ("train", "val"), DIR/<split> is the folder.
 *   - list file (acl_dataset_open_list): lines `relative/path label`. The label is the last whitespace-separated
 *     field, an integer in [0, ACL_MAX_CLASSES); the path is everything before it, trimmed (so paths may hold
 *     spaces); relative paths are taken from the root folder, absolute ones as they are. Blank lines and lines
 *     whose first non-blank character is '#' are skipped. A bad line is an error naming file:line.
 *   - labels file (acl_dataset_set_labels): readable class names, in one of two forms decided by the first
 *     line that is not blank or a '#' comment: if it starts with an integer then a space or tab, every line
 *     is `index name` and the indices must cover 0..N-1 exactly once, in any order; otherwise each line is one
 *     name and the k-th such line names class k (e.g. Caffe's synset_words.txt). Names are trimmed.
 *   - Fashion-MNIST (acl_dataset_open_fashion_mnist): see data/idx.h.
 *   - a prepared file (data/prepared.h): images decoded and preprocessed once by `alexnet-cl prepare`, memory-mapped;
 *     acl_dataset_open_folder opens one (recognized by its magic) given in place of a folder, with no split.
 *
 * Bad files. A file that cannot be read or decoded (empty, not a JPEG or PNG, truncated, over the size limits)
 * is bad. acl_dataset_scan() checks every file up front and drops the bad ones; acl_dataset_load() meets them
 * while training and asks the caller to take another sample. Either way each bad file is counted, its path and
 * reason are kept (acl_dataset_bad_message) and passed to the on_bad callback if one is set, and once more than
 * max_bad_fraction (default 1%) of the files found at open time are bad, the call fails with ACL_ERR_FORMAT
 * saying how many. acl_dataset_load() may be called from several threads at once on one dataset.
 *
 * The struct's fields are read-only for users: use the functions to change a dataset. */
#ifndef ACL_DATA_DATASET_H
#define ACL_DATA_DATASET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "alexnet_cl.h"
#include "data/decode.h"

#define ACL_MAX_CLASSES (1 << 17) /* ImageNet-21k has 21841; a label past this is surely a mistake */
#define ACL_DEFAULT_MAX_BAD_FRACTION 0.01
#define ACL_MAX_TEXT_BYTES ((size_t)1 << 30) /* list and labels files larger than this are refused */

/* Called once for each bad file, with "path: reason"; may be called from loader threads. */
typedef void (*acl_bad_file_fn)(const char *message, void *user);

struct acl_prepared;

struct acl_bad_file {
    char *message; /* "path: reason" */
};

struct acl_dataset {
    char *name;          /* for messages: the folder, the list file or "fashion-mnist/train" */
    char *root;          /* folder that relative sample paths start from; NULL when images are in memory */
    size_t count;        /* samples */
    int32_t *labels;     /* count labels in [0, num_classes) */
    int num_classes;
    char **class_names;  /* num_classes names */
    int folder_classes;  /* 1 when the classes are an image folder's sub-folders: a labels file must match */

    /* file samples: the relative path of sample i is paths + path_off[i] */
    size_t *path_off;
    char *paths;
    size_t paths_len, paths_cap, samples_cap;

    /* images in memory (IDX): sample i is pixels + i * height * width * channels */
    uint8_t *pixels;
    int height, width, channels;
    struct acl_prepared *prepared; /* a prepared file (data/prepared.h): pixels point into its read-only mapping */

    struct acl_decode_limits limits;

    /* bad files */
    size_t total;        /* samples found at open time: the denominator of the bad fraction */
    double max_bad_fraction;
    acl_bad_file_fn on_bad;
    void *on_bad_user;
    uint8_t *bad;        /* count flags, allocated at the first bad file */
    struct acl_bad_file *bad_files;
    size_t bad_count, bad_cap;
    pthread_mutex_t lock;
};

/* ---- opening ----------------------------------------------------------------------------------- */

/* An image folder in ImageNet layout; split = NULL or "" for DIR itself, else DIR/split ("train", "val").
 * ACL_ERR_IO when the folder is missing or unreadable; ACL_ERR_FORMAT when it has no class folders or a class
 * folder has no images (naming the folder). A prepared file given as dir is opened by acl_prepared_open when split
 * is NULL or "" (and is ACL_ERR_IO otherwise: it has no splits). */
acl_status acl_dataset_open_folder(struct acl_dataset **out, const char *dir, const char *split);

/* A list file; root = NULL means the folder that holds the list file. Files are not opened until loaded or
 * scanned. Class names are "0", "1", ... until acl_dataset_set_labels gives better ones. */
acl_status acl_dataset_open_list(struct acl_dataset **out, const char *list_path, const char *root);

/* Replaces the class names with those of a labels file. For an image folder the file must name exactly as many
 * classes as there are folders; for a list file at least one more than the largest label (num_classes becomes
 * the file's count). */
acl_status acl_dataset_set_labels(struct acl_dataset *ds, const char *labels_path);

void acl_dataset_free(struct acl_dataset *ds); /* NULL-safe */

/* ---- parsers from memory (the file functions above read the file and call these) ---------------------- */

/* An empty dataset to fill: name for messages, root for relative paths (NULL: none). */
acl_status acl_dataset_new(struct acl_dataset **out, const char *name, const char *root);
/* Appends a sample. */
acl_status acl_dataset_add(struct acl_dataset *ds, const char *path, size_t path_len, int32_t label);
/* Sets num_classes (from the class names if any were set, else the largest label + 1) and default names, checks
 * every label, and fixes total. Call once, after the last acl_dataset_add. */
acl_status acl_dataset_finish(struct acl_dataset *ds);

/* Parses list-file text (len bytes; need not end in NUL) into ds; name is used in messages as name:line. */
acl_status acl_list_parse(struct acl_dataset *ds, const char *text, size_t len, const char *name);
/* Parses labels-file text: *names is a malloc'd array of *count malloc'd strings (acl_labels_free). */
acl_status acl_labels_parse(const char *text, size_t len, const char *name, char ***names, int *count);
void acl_labels_free(char **names, int count);
/* Replaces ds's class names with count names (copied), checking them against the labels as
 * acl_dataset_set_labels says. */
acl_status acl_dataset_set_class_names(struct acl_dataset *ds, char *const *names, int count, const char *source);

/* ---- samples ----------------------------------------------------------------------------------- */

/* The path of sample i as stored (relative to root, or absolute); NULL for in-memory datasets. */
const char *acl_dataset_path(const struct acl_dataset *ds, size_t i);
/* Writes root/path of sample i into buf (ACL_ERR_ARGUMENT when it does not fit). */
acl_status acl_dataset_full_path(const struct acl_dataset *ds, size_t i, char *buf, size_t cap);

/* Loads sample i, strictly: a bad file is an error (ACL_ERR_FORMAT or ACL_ERR_IO, naming the path) and is not
 * counted. img->data is malloc'd (acl_image_free). File images come out RGB; in-memory ones as stored. */
acl_status acl_dataset_read(const struct acl_dataset *ds, size_t i, struct acl_image *img);
/* The same into a caller's buffer of cap bytes: img->data = buf; ACL_ERR_ARGUMENT, naming the size needed, when
 * the image does not fit. */
acl_status acl_dataset_read_into(const struct acl_dataset *ds, size_t i, uint8_t *buf, size_t cap,
                                 struct acl_image *img);

/* Loads sample i for training: a bad file is counted and named (see the top of this file), flagged so that it is
 * never read again, and *skipped = 1 with ACL_OK, so the caller takes another sample; once too many are bad,
 * ACL_ERR_FORMAT. ACL_ERR_MEMORY and argument errors are returned as they are. buf = NULL: img->data is
 * malloc'd; else the image goes into buf (cap bytes) as in acl_dataset_read_into. */
acl_status acl_dataset_load(struct acl_dataset *ds, size_t i, uint8_t *buf, size_t cap, struct acl_image *img,
                            int *skipped);

/* ---- bad files --------------------------------------------------------------------------------- */

/* max_fraction in [0, 1): the run stops when more than max_fraction * total files are bad. on_bad may be NULL. */
acl_status acl_dataset_set_bad_policy(struct acl_dataset *ds, double max_fraction, acl_bad_file_fn on_bad,
                                      void *user);
/* Records sample i as bad, with a message that names it ("path: reason", as the decode errors are worded): ACL_OK
 * while within the allowed fraction, else ACL_ERR_FORMAT. Recording the same sample twice counts it once. */
acl_status acl_dataset_mark_bad(struct acl_dataset *ds, size_t i, const char *message);
size_t acl_dataset_bad_count(struct acl_dataset *ds);
/* The k-th bad file's "path: reason", k < bad count; NULL otherwise. */
const char *acl_dataset_bad_message(struct acl_dataset *ds, size_t k);

enum acl_scan_level {
    ACL_SCAN_HEADER, /* read each file, check its header, its size and (JPEG, PNG) that it is complete */
    ACL_SCAN_DECODE, /* decode each file in full */
};
/* Checks every sample and drops the bad ones (the indices of the rest shift down; labels follow). Fails with
 * ACL_ERR_FORMAT when too many are bad. In-memory datasets have nothing to check. */
acl_status acl_dataset_scan(struct acl_dataset *ds, enum acl_scan_level level);

#endif
