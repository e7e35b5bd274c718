/* philox.h: the engine's one random-number generator, Philox4x32-10, shared by host C11 and OpenCL C.
 *
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011) is a
 * counter-based generator: a 10-round bijection of a 128-bit counter under a 64-bit key. Nothing is carried
 * from one number to the next, so a number is a pure function of its coordinates, and masks and augmentation
 * do not depend on thread timing, work-group size, device count or resume.
 *
 * Coordinates -> Philox input (one convention for the whole engine):
 *   key     = (seed low 32 bits, seed high 32 bits)
 *   counter = (index / 4 low 32 bits, index / 4 high 32 bits, step low 32 bits, step high 32 bits)
 *   number  = word (index mod 4) of the output block
 * so four consecutive indices share one block: a kernel that wants speed may call acl_philox4x32_10 once per
 * four elements and get the same numbers as acl_philox_bits element by element. Different users of the
 * generator in one step (two dropout layers) pass different seeds; Philox keys 1 apart are independent.
 *
 * The same text compiles as C11 on the host (src/ includes it through the cl/ include path) and as OpenCL C
 * (the engine prepends every header of cl/ to every program); the macros below bridge the two. Every operation is
 * on 32-bit unsigned integers, so host and device produce bit-identical words, and the float in [0, 1) is
 * built from the top 24 bits by exact operations, so it is bit-identical too. */
#ifndef ACL_PHILOX_H
#define ACL_PHILOX_H

#ifdef __OPENCL_VERSION__
typedef uint acl_u32;
typedef ulong acl_u64;
/* OpenCL C 1.2 allows static functions; plain `inline` would follow C99 rules and need an outside definition. */
#define ACL_RNG_FN static inline
#define ACL_MULHI32(a, b) mul_hi((acl_u32)(a), (acl_u32)(b))
#else
#include <stdint.h>
typedef uint32_t acl_u32;
typedef uint64_t acl_u64;
#define ACL_RNG_FN static inline
#define ACL_MULHI32(a, b) ((acl_u32)(((acl_u64)(a) * (acl_u64)(b)) >> 32))
#endif

/* The constants of the paper: round multipliers and the Weyl sequence that bumps the key between rounds. */
#define ACL_PHILOX_M0 0xD2511F53u
#define ACL_PHILOX_M1 0xCD9E8D57u
#define ACL_PHILOX_W0 0x9E3779B9u
#define ACL_PHILOX_W1 0xBB67AE85u

struct acl_philox4 {
    acl_u32 v[4];
};

/* One Philox4x32-10 block: the counter ctr encrypted under the key (k0, k1). */
ACL_RNG_FN struct acl_philox4 acl_philox4x32_10(struct acl_philox4 ctr, acl_u32 k0, acl_u32 k1)
{
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += ACL_PHILOX_W0;
            k1 += ACL_PHILOX_W1;
        }
        acl_u32 hi0 = ACL_MULHI32(ACL_PHILOX_M0, ctr.v[0]), lo0 = ACL_PHILOX_M0 * ctr.v[0];
        acl_u32 hi1 = ACL_MULHI32(ACL_PHILOX_M1, ctr.v[2]), lo1 = ACL_PHILOX_M1 * ctr.v[2];
        struct acl_philox4 next;
        next.v[0] = hi1 ^ ctr.v[1] ^ k0;
        next.v[1] = lo1;
        next.v[2] = hi0 ^ ctr.v[3] ^ k1;
        next.v[3] = lo0;
        ctr = next;
    }
    return ctr;
}

/* The 32 random bits of element index at (seed, step), with the layout described above. */
ACL_RNG_FN acl_u32 acl_philox_bits(acl_u64 seed, acl_u64 step, acl_u64 index)
{
    struct acl_philox4 ctr;
    ctr.v[0] = (acl_u32)(index >> 2);
    ctr.v[1] = (acl_u32)(index >> 34);
    ctr.v[2] = (acl_u32)step;
    ctr.v[3] = (acl_u32)(step >> 32);
    struct acl_philox4 out = acl_philox4x32_10(ctr, (acl_u32)seed, (acl_u32)(seed >> 32));
    /* Two levels of selects on the word's bits rather than an index into the array (which would send it to
     * slow memory on GPUs) or a chain of == tests (which compilers turn into a switch that Oclgrind 21.10
     * runs wrongly, returning word 3 for words 0 and 1). */
    acl_u32 word = (acl_u32)(index & 3u);
    acl_u32 low_pair = (word & 1u) ? out.v[1] : out.v[0];
    acl_u32 high_pair = (word & 1u) ? out.v[3] : out.v[2];
    return (word & 2u) ? high_pair : low_pair;
}

/* Dropout's draws: numbers of b = 2^lb bits (lb 0..4, so 1, 2, 4, 8 or 16 bits), 128 / b from each block, laid
 * out so that a kernel computing sixteen blocks at once on 16-lane vectors applies each output word to sixteen
 * neighbouring elements without moving a lane. Index i is lane l = i mod 16 and row j = (i / 16) mod (128 / b)
 * of its chunk of 2048 / b elements, i / (2048 / b): it takes block (i / (2048 / b)) * 16 + l (counter and key
 * as above) and its bits j b .. j b + b - 1, counting from bit 0 of word 0 (word (j b) / 32, shifted right by
 * (j b) mod 32). At b = 16 that is word j / 2, the low half for even j. Every block feeds the elements of one
 * chunk, each bit one element, so the numbers are as independent as Philox's bits. */
ACL_RNG_FN acl_u32 acl_philox_draw(acl_u64 seed, acl_u64 step, acl_u64 index, acl_u32 lb)
{
    acl_u32 row_bits = 7u - lb; /* a chunk has 2^row_bits rows of 16 */
    acl_u64 block = ((index >> (4u + row_bits)) << 4) | (index & 15u);
    acl_u32 bit = ((acl_u32)(index >> 4) & ((1u << row_bits) - 1u)) << lb;
    /* word bit / 32 of the block: acl_philox_bits takes index 4 * block + word */
    acl_u32 w = acl_philox_bits(seed, step, (block << 2) | (acl_u64)(bit >> 5));
    return (w >> (bit & 31u)) & ((1u << (1u << lb)) - 1u);
}

/* A float uniform in [0, 1): the top 24 bits times 2^-24. Both steps are exact in float (24-bit integer, power
 * of two), so host and device agree bit for bit; the values are the multiples of 2^-24 from 0 to 1 - 2^-24. */
ACL_RNG_FN float acl_philox_uniform(acl_u64 seed, acl_u64 step, acl_u64 index)
{
    return (float)(acl_philox_bits(seed, step, index) >> 8) * (1.0f / 16777216.0f);
}

#endif
