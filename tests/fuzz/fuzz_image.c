/* fuzz_image.c — libFuzzer target for ImageDecoder's decoders (frontend/onnx/image_decode.c
 * and image_codecs.c): the bytes as an encoded image, decoded under a bound of 2^20
 * pixels, then converted to the pixel format the input's length picks.  A decoded image
 * must be inside the bound; a refused one must have one line of error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PIXELS ((int64_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ImgPixels img;
  DlcErr e = {{0}};
  if (img_decode(data, size, FUZZ_MAX_PIXELS, &img, &e) == 0) {
    DLC_ASSERT(img.px && img.w >= 1 && img.h >= 1 && img.w * img.h <= FUZZ_MAX_PIXELS && (img.ch == 1 || img.ch == 3));
    ImgFormat f = size % 3 == 0 ? IMG_RGB : size % 3 == 1 ? IMG_BGR : IMG_GRAY;
    int rc = img_convert(&img, f, &e);
    DLC_ASSERT(rc == 0 && img.ch == (f == IMG_GRAY ? 1 : 3));
    img_free(&img);
    return 0;
  }
  DLC_ASSERT(!img.px);
  if (!e.msg[0] || strchr(e.msg, '\n')) {
    fprintf(stderr, "fuzz_image: the error is not one non-empty line: '%s'\n", e.msg);
    abort();
  }
  return 0;
}
