/* report.c: report.html, one self-contained page of inline SVG charts, a summary table and the conv1 filters
 * as a data URI (see report.h). */
#include "train/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"
#include "runtime/error.h"

#define MAX_POINTS 1200 /* a polyline longer than this is averaged in bins: the chart is 720 pixels wide */

/* ---- text */

static void put(struct acl_json_buf *b, const char *s) { acl_json_buf_cstr(b, s); }

static void putf(struct acl_json_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct acl_json_buf *b, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n > 0)
        acl_json_buf_raw(b, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

/* Text from outside (a model name, a path) as HTML character data or attribute value. */
static void put_escaped(struct acl_json_buf *b, const char *s)
{
    for (const char *run = s;; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\0': break;
        default: continue;
        }
        acl_json_buf_raw(b, run, (size_t)(s - run));
        if (!*s)
            return;
        put(b, rep);
        run = s + 1;
    }
}

void acl_base64(struct acl_json_buf *b, const uint8_t *data, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        quad[0] = abc[v >> 18 & 63];
        quad[1] = abc[v >> 12 & 63];
        quad[2] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        quad[3] = i + 2 < n ? abc[v & 63] : '=';
        acl_json_buf_raw(b, quad, 4);
    }
}

static void put_duration(struct acl_json_buf *b, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        putf(b, "%ld h %02ld min", t / 3600, t / 60 % 60);
    else if (t >= 60)
        putf(b, "%ld min %02ld s", t / 60, t % 60);
    else
        putf(b, "%.1f s", s);
}

static void put_thousands(struct acl_json_buf *b, uint64_t v)
{
    char digits[24], out[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v), k = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
    put(b, out);
}

/* ---- series */

/* Steps per epoch, from the first record of a later epoch (whose step is epoch * steps_per_epoch + 1); 0
 * when every record is in one epoch. */
static uint64_t steps_per_epoch(const struct acl_metrics *m)
{
    for (size_t i = 1; i < m->n_train; i++) {
        const struct acl_train_record *a = &m->train[i - 1], *r = &m->train[i];
        if (r->epoch == a->epoch + 1 && r->step == a->step + 1 && r->epoch > 0)
            return (r->step - 1) / r->epoch;
    }
    return 0;
}

/* Centred moving average over 2h+1 records (h grows with the run, so the smoothed line looks alike for
 * runs of any length); the ends average what they have. */
static void smooth(const double *y, size_t n, double *out)
{
    size_t h = n >= 5 ? (n / 50 > 1 ? n / 50 : 1) : 0;
    double *prefix = malloc((n + 1) * sizeof *prefix);
    if (!prefix) {
        memcpy(out, y, n * sizeof *y);
        return;
    }
    prefix[0] = 0;
    for (size_t i = 0; i < n; i++)
        prefix[i + 1] = prefix[i] + y[i];
    for (size_t i = 0; i < n; i++) {
        size_t lo = i > h ? i - h : 0, hi = i + h + 1 < n ? i + h + 1 : n;
        out[i] = (prefix[hi] - prefix[lo]) / (double)(hi - lo);
    }
    free(prefix);
}

/* At most MAX_POINTS points: consecutive records averaged in bins. Returns the points written to ox, oy. */
static size_t reduce(const double *x, const double *y, size_t n, double *ox, double *oy)
{
    if (n <= MAX_POINTS) {
        memcpy(ox, x, n * sizeof *x);
        memcpy(oy, y, n * sizeof *y);
        return n;
    }
    for (size_t k = 0; k < MAX_POINTS; k++) {
        size_t lo = k * n / MAX_POINTS, hi = (k + 1) * n / MAX_POINTS;
        double sx = 0, sy = 0;
        for (size_t i = lo; i < hi; i++)
            sx += x[i], sy += y[i];
        ox[k] = sx / (double)(hi - lo);
        oy[k] = sy / (double)(hi - lo);
    }
    return MAX_POINTS;
}

/* ---- charts */

enum { CW = 720, CH = 300, ML = 64, MR = 16, MT = 28, MB = 44 };

struct axis {
    double lo, hi;
    int log;     /* log10 scale */
    int percent; /* fractions shown as percent */
};

struct series {
    const double *x, *y;
    size_t n;
    const char *cls, *label;
    int markers; /* circles at the points as well (few points: a single one would not show as a line) */
};

static double nice_step(double range)
{
    double raw = range / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void axis_fit(struct axis *a, const struct series *s, int ns, int use_x)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            double v = use_x ? s[k].x[i] : s[k].y[i];
            if (isfinite(v) && (!a->log || v > 0)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    if (!(lo <= hi))
        lo = hi = a->log ? 1 : 0;
    if (a->log) { /* a margin, so that a rate at a decade does not run along the frame */
        double pad = hi / lo < 1.5 ? sqrt(10) : pow(10, 0.15);
        lo /= pad, hi *= pad;
    } else if (!(hi - lo > 1e-12 * (fabs(lo) + fabs(hi)))) {
        double d = lo != 0 ? fabs(lo) * 0.1 : 1;
        lo -= d, hi += d;
    }
    a->lo = lo;
    a->hi = hi;
}

static double map(const struct axis *a, double v, double p0, double p1)
{
    double t = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) : (v - a->lo) / (a->hi - a->lo);
    return p0 + t * (p1 - p0);
}

static void tick_label(struct acl_json_buf *b, const struct axis *a, double v, double step)
{
    if (a->percent)
        putf(b, "%.0f%%", v * 100);
    else if (a->log || step <= 0)
        putf(b, "%g", v);
    else
        putf(b, "%.*f", step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9), v);
}

/* Grid lines and labels along one axis (vertical: the y axis). */
static void ticks(struct acl_json_buf *b, const struct axis *a, int vertical)
{
    double p0 = vertical ? CH - MB : ML, p1 = vertical ? MT : CW - MR;
    double vals[64];
    int n = 0;
    double step = 0;
    if (a->log) {
        for (double e = ceil(log10(a->lo) - 1e-9); e <= floor(log10(a->hi) + 1e-9) && n < 64; e++)
            vals[n++] = pow(10, e);
        if (n == 0)
            vals[n++] = a->lo, vals[n++] = a->hi;
    } else {
        step = nice_step(a->hi - a->lo);
        for (double v = ceil(a->lo / step - 1e-9) * step; v <= a->hi + step * 1e-9 && n < 64; v += step)
            vals[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
    for (int i = 0; i < n; i++) {
        double p = map(a, vals[i], p0, p1);
        if (vertical) {
            putf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", ML, p, CW - MR, p);
            putf(b, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", ML - 6, p + 4);
        } else {
            putf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", p, MT, p, CH - MB);
            putf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", p, CH - MB + 16);
        }
        tick_label(b, a, vals[i], step);
        put(b, "</text>\n");
    }
}

static void chart(struct acl_json_buf *b, const char *title, const char *xlabel, const char *ylabel,
                  const struct series *s, int ns, struct axis ax, struct axis ay)
{
    putf(b, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">\n",
         CW, CH, CW, CH, title);
    putf(b, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", ML, MT, CW - ML - MR, CH - MT - MB);
    ticks(b, &ax, 0);
    ticks(b, &ay, 1);
    putf(b, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", (ML + CW - MR) / 2, CH - 8,
         xlabel);
    putf(b, "<text class=\"label\" transform=\"translate(16 %d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
         (MT + CH - MB) / 2, ylabel);
    double lx = ML + 10;
    for (int k = 0; k < ns; k++) {
        putf(b, "<polyline class=\"%s\" points=\"", s[k].cls);
        for (size_t i = 0; i < s[k].n; i++)
            putf(b, "%s%.1f,%.1f", i ? " " : "", map(&ax, s[k].x[i], ML, CW - MR), map(&ay, s[k].y[i], CH - MB, MT));
        put(b, "\"/>\n");
        if (s[k].markers)
            for (size_t i = 0; i < s[k].n; i++)
                putf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", s[k].cls,
                     map(&ax, s[k].x[i], ML, CW - MR), map(&ay, s[k].y[i], CH - MB, MT));
        /* the legend, along the top */
        putf(b, "<line class=\"%s\" x1=\"%.0f\" y1=\"14\" x2=\"%.0f\" y2=\"14\"/><text class=\"legend\" x=\"%.0f\" "
             "y=\"18\">%s</text>\n", s[k].cls, lx, lx + 18, lx + 24, s[k].label);
        lx += 36 + 7.5 * (double)strlen(s[k].label);
    }
    put(b, "</svg>\n");
}

static void loss_chart(struct acl_json_buf *b, const struct acl_metrics *m, double *final_smoothed)
{
    size_t n = m->n_train;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *sm = malloc(n * sizeof *sm);
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry), *sx = malloc(n * sizeof *sx),
           *sy = malloc(n * sizeof *sy);
    if (x && y && sm && rx && ry && sx && sy) {
        for (size_t i = 0; i < n; i++)
            x[i] = (double)m->train[i].step, y[i] = m->train[i].loss;
        smooth(y, n, sm);
        *final_smoothed = sm[n - 1];
        size_t nr = reduce(x, y, n, rx, ry), ns = reduce(x, sm, n, sx, sy);
        struct series s[2] = {{rx, ry, nr, "loss-raw", "loss", 0}, {sx, sy, ns, "loss-smooth", "smoothed", 0}};
        struct axis ax = {0}, ay = {0};
        axis_fit(&ax, s, 2, 1);
        axis_fit(&ay, s, 1, 0);
        double step = nice_step(ay.hi - ay.lo); /* the y range widened to whole ticks */
        ay.lo = floor(ay.lo / step) * step;
        ay.hi = ceil(ay.hi / step) * step;
        chart(b, "training loss by step", "step", "cross-entropy loss", s, 2, ax, ay);
    } else {
        b->failed = 1;
    }
    free(x), free(y), free(sm), free(rx), free(ry), free(sx), free(sy);
}

static void accuracy_chart(struct acl_json_buf *b, const struct acl_metrics *m)
{
    size_t n = m->n_eval;
    uint64_t spe = steps_per_epoch(m);
    int all_steps = 1;
    for (size_t i = 0; i < n; i++)
        all_steps &= m->eval[i].has_step;
    /* Epochs (fractional, so an evaluation inside an epoch sits where it was made) when the records say how
     * long an epoch is; otherwise steps, or the records' epoch numbers. */
    const char *xlabel = spe && all_steps ? "epoch" : all_steps ? "step" : "epoch";
    double *x = malloc(n * sizeof *x), *t1 = malloc(n * sizeof *t1), *t5 = malloc(n * sizeof *t5);
    if (x && t1 && t5) {
        for (size_t i = 0; i < n; i++) {
            const struct acl_eval_record *e = &m->eval[i];
            x[i] = spe && all_steps ? (double)e->step / (double)spe : all_steps ? (double)e->step : e->epoch;
            t1[i] = e->top1, t5[i] = e->top5;
        }
        int few = n <= 100;
        struct series s[2] = {{x, t1, n, "top1", "top-1", few}, {x, t5, n, "top5", "top-5", few}};
        struct axis ax = {0}, ay = {.lo = 0, .hi = 1, .percent = 1};
        axis_fit(&ax, s, 2, 1);
        ax.lo = ax.lo > 0 ? 0 : ax.lo; /* from the start of training */
        chart(b, "validation accuracy", xlabel, "accuracy", s, 2, ax, ay);
    } else {
        b->failed = 1;
    }
    free(x), free(t1), free(t5);
}

/* The learning rate is a step function: only its changes become points. */
static void lr_chart(struct acl_json_buf *b, const struct acl_metrics *m)
{
    size_t n = m->n_train, k = 0;
    double *x = malloc(2 * n * sizeof *x), *y = malloc(2 * n * sizeof *y);
    int positive = 1;
    if (!x || !y) {
        b->failed = 1;
        free(x), free(y);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct acl_train_record *r = &m->train[i];
        positive &= r->lr > 0;
        if (i == 0 || r->lr != m->train[i - 1].lr) {
            if (i > 0)
                x[k] = (double)r->step, y[k++] = m->train[i - 1].lr;
            x[k] = (double)r->step, y[k++] = r->lr;
        }
    }
    if (n > 1)
        x[k] = (double)m->train[n - 1].step, y[k++] = m->train[n - 1].lr;
    struct series s = {x, y, k, "lr", "learning rate", k == 1};
    struct axis ax = {0}, ay = {.log = positive};
    axis_fit(&ax, &s, 1, 1);
    axis_fit(&ay, &s, 1, 0);
    chart(b, "learning rate by step", "step", positive ? "learning rate (log scale)" : "learning rate", &s, 1, ax, ay);
    free(x), free(y);
}

/* ---- the page */

static const char style[] =
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:760px;color:#222;padding:0 1em}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em}"
    "table{border-collapse:collapse}th,td{text-align:left;padding:.2em 1.2em .2em 0;vertical-align:top}"
    "th{font-weight:600;color:#555}p.note{color:#555;font-size:.9em}"
    "svg.chart{max-width:100%;height:auto;font-size:12px}"
    ".frame{fill:none;stroke:#888}.grid{stroke:#e4e4e4}.tick,.legend{fill:#444}.label{fill:#222}"
    "polyline,line.loss-raw,line.loss-smooth,line.top1,line.top5,line.lr{fill:none;stroke-width:2}"
    ".loss-raw{stroke:#9ecae1;stroke-width:1}.loss-smooth{stroke:#08519c}"
    ".top1{stroke:#d95f02}.top5{stroke:#1b9e77}.lr{stroke:#7570b3}"
    "circle.top1{fill:#d95f02}circle.top5{fill:#1b9e77}circle.lr{fill:#7570b3}"
    "img.filters{image-rendering:pixelated;max-width:100%;height:auto}";

static void row_start(struct acl_json_buf *b, const char *name) { putf(b, "<tr><th>%s</th><td>", name); }

static void summary(struct acl_json_buf *b, const struct acl_metrics *m, const struct acl_report_info *info,
                    const struct acl_net *net, double final_smoothed)
{
    static const char none[] = "not recorded";
    put(b, "<table class=\"summary\">\n");
    row_start(b, "model");
    if (info->model) {
        put_escaped(b, info->model);
        if (net && strcmp(net->name, info->model)) {
            put(b, " (");
            put_escaped(b, net->name);
            put(b, ")");
        }
    } else {
        put_escaped(b, net ? net->name : none);
    }
    put(b, "</td></tr>\n");
    row_start(b, "data");
    put_escaped(b, info->data ? info->data : none);
    put(b, "</td></tr>\n");
    row_start(b, "parameters");
    if (net)
        put_thousands(b, net->param_count);
    else
        put(b, none);
    put(b, "</td></tr>\n");
    const struct acl_train_record *last = m->n_train ? &m->train[m->n_train - 1] : NULL;
    uint64_t spe = steps_per_epoch(m);
    row_start(b, "steps");
    put_thousands(b, last ? last->step : 0);
    put(b, "</td></tr>\n");
    row_start(b, "epochs");
    if (spe && last)
        putf(b, "%.2f (%llu steps each)", (double)last->step / (double)spe, (unsigned long long)spe);
    else
        put(b, last ? "under 1 (in the first epoch)" : "0");
    put(b, "</td></tr>\n");
    row_start(b, "images/s");
    if (info->images_per_s > 0)
        putf(b, "%.1f", info->images_per_s);
    else
        put(b, none);
    put(b, "</td></tr>\n");
    row_start(b, "training time");
    if (info->seconds > 0)
        put_duration(b, info->seconds);
    else
        put(b, none);
    put(b, "</td></tr>\n");
    if (last) {
        row_start(b, "final loss");
        putf(b, "%.4f (smoothed; last step %.4f)</td></tr>\n", final_smoothed, last->loss);
        row_start(b, "learning rate");
        putf(b, "%g</td></tr>\n", last->lr);
    }
    row_start(b, "final accuracy");
    if (m->n_eval) {
        const struct acl_eval_record *e = &m->eval[m->n_eval - 1];
        putf(b, "top-1 %.2f%%, top-5 %.2f%%", 100 * e->top1, 100 * e->top5);
        if (e->has_step)
            putf(b, " (step %llu)", (unsigned long long)e->step);
        size_t best = 0;
        for (size_t i = 1; i < m->n_eval; i++)
            best = m->eval[i].top1 > m->eval[best].top1 ? i : best;
        if (best != m->n_eval - 1)
            putf(b, "; best top-1 %.2f%%", 100 * m->eval[best].top1);
    } else {
        put(b, "no evaluation yet");
    }
    put(b, "</td></tr>\n</table>\n");
}

void acl_report_html(struct acl_json_buf *b, const struct acl_metrics *m, const struct acl_report_info *info,
                     const struct acl_net *net, const struct acl_filter_grid *filters,
                     const struct acl_tensor_desc *filter_tensor, const uint8_t *png, size_t png_len)
{
    static const struct acl_report_info empty = {0};
    info = info ? info : &empty;
    const char *title = info->model ? info->model : net ? net->name : "a run";
    put(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>alexnet-cl: ");
    put_escaped(b, title);
    put(b, "</title>\n<style>");
    put(b, style);
    put(b, "</style>\n</head>\n<body>\n<h1>Training report: ");
    put_escaped(b, title);
    put(b, "</h1>\n");
    double final_smoothed = 0;
    struct acl_json_buf charts = {0};
    put(&charts, "<h2>Training loss</h2>\n");
    if (m->n_train) {
        loss_chart(&charts, m, &final_smoothed);
        put(&charts, "<p class=\"note\">Each step's batch loss (light) and its centred moving average (dark).</p>\n");
    } else {
        put(&charts, "<p>No training records yet.</p>\n");
    }
    put(&charts, "<h2>Validation accuracy</h2>\n");
    if (m->n_eval)
        accuracy_chart(&charts, m);
    else
        put(&charts, "<p>No evaluation records yet.</p>\n");
    if (m->n_train) {
        put(&charts, "<h2>Learning rate</h2>\n");
        lr_chart(&charts, m);
    }
    summary(b, m, info, net, final_smoothed);
    if (m->skipped_tail)
        put(b, "<p class=\"note\">The last line of metrics.jsonl was cut short and is left out.</p>\n");
    if (charts.p)
        acl_json_buf_raw(b, charts.p, charts.n);
    b->failed |= charts.failed;
    free(charts.p);
    if (filters && png) {
        const struct acl_tensor_desc *d = filter_tensor;
        put(b, "<h2>First-layer filters</h2>\n<p class=\"note\">");
        if (d) {
            put_escaped(b, d->name);
            putf(b, ": %d kernels of %dx%dx%d", d->dims[0], d->dims[1], d->dims[2], d->dims[3]);
        }
        putf(b, ", in %d rows of %d as in the paper's Figure 3, each stretched over its own range%s, shown %dx. "
             "Also in conv1_filters.png.</p>\n", filters->rows, filters->cols,
             filters->channels == 3 ? " (its three colour channels together)"
             : d && d->dims[1] != 1 ? " (grey: the mean over its channels)" : "", filters->scale);
        putf(b, "<img class=\"filters\" width=\"%d\" height=\"%d\" alt=\"the first convolution's kernels\" "
             "src=\"data:image/png;base64,", filters->width, filters->height);
        acl_base64(b, png, png_len);
        put(b, "\">\n");
    }
    put(b, "<p class=\"note\">Made by alexnet-cl " ACL_VERSION_STRING " from metrics.jsonl.</p>\n</body>\n</html>\n");
}

/* ---- files */

static acl_status write_whole(const char *path, const void *data, size_t n)
{
    struct acl_atomic_file a;
    acl_status st = acl_atomic_begin(&a, path);
    if (st != ACL_OK)
        return st;
    acl_atomic_write(&a, data, n);
    return acl_atomic_commit(&a);
}

acl_status acl_report_write(const char *out_dir, const struct acl_net *net, const float *params,
                            const struct acl_report_info *info)
{
    char path[4200];
    struct acl_metrics m = {0};
    struct acl_filter_grid g = {0};
    struct acl_json_buf page = {0};
    const struct acl_tensor_desc *tensor = NULL;
    uint8_t *png = NULL;
    size_t png_len = 0;
    acl_status st = ACL_OK;
    snprintf(path, sizeof path, "%s/metrics.jsonl", out_dir);
    ACL_TRY(acl_metrics_read(path, &m));
    int has_conv = 0;
    for (int i = 0; net && i < net->n_layers; i++)
        has_conv |= net->layers[i].kind == ACL_CONV;
    if (net && params && has_conv) {
        ACL_TRY(acl_filter_tile_net(net, params, &g, &tensor));
        ACL_TRY(acl_filter_png(&g, &png, &png_len));
        snprintf(path, sizeof path, "%s/conv1_filters.png", out_dir);
        ACL_TRY(write_whole(path, png, png_len));
    }
    acl_report_html(&page, &m, info, net, png ? &g : NULL, tensor, png, png_len);
    if (page.failed) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory for the report");
        goto cleanup;
    }
    snprintf(path, sizeof path, "%s/report.html", out_dir);
    ACL_TRY(write_whole(path, page.p, page.n));
cleanup:
    free(page.p);
    free(png);
    acl_filter_grid_free(&g);
    acl_metrics_free(&m);
    return st;
}

void acl_report_during_run(const char *out_dir, const struct acl_net *net, const float *params, FILE *metrics,
                           const struct acl_report_info *info, double images_per_s)
{
    if (!out_dir)
        return;
    if (metrics)
        fflush(metrics);
    struct acl_report_info now = {0};
    if (info)
        now = *info;
    now.images_per_s = images_per_s;
    if (acl_report_write(out_dir, net, params, &now) != ACL_OK) {
        fprintf(stderr, "warning: the report in %s was not updated: %s\n", out_dir, acl_last_error());
        acl_clear_error();
    }
}
