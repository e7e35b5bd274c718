/* lighting.c: the 3x3 symmetric eigen-solver, the RGB covariance and the per-image lighting offsets (lighting.h). */
#include "train/lighting.h"

#include <math.h>
#include <string.h>

#include "philox.h"

#define LIGHT_STREAM 0x5a5a000000000000ULL /* lighting draws on a Philox stream of its own, per epoch */

/* One Jacobi rotation in the (p, q) plane that zeroes a[p][q]: a = J^T a J, v = v J. */
static void rotate(double a[3][3], double v[3][3], int p, int q)
{
    if (a[p][q] == 0)
        return;
    /* theta = cot(2 phi); t = tan(phi), the smaller root of t^2 + 2 theta t - 1 = 0 (stable for large theta) */
    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
    double t = fabs(theta) > 1e150 ? 0.5 / theta : (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
    double c = 1 / sqrt(t * t + 1), s = t * c;
    for (int k = 0; k < 3; k++) { /* columns p and q */
        double kp = a[k][p], kq = a[k][q];
        a[k][p] = c * kp - s * kq;
        a[k][q] = s * kp + c * kq;
    }
    for (int k = 0; k < 3; k++) { /* rows p and q */
        double pk = a[p][k], qk = a[q][k];
        a[p][k] = c * pk - s * qk;
        a[q][k] = s * pk + c * qk;
    }
    a[p][q] = a[q][p] = 0; /* exactly, rather than the rounding left of it */
    for (int k = 0; k < 3; k++) {
        double kp = v[k][p], kq = v[k][q];
        v[k][p] = c * kp - s * kq;
        v[k][q] = s * kp + c * kq;
    }
}

void acl_eig3_sym(const double in[3][3], double vals[3], double vecs[3][3])
{
    double a[3][3], v[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            a[i][j] = i <= j ? in[i][j] : in[j][i];
    /* Cyclic sweeps converge quadratically; a handful suffice for 3x3 in double, 50 is a guard. */
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
        double diag = a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2];
        if (off == 0 || off <= 1e-36 * diag)
            break;
        rotate(a, v, 0, 1);
        rotate(a, v, 0, 2);
        rotate(a, v, 1, 2);
    }
    int order[3] = {0, 1, 2};
    for (int i = 0; i < 3; i++) /* decreasing eigenvalues */
        for (int j = i + 1; j < 3; j++)
            if (a[order[j]][order[j]] > a[order[i]][order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    for (int k = 0; k < 3; k++) {
        int col = order[k];
        vals[k] = a[col][col];
        int big = 0;
        for (int r = 1; r < 3; r++)
            if (fabs(v[r][col]) > fabs(v[big][col]))
                big = r;
        double sign = v[big][col] < 0 ? -1 : 1;
        for (int r = 0; r < 3; r++)
            vecs[k][r] = sign * v[r][col];
    }
}

void acl_rgb_moments_add(struct acl_rgb_moments *m, const uint8_t *rgb, size_t pixels)
{
    /* Integer sums per call: exact (pixels * 255^2 fits 64 bits for any image the decoder accepts), then one
     * rounding into the double totals, which stay exact up to 2^53 (over 10^11 pixels of full-scale values). */
    uint64_t s[3] = {0, 0, 0}, s2[3][3] = {{0}};
    for (size_t i = 0; i < pixels; i++) {
        const uint8_t *p = rgb + 3 * i;
        for (int a = 0; a < 3; a++) {
            s[a] += p[a];
            for (int b = a; b < 3; b++)
                s2[a][b] += (uint64_t)p[a] * p[b];
        }
    }
    m->n += (double)pixels;
    for (int a = 0; a < 3; a++) {
        m->sum[a] += (double)s[a];
        for (int b = a; b < 3; b++)
            m->sum2[a][b] += (double)s2[a][b];
    }
}

void acl_lighting_from_moments(const struct acl_rgb_moments *m, struct acl_lighting *l)
{
    double cov[3][3] = {{0}}, vals[3], vecs[3][3];
    if (m->n > 0)
        for (int a = 0; a < 3; a++)
            for (int b = a; b < 3; b++) {
                double mean_a = m->sum[a] / m->n, mean_b = m->sum[b] / m->n;
                /* in [0, 1] units: levels / 255 */
                cov[a][b] = (m->sum2[a][b] / m->n - mean_a * mean_b) / (255.0 * 255.0);
            }
    acl_eig3_sym(cov, vals, vecs);
    for (int k = 0; k < 3; k++) {
        l->eigval[k] = (float)(vals[k] > 0 ? vals[k] : 0); /* a covariance has none below 0 but for rounding */
        for (int c = 0; c < 3; c++)
            l->eigvec[k][c] = (float)vecs[k][c];
    }
}

void acl_lighting_alphas(uint64_t seed, uint64_t epoch, uint64_t index, double alpha[3])
{
    uint64_t stream = LIGHT_STREAM | epoch;
    double u[4];
    for (int k = 0; k < 4; k++)
        u[k] = acl_philox_uniform(seed, stream, 4 * index + (uint64_t)k);
    /* Box-Muller; 1 - u is in (0, 1], so the logarithm is finite */
    const double two_pi = 6.283185307179586;
    double r0 = sqrt(-2 * log(1 - u[0])), r1 = sqrt(-2 * log(1 - u[2]));
    alpha[0] = ACL_LIGHTING_SIGMA * r0 * cos(two_pi * u[1]);
    alpha[1] = ACL_LIGHTING_SIGMA * r0 * sin(two_pi * u[1]);
    alpha[2] = ACL_LIGHTING_SIGMA * r1 * cos(two_pi * u[3]);
}

void acl_lighting_offset(const struct acl_lighting *l, uint64_t seed, uint64_t epoch, uint64_t index, float out[3])
{
    double alpha[3];
    acl_lighting_alphas(seed, epoch, index, alpha);
    for (int c = 0; c < 3; c++) {
        double d = 0;
        for (int k = 0; k < 3; k++)
            d += alpha[k] * (double)l->eigval[k] * (double)l->eigvec[k][c];
        out[c] = (float)(255.0 * d);
    }
}
