/* report.h: the bench's table on stdout and its JSON file, each row with its target and verdict, and the
 * summary at the end (the rows that miss their target, and where a training step's time goes). */
#ifndef ACL_BENCH_REPORT_H
#define ACL_BENCH_REPORT_H

#include <stdio.h>

#include "bench.h"
#include "net/net.h"

/* What a row is measured against (bench_item.role; 0 decides by the kernel's name, report.c). */
enum bench_role { ROLE_BY_NAME, ROLE_ARITH, ROLE_MEMORY, ROLE_ALT, ROLE_NONE };

/* One reported row, kept for the summary. */
struct bench_row {
    char kernel[40], shape[64];
    enum bench_role role;
    double pct;       /* of the peak its target is against: arithmetic or copy */
    int small;        /* a memory-bound row measured against a copy of its own bytes (report.c) */
    double host_pct;  /* OpenBLAS on the row's own product, % of the arithmetic peak (0: not measured) */
    int miss;
};

struct bench_report {
    FILE *json;          /* NULL: table only */
    int rows;
    struct bench_row *row; /* the first kept rows, for the summary */
    int kept, row_cap;
    struct bench_copy copy; /* the device's measured copy bandwidth; copy.gbs is the peak of %copy */
    double gemm_gflops;  /* acl_gemm SGEMM 2048^3 on the device */
    double host_gflops;  /* OpenBLAS SGEMM 2048^3 on the host (0: not measured) */
    int host_threads;
    double arith_gflops; /* the peak of %gemm and of the arithmetic target: host_gflops on a CPU device */
    const char *arith_name;
    const char *only;    /* run only kernels whose name starts with this */
    const char *shapes;  /* the preset name or description file whose layer shapes the cases time */
    const struct acl_net *net; /* that network */
    int batch, warmup, reps;
    /* the model case's layer-by-layer step, per layer kind (enum acl_layer_kind), forward + backward, seconds;
     * step_s is the whole profiled step (0: the model case did not run) */
    double kind_s[ACL_FC + 1], step_s;
};

/* The targets of issue 5: arithmetic kernels at least 50% of the arithmetic peak, memory-bound ones at least
 * 60% of the copy bandwidth. */
#define BENCH_TARGET_ARITH 50.0
#define BENCH_TARGET_MEMORY 60.0
/* A memory-bound row that moves at most this many bytes is also compared with a copy of its own bytes: where
 * even that copy misses the target against the peak, a launch costs more than the bytes, and the row's target
 * is against the copy of its size instead (marked copy* in the table). */
#define BENCH_SMALL_BYTES (16.0 * 1024 * 1024)

void report_begin(struct bench_report *r, const char *device);
void report_row(struct bench_report *r, const struct bench_item *item, const struct bench_result *res);
/* The same, with the bandwidth of a copy of the row's bytes and OpenBLAS's GFLOP/s on the row's own product
 * (each 0: not measured). */
void report_row_sized(struct bench_report *r, const struct bench_item *item, const struct bench_result *res,
                      double copy_at_size_gbs, double host_gflops);
/* The summary on stdout, the end of the JSON; frees the kept rows. */
void report_end(struct bench_report *r);
/* Whether item names a kernel selected by --only. */
int report_wants(const struct bench_report *r, const char *kernel);
/* Whether --only may select some kernel whose name starts with prefix ("conv." for --only conv.forward): a case
 * that has none to time skips its set-up. */
int report_wants_kind(const struct bench_report *r, const char *prefix);
/* Times item and reports it (skipping what --only excludes). */
acl_status report_time(struct acl_ctx *c, struct bench_report *r, const struct bench_item *item);
/* The same, for a product OpenBLAS ran at host_gflops on the host (0: not measured), shown beside a miss. */
acl_status report_time_host(struct acl_ctx *c, struct bench_report *r, const struct bench_item *item,
                            double host_gflops);

#endif
