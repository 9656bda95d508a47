/* test_npy.c — .npy reading and writing against files built byte by byte from the
 * format's specification (numpy/lib/format.py), not from rt_npy itself. */
#include <stdint.h>

#include "dlcrt.h"
#include "test_util.h"

static const char *dir;

/* The spec's layout: magic, version, little-endian header length, the dict padded with
 * spaces and ended by '\n' so the data starts at a multiple of 64. */
static size_t npy_build(unsigned char *out, int major, const char *dict, const void *data,
                        size_t ndata) {
  size_t pre = major == 1 ? 10 : 12, n = strlen(dict);
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (unsigned char)major, out[7] = 0;
  memcpy(out + pre, dict, n);
  while ((pre + n + 1) % 64) out[pre + n++] = ' ';
  out[pre + n++] = '\n';
  for (size_t i = 0; i < pre - 8; i++) out[8 + i] = (unsigned char)(n >> (8 * i));
  memcpy(out + pre + n, data, ndata);
  return pre + n + ndata;
}

static void write_npy(const char *name, int major, const char *dict, const void *data,
                      size_t ndata, char *path) {
  static unsigned char buf[4096];
  test_path(path, 512, dir, name);
  test_write(path, buf, npy_build(buf, major, dict, data, ndata));
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  static unsigned char buf[4096];
  *n = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  return buf;
}

/* ---- writing: every dtype, checked against the spec's bytes, then read back ---- */

static const struct {
  RtDType t;
  const char *descr;
} dtypes[] = {
    {RT_F32, "<f4"}, {RT_F64, "<f8"}, {RT_I8, "|i1"}, {RT_I16, "<i2"},
    {RT_I32, "<i4"}, {RT_I64, "<i8"}, {RT_U8, "|u1"}, {RT_BOOL, "|b1"},
    {RT_F16, "<f2"}, {RT_BF16, "<V2"}, /* bf16 as ml_dtypes saves it */
};

static void fill(unsigned char *p, size_t n, RtDType t) {
  for (size_t i = 0; i < n; i++) p[i] = t == RT_BOOL ? (unsigned char)(i % 3 == 0) : (unsigned char)(i * 37 + 5);
}

static void round_trip(RtDType t, const char *descr, int rank, const int64_t *dims,
                       const char *shape_text) {
  unsigned char data[256];
  RtTensor w = {.dtype = t, .rank = rank, .data = data};
  memcpy(w.dims, dims, sizeof(int64_t) * (size_t)rank);
  size_t bytes = (size_t)rt_tensor_bytes(&w);
  fill(data, bytes, t);
  char path[512], dict[256];
  snprintf(path, sizeof path, "%s/rt_%s_%d.npy", dir, descr + 1, rank);
  DlcErr e = {{0}};
  CHECK(rt_npy_write(path, &w, &e) == 0);

  unsigned char want[4096];
  snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape_text);
  size_t nwant = npy_build(want, 1, dict, data, bytes), ngot;
  unsigned char *got = slurp(path, &ngot);
  CHECK(ngot == nwant && !memcmp(got, want, nwant));

  RtTensor r;
  CHECK(rt_npy_read(path, &r, &e) == 0);
  CHECK(r.dtype == t && r.rank == rank);
  for (int i = 0; i < rank && i < r.rank; i++) CHECK(r.dims[i] == dims[i]);
  CHECK(r.data && !memcmp(r.data, data, bytes));
  rt_tensor_free(&r);
}

static void test_round_trips(void) {
  int64_t d3[] = {2, 3, 4}, d1[] = {7}, d0[] = {0};
  for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
    round_trip(dtypes[i].t, dtypes[i].descr, 3, d3, "(2, 3, 4)");
    round_trip(dtypes[i].t, dtypes[i].descr, 1, d1, "(7,)");
    round_trip(dtypes[i].t, dtypes[i].descr, 0, d0, "()");
  }
}

/* ---- reading hand-written files ---- */

static void test_read_hand_written(void) {
  char path[512];
  int32_t v[6] = {1, -2, 3, -4, 5, 2147483647};
  write_npy("i4.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", v, sizeof v, path);
  RtTensor t;
  DlcErr e = {{0}};
  CHECK(rt_npy_read(path, &t, &e) == 0);
  CHECK(t.dtype == RT_I32 && t.rank == 2 && t.dims[0] == 2 && t.dims[1] == 3);
  CHECK(t.data && !memcmp(t.data, v, sizeof v));
  rt_tensor_free(&t);

  /* version 2.0, keys in another order, no trailing comma, spacing as older numpys wrote */
  double d[2] = {0.5, -1e300};
  write_npy("f8v2.npy", 2, "{'shape':(2,),'fortran_order':False,'descr':'<f8'}", d, sizeof d, path);
  CHECK(rt_npy_read(path, &t, &e) == 0);
  CHECK(t.dtype == RT_F64 && t.rank == 1 && t.dims[0] == 2);
  CHECK(t.data && !memcmp(t.data, d, sizeof d));
  rt_tensor_free(&t);

  /* single-byte types may be spelled with any byte order mark */
  unsigned char u[3] = {0, 128, 255};
  write_npy("u1.npy", 1, "{'descr': '<u1', 'fortran_order': False, 'shape': (3,), }", u, 3, path);
  CHECK(rt_npy_read(path, &t, &e) == 0);
  CHECK(t.dtype == RT_U8 && t.dims[0] == 3 && !memcmp(t.data, u, 3));
  rt_tensor_free(&t);
}

/* ---- rejecting malformed files: an error naming the file and the reason ---- */

static void expect_reject(const char *name, int major, const char *dict, size_t ndata,
                          const char *why) {
  char path[512];
  unsigned char data[64] = {0};
  write_npy(name, major, dict, data, ndata, path);
  RtTensor t;
  DlcErr e = {{0}};
  CHECK(rt_npy_read(path, &t, &e) == -1);
  CHECK(strstr(e.msg, path) != NULL);
  if (!strstr(e.msg, why)) {
    fprintf(stderr, "%s: expected '%s' in: %s\n", name, why, e.msg);
    test_failures++;
  }
}

static void test_rejects(void) {
  expect_reject("fortran.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "Fortran");
  expect_reject("big.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "big-endian");
  expect_reject("void4.npy", 1, "{'descr': '<V4', 'fortran_order': False, 'shape': (2,), }", 8, "unsupported element type"); /* V2 is bf16 */
  expect_reject("complex.npy", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8, "unsupported element type");
  expect_reject("object.npy", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8, "unsupported element type");
  expect_reject("short.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 60, "truncated");
  expect_reject("noshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, }", 4, "lacks");
  expect_reject("badshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 8, "shape");
  expect_reject("notdict.npy", 1, "[1, 2]", 0, "dict");
  expect_reject("version.npy", 9, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, "version");

  char path[512];
  DlcErr e = {{0}};
  RtTensor t;
  test_path(path, sizeof path, dir, "magic.npy");
  test_write(path, "PK\x03\x04 not numpy at all", 20);
  CHECK(rt_npy_read(path, &t, &e) == -1 && strstr(e.msg, "magic") && strstr(e.msg, path));
  test_path(path, sizeof path, dir, "cut.npy");
  test_write(path, "\x93NUMPY\x01\x00\x76\x00{'descr'", 17);
  CHECK(rt_npy_read(path, &t, &e) == -1 && strstr(e.msg, "truncated"));
  test_path(path, sizeof path, dir, "missing.npy");
  CHECK(rt_npy_read(path, &t, &e) == -1 && strstr(e.msg, "cannot open") && strstr(e.msg, path));
  test_path(path, sizeof path, dir, "no/such/folder.npy");
  RtTensor w = {.dtype = RT_F32, .rank = 0, .data = (float[]){1}};
  CHECK(rt_npy_write(path, &w, &e) == -1 && strstr(e.msg, path));
}

int main(void) {
  dir = test_tmpdir();
  test_round_trips();
  test_read_hand_written();
  test_rejects();
  test_cleanup(dir);
  if (test_failures) fprintf(stderr, "%d check(s) failed\n", test_failures);
  return test_failures != 0;
}
