/* hostblas.c: the host's SGEMM through OpenBLAS, the arithmetic peak a kernel on a CPU device is held against:
 * PoCL runs the kernels on the same cores, so what OpenBLAS reaches there is what they could reach. */
#include "bench.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#ifdef ACL_HAVE_OPENBLAS
#include <cblas.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* OpenBLAS's threads spin a while after a call (THREAD_TIMEOUT, about 2^28 cycles) before they sleep; a kernel
 * timed in that while shares the cores with them. Every measurement here ends by waiting that out. */
static void settle(void)
{
    struct timespec t = {0, 150 * 1000 * 1000};
    nanosleep(&t, NULL);
}

/* GFLOP/s of one product, the median of 5 runs after a warm-up (thread start, page faults); 0 when host memory
 * was short. */
double bench_host_sgemm_at(int threads, int ta, int tb, int m, int n, int k, float beta)
{
    enum { REPS = 5 };
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
    float *c = calloc((size_t)m * n, sizeof(float));
    double s[REPS], gflops = 0;
    if (!a || !b || !c)
        goto done;
    uint64_t seed = 11;
    for (size_t i = 0; i < (size_t)m * k || i < (size_t)k * n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        if (i < (size_t)m * k)
            a[i] = (float)(seed >> 40) * 0x1p-24f - 0.5f;
        if (i < (size_t)k * n)
            b[i] = (float)(seed >> 20 & 0xffffff) * 0x1p-24f - 0.5f;
    }
    openblas_set_num_threads(threads > 0 ? threads : 1);
    for (int r = -1; r < REPS; r++) { /* r = -1: the warm-up */
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
                    ta ? m : k, b, tb ? k : n, beta, c, n);
        if (r >= 0)
            s[r] = now_s() - t0;
    }
    double t = bench_median(s, REPS);
    gflops = t > 0 ? 2.0 * m * n * k / (t * 1e9) : 0;
    settle();
done:
    free(a);
    free(b);
    free(c);
    return gflops;
}

/* The peak's operands, kept from the first bench_host_sgemm_runs to bench_host_free. */
static float *peak_a, *peak_b, *peak_c;

int bench_host_sgemm_runs(int threads, int n, double *gflops)
{
    enum { S = 2048 };
    if (!peak_a) {
        peak_a = calloc((size_t)S * S, sizeof(float));
        peak_b = calloc((size_t)S * S, sizeof(float));
        peak_c = calloc((size_t)S * S, sizeof(float));
        if (!peak_a || !peak_b || !peak_c) {
            bench_host_free();
            return 0;
        }
        for (size_t i = 0; i < (size_t)S * S; i++) /* values do not change its speed; zeros would on some CPUs */
            peak_a[i] = (float)(i % 17) * 0.0625f - 0.5f, peak_b[i] = (float)(i % 13) * 0.0625f - 0.375f;
    }
    openblas_set_num_threads(threads > 0 ? threads : 1);
    for (int r = 0; r < n; r++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, S, S, 1.0f, peak_a, S, peak_b, S, 0.0f, peak_c, S);
        double t = now_s() - t0;
        gflops[r] = t > 0 ? 2.0 * S * S * S / (t * 1e9) : 0;
    }
    settle();
    return 1;
}

/* The header's peak by the same runs as the peaks beside the rows: a warm-up (thread start, page faults), then
 * the median of 5. */
double bench_host_sgemm(int threads, const char **why)
{
    double v[6];
    if (!bench_host_sgemm_runs(threads, 6, v)) {
        *why = "host memory was short";
        return 0;
    }
    *why = NULL;
    return bench_median(v + 1, 5);
}

void bench_host_free(void)
{
    free(peak_a);
    free(peak_b);
    free(peak_c);
    peak_a = peak_b = peak_c = NULL;
}
#else
double bench_host_sgemm_at(int threads, int ta, int tb, int m, int n, int k, float beta)
{
    (void)threads, (void)ta, (void)tb, (void)m, (void)n, (void)k, (void)beta;
    return 0;
}

double bench_host_sgemm(int threads, const char **why)
{
    (void)threads;
    *why = "built without OpenBLAS (install libopenblas-dev and re-run cmake)";
    return 0;
}

int bench_host_sgemm_runs(int threads, int n, double *gflops)
{
    (void)threads, (void)n, (void)gflops;
    return 0;
}

void bench_host_free(void) {}
#endif
