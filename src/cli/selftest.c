/* selftest.c: `alexnet-cl selftest`: every kernel against its host reference on one device. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void print_row(const acl_check_row *r, void *user)
{
    (void)user;
    printf("%-28s %-40s %10.3g %8.3f  %s%s%s\n", r->op, r->shape, r->max_abs, r->max_err, r->pass ? "pass" : "FAIL",
           r->note[0] ? "  " : "", r->note);
    fflush(stdout);
}

int cmd_selftest(int argc, char **argv)
{
    acl_engine_options opt = {0};
    int tiny = 0;
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: alexnet-cl selftest [--device N|NAME] [--tiny] [--op PREFIX] [-v]\n\n"
                   "Runs every kernel on the device against its plain-C reference on random inputs and prints\n"
                   "op, shape, max |error|, error/bound (pass <= 1) and pass/fail. Exits 1 on any failure.\n"
                   "  --device  an index from `alexnet-cl devices` or a part of a device name (default 0)\n"
                   "  --tiny    small shapes only (for simulators such as Oclgrind)\n"
                   "  --op      only ops whose name starts with PREFIX\n"
                   "  -v        print start-up time and program-cache use\n");
            return 0;
        } else if (!strcmp(a, "--device") || !strcmp(a, "--op")) {
            if (i + 1 >= argc)
                return cli_usage_error("selftest", "%s needs a value", a);
            if (!strcmp(a, "--device"))
                opt.device = argv[++i];
            else
                filter = argv[++i];
        } else if (!strcmp(a, "--tiny")) {
            tiny = 1;
        } else if (!strcmp(a, "-v")) {
            opt.verbose++;
        } else {
            return cli_usage_error("selftest", "unknown argument \"%s\"", a);
        }
    }
    acl_engine *e = NULL;
    acl_status st = acl_engine_create(&opt, &e);
    if (st != ACL_OK)
        return cli_error(st, "starting the engine");
    acl_device_info dev;
    acl_engine_device(e, &dev);
    printf("selftest on device %d: %s (%s)\n\n", dev.index, dev.name, dev.version);
    printf("%-28s %-40s %10s %8s  %s\n", "op", "shape", "max |err|", "err/bnd", "result");
    int failures = 0;
    st = acl_selftest(e, tiny, filter, print_row, NULL, &failures);
    acl_engine_destroy(e);
    if (st != ACL_OK)
        return cli_error(st, "selftest");
    if (failures) {
        printf("\n%d check%s FAILED\n", failures, failures == 1 ? "" : "s");
        return 1;
    }
    printf("\nall checks passed\n");
    return 0;
}
