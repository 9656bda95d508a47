/* onnx_ops_ctrl.c — ONNX control flow: If, Loop, Scan and SequenceMap.
 *
 * A body (a graph attribute) is built into the one graph, like any run of nodes, by
 * onnx_body_build: its inputs bound to values of the enclosing graph, its names
 * unbound again afterwards.  If builds the branch its condition takes when that is a
 * constant after folding, else both under guards, merged by select.  Loop, Scan and
 * SequenceMap are unrolled: the body is built once per iteration, with trip counts,
 * sequence lengths and list lengths known at compile time (a Loop's condition, or with
 * --max-trip its trip count, may be known only at run time: its iterations are then
 * guarded, its scan outputs padded); the node budget (--max-nodes) bounds the
 * unrolling. */
#include <stdio.h>
#include <string.h>

#include "onnx_fe.h"

/* ---- bodies ---- */

const Onnx__GraphProto *onnx_attr_graph(OnnxCtx *c, OnnxNode *n, const char *name) {
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  if (!a || a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH || !a->g) {
    onnx_fail(c, n, "needs graph attribute '%s'", name);
    return NULL;
  }
  return a->g;
}

/* A body's initializers are constants: each is built once, whatever the unrolling. */
static int body_initializer(OnnxCtx *c, const Onnx__TensorProto *t) {
  for (int i = 0; i < c->ninit; i++)
    if (c->init_key[i] == t) return c->init_id[i];
  int id = onnx_tensor_node(c, t, onnx_ident(c, t->name), false);
  if (id < 0) return -1;
  if (c->ninit == c->initcap) {
    c->init_key = arena_grow(c->g->arena, c->init_key, c->ninit, c->initcap, sizeof(void *));
    c->init_id = arena_grow(c->g->arena, c->init_id, c->ninit, c->initcap, sizeof(int));
    c->initcap = arena_grown(c->initcap);
  }
  c->init_key[c->ninit] = t, c->init_id[c->ninit++] = id;
  return id;
}

/* The body proper, inside its scope. */
static int body_nodes(OnnxCtx *c, const Onnx__GraphProto *gp, const int *in, int *out) {
  for (size_t i = 0; i < gp->n_input; i++) {
    const char *name = gp->input[i]->name;
    if (!name || !*name) return onnx_fail(c, NULL, "input %zu has no name", i);
    onnx_bind(c, name, in[i]);
  }
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *t = gp->initializer[i];
    if (!t->name || !*t->name) return onnx_fail(c, NULL, "initializer %zu has no name", i);
    int id = body_initializer(c, t);
    if (id < 0) return -1;
    onnx_bind(c, t->name, id);
  }
  for (size_t i = 0; i < gp->n_node; i++)
    if (onnx_build_node(c, gp->node[i], c->g->group)) return -1;
  for (size_t i = 0; i < gp->n_output; i++) {
    const char *name = gp->output[i]->name;
    out[i] = name && *name ? onnx_value(c, name) : -1;
    if (out[i] == -1) return onnx_fail(c, NULL, "output '%s' is produced by no node", name ? name : "");
  }
  return 0;
}

int onnx_body_build(OnnxCtx *c, const OnnxNode *n, const Onnx__GraphProto *gp, const char *what, int64_t iter,
                    const char *tag, const int *in, int nin, int *out, int maxout) {
  int depth = c->scope ? c->scope->depth + 1 : 1;
  if (depth > ONNX_MAX_DEPTH) return onnx_fail(c, n, "bodies nested deeper than %d", ONNX_MAX_DEPTH);
  if ((int)gp->n_input != nin)
    return onnx_fail(c, n, "the %s has %zu inputs, the operator passes it %d", what, gp->n_input, nin);
  if ((int)gp->n_output > maxout)
    return onnx_fail(c, n, "the %s has %zu outputs, more than the operator takes (%d)", what, gp->n_output, maxout);
  /* IR names: the enclosing prefix, the node's first output, this copy's tag */
  const char *base = onnx_ident(c, n->p->n_output && n->p->output[0] ? n->p->output[0] : n->p->op_type);
  char *prefix = arena_alloc(c->g->arena, strlen(base) + strlen(tag) + 3);
  sprintf(prefix, "%s/%s/", base, tag);
  OnnxScope sc = {.node = n, .what = what, .iter = iter, .depth = depth, .up = c->scope};
  const char *outer_prefix = c->prefix;
  int mark = onnx_names_mark(c);
  c->scope = &sc, c->prefix = prefix;
  int rc = body_nodes(c, gp, in, out);
  c->scope = sc.up, c->prefix = outer_prefix;
  onnx_names_restore(c, mark);
  return rc ? -1 : (int)gp->n_output;
}

/* ---- shared pieces ---- */

static int need_tensor(OnnxCtx *c, const OnnxNode *n, int id, const char *what) {
  if (id < 0) return onnx_fail(c, n, "%s must be a tensor, not %s", what, id == -1 ? "absent" : "a sequence or optional");
  return 0;
}

/* A bool scalar (one element) as rank 0, or -1 with the error. */
static int bool_scalar(OnnxCtx *c, const OnnxNode *n, int id, const char *what) {
  if (need_tensor(c, n, id, what)) return -1;
  const Node *v = c->g->nodes[id];
  if (v->dtype != DT_BOOL || shape_numel(&v->shape) != 1)
    return onnx_fail(c, n, "%s must be one bool, not %s with %lld elements", what, dtype_name(v->dtype),
                     (long long)shape_numel(&v->shape));
  if (v->shape.rank == 0) return id;
  int64_t none[1] = {1};
  int r = ir_reshape(c->g, id, none, 0);
  DlcErr e;
  if (r < 0) return onnx_fail_ir(c, n);
  if (ir_fold_node(c->g, r, &e) < 0) return onnx_fail(c, n, "%s", e.msg); /* a constant stays one */
  return r;
}

static int unsqueeze(OnnxCtx *c, int x, int axis) {
  const Shape *s = &c->g->nodes[x]->shape;
  int64_t d[IR_MAX_RANK + 1];
  for (int i = 0, k = 0; i <= s->rank; i++) d[i] = i == axis ? 1 : s->d[k++];
  return ir_reshape(c->g, x, d, s->rank + 1);
}

/* No iteration ran: an empty stack, whose element type the body declares (vi). */
static int stack_empty(OnnxCtx *c, const OnnxNode *n, const Onnx__ValueInfoProto *vi, int64_t axis, const char *what) {
  const Onnx__TypeProto *t = vi ? vi->type : NULL;
  const Onnx__TensorShapeProto *sp =
      t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && t->tensor_type ? t->tensor_type->shape : NULL;
  DType dt;
  bool ok = sp && sp->n_dim < IR_MAX_RANK && !onnx_dtype(t->tensor_type->elem_type, &dt);
  Shape s = {.rank = ok ? (int)sp->n_dim + 1 : 0};
  int64_t a = 0;
  for (int i = 0; ok && i < (int)sp->n_dim; i++)
    ok = sp->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && sp->dim[i]->dim_value >= 0;
  if (!ok)
    return onnx_fail(c, n, "%s: no iteration ran, and the body does not declare the element's dtype and static shape", what);
  if (onnx_axis(c, n, axis, s.rank, &a)) return -1;
  for (int i = 0, k = 0; i < s.rank; i++) s.d[i] = i == a ? 0 : sp->dim[k++]->dim_value;
  int id = ir_const(c->g, NULL, dt, s, &a);
  return id < 0 ? onnx_fail_ir(c, n) : id;
}

/* Stack r (along axis a) of v[0..cnt-1] when they have data-dependent lengths: all
 * padded along one axis, r padded along the matching one; each must be as long as the
 * first (as ONNX's stacking requires), else the run fails.  `guarded`: the iterations
 * ran under run-time guards, whose padding along axis 0 r gets instead (refused).  The
 * result, or -1 with the error. */
static int stack_dyn(OnnxCtx *c, const OnnxNode *n, const int *v, int cnt, int64_t a, bool guarded, int r,
                     const char *what) {
  int d0 = onnx_dyn_find(c, v[0]), pa = d0 >= 0 ? c->dyn_axis[d0] : -1, ok = -1;
  for (int i = 0; i < cnt; i++) {
    int d = onnx_dyn_find(c, v[i]);
    if (d < 0 && d0 < 0) continue;
    if (d < 0 || d0 < 0 || c->dyn_axis[d] != pa || guarded)
      return onnx_fail(c, n, "%s: iterations give values of data-dependent length%s, which dlc does not stack", what,
                       guarded ? " in a loop whose length is known only at run time" : " padded differently");
    if (c->dyn_count[d] == c->dyn_count[d0]) continue;
    int eq = ir_binary(c->g, OP_EQ, c->dyn_count[d], c->dyn_count[d0]);
    if (eq < 0 || (ok = ok < 0 ? eq : ir_binary(c->g, OP_AND, ok, eq)) < 0) return onnx_fail_ir(c, n);
  }
  if (d0 < 0) return r;
  int count = c->dyn_count[d0];
  if (ok >= 0 && (r = onnx_fail_unless(c, r, ok)) < 0) return onnx_fail_ir(c, n);
  onnx_dyn_mark(c, r, count, pa >= a ? pa + 1 : pa);
  return r;
}

/* v[0..cnt-1] stacked along a new axis (in reverse order when `reverse`); vi declares
 * the element, for a stack of none; `guarded` as for stack_dyn. */
static int stack(OnnxCtx *c, const OnnxNode *n, const int *v, int cnt, int64_t axis, bool reverse,
                 const Onnx__ValueInfoProto *vi, bool guarded, const char *what) {
  if (!cnt) return stack_empty(c, n, vi, axis, what);
  int rank = c->g->nodes[v[0]]->shape.rank;
  int64_t a;
  if (onnx_axis(c, n, axis, rank + 1, &a)) return -1;
  int *u = arena_alloc(c->g->arena, sizeof(int) * (size_t)cnt);
  for (int i = 0; i < cnt; i++) {
    int x = v[reverse ? cnt - 1 - i : i];
    if (need_tensor(c, n, x, what)) return -1;
    const Node *xn = c->g->nodes[x], *v0 = c->g->nodes[v[0]];
    if (xn->dtype != v0->dtype || !shape_eq(&xn->shape, &v0->shape))
      return onnx_fail(c, n, "%s: iterations give values of different types or shapes, which do not stack", what);
    /* f16, bf16: stacked in f32 (the movement ops refuse them), rounded back exactly */
    if ((u[i] = unsqueeze(c, onnx_storage_wide(c, x), (int)a)) < 0) return onnx_fail_ir(c, n);
  }
  Attr at = attr_int(A_AXIS, a);
  int r = cnt == 1 ? u[0] : ir_add(c->g, OP_CONCAT, u, cnt, &at, 1);
  r = onnx_storage_narrow(c, r, c->g->nodes[v[0]]->dtype);
  return r < 0 ? onnx_fail_ir(c, n) : stack_dyn(c, n, v, cnt, a, guarded, r, what);
}

/* Unrolling `count` copies of a body of `nodes` nodes must fit the node budget. */
static int unroll_budget(OnnxCtx *c, const OnnxNode *n, double count, size_t nodes) {
  double total = count * (double)(nodes ? nodes : 1);
  if (total > (double)ir_limits.nodes)
    return onnx_fail(c, n, "unrolling %.0f iterations of a body of %zu nodes is over the limit of %lld nodes (--max-nodes)",
                     count, nodes, (long long)ir_limits.nodes);
  return 0;
}

/* A growable list of ids, in the arena. */
typedef struct IdList {
  int *v;
  int n, cap;
} IdList;

static void ids_push(OnnxCtx *c, IdList *l, int id) {
  if (l->n == l->cap) l->v = arena_grow(c->g->arena, l->v, l->n, l->cap, sizeof(int)), l->cap = arena_grown(l->cap);
  l->v[l->n++] = id;
}

/* ---- guards (docs/ONNX.md) ----
 *
 * A body whose condition is known only at run time is built under a guard: its nodes
 * run only when the guard holds.  A guard is an unguarded bool scalar; inside a guarded
 * body G it is and(G, term), so that the body may read what G's body computed.  The
 * term of a condition computed under G is select(G, cond, false), which is unguarded
 * (cond is undefined where G is false).  Merging selects are built under G on the term,
 * which the branches' guards name: that is what the verifier lets read a branch. */

/* Evaluates expr with no guard stamped on what it builds; the guard is put back. */
#define UNGUARDED(c, expr)          \
  do {                              \
    int saved_ = (c)->g->guard;     \
    (c)->g->guard = -1;             \
    expr;                           \
    (c)->g->guard = saved_;         \
  } while (0)

static int guard_term(OnnxCtx *c, const OnnxNode *n, int cond) {
  int G = c->g->guard, r = cond, f = -1;
  if (c->g->nodes[cond]->guard < 0) return cond;
  DLC_ASSERT(G >= 0); /* a guarded value is visible only inside its body */
  UNGUARDED(c, f = ir_scalar(c->g, DT_BOOL, 0); if (f >= 0) r = ir_select(c->g, G, cond, f));
  return f < 0 || r < 0 ? onnx_fail_ir(c, n) : r;
}

/* The guard of a body that runs when `term` holds, inside the current guard. */
static int guard_under(OnnxCtx *c, const OnnxNode *n, int term) {
  int G = c->g->guard, r = term;
  if (G < 0) return term;
  UNGUARDED(c, r = ir_binary(c->g, OP_AND, G, term));
  return r < 0 ? onnx_fail_ir(c, n) : r;
}

static const char *kind_of(const OnnxCtx *c, int id) {
  const OnnxSeq *s = onnx_seq_get(c, id);
  if (!s) return "a tensor";
  if (s->kind == ONNX_OPT) return s->n ? "a full optional" : "an empty optional";
  if (s->kind == ONNX_MAPS) return "a sequence of maps";
  char *buf = arena_alloc(c->g->arena, 64);
  snprintf(buf, 64, s->count >= 0 ? "a sequence of at most %d" : "a sequence of %d", s->n);
  return buf;
}

static int pad_where(OnnxCtx *c, const OnnxNode *n, int term, int e, const char *what);
static int pad_where_not(OnnxCtx *c, const OnnxNode *n, int term, int e, const char *what);
static int merge(OnnxCtx *c, const OnnxNode *n, int term, int a, int b, const char *what, int *out);

/* Sequences a (where term holds) and b (where it does not) of different lengths, or of
 * lengths known only at run time: one of at most the longer's, whose length is a node.
 * Where both have an element, it is merged; past the shorter, the longer's element
 * where its side holds and zeros where not, so the padding is the same in every run. */
static int merge_lengths(OnnxCtx *c, const OnnxNode *n, int term, const OnnxSeq *sa, const OnnxSeq *sb,
                         const char *what, int *out) {
  int na = sa->n, nb = sb->n, most = na > nb ? na : nb, la, lb, count;
  int dt = sa->dtype >= 0 ? sa->dtype : sb->dtype;
  const int *va = sa->v, *vb = sb->v;
  if ((la = onnx_seq_length(c, sa)) < 0 || (lb = onnx_seq_length(c, sb)) < 0 || (count = ir_select(c->g, term, la, lb)) < 0)
    return onnx_fail_ir(c, n);
  int *v = arena_alloc(c->g->arena, sizeof(int) * (size_t)(most ? most : 1));
  for (int i = 0; i < most; i++) {
    if (i < na && i < nb) {
      if (merge(c, n, term, va[i], vb[i], what, &v[i])) return -1;
    } else if ((v[i] = i < na ? pad_where(c, n, term, va[i], what) : pad_where_not(c, n, term, vb[i], what)) < 0) {
      return -1;
    }
  }
  *out = onnx_seq_make(c, ONNX_SEQ, v, most, dt);
  onnx_seq_set_count(c, *out, count);
  return 0;
}

/* The merge m of tensors a and b (select on term) when either has a data-dependent
 * length (onnx_ops_dyn.c): padded along the same axis, with the count of the side
 * taken (a side of full length counts its whole axis).  0, or -1 with the error. */
static int merge_dyn(OnnxCtx *c, const OnnxNode *n, int term, int a, int b, int m, const char *what) {
  int da = onnx_dyn_find(c, a), db = onnx_dyn_find(c, b);
  if (da < 0 && db < 0) return 0;
  int axa = da >= 0 ? c->dyn_axis[da] : -1, axb = db >= 0 ? c->dyn_axis[db] : -1, ax = axa >= 0 ? axa : axb;
  if (axa >= 0 && axb >= 0 && axa != axb)
    return onnx_fail(c, n, "%s: the two sides have lengths that depend on the data along different axes (%d and %d), "
                     "which no select merges", what, axa, axb);
  double full = (double)c->g->nodes[m]->shape.d[ax];
  int ca = da >= 0 ? c->dyn_count[da] : ir_scalar(c->g, DT_I64, full);
  int cb = db >= 0 ? c->dyn_count[db] : ir_scalar(c->g, DT_I64, full);
  int cnt = ca < 0 || cb < 0 ? -1 : ir_select(c->g, term, ca, cb);
  if (cnt < 0) return onnx_fail_ir(c, n);
  onnx_dyn_mark(c, m, cnt, ax);
  return 0;
}

/* select(term, a, b) of two values alike, under the current guard: tensors of one
 * dtype and shape (of data-dependent lengths: merge_dyn), sequences (of one length,
 * else one whose length is known only at run time: merge_lengths), optionals both
 * empty or both full. */
static int merge(OnnxCtx *c, const OnnxNode *n, int term, int a, int b, const char *what, int *out) {
  const OnnxSeq *sa = onnx_seq_get(c, a), *sb = onnx_seq_get(c, b);
  if (a == b) return *out = a, 0;
  if (sa || sb) {
    if (sa && sb && sa->kind == ONNX_SEQ && sb->kind == ONNX_SEQ && (sa->n != sb->n || sa->count >= 0 || sb->count >= 0))
      return merge_lengths(c, n, term, sa, sb, what, out);
    if (!sa || !sb || sa->kind != sb->kind || sa->n != sb->n)
      return onnx_fail(c, n, "%s: one side gives %s, the other %s, which no select merges: the condition must be a "
                       "constant known at compile time", what, kind_of(c, a), kind_of(c, b));
    int *v = arena_alloc(c->g->arena, sizeof(int) * (size_t)(sa->n ? sa->n : 1));
    for (int i = 0; i < sa->n; i++)
      if (merge(c, n, term, sa->v[i], sb->v[i], what, &v[i])) return -1;
    *out = onnx_seq_make(c, sa->kind, v, sa->n, sa->dtype);
    return 0;
  }
  const Node *x = c->g->nodes[a], *y = c->g->nodes[b];
  if (x->dtype != y->dtype || !shape_eq(&x->shape, &y->shape)) {
    char s1[96], s2[96];
    shape_str(&x->shape, s1, sizeof s1), shape_str(&y->shape, s2, sizeof s2);
    return onnx_fail(c, n, "%s: %s%s against %s%s, which no select merges: the condition must be a constant known at "
                     "compile time", what, dtype_name(x->dtype), s1, dtype_name(y->dtype), s2);
  }
  if (dtype_is_storage(x->dtype)) { /* f16, bf16: select reads f32 only; each side widened under its guard */
    int G = c->g->guard, a32, b32;
    c->g->guard = x->guard, a32 = ir_cast(c->g, a, DT_F32);
    c->g->guard = y->guard, b32 = a32 < 0 ? -1 : ir_cast(c->g, b, DT_F32);
    c->g->guard = G;
    int m = b32 < 0 ? -1 : ir_select(c->g, term, a32, b32);
    if (m < 0 || (*out = ir_cast(c->g, m, x->dtype)) < 0) return onnx_fail_ir(c, n);
    return merge_dyn(c, n, term, a, b, *out, what);
  }
  if ((*out = ir_select(c->g, term, a, b)) < 0) return onnx_fail_ir(c, n);
  return merge_dyn(c, n, term, a, b, *out, what);
}

/* ---- If ---- */

/* Both branches, each under its guard, merged by select on the condition. */
static int if_guarded(OnnxCtx *c, OnnxNode *n, int cond, const Onnx__GraphProto *tb, const Onnx__GraphProto *eb) {
  int G = c->g->guard, term = guard_term(c, n, cond), nterm = -1, gt, ge = -1, rc;
  int tout[ONNX_MAX_IO], eout[ONNX_MAX_IO];
  if (term < 0 || (gt = guard_under(c, n, term)) < 0) return -1;
  UNGUARDED(c, nterm = ir_unary(c->g, OP_NOT, term));
  if (nterm < 0) return onnx_fail_ir(c, n);
  if ((ge = guard_under(c, n, nterm)) < 0) return -1;
  c->g->guard = gt;
  rc = onnx_body_build(c, n, tb, "then_branch", -1, "then", NULL, 0, tout, ONNX_MAX_IO);
  c->g->guard = ge;
  if (rc >= 0) rc = onnx_body_build(c, n, eb, "else_branch", -1, "else", NULL, 0, eout, ONNX_MAX_IO);
  c->g->guard = G;
  if (rc < 0) return -1;
  for (int i = 0; i < n->nout; i++) {
    char what[160];
    snprintf(what, sizeof what, "output %d ('%.100s')", i + 1, n->p->output[i] ? n->p->output[i] : "");
    if (merge(c, n, term, tout[i], eout[i], what, &n->out[i])) return -1;
  }
  return 0;
}

int onnx_If(OnnxCtx *c, OnnxNode *n) {
  const Onnx__GraphProto *tb = onnx_attr_graph(c, n, "then_branch");
  const Onnx__GraphProto *eb = tb ? onnx_attr_graph(c, n, "else_branch") : NULL;
  if (!eb) return -1;
  if ((int)tb->n_output != n->nout || (int)eb->n_output != n->nout)
    return onnx_fail(c, n, "the branches give %zu and %zu outputs, the node has %d", tb->n_output, eb->n_output, n->nout);
  int cond = bool_scalar(c, n, n->nin ? n->in[0] : -1, "the condition");
  if (cond < 0) return -1;
  double v;
  if (onnx_const_doubles(c, cond, &v, 1) != 1) return if_guarded(c, n, cond, tb, eb);
  bool then = v != 0;
  return onnx_body_build(c, n, then ? tb : eb, then ? "then_branch" : "else_branch", -1, then ? "then" : "else",
                         NULL, 0, n->out, n->nout) < 0 ? -1 : 0;
}

/* ---- Loop ---- */

typedef struct LoopState {
  const Onnx__GraphProto *body;
  int nc, nscan;      /* loop-carried values, scan outputs */
  int *carried;       /* [nc] */
  IdList *scan;       /* [nscan] */
  int running;        /* bool scalar: the loop goes on */
  int64_t ran;        /* iterations that surely ran (their condition a constant) */
  int count;          /* i64 scalar: iterations run, once one ran under a run-time guard; else -1 */
  int64_t built;      /* iterations built */
} LoopState;

/* One iteration, k, of the body; *cond gets its condition output. */
static int loop_step(OnnxCtx *c, OnnxNode *n, LoopState *s, int64_t k, int *cond) {
  int in[ONNX_MAX_IO + 2], out[2 * ONNX_MAX_IO + 1];
  char tag[32];
  snprintf(tag, sizeof tag, "it%lld", (long long)k);
  if ((in[0] = ir_scalar(c->g, DT_I64, (double)k)) < 0) return onnx_fail_ir(c, n);
  in[1] = s->running;
  for (int i = 0; i < s->nc; i++) in[2 + i] = s->carried[i];
  if (onnx_body_build(c, n, s->body, "body iteration", k, tag, in, 2 + s->nc, out, 2 * ONNX_MAX_IO + 1) < 0) return -1;
  if ((*cond = bool_scalar(c, n, out[0], "the body's condition output")) < 0) return -1;
  for (int i = 0; i < s->nc; i++) s->carried[i] = out[1 + i];
  for (int j = 0; j < s->nscan; j++) ids_push(c, &s->scan[j], out[1 + s->nc + j]);
  return 0;
}

/* A scan output's element e of an iteration that ran when `term` held, zeros where it
 * did not (pad_where_not: e where term does not hold, zeros where it does): the padding
 * of a scan output whose length is known only at run time. */
static int pad_side(OnnxCtx *c, const OnnxNode *n, int term, int e, bool held, const char *what) {
  if (need_tensor(c, n, e, what)) return -1;
  const Node *x = c->g->nodes[e];
  DType dt = x->dtype;
  if (dt == DT_STR)
    return onnx_fail(c, n, "%s: strings cannot be padded, and the loop's length is known only at run time", what);
  int a = e, z, r = -1;
  if (dtype_is_storage(dt)) { /* f16, bf16: select reads f32 only; widened under the element's guard */
    int G = c->g->guard;
    c->g->guard = x->guard, a = ir_cast(c->g, e, DT_F32), c->g->guard = G;
  }
  if (a >= 0 && (z = ir_scalar(c->g, c->g->nodes[a]->dtype, 0)) >= 0) r = held ? ir_select(c->g, term, a, z) : ir_select(c->g, term, z, a);
  if (r >= 0 && a != e) r = ir_cast(c->g, r, dt);
  if (r < 0) return onnx_fail_ir(c, n);
  onnx_dyn_follow(c, e, r, onnx_dyn_axis(c, e)); /* a padded element stays padded */
  return r;
}
static int pad_where(OnnxCtx *c, const OnnxNode *n, int term, int e, const char *what) {
  return pad_side(c, n, term, e, true, what);
}
static int pad_where_not(OnnxCtx *c, const OnnxNode *n, int term, int e, const char *what) {
  return pad_side(c, n, term, e, false, what);
}

/* An iteration whose condition is known only at run time: the body runs under the
 * guard of `running`; the carried values keep their old values where it did not run,
 * the scan outputs get zeros there, and the count of iterations run grows by one where
 * it did. */
static int loop_guarded(OnnxCtx *c, OnnxNode *n, LoopState *s, int64_t k) {
  int G = c->g->guard, term = guard_term(c, n, s->running), gk, cond, f = -1, one = -1;
  if (term < 0 || (gk = guard_under(c, n, term)) < 0) return -1;
  int *old = arena_alloc(c->g->arena, sizeof(int) * (size_t)(s->nc + 1));
  memcpy(old, s->carried, sizeof(int) * (size_t)s->nc);
  s->running = term; /* what the body reads as cond_in: true wherever it runs */
  c->g->guard = gk;
  int rc = loop_step(c, n, s, k, &cond);
  c->g->guard = G;
  if (rc) return -1;
  for (int i = 0; i < s->nc; i++) {
    char what[64];
    snprintf(what, sizeof what, "loop-carried value %d in iteration %lld", i + 1, (long long)k);
    if (merge(c, n, term, s->carried[i], old[i], what, &s->carried[i])) return -1;
  }
  for (int j = 0; j < s->nscan; j++) {
    char what[64];
    snprintf(what, sizeof what, "scan output %d in iteration %lld", j + 1, (long long)k);
    int *e = &s->scan[j].v[s->scan[j].n - 1];
    if ((*e = pad_where(c, n, term, *e, what)) < 0) return -1;
  }
  if (s->count < 0 && (s->count = ir_scalar(c->g, DT_I64, (double)s->ran)) < 0) return onnx_fail_ir(c, n);
  if ((one = ir_cast(c->g, term, DT_I64)) < 0 || (s->count = ir_binary(c->g, OP_ADD, s->count, one)) < 0)
    return onnx_fail_ir(c, n);
  double v;
  if (onnx_const_doubles(c, cond, &v, 1) == 1) { /* false: it stops here; true: as before */
    s->running = v != 0 ? term : cond;
    return 0;
  }
  if ((f = ir_scalar(c->g, DT_BOOL, 0)) < 0 || (s->running = ir_select(c->g, term, cond, f)) < 0)
    return onnx_fail_ir(c, n);
  return 0;
}

/* v where bool scalar `ok` holds; where it does not the run fails (NAME_ERR_INDEX:
 * onnx_fail_unless).  A sequence or optional: each of its tensors. */
static int fail_at(OnnxCtx *c, const OnnxNode *n, int v, int ok) {
  const OnnxSeq *sq = onnx_seq_get(c, v);
  if (sq) {
    int *u = arena_alloc(c->g->arena, sizeof(int) * (size_t)(sq->n ? sq->n : 1)), count = sq->count;
    for (int i = 0; i < sq->n; i++)
      if ((u[i] = fail_at(c, n, sq->v[i], ok)) == -1) return -1; /* an optional's element may be a sequence's code */
    int r = onnx_seq_make(c, sq->kind, u, sq->n, sq->dtype);
    if (count >= 0) onnx_seq_set_count(c, r, count);
    return r;
  }
  int r = onnx_fail_unless(c, v, ok); /* a padded value stays padded */
  return r < 0 ? onnx_fail_ir(c, n) : r;
}

/* The loop stopped at --max-trip iterations, and `over` says whether it would have gone
 * on: a constant true is an error now, a run-time one fails the run (every output of
 * the node read through fail_at). */
static int loop_past_bound(OnnxCtx *c, OnnxNode *n, int over) {
  double v;
  if (onnx_const_doubles(c, over, &v, 1) == 1) {
    if (v == 0) return 0;
    return onnx_fail(c, n, "runs more than %lld iterations (--max-trip)", (long long)ir_limits.max_trip);
  }
  int ok = ir_unary(c->g, OP_NOT, over);
  if (ok < 0) return onnx_fail_ir(c, n);
  for (int i = 0; i < n->nout; i++)
    if (n->out[i] != -1 && (n->out[i] = fail_at(c, n, n->out[i], ok)) == -1) return -1; /* else a tensor or a sequence's code */
  return 0;
}

/* M as an i64 scalar, or -1 with the error. */
static int trip_scalar(OnnxCtx *c, const OnnxNode *n, int id) {
  if (need_tensor(c, n, id, "the trip count M")) return -1;
  const Node *v = c->g->nodes[id];
  if (!dtype_is_int(v->dtype) || shape_numel(&v->shape) != 1)
    return onnx_fail(c, n, "the trip count M must be one integer, not %s with %lld elements", dtype_name(v->dtype),
                     (long long)shape_numel(&v->shape));
  int64_t none[1] = {1};
  int r = v->shape.rank ? ir_reshape(c->g, id, none, 0) : id;
  if (r >= 0 && v->dtype != DT_I64) r = ir_cast(c->g, r, DT_I64);
  return r < 0 ? onnx_fail_ir(c, n) : r;
}

int onnx_Loop(OnnxCtx *c, OnnxNode *n) {
  LoopState s = {.body = onnx_attr_graph(c, n, "body"), .count = -1};
  if (!s.body) return -1;
  if (n->nin < 2) return onnx_fail(c, n, "needs inputs M and cond (either may be empty)");
  s.nc = n->nin - 2;
  s.nscan = n->nout - s.nc;
  if (s.nscan < 0 || (int)s.body->n_output != 1 + s.nc + s.nscan)
    return onnx_fail(c, n, "the body gives %zu outputs; the node has %d loop-carried values and %d outputs",
                     s.body->n_output, s.nc, n->nout);
  if (n->in[1] == -1 && n->in[0] == -1)
    return onnx_fail(c, n, "has neither a trip count nor a condition: it would never end");
  /* M: a constant, or a value known only at run time (mrun), which --max-trip bounds */
  int64_t trip = INT64_MAX, most = ir_limits.max_trip;
  int mrun = -1;
  if (n->in[0] != -1 && (ONNX_IS_SEQ(n->in[0]) || onnx_const_ints(c, n->in[0], &trip, 1) != 1)) {
    if (!most)
      return onnx_fail(c, n, "the trip count M must be a constant known at compile time, or give the most iterations with "
                             "--max-trip N (dlc unrolls the loop that far, and a run that needs more fails)");
    if ((mrun = trip_scalar(c, n, n->in[0])) < 0) return -1;
  }
  if (unroll_budget(c, n, mrun >= 0 ? (double)most : trip < 0 || n->in[0] == -1 ? 0 : (double)trip, s.body->n_node))
    return -1;
  s.running = n->in[1] == -1 ? ir_scalar(c->g, DT_BOOL, 1) : bool_scalar(c, n, n->in[1], "the condition cond");
  if (s.running < 0) return n->in[1] == -1 ? onnx_fail_ir(c, n) : -1;
  s.carried = arena_alloc(c->g->arena, sizeof(int) * (size_t)(s.nc + 1));
  s.scan = arena_alloc(c->g->arena, sizeof(IdList) * (size_t)(s.nscan + 1));
  for (int i = 0; i < s.nc; i++)
    if ((s.carried[i] = n->in[2 + i]) == -1) return onnx_fail(c, n, "loop-carried input %d is empty", i + 1);
  bool bounded = false; /* stopped by --max-trip, not by M or a constant condition */
  for (int64_t k = 0; k < trip; k++) {
    if (mrun >= 0) { /* iteration k runs only while k < M */
      int kk = ir_scalar(c->g, DT_I64, (double)k), lt = kk < 0 ? -1 : ir_binary(c->g, OP_LT, kk, mrun);
      if (lt < 0 || (s.running = ir_binary(c->g, OP_AND, s.running, lt)) < 0) return onnx_fail_ir(c, n);
    }
    double go;
    bool known = onnx_const_doubles(c, s.running, &go, 1) == 1;
    if (known && go == 0) break;
    if (!known && (n->in[0] == -1 || mrun >= 0)) {
      if (!most)
        return onnx_fail(c, n, "without a trip count M the condition must be a constant known at compile time "
                               "(at iteration %lld it is not), or give the most iterations with --max-trip N",
                         (long long)k);
      if (k >= most) {
        bounded = true;
        break;
      }
    }
    if (++c->work > 4 * ir_limits.nodes)
      return onnx_fail(c, n, "unrolling runs more than %lld iterations and nodes (4 x --max-nodes)",
                       (long long)(4 * ir_limits.nodes));
    int cond;
    if (!known ? loop_guarded(c, n, &s, k) : loop_step(c, n, &s, k, &cond)) return -1;
    if (known) s.running = cond, s.ran++;
    s.built++;
  }
  for (int i = 0; i < s.nc; i++) n->out[i] = s.carried[i];
  for (int j = 0; j < s.nscan; j++) {
    char what[64];
    snprintf(what, sizeof what, "scan output %d", j + 1);
    if ((n->out[s.nc + j] = stack(c, n, s.scan[j].v, s.scan[j].n, 0, false, s.body->output[1 + s.nc + j], s.count >= 0,
                                  what)) < 0)
      return -1;
  }
  if (bounded && loop_past_bound(c, n, s.running)) return -1;
  /* scan outputs padded to the iterations built: their length is the count (onnx_ops_dyn.c) */
  for (int j = 0; s.count >= 0 && j < s.nscan; j++) onnx_dyn_mark(c, n->out[s.nc + j], s.count, 0);
  if (!c->scope) { /* what --stats says (the loops of bodies would repeat per copy) */
    const char *name = n->p->name && *n->p->name ? n->p->name : n->p->n_output ? n->p->output[0] : "";
    if (s.count < 0) ir_note(c->g, "Loop '%.80s': unrolled, %lld iterations", name, (long long)s.built);
    else ir_note(c->g, "Loop '%.80s': unrolled, %lld iterations, %lld of them under run-time guards (%s)%s", name,
                 (long long)s.built, (long long)(s.built - s.ran),
                 mrun >= 0 ? "the trip count is known only at run time; --max-trip" : bounded ? "--max-trip"
                                                                      : "the condition is known only at run time",
                 s.nscan ? "; the scan outputs padded to them, their length beside them (NAME.count)" : "");
  }
  return 0;
}

/* ---- Scan ---- */

typedef struct ScanSpec {
  const Onnx__GraphProto *body;
  int nstate, nin, nout;  /* state variables, scan inputs, scan outputs */
  int64_t in_axis[ONNX_MAX_IO], in_rev[ONNX_MAX_IO], out_axis[ONNX_MAX_IO], out_rev[ONNX_MAX_IO];
} ScanSpec;

/* x without its dimension `axis`, at position t of it. */
static int take(OnnxCtx *c, const OnnxNode *n, int x, int axis, int64_t t) {
  const Shape *s = &c->g->nodes[x]->shape;
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK], d[IR_MAX_RANK];
  for (int i = 0, k = 0; i < s->rank; i++) {
    st[i] = i == axis ? t : 0, en[i] = i == axis ? t + 1 : s->d[i], sp[i] = 1;
    if (i != axis) d[k++] = s->d[i];
  }
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank), attr_ints(A_STEPS, sp, s->rank)};
  DType dt = c->g->nodes[x]->dtype; /* f16, bf16: sliced in f32, exactly widened */
  if ((x = onnx_storage_wide(c, x)) < 0) return onnx_fail_ir(c, n);
  int y = ir_add(c->g, OP_SLICE, &x, 1, a, 3);
  if (y >= 0) y = ir_reshape(c->g, y, d, s->rank - 1);
  y = onnx_storage_narrow(c, y, dt);
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

/* Opset 9's Scan over states st[] and inputs xs[]; out[] gets the final states, then
 * the stacked scan outputs. */
static int scan_run(OnnxCtx *c, OnnxNode *n, const ScanSpec *sp, const int *st, const int *xs, int *out) {
  int64_t len = -1;
  int axis[ONNX_MAX_IO];
  for (int j = 0; j < sp->nin; j++) {
    const Shape *s = &c->g->nodes[xs[j]]->shape;
    int64_t a;
    if (onnx_axis(c, n, sp->in_axis[j], s->rank, &a)) return -1;
    axis[j] = (int)a;
    if (len >= 0 && s->d[a] != len)
      return onnx_fail(c, n, "scan input %d has %lld steps, scan input 1 has %lld", j + 1, (long long)s->d[a], (long long)len);
    len = s->d[a];
  }
  if (unroll_budget(c, n, (double)len, sp->body->n_node)) return -1;
  int cur[ONNX_MAX_IO], in[ONNX_MAX_IO], res[ONNX_MAX_IO];
  IdList ys[ONNX_MAX_IO] = {{0}};
  memcpy(cur, st, sizeof(int) * (size_t)sp->nstate);
  for (int64_t t = 0; t < len; t++) {
    char tag[32];
    snprintf(tag, sizeof tag, "step%lld", (long long)t);
    memcpy(in, cur, sizeof(int) * (size_t)sp->nstate);
    for (int j = 0; j < sp->nin; j++)
      if ((in[sp->nstate + j] = take(c, n, xs[j], axis[j], sp->in_rev[j] ? len - 1 - t : t)) < 0) return -1;
    if (onnx_body_build(c, n, sp->body, "body step", t, tag, in, sp->nstate + sp->nin, res, ONNX_MAX_IO) < 0) return -1;
    memcpy(cur, res, sizeof(int) * (size_t)sp->nstate);
    for (int k = 0; k < sp->nout; k++) ids_push(c, &ys[k], res[sp->nstate + k]);
  }
  memcpy(out, cur, sizeof(int) * (size_t)sp->nstate);
  for (int k = 0; k < sp->nout; k++) {
    char what[64];
    snprintf(what, sizeof what, "scan output %d", k + 1);
    if ((out[sp->nstate + k] = stack(c, n, ys[k].v, ys[k].n, sp->out_axis[k], sp->out_rev[k] != 0,
                                       sp->body->output[sp->nstate + k], false, what)) < 0) return -1;
  }
  return 0;
}

/* An ints attribute of `count` entries, each in [lo, hi] when lo <= hi; def where absent. */
static int scan_ints(OnnxCtx *c, OnnxNode *n, const char *name, int64_t *v, int count, int64_t def, int64_t lo, int64_t hi) {
  int got = onnx_attr_ints(n, name, v, count);
  if (got < 0)
    for (int i = 0; i < count; i++) v[i] = def;
  else if (got != count)
    return onnx_fail(c, n, "attribute '%s' has %d entries for %d values", name, got, count);
  for (int i = 0; i < count && lo <= hi; i++)
    if (v[i] < lo || v[i] > hi) return onnx_fail(c, n, "attribute '%s': %lld is not in [%lld, %lld]", name, (long long)v[i], (long long)lo, (long long)hi);
  return 0;
}

/* Opset 8's sequence_lens: only when every entry is the whole length of x (axis 1). */
static int full_lengths(OnnxCtx *c, OnnxNode *n, int x) {
  const Shape *s = &c->g->nodes[x]->shape;
  int cnt = ONNX_IS_SEQ(n->in[0]) ? -1 : onnx_const_ints(c, n->in[0], NULL, 0);
  int64_t *lens = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(cnt > 0 ? cnt : 1));
  if (cnt > 0) onnx_const_ints(c, n->in[0], lens, cnt);
  bool ok = cnt >= 0 && s->rank >= 2 && cnt == s->d[0];
  for (int i = 0; ok && i < cnt; i++) ok = lens[i] == s->d[1];
  if (!ok)
    return onnx_fail(c, n, "sequence_lens must be a constant whose every entry is the whole sequence length "
                           "(dlc does not scan sequences of different lengths)");
  return 0;
}

/* Opset 8: a batch axis 0 on every state and input, and the scan axis 1; each batch
 * entry is scanned on its own and the results stacked again. */
static int scan8(OnnxCtx *c, OnnxNode *n, ScanSpec *sp) {
  const int *st = n->in + 1, *xs = n->in + 1 + sp->nstate;
  if (n->in[0] != -1 && full_lengths(c, n, xs[0])) return -1;
  int64_t batch = -1;
  for (int i = 0; i < sp->nstate + sp->nin; i++) {
    const Shape *s = &c->g->nodes[st[i]]->shape;
    if (s->rank < 1 || (batch >= 0 && s->d[0] != batch))
      return onnx_fail(c, n, "input %d does not have the batch size %lld as its first dimension", i + 2, (long long)batch);
    batch = s->d[0];
  }
  if (unroll_budget(c, n, (double)batch, 1)) return -1;
  IdList res[ONNX_MAX_IO] = {{0}};
  int nres = sp->nstate + sp->nout;
  for (int64_t b = 0; b < batch; b++) {
    int bst[ONNX_MAX_IO], bxs[ONNX_MAX_IO], out[ONNX_MAX_IO];
    for (int i = 0; i < sp->nstate; i++)
      if ((bst[i] = take(c, n, st[i], 0, b)) < 0) return -1;
    for (int j = 0; j < sp->nin; j++)
      if ((bxs[j] = take(c, n, xs[j], 0, b)) < 0) return -1;
    if (scan_run(c, n, sp, bst, bxs, out)) return -1;
    for (int i = 0; i < nres; i++) ids_push(c, &res[i], out[i]);
  }
  for (int i = 0; i < nres; i++)
    if ((n->out[i] = stack(c, n, res[i].v, res[i].n, 0, false, NULL, false, "the batch")) < 0) return -1;
  return 0;
}

int onnx_Scan(OnnxCtx *c, OnnxNode *n) {
  ScanSpec sp = {.body = onnx_attr_graph(c, n, "body")};
  if (!sp.body) return -1;
  const Onnx__AttributeProto *a = onnx_attr(n, "num_scan_inputs");
  if (!a || !a->has_i) return onnx_fail(c, n, "needs attribute 'num_scan_inputs'");
  int first = c->opset < 9; /* opset 8's sequence_lens */
  if (a->i < 1 || a->i > n->nin - first) return onnx_fail(c, n, "num_scan_inputs %lld does not fit its %d inputs", (long long)a->i, n->nin);
  sp.nin = (int)a->i;
  sp.nstate = n->nin - first - sp.nin;
  sp.nout = n->nout - sp.nstate;
  if (sp.nout < 0 || (int)sp.body->n_output != n->nout || (int)sp.body->n_input != sp.nstate + sp.nin)
    return onnx_fail(c, n, "the body has %zu inputs and %zu outputs for %d states, %d scan inputs and %d outputs",
                     sp.body->n_input, sp.body->n_output, sp.nstate, sp.nin, n->nout);
  for (int i = first; i < n->nin; i++)
    if (need_tensor(c, n, n->in[i], "every input but sequence_lens")) return -1;
  if (first) {
    if (scan_ints(c, n, "directions", sp.in_rev, sp.nin, 0, 0, 1)) return -1;
    for (int j = 0; j < sp.nin; j++) sp.in_axis[j] = 0;
    for (int k = 0; k < sp.nout; k++) sp.out_axis[k] = 0, sp.out_rev[k] = 0;
    return scan8(c, n, &sp);
  }
  if (scan_ints(c, n, "scan_input_axes", sp.in_axis, sp.nin, 0, 1, 0) ||
      scan_ints(c, n, "scan_input_directions", sp.in_rev, sp.nin, 0, 0, 1) ||
      scan_ints(c, n, "scan_output_axes", sp.out_axis, sp.nout, 0, 1, 0) ||
      scan_ints(c, n, "scan_output_directions", sp.out_rev, sp.nout, 0, 0, 1))
    return -1;
  return scan_run(c, n, &sp, n->in, n->in + sp.nstate, n->out);
}

/* ---- SequenceMap ---- */

int onnx_SequenceMap(OnnxCtx *c, OnnxNode *n) {
  const Onnx__GraphProto *body = onnx_attr_graph(c, n, "body");
  if (!body) return -1;
  const OnnxSeq *s0 = n->nin ? onnx_seq_get(c, n->in[0]) : NULL;
  if (!s0 || s0->kind != ONNX_SEQ) return onnx_fail(c, n, "input 1 must be a sequence");
  for (int i = 0; i < n->nin; i++) {
    const OnnxSeq *s = onnx_seq_get(c, n->in[i]);
    if (s && s->count >= 0)
      return onnx_fail(c, n, "input %d is a sequence whose length is known only at run time (at most %d); SequenceMap "
                       "reads sequences whose length is known at compile time", i + 1, s->n);
  }
  if ((int)body->n_output != n->nout) return onnx_fail(c, n, "the body gives %zu outputs, the node has %d", body->n_output, n->nout);
  for (int i = 1; i < n->nin; i++) {
    const OnnxSeq *s = onnx_seq_get(c, n->in[i]);
    if (n->in[i] == -1 || (s && s->kind != ONNX_SEQ)) return onnx_fail(c, n, "input %d must be a sequence or a tensor", i + 1);
    if (s && s->n != s0->n)
      return onnx_fail(c, n, "input %d is a sequence of %d elements, input 1 of %d", i + 1, s->n, s0->n);
  }
  if (unroll_budget(c, n, (double)s0->n, body->n_node)) return -1;
  IdList ys[ONNX_MAX_IO] = {{0}};
  for (int k = 0; k < s0->n; k++) {
    int in[ONNX_MAX_IO], out[ONNX_MAX_IO];
    char tag[32];
    snprintf(tag, sizeof tag, "el%d", k);
    for (int i = 0; i < n->nin; i++) {
      const OnnxSeq *s = onnx_seq_get(c, n->in[i]);
      in[i] = s ? s->v[k] : n->in[i];
    }
    if (onnx_body_build(c, n, body, "body for element", k, tag, in, n->nin, out, ONNX_MAX_IO) < 0) return -1;
    for (int j = 0; j < n->nout; j++) {
      if (need_tensor(c, n, out[j], "each output of the body")) return -1;
      ids_push(c, &ys[j], out[j]);
    }
  }
  for (int j = 0; j < n->nout; j++)
    n->out[j] = onnx_seq_make(c, ONNX_SEQ, ys[j].v, ys[j].n, s0->n ? (int)c->g->nodes[ys[j].v[0]]->dtype : -1);
  return 0;
}
