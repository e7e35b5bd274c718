/* hostblas.c: the host's SGEMM through OpenBLAS, the arithmetic peak a kernel on a CPU device is held against:
 * PoCL runs the kernels on the same cores, so what OpenBLAS reaches there is what they could reach. */
#include "bench.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#ifdef ACL_HAVE_OPENBLAS
#include <cblas.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double bench_host_sgemm(int threads, const char **why)
{
    enum { S = 2048, REPS = 5 };
    float *a = malloc(sizeof(float) * S * S), *b = malloc(sizeof(float) * S * S), *c = malloc(sizeof(float) * S * S);
    double gflops = 0, s[REPS];
    *why = "host memory was short";
    if (!a || !b || !c)
        goto done;
    uint64_t seed = 11;
    for (size_t i = 0; i < (size_t)S * S; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        a[i] = (float)(seed >> 40) * 0x1p-24f - 0.5f;
        b[i] = (float)(seed >> 20 & 0xffffff) * 0x1p-24f - 0.5f;
    }
    openblas_set_num_threads(threads > 0 ? threads : 1);
    for (int r = -1; r < REPS; r++) { /* r = -1: the warm-up (thread start, page faults) */
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, S, S, 1.0f, a, S, b, S, 0.0f, c, S);
        if (r >= 0)
            s[r] = now_s() - t0;
    }
    qsort(s, REPS, sizeof s[0], cmp_double);
    gflops = s[REPS / 2] > 0 ? 2.0 * S * S * S / (s[REPS / 2] * 1e9) : 0;
    *why = NULL;
done:
    free(a);
    free(b);
    free(c);
    return gflops;
}
#else
double bench_host_sgemm(int threads, const char **why)
{
    (void)threads;
    *why = "built without OpenBLAS (install libopenblas-dev and re-run cmake)";
    return 0;
}
#endif
