/* fuzz_image.c: libFuzzer target for JPEG/PNG decoding from memory, through the header check and limits, and
 * for the resize of whatever decodes. */
// fuzz-sources: src/data/*.c
// fuzz-libs: -lz -lm
// Built and run by scripts/fuzz.sh (stb_image_impl.c is compiled there with its own flags):
//   scripts/fuzz.sh 120 image
#include <stdint.h>
#include <stdlib.h>

#include "data/decode.h"
#include "data/resize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Tighter limits than the defaults keep each run fast; the code paths are the same. */
    struct acl_decode_limits lim = {2048, 1 << 20, 1 << 22};
    int w, h, c;
    if (acl_image_info(data, size, "fuzz", &lim, &w, &h, &c) == ACL_OK &&
        (w < 1 || h < 1 || w > lim.max_side || h > lim.max_side || c < 1 || c > 4))
        abort(); /* the header check let through what it promised to refuse */
    struct acl_image img;
    if (acl_decode_image(data, size, "fuzz", &lim, &img) != ACL_OK)
        return 0;
    if (img.channels != 3 || img.width < 1 || img.height < 1 || (long long)img.width * img.height > lim.max_pixels)
        abort();
    unsigned sum = 0; /* read every pixel, so ASan sees the whole buffer */
    for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++)
        sum += img.data[i];
    int s = 1 + (int)(sum % 40);
    uint8_t *out = malloc((size_t)s * s * 3);
    if (out && acl_resize_shorter_crop(out, s, img.data, img.height, img.width, 3) != ACL_OK)
        abort();
    free(out);
    acl_image_free(&img);
    return 0;
}
