/* resize.h: the paper's preprocessing on 8-bit HWC images: resize so that the shorter side is S, then take the
 * centre S x S crop.
 *
 * Filter: a separable triangle (tent) filter, which is bilinear interpolation with pixel centres at +0.5 when
 * enlarging; when shrinking by a factor f the tent is widened f times, so each output pixel averages the f x f
 * input pixels under it (antialiasing, as PIL's BILINEAR and torchvision's antialias=True do) instead of sampling
 * 4 of them and aliasing. Borders: taps outside the image are dropped and the rest renormalized (the same as
 * repeating the edge when enlarging). Weights are computed in double and rounded to 22-bit fixed point whose sum
 * is exactly 1; all the pixel arithmetic is integer (a horizontal pass to an 8-bit intermediate, then a vertical
 * pass, each rounded to nearest), so results are identical on every machine and every run.
 *
 * Sizes: the shorter side becomes S and the longer floor(S * long / short), as torchvision's Resize(S); the crop
 * starts at floor((side - S) / 2) on each axis, as Caffe's does (torchvision rounds half to even instead, which
 * can differ by one pixel). */
#ifndef ACL_DATA_RESIZE_H
#define ACL_DATA_RESIZE_H

#include <stdint.h>

#include "alexnet_cl.h"

/* The size after resizing (h, w) so that its shorter side is s. */
void acl_resize_shorter_size(int h, int w, int s, int *out_h, int *out_w);

/* Resizes src (sh, sw, c) to dst (dh, dw, c). */
acl_status acl_resize(uint8_t *dst, int dh, int dw, const uint8_t *src, int sh, int sw, int c);

/* The window (wh, ww) at (top, left) of the resize of src to (dh, dw), without computing the rest: dst is
 * (wh, ww, c). acl_resize is the window (0, 0, dh, dw). */
acl_status acl_resize_window(uint8_t *dst, int top, int left, int wh, int ww, int dh, int dw, const uint8_t *src,
                             int sh, int sw, int c);

/* Copies the centre (ch, cw) crop of src (h, w, c) to dst (ch, cw, c); ch <= h and cw <= w. */
acl_status acl_center_crop(uint8_t *dst, int ch, int cw, const uint8_t *src, int h, int w, int c);

/* The paper's preprocessing: dst (s, s, c) is the centre s x s crop of src resized so its shorter side is s. */
acl_status acl_resize_shorter_crop(uint8_t *dst, int s, const uint8_t *src, int h, int w, int c);

#endif
