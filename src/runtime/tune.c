/* tune.c: the per-device tuning table: defaults, ranges, -D defines, and its file (format in tune.h). */
#include "runtime/tune.h"

#include <clblast_c.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"
#include "runtime/error.h"
#include "runtime/hash.h"

const char *const acl_xgemm_names[ACL_XGEMM_NPARAMS] = {"GEMMK", "KREG", "KWG",  "KWI", "MDIMA", "MDIMC",
                                                        "MWG",   "NDIMB", "NDIMC", "NWG", "SA",    "SB",
                                                        "STRM",  "STRN", "VWM",  "VWN"};

#define MAX_FILE 4096

void acl_tune_defaults(struct acl_tune *t)
{
    memset(t, 0, sizeof *t);
    t->conv_px = 6; /* cl/conv.cl, cl/lrn.cl and cl/maxpool.cl define the same when no -D is given */
    t->conv_px_few = 4;
    t->conv_local = 8;
    t->lrn_vec = 16;
    t->maxpool_vec = 16;
    t->sg_vw = 8; /* cl/sgemm.cl's defaults */
    t->sg_tm = 6;
    t->sg_nn_tm = 5;
    t->sg_dm = 2;
    t->sg_dn = 5;
}

void acl_tune_device_defaults(struct acl_tune *t, const acl_device_info *dev)
{
    acl_tune_defaults(t);
    /* An AVX-512 EPYC through PoCL, paper's fc layers at batch 32, alternating tables in the quiet spells of a
     * shared machine (bench_kernels --only sgemm, ms for fc6's forward, backward data, weight gradient): 8 wide
     * with 2 x 5 dot tiles 19.5, 22.5, 27.5; 16 wide 19.4, 20.3, 28.1; 16 wide with 4 x 4 dot tiles (16
     * accumulators of AVX-512's 32 registers) 16.1, 19.9, 29.3. */
    if (dev && dev->float_vector_width >= 16) {
        t->sg_vw = 16;
        t->sg_dm = 4;
        t->sg_dn = 4;
    }
}

static int pow2(long v) { return v > 0 && (v & (v - 1)) == 0; }

int acl_xgemm_valid(const size_t v[ACL_XGEMM_NPARAMS], char *why, size_t size)
{
    /* CLBlast's Xgemm constraints (its kernel_selection and xgemm tuner): the work-group tile must divide
     * evenly among the threads and their vectors, or the kernel computes garbage, fast. */
    const char *bad = NULL;
    for (int i = 0; i < ACL_XGEMM_NPARAMS && !bad; i++)
        if (v[i] > 1024 || (v[i] == 0 && i != XG_GEMMK && i != XG_SA && i != XG_SB && i != XG_STRM && i != XG_STRN))
            bad = acl_xgemm_names[i];
    if (bad)
        snprintf(why, size, "%s out of range", bad);
    else if (v[XG_GEMMK] > 1 || v[XG_SA] > 1 || v[XG_SB] > 1 || v[XG_STRM] > 1 || v[XG_STRN] > 1)
        snprintf(why, size, "GEMMK, SA, SB, STRM and STRN are 0 or 1");
    else if (v[XG_GEMMK] != 0 || v[XG_KREG] != 1)
        snprintf(why, size, "only GEMMK=0 with KREG=1 is searched");
    else if (!pow2((long)v[XG_VWM]) || !pow2((long)v[XG_VWN]) || v[XG_VWM] > 16 || v[XG_VWN] > 16)
        snprintf(why, size, "VWM and VWN are 1, 2, 4, 8 or 16");
    else if (v[XG_MWG] % (v[XG_MDIMC] * v[XG_VWM]))
        snprintf(why, size, "MWG %% (MDIMC*VWM) != 0");
    else if (v[XG_NWG] % (v[XG_NDIMC] * v[XG_VWN]))
        snprintf(why, size, "NWG %% (NDIMC*VWN) != 0");
    else if (v[XG_MWG] % (v[XG_MDIMA] * v[XG_VWM]))
        snprintf(why, size, "MWG %% (MDIMA*VWM) != 0");
    else if (v[XG_NWG] % (v[XG_NDIMB] * v[XG_VWN]))
        snprintf(why, size, "NWG %% (NDIMB*VWN) != 0");
    else if (v[XG_KWG] % v[XG_KWI])
        snprintf(why, size, "KWG %% KWI != 0");
    else if (v[XG_MDIMC] * v[XG_NDIMC] != v[XG_MDIMA] * v[XG_NDIMB])
        snprintf(why, size, "MDIMC*NDIMC != MDIMA*NDIMB");
    else if (v[XG_KWG] % ((v[XG_MDIMC] * v[XG_NDIMC]) / v[XG_MDIMA]))
        snprintf(why, size, "KWG %% ((MDIMC*NDIMC)/MDIMA) != 0");
    else if (v[XG_KWG] % ((v[XG_MDIMC] * v[XG_NDIMC]) / v[XG_NDIMB]))
        snprintf(why, size, "KWG %% ((MDIMC*NDIMC)/NDIMB) != 0");
    else
        return 1;
    return 0;
}

int acl_tune_valid(const struct acl_tune *t, char *why, size_t size)
{
    if (t->conv_px < 1 || t->conv_px > 16)
        snprintf(why, size, "conv_px %d is not in 1..16", t->conv_px);
    else if (t->conv_px_few < 1 || t->conv_px_few > 16)
        snprintf(why, size, "conv_px_few %d is not in 1..16", t->conv_px_few);
    else if (!pow2(t->conv_local) || t->conv_local > 256)
        snprintf(why, size, "conv_local %d is not a power of two up to 256", t->conv_local);
    else if (t->lrn_vec != 2 && t->lrn_vec != 4 && t->lrn_vec != 8 && t->lrn_vec != 16)
        snprintf(why, size, "lrn_vec %d is not 2, 4, 8 or 16", t->lrn_vec);
    else if (t->maxpool_vec != 4 && t->maxpool_vec != 8 && t->maxpool_vec != 16)
        snprintf(why, size, "maxpool_vec %d is not 4, 8 or 16", t->maxpool_vec);
    else if (t->sg_vw != 8 && t->sg_vw != 16)
        snprintf(why, size, "sgemm vw %d is not 8 or 16", t->sg_vw);
    else if (t->sg_tm < 1 || t->sg_tm > 8 || t->sg_nn_tm < 1 || t->sg_nn_tm > 8)
        snprintf(why, size, "sgemm tm %d or nn_tm %d is not in 1..8", t->sg_tm, t->sg_nn_tm);
    else if (t->sg_dm < 1 || t->sg_dm > 8 || t->sg_dn < 1 || t->sg_dn > 8)
        snprintf(why, size, "sgemm dm %d or dn %d is not in 1..8", t->sg_dm, t->sg_dn);
    else if (t->xgemm_set && !acl_xgemm_valid(t->xgemm, why, size))
        return 0;
    else
        return 1;
    return 0;
}

void acl_tune_defines(const struct acl_tune *t, const char *cl_name, char *out, size_t size)
{
    size_t n = strlen(out);
    if (!strcmp(cl_name, "conv.cl"))
        snprintf(out + n, size - n, " -DCONV_PX=%d -DCONV_PX_FEW=%d", t->conv_px, t->conv_px_few);
    else if (!strcmp(cl_name, "lrn.cl"))
        snprintf(out + n, size - n, " -DLRN_VEC=%d", t->lrn_vec);
    else if (!strcmp(cl_name, "maxpool.cl"))
        snprintf(out + n, size - n, " -DMAXPOOL_VEC=%d", t->maxpool_vec);
    else if (!strcmp(cl_name, "sgemm.cl"))
        snprintf(out + n, size - n, " -DSG_VW=%d -DSG_TM=%d -DSG_NN_TM=%d -DSG_DM=%d -DSG_DN=%d", t->sg_vw,
                 t->sg_tm, t->sg_nn_tm, t->sg_dm, t->sg_dn);
}

void acl_tune_sgemm_str(const struct acl_tune *t, char *buf, size_t size)
{
    snprintf(buf, size, "vw=%d tm=%d nn_tm=%d dm=%d dn=%d", t->sg_vw, t->sg_tm, t->sg_nn_tm, t->sg_dm, t->sg_dn);
}

void acl_tune_path(const char *cache_dir, const acl_device_info *dev, char *path, size_t size)
{
    /* Named by the device alone, so that a table of another driver or engine version is found, reported and
     * replaced rather than left behind. */
    if (!cache_dir[0]) {
        path[0] = '\0';
        return;
    }
    unsigned long long h = (unsigned long long)acl_fnv1a(ACL_FNV_OFFSET, dev->name, strlen(dev->name));
    snprintf(path, size, "%s/tune-%016llx.txt", cache_dir, h);
}

/* The table's text without the checksum line. */
static int format_body(const acl_device_info *dev, const struct acl_tune *t, char *buf, size_t size)
{
    char sg[96];
    acl_tune_sgemm_str(t, sg, sizeof sg);
    int n = snprintf(buf, size,
                     "alexnet-cl tuning table %d\nengine %s\ndevice %s\ndriver %s\nconv_px %d\nconv_px_few %d\n"
                     "conv_local %d\nlrn_vec %d\nmaxpool_vec %d\nsgemm %s\nxgemm",
                     ACL_TUNE_FORMAT, ACL_VERSION_STRING, dev->name, dev->driver_version, t->conv_px,
                     t->conv_px_few, t->conv_local, t->lrn_vec, t->maxpool_vec, sg);
    if (!t->xgemm_set)
        n += snprintf(buf + n, size - (size_t)n, " default");
    else
        for (int i = 0; i < ACL_XGEMM_NPARAMS && (size_t)n < size; i++)
            n += snprintf(buf + n, size - (size_t)n, " %s=%zu", acl_xgemm_names[i], t->xgemm[i]);
    if ((size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "\n");
    return n;
}

acl_status acl_tune_write(const char *path, const acl_device_info *dev, const struct acl_tune *t)
{
    char buf[MAX_FILE], why[128];
    if (!acl_tune_valid(t, why, sizeof why))
        return acl_fail(ACL_ERR_ARGUMENT, "refusing to write a tuning table with %s", why);
    if (!path[0])
        return acl_fail(ACL_ERR_IO, "no cache folder to write the tuning table in (set ACL_CACHE_DIR)");
    int n = format_body(dev, t, buf, sizeof buf);
    if (n <= 0 || (size_t)n + 40 >= sizeof buf)
        return acl_fail(ACL_ERR_ARGUMENT, "tuning table for %s too long", dev->name);
    n += snprintf(buf + n, sizeof buf - (size_t)n, "checksum %016llx\n",
                  (unsigned long long)acl_fnv1a(ACL_FNV_OFFSET, buf, (size_t)n));
    struct acl_atomic_file a;
    acl_status st = acl_atomic_begin(&a, path);
    if (st != ACL_OK)
        return st;
    acl_atomic_write(&a, buf, (size_t)n);
    return acl_atomic_commit(&a);
}

/* The value of "name <value>" on line, or NULL. */
static const char *field(char *line, const char *name)
{
    size_t n = strlen(name);
    return strncmp(line, name, n) == 0 && line[n] == ' ' ? line + n + 1 : NULL;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < -1000000 || v > 1000000)
        return 0;
    *out = (int)v;
    return 1;
}

static int parse_xgemm(char *s, struct acl_tune *t)
{
    if (!strcmp(s, "default")) {
        t->xgemm_set = 0;
        return 1;
    }
    char *save = NULL, *tok = strtok_r(s, " ", &save);
    for (int i = 0; i < ACL_XGEMM_NPARAMS; i++, tok = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(acl_xgemm_names[i]);
        int v;
        if (!tok || strncmp(tok, acl_xgemm_names[i], n) || tok[n] != '=' || !parse_int(tok + n + 1, &v) || v < 0)
            return 0;
        t->xgemm[i] = (size_t)v;
    }
    t->xgemm_set = 1;
    return tok == NULL;
}

int acl_tune_read(const char *path, const acl_device_info *dev, struct acl_tune *t, char *why, size_t size)
{
    char buf[MAX_FILE + 1], *lines[16];
    int nlines = 0;
    acl_tune_device_defaults(t, dev);
    why[0] = '\0';
    if (!path[0])
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT)
            snprintf(why, size, "cannot read %s: %s", path, strerror(errno));
        return 0;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n == 0 || n > MAX_FILE || buf[n - 1] != '\n' || memchr(buf, '\0', n)) {
        snprintf(why, size, "%s is empty, too long or not text", path);
        return 0;
    }
    buf[n] = '\0';
    /* The checksum covers every byte before its line. */
    char *sum = strstr(buf, "\nchecksum ");
    unsigned long long want = 0;
    char tail;
    if (!sum || sscanf(sum + 10, "%16llx%c", &want, &tail) != 2 || tail != '\n' || sum + 27 != buf + n ||
        want != (unsigned long long)acl_fnv1a(ACL_FNV_OFFSET, buf, (size_t)(sum + 1 - buf))) {
        snprintf(why, size, "%s is corrupt (checksum)", path);
        return 0;
    }
    sum[1] = '\0';
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l && nlines < 16; l = strtok_r(NULL, "\n", &save))
        lines[nlines++] = l;
    char head[64];
    snprintf(head, sizeof head, "alexnet-cl tuning table %d", ACL_TUNE_FORMAT);
    if (nlines != 11 || strcmp(lines[0], head)) {
        snprintf(why, size, "%s is not a tuning table of format %d", path, ACL_TUNE_FORMAT);
        return 0;
    }
    const char *engine = field(lines[1], "engine"), *device = field(lines[2], "device");
    const char *driver = field(lines[3], "driver");
    if (!engine || !device || !driver || strcmp(engine, ACL_VERSION_STRING) || strcmp(device, dev->name) ||
        strcmp(driver, dev->driver_version)) {
        snprintf(why, size, "%s was tuned for another engine, device or driver (engine %s, device %s, driver %s); "
                 "run `alexnet-cl tune` again", path, engine ? engine : "?", device ? device : "?",
                 driver ? driver : "?");
        return 0;
    }
    struct acl_tune r;
    acl_tune_device_defaults(&r, dev);
    const char *v[5] = {field(lines[4], "conv_px"), field(lines[5], "conv_px_few"), field(lines[6], "conv_local"),
                        field(lines[7], "lrn_vec"), field(lines[8], "maxpool_vec")};
    const char *sg = field(lines[9], "sgemm");
    char *xg = (char *)field(lines[10], "xgemm");
    if (!v[0] || !v[1] || !v[2] || !v[3] || !v[4] || !sg || !xg || !parse_int(v[0], &r.conv_px) ||
        !parse_int(v[1], &r.conv_px_few) || !parse_int(v[2], &r.conv_local) || !parse_int(v[3], &r.lrn_vec) ||
        !parse_int(v[4], &r.maxpool_vec) ||
        sscanf(sg, "vw=%d tm=%d nn_tm=%d dm=%d dn=%d%c", &r.sg_vw, &r.sg_tm, &r.sg_nn_tm, &r.sg_dm, &r.sg_dn,
               &tail) != 5 ||
        !parse_xgemm(xg, &r)) {
        snprintf(why, size, "%s does not parse", path);
        return 0;
    }
    char bad[128];
    if (!acl_tune_valid(&r, bad, sizeof bad)) {
        snprintf(why, size, "%s holds an invalid value: %s", path, bad);
        return 0;
    }
    *t = r;
    return 1;
}

acl_status acl_tune_apply_xgemm(const struct acl_device_ref *dev, const struct acl_tune *t)
{
    if (!t->xgemm_set)
        return ACL_OK;
    CLBlastStatusCode s = CLBlastOverrideParameters(dev->id, "Xgemm", CLBlastPrecisionSingle, ACL_XGEMM_NPARAMS,
                                                    (const char **)acl_xgemm_names, t->xgemm);
    if (s != CLBlastSuccess)
        return acl_fail(ACL_ERR_ARGUMENT, "CLBlast refused the tuned Xgemm parameters on %s (status %d)",
                        dev->info.name, (int)s);
    return ACL_OK;
}

void acl_tune_load(const char *cache_dir, const struct acl_device_ref *dev, int verbose, struct acl_tune *t)
{
    char path[4200], why[1024];
    const char *off = getenv("ACL_TUNE");
    acl_tune_device_defaults(t, &dev->info);
    if (off && !strcmp(off, "0"))
        return; /* ACL_TUNE=0: the defaults, to compare with the tuned table */
    acl_tune_path(cache_dir, &dev->info, path, sizeof path);
    int got = acl_tune_read(path, &dev->info, t, why, sizeof why);
    if (!got && why[0] && verbose)
        fprintf(stderr, "alexnet-cl: warning: tuning table ignored, using the defaults: %s\n", why);
    if (got && acl_tune_apply_xgemm(dev, t) != ACL_OK) {
        if (verbose)
            fprintf(stderr, "alexnet-cl: warning: %s; CLBlast keeps its defaults\n", acl_last_error());
        t->xgemm_set = 0;
    }
    if (got && verbose) {
        char sg[96];
        acl_tune_sgemm_str(t, sg, sizeof sg);
        fprintf(stderr, "alexnet-cl: tuning table %s: conv_px %d conv_px_few %d conv_local %d lrn_vec %d "
                "maxpool_vec %d sgemm %s xgemm %s\n", path, t->conv_px, t->conv_px_few, t->conv_local, t->lrn_vec,
                t->maxpool_vec, sg,
                t->xgemm_set ? "tuned" : "default");
    }
}
