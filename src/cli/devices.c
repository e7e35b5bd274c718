/* devices.c: `alexnet-cl devices`: every platform and device, with the index `--device` takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cmd_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: alexnet-cl devices\n\nLists every OpenCL device with the index that --device "
                   "takes, its type, global memory, largest allocation, compute units and OpenCL version.\n");
            return 0;
        }
        return cli_usage_error("devices", "unknown argument \"%s\"", argv[i]);
    }
    acl_device_info *devs = NULL;
    size_t n = 0;
    acl_status st = acl_list_devices(&devs, &n);
    if (st != ACL_OK)
        return cli_error(st, "listing devices");
    int platform = -1;
    for (size_t i = 0; i < n; i++) {
        const acl_device_info *d = &devs[i];
        if (d->platform_index != platform) {
            platform = d->platform_index;
            printf("platform %d: %s\n", platform, d->platform);
            printf("  %-5s %-40s %-5s %10s %10s %5s  %s\n", "index", "name", "type", "global", "max alloc",
                   "CUs", "version");
        }
        printf("  %-5d %-40.40s %-5s %7.1f GiB %7.1f GiB %5u  %s\n", d->index, d->name, d->type,
               d->global_mem_bytes / 1073741824.0, d->max_alloc_bytes / 1073741824.0, d->compute_units,
               d->version);
    }
    free(devs);
    return 0;
}
