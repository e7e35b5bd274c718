/* device.c: enumerates platforms and devices and selects one by index or by name. */
#include "runtime/device.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"
#include "runtime/text.h"

static void str_info(cl_device_id d, cl_device_info what, char *buf, size_t size)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, size, buf, NULL) != CL_SUCCESS)
        snprintf(buf, size, "?");
    buf[size - 1] = '\0';
}

static acl_status describe(cl_platform_id p, cl_device_id d, acl_device_info *info)
{
    acl_status st = ACL_OK;
    cl_device_type type = 0;
    cl_ulong global = 0, alloc = 0, local = 0;
    cl_uint units = 0, fvec = 0;
    size_t wg = 0;
    clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL);
    info->platform[sizeof info->platform - 1] = '\0';
    str_info(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    str_info(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    str_info(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
    str_info(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    CL_TRY(clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL));
    CL_TRY(clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL));
    CL_TRY(clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc, NULL));
    CL_TRY(clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL));
    CL_TRY(clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL));
    CL_TRY(clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL));
    CL_TRY(clGetDeviceInfo(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof fvec, &fvec, NULL));
    snprintf(info->type, sizeof info->type, "%s",
             type & CL_DEVICE_TYPE_GPU ? "GPU" : type & CL_DEVICE_TYPE_CPU ? "CPU"
             : type & CL_DEVICE_TYPE_ACCELERATOR ? "accelerator" : "other");
    info->global_mem_bytes = global;
    info->max_alloc_bytes = alloc;
    info->local_mem_bytes = local;
    info->compute_units = units;
    info->max_work_group_size = wg;
    info->float_vector_width = fvec;
cleanup:
    return st;
}

acl_status acl_enumerate(struct acl_device_ref **devs, size_t *count)
{
    acl_status st = ACL_OK;
    cl_platform_id *plats = NULL;
    cl_device_id *ids = NULL;
    struct acl_device_ref *out = NULL;
    cl_uint nplat = 0;
    size_t n = 0;
    *devs = NULL;
    *count = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &nplat);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && nplat == 0))
        return acl_fail(ACL_ERR_NO_PLATFORM, "no OpenCL platform found: install a driver (on Debian: "
                        "apt-get install pocl-opencl-icd) or check /etc/OpenCL/vendors and OCL_ICD_VENDORS");
    CL_TRY(err);
    plats = calloc(nplat, sizeof *plats);
    if (!plats) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory listing platforms");
        goto cleanup;
    }
    CL_TRY(clGetPlatformIDs(nplat, plats, NULL));
    for (cl_uint p = 0; p < nplat; p++) {
        cl_uint nd = 0;
        err = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (err == CL_DEVICE_NOT_FOUND || nd == 0)
            continue;
        CL_TRY(err);
        free(ids);
        ids = calloc(nd, sizeof *ids);
        struct acl_device_ref *grown = realloc(out, (n + nd) * sizeof *out);
        if (!ids || !grown) {
            if (grown)
                out = grown;
            st = acl_fail(ACL_ERR_MEMORY, "out of host memory listing devices");
            goto cleanup;
        }
        out = grown;
        CL_TRY(clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL));
        for (cl_uint d = 0; d < nd; d++) {
            struct acl_device_ref *r = &out[n];
            memset(r, 0, sizeof *r);
            r->platform = plats[p];
            r->id = ids[d];
            ACL_TRY(describe(plats[p], ids[d], &r->info));
            r->info.index = (int)n;
            r->info.platform_index = (int)p;
            n++;
        }
    }
    if (n == 0) {
        st = acl_fail(ACL_ERR_NO_DEVICE, "OpenCL platforms exist but report no device: check the driver "
                      "installation (clinfo lists what the loader sees)");
        goto cleanup;
    }
    *devs = out;
    *count = n;
    out = NULL;
cleanup:
    free(out);
    free(ids);
    free(plats);
    return st;
}

acl_status acl_list_devices(acl_device_info **devices, size_t *count)
{
    struct acl_device_ref *refs = NULL;
    size_t n = 0;
    *devices = NULL;
    *count = 0;
    acl_status st = acl_enumerate(&refs, &n);
    if (st != ACL_OK)
        return st;
    acl_device_info *out = calloc(n, sizeof *out);
    if (!out) {
        free(refs);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory listing devices");
    }
    for (size_t i = 0; i < n; i++)
        out[i] = refs[i].info;
    free(refs);
    *devices = out;
    *count = n;
    return ACL_OK;
}

acl_status acl_select_device(const char *selector, struct acl_device_ref *out)
{
    struct acl_device_ref *devs = NULL;
    size_t n = 0;
    acl_status st = acl_enumerate(&devs, &n);
    if (st != ACL_OK)
        return st;
    const char *sel = selector ? selector : "";
    size_t digits = strspn(sel, "0123456789");
    long pick = -1;
    if (*sel == '\0') {
        pick = 0;
    } else if (digits == strlen(sel)) {
        long idx = digits > 9 ? -1 : strtol(sel, NULL, 10);
        if (idx < 0 || (size_t)idx >= n) {
            st = acl_fail(ACL_ERR_NO_DEVICE, "device %s does not exist: there %s %zu device%s (0 to %zu); "
                          "run `alexnet-cl devices` to list them", sel, n == 1 ? "is" : "are", n,
                          n == 1 ? "" : "s", n - 1);
            goto out;
        }
        pick = idx;
    } else {
        for (size_t i = 0; i < n && pick < 0; i++)
            if (acl_contains_nocase(devs[i].info.name, sel))
                pick = (long)i;
        for (size_t i = 0; i < n && pick < 0; i++)
            if (acl_contains_nocase(devs[i].info.platform, sel))
                pick = (long)i;
        if (pick < 0) {
            st = acl_fail(ACL_ERR_NO_DEVICE, "no device name contains \"%s\"; run `alexnet-cl devices` to "
                          "list them", sel);
            goto out;
        }
    }
    *out = devs[pick];
out:
    free(devs);
    return st;
}
