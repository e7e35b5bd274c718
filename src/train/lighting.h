/* lighting.h: the paper's PCA colour augmentation ("lighting", section 4.1): the principal components of the RGB
 * pixel covariance of the training set, and, per training image, sum_i alpha_i lambda_i p_i added to every pixel,
 * with alpha_i ~ N(0, 0.1) drawn once per image.
 *
 * Units: the paper does not say on what scale the covariance is taken; adding lambda (a variance) to a pixel only
 * gives offsets of a few levels when pixels are in [0, 1] (ImageNet's largest eigenvalue is then about 0.2, so the
 * offsets are about 0.02, or 5 levels of 255), as fb.resnet.torch's reproduction does. So the covariance is that of
 * pixels scaled to [0, 1], and the offset is converted back to the 0..255 levels the pipeline works in.
 *
 * Randomness: alpha is a function of (seed, epoch, image index) through Philox (cl/philox.h), on a stream of its
 * own, so a run is the same whatever thread made the batch and whether it was resumed. */
#ifndef ACL_TRAIN_LIGHTING_H
#define ACL_TRAIN_LIGHTING_H

#include <stddef.h>
#include <stdint.h>

#define ACL_LIGHTING_SIGMA 0.1

/* Eigen-decomposition of a symmetric 3x3 matrix by cyclic Jacobi rotations: a = sum_k vals[k] vecs[k] vecs[k]^T,
 * vals in decreasing order, vecs[k] a unit vector (rows), each with its largest-magnitude component positive so the
 * result does not depend on rounding. Only the upper triangle of a is read. */
void acl_eig3_sym(const double a[3][3], double vals[3], double vecs[3][3]);

/* Sums of RGB pixels and of their products, over any number of images. */
struct acl_rgb_moments {
    double n;            /* pixels */
    double sum[3];
    double sum2[3][3];   /* upper triangle used */
};

/* Adds pixels RGB pixels (interleaved 8-bit). */
void acl_rgb_moments_add(struct acl_rgb_moments *m, const uint8_t *rgb, size_t pixels);

struct acl_lighting {
    float eigval[3];     /* eigenvalues of the covariance of pixels in [0, 1], decreasing */
    float eigvec[3][3];  /* eigvec[k]: the unit eigenvector (r, g, b) of eigval[k] */
};

/* The principal components of the pixels summed in m (a zero covariance without pixels). */
void acl_lighting_from_moments(const struct acl_rgb_moments *m, struct acl_lighting *l);

/* alpha_1..3 of image index at (seed, epoch): independent N(0, ACL_LIGHTING_SIGMA) draws (Box-Muller on one
 * Philox block). */
void acl_lighting_alphas(uint64_t seed, uint64_t epoch, uint64_t index, double alpha[3]);

/* The offset (r, g, b), in 0..255 levels, that image index gets at (seed, epoch). */
void acl_lighting_offset(const struct acl_lighting *l, uint64_t seed, uint64_t epoch, uint64_t index, float out[3]);

#endif
