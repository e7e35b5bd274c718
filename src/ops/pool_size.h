/* pool_size.h: the output extent of a pooling window, as pure arithmetic: the net description parser needs it
 * without the rest of the op (so that it, and its fuzz target, link no OpenCL), and the op itself uses it too.
 *
 * oh = (h + 2 pad - size) / stride + 1, rounded down, or up with ceil_mode (Caffe rounds up); in ceil mode a
 * last window that would start at or past h + pad (wholly in the right padding) is dropped, as PyTorch and
 * Caffe do. */
#ifndef ACL_OPS_POOL_SIZE_H
#define ACL_OPS_POOL_SIZE_H

#include <limits.h>

/* The output height or width for an input extent; 0 or less when no window fits. */
static inline int pool_out_size(int in, int size, int stride, int pad, int ceil_mode)
{
    long long span = (long long)in + 2LL * pad - size;
    if (span < 0 || stride < 1)
        return 0;
    long long o = (ceil_mode ? span + stride - 1 : span) / stride + 1;
    /* ceil mode only: a window starting in the right padding would see no input */
    if (ceil_mode && (o - 1) * stride >= (long long)in + pad)
        o--;
    return o > INT_MAX ? INT_MAX : (int)o;
}

#endif
