/* sources.c: assembles a program's text from the embedded cl/ files or from a folder (ACL_KERNEL_DIR). */
#include "runtime/sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int acl_program_count(void)
{
    int n = 0;
    for (int i = 0; i < acl_embedded_source_count; i++)
        n += ends_with(acl_embedded_sources[i].name, ".cl");
    return n;
}

const char *acl_program_name(int k)
{
    for (int i = 0; i < acl_embedded_source_count; i++)
        if (ends_with(acl_embedded_sources[i].name, ".cl") && k-- == 0)
            return acl_embedded_sources[i].name;
    return NULL;
}

static acl_status read_file(const char *dir, const char *name, char **text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return acl_fail(ACL_ERR_IO, "cannot open kernel source %s: %s (ACL_KERNEL_DIR must name a "
                        "folder holding the engine's cl/ files)", path, strerror(errno));
    acl_status st = ACL_OK;
    char *buf = NULL;
    long size = 0;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = acl_fail(ACL_ERR_IO, "cannot read kernel source %s", path);
        goto out;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory reading %s", path);
        goto out;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = acl_fail(ACL_ERR_IO, "short read of kernel source %s", path);
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[size] = '\0';
out:
    fclose(f);
    *text = buf;
    return st;
}

static acl_status append(char **text, size_t *len, const char *part, const char *name)
{
    size_t n = strlen(part);
    char line[300];
    /* #line makes build logs name the real file and line. */
    int m = snprintf(line, sizeof line, "#line 1 \"%s\"\n", name);
    char *grown = realloc(*text, *len + (size_t)m + n + 2);
    if (!grown)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory assembling %s", name);
    memcpy(grown + *len, line, (size_t)m);
    memcpy(grown + *len + m, part, n);
    *len += (size_t)m + n;
    grown[(*len)++] = '\n';
    grown[*len] = '\0';
    *text = grown;
    return ACL_OK;
}

acl_status acl_program_text(const char *dir, const char *cl_name, char **text)
{
    acl_status st = ACL_OK;
    char *out = NULL, *part = NULL;
    size_t len = 0;
    /* Headers first, in the embedded (sorted) order, then the program itself. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < acl_embedded_source_count; i++) {
            const struct acl_source *s = &acl_embedded_sources[i];
            int wanted = pass == 0 ? ends_with(s->name, ".h") : strcmp(s->name, cl_name) == 0;
            if (!wanted)
                continue;
            const char *body = s->text;
            if (dir && *dir) {
                ACL_TRY(read_file(dir, s->name, &part));
                body = part;
            }
            ACL_TRY(append(&out, &len, body, s->name));
            free(part);
            part = NULL;
        }
    }
    if (!out)
        st = acl_fail(ACL_ERR_ARGUMENT, "no kernel source named %s", cl_name);
cleanup:
    free(part);
    if (st != ACL_OK) {
        free(out);
        out = NULL;
    }
    *text = out;
    return st;
}
