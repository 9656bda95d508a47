/* train_params.c — the weights of a model that trains: one mutable block, m->weights,
 * filled at init from the embedded arrays (or the weights file), and the parameters'
 * file of NAME_save and NAME_load:
 *
 *   "DLCPRM01"  u64 count  then per PARAM:
 *   u32 name length, the name's bytes, 8 bytes of dtype name ("f32", NUL-padded),
 *   u32 rank, rank x i64 dims, u64 byte count, the values (little-endian, C order)
 *
 * All integers little-endian.  Every PARAM is saved: the model's weights and the
 * optimizer's state ("<step>.m.<param>", ...), so training resumes where it stopped. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgen_c.h"

static bool all_zero(const Node *n) {
  const unsigned char *b = n->data;
  int64_t bytes = shape_numel(&n->shape) * dtype_size(n->dtype);
  for (int64_t i = 0; b && i < bytes; i++)
    if (b[i]) return false;
  return true;
}

static bool is_weight(const CEmit *ce, const Node *n) {
  return (n->op == OP_PARAM || n->op == OP_CONST) && n->data && ce->p->loc[n->id].kind == LOC_WEIGHT;
}

bool cgen_train_embeds(const CEmit *ce, const Node *n) {
  return ce->embedded && !ce->incbin && is_weight(ce, n) && !all_zero(n) && shape_numel(&n->shape) > 0;
}

void cgen_c_train_init(CEmit *ce) {
  const char *u = ce->uname;
  int64_t scratch = 0;
  for (int j = 0; j < ir_num_model_outputs(ce->g); j++) {
    const Node *n = ce->g->nodes[ce->g->out[j]];
    scratch += (shape_numel(&n->shape) * dtype_size(n->dtype) + 63) / 64 * 64;
  }
  cgen_printf(ce, "\n/* The mutable weight block and the scratch of the model's outputs. */\n");
  cgen_printf(ce, "static int dlc_train_init(%s *m) {\n", ce->o->name);
  if (ce->embedded) {
    cgen_line(ce, 1, "m->weight_block = calloc((size_t)%s_WEIGHT_BYTES + 64, 1);", u);
    cgen_line(ce, 1, "if (!m->weight_block) return %s_ERR_NOMEM;", u);
    cgen_line(ce, 1, "m->weights = dlc_align64(m->weight_block);");
    if (ce->incbin) cgen_line(ce, 1, "memcpy(m->weights, DLC_BLOB_DATA, (size_t)%s_WEIGHT_BYTES);", u);
    for (int i = 0; !ce->incbin && i < ce->g->n; i++) {
      const Node *n = ce->g->nodes[i];
      char w[32];
      if (cgen_train_embeds(ce, n))
        cgen_line(ce, 1, "memcpy(m->weights + %lld, %s, sizeof %s);", (long long)ce->p->loc[i].offset,
                  cgen_weight_name(n, w, sizeof w), w);
    }
  }
  cgen_line(ce, 1, "m->scratch_block = malloc(%lld + 64);", (long long)scratch);
  cgen_line(ce, 1, "if (!m->scratch_block) return %s_ERR_NOMEM;", u);
  cgen_line(ce, 1, "m->scratch = dlc_align64(m->scratch_block);");
  cgen_line(ce, 1, "return %s_OK;", u);
  cgen_printf(ce, "}\n");
}

/* ---- the table of parameters ---- */

static int param_table(CEmit *ce) {
  int count = 0;
  cgen_printf(ce, "\nstruct dlc_param {\n  const char *name, *dtype;\n  int rank;\n"
                  "  int64_t dims[%d];\n  long long offset, bytes;\n};\n", IR_MAX_RANK);
  cgen_printf(ce, "\nstatic const struct dlc_param dlc_params[] = {\n");
  for (int i = 0; i < ce->g->n; i++) {
    const Node *n = ce->g->nodes[i];
    if (n->op != OP_PARAM || ce->p->loc[i].kind != LOC_WEIGHT) continue;
    cgen_printf(ce, "  {");
    cgen_str(ce, n->name);
    cgen_printf(ce, ", \"%s\", %d, {", dtype_name(n->dtype), n->shape.rank);
    for (int d = 0; d < IR_MAX_RANK; d++)
      cgen_printf(ce, "%s%" PRId64, d ? ", " : "", d < n->shape.rank ? n->shape.d[d] : 0);
    cgen_printf(ce, "}, %lld, %lld},\n", (long long)ce->p->loc[i].offset,
                (long long)(shape_numel(&n->shape) * dtype_size(n->dtype)));
    count++;
  }
  if (!count) cgen_printf(ce, "  {\"\", \"\", 0, {0}, 0, 0},\n");
  cgen_printf(ce, "};\n\nenum { DLC_NUM_PARAMS = %d };\n", count);
  return count;
}

/* ---- the code of save, load and param ---- */

/* The helpers both backends share: one record written or read over a weight block. */
static const char *const io_helpers[] = {
    "",
    "static int dlc_put(FILE *f, uint64_t v, int bytes) {",
    "  unsigned char b[8];",
    "  int i;",
    "  for (i = 0; i < bytes; i++) b[i] = (unsigned char)(v >> (8 * i));",
    "  return fwrite(b, 1, (size_t)bytes, f) == (size_t)bytes ? 0 : -1;",
    "}",
    "",
    "static int dlc_get(FILE *f, uint64_t *v, int bytes) {",
    "  unsigned char b[8];",
    "  int i;",
    "  if (fread(b, 1, (size_t)bytes, f) != (size_t)bytes) return -1;",
    "  for (*v = 0, i = bytes - 1; i >= 0; i--) *v = *v << 8 | b[i];",
    "  return 0;",
    "}",
    "",
    "static int dlc_save_one(FILE *f, const unsigned char *w, const struct dlc_param *p) {",
    "  char dt[8] = {0};",
    "  int d, r = 0;",
    "  memcpy(dt, p->dtype, strlen(p->dtype));",
    "  r |= dlc_put(f, strlen(p->name), 4);",
    "  r |= fwrite(p->name, 1, strlen(p->name), f) == strlen(p->name) ? 0 : -1;",
    "  r |= fwrite(dt, 1, 8, f) == 8 ? 0 : -1;",
    "  r |= dlc_put(f, (uint64_t)p->rank, 4);",
    "  for (d = 0; d < p->rank; d++) r |= dlc_put(f, (uint64_t)p->dims[d], 8);",
    "  r |= dlc_put(f, (uint64_t)p->bytes, 8);",
    "  if (p->bytes) r |= fwrite(w + p->offset, 1, (size_t)p->bytes, f) == (size_t)p->bytes ? 0 : -1;",
    "  return r;",
    "}",
    "",
    "/* Reads one record into w; -1 when it is not one of this model's parameters. */",
    "static int dlc_load_one(FILE *f, unsigned char *w) {",
    "  char name[4097], dt[9] = {0};",
    "  uint64_t len, rank, dim, bytes;",
    "  int i, d;",
    "  if (dlc_get(f, &len, 4) || len > 4096 || fread(name, 1, (size_t)len, f) != (size_t)len) return -1;",
    "  name[len] = 0;",
    "  if (fread(dt, 1, 8, f) != 8 || dlc_get(f, &rank, 4)) return -1;",
    "  for (i = 0; i < DLC_NUM_PARAMS && strcmp(dlc_params[i].name, name); i++) continue;",
    "  if (i == DLC_NUM_PARAMS || strcmp(dt, dlc_params[i].dtype) || rank != (uint64_t)dlc_params[i].rank) return -1;",
    "  for (d = 0; d < dlc_params[i].rank; d++)",
    "    if (dlc_get(f, &dim, 8) || dim != (uint64_t)dlc_params[i].dims[d]) return -1;",
    "  if (dlc_get(f, &bytes, 8) || bytes != (uint64_t)dlc_params[i].bytes) return -1;",
    "  if (bytes && fread(w + dlc_params[i].offset, 1, (size_t)bytes, f) != (size_t)bytes) return -1;",
    "  return 0;",
    "}",
};

/* The C backend's entry points, over m->weights. */
static const char *const io_entries[] = {
    "",
    "void *@_param(@ *m, const char *name) {",
    "  int i;",
    "  for (i = 0; i < DLC_NUM_PARAMS; i++)",
    "    if (!strcmp(dlc_params[i].name, name)) return m->weights + dlc_params[i].offset;",
    "  return NULL;",
    "}",
    "",
    "int @_save(const @ *m, const char *path) {",
    "  FILE *f = fopen(path, \"wb\");",
    "  int i, r = 0;",
    "  if (!f) return $_ERR_WEIGHTS_OPEN;",
    "  r |= fwrite(\"DLCPRM01\", 1, 8, f) == 8 ? 0 : -1;",
    "  r |= dlc_put(f, DLC_NUM_PARAMS, 8);",
    "  for (i = 0; i < DLC_NUM_PARAMS; i++) r |= dlc_save_one(f, m->weights, &dlc_params[i]);",
    "  if (fclose(f)) r = -1;",
    "  return r ? $_ERR_WEIGHTS_OPEN : $_OK;",
    "}",
    "",
    "int @_load(@ *m, const char *path) {",
    "  FILE *f = fopen(path, \"rb\");",
    "  char magic[8];",
    "  uint64_t n, i;",
    "  int bad;",
    "  unsigned char *w;",
    "  if (!f) return $_ERR_WEIGHTS_OPEN;",
    "  w = (unsigned char *)malloc((size_t)$_WEIGHT_BYTES + 1);",
    "  if (!w) {",
    "    fclose(f);",
    "    return $_ERR_NOMEM;",
    "  }",
    "  memcpy(w, m->weights, (size_t)$_WEIGHT_BYTES);",
    "  bad = fread(magic, 1, 8, f) != 8 || memcmp(magic, \"DLCPRM01\", 8) || dlc_get(f, &n, 8);",
    "  for (i = 0; !bad && i < n; i++) bad = dlc_load_one(f, w);",
    "  bad = bad || fgetc(f) != EOF;",
    "  fclose(f);",
    "  if (!bad) memcpy(m->weights, w, (size_t)$_WEIGHT_BYTES);",
    "  free(w);",
    "  return bad ? $_ERR_WEIGHTS_BAD : $_OK;",
    "}",
};

/* Writes lines[0..n) with @ for the model's name and $ for it in upper case. */
static void put_code(CEmit *ce, const char *const *lines, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (const char *p = lines[i]; *p; p++)
      if (*p == '@' || *p == '$') cgen_printf(ce, "%s", *p == '$' ? ce->uname : ce->o->name);
      else fputc(*p, ce->f);
    fputc('\n', ce->f);
  }
}

void cgen_param_io(CEmit *ce) {
  param_table(ce);
  put_code(ce, io_helpers, sizeof io_helpers / sizeof io_helpers[0]);
}

void cgen_c_train_params(CEmit *ce) {
  cgen_param_io(ce);
  put_code(ce, io_entries, sizeof io_entries / sizeof io_entries[0]);
}
