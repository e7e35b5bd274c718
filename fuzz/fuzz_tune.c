/* fuzz_tune.c: libFuzzer target for the tuning table reader (src/runtime/tune.h): any file is either ignored,
 * with a reason and the defaults left in place, or read into a table that validates and that the writer
 * writes back to the same values. */
// fuzz-sources: src/runtime/tune.c
// fuzz-libs: -lclblast -lOpenCL
// Built and run by scripts/fuzz.sh tune (seeds in fuzz/corpus/tune, written for the device below).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/tune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_tmp(char *path, const uint8_t *data, size_t size)
{
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    int ok = write(fd, data, size) == (ssize_t)size;
    close(fd);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acl_device_info dev;
    memset(&dev, 0, sizeof dev);
    snprintf(dev.name, sizeof dev.name, "Fuzz Device");
    snprintf(dev.driver_version, sizeof dev.driver_version, "1.0");
    dev.float_vector_width = 16;
    char path[] = "/tmp/fuzz-tune-XXXXXX", again[] = "/tmp/fuzz-tune-XXXXXX";
    if (!write_tmp(path, data, size))
        return 0;
    struct acl_tune t, def, r;
    char why[1024];
    acl_tune_device_defaults(&def, &dev);
    int got = acl_tune_read(path, &dev, &t, why, sizeof why);
    unlink(path);
    if (!got) {
        if (memcmp(&t, &def, sizeof t)) /* a refused file leaves the device's defaults, never part of itself */
            abort();
        return 0;
    }
    if (!acl_tune_valid(&t, why, sizeof why))
        abort();
    int fd = mkstemp(again);
    if (fd < 0)
        return 0;
    close(fd);
    if (acl_tune_write(again, &dev, &t) != ACL_OK || acl_tune_read(again, &dev, &r, why, sizeof why) != 1 ||
        memcmp(&t, &r, sizeof t))
        abort();
    unlink(again);
    return 0;
}
