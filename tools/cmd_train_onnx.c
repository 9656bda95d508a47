/* cmd_train_onnx.c — the trained weights written back into a copy of the ONNX file a
 * model came from, so ONNX Runtime (or anything else) runs the trained model.
 *
 * The file is unpacked with protobuf-c (the code the ONNX frontend generates from
 * onnx.proto), each float initializer whose parameter the model trained gets the
 * parameter's values as raw_data (little-endian f32, the ONNX convention; float_data
 * emptied), and the model is packed again.  Everything else (nodes, opsets, metadata)
 * stays byte for byte what protobuf-c reads and writes.  The ONNX frontend names a
 * parameter after its initializer with every character other than [A-Za-z0-9_.]
 * replaced by '_' and '_' put before a leading digit or dot; so does this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_train.h"
#include "onnx.pb-c.h"

static void param_name(const char *s, char *buf, size_t n) {
  size_t k = 0;
  if (!*s || (*s >= '0' && *s <= '9') || *s == '.') buf[k++] = '_';
  for (; *s && k + 1 < n; s++) {
    bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.';
    buf[k++] = ok ? *s : '_';
  }
  buf[k] = 0;
}

static unsigned char *read_all(const char *path, size_t *len, DlcErr *e) {
  const char *why;
  FILE *f = rt_fopen_regular(path, &why);
  if (!f) return rt_fail(e, RT_E_OPEN, path, "%s", why), NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  unsigned char *b = n >= 0 ? dlc_malloc((size_t)n + 1) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) free(b), b = NULL;
  fclose(f);
  if (!b) return rt_fail(e, RT_E_IO, path, NULL), NULL;
  *len = (size_t)n;
  return b;
}

/* The trained values of initializer t, as its raw_data; 1 if replaced, 0 if not ours. */
static int replace(Onnx__TensorProto *t, JitModel *m, const char *path, DlcErr *e) {
  char name[512];
  param_name(t->name ? t->name : "", name, sizeof name);
  const float *v = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? jit_param(m, name) : NULL;
  if (!v) return 0;
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return dlc_errf(e, "%s: initializer '%s' has external data; dlc writes back embedded ones only", path, t->name);
  size_t count = 1;
  for (size_t d = 0; d < t->n_dims; d++) count *= (size_t)t->dims[d];
  unsigned char *raw = dlc_malloc(count * 4 + 1);
  DLC_ASSERT(raw);
  for (size_t i = 0; i < count; i++) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; b++) raw[4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
  }
  free(t->raw_data.data); /* protobuf-c's allocator is malloc's */
  t->raw_data = (ProtobufCBinaryData){count * 4, raw};
  t->has_raw_data = 1, t->n_float_data = 0;
  return 1;
}

int train_write_onnx(const char *src, const char *dst, JitModel *m, DlcErr *e) {
  size_t len;
  unsigned char *bytes = read_all(src, &len, e);
  if (!bytes) return -1;
  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, bytes);
  free(bytes);
  if (!mp || !mp->graph) {
    if (mp) onnx__model_proto__free_unpacked(mp, NULL);
    return dlc_errf(e, "%s: cannot read it back as an ONNX model", src);
  }
  int rc = 0, n = 0;
  for (size_t i = 0; i < mp->graph->n_initializer && rc >= 0; i++)
    n += rc = replace(mp->graph->initializer[i], m, src, e);
  size_t size = onnx__model_proto__get_packed_size(mp);
  unsigned char *out = rc >= 0 ? dlc_malloc(size + 1) : NULL;
  RtWFile w;
  if (out && rt_wfile_open(&w, dst, e)) rc = -1;
  else if (out) {
    onnx__model_proto__pack(mp, out);
    if (fwrite(out, 1, size, w.f) != size) rc = rt_fail(e, RT_E_IO, dst, NULL), rt_wfile_discard(&w);
    else if (rt_wfile_commit(&w, e)) rc = -1;
  }
  free(out);
  onnx__model_proto__free_unpacked(mp, NULL);
  if (rc >= 0 && !n) return dlc_errf(e, "%s: no initializer holds a trained parameter", src);
  return rc < 0 ? -1 : 0;
}
