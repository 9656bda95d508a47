/* image_decode.h — encoded images (BMP, JPEG, JPEG 2000, PNG, PNM, TIFF, WebP) to 8-bit
 * pixels, for ONNX's ImageDecoder (onnx_ops_image.c), which decodes at compile time.
 *
 * The bytes are untrusted: every decoder reads the image's size first and refuses one of
 * more than max_pixels before allocating for it; the libraries' errors come back through
 * their error hooks (setjmp for libjpeg and libpng), never exit() or a print; a truncated
 * or corrupt image is an error.  BMP and PNM are parsed here (image_decode.c), the others
 * by Debian's libraries (image_codecs.c); a format whose library was missing when dlc was
 * built is an error that names the library. */
#ifndef DLC_IMAGE_DECODE_H
#define DLC_IMAGE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dlc_err.h"

/* Decoded pixels: h rows of w pixels of ch channels (1: gray, 3: R, G, B), row-major,
 * from dlc_try_malloc; img_free releases them. */
typedef struct ImgPixels {
  int64_t w, h;
  int ch;
  uint8_t *px; /* [h, w, ch] */
} ImgPixels;

typedef enum { IMG_RGB, IMG_BGR, IMG_GRAY } ImgFormat;

/* Decodes data[0..n) into *out (8 bits per sample; an alpha channel is dropped, a
 * palette expanded, 16-bit samples keep their high byte).  0, or -1 with e set to one
 * phrase ("PNG: ...") and *out empty. */
int img_decode(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e);
/* Rewrites img as f: RGB, BGR (3 channels) or Grayscale (1: ITU-R 601-2 luma in PIL's
 * integer form, (19595 R + 38470 G + 7471 B + 2^15) >> 16).  0, or -1 when out of memory. */
int img_convert(ImgPixels *img, ImgFormat f, DlcErr *e);
void img_free(ImgPixels *img);

/* ---- shared by the decoders ---- */

/* Checks w x h: at least 1 x 1, at most max_pixels. */
int img_bound(int64_t w, int64_t h, int64_t max_pixels, const char *fmt, DlcErr *e);
/* img_bound, then allocates out->px for ch channels. */
int img_alloc(ImgPixels *out, int64_t w, int64_t h, int ch, int64_t max_pixels, const char *fmt, DlcErr *e);
/* The library-backed formats (image_codecs.c). */
int img_jpeg(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e);
int img_png(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e);
int img_tiff(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e);
int img_webp(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e);
int img_jp2(const uint8_t *data, size_t n, bool codestream, int64_t max_pixels, ImgPixels *out, DlcErr *e);

#endif
