/* report.h: the bench's table on stdout and its JSON file. */
#ifndef ACL_BENCH_REPORT_H
#define ACL_BENCH_REPORT_H

#include <stdio.h>

#include "bench.h"

struct bench_report {
    FILE *json;          /* NULL: table only */
    int rows;
    struct bench_copy copy; /* the device's measured copy bandwidth; copy.gbs is the peak of %copy */
    double gemm_gflops;  /* SGEMM 2048^3 through CLBlast on the device */
    const char *only;    /* run only kernels whose name starts with this */
    const char *shapes;  /* "paper" (NULL) or "mini": whose layer shapes the cases time */
    int batch, warmup, reps;
};

void report_begin(struct bench_report *r, const char *device);
void report_row(struct bench_report *r, const struct bench_item *item, const struct bench_result *res);
void report_end(struct bench_report *r);
/* Whether item names a kernel selected by --only. */
int report_wants(const struct bench_report *r, const char *kernel);
/* Times item and reports it (skipping what --only excludes). */
acl_status report_time(struct acl_ctx *c, struct bench_report *r, const struct bench_item *item);

#endif
