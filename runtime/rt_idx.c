/* rt_idx.c — IDX files (LeCun's MNIST format, also Fashion-MNIST's).
 *
 * Big-endian: a magic of two zero bytes, the element type (0x08: unsigned byte) and
 * the number of dimensions, then one 32-bit size per dimension, then the elements.
 * The datasets ship gzip-compressed (*.gz); with zlib, gzread reads both kinds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dlcrt.h"

#ifdef DLC_HAVE_ZLIB
#include <zlib.h>
#endif

#define IDX_UBYTE 0x08

/* One way to read bytes, plain or through zlib. */
typedef struct IdxFile {
#ifdef DLC_HAVE_ZLIB
  gzFile gz;
#else
  FILE *f;
#endif
} IdxFile;

bool rt_idx_has_gzip(void) {
#ifdef DLC_HAVE_ZLIB
  return true;
#else
  return false;
#endif
}

#ifdef DLC_HAVE_ZLIB
static int idx_open(IdxFile *x, const char *path, const char **why) {
  FILE *f = rt_fopen_regular(path, why);
  int fd = f ? dup(fileno(f)) : -1;
  if (f) fclose(f);
  if (fd >= 0 && !(x->gz = gzdopen(fd, "rb"))) close(fd), fd = -1, *why = "out of memory";
  return fd >= 0 ? 0 : -1;
}
static size_t idx_read(IdxFile *x, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) { /* gzread takes an unsigned int count */
    unsigned chunk = n - got > (1u << 30) ? 1u << 30 : (unsigned)(n - got);
    int r = gzread(x->gz, (char *)buf + got, chunk);
    if (r <= 0) break;
    got += (size_t)r;
  }
  return got;
}
static void idx_close(IdxFile *x) { gzclose(x->gz); }
#else
static int idx_open(IdxFile *x, const char *path, const char **why) {
  return (x->f = rt_fopen_regular(path, why)) ? 0 : -1;
}
static size_t idx_read(IdxFile *x, void *buf, size_t n) { return fread(buf, 1, n, x->f); }
static void idx_close(IdxFile *x) { fclose(x->f); }
#endif

static uint32_t be_u32(const unsigned char *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int read_dims(IdxFile *x, const char *path, RtTensor *t, DlcErr *e) {
  unsigned char m[4];
  if (idx_read(x, m, 4) != 4) return rt_fail(e, RT_E_TRUNC, path, "no IDX magic");
  if (m[0] == 0x1f && m[1] == 0x8b) return rt_fail(e, RT_E_NOZLIB, path, NULL);
  if (m[0] || m[1]) return rt_fail(e, RT_E_FORMAT, path, "not an IDX file (bad magic)");
  if (m[2] != IDX_UBYTE)
    return rt_fail(e, RT_E_DTYPE, path, "IDX type 0x%02x (dlc reads unsigned bytes, 0x08)", m[2]);
  if (m[3] < 1 || m[3] > RT_MAX_RANK)
    return rt_fail(e, RT_E_FORMAT, path, "%d dimensions (1 to 8 allowed)", m[3]);
  t->dtype = RT_U8;
  t->rank = m[3];
  for (int i = 0; i < t->rank; i++) {
    unsigned char d[4];
    if (idx_read(x, d, 4) != 4) return rt_fail(e, RT_E_TRUNC, path, "dimensions are cut short");
    t->dims[i] = be_u32(d);
  }
  return 0;
}

static int read_elems(IdxFile *x, const char *path, RtTensor *t, DlcErr *e) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    if (t->dims[i] && n > (INT64_MAX >> 2) / t->dims[i])
      return rt_fail(e, RT_E_FORMAT, path, "dimensions are too large");
    n *= t->dims[i];
  }
  t->data = dlc_try_malloc(n ? (size_t)n : 1);
  if (!t->data) return rt_fail(e, RT_E_NOMEM, path, NULL);
  size_t got = idx_read(x, t->data, (size_t)n);
  if (got != (size_t)n) {
    rt_tensor_free(t);
    return rt_fail(e, RT_E_TRUNC, path, "expected %lld bytes of data, found %zu", (long long)n, got);
  }
  return 0;
}

int rt_idx_read(const char *path, RtTensor *t, DlcErr *e) {
  memset(t, 0, sizeof *t);
  IdxFile x;
  const char *why = "";
  if (idx_open(&x, path, &why)) return rt_fail(e, RT_E_OPEN, path, "%s", why);
  int r = read_dims(&x, path, t, e);
  if (!r) r = read_elems(&x, path, t, e);
  idx_close(&x);
  return r;
}
