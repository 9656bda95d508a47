/* weights.c — PARAM and CONST data, and every other constant the kernels read (matmul's
 * packed panels, pack.c).  Three ways:
 *
 * - a blob (the default for embedded weights): the bytes in a file beside the code
 *   (model.bin), linked into the object by the assembler's .incbin, so the code holds no
 *   numbers and compiles in the time of its kernels:
 *
 *     "DLCBIN01"  uint64 data bytes  uint64 FNV-1a 64 of the data  zeros to 64  the data
 *
 *   the data being the weight block at the plan's offsets, then each further constant
 *   at a 64-byte aligned offset; the code's names are pointers into it.  The assembler
 *   finds the file through the include path (-I), so NAME_init checks that the blob it
 *   got is this code's (length, magic, size, hash) before anything reads it;
 * - static arrays of exact literals (hex floats; --weights-as c-array), for a compiler
 *   without .incbin;
 * - a weights file that NAME_init reads, for weights over embed_max_bytes:
 *
 *     "DLCWGT01"  uint64 byte count  uint64 FNV-1a 64 of the bytes  the bytes
 *
 * In both files the integers are little-endian, and the hash is also baked into the
 * code, so the file of another model is refused. */
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

/* ---- embedded: the data, as a blob or as C arrays ---- */

static void value_literal(DType t, const void *vals, int64_t i, char *buf, size_t size) {
  if (t == DT_I64) cgen_literal_i64(((const int64_t *)vals)[i], buf, size);
  else if (t == DT_U64) snprintf(buf, size, "UINT64_C(%" PRIu64 ")", ((const uint64_t *)vals)[i]);
  else cgen_literal(t, dtype_load(t, vals, i), buf, size);
}

static void c_array(CEmit *ce, const char *name, DType t, const void *vals, int64_t count) {
  int per_line = dtype_is_float(t) ? 6 : 12;
  char lit[64];
  cgen_printf(ce, "static const %s %s[%lld] = {", dtype_ctype(t), name, (long long)(count ? count : 1));
  if (!count) /* C has no empty arrays: one element that no kernel reads */
    cgen_printf(ce, "\n  0");
  for (int64_t i = 0; i < count; i++) {
    value_literal(t, vals, i, lit, sizeof lit);
    cgen_printf(ce, "%s%s%s", i % per_line ? " " : "\n  ", lit, i + 1 < count ? "," : "");
  }
  cgen_printf(ce, "\n};\n");
}

/* Room for n more bytes at the end of the blob, which stays a multiple of 64 long;
 * the offset of the room, or -1 when out of memory. */
static int64_t blob_grow(CEmit *ce, size_t n) {
  size_t at = ce->blob_len, len = at + (n + 63) / 64 * 64;
  if (len > ce->blob_cap) {
    size_t cap = ce->blob_cap ? ce->blob_cap : 1 << 16;
    while (cap < len) cap *= 2;
    unsigned char *b = dlc_try_realloc(ce->blob, cap);
    if (!b) return -1;
    ce->blob = b, ce->blob_cap = cap;
  }
  if (len > at) memset(ce->blob + at, 0, len - at); /* no blob yet for an empty tensor */
  ce->blob_len = len;
  return (int64_t)at;
}

void cgen_blob_free(CEmit *ce) {
  free(ce->blob);
  free(ce->data);
  ce->blob = NULL, ce->blob_len = ce->blob_cap = 0;
  ce->data = NULL, ce->ndata = ce->data_cap = 0;
}

/* One piece of cgen_c_data's: where its bytes are kept in ce->blob (with C arrays too,
 * for the comparison) and the name it went out under. */
struct CgenData {
  uint64_t hash;
  int64_t at;
  size_t bytes;
  DType t;
  char name[48];
};

/* The earlier piece with these bytes, or NULL. */
static const struct CgenData *data_find(const CEmit *ce, DType t, const void *vals, size_t bytes, uint64_t hash) {
  for (int i = 0; i < ce->ndata; i++) {
    const struct CgenData *d = &ce->data[i];
    if (d->hash == hash && d->bytes == bytes && d->t == t && !memcmp(ce->blob + d->at, vals, bytes)) return d;
  }
  return NULL;
}

static int data_keep(CEmit *ce, const char *name, DType t, const void *vals, size_t bytes, uint64_t hash,
                     int64_t *at) {
  if (ce->ndata == ce->data_cap) {
    int cap = ce->data_cap ? 2 * ce->data_cap : 16;
    struct CgenData *d = dlc_try_realloc(ce->data, sizeof *d * (size_t)cap);
    if (!d) return -1;
    ce->data = d, ce->data_cap = cap;
  }
  if ((*at = blob_grow(ce, bytes)) < 0) return -1;
  if (bytes) memcpy(ce->blob + *at, vals, bytes);
  struct CgenData *d = &ce->data[ce->ndata++];
  *d = (struct CgenData){.hash = hash, .at = *at, .bytes = bytes, .t = t};
  snprintf(d->name, sizeof d->name, "%s", name);
  return 0;
}

int cgen_c_data(CEmit *ce, const char *name, DType t, const void *vals, int64_t count, const char *comment) {
  size_t bytes = (size_t)count * (size_t)dtype_size(t);
  uint64_t hash = cgen_fnv1a(vals, bytes, FNV_BASIS);
  cgen_printf(ce, "\n/* %s */\n", comment);
  const struct CgenData *same = data_find(ce, t, vals, bytes, hash);
  if (same) return cgen_printf(ce, "#define %s %s\n", name, same->name), 0;
  int64_t at;
  if (data_keep(ce, name, t, vals, bytes, hash, &at)) return dlc_errf(ce->e, "cgen: out of memory for the weights");
  if (!ce->incbin) return c_array(ce, name, t, vals, count), 0;
  cgen_printf(ce, "#define %s ((const %s *)(DLC_BLOB_DATA + %lld))\n", name, dtype_ctype(t), (long long)at);
  return 0;
}

static void node_comment(const Node *n, char *buf, size_t size) {
  char name[256], shp[160];
  snprintf(buf, size, "%s %s: %s%s", ir_ops[n->op].name,
           n->name && *n->name ? cgen_comment_name(n->name, name, sizeof name) : "(unnamed)",
           dtype_name(n->dtype), cgen_shape(&n->shape, shp, sizeof shp));
}

static int embed_one(CEmit *ce, const Node *n) {
  char w[32], comment[512];
  node_comment(n, comment, sizeof comment);
  return cgen_c_data(ce, cgen_weight_name(n, w, sizeof w), n->dtype, n->data, shape_numel(&n->shape), comment);
}

/* Writes the text, with @ standing for the upper-case model name, $ for the name. */
static void emit_text(CEmit *ce, const char *const *lines, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (const char *p = lines[i]; *p; p++)
      if (*p == '@' || *p == '$') cgen_printf(ce, "%s", *p == '@' ? ce->uname : ce->o->name);
      else fputc(*p, ce->f);
    fputc('\n', ce->f);
  }
}

static const char *const blob_intro[] = {
    "#if !defined(__GNUC__) || !(defined(__ELF__) || defined(__APPLE__))",
    "#error \"the weights are linked by .incbin (gcc or clang, ELF or Mach-O): regenerate with dlc compile --weights-as c-array\"",
    "#endif",
    "/* The blob as linked: its length (8 bytes, then zeros to 64), the file's 64-byte",
    " * header, then the data: the weight block at the plan's offsets, then the panels. */",
    "extern const unsigned char dlc_blob[] __asm__(\"dlc_blob_$\") __attribute__((visibility(\"hidden\")));",
    "#define DLC_BLOB_DATA (dlc_blob + 128)",
};

/* The blob's data begins with the weight block; the kernels' names point into it. */
static int blob_begin(CEmit *ce) {
  char blob[300];
  cgen_printf(ce, "\n/* The weights (and matmul's packed panels) are the bytes of %s, which the\n"
                  " * assembler links below (.incbin): it is found beside this file through the\n"
                  " * include path (cc -I<this folder>), or define %s_WEIGHTS_BIN as its path. */\n",
              cgen_blob_name(ce->o, blob, sizeof blob), ce->uname);
  emit_text(ce, blob_intro, sizeof blob_intro / sizeof blob_intro[0]);
  int64_t at = blob_grow(ce, (size_t)ce->p->weight_bytes);
  if (at < 0) return dlc_errf(ce->e, "cgen: out of memory for the weights");
  for (int i = 0; i < ce->g->n; i++) {
    const Node *n = ce->g->nodes[i];
    if (!is_weight(ce, n) || !n->data || n->dtype == DT_STR) continue; /* str: string literals */
    size_t size = (size_t)(shape_numel(&n->shape) * dtype_size(n->dtype));
    DLC_ASSERT(ce->p->loc[i].offset + (int64_t)size <= ce->p->weight_bytes);
    memcpy(ce->blob + ce->p->loc[i].offset, n->data, size);
    char w[32];
    if (!ce->mutable_weights && cgen_is_used(ce, i))
      cgen_printf(ce, "#define %s ((const %s *)(DLC_BLOB_DATA + %lld))\n", cgen_weight_name(n, w, sizeof w),
                  cgen_ctype(n), (long long)ce->p->loc[i].offset);
  }
  return 0;
}

static void put_le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static const char *const blob_link[] = {
    "#if defined(__APPLE__)",
    "#define DLC_BLOB_SECTION \".section __TEXT,__const\\n\"",
    "#define DLC_BLOB_HIDDEN \".private_extern \"",
    "#else",
    "#define DLC_BLOB_SECTION \".section .rodata\\n\"",
    "#define DLC_BLOB_HIDDEN \".hidden \"",
    "#endif",
    "__asm__(DLC_BLOB_SECTION",
    "        \".balign 64\\n\"",
    "        \".globl dlc_blob_$\\n\"",
    "        DLC_BLOB_HIDDEN \"dlc_blob_$\\n\"",
    "        \"dlc_blob_$:\\n\"",
    "        \".quad 1f - 0f\\n\"",
    "        \".balign 64\\n\"",
    "        \"0:\\n\"",
    "        \".incbin \\\"\" @_WEIGHTS_BIN \"\\\"\\n\"",
    "        \"1:\\n\"",
    "        \".previous\\n\");",
    "",
    "static uint64_t dlc_le64(const unsigned char *p) {",
    "  uint64_t v = 0;",
    "  int i;",
    "  for (i = 7; i >= 0; i--) v = v << 8 | p[i];",
    "  return v;",
    "}",
    "",
    "/* Whether the blob the assembler found is this code's: its length, magic, size, hash. */",
    "static int dlc_blob_check(void) {",
    "  uint64_t linked;",
    "  memcpy(&linked, dlc_blob, 8);",
    "  if (linked != 64 + DLC_BLOB_BYTES || memcmp(dlc_blob + 64, \"DLCBIN01\", 8) ||",
    "      dlc_le64(dlc_blob + 72) != DLC_BLOB_BYTES || dlc_le64(dlc_blob + 80) != DLC_WEIGHTS_HASH)",
    "    return @_ERR_WEIGHTS_BAD;",
    "  return @_OK;",
    "}",
};

/* The blob file: "DLCBIN01", u64 data bytes, u64 FNV-1a 64 of the data (little-endian),
 * zeros to 64 bytes, the data. */
static int blob_end(CEmit *ce, FILE *wf) {
  char blob[300];
  if (!wf) return dlc_errf(ce->e, "cgen: the embedded weights (%lld bytes) need a file for the blob",
                           (long long)ce->blob_len);
  unsigned char head[64] = "DLCBIN01";
  uint64_t hash = cgen_fnv1a(ce->blob, ce->blob_len, FNV_BASIS);
  put_le64(head + 8, (uint64_t)ce->blob_len);
  put_le64(head + 16, hash);
  if (fwrite(head, 1, 64, wf) != 64 || fwrite(ce->blob, 1, ce->blob_len, wf) != ce->blob_len)
    return dlc_errf(ce->e, "cgen: writing the blob failed");
  cgen_printf(ce, "\n/* The blob: %s unless defined otherwise (-D%s_WEIGHTS_BIN='\"path\"'). */\n",
              cgen_blob_name(ce->o, blob, sizeof blob), ce->uname);
  cgen_printf(ce, "#ifndef %s_WEIGHTS_BIN\n#define %s_WEIGHTS_BIN \"%s\"\n#endif\n", ce->uname, ce->uname, blob);
  cgen_printf(ce, "#define DLC_BLOB_BYTES %lld\n", (long long)ce->blob_len);
  cgen_printf(ce, "#define DLC_WEIGHTS_HASH UINT64_C(0x%016" PRIx64 ")\n", hash);
  emit_text(ce, blob_link, sizeof blob_link / sizeof blob_link[0]);
  return 0;
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
  emit_text(ce, loader, sizeof loader / sizeof loader[0]);
}

/* The weight block as the plan lays it out; NULL when out of memory. */
static unsigned char *weight_block(const CEmit *ce) {
  size_t bytes = (size_t)ce->p->weight_bytes;
  unsigned char *b = dlc_calloc(bytes ? bytes : 1, 1);
  for (int i = 0; b && i < ce->g->n; i++) {
    const Node *n = ce->g->nodes[i];
    if (!is_weight(ce, n) || n->dtype == DT_STR) continue;
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

/* str constants, wherever the weights are: arrays of string literals (strings.c). */
static int str_consts(CEmit *ce) {
  for (int i = 0; i < ce->g->n; i++)
    if (ce->g->nodes[i]->dtype == DT_STR && is_weight(ce, ce->g->nodes[i]) && cgen_is_used(ce, i) &&
        cgen_str_const(ce, ce->g->nodes[i]))
      return -1;
  return 0;
}

int cgen_c_weights(CEmit *ce, FILE *wf) {
  if (str_consts(ce)) return -1;
  if (!ce->embedded) return write_file(ce, wf);
  if (ce->incbin) return blob_begin(ce);
  for (int i = 0; i < ce->g->n; i++)
    if ((ce->mutable_weights ? cgen_train_embeds(ce, ce->g->nodes[i])
                             : is_weight(ce, ce->g->nodes[i]) && cgen_is_used(ce, i) &&
                                   ce->g->nodes[i]->dtype != DT_STR) &&
        embed_one(ce, ce->g->nodes[i]))
      return -1;
  return 0;
}

int cgen_c_weights_end(CEmit *ce, FILE *wf) { return ce->incbin ? blob_end(ce, wf) : 0; }
