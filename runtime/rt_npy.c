/* rt_npy.c — NumPy's .npy files (numpy/lib/format.py, versions 1.0, 2.0 and 3.0).
 *
 * A file is the magic "\x93NUMPY", a version, the header length, a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces to a
 * 64-byte boundary and ended by '\n', then the raw elements.  Only little-endian,
 * C-order data of the runtime's dtypes is accepted; anything else is an error that
 * names the file, never a guess.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlcrt.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER (1 << 20)

/* descr strings, indexed by RtDType; '<' for multi-byte, '|' for single bytes */
static const char *const npy_descr[RT_DTYPE_COUNT] = {
    [RT_F32] = "<f4", [RT_F64] = "<f8", [RT_I8] = "|i1", [RT_I16] = "<i2",
    [RT_I32] = "<i4", [RT_I64] = "<i8", [RT_U8] = "|u1", [RT_BOOL] = "|b1",
    [RT_U16] = "<u2", [RT_U32] = "<u4", [RT_U64] = "<u8", [RT_F16] = "<f2",
    [RT_BF16] = "<V2", /* numpy has no bfloat16: ml_dtypes saves one as 2 raw bytes */
    [RT_RAW8] = "|V1", [RT_F8E4M3FN] = "|V1", [RT_F8E4M3FNUZ] = "|V1", [RT_F8E5M2] = "|V1",
    [RT_F8E5M2FNUZ] = "|V1", [RT_F8E8M0] = "|V1", [RT_F4E2M1] = "|V1", [RT_I4] = "|V1", [RT_U4] = "|V1",
    [RT_I2] = "|V1", [RT_U2] = "|V1", [RT_STR] = "<U", /* and the longest string's code points */
};

/* ---- reading the header dict ---- */

typedef struct NpyHeader {
  const char *p, *end;
  char descr[16];
  int fortran;  /* -1 until seen */
  int rank;     /* -1 until seen */
  int64_t dims[RT_MAX_RANK];
} NpyHeader;

static void skip_space(NpyHeader *h) {
  while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n')) h->p++;
}

static bool eat(NpyHeader *h, char c) {
  skip_space(h);
  if (h->p < h->end && *h->p == c) return h->p++, true;
  return false;
}

static bool eat_word(NpyHeader *h, const char *w) {
  size_t n = strlen(w);
  skip_space(h);
  if ((size_t)(h->end - h->p) >= n && !memcmp(h->p, w, n)) return h->p += n, true;
  return false;
}

/* A quoted Python string into buf (no escapes: npy keys and descrs never need them). */
static bool read_str(NpyHeader *h, char *buf, size_t n) {
  skip_space(h);
  if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return false;
  char q = *h->p++;
  size_t k = 0;
  while (h->p < h->end && *h->p != q) {
    if (k + 1 >= n) return false;
    buf[k++] = *h->p++;
  }
  buf[k] = 0;
  return h->p < h->end && *h->p++ == q;
}

static bool read_dim(NpyHeader *h, int64_t *v) {
  skip_space(h);
  if (h->p >= h->end || *h->p < '0' || *h->p > '9') return false;
  int64_t x = 0;
  while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
    if (x > (INT64_MAX - 9) / 10) return false;
    x = x * 10 + (*h->p++ - '0');
  }
  if (h->p < h->end && *h->p == 'L') h->p++; /* Python 2 longs */
  *v = x;
  return true;
}

/* (), (5,), (2, 3) */
static const char *read_shape(NpyHeader *h) {
  if (!eat(h, '(')) return "shape is not a tuple";
  h->rank = 0;
  while (!eat(h, ')')) {
    if (h->rank == RT_MAX_RANK) return "more than 8 dimensions";
    if (!read_dim(h, &h->dims[h->rank++])) return "shape holds something other than a size";
    if (!eat(h, ',') && !(skip_space(h), h->p < h->end && *h->p == ')'))
      return "shape tuple is malformed";
  }
  return NULL;
}

static const char *read_entry(NpyHeader *h) {
  char key[32];
  if (!read_str(h, key, sizeof key)) return "expected a quoted key";
  if (!eat(h, ':')) return "expected ':' after a key";
  if (!strcmp(key, "descr"))
    return read_str(h, h->descr, sizeof h->descr) ? NULL : "descr is not a simple type string";
  if (!strcmp(key, "fortran_order")) {
    if (eat_word(h, "True")) h->fortran = 1;
    else if (eat_word(h, "False")) h->fortran = 0;
    else return "fortran_order is not True or False";
    return NULL;
  }
  if (!strcmp(key, "shape")) return read_shape(h);
  return "unknown key in header";
}

static const char *parse_dict(NpyHeader *h) {
  h->fortran = h->rank = -1;
  if (!eat(h, '{')) return "header is not a dict";
  while (!eat(h, '}')) {
    const char *why = read_entry(h);
    if (why) return why;
    if (!eat(h, ',') && !(skip_space(h), h->p < h->end && *h->p == '}'))
      return "expected ',' or '}' in header";
  }
  if (!h->descr[0] || h->fortran < 0 || h->rank < 0)
    return "header lacks descr, fortran_order or shape";
  return NULL;
}

/* ---- mapping descr to a dtype ---- */

/* '<U' followed by the code points of one element: STR, *width set. */
static int str_descr(const char *d, int64_t *width) {
  if ((d[0] != '<' && d[0] != '|' && d[0] != '=') || d[1] != 'U' || !d[2]) return 0;
  int64_t w = 0;
  for (const char *p = d + 2; *p; p++) {
    if (*p < '0' || *p > '9' || w > (1 << 24)) return 0;
    w = w * 10 + (*p - '0');
  }
  *width = w;
  return 1;
}

static int descr_dtype(const char *path, const char *d, RtDType *t, int64_t *width, DlcErr *e) {
  if (str_descr(d, width)) {
    *t = RT_STR;
    return 0;
  }
  if (!strcmp(d, "|O"))
    return rt_fail(e, RT_E_DTYPE, path, "an object array, which .npy stores pickled and dlc never unpickles: "
                                        "save strings as a '<U' array (np.save(f, a.astype(str)))");
  if (strlen(d) != 3) return rt_fail(e, RT_E_DTYPE, path, "'%s'", d);
  char order = d[0];
  int single = d[2] == '1';
  if (order == '>' && !single)
    return rt_fail(e, RT_E_ORDER, path, "big-endian data ('%s'); save it little-endian", d);
  if (order != '<' && order != '|' && order != '=' && !(order == '>' && single))
    return rt_fail(e, RT_E_DTYPE, path, "'%s'", d);
  if (!strcmp(d + 1, "V1") || !strcmp(d + 1, "f1")) { /* ml_dtypes' one-byte types; numpy saves float8_e5m2 as f1 */
    *t = RT_RAW8;
    return 0;
  }
  for (int i = 0; i < RT_DTYPE_COUNT; i++)
    if (!strcmp(npy_descr[i] + 1, d + 1)) {
      *t = (RtDType)i;
      return 0;
    }
  return rt_fail(e, RT_E_DTYPE, path, "'%s' (dlc reads f4 f8 f2 i1 i2 i4 i8 u1 u2 u4 u8 b1, V2 as bf16, V1 as a one-byte type of ml_dtypes)", d);
}

/* ---- reading ---- */

static uint32_t le_u32(const unsigned char *b, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

/* Reads the preamble and header text; *hdr is malloc'd. */
static int read_header_text(FILE *f, const char *path, char **hdr, uint32_t *len, DlcErr *e) {
  unsigned char pre[12];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN))
    return rt_fail(e, RT_E_FORMAT, path, "not a .npy file (no \\x93NUMPY magic)");
  int major = pre[6], lenbytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3)
    return rt_fail(e, RT_E_FORMAT, path, "unknown .npy version %d.%d", major, pre[7]);
  if (lenbytes == 4 && fread(pre + 10, 1, 2, f) != 2)
    return rt_fail(e, RT_E_TRUNC, path, "header length is cut short");
  *len = le_u32(pre + 8, lenbytes);
  if (*len > NPY_MAX_HEADER) return rt_fail(e, RT_E_FORMAT, path, "header is too long");
  *hdr = malloc(*len + 1);
  if (!*hdr) return rt_fail(e, RT_E_NOMEM, path, NULL);
  if (fread(*hdr, 1, *len, f) != *len) {
    free(*hdr);
    return rt_fail(e, RT_E_TRUNC, path, "header is cut short");
  }
  (*hdr)[*len] = 0;
  return 0;
}

static int read_header(FILE *f, const char *path, RtTensor *t, int64_t *width, DlcErr *e) {
  char *text = NULL;
  uint32_t len = 0;
  if (read_header_text(f, path, &text, &len, e)) return -1;
  NpyHeader h = {.p = text, .end = text + len};
  const char *why = parse_dict(&h);
  char descr[sizeof h.descr];
  memcpy(descr, h.descr, sizeof descr);
  free(text);
  if (why) return rt_fail(e, RT_E_FORMAT, path, "%s", why);
  if (h.fortran)
    return rt_fail(e, RT_E_ORDER, path, "Fortran-order array; save it in C order");
  if (descr_dtype(path, descr, &t->dtype, width, e)) return -1;
  t->rank = h.rank;
  memcpy(t->dims, h.dims, sizeof t->dims);
  return 0;
}

/* UTF-8 of code point c into p (room for 4); its length, 0 for no character. */
static int utf8_put(uint32_t c, unsigned char *p) {
  if (c == 0 || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) return 0;
  if (c < 0x80) return p[0] = (unsigned char)c, 1;
  if (c < 0x800) return p[0] = (unsigned char)(0xC0 | c >> 6), p[1] = (unsigned char)(0x80 | (c & 0x3F)), 2;
  if (c < 0x10000)
    return p[0] = (unsigned char)(0xE0 | c >> 12), p[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F)),
           p[2] = (unsigned char)(0x80 | (c & 0x3F)), 3;
  p[0] = (unsigned char)(0xF0 | c >> 18), p[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
  p[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F)), p[3] = (unsigned char)(0x80 | (c & 0x3F));
  return 4;
}

/* numel strings of `width` UCS-4 code points each (NUL-padded) into one block: the
 * pointers, then the UTF-8 bytes. */
static int read_strings(FILE *f, const char *path, RtTensor *t, int64_t numel, int64_t width, DlcErr *e) {
  if (numel && width > (INT64_MAX / 32) / numel) return rt_fail(e, RT_E_FORMAT, path, "shape is too large");
  size_t ptrs = (size_t)numel * sizeof(char *), text = (size_t)(numel * (4 * width + 1));
  unsigned char *block = dlc_try_malloc(ptrs + text + 1), *cp = dlc_try_malloc((size_t)(4 * width + 1));
  if (!block || !cp) return free(block), free(cp), rt_fail(e, RT_E_NOMEM, path, NULL);
  t->data = block;
  unsigned char *out = block + ptrs;
  for (int64_t i = 0; i < numel; i++) {
    if (fread(cp, 4, (size_t)width, f) != (size_t)width) {
      free(cp), rt_tensor_free(t);
      return rt_fail(e, RT_E_TRUNC, path, "string %lld is cut short", (long long)i);
    }
    ((char **)block)[i] = (char *)out;
    int64_t len = width;
    while (len > 0 && !(cp[4 * (len - 1)] | cp[4 * (len - 1) + 1] | cp[4 * (len - 1) + 2] | cp[4 * (len - 1) + 3])) len--;
    for (int64_t k = 0; k < len; k++) {
      const unsigned char *b = cp + 4 * k;
      uint32_t c = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
      int n = utf8_put(c, out);
      if (!n) {
        free(cp), rt_tensor_free(t);
        return rt_fail(e, RT_E_FORMAT, path, "string %lld holds U+%04X, which is no character of UTF-8 text",
                       (long long)i, (unsigned)c);
      }
      out += n;
    }
    *out++ = 0;
  }
  free(cp);
  return 0;
}

static int read_data(FILE *f, const char *path, RtTensor *t, int64_t width, DlcErr *e) {
  int64_t numel = 1;
  for (int i = 0; i < t->rank; i++) {
    if (t->dims[i] && numel > INT64_MAX / 16 / t->dims[i])
      return rt_fail(e, RT_E_FORMAT, path, "shape is too large");
    numel *= t->dims[i];
  }
  if (t->dtype == RT_STR) return read_strings(f, path, t, numel, width, e);
  size_t bytes = (size_t)(numel * rt_dtype_size(t->dtype));
  t->data = dlc_try_malloc(bytes ? bytes : 1);
  if (!t->data) return rt_fail(e, RT_E_NOMEM, path, NULL);
  size_t got = fread(t->data, 1, bytes, f);
  if (got != bytes) {
    rt_tensor_free(t);
    return rt_fail(e, RT_E_TRUNC, path, "expected %zu data bytes, found %zu", bytes, got);
  }
  if (t->dtype == RT_BOOL) /* numpy stores 0/1, but normalise anything else */
    for (size_t i = 0; i < bytes; i++) ((unsigned char *)t->data)[i] = ((unsigned char *)t->data)[i] != 0;
  return 0;
}

int rt_npy_read(const char *path, RtTensor *t, DlcErr *e) {
  memset(t, 0, sizeof *t);
  const char *why;
  FILE *f = rt_fopen_regular(path, &why);
  if (!f) return rt_fail(e, RT_E_OPEN, path, "%s", why);
  int64_t width = 0;
  int r = read_header(f, path, t, &width, e);
  if (!r) r = read_data(f, path, t, width, e);
  fclose(f);
  return r;
}

/* ---- writing ---- */

/* The dict, padded so that the data starts on a 64-byte boundary.  n is large enough
 * for 8 dimensions of 20 digits and the padding (asserted). */
static int format_header(const RtTensor *t, int64_t width, char *buf, size_t n, int *major) {
  char descr[32];
  if (t->dtype == RT_STR) snprintf(descr, sizeof descr, "<U%lld", (long long)width);
  else snprintf(descr, sizeof descr, "%s", npy_descr[t->dtype]);
  int k = snprintf(buf, n, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < t->rank; i++)
    k += snprintf(buf + k, n - (size_t)k, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
  k += snprintf(buf + k, n - (size_t)k, "%s), }", t->rank == 1 ? "," : "");
  *major = k + 1 + 10 > 65535 ? 2 : 1;
  int pre = *major == 1 ? 10 : 12;
  DLC_ASSERT((size_t)k + 64 < n);
  while ((pre + k + 1) % 64 && (size_t)k + 1 < n) buf[k++] = ' ';
  buf[k++] = '\n';
  return k;
}

/* The next code point of UTF-8 text at *s (advanced), or -1 for bytes that are not UTF-8. */
static int64_t utf8_next(const unsigned char **s) {
  const unsigned char *p = *s;
  int n = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2 : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
        : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
  if (!n) return -1;
  uint32_t c = n == 1 ? p[0] : (uint32_t)(p[0] & (0x7F >> n));
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return -1;
    c = c << 6 | (p[i] & 0x3F);
  }
  static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < least[n] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) return -1;
  *s = p + n;
  return c;
}

/* The most code points of any string, or -1 (*bad: which) when one is not UTF-8. */
static int64_t str_width(const RtTensor *t, int64_t *bad) {
  int64_t most = 0, numel = rt_tensor_numel(t);
  for (int64_t i = 0; i < numel; i++) {
    const unsigned char *s = ((const unsigned char *const *)t->data)[i];
    int64_t n = 0;
    while (*s) {
      if (utf8_next(&s) < 0) return *bad = i, -1;
      n++;
    }
    if (n > most) most = n;
  }
  return most;
}

static int write_strings(FILE *f, const RtTensor *t, int64_t width) {
  int64_t numel = rt_tensor_numel(t);
  for (int64_t i = 0; i < numel; i++) {
    const unsigned char *s = ((const unsigned char *const *)t->data)[i];
    for (int64_t k = 0; k < width; k++) {
      uint32_t c = *s ? (uint32_t)utf8_next(&s) : 0;
      unsigned char b[4] = {(unsigned char)c, (unsigned char)(c >> 8), (unsigned char)(c >> 16), (unsigned char)(c >> 24)};
      if (fwrite(b, 1, 4, f) != 4) return -1;
    }
  }
  return 0;
}

static int write_all(FILE *f, const RtTensor *t, int64_t width) {
  char hdr[512];
  int major, len = format_header(t, width, hdr, sizeof hdr, &major);
  unsigned char pre[12];
  memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
  pre[6] = (unsigned char)major, pre[7] = 0;
  int lenbytes = major == 1 ? 2 : 4;
  for (int i = 0; i < lenbytes; i++) pre[8 + i] = (unsigned char)(len >> (8 * i));
  size_t bytes = (size_t)rt_tensor_bytes(t);
  if (fwrite(pre, 1, (size_t)(8 + lenbytes), f) != (size_t)(8 + lenbytes)) return -1;
  if (fwrite(hdr, 1, (size_t)len, f) != (size_t)len) return -1;
  if (t->dtype == RT_STR) return write_strings(f, t, width);
  return bytes && fwrite(t->data, 1, bytes, f) != bytes ? -1 : 0;
}

int rt_npy_write(const char *path, const RtTensor *t, DlcErr *e) {
  DLC_ASSERT(t->rank >= 0 && t->rank <= RT_MAX_RANK);
  int64_t width = 0, bad = 0;
  if (t->dtype == RT_STR && (width = str_width(t, &bad)) < 0)
    return rt_fail(e, RT_E_FORMAT, path, "string %lld is not UTF-8 text", (long long)bad);
  if (t->dtype == RT_STR && width == 0) width = 1; /* as numpy writes strings that are all empty */
  RtWFile w;
  if (rt_wfile_open(&w, path, e)) return -1;
  if (write_all(w.f, t, width)) {
    rt_wfile_discard(&w);
    return rt_fail(e, RT_E_IO, path, "%s", strerror(errno));
  }
  return rt_wfile_commit(&w, e);
}
