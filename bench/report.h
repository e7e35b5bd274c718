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
    struct bench_copy copy; /* the device's copy bandwidth measured at the start (the table's header) */
    double copy_lo, copy_hi; /* the range of the copy peaks measured beside the memory-bound rows */
    double gemm_gflops;  /* acl_gemm SGEMM 2048^3 on the device */
    double host_gflops;  /* OpenBLAS SGEMM 2048^3 on the host (0: not measured) */
    int host_threads;
    double arith_gflops; /* the peak of %gemm and of the arithmetic target: host_gflops on a CPU device */
    const char *arith_name;
    int arith_host;      /* arith_gflops is the host's OpenBLAS (else the device's acl_gemm) */
    double arith_lo, arith_hi; /* the range of the arithmetic peaks measured beside the arithmetic rows */
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

/* A row with a target is held against its peak measured again beside it: BENCH_BESIDE_RUNS runs of the peak's
 * copy (memory-bound rows) or SGEMM (arithmetic rows, the same one as the header's: OpenBLAS on a CPU device,
 * else acl_gemm) just before the row's runs and as many just after, their median. The host is shared: within
 * the hour the copy peak read 21-53 GB/s and OpenBLAS 106-207 GFLOP/s, so a row held against the peak of its own
 * moment gets a verdict that the load of the machine between the header and the row does not decide. Not
 * between the row's runs, which would flush from the caches what the row's last run left there. */
#define BENCH_BESIDE_RUNS 3

void report_begin(struct bench_report *r, const char *device);
void report_row(struct bench_report *r, const struct bench_item *item, const struct bench_result *res);
/* What a row was measured beside (each 0: not measured): the copy peak measured again beside it, the bandwidth
 * of a copy of its own bytes, and OpenBLAS's GFLOP/s on its own product. */
struct bench_beside {
    double copy_gbs, copy_at_size_gbs, host_gflops;
    double arith_gflops; /* the arithmetic peak measured again beside the row */
};
void report_row_beside(struct bench_report *r, const struct bench_item *item, const struct bench_result *res,
                       const struct bench_beside *b);
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
