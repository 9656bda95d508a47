/* rt_tensor.c — element types and dense tensors as the runtime's files hold them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlcrt.h"

static const struct {
  const char *name;
  int size;
} rt_dtypes[RT_DTYPE_COUNT] = {
#define X(id, name, size) [RT_##id] = {name, size},
    RT_DTYPES(X)
#undef X
};

const char *rt_dtype_name(RtDType t) { return rt_dtypes[t].name; }
int rt_dtype_size(RtDType t) { return rt_dtypes[t].size; }

bool rt_dtype_matches(RtDType file, const char *name) {
  RtDType t;
  if (!strcmp(rt_dtypes[file].name, name)) return true;
  return file == RT_RAW8 && !rt_dtype_parse(name, &t) && t >= RT_F8E4M3FN && t < RT_RAW8;
}

int rt_dtype_parse(const char *name, RtDType *t) {
  for (int i = 0; i < RT_DTYPE_COUNT; i++)
    if (!strcmp(rt_dtypes[i].name, name)) {
      *t = (RtDType)i;
      return 0;
    }
  return -1;
}

int64_t rt_tensor_numel(const RtTensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

int64_t rt_tensor_bytes(const RtTensor *t) {
  return rt_tensor_numel(t) * rt_dtype_size(t->dtype);
}

void rt_tensor_free(RtTensor *t) {
  free(t->data);
  t->data = NULL;
}

int rt_shape_str(int rank, const int64_t *dims, char *buf, size_t n) {
  size_t k = 0;
  int w = snprintf(buf, n, "[");
  for (int i = 0; i < rank && w >= 0; i++) {
    k += (size_t)w;
    w = snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "%s%lld", i ? "," : "",
                 (long long)dims[i]);
  }
  if (w < 0) return w;
  k += (size_t)w;
  w = snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "]");
  return w < 0 ? w : (int)(k + (size_t)w);
}
