/* tune.h: the per-device tuning table (issue 5): the values the kernels are built with (-D defines), the
 * launch sizes their launchers must use with them, and CLBlast's Xgemm parameters. One struct, held by the
 * device context, is the single place both the program build and the launchers read, so a kernel and its
 * launcher always agree.
 *
 * On disk: <cache dir>/tune-<hash of the device name>.txt, written by `alexnet-cl tune`:
 *   alexnet-cl tuning table 3
 *   engine 0.1.0
 *   device <CL_DEVICE_NAME>
 *   driver <CL_DRIVER_VERSION>
 *   conv_px 6
 *   conv_px_few 4
 *   conv_local 8
 *   lrn_vec 16
 *   maxpool_vec 16
 *   sgemm vw=8 tm=6 nn_tm=5 dm=2 dn=5
 *   xgemm default | xgemm GEMMK=0 KREG=1 KWG=16 ... (the 16 names of acl_xgemm_names, in that order)
 *   checksum <16 hex digits: FNV-1a of every byte before this line>
 * A file whose key (engine, device, driver) differs, or that does not parse, validate and checksum, is
 * ignored (a warning under -v) and the defaults are used: a stale table is never trusted. */
#ifndef ACL_RUNTIME_TUNE_H
#define ACL_RUNTIME_TUNE_H

#include <stddef.h>

#include "alexnet_cl.h"
#include "runtime/device.h"

#define ACL_TUNE_FORMAT 3 /* 2: the own SGEMM's tiles; 3: conv_px_few */
#define ACL_XGEMM_NPARAMS 16

/* CLBlast's Xgemm kernel parameters, in the order CLBlastOverrideParameters is handed them here. */
extern const char *const acl_xgemm_names[ACL_XGEMM_NPARAMS];
enum { XG_GEMMK, XG_KREG, XG_KWG, XG_KWI, XG_MDIMA, XG_MDIMC, XG_MWG, XG_NDIMB, XG_NDIMC, XG_NWG, XG_SA, XG_SB,
       XG_STRM, XG_STRN, XG_VWM, XG_VWN };

struct acl_tune {
    int conv_px;     /* CONV_PX of cl/conv.cl: output pixels per work-item of conv_direct_forward (1..16) */
    int conv_px_few; /* CONV_PX_FEW: the same for conv_direct_forward_few, layers with few input channels */
    int conv_local;  /* conv_direct_forward's work-group size along its pixel tiles (a power of two, 1..256) */
    int lrn_vec;     /* LRN_VEC of cl/lrn.cl: 2, 4, 8 or 16 */
    int maxpool_vec; /* MAXPOOL_VEC of cl/maxpool.cl: 4, 8 or 16 */
    /* The own SGEMM's tiles (cl/sgemm.cl; src/ops/sgemm.c launches with the same): */
    int sg_vw;       /* SG_VW: 8 or 16 floats per vector (8 fills an AVX2 register, 16 an AVX-512 one) */
    int sg_tm;       /* SG_TM: rows of the outer-product kernels' tile (1..8), 2 * sg_vw columns */
    int sg_nn_tm;    /* SG_NN_TM: the same for sgemm_nn and sgemm_nn_rt (1..8) */
    int sg_dm, sg_dn; /* SG_DM x SG_DN: the dot-product kernel's tile (1..8 each), one vector per element */
    int xgemm_set;   /* 1: xgemm overrides CLBlast's Xgemm defaults for this device */
    size_t xgemm[ACL_XGEMM_NPARAMS];
};

/* The defaults: the values the .cl files define when no -D is given. */
void acl_tune_defaults(struct acl_tune *t);
/* The defaults for one device: as acl_tune_defaults, with the own SGEMM's vectors as wide as the device prefers
 * (16 on a CPU with AVX-512). Where no table is stored, this is what a device runs with. */
void acl_tune_device_defaults(struct acl_tune *t, const acl_device_info *dev);
/* 1 when every field is in its range; else 0 and why names the field. */
int acl_tune_valid(const struct acl_tune *t, char *why, size_t size);
/* 1 when an Xgemm set satisfies CLBlast's own constraints (MWG % (MDIMC*VWM) == 0, ...); else 0 and why. */
int acl_xgemm_valid(const size_t v[ACL_XGEMM_NPARAMS], char *why, size_t size);

/* The -D options that program cl_name (e.g. "conv.cl") is built with: appended to out (which holds the
 * other options already). Only a program's own defines, so tuning one program leaves the others' cache
 * keys alone. */
void acl_tune_defines(const struct acl_tune *t, const char *cl_name, char *out, size_t size);
/* The own SGEMM's tiles as the file's sgemm line holds them: "vw=16 tm=6 nn_tm=5 dm=4 dn=4". */
void acl_tune_sgemm_str(const struct acl_tune *t, char *buf, size_t size);

/* The table's file for a device under cache_dir ("" when cache_dir is ""). */
void acl_tune_path(const char *cache_dir, const acl_device_info *dev, char *path, size_t size);
/* Writes t for dev, atomically. */
acl_status acl_tune_write(const char *path, const acl_device_info *dev, const struct acl_tune *t);
/* Reads the table for dev. Returns 1 and fills t when the file is there and valid for this device, driver and
 * engine; 0 when it is absent (why = "") or ignored (why says why; t is then the defaults). Never fails. */
int acl_tune_read(const char *path, const acl_device_info *dev, struct acl_tune *t, char *why, size_t size);

/* Loads the table for dev from cache_dir into t (defaults when there is none), printing why a file was
 * ignored when verbose, and hands CLBlast the Xgemm override when the table has one. */
void acl_tune_load(const char *cache_dir, const struct acl_device_ref *dev, int verbose, struct acl_tune *t);
/* Hands CLBlast t's Xgemm set for dev (or nothing when xgemm_set is 0). ACL_ERR_ARGUMENT when CLBlast refuses. */
acl_status acl_tune_apply_xgemm(const struct acl_device_ref *dev, const struct acl_tune *t);

#endif
