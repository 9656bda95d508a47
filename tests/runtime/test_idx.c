/* test_idx.c — IDX reading against files built byte by byte from the format's
 * description (big-endian magic 00 00 08 NDIM, one 32-bit size per dimension, bytes),
 * plain and inside a hand-made gzip member (stored deflate block, RFC 1951/1952). */
#include <stdint.h>

#include "dlcrt.h"
#include "test_util.h"

static const char *dir;

static size_t idx_build(unsigned char *out, unsigned char type, int rank, const uint32_t *dims,
                        size_t ndata) {
  size_t k = 0;
  out[k++] = 0, out[k++] = 0, out[k++] = type, out[k++] = (unsigned char)rank;
  for (int i = 0; i < rank; i++)
    for (int s = 24; s >= 0; s -= 8) out[k++] = (unsigned char)(dims[i] >> s);
  for (size_t i = 0; i < ndata; i++) out[k++] = (unsigned char)(i * 7 + 1);
  return k;
}

static uint32_t crc32_bytes(const unsigned char *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

static void put_le(unsigned char *out, size_t *k, uint32_t v, int n) {
  for (int i = 0; i < n; i++) out[(*k)++] = (unsigned char)(v >> (8 * i));
}

/* A gzip member holding `in` in one stored (uncompressed) deflate block. */
static size_t gzip_stored(unsigned char *out, const unsigned char *in, size_t n) {
  static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  size_t k = 0;
  memcpy(out, hdr, 10), k = 10;
  out[k++] = 1; /* BFINAL, BTYPE 00 */
  put_le(out, &k, (uint32_t)n, 2);
  put_le(out, &k, (uint32_t)(~n & 0xffff), 2);
  memcpy(out + k, in, n), k += n;
  put_le(out, &k, crc32_bytes(in, n), 4);
  put_le(out, &k, (uint32_t)n, 4);
  return k;
}

static void check_read(const char *path, const unsigned char *file, size_t header) {
  RtTensor t;
  DlcErr e = {{0}};
  int r = rt_idx_read(path, &t, &e);
  if (r) fprintf(stderr, "%s\n", e.msg);
  CHECK(r == 0);
  if (r) return;
  CHECK(t.dtype == RT_U8 && t.rank == 3 && t.dims[0] == 2 && t.dims[1] == 3 && t.dims[2] == 4);
  CHECK(!memcmp(t.data, file + header, 24));
  rt_tensor_free(&t);
}

static void test_plain_and_gzip(void) {
  unsigned char file[256], gz[512];
  uint32_t dims[3] = {2, 3, 4};
  size_t n = idx_build(file, 0x08, 3, dims, 24);
  char path[512];
  test_path(path, sizeof path, dir, "images-idx3-ubyte");
  test_write(path, file, n);
  check_read(path, file, 16);

  test_path(path, sizeof path, dir, "images-idx3-ubyte.gz");
  test_write(path, gz, gzip_stored(gz, file, n));
  if (rt_idx_has_gzip()) {
    check_read(path, file, 16);
  } else {
    RtTensor t;
    DlcErr e = {{0}};
    CHECK(rt_idx_read(path, &t, &e) == -1 && strstr(e.msg, "without zlib"));
  }
}

static void expect_reject(const char *name, const unsigned char *bytes, size_t n, const char *why) {
  char path[512];
  test_path(path, sizeof path, dir, name);
  test_write(path, bytes, n);
  RtTensor t;
  DlcErr e = {{0}};
  CHECK(rt_idx_read(path, &t, &e) == -1);
  if (!strstr(e.msg, path) || !strstr(e.msg, why)) {
    fprintf(stderr, "%s: expected '%s' and the path in: %s\n", name, why, e.msg);
    test_failures++;
  }
}

static void test_rejects(void) {
  unsigned char file[256];
  uint32_t dims[2] = {3, 5};
  size_t n = idx_build(file, 0x08, 2, dims, 15);
  expect_reject("short", file, n - 1, "truncated");
  expect_reject("dims-cut", file, 6, "truncated");
  n = idx_build(file, 0x0d, 2, dims, 60);
  expect_reject("floats", file, n, "0x0d");
  expect_reject("magic", (const unsigned char *)"\x01\x02\x08\x01", 4, "magic");
  RtTensor t;
  DlcErr e = {{0}};
  char path[512];
  test_path(path, sizeof path, dir, "missing-idx1-ubyte");
  CHECK(rt_idx_read(path, &t, &e) == -1 && strstr(e.msg, "cannot open"));
}

int main(void) {
  dir = test_tmpdir();
  test_plain_and_gzip();
  test_rejects();
  test_cleanup(dir);
  if (test_failures) fprintf(stderr, "%d check(s) failed\n", test_failures);
  return test_failures != 0;
}
