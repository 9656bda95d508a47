/* image_decode.c — which format an encoded image is (by its first bytes), the two simple
 * formats parsed here (BMP, PNM), and the conversion to RGB, BGR or grayscale.
 *
 * Both parsers read the size from the header, bound it (img_alloc) and check that the
 * pixel data is all there before reading any of it; every offset is compared with the
 * length left, never added to a pointer first.  What they decode follows PIL, ONNX's
 * reference: BMP 1-, 4-, 8-bit palettes, 16-bit (5-5-5 or bit fields, each field
 * scaled by v * 255 / max, truncated), 24- and 32-bit (alpha dropped), bottom-up or
 * top-down; no RLE.  PNM P1-P6, maxval up to 65535, samples scaled as round(v / maxval
 * * 255) with ties to even (Python's round), bitmaps 1 = black. */
#include "image_decode.h"

#include <math.h>
#include <string.h>

void img_free(ImgPixels *img) {
  free(img->px);
  memset(img, 0, sizeof *img);
}

int img_bound(int64_t w, int64_t h, int64_t max_pixels, const char *fmt, DlcErr *e) {
  if (w < 1 || h < 1) return dlc_errf(e, "%s: the image is %lld x %lld pixels (it has none)", fmt, (long long)w, (long long)h);
  if (w > max_pixels || h > max_pixels / w)
    return dlc_errf(e, "%s: the image is %lld x %lld pixels, over the limit of %lld pixels (2^26, within "
                    "--max-elements and --max-weight-bytes)", fmt, (long long)w,
                    (long long)h, (long long)max_pixels);
  return 0;
}

int img_alloc(ImgPixels *out, int64_t w, int64_t h, int ch, int64_t max_pixels, const char *fmt, DlcErr *e) {
  if (img_bound(w, h, max_pixels, fmt, e)) return -1;
  out->px = dlc_try_malloc((size_t)(w * h * ch));
  if (!out->px) return dlc_errf(e, "%s: out of memory for %lld x %lld pixels", fmt, (long long)w, (long long)h);
  out->w = w, out->h = h, out->ch = ch;
  return 0;
}

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

/* ---- BMP ----------------------------------------------------------------------------- */

/* One channel of a bit-field pixel: the field's value scaled to 0..255 as PIL does. */
static uint8_t bmp_field(uint32_t px, uint32_t mask) {
  if (!mask) return 0;
  int shift = 0, bits = 0;
  while (!(mask >> shift & 1)) shift++;
  while (shift + bits < 32 && (mask >> (shift + bits) & 1)) bits++;
  uint64_t v = (px & mask) >> shift, max = ((uint64_t)1 << bits) - 1;
  return (uint8_t)(bits == 8 ? v : v * 255 / max);
}

static bool bmp_mask_ok(uint32_t m) {
  if (!m) return true;
  while (!(m & 1)) m >>= 1;
  return (m & (m + 1)) == 0; /* one run of ones */
}

typedef struct BmpInfo {
  int64_t w, h;
  bool top_down;
  unsigned bpp;
  uint32_t mask[3];            /* R, G, B for 16 and 32 bits */
  const uint8_t *pal;          /* B, G, R(, 0) entries */
  unsigned npal, pal_size;     /* entries, bytes per entry */
} BmpInfo;

static int bmp_header(const uint8_t *d, size_t n, BmpInfo *b, DlcErr *e) {
  if (n < 18) return dlc_errf(e, "BMP: the file is truncated");
  uint32_t hs = le32(d + 14), comp = 0, ncolors = 0, planes;
  if (hs != 12 && hs != 40 && hs != 52 && hs != 56 && hs != 108 && hs != 124)
    return dlc_errf(e, "BMP: a header of %u bytes is not one dlc reads", hs);
  if (n < 14 + (size_t)hs) return dlc_errf(e, "BMP: the file is truncated");
  if (hs == 12) {
    b->w = le16(d + 18), b->h = le16(d + 20), planes = le16(d + 22), b->bpp = le16(d + 24);
  } else {
    b->w = (int32_t)le32(d + 18), b->h = (int32_t)le32(d + 22), planes = le16(d + 26), b->bpp = le16(d + 28);
    comp = le32(d + 30), ncolors = le32(d + 46);
  }
  if (planes != 1) return dlc_errf(e, "BMP: %u planes (must be 1)", planes);
  b->top_down = b->h < 0;
  if (b->h < 0) b->h = -b->h;
  size_t after = 14 + (size_t)hs; /* where the masks (of a 40-byte header) or the palette start */
  if (comp == 1 || comp == 2) return dlc_errf(e, "BMP: RLE compression is not supported");
  if (comp == 3 || comp == 6) {
    if (b->bpp != 16 && b->bpp != 32) return dlc_errf(e, "BMP: bit fields with %u bits per pixel", b->bpp);
    const uint8_t *m = d + 54;
    if (hs == 40) {
      after += comp == 6 ? 16 : 12;
      if (n < after) return dlc_errf(e, "BMP: the file is truncated");
    }
    for (int i = 0; i < 3; i++) {
      b->mask[i] = le32(m + 4 * i);
      if (!bmp_mask_ok(b->mask[i])) return dlc_errf(e, "BMP: bit field mask 0x%08x is not one run of bits", b->mask[i]);
    }
  } else if (comp != 0) {
    return dlc_errf(e, "BMP: compression %u is not supported", comp);
  } else if (b->bpp == 16) {
    b->mask[0] = 0x7c00, b->mask[1] = 0x3e0, b->mask[2] = 0x1f;
  } else if (b->bpp == 32) {
    b->mask[0] = 0xff0000, b->mask[1] = 0xff00, b->mask[2] = 0xff;
  }
  if (b->bpp != 1 && b->bpp != 4 && b->bpp != 8 && b->bpp != 16 && b->bpp != 24 && b->bpp != 32)
    return dlc_errf(e, "BMP: %u bits per pixel is not supported", b->bpp);
  if (b->bpp <= 8) {
    unsigned most = 1u << b->bpp;
    b->npal = ncolors ? ncolors : most;
    if (ncolors > most) return dlc_errf(e, "BMP: %u palette entries for %u bits per pixel", ncolors, b->bpp);
    b->pal_size = hs == 12 ? 3 : 4;
    if (after > n || (n - after) / b->pal_size < b->npal) return dlc_errf(e, "BMP: the palette is truncated");
    b->pal = d + after;
  }
  return 0;
}

static int img_bmp(const uint8_t *d, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  BmpInfo b = {0};
  if (bmp_header(d, n, &b, e) || img_bound(b.w, b.h, max_pixels, "BMP", e)) return -1;
  uint32_t off = le32(d + 10);
  int64_t stride = (b.w * b.bpp + 31) / 32 * 4; /* w <= max_pixels: no overflow */
  if (off > n || (int64_t)(n - off) / stride < b.h)
    return dlc_errf(e, "BMP: the pixel data is truncated (%lld rows of %lld bytes from offset %u, in %zu bytes)",
                    (long long)b.h, (long long)stride, off, n);
  if (img_alloc(out, b.w, b.h, 3, max_pixels, "BMP", e)) return -1;
  for (int64_t y = 0; y < b.h; y++) {
    const uint8_t *row = d + off + (b.top_down ? y : b.h - 1 - y) * stride;
    uint8_t *o = out->px + y * b.w * 3;
    for (int64_t x = 0; x < b.w; x++, o += 3) {
      if (b.bpp <= 8) {
        int64_t bit = x * b.bpp;
        unsigned i = (unsigned)(row[bit / 8] >> (8 - b.bpp - bit % 8)) & ((1u << b.bpp) - 1);
        if (i >= b.npal) {
          img_free(out);
          return dlc_errf(e, "BMP: pixel (%lld, %lld) is color %u of a palette of %u", (long long)x, (long long)y, i, b.npal);
        }
        const uint8_t *p = b.pal + (size_t)i * b.pal_size;
        o[0] = p[2], o[1] = p[1], o[2] = p[0];
      } else if (b.bpp == 24) {
        o[0] = row[3 * x + 2], o[1] = row[3 * x + 1], o[2] = row[3 * x];
      } else {
        uint32_t px = b.bpp == 16 ? le16(row + 2 * x) : le32(row + 4 * x);
        for (int c = 0; c < 3; c++) o[c] = bmp_field(px, b.mask[c]);
      }
    }
  }
  return 0;
}

/* ---- PNM ----------------------------------------------------------------------------- */

static bool pnm_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Skips white space and comments ('#' to the end of the line). */
static void pnm_skip(const uint8_t *d, size_t n, size_t *pos) {
  while (*pos < n) {
    if (pnm_space(d[*pos])) {
      (*pos)++;
    } else if (d[*pos] == '#') {
      while (*pos < n && d[*pos] != '\n' && d[*pos] != '\r') (*pos)++;
    } else {
      return;
    }
  }
}

/* A decimal number of at most 10 digits; -1 if there is none. */
static int64_t pnm_number(const uint8_t *d, size_t n, size_t *pos) {
  pnm_skip(d, n, pos);
  int64_t v = 0;
  int k = 0;
  for (; *pos < n && d[*pos] >= '0' && d[*pos] <= '9'; (*pos)++, k++) {
    if (k == 10) return -1;
    v = v * 10 + (d[*pos] - '0');
  }
  return k ? v : -1;
}

static uint8_t pnm_scale(int64_t v, int64_t maxval) {
  if (maxval == 255) return (uint8_t)v;
  double s = rint((double)v / (double)maxval * 255.0); /* Python's round: ties to even */
  return (uint8_t)(s > 255 ? 255 : s);
}

static int img_pnm(const uint8_t *d, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  int kind = d[1] - '0';
  bool plain = kind <= 3, bitmap = kind == 1 || kind == 4;
  int ch = kind == 3 || kind == 6 ? 3 : 1;
  size_t pos = 2;
  int64_t w = pnm_number(d, n, &pos), h = pnm_number(d, n, &pos), maxval = bitmap ? 1 : pnm_number(d, n, &pos);
  if (w < 0 || h < 0 || maxval < 0) return dlc_errf(e, "PNM: the header is malformed or truncated");
  if (maxval < 1 || maxval > 65535) return dlc_errf(e, "PNM: maxval %lld is not in 1..65535", (long long)maxval);
  if (img_bound(w, h, max_pixels, "PNM", e)) return -1;
  int64_t count = w * h * ch, bytes = count * 2 - 1; /* plain: a digit and a space per sample */
  if (!plain) {
    if (pos >= n || !pnm_space(d[pos])) return dlc_errf(e, "PNM: no white space after the header");
    pos++;
    bytes = kind == 4 ? (w + 7) / 8 * h : count * (maxval > 255 ? 2 : 1);
  } else if (kind == 1) {
    bytes = count; /* P1's digits need no space between them */
  }
  if ((int64_t)(n - pos) < bytes)
    return dlc_errf(e, "PNM: the pixel data is truncated (%lld bytes, %lld needed)", (long long)(n - pos), (long long)bytes);
  if (img_alloc(out, w, h, ch, max_pixels, "PNM", e)) return -1;
  const uint8_t *r = d + pos;
  for (int64_t i = 0; i < count; i++) {
    int64_t v;
    if (kind == 4) {
      int64_t y = i / w, x = i % w;
      v = !(r[y * ((w + 7) / 8) + x / 8] >> (7 - x % 8) & 1);
    } else if (!plain) {
      v = maxval > 255 ? (int64_t)(r[2 * i] << 8 | r[2 * i + 1]) : r[i];
    } else if (kind == 1) {
      pnm_skip(d, n, &pos);
      if (pos >= n || (d[pos] != '0' && d[pos] != '1')) break;
      v = d[pos++] == '0';
    } else {
      v = pnm_number(d, n, &pos);
      if (v < 0) break;
      if (v > maxval) {
        img_free(out);
        return dlc_errf(e, "PNM: sample %lld is %lld, over maxval %lld", (long long)i, (long long)v, (long long)maxval);
      }
    }
    out->px[i] = pnm_scale(v, maxval);
    if (plain && i == count - 1) return 0;
  }
  if (plain) {
    img_free(out);
    return dlc_errf(e, "PNM: the pixel data is truncated or malformed (%lld samples needed)", (long long)count);
  }
  return 0;
}

/* ---- dispatch and conversion --------------------------------------------------------- */

static bool starts(const uint8_t *d, size_t n, const char *magic, size_t k) { return n >= k && !memcmp(d, magic, k); }

/* The libraries' messages may hold line breaks (libtiff's do): one line, as the CLI's
 * errors are, each run of control characters a space. */
static int one_line(DlcErr *e) {
  char *w = e->msg;
  for (const char *r = e->msg; *r; r++) {
    bool ctl = (unsigned char)*r < 0x20 || *r == 0x7f;
    if (!ctl) *w++ = *r;
    else if (w > e->msg && w[-1] != ' ') *w++ = ' ';
  }
  while (w > e->msg && w[-1] == ' ') w--;
  *w = 0;
  return -1;
}

static int decode(const uint8_t *d, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e);

int img_decode(const uint8_t *d, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  memset(out, 0, sizeof *out);
  return decode(d, n, max_pixels, out, e) ? one_line(e) : 0;
}

static int decode(const uint8_t *d, size_t n, int64_t max_pixels, ImgPixels *out, DlcErr *e) {
  if (starts(d, n, "\xff\xd8\xff", 3)) return img_jpeg(d, n, max_pixels, out, e);
  if (starts(d, n, "\x89PNG\r\n\x1a\n", 8)) return img_png(d, n, max_pixels, out, e);
  if (starts(d, n, "BM", 2)) return img_bmp(d, n, max_pixels, out, e);
  if (starts(d, n, "II*\0", 4) || starts(d, n, "MM\0*", 4) || starts(d, n, "II+\0", 4) || starts(d, n, "MM\0+", 4))
    return img_tiff(d, n, max_pixels, out, e);
  if (starts(d, n, "RIFF", 4) && n >= 12 && !memcmp(d + 8, "WEBP", 4)) return img_webp(d, n, max_pixels, out, e);
  if (starts(d, n, "\0\0\0\x0cjP  \r\n\x87\n", 12)) return img_jp2(d, n, false, max_pixels, out, e);
  if (starts(d, n, "\xff\x4f\xff\x51", 4)) return img_jp2(d, n, true, max_pixels, out, e);
  if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' && pnm_space(d[2])) return img_pnm(d, n, max_pixels, out, e);
  return dlc_errf(e, "the data (%zu bytes) is not an image in a format dlc decodes (BMP, JPEG, JPEG 2000, PNG, PNM, "
                  "TIFF, WebP)", n);
}

int img_convert(ImgPixels *img, ImgFormat f, DlcErr *e) {
  int64_t np = img->w * img->h;
  if (f == IMG_GRAY) {
    if (img->ch == 3)
      for (int64_t i = 0; i < np; i++) { /* PIL's L24: exact integer form of 0.299 R + 0.587 G + 0.114 B */
        const uint8_t *p = img->px + 3 * i;
        img->px[i] = (uint8_t)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 0x8000u) >> 16);
      }
    img->ch = 1;
    return 0;
  }
  if (img->ch == 1) {
    uint8_t *rgb = dlc_try_malloc((size_t)(np * 3));
    if (!rgb) return dlc_errf(e, "out of memory for %lld pixels", (long long)np);
    for (int64_t i = 0; i < np; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = img->px[i];
    free(img->px);
    img->px = rgb, img->ch = 3;
  }
  if (f == IMG_BGR)
    for (int64_t i = 0; i < np; i++) {
      uint8_t t = img->px[3 * i];
      img->px[3 * i] = img->px[3 * i + 2], img->px[3 * i + 2] = t;
    }
  return 0;
}
