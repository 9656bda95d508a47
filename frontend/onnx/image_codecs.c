/* image_codecs.c — JPEG, PNG, TIFF, WebP and JPEG 2000 through Debian's libraries
 * (libjpeg-turbo, libpng, libtiff, libwebp, OpenJPEG), each compiled in when CMake found
 * it (DLC_HAVE_JPEG, ...); without it, its format is an error naming the library.
 *
 * Each decoder reads the header, bounds the size (img_alloc) and only then decodes.  The
 * libraries report errors through hooks set here: libjpeg's error_exit and libpng's
 * error function longjmp back to a setjmp in a function that holds no other state (all
 * of it lives in a job struct, so nothing is clobbered); libtiff's and OpenJPEG's
 * handlers write the message into the job.  None prints.  A libjpeg warning (corrupt or
 * truncated data) is an error too: the library would go on and fill the rest with gray;
 * only extraneous bytes between segments, which it skips, are let through. */
#include "image_decode.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#define IMG_MSG 200

#define MISSING(fmt, lib, pkg)                                                                                    \
  dlc_errf(e, "%s: this dlc was built without %s (apt-get install %s, then rebuild dlc)", fmt, lib, pkg)

/* ---- JPEG (libjpeg) ------------------------------------------------------------------ */
#ifdef DLC_HAVE_JPEG
#include <jpeglib.h>

#include <jerror.h>

#define JPEG_MAX_SCANS 1000 /* a progressive image of many tiny scans costs time per scan */
#define JPEG_MAX_MEMORY (1L << 30) /* the coefficients of a progressive image, at most 2^26 pixels */

typedef struct JpegJob {
  struct jpeg_decompress_struct ci;
  struct jpeg_error_mgr em;
  struct jpeg_progress_mgr pm;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX > IMG_MSG ? JMSG_LENGTH_MAX : IMG_MSG];
  const uint8_t *data;
  size_t n;
  int64_t max_pixels;
  ImgPixels *out;
  DlcErr *e;
  bool bounded; /* img_alloc failed: e holds the message */
} JpegJob;

static void jpeg_fail(j_common_ptr ci) {
  JpegJob *j = (JpegJob *)ci->client_data;
  ci->err->format_message(ci, j->msg);
  longjmp(j->jb, 1);
}
/* A warning is corrupt data, except bytes between segments, which the decoder skips. */
static void jpeg_note(j_common_ptr ci, int level) {
  if (level < 0 && ci->err->msg_code != JWRN_EXTRANEOUS_DATA) jpeg_fail(ci);
}
static void jpeg_quiet(j_common_ptr ci) { (void)ci; }
static void jpeg_scans(j_common_ptr ci) {
  JpegJob *j = (JpegJob *)ci->client_data;
  if (j->ci.is_decompressor && j->ci.input_scan_number > JPEG_MAX_SCANS) {
    snprintf(j->msg, sizeof j->msg, "more than %d scans", JPEG_MAX_SCANS);
    longjmp(j->jb, 1);
  }
}

static void jpeg_body(JpegJob *j) {
  struct jpeg_decompress_struct *ci = &j->ci;
  jpeg_create_decompress(ci); /* keeps err and client_data */
  ci->mem->max_memory_to_use = JPEG_MAX_MEMORY; /* more is an error: there is no backing store */
  ci->progress = &j->pm;
  jpeg_mem_src(ci, j->data, (unsigned long)j->n);
  jpeg_read_header(ci, TRUE);
  if (ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK) {
    snprintf(j->msg, sizeof j->msg, "CMYK images are not supported");
    longjmp(j->jb, 1);
  }
  int ch = ci->jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
  ci->out_color_space = ch == 1 ? JCS_GRAYSCALE : JCS_RGB;
  if (img_alloc(j->out, ci->image_width, ci->image_height, ch, j->max_pixels, "JPEG", j->e)) {
    j->bounded = true;
    longjmp(j->jb, 1);
  }
  jpeg_start_decompress(ci);
  if ((int64_t)ci->output_width != j->out->w || (int64_t)ci->output_height != j->out->h || ci->output_components != ch) {
    snprintf(j->msg, sizeof j->msg, "the decoder gives another size than the header");
    longjmp(j->jb, 1);
  }
  while (ci->output_scanline < ci->output_height) {
    JSAMPROW row = j->out->px + (int64_t)ci->output_scanline * j->out->w * ch;
    jpeg_read_scanlines(ci, &row, 1);
  }
  jpeg_finish_decompress(ci);
}

static int jpeg_run(JpegJob *j) {
  if (setjmp(j->jb)) return -1;
  jpeg_body(j);
  return 0;
}

int img_jpeg(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  JpegJob *j = dlc_try_calloc(1, sizeof *j);
  if (!j) return dlc_errf(e, "JPEG: out of memory");
  j->data = data, j->n = n, j->max_pixels = max_pixels, j->out = out, j->e = e;
  j->ci.err = jpeg_std_error(&j->em);
  j->ci.client_data = j;
  j->em.error_exit = jpeg_fail, j->em.emit_message = jpeg_note, j->em.output_message = jpeg_quiet;
  j->pm.progress_monitor = jpeg_scans;
  int rc = jpeg_run(j);
  jpeg_destroy_decompress(&j->ci);
  if (rc && !j->bounded) dlc_errf(e, "JPEG: %s", j->msg);
  if (rc) img_free(out);
  free(j);
  return rc;
}
#else
int img_jpeg(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  (void)data, (void)n, (void)max_pixels, (void)out;
  return MISSING("JPEG", "libjpeg", "libjpeg62-turbo-dev");
}
#endif

/* ---- PNG (libpng) -------------------------------------------------------------------- */
#ifdef DLC_HAVE_PNG
#include <png.h>

typedef struct PngJob {
  png_structp p;
  png_infop info;
  char msg[IMG_MSG];
  const uint8_t *data;
  size_t n, pos;
  int64_t max_pixels;
  ImgPixels *out;
  png_bytep *rows; /* [h] */
  DlcErr *e;
  bool bounded;
} PngJob;

static void png_fail(png_structp p, png_const_charp msg) {
  PngJob *j = png_get_error_ptr(p);
  snprintf(j->msg, sizeof j->msg, "%s", msg);
  png_longjmp(p, 1);
}
static void png_warn(png_structp p, png_const_charp msg) { (void)p, (void)msg; }
static void png_read_mem(png_structp p, png_bytep buf, size_t len) {
  PngJob *j = png_get_io_ptr(p);
  if (len > j->n - j->pos) png_error(p, "the file is truncated");
  memcpy(buf, j->data + j->pos, len);
  j->pos += len;
}

static void png_body(PngJob *j) {
  png_structp p = j->p;
  png_set_read_fn(p, j, png_read_mem);
  png_set_user_limits(p, 0x7fffffff, 0x7fffffff); /* img_alloc bounds the size */
  png_read_info(p, j->info);
  png_uint_32 w = png_get_image_width(p, j->info), h = png_get_image_height(p, j->info);
  int type = png_get_color_type(p, j->info), depth = png_get_bit_depth(p, j->info);
  int ch = type & PNG_COLOR_MASK_COLOR ? 3 : 1; /* a palette has the color bit */
  if (img_alloc(j->out, w, h, ch, j->max_pixels, "PNG", j->e)) {
    j->bounded = true;
    png_longjmp(p, 1);
  }
  if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(p);
  if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(p);
  if (depth == 16) png_set_strip_16(p); /* the high byte, as PIL */
  if (type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(p);
  png_set_interlace_handling(p);
  png_read_update_info(p, j->info);
  if (png_get_rowbytes(p, j->info) != (size_t)w * (size_t)ch) png_error(p, "unexpected row size after conversion");
  j->rows = dlc_try_malloc(sizeof *j->rows * h);
  if (!j->rows) png_error(p, "out of memory");
  for (png_uint_32 y = 0; y < h; y++) j->rows[y] = j->out->px + (size_t)y * w * (size_t)ch;
  png_read_image(p, j->rows);
  png_read_end(p, NULL);
}

static int png_run(PngJob *j) {
  if (setjmp(png_jmpbuf(j->p))) return -1;
  png_body(j);
  return 0;
}

int img_png(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  PngJob *j = dlc_try_calloc(1, sizeof *j);
  if (!j) return dlc_errf(e, "PNG: out of memory");
  j->data = data, j->n = n, j->max_pixels = max_pixels, j->out = out, j->e = e;
  j->p = png_create_read_struct(PNG_LIBPNG_VER_STRING, j, png_fail, png_warn);
  j->info = j->p ? png_create_info_struct(j->p) : NULL;
  int rc = j->info ? png_run(j) : (snprintf(j->msg, sizeof j->msg, "out of memory"), -1);
  png_destroy_read_struct(j->p ? &j->p : NULL, j->info ? &j->info : NULL, NULL);
  if (rc && !j->bounded) dlc_errf(e, "PNG: %s", j->msg);
  if (rc) img_free(out);
  free(j->rows);
  free(j);
  return rc;
}
#else
int img_png(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  (void)data, (void)n, (void)max_pixels, (void)out;
  return MISSING("PNG", "libpng", "libpng-dev");
}
#endif

/* ---- TIFF (libtiff) ------------------------------------------------------------------ */
#ifdef DLC_HAVE_TIFF
#include <stdarg.h>
#include <tiffio.h>

typedef struct TiffJob {
  const uint8_t *data;
  toff_t n, pos;
  char msg[IMG_MSG];
} TiffJob;

static tmsize_t tiff_read(thandle_t h, void *buf, tmsize_t len) {
  TiffJob *j = (TiffJob *)h;
  if (len < 0) return -1;
  toff_t left = j->pos < j->n ? j->n - j->pos : 0, k = (toff_t)len < left ? (toff_t)len : left;
  memcpy(buf, j->data + j->pos, (size_t)k);
  j->pos += k;
  return (tmsize_t)k;
}
static tmsize_t tiff_write(thandle_t h, void *buf, tmsize_t len) {
  (void)h, (void)buf, (void)len;
  return -1;
}
static toff_t tiff_seek(thandle_t h, toff_t off, int whence) {
  TiffJob *j = (TiffJob *)h;
  toff_t base = whence == SEEK_CUR ? j->pos : whence == SEEK_END ? j->n : 0;
  if (off > UINT64_MAX - base) return (toff_t)-1;
  j->pos = base + off;
  return j->pos;
}
static int tiff_close(thandle_t h) { return (void)h, 0; }
static toff_t tiff_size(thandle_t h) { return ((TiffJob *)h)->n; }
static int tiff_map(thandle_t h, void **base, toff_t *size) { return (void)h, (void)base, (void)size, 0; }
static void tiff_unmap(thandle_t h, void *base, toff_t size) { (void)h, (void)base, (void)size; }
static int tiff_error(TIFF *t, void *user, const char *module, const char *fmt, va_list ap) {
  (void)t, (void)module;
  TiffJob *j = user;
  if (!j->msg[0]) vsnprintf(j->msg, sizeof j->msg, fmt, ap); /* the first error is the cause */
  return 1;
}
static int tiff_warning(TIFF *t, void *user, const char *module, const char *fmt, va_list ap) {
  (void)t, (void)user, (void)module, (void)fmt, (void)ap;
  return 1;
}

static int tiff_decode(TIFF *t, TiffJob *j, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  uint32_t w = 0, h = 0;
  uint16_t spp = 1, photo = PHOTOMETRIC_RGB, nextra = 0, *extra = NULL;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w), TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, &nextra, &extra);
  if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo)) photo = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  /* libtiff's RGBA reader premultiplies an unassociated alpha: refused, not altered */
  if (nextra) return dlc_errf(e, "TIFF: images with extra samples (alpha) are not supported");
  bool gray = photo == PHOTOMETRIC_MINISBLACK || photo == PHOTOMETRIC_MINISWHITE;
  if (img_alloc(out, w, h, gray ? 1 : 3, max_pixels, "TIFF", e)) return -1;
  uint32_t *rgba = dlc_try_malloc((size_t)w * h * sizeof *rgba); /* [h, w] ABGR */
  if (!rgba) return img_free(out), dlc_errf(e, "TIFF: out of memory");
  char why[1024] = "";
  if (!TIFFRGBAImageOK(t, why) || !TIFFReadRGBAImageOriented(t, w, h, rgba, ORIENTATION_TOPLEFT, 1)) {
    free(rgba), img_free(out);
    return dlc_errf(e, "TIFF: %.200s", j->msg[0] ? j->msg : why[0] ? why : "the image cannot be read");
  }
  for (size_t i = 0; i < (size_t)w * h; i++) {
    uint8_t *o = out->px + i * (size_t)out->ch;
    o[0] = (uint8_t)TIFFGetR(rgba[i]);
    if (!gray) o[1] = (uint8_t)TIFFGetG(rgba[i]), o[2] = (uint8_t)TIFFGetB(rgba[i]);
  }
  free(rgba);
  return 0;
}

int img_tiff(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  TiffJob j = {.data = data, .n = n};
  TIFFOpenOptions *opt = TIFFOpenOptionsAlloc();
  if (!opt) return dlc_errf(e, "TIFF: out of memory");
  TIFFOpenOptionsSetErrorHandlerExtR(opt, tiff_error, &j);
  TIFFOpenOptionsSetWarningHandlerExtR(opt, tiff_warning, &j);
  TIFFOpenOptionsSetMaxSingleMemAlloc(opt, (tmsize_t)1 << 30);
  TIFF *t = TIFFClientOpenExt("image", "rm", (thandle_t)&j, tiff_read, tiff_write, tiff_seek, tiff_close, tiff_size,
                              tiff_map, tiff_unmap, opt);
  TIFFOpenOptionsFree(opt);
  if (!t) return dlc_errf(e, "TIFF: %s", j.msg[0] ? j.msg : "the header cannot be read");
  int rc = tiff_decode(t, &j, max_pixels, out, e);
  TIFFClose(t);
  return rc;
}
#else
int img_tiff(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  (void)data, (void)n, (void)max_pixels, (void)out;
  return MISSING("TIFF", "libtiff", "libtiff-dev");
}
#endif

/* ---- WebP (libwebp) ------------------------------------------------------------------ */
#ifdef DLC_HAVE_WEBP
#include <webp/decode.h>

static const char *webp_status(VP8StatusCode s) {
  switch (s) {
  case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
  case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
  case VP8_STATUS_BITSTREAM_ERROR: return "the bitstream is corrupt";
  case VP8_STATUS_UNSUPPORTED_FEATURE: return "a feature dlc's libwebp does not support";
  case VP8_STATUS_SUSPENDED: return "decoding suspended";
  case VP8_STATUS_USER_ABORT: return "decoding aborted";
  case VP8_STATUS_NOT_ENOUGH_DATA: return "the file is truncated";
  case VP8_STATUS_OK: break;
  }
  return "unknown error";
}

int img_webp(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  WebPDecoderConfig cfg;
  if (!WebPInitDecoderConfig(&cfg)) return dlc_errf(e, "WebP: the library's version does not match its header");
  VP8StatusCode s = WebPGetFeatures(data, n, &cfg.input);
  if (s != VP8_STATUS_OK) return dlc_errf(e, "WebP: %s", webp_status(s));
  if (cfg.input.has_animation) return dlc_errf(e, "WebP: animated images are not supported");
  if (img_alloc(out, cfg.input.width, cfg.input.height, 3, max_pixels, "WebP", e)) return -1;
  cfg.output.colorspace = MODE_RGB;
  cfg.output.is_external_memory = 1;
  cfg.output.u.RGBA.rgba = out->px;
  cfg.output.u.RGBA.stride = (int)(out->w * 3);
  cfg.output.u.RGBA.size = (size_t)(out->w * out->h * 3);
  s = WebPDecode(data, n, &cfg);
  WebPFreeDecBuffer(&cfg.output);
  if (s != VP8_STATUS_OK) return img_free(out), dlc_errf(e, "WebP: %s", webp_status(s));
  return 0;
}
#else
int img_webp(const uint8_t *data, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  (void)data, (void)n, (void)max_pixels, (void)out;
  return MISSING("WebP", "libwebp", "libwebp-dev");
}
#endif

/* ---- JPEG 2000 (OpenJPEG) ------------------------------------------------------------ */
#ifdef DLC_HAVE_JP2
#include <openjpeg.h>

typedef struct Jp2Job {
  const uint8_t *data;
  size_t n, pos;
  char msg[IMG_MSG];
} Jp2Job;

static OPJ_SIZE_T jp2_read(void *buf, OPJ_SIZE_T len, void *user) {
  Jp2Job *j = user;
  if (j->pos >= j->n) return (OPJ_SIZE_T)-1;
  size_t k = len < j->n - j->pos ? len : j->n - j->pos;
  memcpy(buf, j->data + j->pos, k);
  j->pos += k;
  return k;
}
static OPJ_OFF_T jp2_skip(OPJ_OFF_T off, void *user) {
  Jp2Job *j = user;
  if (off < 0 ? (size_t)-off > j->pos : (uint64_t)off > j->n - j->pos) return -1;
  j->pos = (size_t)((OPJ_OFF_T)j->pos + off);
  return off;
}
static OPJ_BOOL jp2_seek(OPJ_OFF_T off, void *user) {
  Jp2Job *j = user;
  if (off < 0 || (uint64_t)off > j->n) return OPJ_FALSE;
  j->pos = (size_t)off;
  return OPJ_TRUE;
}
static void jp2_error(const char *msg, void *user) {
  Jp2Job *j = user;
  if (!j->msg[0]) snprintf(j->msg, sizeof j->msg, "%s", msg);
  size_t k = strlen(j->msg);
  if (k && j->msg[k - 1] == '\n') j->msg[k - 1] = 0;
}
static void jp2_quiet(const char *msg, void *user) { (void)msg, (void)user; }

/* The components as 8-bit samples, as PIL shifts them (signed ones offset first). */
static int jp2_copy(const opj_image_t *im, ImgPixels *out, DlcErr *e) {
  int ch = out->ch;
  for (int c = 0; c < ch; c++) {
    const opj_image_comp_t *k = &im->comps[c];
    if (k->w != (OPJ_UINT32)out->w || k->h != (OPJ_UINT32)out->h || !k->data)
      return dlc_errf(e, "JPEG 2000: component %d is %u x %u, the image %lld x %lld", c, k->w, k->h, (long long)out->w,
                      (long long)out->h);
    int64_t off = k->sgnd ? (int64_t)1 << (k->prec - 1) : 0, top = ((int64_t)1 << k->prec) - 1;
    for (int64_t i = 0; i < out->w * out->h; i++) {
      int64_t v = k->data[i] + off;
      v = v < 0 ? 0 : v > top ? top : v;
      out->px[i * ch + c] = (uint8_t)(k->prec >= 8 ? v >> (k->prec - 8) : v << (8 - k->prec));
    }
  }
  return 0;
}

static int jp2_check(const opj_image_t *im, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  if (im->numcomps < 1 || im->numcomps > 4) return dlc_errf(e, "JPEG 2000: %u components are not supported", im->numcomps);
  if (im->color_space == OPJ_CLRSPC_SYCC || im->color_space == OPJ_CLRSPC_EYCC || im->color_space == OPJ_CLRSPC_CMYK)
    return dlc_errf(e, "JPEG 2000: the color space (%d) is not supported (only RGB and gray)", (int)im->color_space);
  int ch = im->numcomps >= 3 ? 3 : 1; /* a fourth or second component: alpha, dropped */
  for (int c = 0; c < ch; c++) {
    const opj_image_comp_t *k = &im->comps[c];
    if (k->dx != 1 || k->dy != 1) return dlc_errf(e, "JPEG 2000: subsampled components are not supported");
    if (k->prec < 1 || k->prec > 16) return dlc_errf(e, "JPEG 2000: %u-bit components are not supported", k->prec);
  }
  if (im->x1 < im->x0 || im->y1 < im->y0) return dlc_errf(e, "JPEG 2000: the image area is empty");
  return img_alloc(out, (int64_t)im->x1 - im->x0, (int64_t)im->y1 - im->y0, ch, max_pixels, "JPEG 2000", e);
}

int img_jp2(const uint8_t *data, size_t n, bool codestream, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  Jp2Job j = {.data = data, .n = n};
  opj_image_t *im = NULL;
  opj_codec_t *codec = opj_create_decompress(codestream ? OPJ_CODEC_J2K : OPJ_CODEC_JP2);
  opj_stream_t *s = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
  if (!codec || !s) {
    if (codec) opj_destroy_codec(codec);
    if (s) opj_stream_destroy(s);
    return dlc_errf(e, "JPEG 2000: out of memory");
  }
  opj_stream_set_user_data(s, &j, NULL);
  opj_stream_set_user_data_length(s, n);
  opj_stream_set_read_function(s, jp2_read);
  opj_stream_set_skip_function(s, jp2_skip);
  opj_stream_set_seek_function(s, jp2_seek);
  opj_set_error_handler(codec, jp2_error, &j);
  opj_set_warning_handler(codec, jp2_quiet, &j);
  opj_set_info_handler(codec, jp2_quiet, &j);
  opj_dparameters_t par;
  opj_set_default_decoder_parameters(&par);
  int rc = -1;
  if (!opj_setup_decoder(codec, &par) || !opj_read_header(s, codec, &im)) {
    dlc_errf(e, "JPEG 2000: %s", j.msg[0] ? j.msg : "the header cannot be read");
  } else if (jp2_check(im, max_pixels, out, e) == 0) {
    if (!opj_decode(codec, s, im) || !opj_end_decompress(codec, s))
      dlc_errf(e, "JPEG 2000: %s", j.msg[0] ? j.msg : "the image cannot be decoded");
    else
      rc = jp2_copy(im, out, e);
    if (rc) img_free(out);
  }
  if (im) opj_image_destroy(im);
  opj_stream_destroy(s);
  opj_destroy_codec(codec);
  return rc;
}
#else
int img_jp2(const uint8_t *data, size_t n, bool codestream, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  (void)data, (void)n, (void)codestream, (void)max_pixels, (void)out;
  return MISSING("JPEG 2000", "OpenJPEG", "libopenjp2-7-dev");
}
#endif
