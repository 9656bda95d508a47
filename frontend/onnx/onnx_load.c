/* onnx_load.c — reading an ONNX model into the IR.
 *
 * Needs: a ModelProto whose nodes are in topological order (as the ONNX spec demands).
 * Gives: a verified graph with static shapes; symbolic dimensions bound by the load
 * options; float initializers as PARAMs (trainable), other initializers and Constant
 * nodes as CONSTs; shape arithmetic folded into constants as it is read. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dlcrt.h"
#include "onnx_fe.h"

#define ONNX_MAX_BYTES ((size_t)2 << 30) /* protobuf's own limit */

/* Names in a model may hold any byte; an error stays one line (control bytes as \xNN). */
static int one_line(DlcErr *e) {
  if (!e) return -1;
  char raw[sizeof e->msg];
  memcpy(raw, e->msg, sizeof raw);
  raw[sizeof raw - 1] = 0;
  dlc_escape_ctl(e->msg, sizeof e->msg, raw);
  return -1;
}

static const char *node_label(const Onnx__NodeProto *p) {
  return p->name && *p->name ? p->name : (p->n_output && p->output[0] ? p->output[0] : "?");
}

/* A node's domain (-1: one dlc does not build), and the opset its domain imports. */
static int node_domain(const Onnx__NodeProto *p) {
  const char *d = p->domain ? p->domain : "";
  return !*d || !strcmp(d, "ai.onnx") ? ONNX_DOM_DEFAULT : !strcmp(d, ONNX_ML_DOMAIN) ? ONNX_DOM_ML
         : !strcmp(d, ONNX_TRAINING_DOMAIN) ? ONNX_DOM_TRAINING : !strcmp(d, ONNX_PREVIEW_DOMAIN) ? ONNX_DOM_PREVIEW : -1;
}
static int64_t node_opset(const OnnxCtx *c, const Onnx__NodeProto *p) {
  const int64_t v[] = {c->opset, c->ml_opset, c->training_opset, c->preview_opset};
  int dom = node_domain(p);
  return v[dom < 0 ? 0 : dom];
}
/* "ai.onnx.ml " before the opset in errors; nothing for the default domain. */
static const char *node_dom_label(const Onnx__NodeProto *p) {
  static const char *const label[] = {"", ONNX_ML_DOMAIN " ", ONNX_TRAINING_DOMAIN " ", ONNX_PREVIEW_DOMAIN " "};
  int dom = node_domain(p);
  return label[dom < 0 ? 0 : dom];
}

/* "node 'L' (Loop, opset 11), body iteration 3: node 'I' (If), then_branch: " for the
 * bodies being built, outermost first. */
static void scope_chain(const OnnxCtx *c, char *buf, size_t cap) {
  const OnnxScope *s[ONNX_MAX_DEPTH + 1];
  int k = 0;
  for (const OnnxScope *q = c->scope; q && k <= ONNX_MAX_DEPTH; q = q->up) s[k++] = q;
  size_t len = 0;
  buf[0] = 0;
  while (k-- > 0 && len < cap) {
    const Onnx__NodeProto *p = s[k]->node->p;
    int w = snprintf(buf + len, cap - len, "node '%.60s' (%.30s, %sopset %lld), %s", node_label(p), p->op_type,
                     node_dom_label(p), (long long)node_opset(c, p), s[k]->what);
    if (w < 0) break;
    len += (size_t)w;
    if (s[k]->iter >= 0 && len < cap) {
      w = snprintf(buf + len, cap - len, " %lld", (long long)s[k]->iter);
      if (w > 0) len += (size_t)w;
    }
    if (len < cap) {
      w = snprintf(buf + len, cap - len, ": ");
      if (w > 0) len += (size_t)w;
    }
  }
}

int onnx_fail(OnnxCtx *c, const OnnxNode *n, const char *fmt, ...) {
  char msg[DLC_ERR_MAX], outer[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  scope_chain(c, outer, sizeof outer);
  if (!n) {
    dlc_errf(c->e, "%s: %s%.600s", c->file, outer, msg);
    return one_line(c->e);
  }
  const Onnx__NodeProto *p = n->p;
  dlc_errf(c->e, "%s: %snode '%.100s' (%.60s, %sopset %lld): %.500s", c->file, outer, node_label(p), p->op_type,
           node_dom_label(p), (long long)node_opset(c, p), msg);
  return one_line(c->e);
}

int onnx_fail_ir(OnnxCtx *c, const OnnxNode *n) { return onnx_fail(c, n, "%s", c->g->err.msg); }

/* ---- value names ---- */

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static int slot(const OnnxCtx *c, const char *name) {
  int i = (int)(hash(name) & (uint64_t)(c->nslot - 1));
  while (c->key[i] && strcmp(c->key[i], name)) i = (i + 1) & (c->nslot - 1);
  return i;
}

int onnx_value(OnnxCtx *c, const char *name) {
  if (!c->nslot) return -1; /* nothing bound yet: no table */
  int i = slot(c, name);
  return c->key[i] ? c->val[i] : -1;
}

static void bind_raw(OnnxCtx *c, const char *name, int id);

/* Inside a body every binding is logged with the value it hides, so that leaving the
 * body puts the table back as it was: a name bound there (to -1: unbound) is gone. */
void onnx_bind(OnnxCtx *c, const char *name, int id) {
  if (c->scope) {
    if (c->nundo == c->undocap)
      c->undo = arena_grow(c->g->arena, c->undo, c->nundo, c->undocap, sizeof(OnnxUndo)), c->undocap = arena_grown(c->undocap);
    c->undo[c->nundo++] = (OnnxUndo){name, onnx_value(c, name)};
  }
  bind_raw(c, name, id);
}

int onnx_names_mark(const OnnxCtx *c) { return c->nundo; }

void onnx_names_restore(OnnxCtx *c, int mark) {
  while (c->nundo > mark) {
    c->nundo--;
    bind_raw(c, c->undo[c->nundo].name, c->undo[c->nundo].old);
  }
}

static void bind_raw(OnnxCtx *c, const char *name, int id) {
  if (2 * (c->nvals + 1) > c->nslot) {
    const char **key = c->key;
    int *val = c->val, n = c->nslot;
    c->nslot = n ? 2 * n : 256;
    c->key = arena_alloc(c->g->arena, sizeof(char *) * (size_t)c->nslot);
    c->val = arena_alloc(c->g->arena, sizeof(int) * (size_t)c->nslot);
    for (int i = 0; i < n; i++)
      if (key[i]) {
        int s = slot(c, key[i]);
        c->key[s] = key[i], c->val[s] = val[i];
      }
  }
  int i = slot(c, name);
  if (!c->key[i]) c->nvals++;
  c->key[i] = name;
  c->val[i] = id;
}

/* ONNX names may hold any character; IR names are identifiers of the text format.
 * Inside a body they start with the body's prefix ("y/it3/"), which no top-level
 * name holds, so that each unrolled copy's names stay unique. */
const char *onnx_ident(OnnxCtx *c, const char *s) {
  size_t n = strlen(s), np = c->prefix ? strlen(c->prefix) : 0;
  char *d = arena_alloc(c->g->arena, np + n + 2), *q = d;
  if (np) memcpy(q, c->prefix, np), q += np;
  if (!n || (s[0] >= '0' && s[0] <= '9') || s[0] == '.') *q++ = '_';
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.';
    *q++ = ok ? ch : '_';
  }
  return d;
}

/* ---- the file ---- */

static unsigned char *read_all(OnnxCtx *c, size_t *len) {
  const char *why;
  FILE *f = rt_fopen_regular(c->file, &why);
  if (!f) {
    onnx_fail(c, NULL, "cannot open: %s", why);
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) || (size_t)st.st_size > ONNX_MAX_BYTES) {
    onnx_fail(c, NULL, "not a regular file under 2 GiB");
    fclose(f);
    return NULL;
  }
  *len = (size_t)st.st_size;
  unsigned char *buf = dlc_try_malloc(*len ? *len : 1);
  if (!buf || fread(buf, 1, *len, f) != *len) {
    onnx_fail(c, NULL, "read failed: %s", buf ? strerror(errno) : "out of memory");
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}


static int find_opset(OnnxCtx *c, const Onnx__ModelProto *m) {
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const char *d = m->opset_import[i]->domain;
    if (!d || !*d || !strcmp(d, "ai.onnx")) c->opset = m->opset_import[i]->version;
    else if (!strcmp(d, ONNX_ML_DOMAIN)) c->ml_opset = m->opset_import[i]->version;
    else if (!strcmp(d, ONNX_TRAINING_DOMAIN)) c->training_opset = m->opset_import[i]->version;
    else if (!strcmp(d, ONNX_PREVIEW_DOMAIN)) c->preview_opset = m->opset_import[i]->version;
  }
  if (c->ml_opset && (c->ml_opset < 1 || c->ml_opset > ONNX_ML_OPSET_MAX))
    return onnx_fail(c, NULL, "opset %lld of the ai.onnx.ml domain is outside what dlc implements (1..%d)",
                     (long long)c->ml_opset, ONNX_ML_OPSET_MAX);
  const int64_t pv[2] = {c->training_opset, c->preview_opset};
  for (int i = 0; i < 2; i++)
    if (pv[i] && (pv[i] < 1 || pv[i] > ONNX_PREVIEW_OPSET_MAX))
      return onnx_fail(c, NULL, "opset %lld of the %s domain is outside what dlc implements (1..%d)", (long long)pv[i],
                       i ? ONNX_PREVIEW_DOMAIN : ONNX_TRAINING_DOMAIN, ONNX_PREVIEW_OPSET_MAX);
  /* a model of another domain alone: its default-domain nodes are refused */
  if (!c->opset && (c->ml_opset || c->training_opset || c->preview_opset)) return 0;
  if (!c->opset) {
    const char *other = m->n_opset_import && m->opset_import[0]->domain ? m->opset_import[0]->domain : "";
    return onnx_fail(c, NULL, "the model imports no opset of the default ONNX domain%s%s%s (dlc builds that domain's operators, ai.onnx.ml's and the preview domains')",
                     *other ? ", only '" : "", other, *other ? "'" : "");
  }
  if (c->opset < 1 || c->opset > ONNX_OPSET_MAX)
    return onnx_fail(c, NULL, "opset %lld of the default ONNX domain is outside what dlc implements (1..%d)",
                     (long long)c->opset, ONNX_OPSET_MAX);
  return 0;
}

/* ---- inputs ---- */

static int bind_dim(OnnxCtx *c, const char *input, int k, const Onnx__TensorShapeProto__Dimension *d,
                    int64_t *out) {
  const char *sym = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? d->dim_param : "";
  if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0) {
    *out = d->dim_value;
    return 0;
  }
  if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value < 0)
    return onnx_fail(c, NULL, "input '%s': dimension %d is negative (%lld)", input, k, (long long)d->dim_value);
  for (int i = 0; sym && *sym && i < c->opts->ndims; i++)
    if (!strcmp(c->opts->dims[i].name, sym)) {
      *out = c->opts->dims[i].value;
      return 0;
    }
  if (k == 0) {
    *out = c->opts->batch > 0 ? c->opts->batch : 1;
    return 0;
  }
  return onnx_fail(c, NULL,
                   "input '%s': dimension %d ('%s') is not fixed; bind it with --dim %s=N or --shape %s=...",
                   input, k, sym && *sym ? sym : "?", sym && *sym ? sym : "NAME", input);
}

/* --const-input: the values of a .npy file stand for the input, as a constant. */
static int const_input(OnnxCtx *c, const char *name, const char *irname, DType dt, const char *path) {
  RtTensor t;
  DlcErr e;
  if (rt_npy_read(path, &t, &e)) return onnx_fail(c, NULL, "--const-input %s: %s", name, e.msg);
  int id = -1;
  if (!rt_dtype_matches(t.dtype, dtype_name(dt)))
    onnx_fail(c, NULL, "--const-input %s: %s holds %s, the input is %s", name, path,
              rt_dtype_name(t.dtype), dtype_name(dt));
  else if ((id = ir_const(c->g, irname, dt, shape_make(t.rank, t.dims), t.data)) < 0)
    onnx_fail(c, NULL, "--const-input %s: %s", name, c->g->err.msg);
  rt_tensor_free(&t);
  return id;
}

/* The tensor input `name` (an input of the model, or an element NAME.K of a sequence
 * input), bound by --shape and --const-input under that name: an INPUT, or a CONST,
 * named irname.  Its id. */
int onnx_tensor_input(OnnxCtx *c, const char *name, const char *irname, const Onnx__TypeProto *t) {
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type)
    return onnx_fail(c, NULL, "input '%s' is not a tensor, sequence or optional (maps are not supported)", name);
  DType dt;
  if (onnx_dtype(t->tensor_type->elem_type, &dt))
    return onnx_fail(c, NULL, "input '%s' has dtype %s, which dlc does not support", name,
                     onnx_dtype_name(t->tensor_type->elem_type));
  for (int i = 0; i < c->opts->nconsts; i++)
    if (!strcmp(c->opts->consts[i].input, name)) return const_input(c, name, irname, dt, c->opts->consts[i].path);
  Shape s = {0};
  bool given = false;
  for (int i = 0; i < c->opts->nshapes; i++)
    if (!strcmp(c->opts->shapes[i].input, name)) s = c->opts->shapes[i].shape, given = true;
  const Onnx__TensorShapeProto *sp = t->tensor_type->shape;
  if (!given && !sp) return onnx_fail(c, NULL, "input '%s' has no shape; give one with --shape %s=...", name, name);
  if (!given) {
    if (sp->n_dim > IR_MAX_RANK) return onnx_fail(c, NULL, "input '%s' has rank %zu, over %d", name, sp->n_dim, IR_MAX_RANK);
    s.rank = (int)sp->n_dim;
    for (int k = 0; k < s.rank; k++)
      if (bind_dim(c, name, k, sp->dim[k], &s.d[k])) return -1;
  }
  int id = ir_input(c->g, irname, dt, load_lead(c->opts, s));
  if (id < 0) return onnx_fail(c, NULL, "%s", c->g->err.msg);
  return id;
}

static int make_input(OnnxCtx *c, const Onnx__ValueInfoProto *v) {
  int seq = onnx_seq_input(c, v);
  if (seq) return seq < 0 ? -1 : 0;
  int id = onnx_tensor_input(c, v->name, onnx_ident(c, v->name), v->type);
  if (id < 0) return -1;
  onnx_bind(c, v->name, id);
  return 0;
}

static bool is_initializer(const Onnx__GraphProto *gp, const char *name) {
  for (size_t i = 0; i < gp->n_initializer; i++)
    if (gp->initializer[i]->name && !strcmp(gp->initializer[i]->name, name)) return true;
  return false;
}

static int make_sources(OnnxCtx *c, const Onnx__GraphProto *gp) {
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *t = gp->initializer[i];
    if (!t->name || !*t->name) return onnx_fail(c, NULL, "initializer %zu has no name", i);
    int id = onnx_tensor_node(c, t, onnx_ident(c, t->name), true);
    if (id < 0) return -1;
    onnx_bind(c, t->name, id);
  }
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *v = gp->input[i];
    if (!v->name || !*v->name) return onnx_fail(c, NULL, "graph input %zu has no name", i);
    if (!is_initializer(gp, v->name) && make_input(c, v)) return -1;
  }
  for (int i = 0; i < c->opts->nshapes; i++) { /* a sequence's elements are inputs NAME.K */
    int id = onnx_value(c, c->opts->shapes[i].input);
    if (id == -1) id = ir_find(c->g, c->opts->shapes[i].input);
    if (id == -1 || (id >= 0 && c->g->nodes[id]->op != OP_INPUT))
      return onnx_fail(c, NULL, "--shape names '%s', which is not an input of the model", c->opts->shapes[i].input);
  }
  for (int i = 0; i < c->opts->nconsts; i++) {
    int id = onnx_value(c, c->opts->consts[i].input);
    if (id == -1) id = ir_find(c->g, c->opts->consts[i].input);
    if (id < 0 || c->g->nodes[id]->op != OP_CONST)
      return onnx_fail(c, NULL, "--const-input names '%s', which is not an input of the model", c->opts->consts[i].input);
  }
  return 0;
}

/* ---- nodes ---- */

/* Operands and outputs by name.  A sequence or optional reaches only the builders
 * that read one (ONNX_OP_SEQ rows); every other builder reads tensors. */
static int wire(OnnxCtx *c, OnnxNode *n, const OnnxOpInfo *op) {
  const Onnx__NodeProto *p = n->p;
  if (p->n_input > ONNX_MAX_IO || p->n_output > ONNX_MAX_IO)
    return onnx_fail(c, n, "more than %d inputs or outputs", ONNX_MAX_IO);
  n->nin = (int)p->n_input;
  n->nout = (int)p->n_output;
  for (int i = 0; i < n->nin; i++) {
    n->in[i] = -1;
    if (!p->input[i] || !*p->input[i]) continue;
    n->in[i] = onnx_value(c, p->input[i]);
    if (n->in[i] == -1)
      return onnx_fail(c, n, "input '%s' is not produced by any earlier node (a dangling name, or a cycle)", p->input[i]);
    if (ONNX_IS_SEQ(n->in[i]) && !op->seq)
      return onnx_fail(c, n, "input '%s' is %s, but the operator reads a tensor there", p->input[i],
                       onnx_seq_kind_word(onnx_seq_get(c, n->in[i]), n->in[i]));
    if (n->in[i] >= 0 && onnx_dyn_find(c, n->in[i]) >= 0 && !onnx_dyn_passes(op))
      return onnx_fail(c, n, "input '%s' has a length that depends on the data (dlc pads it to a bound); %s does not "
                       "read such a value yet (docs/ONNX.md, \"Data-dependent lengths\", lists the operators that do)", p->input[i],
                       p->op_type);
  }
  for (int i = 0; i < n->nout; i++) {
    n->out[i] = -1;
    const char *o = p->output[i];
    bool twice = o && *o && onnx_value(c, o) != -1;
    for (int j = 0; o && *o && j < i; j++) twice |= !strcmp(p->output[j], o);
    if (twice) return onnx_fail(c, n, "output '%s' is already defined (each name has one producer)", o);
  }
  return 0;
}

/* Folding is for shape arithmetic and small tables: a larger constant-valued result
 * stays a computation, so a few bytes of model cannot make the loader work for hours. */
#define ONNX_FOLD_MAX ((double)(1 << 22))

static double elements(const Shape *s) {
  double n = 1; /* in double: a shape may hold more elements than int64 counts */
  for (int i = 0; i < s->rank; i++) n *= (double)s->d[i];
  return n;
}

/* Builds node p, stamping its nodes with `group` (the top-level node's index: a body's
 * nodes belong to the If or Loop they unroll). */
int onnx_build_node(OnnxCtx *c, const Onnx__NodeProto *p, int group) {
  OnnxNode n = {.p = p};
  if (!p->op_type || !*p->op_type) return onnx_fail(c, &n, "the node has no op_type");
  int dom = node_domain(p);
  if (dom < 0)
    return onnx_fail(c, &n, "operator domain '%s' is not supported (only the default ONNX domain, ai.onnx.ml, "
                     "ai.onnx.preview and ai.onnx.preview.training)", p->domain);
  if (!node_opset(c, p))
    return onnx_fail(c, &n, "the model imports no opset of the %s domain", dom ? p->domain : "default ONNX");
  const OnnxOpInfo *op = onnx_op_find((OnnxDomain)dom, p->op_type, node_opset(c, p));
  if (!op) return onnx_fail(c, &n, "unsupported operator %s%s%s at opset %lld (dlc compile --list-ops shows what is supported)",
                            dom ? p->domain : "", dom ? "." : "", p->op_type, (long long)node_opset(c, p));
  if (wire(c, &n, op)) return -1;
  int din[ONNX_MAX_IO]; /* the inputs padded to a data-dependent length (onnx_ops_dyn.c) */
  bool padded = false;
  for (int i = 0; i < n.nin; i++) padded |= (din[i] = n.in[i] >= 0 ? onnx_dyn_find(c, n.in[i]) : -1) >= 0;
  if (c->scope && ++c->work > 4 * ir_limits.nodes) /* bodies of nodes that add none (Identity) */
    return onnx_fail(c, &n, "unrolling the bodies builds more than %lld nodes (4 x --max-nodes)",
                     (long long)(4 * ir_limits.nodes));
  c->g->group = group;
  DType back;
  if (onnx_storage_in(c, &n, &back)) return -1;
  int mark = c->g->n;
  if (padded && onnx_dyn_indices(c, &n, op, din)) return -1;
  int rc = op->build(c, &n);
  if (n.bad_attr) /* the root cause of whatever the builder made of it */
    return onnx_fail(c, &n, "attribute '%s' is %s, the operator reads %s", n.bad_attr->name,
                     onnx_attr_type_name(n.bad_attr->type), onnx_attr_type_name(n.bad_attr_want));
  if (rc || onnx_attr_check(c, &n) || onnx_storage_out(c, &n, back)) return -1;
  if (padded && op->dyn != ONNX_DYN_BUILDER && onnx_dyn_through(c, &n, op, din)) return -1;
  for (int id = mark; id < c->g->n; id++)
    if (ir_limit_elements("a result", elements(&c->g->nodes[id]->shape), &c->g->err))
      return onnx_fail(c, &n, "%s", c->g->err.msg);
  for (int i = 0; i < n.nout; i++) {
    if (n.out[i] == -1 || !p->output[i] || !*p->output[i]) continue;
    Node *v = n.out[i] >= 0 ? c->g->nodes[n.out[i]] : NULL;
    if (v && v->id >= mark && !v->name) v->name = onnx_ident(c, p->output[i]);
    onnx_bind(c, p->output[i], n.out[i]);
  }
  return onnx_fold_from(c, &n, mark);
}

int onnx_fold_from(OnnxCtx *c, const OnnxNode *n, int first) {
  for (int id = first; id < c->g->n; id++) {
    if (elements(&c->g->nodes[id]->shape) > ONNX_FOLD_MAX) continue;
    DlcErr e;
    if (ir_fold_node(c->g, id, &e) < 0) return onnx_fail(c, n, "%s", e.msg);
  }
  return 0;
}

static int make_outputs(OnnxCtx *c, const Onnx__GraphProto *gp) {
  if (!gp->n_output) return onnx_fail(c, NULL, "the graph has no outputs");
  for (size_t i = 0; i < gp->n_output; i++) {
    const char *name = gp->output[i]->name;
    int id = name ? onnx_value(c, name) : -1;
    if (id == -1) return onnx_fail(c, NULL, "graph output '%s' is produced by no node", name ? name : "");
    if (ONNX_IS_SEQ(id)) {
      if (onnx_seq_output(c, name, id)) return -1;
      continue;
    }
    int j = ir_output(c->g, id, onnx_ident(c, name));
    if (j < 0) return onnx_fail(c, NULL, "%s", c->g->err.msg);
    int d = onnx_dyn_find(c, id);
    if (d >= 0 && onnx_dyn_output(c, j, d)) return -1;
  }
  return 0;
}

static const char *model_name(const char *path, Arena *a) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char *s = arena_strdup(a, base), *dot = strrchr(s, '.');
  if (dot && dot != s) *dot = 0;
  for (char *q = s; *q; q++)
    if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))) *q = '_';
  return s;
}

static char *dir_of(const char *path, Arena *a) {
  char *d = arena_strdup(a, path), *slash = strrchr(d, '/');
  if (!slash) return arena_strdup(a, ".");
  if (slash == d) slash[1] = 0;
  else *slash = 0;
  return d;
}

static int load_graph(OnnxCtx *c, const Onnx__ModelProto *m) {
  if (find_opset(c, m)) return -1;
  const Onnx__GraphProto *gp = m->graph;
  if (!gp) return onnx_fail(c, NULL, "the model has no graph");
  c->top = gp;
  if (make_sources(c, gp)) return -1;
  for (size_t i = 0; i < gp->n_node; i++)
    if (onnx_build_node(c, gp->node[i], (int)i)) return -1;
  if (make_outputs(c, gp)) return -1;
  if (!c->g->nout)
    return onnx_fail(c, NULL, "every output of the graph is an empty sequence or optional: nothing to compute");
  c->g->group = -1;
  return 0;
}

/* protobuf-c allocates through the checked allocator, so that running out of memory
 * while unpacking reads as that, not as a malformed file. */
static void *pb_alloc(void *data, size_t n) {
  void *p = dlc_try_malloc(n);
  if (!p) *(bool *)data = true;
  return p;
}
static void pb_free(void *data, void *p) {
  (void)data;
  free(p);
}

Graph *onnx_load(const char *path, const LoadOptions *o, DlcErr *e) {
  static const LoadOptions none;
  Graph *g = ir_graph_new("model");
  OnnxCtx c = {.g = g, .file = path, .opts = o ? o : &none, .e = e};
  g->name = model_name(path, g->arena);
  g->file = arena_strdup(g->arena, path);
  c.dir = dir_of(path, g->arena);
  size_t len = 0;
  unsigned char *buf = read_all(&c, &len);
  bool oom = false;
  ProtobufCAllocator pa = {.alloc = pb_alloc, .free = pb_free, .allocator_data = &oom};
  Onnx__ModelProto *m = buf ? onnx__model_proto__unpack(&pa, len, buf) : NULL;
  if (buf && !m && oom) free(buf), dlc_oom();
  if (buf && !m) onnx_fail(&c, NULL, "not a valid ONNX model (the protobuf does not parse)");
  int rc = m ? load_graph(&c, m) : -1;
  if (m) onnx__model_proto__free_unpacked(m, &pa);
  free(buf);
  if (!rc && ir_verify(g, e)) rc = -1;
  if (rc) {
    ir_graph_free(g);
    return NULL;
  }
  return g;
}
