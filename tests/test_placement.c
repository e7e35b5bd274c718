/* test_placement.c: the two-device layout (src/parallel/placement.h) of the paper and mini presets at
 * splits 0.5 and 0.7 against hand-computed ranges and transfer bytes, the `cross` key of net descriptions,
 * and the parsing of `--devices` and `--split` (src/parallel/devlist.h). No OpenCL device is needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "parallel/devlist.h"
#include "parallel/placement.h"
#include "testutil.h"

/* Layer indices shared by the paper and mini presets. */
enum { CONV1 = 0, LRN1 = 2, POOL1 = 3, CONV2 = 4, LRN2 = 6, CONV3 = 8, CONV4 = 10, CONV5 = 12, POOL5 = 14,
       FC6 = 15, FC7 = 18, FC8 = 21 };

static struct acl_net *load(const char *preset, int classes)
{
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_preset(preset, classes, &net), ACL_OK);
    assert_int_equal(net->n_layers, 22);
    return net;
}

static void plan(const struct acl_net *net, double f, struct acl_placement *p)
{
    acl_status st = acl_placement_plan(net, f, p);
    if (st != ACL_OK)
        print_message("plan %g: %s\n", f, acl_last_error());
    assert_int_equal(st, ACL_OK);
    assert_int_equal(p->n_layers, net->n_layers);
}

/* Invariants of every layout: the two ranges tile the layer's channels, channel-wise layers follow their
 * input, cross=0 grouped convs hold whole groups and their input is split on their group boundary. */
static void check_invariants(const struct acl_net *net, const struct acl_placement *p)
{
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        const struct acl_layer_place *pl = &p->layers[i];
        if (pl->replicated) {
            assert_int_equal(acl_range_size(pl->dev[0]), l->out_c);
            assert_int_equal(acl_range_size(pl->dev[1]), l->out_c);
            continue;
        }
        assert_int_equal(pl->dev[0].begin, 0);
        assert_int_equal(pl->dev[0].end, pl->dev[1].begin);
        assert_int_equal(pl->dev[1].end, l->out_c);
        assert_int_equal(acl_range_size(pl->dev[0]) + acl_range_size(pl->dev[1]), l->out_c);
        assert_true(acl_range_size(pl->dev[0]) > 0);
        if (i == net->n_layers - 1)
            assert_int_equal(acl_range_size(pl->dev[1]), 0); /* the logits stay on device 0 */
        else
            assert_true(acl_range_size(pl->dev[1]) > 0);
        if (l->kind != ACL_CONV && l->kind != ACL_FC) {
            assert_int_equal(pl->dev[0].end, p->layers[i - 1].dev[0].end);
        } else if (l->kind == ACL_CONV && !l->cross) {
            assert_int_equal(pl->dev[0].end % (l->out_c / l->groups), 0);
            assert_int_equal(p->layers[i - 1].dev[0].end % (l->in_c / l->groups), 0);
            /* device 0's groups read exactly device 0's input channels */
            assert_int_equal(pl->dev[0].end / (l->out_c / l->groups), p->layers[i - 1].dev[0].end / (l->in_c / l->groups));
        }
    }
}

static void paper_even_split(void **state)
{
    (void)state;
    struct acl_net *net = load("paper", 1000);
    struct acl_placement p;
    plan(net, 0.5, &p);
    check_invariants(net, &p);
    int want[][2] = {{CONV1, 48}, {LRN1, 48}, {POOL1, 48}, {CONV2, 128}, {CONV3, 192}, {CONV4, 192},
                     {CONV5, 128}, {POOL5, 128}, {FC6, 2048}, {FC7, 2048}, {FC8, 1000}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(p.layers[want[i][0]].dev[0].end, want[i][1]);
    /* the paper's rule: conv2, conv4, conv5 read their own channels; conv3 and the fc layers read both */
    assert_false(p.layers[CONV2].cross);
    assert_false(p.layers[CONV4].cross);
    assert_false(p.layers[CONV5].cross);
    assert_true(p.layers[CONV1].cross && p.layers[CONV3].cross && p.layers[FC6].cross && p.layers[FC7].cross &&
                p.layers[FC8].cross);

    struct acl_transfer *t = NULL;
    int n = 0;
    assert_int_equal(acl_placement_transfers(net, &p, &t, &n), ACL_OK);
    /* Forward, by hand: lrn1 halo 4 ch x 55x55 each way, lrn2 halo 4 x 27x27 each way, conv3 128 x 13x13
     * each way, fc6 128 x 6x6 each way, fc7 2048 each way, fc8 2048 into device 0 only. */
    size_t fwd = 2 * (4 * 55 * 55 * 4) + 2 * (4 * 27 * 27 * 4) + 2 * (128 * 13 * 13 * 4) + 2 * (128 * 6 * 6 * 4) +
                 2 * (2048 * 4) + 2048 * 4;
    assert_int_equal(fwd, 354624);
    struct acl_transfer_totals tot;
    acl_transfer_totals(t, n, 1, &tot);
    assert_int_equal(tot.forward, fwd);
    assert_int_equal(tot.backward, fwd); /* every forward copy has a backward one of the same size */
    assert_int_equal(tot.total, 2 * fwd);
    acl_transfer_totals(t, n, 128, &tot);
    assert_int_equal(tot.total, 128 * 2 * fwd);
    assert_int_equal(n, 2 * 11);
    /* forward in layer order, backward in reverse */
    assert_int_equal(t[0].layer, LRN1);
    assert_int_equal(t[0].kind, ACL_XFER_LRN_HALO);
    assert_int_equal(t[0].from, 0);
    assert_int_equal(t[0].channels.begin, 44);
    assert_int_equal(t[0].channels.end, 48);
    assert_int_equal(t[1].channels.begin, 48);
    assert_int_equal(t[1].channels.end, 52);
    assert_int_equal(t[4].layer, CONV3);
    assert_int_equal(t[4].kind, ACL_XFER_INPUT);
    assert_int_equal(t[4].to, 0);
    assert_int_equal(t[4].channels.begin, 128);
    assert_int_equal(t[4].channels.end, 256);
    assert_int_equal(t[4].bytes_per_image, 128 * 13 * 13 * 4);
    assert_int_equal(t[10].layer, FC8);
    assert_int_equal(t[10].from, 1);
    assert_int_equal(t[10].to, 0);
    assert_int_equal(t[11].layer, FC8);
    assert_int_equal(t[11].pass, ACL_PASS_BACKWARD);
    assert_int_equal(t[11].kind, ACL_XFER_INPUT_GRAD);
    assert_int_equal(t[11].from, 0);
    assert_int_equal(t[11].to, 1);
    assert_int_equal(t[11].channels.begin, 2048);
    assert_int_equal(t[n - 1].layer, LRN1);
    assert_int_equal(t[n - 1].kind, ACL_XFER_LRN_HALO_GRAD);
    for (int i = 0; i < n; i++)
        assert_int_equal(t[i].pass, i < 11 ? ACL_PASS_FORWARD : ACL_PASS_BACKWARD);
    free(t);
    acl_placement_free(&p);
    acl_net_free(net);
}

static void paper_uneven_split(void **state)
{
    (void)state;
    struct acl_net *net = load("paper", 1000);
    struct acl_placement p;
    plan(net, 0.7, &p);
    check_invariants(net, &p);
    /* two groups: one each whatever f is, and the layers feeding them follow; the fc layers follow f:
     * 0.7 x 4096 = 2867.2 -> 2868, a multiple of 4 */
    int want[][2] = {{CONV1, 48}, {CONV2, 128}, {CONV3, 192}, {CONV4, 192}, {CONV5, 128}, {FC6, 2868},
                     {FC7, 2868}, {FC8, 1000}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(p.layers[want[i][0]].dev[0].end, want[i][1]);
    struct acl_transfer *t = NULL;
    int n = 0;
    assert_int_equal(acl_placement_transfers(net, &p, &t, &n), ACL_OK);
    struct acl_transfer_totals tot;
    acl_transfer_totals(t, n, 1, &tot);
    /* as at 0.5 up to fc6; fc7 gets 1228 into device 0 and 2868 into device 1, fc8 1228 into device 0 */
    size_t fwd = 2 * (4 * 55 * 55 * 4) + 2 * (4 * 27 * 27 * 4) + 2 * (128 * 13 * 13 * 4) + 2 * (128 * 6 * 6 * 4) +
                 (1228 + 2868) * 4 + 1228 * 4;
    assert_int_equal(tot.forward, fwd);
    assert_int_equal(tot.backward, fwd);
    free(t);
    acl_placement_free(&p);
    acl_net_free(net);
}

static void mini_splits(void **state)
{
    (void)state;
    struct acl_net *net = load("mini", 10);
    struct acl_placement p;
    plan(net, 0.5, &p);
    check_invariants(net, &p);
    int even[][2] = {{CONV1, 16}, {CONV2, 32}, {CONV3, 48}, {CONV4, 48}, {CONV5, 32}, {FC6, 128}, {FC7, 128},
                     {FC8, 10}};
    for (size_t i = 0; i < sizeof even / sizeof even[0]; i++)
        assert_int_equal(p.layers[even[i][0]].dev[0].end, even[i][1]);
    struct acl_transfer *t = NULL;
    int n = 0;
    assert_int_equal(acl_placement_transfers(net, &p, &t, &n), ACL_OK);
    struct acl_transfer_totals tot;
    acl_transfer_totals(t, n, 1, &tot);
    /* lrn1 4 x 28x28 each way, lrn2 4 x 14x14, conv3 32 x 7x7, fc6 32 x 3x3, fc7 128 each way, fc8 128 */
    assert_int_equal(tot.forward, 2 * (4 * 784 * 4) + 2 * (4 * 196 * 4) + 2 * (32 * 49 * 4) + 2 * (32 * 9 * 4) +
                                      2 * (128 * 4) + 128 * 4);
    free(t);
    acl_placement_free(&p);

    plan(net, 0.7, &p);
    check_invariants(net, &p);
    /* fc6, fc7: 0.7 x 256 = 179.2 -> 180 */
    int uneven[][2] = {{CONV1, 16}, {CONV2, 32}, {CONV3, 48}, {CONV4, 48}, {CONV5, 32}, {FC6, 180}, {FC7, 180},
                       {FC8, 10}};
    for (size_t i = 0; i < sizeof uneven / sizeof uneven[0]; i++)
        assert_int_equal(p.layers[uneven[i][0]].dev[0].end, uneven[i][1]);
    acl_placement_free(&p);
    acl_net_free(net);
}

static const char crossed[] =
    "input channels=3 size=31\n"
    "conv name=conv1 out=96 kernel=11 stride=4\n"
    "relu\n"
    "lrn size=5\n"
    "conv name=conv2 out=256 kernel=3 groups=2 cross=1\n"
    "maxpool size=3 stride=2\n"
    "fc name=fc8 out=classes\n";

static void cross_key(void **state)
{
    (void)state;
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse(crossed, "t.net", 10, &net), ACL_OK);
    assert_int_equal(net->layers[3].cross, 1);
    assert_int_equal(net->layers[0].cross, 1);
    /* a grouped conv marked cross=1 follows f: 0.7 x 256 = 179.2 -> 180, and conv1 0.7 x 96 = 67.2 -> 68 */
    struct acl_placement p;
    plan(net, 0.7, &p);
    check_invariants(net, &p);
    assert_int_equal(p.layers[0].dev[0].end, 68);
    assert_int_equal(p.layers[3].dev[0].end, 180);
    assert_int_equal(p.layers[4].dev[0].end, 180);
    struct acl_transfer *t = NULL;
    int n = 0;
    assert_int_equal(acl_placement_transfers(net, &p, &t, &n), ACL_OK);
    /* conv1 out 6x6: lrn halo 4 each way, conv2 reads 28 and 68 channels; pool 4x4 -> 1x1; fc8 76 channels */
    struct acl_transfer_totals tot;
    acl_transfer_totals(t, n, 2, &tot);
    assert_int_equal(tot.forward, 2 * ((4 + 4) * 36 * 4 + (28 + 68) * 36 * 4 + 76 * 4));
    free(t);
    acl_placement_free(&p);
    acl_net_free(net);

    const char *bad[][2] = {
        {"input size=8\nconv out=8 kernel=3 cross=0\nfc out=classes\n", "t.net:2: cross=0 needs groups=2"},
        {"input size=8 channels=4\nconv out=8 kernel=3 groups=2 cross=2\nfc out=classes\n", "t.net:2: cross=2: wants"},
        {"input size=8\nconv out=8 kernel=3 cross=yes\nfc out=classes\n", "t.net:2: cross=yes: wants"},
        {"input size=8\nfc out=classes cross=0\n", "t.net:2: cross=0: an fc layer"},
        {"input size=8\nrelu cross=1\nfc out=classes\n", "t.net:2: unknown key \"cross\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        net = NULL;
        acl_status st = acl_net_parse(bad[i][0], "t.net", 10, &net);
        if (st == ACL_OK || !strstr(acl_last_error(), bad[i][1]))
            print_message("for:\n%s\ngot: %s\nwanted: %s\n", bad[i][0], acl_last_error(), bad[i][1]);
        assert_int_not_equal(st, ACL_OK);
        assert_null(net);
        assert_non_null(strstr(acl_last_error(), bad[i][1]));
    }
}

static void impossible_layouts(void **state)
{
    (void)state;
    struct acl_net *net = NULL;
    struct acl_placement p;
    /* 2 groups split at channel 6, the next conv's 3 groups want its input split at 8 (round(1.5) = 2 groups) */
    assert_int_equal(acl_net_parse("input size=8 channels=4\nconv name=a out=12 kernel=3 pad=1 groups=2\n"
                                   "conv name=b out=6 kernel=3 groups=3\nfc out=classes\n", "t.net", 10, &net), ACL_OK);
    assert_int_not_equal(acl_placement_plan(net, 0.5, &p), ACL_OK);
    assert_non_null(strstr(acl_last_error(), "a (line 2)"));
    assert_non_null(strstr(acl_last_error(), "b (line 3)"));
    assert_null(p.layers);
    acl_net_free(net);
    /* one output channel */
    assert_int_equal(acl_net_parse("input size=8\nconv name=thin out=1 kernel=3\nfc out=classes\n", "t.net", 10,
                                   &net), ACL_OK);
    assert_int_not_equal(acl_placement_plan(net, 0.5, &p), ACL_OK);
    assert_non_null(strstr(acl_last_error(), "thin (line 2) has one output channel"));
    acl_net_free(net);
    /* narrow layers round to whole channels, each side at least one */
    assert_int_equal(acl_net_parse("input size=8\nconv out=5 kernel=3\nfc out=classes\n", "t.net", 10, &net), ACL_OK);
    plan(net, 0.9, &p);
    assert_int_equal(p.layers[0].dev[0].end, 4);
    acl_placement_free(&p);
    plan(net, 0.01, &p);
    assert_int_equal(p.layers[0].dev[0].end, 1);
    acl_placement_free(&p);
    for (double f = -1; f <= 2; f += 1) {
        assert_int_not_equal(acl_placement_plan(net, f, &p), ACL_OK);
        assert_non_null(strstr(acl_last_error(), "between 0 and 1"));
    }
    acl_net_free(net);
}

/* The halo is size - 1 channels each way, whatever the window's shape, in both passes. */
static void lrn_halo_even_window(void **state)
{
    (void)state;
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse("input size=3 channels=1\nconv out=16 kernel=1\nlrn size=4\nfc out=classes\n",
                                   "t.net", 10, &net), ACL_OK);
    struct acl_placement p;
    plan(net, 0.5, &p);
    struct acl_transfer *t = NULL;
    int n = 0;
    assert_int_equal(acl_placement_transfers(net, &p, &t, &n), ACL_OK);
    /* forward: lrn 0->1 [5,8), 1->0 [8,11); fc 1->0 [8,16); backward: fc 0->1 [8,16); lrn the same as forward */
    int want[][5] = {{ACL_XFER_LRN_HALO, 0, 1, 5, 8},       {ACL_XFER_LRN_HALO, 1, 0, 8, 11},
                     {ACL_XFER_INPUT, 1, 0, 8, 16},         {ACL_XFER_INPUT_GRAD, 0, 1, 8, 16},
                     {ACL_XFER_LRN_HALO_GRAD, 0, 1, 5, 8}, {ACL_XFER_LRN_HALO_GRAD, 1, 0, 8, 11}};
    assert_int_equal(n, 6);
    for (int i = 0; i < n; i++) {
        assert_int_equal(t[i].kind, want[i][0]);
        assert_int_equal(t[i].from, want[i][1]);
        assert_int_equal(t[i].to, want[i][2]);
        assert_int_equal(t[i].channels.begin, want[i][3]);
        assert_int_equal(t[i].channels.end, want[i][4]);
        assert_int_equal(t[i].bytes_per_image, (size_t)(want[i][4] - want[i][3]) * 9 * 4);
    }
    free(t);
    acl_placement_free(&p);
    acl_net_free(net);
}

static const struct acl_devlist_entry devs[] = {
    {"pthread-haswell-AMD EPYC", "Portable Computing Language"},
    {"Oclgrind Simulator", "Oclgrind"},
    {"NVIDIA H200", "NVIDIA CUDA"},
};

static void expect_devices(const char *arg, int a, int b)
{
    int out[2] = {-1, -1};
    acl_status st = acl_devlist_parse(arg, devs, 3, out);
    if (st != ACL_OK)
        print_message("--devices %s: %s\n", arg, acl_last_error());
    assert_int_equal(st, ACL_OK);
    assert_int_equal(out[0], a);
    assert_int_equal(out[1], b);
}

static void expect_devices_error(const char *arg, const char *needle)
{
    int out[2];
    acl_status st = acl_devlist_parse(arg, devs, 3, out);
    if (st == ACL_OK || !strstr(acl_last_error(), needle))
        print_message("--devices %s: got %s, wanted %s\n", arg, acl_last_error(), needle);
    assert_int_not_equal(st, ACL_OK);
    assert_non_null(strstr(acl_last_error(), needle));
}

static void devices_argument(void **state)
{
    (void)state;
    expect_devices("0,1", 0, 1);
    expect_devices("2,0", 2, 0);
    expect_devices("h200,epyc", 2, 0);
    expect_devices("oclgrind,0", 1, 0);
    expect_devices("portable,cuda", 0, 2); /* platform names when no device name matches */
    expect_devices_error("0,0", "--devices 0,0: both entries name device 0");
    expect_devices_error("pthread,0", "both entries name device 0");
    expect_devices_error("0,3", "--devices 0,3: device 3 does not exist: there are 3 devices (0 to 2)");
    expect_devices_error("99999999999,0", "device 99999999999 does not exist");
    expect_devices_error("0", "--devices 0: wants exactly two devices");
    expect_devices_error("0,1,2", "--devices 0,1,2: wants exactly two devices");
    expect_devices_error("", "wants exactly two devices");
    expect_devices_error(",1", "--devices ,1: entry 1 is empty");
    expect_devices_error("0,", "entry 2 is empty");
    expect_devices_error("0,radeon", "--devices 0,radeon: no device name contains \"radeon\"");
    int out[2];
    assert_int_equal(acl_devlist_parse("0,1", devs, 1, out), ACL_ERR_NO_DEVICE);
    assert_non_null(strstr(acl_last_error(), "there is 1 device (0 to 0)"));
}

static void split_argument(void **state)
{
    (void)state;
    double f = 0;
    int automatic = -1;
    assert_int_equal(acl_split_parse("0.7", &f, &automatic), ACL_OK);
    assert_true(f == 0.7);
    assert_int_equal(automatic, 0);
    assert_int_equal(acl_split_parse("auto", &f, &automatic), ACL_OK);
    assert_int_equal(automatic, 1);
    assert_true(f == 0.5);
    const char *bad[] = {"0", "1", "1.5", "-0.2", "abc", "", "0.5x", "nan", "inf", "AUTO"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(acl_split_parse(bad[i], &f, &automatic), ACL_ERR_ARGUMENT);
        char want[64];
        snprintf(want, sizeof want, "--split %s: wants", bad[i]);
        assert_non_null(strstr(acl_last_error(), want));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paper_even_split),   cmocka_unit_test(paper_uneven_split),
        cmocka_unit_test(mini_splits),        cmocka_unit_test(cross_key),
        cmocka_unit_test(impossible_layouts), cmocka_unit_test(devices_argument),
        cmocka_unit_test(split_argument),     cmocka_unit_test(lrn_halo_even_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
