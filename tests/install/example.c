/* example.c: a program outside the project that links the installed engine through pkg-config. */
#include <alexnet_cl.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    acl_device_info *devs = NULL;
    size_t n = 0;
    acl_status st = acl_list_devices(&devs, &n);
    if (st != ACL_OK && st != ACL_ERR_NO_PLATFORM && st != ACL_ERR_NO_DEVICE) {
        fprintf(stderr, "%s: %s\n", acl_status_name(st), acl_last_error());
        return 1;
    }
    printf("linked alexnet-cl %s: %zu device(s)\n", ACL_VERSION_STRING, n);
    free(devs);
    return 0;
}
