/* dropout.h: inverted dropout with a Philox mask (cl/philox.h), its host reference and its launchers. */
#ifndef ACL_OPS_DROPOUT_H
#define ACL_OPS_DROPOUT_H

#include "ops/check.h"

/* A (rows, cols) tensor that is the column range [col_base, col_base + cols) of a logical (rows, total_cols)
 * tensor. Element (r, c) draws its number at logical index r * total_cols + col_base + c, so a layer whose
 * features are split across devices gets the mask the unsplit layer would. One device: total_cols = cols,
 * col_base = 0 (any flat tensor of n elements: rows 1, cols n).
 *
 * Element i is kept with probability 1 - round(p * 2^16) / 2^16, when its draw acl_philox_draw(seed, step, index,
 * lb) is at least a threshold (dropout_draw_bits), and then scaled by 1 / (1 - p), so the expected output is the
 * input (to 2^-17 of p) and inference needs no rescaling. p = 0 is the identity; p must lie in [0, 1).
 * The trainer passes its step counter as step and a different seed for every dropout layer. */
struct dropout_shape {
    int rows, cols;
    int total_cols, col_base;
    float p;
    uint64_t seed, step;
};

/* ACL_OK, or ACL_ERR_ARGUMENT naming what is wrong. */
acl_status dropout_check_shape(const struct dropout_shape *s);

/* round(p * 2^16), exact for the usual p = 0.5. */
uint32_t dropout_p16(float p);
/* The draws that decide p: b = 2^lb bits (the fewest of 1, 2, 4, 8, 16 in which p16 = threshold 2^(16 - b)),
 * an element kept when its b-bit draw is at least threshold. p = 0.5 takes one bit an element: sixteen times
 * fewer Philox blocks than sixteen bits, with the same keep probability 1 - p16 / 2^16. */
struct dropout_draw {
    uint32_t lb, threshold;
};
struct dropout_draw dropout_draw_bits(float p);
/* Whether element (r, c) of the tensor is kept. */
int dropout_kept_ref(const struct dropout_shape *s, int r, int c);
/* y (rows, cols) = x / (1 - p) where kept, else 0. */
void dropout_forward_ref(double *y, const double *x, const struct dropout_shape *s);
/* dx (rows, cols) is overwritten with dy / (1 - p) where kept, else 0. */
void dropout_backward_ref(double *dx, const double *dy, const struct dropout_shape *s);

/* y may be x (in place). */
acl_status dropout_forward(struct acl_ctx *c, struct acl_view y, struct acl_view x, const struct dropout_shape *s,
                           cl_event *ev);
/* Recomputes the mask from (seed, step, index): no mask buffer. dx (overwritten) may be dy. */
acl_status dropout_backward(struct acl_ctx *c, struct acl_view dx, struct acl_view dy,
                            const struct dropout_shape *s, cl_event *ev);

/* The generator on the device, for checking it against the host: bits[i] = acl_philox_bits(seed, step,
 * first + i) and uniform[i] = acl_philox_uniform(...) for i < n; bits is an int buffer. */
acl_status dropout_philox(struct acl_ctx *c, struct acl_view bits, struct acl_view uniform, uint64_t seed,
                          uint64_t step, uint64_t first, int n, cl_event *ev);

acl_status dropout_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
