/* print.c — writes a graph in the native text format (docs/FORMAT.md).
 *
 * Only core ops, every attribute explicit, nodes in id order, values exact (floats as
 * the shortest decimal that reads back to the same bits, parameter data as %a), so the
 * text parses back to the same graph and printing that again gives the same text.
 * Names: sources keep theirs, quoted when they are not identifiers; another node keeps
 * its own name when it is a plain identifier that no later node holds; the rest are
 * t<id> (c<id> for constants), made unique. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* ---- names ---- */

typedef struct Names {
  char **name;   /* per node id: how the text refers to it */
  char **table;  /* the names taken, open addressing */
  size_t cap;
} Names;

static uint64_t hash(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static char **find(Names *nm, const char *s) {
  size_t i = (size_t)hash(s) & (nm->cap - 1);
  while (nm->table[i] && strcmp(nm->table[i], s)) i = (i + 1) & (nm->cap - 1);
  return &nm->table[i];
}

static bool taken(Names *nm, const char *s) { return *find(nm, s) != NULL; }

static char *take(Names *nm, const char *s) {
  char **slot = find(nm, s);
  if (!*slot) *slot = dlc_strdup(s);
  DLC_ASSERT(*slot);
  return *slot;
}

/* Words that read as literals where a value is expected; such names are quoted. */
static bool reserved(const char *s) {
  return !strcmp(s, "nan") || !strcmp(s, "inf") || !strcmp(s, "true") || !strcmp(s, "false");
}

static bool plain_ident(const char *s) {
  if (!s || !(isalpha((unsigned char)*s) || *s == '_')) return false;
  for (const char *q = s; *q; q++)
    if (!(isalnum((unsigned char)*q) || *q == '_' || *q == '.')) return false;
  return !reserved(s);
}

static bool is_source(const Node *n) {
  return n->op == OP_INPUT || n->op == OP_PARAM || (n->op == OP_CONST && n->name);
}

/* t<id>, or t<id>_<k> when a source or an earlier node already holds that. */
static char *fresh(Names *nm, char prefix, int id) {
  char buf[48];
  snprintf(buf, sizeof buf, "%c%d", prefix, id);
  for (int k = 1; taken(nm, buf); k++) snprintf(buf, sizeof buf, "%c%d_%d", prefix, id, k);
  return take(nm, buf);
}

static void names_assign(Names *nm, const Graph *g) {
  nm->cap = 16;
  while (nm->cap < 4 * (size_t)g->n + 16) nm->cap *= 2;
  nm->table = dlc_calloc(nm->cap, sizeof(char *));
  nm->name = dlc_calloc((size_t)g->n + 1, sizeof(char *));
  DLC_ASSERT(nm->table && nm->name);
  for (int i = 0; i < g->n; i++) /* sources first: their names must survive */
    if (is_source(g->nodes[i])) nm->name[i] = take(nm, g->nodes[i]->name);
  /* A rebound name (h = tanh(h)) goes to its last value, which is what the source
   * meant by it from then on, and usually what it outputs. */
  for (int i = g->n - 1; i >= 0; i--) {
    const Node *n = g->nodes[i];
    if (!is_source(n) && plain_ident(n->name) && !taken(nm, n->name))
      nm->name[i] = take(nm, n->name);
  }
  for (int i = 0; i < g->n; i++)
    if (!nm->name[i]) nm->name[i] = fresh(nm, g->nodes[i]->op == OP_CONST ? 'c' : 't', i);
}

static void names_free(Names *nm) {
  for (size_t i = 0; i < nm->cap; i++) free(nm->table[i]);
  free(nm->table);
  free(nm->name);
}

static void put_name(FILE *f, const char *s) {
  if (plain_ident(s)) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* ---- values ---- */

/* The shortest %g that reads back (through the dtype) to the same bits. */
static void put_float(FILE *f, DType t, double v) {
  if (isnan(v)) {
    fputs(signbit(v) ? "-nan" : "nan", f);
    return;
  }
  if (isinf(v)) {
    fputs(v < 0 ? "-inf" : "inf", f);
    return;
  }
  char buf[64];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    double back = dtype_round(t, strtod(buf, NULL));
    if (memcmp(&back, &v, sizeof v) == 0) break;
  }
  fputs(buf, f);
}

static void put_hex(FILE *f, double v) {
  if (isnan(v)) fputs(signbit(v) ? "-nan" : "nan", f);
  else if (isinf(v)) fputs(v < 0 ? "-inf" : "inf", f);
  else fprintf(f, "%a", v);
}

/* A str value quoted: \" \\ \n \r \t, other control bytes \xHH, UTF-8 as it is (txt_lex.c). */
static void put_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\r') fputs("\\r", f);
    else if (c == '\t') fputs("\\t", f);
    else if (c < 0x20 || c == 0x7f) fprintf(f, "\\x%02x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void put_value(FILE *f, DType t, const void *data, int64_t i, bool hex) {
  if (t == DT_STR) put_str(f, ((const char *const *)data)[i]);
  else if (t == DT_I64) fprintf(f, "%lld", (long long)((const int64_t *)data)[i]);
  else if (t == DT_BOOL) fputs(dtype_load(t, data, i) != 0 ? "true" : "false", f);
  else if (!dtype_is_float(t)) fprintf(f, "%.0f", dtype_load(t, data, i));
  else if (hex) put_hex(f, dtype_load(t, data, i));
  else put_float(f, t, dtype_load(t, data, i));
}

/* A bare value for one element, else a list, eight values to a line. */
static void put_values(FILE *f, DType t, const Shape *s, const void *data, bool hex) {
  int64_t n = shape_numel(s);
  if (n == 1) {
    put_value(f, t, data, 0, hex);
    return;
  }
  fputc('[', f);
  for (int64_t i = 0; i < n; i++) {
    if (i) fputs(i % 8 ? ", " : ",\n    ", f);
    put_value(f, t, data, i, hex);
  }
  fputc(']', f);
}

static void put_type(FILE *f, DType t, const Shape *s) {
  fprintf(f, "%s[", dtype_name(t));
  for (int i = 0; i < s->rank; i++) fprintf(f, "%s%lld", i ? ", " : "", (long long)s->d[i]);
  fputc(']', f);
}

/* ---- statements ---- */

/* The initializer's own arguments (a, b), then its seed. */
static void put_init(FILE *f, const Node *n) {
  static const char *const args[INIT_COUNT][2] = {
      [INIT_FILL] = {"value", NULL}, [INIT_NORMAL] = {"mean", "std"},
      [INIT_UNIFORM] = {"low", "high"}};
  const Init *in = &n->init;
  if (in->kind == INIT_DATA) {
    fputs("data(", f);
    put_values(f, n->dtype, &n->shape, n->data, true);
    fputc(')', f);
    return;
  }
  fprintf(f, "%s(", init_name(in->kind));
  const double ab[2] = {in->a, in->b};
  for (int i = 0; i < 2 && args[in->kind][i]; i++) {
    fprintf(f, "%s=", args[in->kind][i]);
    put_float(f, DT_F64, ab[i]);
    fputs(", ", f);
  }
  fprintf(f, "seed=%llu)", (unsigned long long)in->seed);
}

static void put_attr(FILE *f, const Attr *a, bool first) {
  fprintf(f, "%s%s=", first ? "" : ", ", attr_name(a->key));
  switch (a->kind) {
  case AK_INT: fprintf(f, "%lld", (long long)a->i); break;
  case AK_FLOAT: put_float(f, DT_F64, a->f); break;
  case AK_DTYPE: fputs(dtype_name((DType)a->i), f); break;
  case AK_INTS:
    fputc('[', f);
    for (int i = 0; i < a->n; i++) fprintf(f, "%s%lld", i ? ", " : "", (long long)a->ints[i]);
    fputc(']', f);
    break;
  }
}

static void put_source(FILE *f, const Node *n, const char *name) {
  fprintf(f, "%s ", ir_ops[n->op].name);
  put_name(f, name);
  fputs(": ", f);
  put_type(f, n->dtype, &n->shape);
  if (n->op == OP_INPUT) return;
  fputs(" = ", f);
  if (n->op == OP_PARAM) put_init(f, n);
  else put_values(f, n->dtype, &n->shape, n->data, false);
}

static void put_op(FILE *f, const Node *n, const Names *nm) {
  put_name(f, nm->name[n->id]);
  fprintf(f, " = %s(", ir_ops[n->op].name);
  for (int i = 0; i < n->nin; i++) {
    if (i) fputs(", ", f);
    put_name(f, nm->name[n->in[i]]);
  }
  for (int i = 0; i < n->nattr; i++) put_attr(f, &n->attr[i], i == 0 && n->nin == 0);
  fputc(')', f);
  if (n->guard >= 0) {
    fputs(" if ", f);
    put_name(f, nm->name[n->guard]);
  }
  char shp[160];
  shape_str(&n->shape, shp, sizeof shp);
  fprintf(f, "  # %s%s", dtype_name(n->dtype), shp);
}

void ir_print(FILE *f, const Graph *g) {
  Names nm = {0};
  names_assign(&nm, g);
  fprintf(f, "model %s\n", plain_ident(g->name) && !strchr(g->name, '.') ? g->name : "model");
  for (int i = 0; i < g->n; i++) {
    const Node *n = g->nodes[i];
    if (n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_CONST) put_source(f, n, nm.name[i]);
    else put_op(f, n, &nm);
    fputc('\n', f);
  }
  for (int i = 0; i < g->nout; i++) {
    fputs("output ", f);
    put_name(f, g->out_name[i]);
    if (strcmp(g->out_name[i], nm.name[g->out[i]])) {
      fputs(" = ", f);
      put_name(f, nm.name[g->out[i]]);
    }
    if (g->out_count && g->out_count[i] >= 0) {
      fprintf(f, " extent %d ", g->out_axis[i]);
      put_name(f, g->out_name[g->out_count[i]]);
    }
    if (g->out_keys && g->out_keys[i] >= 0) {
      fputs(" keys ", f);
      put_name(f, g->out_name[g->out_keys[i]]);
    }
    fputc('\n', f);
  }
  names_free(&nm);
}
