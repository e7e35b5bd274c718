/* cli.h: the subcommands of `alexnet-cl` and the small helpers they share. Only the CLI exits. */
#ifndef ACL_CLI_H
#define ACL_CLI_H

#include "alexnet_cl.h"

#define EXIT_USAGE 2

int cmd_devices(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);

/* Prints "alexnet-cl: <what>: <acl_last_error()>" and returns 1; ACL_ERR_NO_DEVICE on a machine that has
 * devices is a wrong --device argument: "alexnet-cl: --device: ..." and EXIT_USAGE. */
int cli_error(acl_status st, const char *what);
/* Prints "alexnet-cl <cmd>: <msg>" and a hint to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A --model value that is neither a preset nor an existing file: a usage message, EXIT_USAGE; else 0. */
int cli_check_model(const char *cmd, const char *model);
struct acl_runner;
/* Opens the device(s) named by --device, --devices and --split (parallel/runner.h); 0, or the exit code after
 * printing why: a bad value is a usage error naming the option. */
int cli_open_devices(const char *cmd, struct acl_runner *r, const char *device, const char *devices,
                     const char *split, int verbose);
/* Parses a non-negative integer option value; returns 0 on success. */
int cli_parse_int(const char *cmd, const char *opt, const char *value, long lo, long hi, long *out);

#endif
