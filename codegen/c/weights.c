/* weights.c — PARAM and CONST data.  Small models carry them as exact static arrays
 * (hex floats); large ones read one weight block from a file in NAME_init:
 *
 *   "DLCWGT01"  uint64 byte count  uint64 FNV-1a 64 of the bytes  the bytes
 *
 * with both integers little-endian and each tensor at its plan offset in the bytes.
 * The hash is also baked into the code, so the file of another model is refused. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgen_c.h"

#define FNV_BASIS 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

uint64_t cgen_fnv1a(const unsigned char *p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * FNV_PRIME;
  return h;
}

const char *cgen_weight_name(const Node *n, char *buf, size_t size) {
  snprintf(buf, size, "dlc_w%d", n->id);
  return buf;
}

static bool is_weight(const CEmit *ce, const Node *n) {
  return (n->op == OP_PARAM || n->op == OP_CONST) && ce->p->loc[n->id].kind == LOC_WEIGHT;
}

/* ---- embedded ---- */

static void value_literal(const Node *n, int64_t i, char *buf, size_t size) {
  if (n->dtype == DT_I64) cgen_literal_i64(((const int64_t *)n->data)[i], buf, size);
  else if (n->dtype == DT_U64) snprintf(buf, size, "UINT64_C(%" PRIu64 ")", ((const uint64_t *)n->data)[i]);
  else cgen_literal(n->dtype, dtype_load(n->dtype, n->data, i), buf, size);
}

static void embed_one(CEmit *ce, const Node *n) {
  char name[256], shp[160], w[32], lit[64];
  int64_t count = shape_numel(&n->shape);
  int per_line = dtype_is_float(n->dtype) ? 6 : 12;
  cgen_printf(ce, "\n/* %s %s: %s%s */\nstatic const %s %s[%lld] = {", ir_ops[n->op].name,
              n->name && *n->name ? cgen_comment_name(n->name, name, sizeof name) : "(unnamed)",
              dtype_name(n->dtype), cgen_shape(&n->shape, shp, sizeof shp), cgen_ctype(n),
              cgen_weight_name(n, w, sizeof w), (long long)(count ? count : 1));
  if (!count) /* C has no empty arrays: one element that no kernel reads */
    cgen_printf(ce, "\n  0");
  for (int64_t i = 0; i < count; i++) {
    value_literal(n, i, lit, sizeof lit);
    cgen_printf(ce, "%s%s%s", i % per_line ? " " : "\n  ", lit, i + 1 < count ? "," : "");
  }
  cgen_printf(ce, "\n};\n");
}

/* ---- in a file ---- */

static const char *const loader[] = {
    "",
    "static uint64_t dlc_le64(const unsigned char *p) {",
    "  uint64_t v = 0;",
    "  int i;",
    "  for (i = 7; i >= 0; i--) v = v << 8 | p[i];",
    "  return v;",
    "}",
    "",
    "static uint64_t dlc_fnv1a(const unsigned char *p, size_t n) {",
    "  uint64_t h = UINT64_C(14695981039346656037);",
    "  size_t i;",
    "  for (i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(1099511628211);",
    "  return h;",
    "}",
    "",
    "/* Magic, byte count and hash (little-endian), then the bytes and nothing more. */",
    "static int dlc_read_weights(FILE *f, unsigned char *w) {",
    "  unsigned char head[24];",
    "  if (fread(head, 1, 24, f) != 24 || memcmp(head, \"DLCWGT01\", 8)) return @_ERR_WEIGHTS_BAD;",
    "  if (dlc_le64(head + 8) != (uint64_t)@_WEIGHT_BYTES || dlc_le64(head + 16) != DLC_WEIGHTS_HASH)",
    "    return @_ERR_WEIGHTS_BAD;",
    "  if (fread(w, 1, (size_t)@_WEIGHT_BYTES, f) != (size_t)@_WEIGHT_BYTES || fgetc(f) != EOF)",
    "    return @_ERR_WEIGHTS_BAD;",
    "  if (dlc_fnv1a(w, (size_t)@_WEIGHT_BYTES) != DLC_WEIGHTS_HASH) return @_ERR_WEIGHTS_BAD;",
    "  return @_OK;",
    "}",
};

/* Writes the loader, with @ standing for the upper-case model name. */
static void emit_loader(CEmit *ce, uint64_t hash) {
  cgen_printf(ce, "\n/* FNV-1a 64 of the weight block this code was generated with. */\n");
  cgen_printf(ce, "#define DLC_WEIGHTS_HASH UINT64_C(0x%016" PRIx64 ")\n", hash);
  for (size_t i = 0; i < sizeof loader / sizeof loader[0]; i++) {
    for (const char *p = loader[i]; *p; p++)
      if (*p == '@') cgen_printf(ce, "%s", ce->uname);
      else fputc(*p, ce->f);
    fputc('\n', ce->f);
  }
}

static void put_le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* The weight block as the plan lays it out; NULL when out of memory. */
static unsigned char *weight_block(const CEmit *ce) {
  size_t bytes = (size_t)ce->p->weight_bytes;
  unsigned char *b = calloc(bytes ? bytes : 1, 1);
  for (int i = 0; b && i < ce->g->n; i++) {
    const Node *n = ce->g->nodes[i];
    if (!is_weight(ce, n)) continue;
    size_t size = (size_t)(shape_numel(&n->shape) * dtype_size(n->dtype));
    DLC_ASSERT(ce->p->loc[i].offset + (int64_t)size <= ce->p->weight_bytes);
    memcpy(b + ce->p->loc[i].offset, n->data, size);
  }
  return b;
}

static int write_file(CEmit *ce, FILE *wf) {
  if (!wf) return dlc_errf(ce->e, "cgen: the weights (%lld bytes) need a weights file",
                           (long long)ce->p->weight_bytes);
  unsigned char *b = weight_block(ce), head[24];
  if (!b) return dlc_errf(ce->e, "cgen: out of memory for the weight block");
  size_t bytes = (size_t)ce->p->weight_bytes;
  uint64_t hash = cgen_fnv1a(b, bytes, FNV_BASIS);
  memcpy(head, "DLCWGT01", 8);
  put_le64(head + 8, (uint64_t)bytes);
  put_le64(head + 16, hash);
  bool ok = fwrite(head, 1, 24, wf) == 24 && fwrite(b, 1, bytes, wf) == bytes;
  free(b);
  if (!ok) return dlc_errf(ce->e, "cgen: writing the weights file failed");
  emit_loader(ce, hash);
  return 0;
}

int cgen_c_weights(CEmit *ce, FILE *wf) {
  if (!ce->embedded) return write_file(ce, wf);
  for (int i = 0; i < ce->g->n; i++)
    if (ce->mutable_weights ? cgen_train_embeds(ce, ce->g->nodes[i])
                            : is_weight(ce, ce->g->nodes[i]) && cgen_is_used(ce, i))
      embed_one(ce, ce->g->nodes[i]);
  return 0;
}
