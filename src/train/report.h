/* report.h: the run's report in its output folder: report.html, one self-contained page (inline SVG charts
 * of the loss, the validation accuracy and the learning rate, a summary table and the conv1 filters as an
 * embedded PNG; no scripts, style sheets or fonts from elsewhere), and conv1_filters.png beside it, the
 * first convolution's kernels tiled as in the paper's Figure 3.
 *
 * Everything the charts show comes from metrics.jsonl, so the report can be made again from an output
 * folder alone (`alexnet-cl report`). Both files are written atomically (io/atomic.h). The page holds no
 * time stamp: the same folder gives the same bytes. */
#ifndef ACL_TRAIN_REPORT_H
#define ACL_TRAIN_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io/json.h"
#include "net/net.h"

/* ---- metrics.jsonl (report_metrics.c) */

struct acl_train_record {
    uint64_t step;
    uint32_t epoch;      /* the epoch in progress, from 0 */
    double loss, lr;
};

struct acl_eval_record {
    uint32_t epoch;
    int has_step, has_loss;
    uint64_t step;
    double top1, top5, loss; /* fractions; loss when has_loss */
};

struct acl_metrics {
    struct acl_train_record *train;
    size_t n_train, cap_train;
    struct acl_eval_record *eval;
    size_t n_eval, cap_eval;
    size_t skipped_tail;  /* 1 when an unterminated last line did not parse and was left out */
};

/* Parses metrics.jsonl text (name is used in messages). A training record has step, epoch, loss and lr; an
 * evaluation record epoch, top1 and top5 (step and loss when present); other keys with scalar values are
 * ignored. A resumed run appends to the file: a training record whose step is not past the last one starts
 * over from there, dropping the records it replaces. A line that is not such a record is ACL_ERR_FORMAT
 * naming the line, except an unterminated last line (a write cut short), which is left out. */
acl_status acl_metrics_parse(const char *text, size_t n, const char *name, struct acl_metrics *m);
acl_status acl_metrics_read(const char *path, struct acl_metrics *m);
void acl_metrics_free(struct acl_metrics *m);

/* ---- the filter image (report_filters.c) */

struct acl_filter_grid {
    uint8_t *pixels;          /* height rows of width * channels bytes (malloc'd) */
    int width, height, channels; /* channels: 3 (RGB) for 3-channel kernels, 1 (gray) otherwise */
    int count, rows, cols, scale, gap;
};

/* Tiles count kernels w[count][c][kh][kw] in a grid (acl_filter_columns columns), each kernel stretched to
 * 0..255 over its own range (all its channels together, so colours keep their balance; a constant kernel is
 * mid-grey 128), enlarged scale times by nearest neighbour, with gap white pixels between and around the
 * tiles. Three channels give RGB; any other count gives grey (the mean over channels). scale 0: enough to
 * make a tile about 44 pixels wide (4x for 11x11); gap -1: 2 pixels (1 at scale 1). */
acl_status acl_filter_tile(const float *w, int count, int c, int kh, int kw, int scale, int gap,
                           struct acl_filter_grid *out);
/* Columns of the grid: near the paper's 16:6 aspect (16 x 6 for 96 kernels), a divisor of count when one is
 * within a quarter of that, so the last row is full. */
int acl_filter_columns(int count);
/* The first convolution of net, its weight tensor in params (*tensor names it; NULL when the net has none,
 * then ACL_ERR_ARGUMENT). */
acl_status acl_filter_tile_net(const struct acl_net *net, const float *params, struct acl_filter_grid *out,
                               const struct acl_tensor_desc **tensor);
void acl_filter_grid_free(struct acl_filter_grid *g);
/* The grid as PNG bytes (malloc'd). */
acl_status acl_filter_png(const struct acl_filter_grid *g, uint8_t **png, size_t *len);

/* ---- the page (report.c) */

/* What the metrics do not say; any field may be left empty (NULL, 0) and shows as "not recorded". */
struct acl_report_info {
    const char *model;      /* the --model argument (a preset name or a description file) */
    const char *data;       /* the --data argument */
    double images_per_s;    /* training speed over the run */
    double seconds;         /* training time */
};

/* The page as text into b. net and filters may be NULL (no parameter count, no filter section); png is the
 * filter image's PNG bytes when filters is given. */
void acl_report_html(struct acl_json_buf *b, const struct acl_metrics *m, const struct acl_report_info *info,
                     const struct acl_net *net, const struct acl_filter_grid *filters,
                     const struct acl_tensor_desc *filter_tensor, const uint8_t *png, size_t png_len);

/* Standard base64 with padding, into b. */
void acl_base64(struct acl_json_buf *b, const uint8_t *data, size_t n);

/* Reads out_dir/metrics.jsonl and writes out_dir/conv1_filters.png (when net and params are given and the
 * net has a convolution) and out_dir/report.html. */
acl_status acl_report_write(const char *out_dir, const struct acl_net *net, const float *params,
                            const struct acl_report_info *info);

/* The trainer's hook, after each checkpoint: flushes metrics (the open metrics.jsonl, may be NULL), writes the
 * report with images_per_s so far, and turns a failure into a warning on stderr, since a run should not stop
 * for its report (an unwritable folder has already failed the checkpoint). */
void acl_report_during_run(const char *out_dir, const struct acl_net *net, const float *params, FILE *metrics,
                           const struct acl_report_info *info, double images_per_s);

#endif
