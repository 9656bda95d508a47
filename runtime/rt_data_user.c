/* rt_data_user.c — a user's own labelled data for `dlc train --data DIR`: NumPy files
 * (x_<split>.npy, y_<split>.npy) or CSV (<split>.csv), into the same RtDataset as the
 * IDX images of rt_data.c.
 *
 * Samples keep their values (converted to f32, nothing scaled) and their shape (x's
 * dimensions after the first).  Labels are class ids: non-negative integers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_data.h"

/* ---- .npy ---- */

/* f16: 5 exponent bits, 10 fraction bits; bf16: the top half of an f32. */
static double half_value(uint16_t h, bool bf16) {
  if (bf16) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
  }
  int e = (h >> 10) & 31, f = h & 1023;
  double v = e == 31 ? (f ? NAN : INFINITY) : e ? ldexp(f | 1024, e - 25) : ldexp(f, -24);
  return h & 0x8000 ? -v : v;
}

static double npy_value(const RtTensor *t, int64_t i) {
  const void *p = t->data;
  switch (t->dtype) {
  case RT_F16: return half_value(((const uint16_t *)p)[i], false);
  case RT_BF16: return half_value(((const uint16_t *)p)[i], true);
  case RT_F32: return ((const float *)p)[i];
  case RT_F64: return ((const double *)p)[i];
  case RT_I8: return ((const int8_t *)p)[i];
  case RT_I16: return ((const int16_t *)p)[i];
  case RT_I32: return ((const int32_t *)p)[i];
  case RT_I64: return (double)((const int64_t *)p)[i];
  case RT_U8: return ((const uint8_t *)p)[i];
  case RT_BOOL: return ((const uint8_t *)p)[i] != 0;
  case RT_U16: return ((const uint16_t *)p)[i];
  case RT_U32: return ((const uint32_t *)p)[i];
  case RT_U64: return (double)((const uint64_t *)p)[i];
  case RT_F8E4M3FN: case RT_F8E4M3FNUZ: case RT_F8E5M2: case RT_F8E5M2FNUZ: case RT_F8E8M0: case RT_F4E2M1:
  case RT_I4: case RT_U4: case RT_I2: case RT_U2: case RT_RAW8: case RT_STR: case RT_DTYPE_COUNT: break;
  }
  DLC_ASSERT(!"an element type rt_npy_read does not give");
  return 0;
}

static bool is_raw(RtDType t) { return rt_dtype_size(t) == 1 && t >= RT_F8E4M3FN; }

static bool is_int(RtDType t) {
  return t != RT_STR && t != RT_F32 && t != RT_F64 && t != RT_F16 && t != RT_BF16 && t != RT_BOOL && !is_raw(t);
}

static int npy_labels(const RtTensor *y, const char *path, RtDataset *d, DlcErr *e) {
  if (!is_int(y->dtype))
    return rt_fail(e, RT_E_DTYPE, path, "the labels are %s: class ids are integers (e.g. int64)",
                   rt_dtype_name(y->dtype));
  for (int64_t i = 0; i < d->n; i++) {
    double v = npy_value(y, i);
    if (v < 0 || v > 1e9)
      return rt_fail(e, RT_E_FORMAT, path, "label %lld is %.0f: class ids run from 0", (long long)i, v);
    d->y[i] = (int64_t)v;
    if (d->y[i] + 1 > d->classes) d->classes = d->y[i] + 1;
  }
  return 0;
}

static int npy_split(const char *xp, const char *yp, RtDataset *d, DlcErr *e) {
  RtTensor x = {0}, y = {0};
  int rc = rt_npy_read(xp, &x, e) || rt_npy_read(yp, &y, e) ? -1 : 0;
  int64_t n = x.rank ? x.dims[0] : 0;
  if (!rc && (x.rank < 2 || x.rank > 5))
    rc = rt_fail(e, RT_E_FORMAT, xp, "the samples are rank %d: expected [N, ...] with 1 to 4 dimensions after N",
                 x.rank);
  else if (!rc && (is_raw(x.dtype) || x.dtype == RT_STR))
    rc = rt_fail(e, RT_E_DTYPE, xp, "the samples are %s: a dataset holds numbers",
                 x.dtype == RT_STR ? "strings" : "raw bytes (V1)");
  else if (!rc && (y.rank < 1 || y.dims[0] != n || rt_tensor_numel(&y) != n))
    rc = rt_fail(e, RT_E_FORMAT, yp, "expected %lld labels [N] (one per sample of %s)", (long long)n, xp);
  if (!rc) {
    d->n = n, d->rank = x.rank - 1, d->size = 1;
    for (int i = 1; i < x.rank; i++) d->dims[i - 1] = x.dims[i], d->size *= x.dims[i];
    d->x = dlc_try_malloc(sizeof(float) * (size_t)(n * d->size + 1));
    d->y = dlc_try_malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (!d->x || !d->y) rc = rt_fail(e, RT_E_NOMEM, xp, NULL);
  }
  for (int64_t i = 0; !rc && i < n * d->size; i++) d->x[i] = (float)npy_value(&x, i);
  if (!rc) rc = npy_labels(&y, yp, d, e);
  rt_tensor_free(&x), rt_tensor_free(&y);
  return rc;
}

/* ---- CSV: numbers separated by commas, the label last, an optional header line ---- */

typedef struct Csv {
  const char *path;
  int64_t line, cols; /* cols: of the first data row */
  float *x;
  int64_t *y;
  int64_t n, cap;
} Csv;

/* What is wrong with field *bad of a line that csv_fields refuses. */
enum { CSV_NOT_NUMBER = -1, CSV_NOT_FINITE = -2 };

/* The fields of one line into v (at most max); their count, or CSV_NOT_NUMBER (a field
 * with text in it) or CSV_NOT_FINITE (nan, inf, out of range) with *bad the field. */
static int64_t csv_fields(char *s, double *v, int64_t max, int64_t *bad) {
  int64_t k = 0;
  for (char *f = s;; k++) {
    char *end;
    errno = 0;
    double x = strtod(f, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
    if (end == f || (*end && *end != ',')) return *bad = k + 1, CSV_NOT_NUMBER;
    if (errno == ERANGE || !isfinite(x)) return *bad = k + 1, CSV_NOT_FINITE;
    if (k < max) v[k] = x;
    if (!*end) return k + 1;
    f = end + 1;
  }
}

static int csv_grow(Csv *c, DlcErr *e) {
  if (c->n < c->cap) return 0;
  int64_t cap = c->cap ? 2 * c->cap : 1024;
  float *x = dlc_try_realloc(c->x, sizeof(float) * (size_t)(cap * (c->cols - 1)));
  if (x) c->x = x;
  int64_t *y = x ? dlc_try_realloc(c->y, sizeof(int64_t) * (size_t)cap) : NULL;
  if (y) c->y = y;
  if (!x || !y) return rt_fail(e, RT_E_NOMEM, c->path, NULL);
  c->cap = cap;
  return 0;
}

static int csv_row(Csv *c, char *s, double *v, int64_t max, DlcErr *e) {
  int64_t bad = 0, k = csv_fields(s, v, max, &bad);
  if (k == CSV_NOT_NUMBER && c->line == 1) return 0; /* a header line */
  if (k < 0)
    return dlc_errf(e, "%s:%lld: field %lld is not a %snumber", c->path, (long long)c->line, (long long)bad,
                    k == CSV_NOT_FINITE ? "finite " : "");
  if (k > max) return dlc_errf(e, "%s:%lld: more than %lld columns", c->path, (long long)c->line, (long long)max);
  if (!c->cols && k < 2)
    return dlc_errf(e, "%s:%lld: a row needs at least one value and the label", c->path, (long long)c->line);
  if (!c->cols) c->cols = k;
  if (k != c->cols)
    return dlc_errf(e, "%s:%lld: %lld fields, the first row has %lld", c->path, (long long)c->line, (long long)k,
                    (long long)c->cols);
  double label = v[k - 1];
  if (label < 0 || label > 1e9 || label != floor(label))
    return dlc_errf(e, "%s:%lld: the label (last column) is %g: class ids are integers from 0", c->path,
                    (long long)c->line, label);
  if (csv_grow(c, e)) return -1;
  for (int64_t j = 0; j < k - 1; j++) c->x[c->n * (k - 1) + j] = (float)v[j];
  c->y[c->n++] = (int64_t)label;
  return 0;
}

#define CSV_MAX_COLS 65536

static int csv_split(const char *path, RtDataset *d, DlcErr *e) {
  FILE *f = fopen(path, "r");
  if (!f) return rt_fail(e, RT_E_OPEN, path, "%s", strerror(errno));
  Csv c = {.path = path};
  double *v = dlc_try_malloc(sizeof(double) * CSV_MAX_COLS);
  char *s = NULL;
  size_t cap = 0;
  int rc = v ? 0 : rt_fail(e, RT_E_NOMEM, path, NULL);
  while (!rc && getline(&s, &cap, f) > 0) {
    c.line++;
    if (s[strspn(s, " \t\r\n")]) rc = csv_row(&c, s, v, CSV_MAX_COLS, e);
  }
  if (!rc && ferror(f)) rc = rt_fail(e, RT_E_IO, path, NULL);
  if (!rc && !c.n) rc = rt_fail(e, RT_E_FORMAT, path, "no rows of numbers");
  free(s), free(v), fclose(f);
  if (rc) return free(c.x), free(c.y), -1;
  *d = (RtDataset){.n = c.n, .rank = 1, .dims = {c.cols - 1}, .size = c.cols - 1, .x = c.x, .y = c.y};
  for (int64_t i = 0; i < c.n; i++)
    if (c.y[i] + 1 > d->classes) d->classes = c.y[i] + 1;
  return 0;
}

/* ---- which format a folder holds ---- */

int rt_data_dir(const char *dir, const char *split, RtDataset *d, DlcErr *e) {
  char xp[4096], yp[4096], cp[4096];
  const char *name = !strcmp(split, "t10k") ? "test" : split;
  /* The training split's files say the format; the test split must follow it. */
  snprintf(xp, sizeof xp, "%s/x_train.npy", dir);
  snprintf(cp, sizeof cp, "%s/train.csv", dir);
  bool npy = !access(xp, F_OK), csv = !npy && !access(cp, F_OK);
  snprintf(xp, sizeof xp, "%s/x_%s.npy", dir, name);
  snprintf(yp, sizeof yp, "%s/y_%s.npy", dir, name);
  snprintf(cp, sizeof cp, "%s/%s.csv", dir, name);
  memset(d, 0, sizeof *d);
  int rc;
  if (npy) rc = npy_split(xp, yp, d, e);
  else if (csv) rc = csv_split(cp, d, e);
  else return rt_data_mnist(dir, split, d, e);
  if (rc) rt_data_free(d);
  return rc;
}
