/* test_tune_confirm.c: the tuner's confirmation of a winner (autotune.c, confirm): it replaces the baseline only
 * if it beats it again, by TUNE_MIN_GAIN, in each of TUNE_CONFIRM side-by-side rounds; else the baseline stays
 * and tune_report.unconfirmed counts it. Each test runs a real search over the mini model's two LRN layers at
 * batch 2 on the device (every candidate built and verified against the host reference), with the times
 * replaced by a scenario's (tune_set_fake_time), so that each decision is known in advance. Last, a wrong
 * candidate with the fastest times is still rejected: the times are fake, the verification is not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "net/shapes.h"
#include "ops/autotune.h"
#include "runtime/ctx.h"
#include "runtime/sources.h"
#include "testutil.h"

enum { MAX_CASES = 4 };

/* The candidate a scenario makes fast: its time over the baseline's in the search, then in each confirmation
 * round. Every other candidate is 25% slower than the baseline, whose times are base_ns. */
struct scenario {
    double factor[1 + TUNE_CONFIRM];
};

static const struct scenario *scen;
static struct tune_case cases[MAX_CASES];
static int ncases;
static double base_ns[MAX_CASES];
static int base_vec, fast_vec;  /* the baseline's LRN_VEC and the fast candidate's */
static int timings;             /* timings seen, from the call counts */
static int seen[MAX_CASES][17]; /* per case and LRN_VEC: how many times it was timed */
static struct acl_tune keep;    /* the context's values before the search, restored after it */
static int searched;            /* whether a search ran (and keep holds them) */

static double fake_time(const struct tune_case *tc, const struct acl_tune *t, int call)
{
    int i = (int)(tc - cases);
    if (i < 0 || i >= ncases || t->lrn_vec < 1 || t->lrn_vec > 16)
        fail_msg("a timing of an unknown case or value (case %d, lrn_vec %d)", i, t->lrn_vec);
    /* Only LRN_VEC moves; everything else stays as the search found it. */
    struct acl_tune same = *t;
    same.lrn_vec = keep.lrn_vec;
    if (memcmp(&same, &keep, sizeof same))
        fail_msg("a value other than lrn_vec changed during the LRN group's search");
    assert_int_equal(call, timings);
    timings = call + 1;
    int n = seen[i][t->lrn_vec]++;
    if (t->lrn_vec == base_vec)
        return base_ns[i];
    if (t->lrn_vec != fast_vec)
        return 1.25 * base_ns[i];
    if (n > TUNE_CONFIRM)
        fail_msg("the fast candidate timed %d times: a search and %d rounds expected", n + 1, TUNE_CONFIRM);
    return scen->factor[n] * base_ns[i];
}

/* The mini model's LRN layers at batch 2, as `alexnet-cl tune` makes them (src/cli/tune.c). */
static int setup(void **state)
{
    (void)state;
    struct acl_net *net = NULL;
    if (acl_net_load("mini", 10, &net) != ACL_OK)
        return -1;
    ncases = 0;
    for (int i = 0; i < net->n_layers && ncases < MAX_CASES; i++) {
        const struct acl_layer *l = &net->layers[i];
        if (l->kind != ACL_LRN)
            continue;
        struct tune_case *tc = &cases[ncases];
        memset(tc, 0, sizeof *tc);
        snprintf(tc->name, sizeof tc->name, "%s", l->name);
        tc->kind = TUNE_LRN;
        tc->lrn = acl_lrn_shape(l, 2);
        base_ns[ncases] = 1e6 * (ncases + 1);
        ncases++;
    }
    acl_net_free(net);
    return ncases == 2 ? 0 : -1;
}

/* The LRN group's candidates after the values in hand. */
static int ncand(void)
{
    struct acl_tune cand[TUNE_MAX_CANDIDATES];
    return tune_candidates(TUNE_LRN, 0, &keep, cand);
}

/* Runs the search on c under scenario s; the fast candidate is the last one the LRN group tries (after a slow
 * one). */
static acl_status search(struct acl_ctx *c, const struct scenario *s, struct tune_report *rep)
{
    struct acl_tune cand[TUNE_MAX_CANDIDATES];
    keep = c->tune;
    int nc = tune_candidates(TUNE_LRN, 0, &keep, cand);
    assert_true(nc >= 2);
    assert_int_equal(tune_candidates(TUNE_LRN, 1, &keep, cand + nc), 0); /* one phase: all tried in the search */
    base_vec = keep.lrn_vec;
    fast_vec = cand[nc - 1].lrn_vec;
    scen = s;
    timings = 0;
    memset(seen, 0, sizeof seen);
    tune_set_fake_time(fake_time);
    acl_status st = acl_autotune(c, cases, ncases, 600, 1, rep);
    tune_set_fake_time(NULL);
    return st;
}

/* The search on the tests' context, every candidate verified, passed and timed: the decisions are the
 * scenario's. */
static void run(const struct scenario *s, struct tune_report *rep)
{
    struct acl_ctx *c = test_ctx();
    searched = 1;
    if (search(c, s, rep) != ACL_OK)
        fail_msg("acl_autotune: %s", acl_last_error());
    assert_int_equal(rep->tried, ncand());
    assert_int_equal(rep->rejected, 0);
    assert_int_equal(rep->skipped, 0);
    /* The context is left built with the table's values. */
    assert_int_equal(memcmp(&c->tune, &rep->best, sizeof rep->best), 0);
}

/* The timings a search of the cases makes: the baseline and nc candidates once, then in each confirmation round
 * played the two side by side. */
static int expected_timings(int nc, int rounds) { return ncases * (1 + nc + 2 * rounds); }

static int teardown(void **state)
{
    (void)state;
    tune_set_fake_time(NULL);
    if (!searched)
        return 0;
    searched = 0;
    return acl_ctx_rebuild(test_ctx(), "lrn.cl", &keep) == ACL_OK ? 0 : -1;
}

/* The table holds the baseline and both times of the last side-by-side round are the baseline's. */
static void assert_baseline_kept(const struct tune_report *rep)
{
    assert_int_equal(memcmp(&rep->best, &keep, sizeof keep), 0);
    for (int i = 0; i < ncases; i++) {
        assert_true(cases[i].default_ns == base_ns[i]);
        assert_true(cases[i].best_ns == base_ns[i]);
    }
}

/* 1. Faster in the search and again in both rounds: kept, with the last round's times. */
static void confirmed_winner_kept(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    static const struct scenario s = {{0.8, 0.8, 0.8}};
    struct tune_report rep;
    run(&s, &rep);
    assert_int_equal(rep.unconfirmed, 0);
    assert_int_equal(rep.best.lrn_vec, fast_vec);
    struct acl_tune want = keep;
    want.lrn_vec = fast_vec;
    assert_int_equal(memcmp(&rep.best, &want, sizeof want), 0);
    assert_int_equal(timings, expected_timings(ncand(), TUNE_CONFIRM));
    for (int i = 0; i < ncases; i++) {
        assert_true(cases[i].default_ns == base_ns[i]);
        assert_true(cases[i].best_ns == 0.8 * base_ns[i]);
    }
}

/* Faster by a little more than TUNE_MIN_GAIN in each round: kept (the bar is no higher than it says). */
static void winner_just_over_gain_kept(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    const double f = (1.0 - TUNE_MIN_GAIN) * 0.99;
    const struct scenario s = {{0.8, f, f}};
    struct tune_report rep;
    run(&s, &rep);
    assert_int_equal(rep.unconfirmed, 0);
    assert_int_equal(rep.best.lrn_vec, fast_vec);
    assert_int_equal(timings, expected_timings(ncand(), TUNE_CONFIRM));
    for (int i = 0; i < ncases; i++) /* the table shows the last round's times, not the search's */
        assert_true(cases[i].best_ns == f * base_ns[i]);
}

/* 2. Wins the search, not faster in the first round: the baseline stays, the second round is not played. */
static void loses_first_round(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    static const struct scenario s = {{0.8, 1.0, 0.8}};
    struct tune_report rep;
    run(&s, &rep);
    assert_int_equal(rep.unconfirmed, 1);
    assert_baseline_kept(&rep);
    assert_int_equal(timings, expected_timings(ncand(), 1));
}

/* Wins the search and the first round, slower in the second: every round counts. */
static void loses_last_round(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    static const struct scenario s = {{0.8, 0.8, 1.1}};
    struct tune_report rep;
    run(&s, &rep);
    assert_int_equal(rep.unconfirmed, 1);
    assert_baseline_kept(&rep);
    assert_int_equal(timings, expected_timings(ncand(), TUNE_CONFIRM));
}

/* 3. Faster by less than TUNE_MIN_GAIN throughout: never a winner, so nothing to confirm. */
static void small_gain_not_a_winner(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    const double f = 1.0 - TUNE_MIN_GAIN * 0.5;
    const struct scenario s = {{f, f, f}};
    struct tune_report rep;
    run(&s, &rep);
    assert_int_equal(rep.unconfirmed, 0);
    assert_baseline_kept(&rep);
    assert_int_equal(timings, expected_timings(ncand(), 0));
}

/* A clear winner of the search that is faster by less than TUNE_MIN_GAIN in the side-by-side rounds: not kept. */
static void small_gain_in_rounds_not_kept(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    const double f = 1.0 - TUNE_MIN_GAIN * 0.5;
    const struct scenario s = {{0.8, f, f}};
    struct tune_report rep;
    run(&s, &rep);
    assert_int_equal(rep.unconfirmed, 1);
    assert_baseline_kept(&rep);
    assert_int_equal(timings, expected_timings(ncand(), 1));
}

/* However fast its time, a candidate whose output is wrong is rejected: the verification runs whatever the times.
 * Here lrn.cl, read from a folder, leaves the first row of its forward output unwritten when built with the fast
 * candidate's LRN_VEC; the others are correct. */
static void wrong_candidate_rejected(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_tune cand[TUNE_MAX_CANDIDATES];
    struct acl_ctx *tc = test_ctx();
    int nc = tune_candidates(TUNE_LRN, 0, &tc->tune, cand);
    char dir[256], path[600], broken[128];
    assert_int_equal(test_tmpdir_make(dir, sizeof dir, "tune-confirm"), 0);
    snprintf(broken, sizeof broken, "#if LRN_VEC == %d\n#define SKIPPED_ROW 0\n#else\n#define SKIPPED_ROW -1\n#endif\n",
             cand[nc - 1].lrn_vec);
    for (int i = 0; i < acl_embedded_source_count; i++) {
        const char *name = acl_embedded_sources[i].name, *text = acl_embedded_sources[i].text;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (strcmp(name, "lrn.cl")) {
            test_write_file(path, text, strlen(text));
            continue;
        }
        const char *k = strstr(text, "__kernel void lrn_forward("), *at = k ? strstr(k, "if (row >= rows)") : NULL;
        assert_non_null(at);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "%.*s%s%.*sif (row >= rows || row == SKIPPED_ROW)%s", (int)(k - text), text, broken,
                (int)(at - k), k, at + strlen("if (row >= rows)"));
        assert_int_equal(fclose(f), 0);
    }
    acl_engine_options opt = {.kernel_dir = dir};
    acl_startup_stats stats;
    struct acl_ctx c;
    assert_int_equal(acl_ctx_init_tuned(&c, &tc->dev, NULL, &opt, &tc->tune, &stats), ACL_OK);
    static const struct scenario s = {{0.5, 0.5, 0.5}};
    struct tune_report rep;
    acl_status st = search(&c, &s, &rep);
    acl_ctx_release(&c);
    assert_int_equal(test_tmpdir_remove(dir), 0);
    if (st != ACL_OK)
        fail_msg("acl_autotune: %s", acl_last_error());
    assert_int_equal(fast_vec, cand[nc - 1].lrn_vec);
    assert_int_equal(rep.tried, nc);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rep.unconfirmed, 0);
    assert_baseline_kept(&rep);
    assert_int_equal(timings, expected_timings(nc - 1, 0)); /* the wrong one never timed */
    assert_int_equal(seen[0][fast_vec], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(confirmed_winner_kept, teardown),
        cmocka_unit_test_teardown(winner_just_over_gain_kept, teardown),
        cmocka_unit_test_teardown(loses_first_round, teardown),
        cmocka_unit_test_teardown(loses_last_round, teardown),
        cmocka_unit_test_teardown(small_gain_not_a_winner, teardown),
        cmocka_unit_test_teardown(small_gain_in_rounds_not_kept, teardown),
        cmocka_unit_test_teardown(wrong_candidate_rejected, teardown),
    };
    return cmocka_run_group_tests_name("tune_confirm", tests, setup, NULL);
}
