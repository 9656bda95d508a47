/* graph.c — the op table, attributes, initializers, and building graphs. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dlc_rng.h"
#include "ir.h"
#include "scalar.h"
#include "shape.h"

/* ---- the op table ---- */

const OpInfo ir_ops[OP_COUNT] = {
#define OP(id, name, nin, impl, types, result, attrs, scalar, cexpr, grad) \
  [OP_##id] = {name, nin, #impl, types, result, attrs, scalar, cexpr, shape_##impl},
#include "ops.def"
#undef OP
};

enum { OPS_IN_TABLE = 0
#define OP(id, ...) +1
#include "ops.def"
#undef OP
};
_Static_assert((int)OPS_IN_TABLE == (int)OP_COUNT, "ops.def and the Op enum disagree");

static bool word_eq(const char *w, const char *s, size_t n) {
  return strlen(w) == n && !memcmp(w, s, n);
}

int op_parse(const char *s, size_t n) {
  for (int i = 0; i < OP_COUNT; i++)
    if (word_eq(ir_ops[i].name, s, n)) return i;
  return -1;
}

bool op_takes_storage(Op op) { return op == OP_CAST || op == OP_BITCAST; }
bool op_takes_str(Op op) {
  return op == OP_INPUT || op == OP_PARAM || op == OP_CONST || op == OP_RESHAPE || op == OP_TRANSPOSE ||
         op == OP_BROADCAST || op == OP_SLICE || op == OP_CONCAT || op == OP_GATHER || op == OP_SELECT ||
         !strncmp(ir_ops[op].name, "str_", 4);
}

bool op_is_elementwise(Op op) {
  const char *im = ir_ops[op].impl;
  return !strcmp(im, "unary") || !strcmp(im, "binary") || !strcmp(im, "select") ||
         !strcmp(im, "cast") || !strcmp(im, "bitcast");
}

/* ---- attributes ---- */

static const char *attr_names[A_COUNT] = {
#define X(id, name) [A_##id] = name,
    DLC_ATTRS(X)
#undef X
};

const char *attr_name(AttrKey k) { return attr_names[k]; }

int attr_parse(const char *s, size_t n) {
  for (int i = 0; i < A_COUNT; i++)
    if (word_eq(attr_names[i], s, n)) return i;
  return -1;
}

/* Reads the schema string of ops.def: "axes:ints keepdims:int=0 strides:ints?". */
int op_attr_specs(Op op, AttrSpec *out, int max) {
  const char *p = ir_ops[op].attrs;
  int k = 0;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    const char *colon = strchr(p, ':');
    DLC_ASSERT(colon && k < max);
    int key = attr_parse(p, (size_t)(colon - p));
    DLC_ASSERT(key >= 0);
    const char *kind = colon + 1, *e = kind;
    while (*e && *e != ' ' && *e != '=' && *e != '?') e++;
    AttrSpec s = {.key = (AttrKey)key};
    if (word_eq("int", kind, (size_t)(e - kind))) s.kind = AK_INT;
    else if (word_eq("ints", kind, (size_t)(e - kind))) s.kind = AK_INTS;
    else if (word_eq("float", kind, (size_t)(e - kind))) s.kind = AK_FLOAT;
    else if (word_eq("dtype", kind, (size_t)(e - kind))) s.kind = AK_DTYPE;
    else DLC_ASSERT(!"bad attribute kind in ops.def");
    if (*e == '?') s.optional = true, e++;
    else if (*e == '=') {
      char *end;
      s.optional = s.has_default = true;
      s.def = strtod(e + 1, &end);
      e = end;
    }
    out[k++] = s;
    p = e;
  }
  return k;
}

Attr attr_int(AttrKey k, int64_t v) { return (Attr){.key = k, .kind = AK_INT, .i = v}; }

Attr attr_ints(AttrKey k, const int64_t *v, int n) {
  return (Attr){.key = k, .kind = AK_INTS, .n = n, .ints = (int64_t *)v};
}

Attr attr_float(AttrKey k, double v) { return (Attr){.key = k, .kind = AK_FLOAT, .f = v}; }

Attr attr_dtype(AttrKey k, DType t) { return (Attr){.key = k, .kind = AK_DTYPE, .i = t}; }

static Attr attr_copy(Arena *a, const Attr *s) {
  Attr d = *s;
  if (s->kind == AK_INTS) {
    d.ints = arena_alloc(a, sizeof(int64_t) * (size_t)(s->n ? s->n : 1));
    if (s->n) memcpy(d.ints, s->ints, sizeof(int64_t) * (size_t)s->n);
  }
  return d;
}

const Attr *node_attr(const Node *n, AttrKey k) {
  for (int i = 0; i < n->nattr; i++)
    if (n->attr[i].key == k) return &n->attr[i];
  return NULL;
}

int64_t node_int(const Node *n, AttrKey k) {
  const Attr *a = node_attr(n, k);
  DLC_ASSERT(a && (a->kind == AK_INT || a->kind == AK_DTYPE));
  return a->i;
}

const int64_t *node_ints(const Node *n, AttrKey k, int *count) {
  const Attr *a = node_attr(n, k);
  DLC_ASSERT(a && a->kind == AK_INTS);
  if (count) *count = a->n;
  return a->ints;
}

double node_float(const Node *n, AttrKey k) {
  const Attr *a = node_attr(n, k);
  DLC_ASSERT(a && a->kind == AK_FLOAT);
  return a->f;
}

/* ---- initializers ---- */

static const char *init_names[INIT_COUNT] = {
#define X(id, name) [INIT_##id] = name,
    DLC_INITS(X)
#undef X
};

const char *init_name(InitKind k) { return init_names[k]; }

int init_parse(const char *s, size_t n) {
  for (int i = 0; i < INIT_COUNT; i++)
    if (word_eq(init_names[i], s, n)) return i;
  return -1;
}

void init_fans(const Shape *s, double *fan_in, double *fan_out) {
  if (s->rank == 0) *fan_in = *fan_out = 1;
  else if (s->rank == 1) *fan_in = *fan_out = (double)s->d[0];
  else if (s->rank == 2) *fan_in = (double)s->d[0], *fan_out = (double)s->d[1];
  else {
    double field = 1;
    for (int i = 2; i < s->rank; i++) field *= (double)s->d[i];
    *fan_in = (double)s->d[1] * field;
    *fan_out = (double)s->d[0] * field;
  }
}

void init_fill(const Init *in, DType t, const Shape *s, void *data) {
  int64_t n = shape_numel(s);
  double fi, fo;
  init_fans(s, &fi, &fo);
  for (int64_t i = 0; i < n; i++) {
    double v = 0;
    switch (in->kind) {
    case INIT_ZEROS: v = 0; break;
    case INIT_ONES: v = 1; break;
    case INIT_FILL: v = in->a; break;
    case INIT_NORMAL: v = in->a + in->b * rt_rand_normal(in->seed, (uint64_t)i); break;
    case INIT_UNIFORM: v = in->a + (in->b - in->a) * rt_rand_uniform(in->seed, (uint64_t)i); break;
    case INIT_XAVIER: {
      double lim = sqrt(6.0 / (fi + fo));
      v = -lim + 2 * lim * rt_rand_uniform(in->seed, (uint64_t)i);
      break;
    }
    case INIT_HE: v = sqrt(2.0 / fi) * rt_rand_normal(in->seed, (uint64_t)i); break;
    case INIT_DATA: case INIT_COUNT: DLC_ASSERT(!"init_fill of explicit data");
    }
    dtype_store(t, data, i, v);
  }
}

/* ---- graphs ---- */

Graph *ir_graph_new(const char *name) {
  Arena *a = arena_new();
  Graph *g = arena_alloc(a, sizeof *g);
  g->arena = a;
  g->name = arena_strdup(a, name ? name : "model");
  g->group = -1;
  g->guard = -1;
  return g;
}

void ir_graph_free(Graph *g) {
  if (g) arena_free(g->arena);
}

void ir_note(Graph *g, const char *fmt, ...) {
  char raw[512], buf[4 * sizeof raw];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  dlc_escape_ctl(buf, sizeof buf, raw); /* names from the model: no control bytes reach the terminal */
  if (g->nnotes == g->notecap)
    g->notes = arena_grow(g->arena, g->notes, g->nnotes, g->notecap, sizeof(char *)), g->notecap = arena_grown(g->notecap);
  g->notes[g->nnotes++] = arena_strdup(g->arena, buf);
}

bool ir_guard_implies(const Graph *g, int a, int b) {
  for (int steps = 0; b >= 0 && a != b; steps++) {
    if (a < 0 || steps > g->n) return false;
    const Node *n = g->nodes[a];
    if (n->op != OP_AND || n->nin != 2) return false;
    if (ir_guard_implies(g, n->in[1], b)) return true;
    a = n->in[0];
  }
  return true;
}

int ir_num_inputs(const Graph *g) {
  int k = 0;
  for (int i = 0; i < g->n; i++) k += g->nodes[i]->op == OP_INPUT;
  return k;
}

int ir_input_id(const Graph *g, int which) {
  for (int i = 0, k = 0; i < g->n; i++)
    if (g->nodes[i]->op == OP_INPUT && k++ == which) return i;
  return -1;
}

int ir_find(const Graph *g, const char *name) {
  for (int i = 0; i < g->n; i++) {
    Node *n = g->nodes[i];
    if ((n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_CONST) && n->name &&
        !strcmp(n->name, name))
      return i;
  }
  return -1;
}

static Node *node_new(Graph *g, Op op, const int *in, int nin, const Attr *attrs, int nattr) {
  if (g->n == g->cap) g->nodes = arena_grow(g->arena, g->nodes, g->n, g->cap, sizeof(Node *)), g->cap = arena_grown(g->cap);
  Node *n = arena_alloc(g->arena, sizeof *n);
  n->id = g->n;
  n->op = op;
  n->nin = nin;
  n->in = arena_alloc(g->arena, sizeof(int) * (size_t)(nin ? nin : 1)); /* sources pass in = NULL */
  if (nin) memcpy(n->in, in, sizeof(int) * (size_t)nin);
  n->nattr = nattr;
  n->attr = arena_alloc(g->arena, sizeof(Attr) * (size_t)(nattr ? nattr : 1));
  for (int i = 0; i < nattr; i++) n->attr[i] = attr_copy(g->arena, &attrs[i]);
  n->group = g->group;
  n->where = g->where;
  n->guard = g->guard; /* sources reset it */
  return n;
}

static int ir_fail(Graph *g, const char *fmt, ...) DLC_PRINTF(2, 3);
static int ir_fail(Graph *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  dlc_verrf(&g->err, fmt, ap);
  va_end(ap);
  return -1;
}

/* Checks the attributes against the op's schema: known, of the right kind, not twice,
 * required ones present; fills in defaults. */
static int attrs_check(Graph *g, Op op, const Attr *attrs, int nattr, Attr *full, int *nfull) {
  AttrSpec spec[8];
  int ns = op_attr_specs(op, spec, 8), k = 0;
  for (int i = 0; i < nattr; i++) {
    int s = 0;
    while (s < ns && spec[s].key != attrs[i].key) s++;
    if (s == ns)
      return ir_fail(g, "%s has no attribute '%s'", ir_ops[op].name, attr_name(attrs[i].key));
    for (int j = 0; j < i; j++)
      if (attrs[j].key == attrs[i].key)
        return ir_fail(g, "%s: attribute '%s' given twice", ir_ops[op].name,
                       attr_name(attrs[i].key));
    bool ok = attrs[i].kind == spec[s].kind ||
              (spec[s].kind == AK_FLOAT && attrs[i].kind == AK_INT);
    if (!ok)
      return ir_fail(g, "%s: attribute '%s' has the wrong kind", ir_ops[op].name,
                     attr_name(attrs[i].key));
    full[k] = attrs[i];
    if (spec[s].kind == AK_FLOAT && attrs[i].kind == AK_INT) {
      full[k].kind = AK_FLOAT;
      full[k].f = (double)attrs[i].i;
    }
    k++;
  }
  for (int s = 0; s < ns; s++) {
    int i = 0;
    while (i < nattr && attrs[i].key != spec[s].key) i++;
    if (i < nattr) continue;
    if (!spec[s].optional)
      return ir_fail(g, "%s needs attribute '%s'", ir_ops[op].name, attr_name(spec[s].key));
    if (spec[s].has_default)
      full[k++] = spec[s].kind == AK_FLOAT ? attr_float(spec[s].key, spec[s].def)
                                           : attr_int(spec[s].key, (int64_t)spec[s].def);
  }
  *nfull = k;
  return 0;
}

static bool types_ok(OpTypes t, DType d) {
  switch (t) {
  case T_ANY: return true;
  case T_NUM: return d != DT_BOOL && d != DT_STR;
  case T_FLOAT: return dtype_is_float(d);
  case T_BOOL: return d == DT_BOOL;
  case T_INT: return dtype_is_int(d);
  case T_STR: return d == DT_STR;
  }
  return false;
}

static const char *types_word(OpTypes t) {
  switch (t) {
  case T_ANY: return "any";
  case T_NUM: return "numeric";
  case T_FLOAT: return "floating-point";
  case T_BOOL: return "bool";
  case T_INT: return "integer";
  case T_STR: return "str";
  }
  return "?";
}

bool op_takes_dtype(Op op, DType d) {
  return types_ok(ir_ops[op].types, d) && (!dtype_is_storage(d) || op_takes_storage(op)) &&
         (d != DT_STR || op_takes_str(op));
}

int ir_add(Graph *g, Op op, const int *in, int nin, const Attr *attrs, int nattr) {
  const OpInfo *info = &ir_ops[op];
  if (info->nin >= 0 && nin != info->nin)
    return ir_fail(g, "%s takes %d operand%s, not %d", info->name, info->nin,
                   info->nin == 1 ? "" : "s", nin);
  if (info->nin < 0 && nin < 1) return ir_fail(g, "%s takes at least one operand", info->name);
  for (int i = 0; i < nin; i++) {
    if (in[i] < 0 || in[i] >= g->n)
      return ir_fail(g, "%s: operand %d does not exist", info->name, i + 1);
    /* select's condition and gather's indices are checked by their shape rules */
    bool exempt = (op == OP_SELECT && i == 0) || (op == OP_GATHER && i == 1);
    DType d = g->nodes[in[i]]->dtype;
    if (!exempt && !types_ok(info->types, d))
      return ir_fail(g, "%s: operand %d is %s, but %s wants %s operands", info->name, i + 1,
                     dtype_name(d), info->name, types_word(info->types));
  }
  if (!op_takes_storage(op))
    for (int i = 0; i < nin; i++)
      if (dtype_is_storage(g->nodes[in[i]]->dtype))
        return ir_fail(g, "%s: operand %d is %s, a storage dtype that only cast reads (cast it to f32 first)",
                       info->name, i + 1, dtype_name(g->nodes[in[i]]->dtype));
  if (!op_takes_str(op))
    for (int i = 0; i < nin; i++)
      if (g->nodes[in[i]]->dtype == DT_STR)
        return ir_fail(g, "%s: operand %d is str, which only movement, select and the str_ ops take", info->name,
                       i + 1);
  Attr full[8];
  int nfull = 0;
  if (nattr > 8 || attrs_check(g, op, attrs, nattr, full, &nfull)) {
    if (nattr > 8) return ir_fail(g, "%s: too many attributes", info->name);
    return -1;
  }
  if (g->n >= ir_limits.nodes)
    return ir_fail(g, "%s: the graph would have more than %lld nodes (--max-nodes)", info->name,
                   (long long)ir_limits.nodes);
  if (g->guard >= g->n || (g->guard >= 0 && (g->nodes[g->guard]->dtype != DT_BOOL ||
                                              g->nodes[g->guard]->shape.rank != 0 ||
                                              g->nodes[g->guard]->guard >= 0)))
    return ir_fail(g, "%s: the guard is not an earlier unguarded bool scalar", info->name);
  int mark = g->n;
  Node *n = node_new(g, op, in, nin, full, nfull);
  if (info->shape(g, n)) return -1; /* the node is not linked in: g->n is unchanged */
  if (!op_takes_storage(op) && dtype_is_storage(n->dtype))
    return ir_fail(g, "%s cannot give %s, a storage dtype that only cast gives (compute in f32 and cast)",
                   info->name, dtype_name(n->dtype));
  if (!op_takes_str(op) && n->dtype == DT_STR) return ir_fail(g, "%s cannot give str", info->name);
  double total = 1;
  for (int i = 0; i < n->shape.rank; i++) {
    if (n->shape.d[i] < 0) return ir_fail(g, "%s: negative dimension in the result", info->name);
    total *= (double)n->shape.d[i];
  }
  if (ir_limit_elements(info->name, total, &g->err)) return -1;
  if (n->shape.rank > IR_MAX_RANK) return ir_fail(g, "%s: rank over %d", info->name, IR_MAX_RANK);
  g->nodes[mark] = n;
  g->n = mark + 1;
  return n->id;
}

/* Dimensions are positive, but for constants and inputs, which may be empty (exporters
 * make empty shape tensors; an empty batch is a valid call).  Params never are. */
static int check_shape(Graph *g, const char *what, const char *name, const Shape *s) {
  if (s->rank < 0 || s->rank > IR_MAX_RANK)
    return ir_fail(g, "%s '%s': rank %d is out of range (0..%d)", what, name, s->rank, IR_MAX_RANK);
  double total = 1;
  bool empty_ok = !strcmp(what, "const") || !strcmp(what, "input");
  for (int i = 0; i < s->rank; i++) {
    if (s->d[i] < 0 || (s->d[i] == 0 && !empty_ok))
      return ir_fail(g, "%s '%s': dimension %d is %lld; dimensions must be positive", what, name,
                     i, (long long)s->d[i]);
    total *= (double)s->d[i];
  }
  char who[160];
  snprintf(who, sizeof who, "%s '%.100s'", what, name);
  if (ir_limit_elements(who, total, &g->err)) return -1;
  return 0;
}

static int source_node(Graph *g, Op op, const char *name, DType t, Shape s) {
  if (check_shape(g, ir_ops[op].name, name ? name : "?", &s)) return -1;
  if (g->n >= ir_limits.nodes)
    return ir_fail(g, "%s: the graph would have more than %lld nodes (--max-nodes)", ir_ops[op].name,
                   (long long)ir_limits.nodes);
  if (op == OP_PARAM || op == OP_CONST) {
    double bytes = (double)g->weight_bytes + (double)shape_numel(&s) * (double)dtype_size(t);
    char who[160];
    snprintf(who, sizeof who, "%s '%.100s': the weights would take", ir_ops[op].name, name ? name : "?");
    if (ir_limit_bytes(who, bytes, ir_limits.weight_bytes, "--max-weight-bytes", &g->err)) return -1;
    g->weight_bytes = (int64_t)bytes;
  }
  if (name && ir_find(g, name) >= 0)
    return ir_fail(g, "%s '%s': the name is already taken", ir_ops[op].name, name);
  Node *n = node_new(g, op, NULL, 0, NULL, 0);
  n->guard = -1;
  n->dtype = t;
  n->shape = s;
  n->name = arena_strdup(g->arena, name);
  g->nodes[g->n] = n;
  return g->n++;
}

int ir_input(Graph *g, const char *name, DType t, Shape s) {
  return source_node(g, OP_INPUT, name, t, s);
}

int ir_param(Graph *g, const char *name, DType t, Shape s, Init init) {
  int id = source_node(g, OP_PARAM, name, t, s);
  if (id < 0) return -1;
  Node *n = g->nodes[id];
  n->init = init;
  n->data = arena_alloc(g->arena, (size_t)(shape_numel(&s) * dtype_size(t)));
  init_fill(&init, t, &s, n->data);
  return id;
}

int ir_param_data(Graph *g, const char *name, DType t, Shape s, const void *data) {
  int id = source_node(g, OP_PARAM, name, t, s);
  if (id < 0) return -1;
  Node *n = g->nodes[id];
  n->init = (Init){.kind = INIT_DATA};
  n->data = ir_data_copy(g->arena, t, data, shape_numel(&s));
  return id;
}

int ir_const(Graph *g, const char *name, DType t, Shape s, const void *data) {
  int id = source_node(g, OP_CONST, name, t, s);
  if (id < 0) return -1;
  Node *n = g->nodes[id];
  n->data = ir_data_copy(g->arena, t, data, shape_numel(&s));
  return id;
}

void *ir_data_copy(Arena *a, DType t, const void *data, int64_t numel) {
  void *p = arena_memdup(a, data, (size_t)(numel * dtype_size(t)));
  if (t == DT_STR)
    for (int64_t i = 0; i < numel; i++) {
      const char *s = ((const char **)p)[i];
      ((const char **)p)[i] = arena_strdup(a, s ? s : "");
    }
  return p;
}

int ir_scalar(Graph *g, DType t, double v) {
  if (t == DT_STR && v != 0) /* a str holds a pointer (0: none, the empty string) */
    return ir_fail(g, "the number %g cannot be a str constant", v);
  unsigned char buf[8];
  dtype_store(t, buf, 0, v);
  return ir_const(g, NULL, t, (Shape){0}, buf);
}

int ir_output(Graph *g, int id, const char *name) {
  DLC_ASSERT(id >= 0 && id < g->n);
  for (int i = 0; i < g->nout; i++)
    if (!strcmp(g->out_name[i], name))
      return ir_fail(g, "output '%s' is declared twice", name);
  if (g->nout == g->outcap) {
    Arena *a = g->arena;
    int n = g->nout, cap = g->outcap;
    g->out = arena_grow(a, g->out, n, cap, sizeof(int));
    g->out_count = arena_grow(a, g->out_count, n, cap, sizeof(int));
    g->out_axis = arena_grow(a, g->out_axis, n, cap, sizeof(int));
    g->out_keys = arena_grow(a, g->out_keys, n, cap, sizeof(int));
    g->out_name = arena_grow(a, g->out_name, n, cap, sizeof(char *));
    g->outcap = arena_grown(cap);
  }
  g->out_count[g->nout] = -1;
  g->out_axis[g->nout] = 0;
  g->out_keys[g->nout] = -1;
  g->out[g->nout] = id;
  g->out_name[g->nout] = arena_strdup(g->arena, name);
  return g->nout++;
}

int ir_output_extent(Graph *g, int j, int count, int axis) {
  if (j < 0 || j >= g->nout || count < 0 || count >= g->nout || count == j)
    return ir_fail(g, "output extent: outputs %d and %d", j, count);
  const Node *c = g->nodes[g->out[count]], *y = g->nodes[g->out[j]];
  if (c->dtype != DT_I64 || c->shape.rank != 0)
    return ir_fail(g, "output '%s': its count '%s' is not an i64 scalar", g->out_name[j], g->out_name[count]);
  if (axis < 0 || axis >= y->shape.rank)
    return ir_fail(g, "output '%s': axis %d is out of range for rank %d", g->out_name[j], axis, y->shape.rank);
  g->out_count[j] = count, g->out_axis[j] = axis;
  return 0;
}

int ir_output_keys(Graph *g, int j, int keys) {
  if (j < 0 || j >= g->nout || keys < 0 || keys >= g->nout || keys == j)
    return ir_fail(g, "output keys: outputs %d and %d", j, keys);
  const Node *k = g->nodes[g->out[keys]], *y = g->nodes[g->out[j]];
  if (k->shape.rank != 1 || y->shape.rank < 1 || k->shape.d[0] != y->shape.d[y->shape.rank - 1])
    return ir_fail(g, "output '%s': its keys '%s' must be a vector as long as its last axis", g->out_name[j],
                   g->out_name[keys]);
  g->out_keys[j] = keys;
  return 0;
}

/* ---- short forms ---- */

int ir_unary(Graph *g, Op op, int x) { return ir_add(g, op, &x, 1, NULL, 0); }

int ir_binary(Graph *g, Op op, int a, int b) {
  int in[2] = {a, b};
  return ir_add(g, op, in, 2, NULL, 0);
}

int ir_select(Graph *g, int cond, int a, int b) {
  int in[3] = {cond, a, b};
  return ir_add(g, OP_SELECT, in, 3, NULL, 0);
}

int ir_cast(Graph *g, int x, DType to) {
  Attr a = attr_dtype(A_TO, to);
  return ir_add(g, OP_CAST, &x, 1, &a, 1);
}

int ir_reduce(Graph *g, Op op, int x, const int64_t *axes, int naxes, bool keepdims) {
  Attr a[2] = {attr_ints(A_AXES, axes, naxes), attr_int(A_KEEPDIMS, keepdims)};
  return ir_add(g, op, &x, 1, a, 2);
}

int ir_reshape(Graph *g, int x, const int64_t *shape, int rank) {
  Attr a = attr_ints(A_SHAPE, shape, rank);
  return ir_add(g, OP_RESHAPE, &x, 1, &a, 1);
}

int ir_transpose(Graph *g, int x, const int64_t *perm) {
  Attr a = attr_ints(A_PERM, perm, g->nodes[x]->shape.rank);
  return ir_add(g, OP_TRANSPOSE, &x, 1, &a, 1);
}

int ir_matmul(Graph *g, int a, int b, bool trans_a, bool trans_b) {
  int in[2] = {a, b};
  Attr at[2] = {attr_int(A_TRANS_A, trans_a), attr_int(A_TRANS_B, trans_b)};
  return ir_add(g, OP_MATMUL, in, 2, at, 2);
}

int ir_matmul_int(Graph *g, int a, int b) {
  int in[2] = {a, b};
  return ir_add(g, OP_MATMUL_INT, in, 2, NULL, 0);
}
