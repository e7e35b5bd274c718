/* runner.h: the device(s) a command runs on, as its options name them: one engine (`--device D`), or two
 * devices with a split (`--devices A,B [--split X|auto]`), and making a model on them. Every command that
 * runs a model (train, eval, infer, classify, bench) goes through here, so they all take the same options
 * and refuse the same mistakes. */
#ifndef ACL_PARALLEL_RUNNER_H
#define ACL_PARALLEL_RUNNER_H

#include "alexnet_cl.h"
#include "net/model.h"
#include "parallel/pair.h"

struct acl_runner {
    acl_engine *engine;    /* one device; NULL with two */
    struct acl_pair pair;  /* two devices when two is set */
    int two;
    double split;          /* device 0's share */
    int split_auto;        /* measure at the first model (acl_runner_model) */
    int verbose;
    acl_startup_stats startup[2];
};

/* device: --device's value (NULL: device 0); devices: --devices's (NULL: one device); split: --split's
 * (NULL: 0.5; only with devices). Refuses --device with --devices, --split without --devices, and every bad
 * value (devlist.h), naming the option, before any OpenCL work. ACL_PAIR=separate in the environment gives
 * two devices of one platform a context each (the host-staged copies, for testing). */
acl_status acl_runner_open(struct acl_runner *r, const char *device, const char *devices, const char *split,
                           int verbose);
/* The same with every engine option (a program cache folder, say); opt->device is --device's value. */
acl_status acl_runner_open_with(struct acl_runner *r, const acl_engine_options *opt, const char *devices,
                                const char *split);
void acl_runner_close(struct acl_runner *r);

/* Device 0's context (the only one with one device). */
struct acl_ctx *acl_runner_ctx(struct acl_runner *r);

/* A model on the runner's device(s). With --split auto, the first call times a training step of net on each
 * device alone and gives each a share in proportion to its speed. */
acl_status acl_runner_model(struct acl_runner *r, const struct acl_net *net, int batch, int training,
                            struct acl_model **out);

/* The share of device 0 that makes two devices of step times t0 and t1 (seconds for the same work) finish
 * together, kept within [0.05, 0.95]. */
double acl_split_from_times(double t0, double t1);

#endif
