/* devlist.h: the values of `--devices A,B` and `--split X|auto`, parsed and resolved against a list of
 * device names, without OpenCL (the caller enumerates the devices), so that every refusal is testable. */
#ifndef ACL_PARALLEL_DEVLIST_H
#define ACL_PARALLEL_DEVLIST_H

#include <stddef.h>

#include "alexnet_cl.h"

/* What a selector is matched against: the device's name and its platform's name (as `alexnet-cl devices`
 * lists them, in that order). */
struct acl_devlist_entry {
    const char *name;
    const char *platform;
};

/* `--devices A,B`: exactly two selectors separated by a comma, each resolved as `--device` is (device.h's
 * acl_select_device): all digits is an index into devs; otherwise a case-insensitive part of a device name,
 * or failing that of a platform name, first match wins. Refuses a missing or extra entry, an empty one, an
 * index that does not exist, a name nothing matches and two selectors that resolve to the same device;
 * each message names the argument. out[0], out[1]: the indices for device 0 and device 1. */
acl_status acl_devlist_parse(const char *arg, const struct acl_devlist_entry *devs, size_t n_devs, int out[2]);

/* `--split X|auto`: X a number strictly between 0 and 1 (device 0's share); "auto" sets *automatic = 1 and
 * *split = 0.5 (the start before measuring). Refuses anything else, naming the argument. */
acl_status acl_split_parse(const char *arg, double *split, int *automatic);

#endif
