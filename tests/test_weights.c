/* test_weights.c: a model's parameters through safetensors: round trip under the preset's tensor names, a
 * new last layer for another class count when allowed, weights of another model refused. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "testutil.h"
#include "train/weights.h"

static void round_trip_and_mismatches(void **state)
{
    (void)state;
    char path[] = "/tmp/acl-weights-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct acl_net *net = NULL, *other = NULL, *fewer = NULL;
    assert_int_equal(acl_net_preset("mini", 10, &net), ACL_OK);
    size_t P = net->param_count;
    float *a = malloc(P * sizeof *a), *b = malloc(P * sizeof *b);
    acl_net_init_params(net, a, ACL_INIT_HE, 3);
    assert_int_equal(acl_weights_save(net, a, path), ACL_OK);
    int new_head = -1;
    memset(b, 0, P * sizeof *b);
    assert_int_equal(acl_weights_load(net, path, 0, b, &new_head), ACL_OK);
    assert_int_equal(new_head, 0);
    assert_memory_equal(a, b, P * sizeof *a);

    /* the same network for 7 classes: all but fc8 load; fc8 keeps what the caller put there */
    assert_int_equal(acl_net_preset("mini", 7, &fewer), ACL_OK);
    float *c = calloc(fewer->param_count, sizeof *c);
    assert_int_equal(acl_weights_load(fewer, path, 0, c, &new_head), ACL_ERR_FORMAT);
    assert_non_null(strstr(acl_last_error(), "fc8.weight"));
    assert_int_equal(acl_weights_load(fewer, path, 1, c, &new_head), ACL_OK);
    assert_int_equal(new_head, 1);
    assert_memory_equal(c, a, net->tensors[0].count * sizeof *a); /* conv1 came through */

    /* another model's names */
    assert_int_equal(acl_net_preset("torchvision", 10, &other), ACL_OK);
    float *d = calloc(other->param_count, sizeof *d);
    assert_int_equal(acl_weights_load(other, path, 1, d, &new_head), ACL_ERR_FORMAT);
    assert_non_null(strstr(acl_last_error(), "features.0.weight"));
    assert_int_equal(acl_weights_load(net, "/nonexistent/w.safetensors", 0, b, &new_head), ACL_ERR_IO);
    unlink(path);
    free(a);
    free(b);
    free(c);
    free(d);
    acl_net_free(net);
    acl_net_free(fewer);
    acl_net_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(round_trip_and_mismatches)};
    return cmocka_run_group_tests_name("weights", tests, NULL, NULL);
}
