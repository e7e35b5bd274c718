/* folder.c: image folders in ImageNet layout (DIR/<class>/<image>), numbered as torchvision's ImageFolder. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "data/prepared.h"
#include "runtime/error.h"

/* A growable list of malloc'd names. */
struct names {
    char **v;
    size_t n, cap;
};

static void names_free(struct names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int names_push(struct names *s, const char *name)
{
    if (s->n == s->cap) {
        size_t c = s->cap ? 2 * s->cap : 64;
        char **v = realloc(s->v, c * sizeof *v);
        if (!v)
            return 0;
        s->v = v;
        s->cap = c;
    }
    size_t len = strlen(name) + 1;
    if (!(s->v[s->n] = malloc(len)))
        return 0;
    memcpy(s->v[s->n++], name, len);
    return 1;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int has_image_extension(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png"};
    size_t n = strlen(name);
    for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++) {
        size_t e = strlen(exts[k]);
        if (n <= e)
            continue;
        size_t i = 0;
        while (i < e) {
            char c = name[n - e + i];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != exts[k][i])
                break;
            i++;
        }
        if (i == e)
            return 1;
    }
    return 0;
}

/* Lists a folder's entries: want_dirs = 1 keeps sub-folders (not hidden ones), 0 keeps image files. Sorted. */
static acl_status list_folder(const char *path, int want_dirs, struct names *out)
{
    acl_status st = ACL_OK;
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT)
            return acl_fail(ACL_ERR_IO, "the folder '%s' does not exist", path);
        if (errno == ENOTDIR)
            return acl_fail(ACL_ERR_IO, "'%s' is not a folder", path);
        return acl_fail(ACL_ERR_IO, "cannot open the folder '%s': %s", path, strerror(errno));
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                st = acl_fail(ACL_ERR_IO, "reading the folder '%s': %s", path, strerror(errno));
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        if (want_dirs) {
            char sub[4096];
            struct stat sb;
            int n = snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            if (n < 0 || (size_t)n >= sizeof sub || stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode))
                continue; /* files beside the class folders are ignored, as ImageFolder does */
        } else if (!has_image_extension(e->d_name)) {
            continue;
        }
        if (!names_push(out, e->d_name)) {
            st = acl_fail(ACL_ERR_MEMORY, "out of memory listing '%s'", path);
            break;
        }
    }
    closedir(d);
    if (st == ACL_OK && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_names);
    return st;
}

acl_status acl_dataset_open_folder(struct acl_dataset **out, const char *dir, const char *split)
{
    acl_status st = ACL_OK;
    struct acl_dataset *ds = NULL;
    struct names classes = {0}, files = {0};
    char root[4096], path[4096];
    *out = NULL;
    int n = split && split[0] ? snprintf(root, sizeof root, "%s/%s", dir, split)
                              : snprintf(root, sizeof root, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof root)
        return acl_fail(ACL_ERR_ARGUMENT, "the folder name '%.100s...' is too long", dir);
    while (n > 1 && root[n - 1] == '/') /* "data/" and "data" name the same folder */
        root[--n] = '\0';

    struct stat sb;
    if (stat(dir, &sb) != 0)
        return acl_fail(ACL_ERR_IO, "the dataset folder '%s' %s", dir,
                        errno == ENOENT ? "does not exist" : strerror(errno));
    if (!S_ISDIR(sb.st_mode) && acl_prepared_detect(dir)) /* a prepared file stands in for a folder */
        return split && split[0] ? acl_fail(ACL_ERR_IO, "'%s' is a prepared dataset, which has no '%s' split", dir, split)
                                 : acl_prepared_open(out, dir);
    if (!S_ISDIR(sb.st_mode))
        return acl_fail(ACL_ERR_IO, "the dataset '%s' is not a folder", dir);
    if (split && split[0] && stat(root, &sb) != 0)
        return acl_fail(ACL_ERR_IO, "the dataset folder '%s' has no '%s' sub-folder (expected %s/<class>/*.jpg)",
                        dir, split, root);
    ACL_TRY(list_folder(root, 1, &classes));
    if (classes.n == 0) {
        st = acl_fail(ACL_ERR_FORMAT, "the image folder '%s' has no class sub-folders (expected %s/<class>/*.jpg)",
                      root, root);
        goto cleanup;
    }
    if (classes.n > ACL_MAX_CLASSES) {
        st = acl_fail(ACL_ERR_FORMAT, "the image folder '%s' has %zu class folders, over the limit of %d", root,
                      classes.n, ACL_MAX_CLASSES);
        goto cleanup;
    }
    ACL_TRY(acl_dataset_new(&ds, root, root));
    for (size_t k = 0; k < classes.n; k++) {
        snprintf(path, sizeof path, "%s/%s", root, classes.v[k]);
        ACL_TRY(list_folder(path, 0, &files));
        if (files.n == 0) {
            st = acl_fail(ACL_ERR_FORMAT, "the class folder '%s' has no images (.jpg, .jpeg or .png files)", path);
            goto cleanup;
        }
        for (size_t i = 0; i < files.n; i++) {
            int m = snprintf(path, sizeof path, "%s/%s", classes.v[k], files.v[i]);
            if (m < 0 || (size_t)m >= sizeof path) {
                st = acl_fail(ACL_ERR_ARGUMENT, "a path in '%s/%s' is too long", root, classes.v[k]);
                goto cleanup;
            }
            ACL_TRY(acl_dataset_add(ds, path, (size_t)m, (int32_t)k));
        }
        names_free(&files);
    }
    /* The folder names become the class names; the dataset takes the array over. */
    ds->class_names = classes.v;
    ds->num_classes = (int)classes.n;
    ds->folder_classes = 1;
    classes = (struct names){0};
    ACL_TRY(acl_dataset_finish(ds));
    *out = ds;
    ds = NULL;
cleanup:
    names_free(&classes);
    names_free(&files);
    acl_dataset_free(ds);
    return st;
}
