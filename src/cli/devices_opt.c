/* devices_opt.c: --device, --devices and --split, the same for every command that runs a model. */
#include <stdio.h>

#include "cli/cli.h"
#include "parallel/runner.h"

int cli_open_devices(const char *cmd, struct acl_runner *r, const char *device, const char *devices,
                     const char *split, int verbose)
{
    acl_status st = acl_runner_open(r, device, devices, split, verbose);
    if (st == ACL_OK)
        return 0;
    if (st == ACL_ERR_ARGUMENT)
        return cli_usage_error(cmd, "%s", acl_last_error());
    return cli_error(st, devices ? "starting the devices" : "starting the engine");
}
