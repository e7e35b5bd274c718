/* main.c: `alexnet-cl`, dispatching to one file per subcommand. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "net/net.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"selftest", cmd_selftest, "check every kernel against its host reference on a device"},
    {"model", cmd_model, "a model's layers, shapes, parameters and memory plan"},
    {"infer", cmd_infer, "logits of preprocessed float32 tensors from a .npy file"},
    {"train", cmd_train, "train a model (default: the mini preset on Fashion-MNIST)"},
    {"report", cmd_report, "remake report.html and conv1_filters.png from a training output folder"},
    {"prepare", cmd_prepare, "decode a dataset once into a file that training memory-maps"},
    {"eval", cmd_eval, "top-1 and top-5 of weights on a dataset, centre crop or ten crops"},
    {"classify", cmd_classify, "the five most likely classes of each image"},
    {"bench", cmd_bench, "training and inference images/s, memory, cold and warm start of a model"},
    {"tune", cmd_tune, "search kernel parameters for a model on a device, verified, and store the winners"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: alexnet-cl <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`alexnet-cl <command> --help` describes a command's options.\n"
               "Environment: ACL_CACHE_DIR (program cache folder), ACL_KERNEL_DIR (read cl/ sources from a "
               "folder).\n");
}

int cli_error(acl_status st, const char *what)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", acl_last_error()[0] ? acl_last_error() : acl_status_name(st));
    /* No such device: a wrong --device argument (known only once the devices are listed) when there are devices,
     * else a machine without any. */
    if (st == ACL_ERR_NO_DEVICE) {
        acl_device_info *devs = NULL;
        size_t n = 0;
        int some = acl_list_devices(&devs, &n) == ACL_OK && n > 0;
        free(devs);
        if (some) {
            fprintf(stderr, "alexnet-cl: --device: %s\n", msg);
            return EXIT_USAGE;
        }
    }
    fprintf(stderr, "alexnet-cl: %s: %s\n", what, msg);
    return st == ACL_ERR_CONFLICT ? EXIT_USAGE : 1; /* an argument the user must change */
}

int cli_check_model(const char *cmd, const char *model)
{
    struct stat sb;
    if (acl_net_preset_text(model))
        return 0;
    int found = stat(model, &sb) == 0;
    if (found && !S_ISDIR(sb.st_mode))
        return 0; /* a file that exists but does not parse is a bad file, reported with its line (exit 1) */
    return cli_usage_error(cmd, "--model \"%s\" is neither a preset (paper, torchvision, mini) nor a net description "
                           "file (%s)", model, found ? "it is a folder" : strerror(errno));
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "alexnet-cl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see `alexnet-cl %s --help`)\n", cmd);
    return EXIT_USAGE;
}

int cli_parse_int(const char *cmd, const char *opt, const char *value, long lo, long hi, long *out)
{
    char *end = NULL;
    if (!value || !*value)
        return cli_usage_error(cmd, "%s needs a value", opt);
    long v = strtol(value, &end, 10);
    if (*end != '\0' || v < lo || v > hi)
        return cli_usage_error(cmd, "%s wants an integer from %ld to %ld, not \"%s\"", opt, lo, hi, value);
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("alexnet-cl %s\n", ACL_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "alexnet-cl: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
