/* make_images.c: writes a small image folder for the command-line tests (eval_cli_test.sh):
 * DIR/<name>/<k>.png (every third one a .jpg), RGB images of varied sizes whose colour depends on the class, with
 * noise, so that a tiny network can tell the classes apart after a few steps.
 * Usage: make_images DIR PER_CLASS SEED NAME... */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "datatest.h"

static uint64_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* mkdir -p */
static void make_dirs(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = '\0';
            mkdir(p, 0755);
            *q = '/';
        }
    mkdir(p, 0755);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: make_images DIR PER_CLASS SEED NAME...\n");
        return 2;
    }
    const char *dir = argv[1];
    int per = atoi(argv[2]);
    uint64_t s = (uint64_t)atoll(argv[3]) * 2654435761ULL + 1;
    make_dirs(dir);
    for (int c = 4; c < argc; c++) {
        int k = c - 4;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, argv[c]);
        mkdir(path, 0755);
        /* class k: a colour of its own, a bright square placed by the class */
        int base[3] = {(k * 97) % 256, (k * 53 + 80) % 256, (k * 151 + 160) % 256};
        for (int i = 0; i < per; i++) {
            int h = 24 + (int)(next(&s) % 40), w = 24 + (int)(next(&s) % 40);
            uint8_t *px = malloc((size_t)h * w * 3);
            if (!px)
                return 1;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < 3; ch++) {
                        int v = base[ch] + (int)(next(&s) % 61) - 30;
                        if ((k & 1) ? y < h / 2 : x < w / 2)
                            v = 255 - v;
                        px[((size_t)y * w + x) * 3 + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                    }
            int jpeg = i % 3 == 2;
            struct bytes b = jpeg ? encode_jpg(px, h, w, 3) : encode_png(px, h, w, 3);
            snprintf(path, sizeof path, "%s/%s/%03d.%s", dir, argv[c], i, jpeg ? "jpg" : "png");
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(b.p, 1, b.n, f) != b.n || fclose(f) != 0) {
                fprintf(stderr, "make_images: cannot write %s\n", path);
                return 1;
            }
            free(b.p);
            free(px);
        }
    }
    return 0;
}
