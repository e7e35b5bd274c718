/* devlist.c: parses `--devices A,B` and `--split X|auto` (devlist.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parallel/devlist.h"
#include "runtime/error.h"
#include "runtime/text.h"

/* One selector (the `which`-th entry of arg) to an index. */
static acl_status resolve(const char *arg, int which, const char *sel, const struct acl_devlist_entry *devs,
                          size_t n, int *out)
{
    size_t len = strlen(sel), digits = strspn(sel, "0123456789");
    if (len == 0)
        return acl_fail(ACL_ERR_ARGUMENT, "--devices %s: entry %d is empty: give two device indices or names "
                        "separated by a comma, e.g. --devices 0,1", arg, which);
    if (digits == len) {
        long idx = digits > 9 ? -1 : strtol(sel, NULL, 10);
        if (idx < 0 || (size_t)idx >= n) {
            if (n == 0)
                return acl_fail(ACL_ERR_NO_DEVICE, "--devices %s: device %s does not exist: there are no devices",
                                arg, sel);
            return acl_fail(ACL_ERR_NO_DEVICE, "--devices %s: device %s does not exist: there %s %zu device%s "
                            "(0 to %zu); run `alexnet-cl devices` to list them", arg, sel, n == 1 ? "is" : "are",
                            n, n == 1 ? "" : "s", n - 1);
        }
        *out = (int)idx;
        return ACL_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (acl_contains_nocase(devs[i].name, sel)) {
            *out = (int)i;
            return ACL_OK;
        }
    for (size_t i = 0; i < n; i++)
        if (acl_contains_nocase(devs[i].platform, sel)) {
            *out = (int)i;
            return ACL_OK;
        }
    return acl_fail(ACL_ERR_NO_DEVICE, "--devices %s: no device name contains \"%s\"; run `alexnet-cl devices` "
                    "to list them", arg, sel);
}

acl_status acl_devlist_parse(const char *arg, const struct acl_devlist_entry *devs, size_t n_devs, int out[2])
{
    const char *a = arg ? arg : "";
    const char *comma = strchr(a, ',');
    if (!comma || strchr(comma + 1, ','))
        return acl_fail(ACL_ERR_ARGUMENT, "--devices %s: wants exactly two devices separated by a comma, e.g. "
                        "--devices 0,1", a);
    char first[128], second[128];
    size_t n1 = (size_t)(comma - a), n2 = strlen(comma + 1);
    if (n1 >= sizeof first || n2 >= sizeof second)
        return acl_fail(ACL_ERR_ARGUMENT, "--devices %.60s...: an entry is too long", a);
    memcpy(first, a, n1);
    first[n1] = '\0';
    memcpy(second, comma + 1, n2 + 1);
    acl_status st = resolve(a, 1, first, devs, n_devs, &out[0]);
    if (st != ACL_OK)
        return st;
    st = resolve(a, 2, second, devs, n_devs, &out[1]);
    if (st != ACL_OK)
        return st;
    if (out[0] == out[1])
        return acl_fail(ACL_ERR_ARGUMENT, "--devices %s: both entries name device %d (%s): give two different "
                        "devices", a, out[0], devs[out[0]].name ? devs[out[0]].name : "?");
    return ACL_OK;
}

acl_status acl_split_parse(const char *arg, double *split, int *automatic)
{
    const char *a = arg ? arg : "";
    *automatic = 0;
    if (!strcmp(a, "auto")) {
        *automatic = 1;
        *split = 0.5;
        return ACL_OK;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(a, &end);
    if (end == a || *end || errno || !isfinite(v) || v <= 0 || v >= 1)
        return acl_fail(ACL_ERR_ARGUMENT, "--split %s: wants device 0's share, a number between 0 and 1 "
                        "(exclusive, e.g. 0.7), or auto", a);
    *split = v;
    return ACL_OK;
}
