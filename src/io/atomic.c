/* atomic.c: temporary file, fsync and rename (see atomic.h). */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/error.h"

static void release(struct acl_atomic_file *a)
{
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    a->f = NULL;
    a->failed_errno = 0;
}

acl_status acl_atomic_begin(struct acl_atomic_file *a, const char *path)
{
    memset(a, 0, sizeof *a);
    /* The rename would replace whatever is at path: a device such as /dev/null (as root) or a fifo must not be. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return acl_fail(ACL_ERR_IO, "%s: exists and is not a regular file (%s): give another output path", path,
                        S_ISDIR(sb.st_mode) ? "a folder" : "a device, fifo or socket");
    size_t n = strlen(path);
    a->path = malloc(n + 1);
    a->tmp = malloc(n + 5);
    if (!a->path || !a->tmp) {
        release(a);
        return acl_fail(ACL_ERR_MEMORY, "%s: out of memory", path);
    }
    memcpy(a->path, path, n + 1);
    memcpy(a->tmp, path, n);
    memcpy(a->tmp + n, ".tmp", 5);
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        int e = errno;
        acl_status st = acl_fail(ACL_ERR_IO, "%s: cannot create %s: %s", path, a->tmp, strerror(e));
        release(a);
        return st;
    }
    return ACL_OK;
}

void acl_atomic_write(struct acl_atomic_file *a, const void *data, size_t n)
{
    if (a->failed_errno || n == 0)
        return;
    if (fwrite(data, 1, n, a->f) != n)
        a->failed_errno = errno ? errno : EIO;
}

/* Best effort: some file systems cannot sync a folder, and the data itself is already safe. */
static void sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else if ((dir = malloc((size_t)(slash - path) + 1)) != NULL) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

acl_status acl_atomic_commit(struct acl_atomic_file *a)
{
    int e = a->failed_errno;
    errno = 0;
    if (!e && fflush(a->f) != 0)
        e = errno ? errno : EIO;
    if (!e && fsync(fileno(a->f)) != 0)
        e = errno ? errno : EIO;
    if (fclose(a->f) != 0 && !e)
        e = errno ? errno : EIO;
    a->f = NULL;
    if (!e && rename(a->tmp, a->path) != 0)
        e = errno ? errno : EIO;
    if (e) {
        unlink(a->tmp);
        acl_status st = acl_fail(ACL_ERR_IO, "%s: writing failed: %s (the previous file, if any, is unchanged)",
                                 a->path, strerror(e));
        release(a);
        return st;
    }
    sync_folder(a->path);
    release(a);
    return ACL_OK;
}

void acl_atomic_abort(struct acl_atomic_file *a)
{
    if (a->f) {
        fclose(a->f);
        unlink(a->tmp);
    }
    release(a);
}
