/* cache.c: the program-binary cache (format in cache.h). */
#include "runtime/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/error.h"
#include "runtime/hash.h"

static const char magic[8] = {'A', 'C', 'L', 'P', 'R', 'O', 'G', '\0'};
#define MAX_KEY 65536
#define MAX_BINARY (512u << 20)

static int mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

void acl_cache_dir(const char *explicit_dir, char *dir, size_t size)
{
    const char *env = getenv("ACL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    dir[0] = '\0';
    if (explicit_dir)
        snprintf(dir, size, "%s", explicit_dir);
    else if (env)
        snprintf(dir, size, "%s", env);
    else if (xdg && *xdg)
        snprintf(dir, size, "%s/alexnet-cl", xdg);
    else if (home && *home)
        snprintf(dir, size, "%s/.cache/alexnet-cl", home);
    if (dir[0] && mkdirs(dir) != 0)
        dir[0] = '\0';
}

void acl_cache_path(const char *dir, const char *key, char *path, size_t size)
{
    size_t n = strlen(key);
    uint64_t a = acl_fnv1a(ACL_FNV_OFFSET, key, n);
    uint64_t b = acl_fnv1a(0x84222325cbf29ce4ULL, key, n);
    snprintf(path, size, "%s/%016llx%016llx.clbin", dir, (unsigned long long)a, (unsigned long long)b);
}

static int read_exact(FILE *f, void *dst, size_t n, uint64_t *h)
{
    if (fread(dst, 1, n, f) != n)
        return -1;
    *h = acl_fnv1a(*h, dst, n);
    return 0;
}

acl_status acl_cache_load(const char *dir, const char *key, unsigned char **bin, size_t *len, int *rejected)
{
    char path[4200];
    *bin = NULL;
    *len = 0;
    *rejected = 0;
    if (!dir || !*dir)
        return ACL_OK;
    acl_cache_path(dir, key, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ACL_OK;
    uint64_t h = ACL_FNV_OFFSET, stored = 0;
    char m[8];
    uint32_t version = 0;
    uint64_t key_len = 0, bin_len = 0;
    char *file_key = NULL;
    unsigned char *data = NULL;
    int ok = read_exact(f, m, sizeof m, &h) == 0 && memcmp(m, magic, sizeof m) == 0 &&
             read_exact(f, &version, sizeof version, &h) == 0 && version == ACL_CACHE_FORMAT &&
             read_exact(f, &key_len, sizeof key_len, &h) == 0 && key_len == strlen(key) && key_len < MAX_KEY;
    if (ok) {
        file_key = malloc(key_len + 1);
        ok = file_key && read_exact(f, file_key, key_len, &h) == 0 && memcmp(file_key, key, key_len) == 0 &&
             read_exact(f, &bin_len, sizeof bin_len, &h) == 0 && bin_len > 0 && bin_len < MAX_BINARY;
    }
    if (ok) {
        data = malloc(bin_len);
        ok = data && read_exact(f, data, bin_len, &h) == 0;
    }
    if (ok) {
        uint64_t ignore = 0;
        char extra;
        ok = read_exact(f, &stored, sizeof stored, &ignore) == 0 && stored == h && fread(&extra, 1, 1, f) == 0;
    }
    fclose(f);
    free(file_key);
    if (!ok) {
        free(data);
        unlink(path); /* corrupt, truncated, foreign or stale: never trusted */
        *rejected = 1;
        return ACL_OK;
    }
    *bin = data;
    *len = bin_len;
    return ACL_OK;
}

static int write_hashed(FILE *f, const void *src, size_t n, uint64_t *h)
{
    *h = acl_fnv1a(*h, src, n);
    return fwrite(src, 1, n, f) == n ? 0 : -1;
}

acl_status acl_cache_store(const char *dir, const char *key, const unsigned char *bin, size_t len)
{
    char path[4200], tmp[4300];
    if (!dir || !*dir)
        return ACL_OK;
    acl_cache_path(dir, key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return acl_fail(ACL_ERR_IO, "cannot write program cache %s: %s", tmp, strerror(errno));
    uint64_t h = ACL_FNV_OFFSET, key_len = strlen(key), bin_len = len;
    uint32_t version = ACL_CACHE_FORMAT;
    int bad = write_hashed(f, magic, sizeof magic, &h) || write_hashed(f, &version, sizeof version, &h) ||
              write_hashed(f, &key_len, sizeof key_len, &h) || write_hashed(f, key, key_len, &h) ||
              write_hashed(f, &bin_len, sizeof bin_len, &h) || write_hashed(f, bin, len, &h);
    bad = bad || fwrite(&h, sizeof h, 1, f) != 1 || fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad = fclose(f) != 0 || bad;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return acl_fail(ACL_ERR_IO, "cannot write program cache %s: %s", path, strerror(e));
    }
    return ACL_OK;
}
