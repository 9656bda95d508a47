/* onnx_tensor.c — TensorProto to IR data: dtypes, the typed fields, raw_data and
 * external data files (confined to the model's folder). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dlcrt.h"
#include "onnx_fe.h"

typedef struct {
  int32_t onnx;
  const char *name;
  int dt; /* DType, or -1 */
} OnnxType;

static const OnnxType types[] = {
    {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "float", DT_F32},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, "uint8", DT_U8},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT8, "int8", DT_I8},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT16, "uint16", DT_U16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT16, "int16", DT_I16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT32, "int32", DT_I32},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT64, "int64", DT_I64},
    {ONNX__TENSOR_PROTO__DATA_TYPE__STRING, "string", DT_STR},
    {ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, "bool", DT_BOOL},
    {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, "float16", DT_F16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, "double", DT_F64},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT32, "uint32", DT_U32},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT64, "uint64", DT_U64},
    {ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64, "complex64", -1},
    {ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128, "complex128", -1},
    {ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16, "bfloat16", DT_BF16},
    /* newer than the onnx.proto Debian ships: by their numbers in onnx 1.23's */
    {17, "float8e4m3fn", DT_F8E4M3FN},
    {18, "float8e4m3fnuz", DT_F8E4M3FNUZ},
    {19, "float8e5m2", DT_F8E5M2},
    {20, "float8e5m2fnuz", DT_F8E5M2FNUZ},
    {21, "uint4", DT_U4},
    {22, "int4", DT_I4},
    {23, "float4e2m1", DT_F4E2M1},
    {24, "float8e8m0", DT_F8E8M0},
    {25, "uint2", DT_U2},
    {26, "int2", DT_I2},
};

int onnx_dtype(int32_t onnx_type, DType *t) {
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (types[i].onnx == onnx_type && types[i].dt >= 0) {
      *t = (DType)types[i].dt;
      return 0;
    }
  return -1;
}

const char *onnx_dtype_name(int32_t onnx_type) {
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (types[i].onnx == onnx_type) return types[i].name;
  return "an unknown type";
}

/* The buffer for a tensor's values, made only once its source is known to hold them all
 * (a few bytes of model must not make dlc allocate gigabytes). */
static void *data_alloc(size_t bytes) {
  void *p = dlc_calloc(1, bytes ? bytes : 1);
  DLC_ASSERT(p);
  return p;
}

/* external_data: location (relative to the model), offset, length. */
static int read_external(OnnxCtx *c, const Onnx__TensorProto *t, void **dst, size_t bytes) {
  const char *loc = NULL;
  long long off = 0, len = -1;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const Onnx__StringStringEntryProto *kv = t->external_data[i];
    if (!kv->key || !kv->value) continue;
    if (!strcmp(kv->key, "location")) loc = kv->value;
    else if (!strcmp(kv->key, "offset")) off = strtoll(kv->value, NULL, 10);
    else if (!strcmp(kv->key, "length")) len = strtoll(kv->value, NULL, 10);
  }
  const char *name = t->name ? t->name : "?";
  if (!loc || !*loc) return onnx_fail(c, NULL, "tensor '%s': external data without a location", name);
  if (loc[0] == '/' || strstr(loc, ".."))
    return onnx_fail(c, NULL, "tensor '%s': external data path '%s' leaves the model's folder", name, loc);
  char path[PATH_MAX], real[PATH_MAX], realdir[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", c->dir, loc);
  if (!realpath(path, real) || !realpath(c->dir, realdir))
    return onnx_fail(c, NULL, "tensor '%s': external data file '%s': %s", name, loc, strerror(errno));
  size_t nd = strlen(realdir);
  if (strncmp(real, realdir, nd) || (real[nd] != '/' && nd > 1))
    return onnx_fail(c, NULL, "tensor '%s': external data path '%s' leaves the model's folder", name, loc);
  if (off < 0) return onnx_fail(c, NULL, "tensor '%s': external data offset %lld is negative", name, off);
  if (len >= 0 && (size_t)len != bytes)
    return onnx_fail(c, NULL, "tensor '%s': external data length %lld, expected %zu bytes", name, len, bytes);
  const char *why;
  FILE *f = rt_fopen_regular(real, &why);
  if (!f) return onnx_fail(c, NULL, "tensor '%s': cannot open '%s': %s", name, loc, why);
  struct stat st;
  bool ok = !fstat(fileno(f), &st) && st.st_size >= off && (uint64_t)(st.st_size - off) >= bytes;
  if (ok) *dst = data_alloc(bytes);
  ok = ok && !fseek(f, off, SEEK_SET) && fread(*dst, 1, bytes, f) == bytes;
  fclose(f);
  if (!ok) return onnx_fail(c, NULL, "tensor '%s': external data file '%s' is too short", name, loc);
  return 0;
}

/* Copies the typed repeated field that holds t's values, converting to dt. */
static int read_typed(OnnxCtx *c, const Onnx__TensorProto *t, DType dt, void **data, int64_t n) {
  bool u64 = dt == DT_U32 || dt == DT_U64; /* the schema keeps these in uint64_data */
  size_t have = dt == DT_F32 ? t->n_float_data
              : dt == DT_F64 ? t->n_double_data
              : dt == DT_I64 ? t->n_int64_data
              : u64          ? t->n_uint64_data
                             : t->n_int32_data;
  if ((int64_t)have != n)
    return onnx_fail(c, NULL, "tensor '%s': %zu values for %lld elements", t->name ? t->name : "?", have,
                     (long long)n);
  void *dst = *data = data_alloc((size_t)n * (size_t)dtype_size(dt));
  for (int64_t i = 0; i < n; i++) {
    double v = dt == DT_F32 ? t->float_data[i]
             : dt == DT_F64 ? t->double_data[i]
             : dt == DT_I64 ? (double)t->int64_data[i]
             : u64          ? (double)t->uint64_data[i]
                            : t->int32_data[i];
    if (dt == DT_I64) ((int64_t *)dst)[i] = t->int64_data[i]; /* exact beyond 2^53 */
    else if (dtype_is_narrow(dt)) { /* int32_data holds the bytes, packed as raw_data is */
      if (t->int32_data[i] < 0 || t->int32_data[i] > 0xff)
        return onnx_fail(c, NULL, "tensor '%s': int32_data[%lld] is %d, not a byte of %s", t->name ? t->name : "?",
                         (long long)i, (int)t->int32_data[i], dtype_name(dt));
      ((uint8_t *)dst)[i] = (uint8_t)t->int32_data[i];
    } else if (dtype_is_storage(dt)) { /* int32_data holds the bits */
      if (t->int32_data[i] < 0 || t->int32_data[i] > 0xffff)
        return onnx_fail(c, NULL, "tensor '%s': int32_data[%lld] is %d, not the 16 bits of a %s",
                         t->name ? t->name : "?", (long long)i, (int)t->int32_data[i], dtype_name(dt));
      ((uint16_t *)dst)[i] = (uint16_t)t->int32_data[i];
    }
    else if (dt == DT_U64) ((uint64_t *)dst)[i] = t->uint64_data[i];
    else dtype_store(dt, dst, i, v);
  }
  return 0;
}

static int check_dims(OnnxCtx *c, const Onnx__TensorProto *t, Shape *s) {
  const char *name = t->name ? t->name : "?";
  if (t->n_dims > IR_MAX_RANK) return onnx_fail(c, NULL, "tensor '%s' has rank %zu, over %d", name, t->n_dims, IR_MAX_RANK);
  s->rank = (int)t->n_dims;
  double total = 1;
  for (int i = 0; i < s->rank; i++) {
    if (t->dims[i] < 0) return onnx_fail(c, NULL, "tensor '%s' has a negative dimension", name);
    s->d[i] = t->dims[i];
    total *= (double)t->dims[i];
  }
  if (total > (double)(1LL << 34)) return onnx_fail(c, NULL, "tensor '%s' has %.0f elements, too many", name, total);
  return 0;
}

/* ONNX packs the 4-bit types two to a byte and the 2-bit types four, the first element
 * in the low bits (raw_data, int32_data, external data); dlc holds one per byte, in the
 * byte's low bits (ml_dtypes' layout). */
static int per_byte(DType t) {
  return t == DT_I4 || t == DT_U4 || t == DT_F4E2M1 ? 2 : t == DT_I2 || t == DT_U2 ? 4 : 1;
}

static void *unpack(const void *packed, DType t, int64_t n) {
  int per = per_byte(t), bits = 8 / per;
  uint8_t *out = data_alloc((size_t)n), mask = (uint8_t)((1u << bits) - 1);
  for (int64_t i = 0; i < n; i++)
    out[i] = (uint8_t)(((const uint8_t *)packed)[i / per] >> (i % per * bits)) & mask;
  return out;
}

/* A string tensor: string_data, each element bytes without a NUL. */
static int str_tensor(OnnxCtx *c, const Onnx__TensorProto *t, const char *name, const char *tn, Shape s) {
  int64_t n = shape_numel(&s);
  if (t->has_raw_data || (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))
    return onnx_fail(c, NULL, "tensor '%s': a string tensor keeps its values in string_data", tn);
  if ((int64_t)t->n_string_data != n)
    return onnx_fail(c, NULL, "tensor '%s': %zu strings for %lld elements", tn, t->n_string_data, (long long)n);
  const char **v = arena_alloc(c->g->arena, sizeof(char *) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++)
    if (!(v[i] = onnx_bytes_str(c, &t->string_data[i])))
      return onnx_fail(c, NULL, "tensor '%s': string %lld holds a NUL byte, which a str value cannot", tn, (long long)i);
  int id = ir_const(c->g, name, DT_STR, s, v);
  if (id < 0) onnx_fail(c, NULL, "tensor '%s': %s", tn, c->g->err.msg);
  return id;
}

int onnx_tensor_node(OnnxCtx *c, const Onnx__TensorProto *t, const char *name, bool trainable) {
  const char *tn = t->name && *t->name ? t->name : "(unnamed)";
  DType dt;
  if (onnx_dtype(t->data_type, &dt))
    return onnx_fail(c, NULL, "tensor '%s' has dtype %s, which dlc does not support", tn, onnx_dtype_name(t->data_type));
  Shape s;
  if (check_dims(c, t, &s)) return -1;
  if (dt == DT_STR) return str_tensor(c, t, name, tn, s);
  int64_t n = shape_numel(&s), per = per_byte(dt);
  size_t bytes = (size_t)((n + per - 1) / per) * (size_t)dtype_size(dt); /* as the file holds them */
  void *data = NULL;
  int rc = 0;
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    rc = read_external(c, t, &data, bytes);
  else if (t->has_raw_data) {
    if (t->raw_data.len != bytes)
      rc = onnx_fail(c, NULL, "tensor '%s': raw_data has %zu bytes, expected %zu", tn, t->raw_data.len, bytes);
    else if ((data = data_alloc(bytes)) && bytes) /* raw_data of no bytes may be NULL */
      memcpy(data, t->raw_data.data, bytes); /* little-endian, as the hosts dlc runs on */
  } else rc = read_typed(c, t, dt, &data, (int64_t)bytes / dtype_size(dt));
  if (!rc && per > 1) {
    void *one = unpack(data, dt, n);
    free(data);
    data = one;
  }
  if (!rc && dt == DT_BOOL)
    for (size_t i = 0; i < bytes; i++) ((uint8_t *)data)[i] = ((uint8_t *)data)[i] != 0;
  int id = -1;
  if (!rc) {
    /* f16 and bf16 weights are constants: the optimizers compute in the dtype they train */
    id = trainable && dtype_is_float(dt) && !dtype_is_storage(dt) && n > 0 ? ir_param_data(c->g, name, dt, s, data)
                                         : ir_const(c->g, name, dt, s, data);
    if (id < 0) onnx_fail(c, NULL, "tensor '%s': %s", tn, c->g->err.msg);
  }
  free(data);
  return id;
}
