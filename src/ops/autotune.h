/* autotune.h: the search behind `alexnet-cl tune`: for the layer shapes of a model, the tuning table's values
 * (runtime/tune.h) that run them fastest on a device, every candidate checked against the ops' host references
 * before its time counts. */
#ifndef ACL_OPS_AUTOTUNE_H
#define ACL_OPS_AUTOTUNE_H

#include "ops/conv.h"
#include "ops/fc.h"
#include "ops/lrn.h"
#include "ops/maxpool.h"
#include "runtime/tune.h"

enum tune_kind { TUNE_CONV, TUNE_LRN, TUNE_POOL, TUNE_SGEMM, TUNE_FC };

/* One layer shape the search times (at the model's batch) and verifies (on the same shape at a batch of 1 to
 * 5 images, see autotune.c). The caller fills kind, name and the shape of its kind; the search fills the
 * times and owns the rest until acl_autotune returns. */
struct tune_case {
    enum tune_kind kind;
    char name[32];          /* the layer's name, for the table */
    struct conv_shape conv; /* TUNE_CONV (a fully connected layer as its 1x1 convolution) */
    struct lrn_shape lrn;   /* TUNE_LRN */
    struct pool_shape pool; /* TUNE_POOL */
    struct fc_shape fc;     /* TUNE_FC: a fully connected layer through CLBlast (CLBlast's Xgemm parameters);
                               TUNE_SGEMM: one through the own SGEMM (cl/sgemm.cl's tiles) */
    double default_ns;      /* median with the defaults */
    double best_ns;         /* median with the winner of its group */
    double cur_ns;          /* the candidate being measured */
    /* verification inputs and the double reference, made once */
    struct tune_ver *ver;
};

struct tune_report {
    struct acl_tune best;
    int tried, rejected;
    int skipped; /* candidates the budget left untried */
    int unconfirmed; /* groups whose winner did not beat the baseline again (autotune.c, confirm) */
    double seconds;
};

/* A candidate must beat the one in hand by this much to replace it: below that it is noise on a shared CPU. */
#define TUNE_MIN_GAIN 0.03
/* Side-by-side rounds against the baseline that a group's winner must each win by TUNE_MIN_GAIN to be kept
 * (autotune.c, confirm); one it loses leaves the baseline and counts in tune_report.unconfirmed. */
#define TUNE_CONFIRM 2

/* c must have been started with the defaults (acl_ctx_init_tuned with NULL); on return its programs are built
 * with rep->best. The budget bounds the candidates tried, not the defaults' baseline. verbose: each candidate's
 * time, and why each rejected one was ("rejected: max error ..."), on stderr. */
acl_status acl_autotune(struct acl_ctx *c, struct tune_case *cases, int ncases, double budget_s, int verbose,
                        struct tune_report *rep);

/* The name of a CLBlast Xgemm set as the table shows it. */
void tune_xgemm_str(const struct acl_tune *t, char *buf, size_t size);

/* The verification the search runs on a candidate: the direct forward convolution on s (built as c is now)
 * against conv_forward_ref; row->pass says whether it may count. For tests. */
acl_status tune_verify_conv(struct acl_ctx *c, const struct conv_shape *s, acl_check_row *row);
/* The same for a fully connected layer through CLBlast (whatever Xgemm parameters CLBlast holds now), on s
 * itself: a smaller product would take CLBlast's direct kernel instead of Xgemm. */
acl_status tune_verify_fc(struct acl_ctx *c, const struct fc_shape *s, acl_check_row *row);
/* A fully connected layer through the own SGEMM (as c is built now), forward and backward: the three products
 * on s's batch with IN and OUT cut to at most 777 and 333 (off every tile, the same kernels as s). */
acl_status tune_verify_sgemm(struct acl_ctx *c, const struct fc_shape *s, acl_check_row *row);

/* ---- inside the search ---------------------------------------------------------------------------------- */

/* At most this many candidates a phase. */
#define TUNE_MAX_CANDIDATES 8
/* The candidates of group k in phase 0, 1, ... into out (room for TUNE_MAX_CANDIDATES; none where the group has
 * no such phase), tried in order after the values in hand (best): one coordinate a phase, the others as best
 * holds them (coordinate descent). autotune_candidates.c. */
int tune_candidates(enum tune_kind k, int phase, const struct acl_tune *best, struct acl_tune *out);

/* ---- for tests only ------------------------------------------------------------------------------------- */

/* Which candidate wins, and whether confirmation keeps it, depends on timings; tests make them deterministic.
 * Once fn is set, every timing of a case still runs (and every candidate is still verified against the host
 * reference first), but the time it measured is replaced by fn(tc, t, call): t holds the values the device is
 * built with for that timing (the candidate's), call counts the timings since tune_set_fake_time (0, 1, ...).
 * NULL, the default, restores measured times. Process-wide and not thread-safe: `alexnet-cl tune` never sets it. */
typedef double (*tune_fake_time_fn)(const struct tune_case *tc, const struct acl_tune *t, int call);
void tune_set_fake_time(tune_fake_time_fn fn);

#endif
