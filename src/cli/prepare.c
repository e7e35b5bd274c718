/* prepare.c: `alexnet-cl prepare`: decode a dataset once into a file that training memory-maps, and verify one. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "data/prepared.h"
#include "runtime/error.h"

static const char usage_text[] =
    "usage: alexnet-cl prepare --data DIR|LIST [--out FILE] [--labels FILE] [--size N] [--threads N] [--max-bad X]\n"
    "       alexnet-cl prepare --verify FILE [--threads N]\n\n"
    "Decodes every image of a dataset once, with the paper's preprocessing (shorter side resized to N, centre\n"
    "N x N crop), into one file that `train --data FILE` and `--val FILE` memory-map instead of decoding the\n"
    "images every epoch. Bad images are skipped, named and counted; too many stop it and leave no file.\n\n"
    "  --data DIR|LIST   an image folder (DIR/<class>/*.JPEG; DIR/train when DIR has a train folder) or a list\n"
    "                    file of `path label` lines (paths relative to the list file's folder)\n"
    "  --out FILE        the prepared file (default: the folder or list file's name + .prep, beside it)\n"
    "  --labels FILE     class names for a list file (one a line, or `index name`)\n"
    "  --size N          side of the stored images (default 256)\n"
    "  --threads N       decoding threads (default: the number of CPUs)\n"
    "  --max-bad X       the fraction of images that may be bad (default 0.01)\n"
    "  --verify FILE     check every image of a prepared file against its checksum\n";

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct args {
    const char *data, *out, *labels, *verify;
    long size, threads;
    double max_bad;
};

static int parse(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        }
        const char **slot = !strcmp(o, "--data") ? &a->data : !strcmp(o, "--out") ? &a->out
                          : !strcmp(o, "--labels") ? &a->labels : !strcmp(o, "--verify") ? &a->verify : NULL;
        int number = !strcmp(o, "--size") || !strcmp(o, "--threads") || !strcmp(o, "--max-bad");
        if (!slot && !number)
            return cli_usage_error("prepare", "unknown argument \"%s\"", o);
        if (!v)
            return cli_usage_error("prepare", "%s needs a value", o);
        i++;
        if (slot) {
            *slot = v;
        } else if (!strcmp(o, "--size")) {
            if (cli_parse_int("prepare", o, v, 1, 4096, &a->size))
                return EXIT_USAGE;
        } else if (!strcmp(o, "--threads")) {
            if (cli_parse_int("prepare", o, v, 1, 256, &a->threads))
                return EXIT_USAGE;
        } else {
            char *end = NULL;
            errno = 0;
            a->max_bad = strtod(v, &end);
            if (errno || end == v || *end || !(a->max_bad >= 0 && a->max_bad < 1))
                return cli_usage_error("prepare", "--max-bad wants a fraction from 0 to below 1, not \"%s\"", v);
        }
    }
    if (!a->data == !a->verify)
        return cli_usage_error("prepare", a->data ? "--data and --verify conflict: give one"
                                                  : "--data DIR (to prepare) or --verify FILE is needed");
    if (a->verify && (a->out || a->labels || a->size))
        return cli_usage_error("prepare", "--verify takes only --threads");
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

struct progress {
    double start, last;
    int tty;
};

static void show_progress(void *user, size_t done, size_t total, size_t bad)
{
    struct progress *p = user;
    double t = now_s();
    /* a terminal gets a line rewritten a few times a second; a log a line every 10 s */
    if (done < total && t - p->last < (p->tty ? 0.25 : 10))
        return;
    p->last = t;
    double rate = (double)done / (t - p->start > 1e-9 ? t - p->start : 1e-9);
    fprintf(stderr, "%sprepare: %zu/%zu images (%.0f%%), %zu bad, %.1f images/s, %.0f s left%s",
            p->tty ? "\r\33[K" : "", done, total, 100.0 * (double)done / (double)total, bad, rate,
            rate > 0 ? (double)(total - done) / rate : 0.0, p->tty ? (done == total ? "\n" : "") : "\n");
}

static void report_bad(const char *message, void *user)
{
    const struct progress *p = user;
    fprintf(stderr, "%salexnet-cl: skipping bad image %s\n", p->tty ? "\r\33[K" : "", message);
}

static int verify(const struct args *a)
{
    struct acl_dataset *ds = NULL;
    acl_status st = acl_prepared_open(&ds, a->verify);
    if (st != ACL_OK)
        return cli_error(st, "reading the prepared dataset");
    double t = now_s();
    size_t bad = 0;
    st = acl_prepared_verify(ds, (int)a->threads, &bad);
    if (st == ACL_OK)
        printf("%s: %zu images of %dx%dx%d in %d classes (%llu skipped as bad when it was made): every image matches "
               "its checksum and the mean image's sums match (%.1f s)\n", a->verify, ds->count, ds->height, ds->width,
               ds->channels, ds->num_classes, (unsigned long long)acl_prepared_bad_count(ds), now_s() - t);
    acl_dataset_free(ds);
    return st == ACL_OK ? 0 : cli_error(st, "verifying");
}

/* DIR/train when DIR has one (as train reads it), else DIR; a regular file is a list file. */
static acl_status open_source(const struct args *a, struct acl_dataset **ds)
{
    struct stat sb;
    if (stat(a->data, &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (acl_prepared_detect(a->data))
            return acl_fail(ACL_ERR_ARGUMENT, "%s is already a prepared dataset", a->data);
        acl_status st = acl_dataset_open_list(ds, a->data, NULL);
        if (st == ACL_OK && a->labels)
            st = acl_dataset_set_labels(*ds, a->labels);
        return st;
    }
    char train[4096];
    snprintf(train, sizeof train, "%s/train", a->data);
    acl_status st = stat(train, &sb) == 0 && S_ISDIR(sb.st_mode) ? acl_dataset_open_folder(ds, a->data, "train")
                                                                  : acl_dataset_open_folder(ds, a->data, NULL);
    if (st == ACL_OK && a->labels)
        st = acl_dataset_set_labels(*ds, a->labels);
    return st;
}

int cmd_prepare(int argc, char **argv)
{
    struct args a = {.max_bad = ACL_DEFAULT_MAX_BAD_FRACTION};
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        a.threads = n < 1 ? 1 : n > 64 ? 64 : n;
    }
    if (a.verify)
        return verify(&a);

    char out[4200];
    if (a.out) {
        snprintf(out, sizeof out, "%s", a.out);
    } else {
        size_t n = strlen(a.data);
        while (n > 1 && a.data[n - 1] == '/')
            n--;
        snprintf(out, sizeof out, "%.*s.prep", (int)n, a.data);
    }
    struct acl_dataset *ds = NULL;
    struct progress prog = {now_s(), 0, isatty(2)};
    acl_status st = open_source(&a, &ds);
    if (st != ACL_OK)
        return cli_error(st, "reading the data");
    st = acl_dataset_set_bad_policy(ds, a.max_bad, report_bad, &prog);
    if (st != ACL_OK) {
        acl_dataset_free(ds);
        return cli_error(st, "reading the data");
    }
    int size = a.size ? (int)a.size : ACL_PREPARED_DEFAULT_SIZE;
    fprintf(stderr, "preparing %s: %zu images in %d classes, to %dx%d on %ld threads, into %s\n", ds->name, ds->count,
            ds->num_classes, size, size, a.threads, out);
    struct acl_prepare_options opt = {size, (int)a.threads, show_progress, &prog, &interrupted};
    struct acl_prepare_report rep;
    signal(SIGINT, on_sigint); /* Ctrl-C stops after the current chunk and removes the temporary file */
    st = acl_prepare_write(ds, out, &opt, &rep);
    signal(SIGINT, SIG_DFL);
    acl_dataset_free(ds);
    if (st != ACL_OK) {
        if (prog.tty)
            fputc('\n', stderr);
        return cli_error(st, "preparing");
    }
    double s = now_s() - prog.start;
    double mb = (double)rep.bytes / 1048576.0;
    printf("prepared %zu images (%zu bad, skipped) of %dx%dx3 into %s (%.1f %s) in %.1f s: %.1f images/s\n",
           rep.written, rep.bad, size, size, out, mb >= 1024 ? mb / 1024 : mb, mb >= 1024 ? "GiB" : "MiB", s,
           (double)(rep.written + rep.bad) / s);
    return 0;
}
