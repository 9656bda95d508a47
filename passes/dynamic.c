/* dynamic.c — a run-time dimension (`dlc compile --dynamic batch<=64`).
 *
 * The frontend builds the model once per size class (by default the powers of two up
 * to the bound); dyn_merge checks that the model treats the dimension's samples
 * independently, then joins the builds into one graph whose inputs and outputs are
 * each class's, in turn.  The generated code (codegen/c/dyn_api.c) runs a size n as a
 * sum of classes, largest first: n = 37 under 1, 2, 4, .. 64 runs 32, 4 and 1.  So every
 * kernel keeps its static shapes (and speed), the plan is static, and one arena serves
 * every class, since only one runs at a time.
 *
 * Independence ("separability") is shown, never assumed.  Two builds of different
 * sizes name the dimension each node's shape follows: an axis that is k*n in both (k
 * fixed) carries the samples, k consecutive entries each.  Then each op is checked
 * against that labelling: elementwise ops and broadcasts keep the samples aligned,
 * reductions and slices leave their axis alone, a reshape keeps each sample's block
 * contiguous, a product never contracts over it, a convolution or a pool has it in
 * front, a gather either looks up per sample or reads per-sample data elsewhere.  Any
 * other op that reads per-sample values is refused with the node named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* The label of one node: the axis that holds the samples (-1: none), of size f*n.
 * Along it, entry (u*n + s)*k + j (u < q, j < k, q*k = f) belongs to sample s: each
 * sample has k consecutive entries, q times over (a [T, n, F] input reshaped to
 * [T*n, F] has q = T).  uni: the values are the same at every index of the axis (a
 * broadcast of a batch-independent value), whatever q and k say. */
typedef struct {
  int axis;
  int64_t f, q, k;
  bool uni;
} Label;

static const char *nname(const Node *n) { return n->name ? n->name : ir_ops[n->op].name; }

static const char *bname(const DynInfo *d) { return d->bound >= 0 ? d->dim[d->bound].name : "?"; }

/* "--dynamic NAME", or d->flag alone. */
static const char *flag(const DynInfo *d, char *buf, size_t n) {
  if (d->flag) return d->flag;
  snprintf(buf, n, "--dynamic %s", bname(d));
  return buf;
}

static int refuse(DlcErr *e, const DynInfo *d, const Node *n, const char *why) {
  char f[100];
  return dlc_errf(e, "%s%s%s: node %d '%s' (%s)%s%s: %s", d->file ? d->file : "", d->file ? ": " : "",
                  flag(d, f, sizeof f), n->id, nname(n), ir_ops[n->op].name, n->where ? " at " : "", n->where ? n->where : "", why);
}

/* Whether attribute k of x and y (the same node in two builds) differ only where the
 * sizes do: a reshape's or a broadcast's shape (their result's, labelled), a slice's
 * end along the labelled axis (the whole axis: check_node).  A constant that does not
 * follow the dimension must hold the same values in both: one computed from the size
 * (x / n, say) would give each part of a split batch its own answer. */
static int same_values(const Node *x, const Node *y, const Graph *g, const Label *lab, const DynInfo *d, DlcErr *e) {
  if ((y->op == OP_CONST || y->op == OP_PARAM) && lab[y->id].axis < 0 &&
      memcmp(x->data, y->data, (size_t)(shape_numel(&y->shape) * dtype_size(y->dtype))))
    return refuse(e, d, y, "a constant computed from the dimension's size: each part of a split batch would see its "
                           "own size");
  for (int k = 0; k < y->nattr; k++) {
    const Attr *p = &x->attr[k], *q = &y->attr[k];
    bool same = p->key == q->key && p->kind == q->kind && p->n == q->n && p->i == q->i &&
                (p->f == q->f || (p->f != p->f && q->f != q->f));
    int at = y->nin ? lab[y->in[0]].axis : -1;
    for (int j = 0; same && p->kind == AK_INTS && j < p->n; j++)
      if (p->ints[j] != q->ints[j] && !((y->op == OP_RESHAPE || y->op == OP_BROADCAST || y->op == OP_IOTA) && q->key == A_SHAPE) &&
          !(y->op == OP_SLICE && q->key == A_ENDS && j == at))
        same = false;
    if (!same) {
      char msg[160];
      snprintf(msg, sizeof msg, "its attribute %s depends on the dimension's size", attr_name(q->key));
      return refuse(e, d, y, msg);
    }
  }
  (void)g;
  return 0;
}

/* Which axis of each node follows the dimension, from two builds whose dimension is
 * na and nb: an axis that is f*na in one and f*nb in the other. */
static int label(const Graph *a, int64_t na, const Graph *b, int64_t nb, const DynInfo *d, Label *lab, DlcErr *e) {
  char f[100];
  if (a->n != b->n || a->nout != b->nout)
    return dlc_errf(e, "%s%s%s: the model's graph differs between sizes %lld and %lld (%d and %d nodes); its "
                    "structure depends on %s", d->file ? d->file : "", d->file ? ": " : "", flag(d, f, sizeof f), (long long)na,
                    (long long)nb, a->n, b->n, bname(d));
  for (int i = 0; i < b->n; i++) {
    const Node *x = a->nodes[i], *y = b->nodes[i];
    lab[i] = (Label){.axis = -1};
    bool same = x->op == y->op && x->shape.rank == y->shape.rank && x->nin == y->nin && x->guard == y->guard &&
                x->nattr == y->nattr && x->dtype == y->dtype;
    for (int k = 0; same && k < x->nin; k++) same = x->in[k] == y->in[k];
    if (!same) return refuse(e, d, y, "the graph's structure depends on the dimension's size");
    for (int t = 0; t < y->shape.rank; t++) {
      int64_t p = x->shape.d[t], q = y->shape.d[t];
      if (p == q) continue;
      if (p % na || q % nb || p / na != q / nb || lab[i].axis >= 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "its dimension %d is %lld at size %lld and %lld at size %lld: %s", t, (long long)p,
                 (long long)na, (long long)q, (long long)nb,
                 lab[i].axis >= 0 ? "a second axis follows the dimension" : "not in proportion to it");
        return refuse(e, d, y, msg);
      }
      lab[i].axis = t, lab[i].f = q / nb;
    }
  }
  /* only what the outputs read: the frontend leaves folded shape arithmetic behind */
  bool *live = calloc((size_t)b->n + 1, sizeof *live);
  if (!live) return dlc_errf(e, "out of memory");
  for (int j = 0; j < b->nout; j++) live[b->out[j]] = true;
  for (int i = b->n - 1; i >= 0; i--) {
    const Node *y = b->nodes[i];
    if (!live[i]) continue;
    for (int k = 0; k < y->nin; k++) live[y->in[k]] = true;
    if (y->guard >= 0) live[y->guard] = true;
  }
  int r = 0;
  for (int i = 0; i < b->n && !r; i++)
    if (live[i]) r = same_values(a->nodes[i], b->nodes[i], b, lab, d, e);
  free(live);
  return r;
}

static int64_t prod(const Shape *s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= s->d[i];
  return p;
}

/* Whether a CONST holds the same values at every index of axis ax. */
static bool uniform(const Node *n, int ax) {
  int64_t outer = prod(&n->shape, 0, ax), size = n->shape.d[ax];
  int64_t block = prod(&n->shape, ax + 1, n->shape.rank) * dtype_size(n->dtype);
  const unsigned char *p = n->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t s = 1; s < size; s++)
      if (memcmp(p + (o * size + s) * block, p + o * size * block, (size_t)block)) return false;
  return true;
}

/* The output axis an operand's axis t lands on under numpy broadcasting. */
static int aligned(const Node *in, int t, const Node *out) { return t + out->shape.rank - in->shape.rank; }

/* Sets *o's layout from operand label l (already at o's axis); false when it clashes
 * with what an earlier operand set. */
static bool join(Label *o, Label l, bool *set) {
  if (l.uni) return true;
  if (*set) return o->q == l.q && o->k == l.k;
  o->q = l.q, o->k = l.k, o->uni = false, *set = true;
  return true;
}

/* Checks node n against the labels of its operands and completes its own (q, k, uni). */
static int check_node(const Graph *g, const Node *n, Label *lab, const DynInfo *d, DlcErr *e) {
  Label *o = &lab[n->id];
  bool any = false, set = false;
  for (int i = 0; i < n->nin; i++) any |= lab[n->in[i]].axis >= 0;
  if (o->axis >= 0) o->q = 1, o->k = o->f, o->uni = true; /* until an operand says otherwise */
  if (n->op == OP_INPUT) {
    if (o->axis >= 0) o->uni = false;
    return 0;
  }
  if (n->op == OP_CONST && o->axis >= 0)
    return uniform(n, o->axis) ? 0 : refuse(e, d, n, "a constant whose values differ between samples");
  if (n->op == OP_IOTA && o->axis >= 0) return refuse(e, d, n, "a sequence along the dimension");
  if (!any && o->axis >= 0 && n->op == OP_BROADCAST) { /* a batch-independent value repeated: uni */
    const Node *x = g->nodes[n->in[0]];
    int t = o->axis - (n->shape.rank - x->shape.rank);
    if (t < 0 || x->shape.d[t] == 1) return 0;
  }
  if (!any) return o->axis < 0 ? 0 : refuse(e, d, n, "it makes the dimension without reading it");
  if (o->axis < 0) return refuse(e, d, n, "its result combines the samples");
  const Node *x = g->nodes[n->in[0]];
  Label lx = lab[x->id];
  bool ok = true;
  const char *why = "its operands hold the samples on different axes";
  switch ((int)n->op) {
  case OP_REDUCE_SUM: case OP_REDUCE_PROD: case OP_REDUCE_MAX: case OP_REDUCE_MIN: {
    int na;
    const int64_t *ax = node_ints(n, A_AXES, &na);
    for (int i = 0; i < na; i++)
      if (ax[i] == lx.axis) return refuse(e, d, n, "it reduces over the dimension");
    ok = join(o, lx, &set);
    break;
  }
  case OP_ARGMAX: case OP_ARGMIN:
    if (node_int(n, A_AXIS) == lx.axis) return refuse(e, d, n, "it reduces over the dimension");
    ok = join(o, lx, &set);
    break;
  case OP_TRANSPOSE: {
    int np;
    const int64_t *perm = node_ints(n, A_PERM, &np);
    ok = perm[o->axis] == lx.axis && join(o, lx, &set);
    why = "it moves the samples apart";
    break;
  }
  case OP_RESHAPE: { /* flat index (p*n + s)*B + r: each sample keeps its place */
    int64_t q = lx.uni ? 1 : lx.q, k = lx.uni ? lx.f : lx.k;
    int64_t P = prod(&x->shape, 0, lx.axis) * q, B = k * prod(&x->shape, lx.axis + 1, x->shape.rank);
    int64_t po = prod(&n->shape, 0, o->axis), bo = prod(&n->shape, o->axis + 1, n->shape.rank);
    if (P % po || B % bo) return refuse(e, d, n, "it interleaves the samples");
    o->q = P / po, o->k = B / bo, o->uni = false;
    break;
  }
  case OP_SLICE: {
    int c;
    const int64_t *st = node_ints(n, A_STARTS, &c), *sp = node_ints(n, A_STEPS, &c);
    if (!(st[lx.axis] == 0 && sp[lx.axis] == 1 && n->shape.d[o->axis] == x->shape.d[lx.axis] && o->axis == lx.axis))
      return refuse(e, d, n, "it slices along the dimension");
    ok = join(o, lx, &set);
    break;
  }
  case OP_PAD: {
    int c;
    const int64_t *p = node_ints(n, A_PADS, &c);
    if (p[lx.axis] || p[lx.axis + x->shape.rank]) return refuse(e, d, n, "it pads along the dimension");
    ok = join(o, lx, &set);
    break;
  }
  case OP_CONCAT:
    if (node_int(n, A_AXIS) == o->axis) return refuse(e, d, n, "it concatenates along the dimension");
    for (int i = 0; i < n->nin && ok; i++) {
      Label l = lab[n->in[i]];
      ok = l.axis == o->axis && join(o, l, &set);
    }
    why = "its operands do not all follow the dimension alike";
    break;
  case OP_GATHER: {
    int ax = (int)node_int(n, A_AXIS);
    const Node *idx = g->nodes[n->in[1]];
    Label li = lab[idx->id];
    if (lx.axis >= 0 && li.axis >= 0) return refuse(e, d, n, "both its data and its indices follow the dimension");
    if (lx.axis == ax) return refuse(e, d, n, "it gathers along the dimension");
    int want = lx.axis >= 0 ? (lx.axis < ax ? lx.axis : lx.axis - 1 + idx->shape.rank) : ax + li.axis;
    ok = want == o->axis && join(o, lx.axis >= 0 ? lx : li, &set);
    if (lx.axis >= 0 && lx.uni) o->uni = true;
    why = "it moves the samples apart";
    break;
  }
  case OP_MATMUL:
    for (int i = 0; i < 2 && ok; i++) {
      const Node *v = g->nodes[n->in[i]];
      Label l = lab[v->id];
      if (l.axis < 0) continue;
      int r = v->shape.rank;
      bool tr = node_int(n, i ? A_TRANS_B : A_TRANS_A) != 0;
      int kax = r == 1 ? 0 : i ? (tr ? r - 1 : r - 2) : (tr ? r - 2 : r - 1);
      if (l.axis == kax) return refuse(e, d, n, "the product contracts over the dimension");
      int mn = r == 1 ? -1 : i ? (tr ? r - 2 : r - 1) : (tr ? r - 1 : r - 2); /* M of a, N of b */
      int at = l.axis == mn ? n->shape.rank - (i ? 1 : 2) : l.axis + (n->shape.rank - r);
      ok = at == o->axis && join(o, l, &set);
    }
    break;
  case OP_CONV: case OP_POOL_MAX: case OP_POOL_AVG:
    for (int i = 1; i < n->nin; i++)
      if (lab[n->in[i]].axis >= 0) return refuse(e, d, n, "its weights follow the dimension");
    ok = lx.axis == 0 && o->axis == 0 && join(o, lx, &set);
    why = "the dimension is not its batch axis";
    break;
  default:
    if (!op_is_elementwise(n->op) && n->op != OP_BROADCAST)
      return refuse(e, d, n, "dlc cannot show that this op keeps the samples apart");
    for (int i = 0; i < n->nin && ok; i++) {
      const Node *v = g->nodes[n->in[i]];
      Label l = lab[v->id];
      int t = o->axis - (n->shape.rank - v->shape.rank);
      if (l.axis >= 0) ok = aligned(v, l.axis, n) == o->axis && join(o, l, &set);
      else if (t >= 0 && v->shape.d[t] != 1) return refuse(e, d, n, "an operand spans the dimension without following it");
    }
  }
  if (!ok) return refuse(e, d, n, why);
  if (o->q * o->k != o->f) return refuse(e, d, n, "its samples' layout does not match its size");
  return 0;
}

/* Copies node n of v into m, its operands through map; the new id or -1 with e set.
 * Inputs are renamed NAME__SUFFIX (the build's sizes). */
static int copy_node(Graph *m, const Node *n, const int *map, const char *suffix, DlcErr *e) {
  char nm[300];
  int id, old;
  switch ((int)n->op) {
  case OP_INPUT:
    snprintf(nm, sizeof nm, "%s__%s", n->name, suffix);
    if (ir_find(m, nm) >= 0) return dlc_errf(e, "--dynamic: the model already has an input named '%s'", nm);
    id = ir_input(m, nm, n->dtype, n->shape);
    break;
  case OP_PARAM: case OP_CONST:
    old = n->name ? ir_find(m, n->name) : -1;
    if (old >= 0) {
      const Node *o = m->nodes[old];
      if (o->op == n->op && o->dtype == n->dtype && shape_eq(&o->shape, &n->shape) &&
          !memcmp(o->data, n->data, (size_t)(shape_numel(&n->shape) * dtype_size(n->dtype))))
        return old;
    }
    if (n->op == OP_PARAM && old < 0) id = ir_param_data(m, n->name, n->dtype, n->shape, n->data);
    else id = ir_const(m, old < 0 ? n->name : NULL, n->dtype, n->shape, n->data);
    break;
  default: {
    int in[64], *ins = n->nin <= 64 ? in : malloc(sizeof(int) * (size_t)n->nin);
    if (!ins) return dlc_errf(e, "out of memory");
    for (int i = 0; i < n->nin; i++) ins[i] = map[n->in[i]];
    m->guard = n->guard >= 0 ? map[n->guard] : -1;
    id = ir_add(m, n->op, ins, n->nin, n->attr, n->nattr);
    m->guard = -1;
    if (ins != in) free(ins);
    if (id >= 0 && n->name) m->nodes[id]->name = arena_strdup(m->arena, n->name);
  }
  }
  if (id < 0) return dlc_errf(e, "--dynamic: %s", m->err.msg[0] ? m->err.msg : "cannot copy a node");
  m->nodes[id]->group = n->group;
  m->nodes[id]->where = n->where ? arena_strdup(m->arena, n->where) : NULL;
  return id;
}

static void io_geometry(const Node *n, Label l, DynIO *io) {
  io->axis = l.axis, io->k = l.k;
  io->outer = l.axis < 0 ? 1 : prod(&n->shape, 0, l.axis) * l.q;
  io->row = l.axis < 0 ? shape_numel(&n->shape) : l.k * prod(&n->shape, l.axis + 1, n->shape.rank);
  io->bytes = dtype_size(n->dtype);
  io->numel = shape_numel(&n->shape);
}

int dyn_combos(const DynInfo *d) {
  int c = 1;
  for (int j = 0; j < d->ndim; j++)
    if (j != d->bound) c *= d->dim[j].n;
  return c;
}

void dyn_sizes(const DynInfo *d, int v, int64_t *sizes) {
  int nb = d->bound >= 0 ? d->dim[d->bound].n : 1, c = v / nb;
  for (int j = d->ndim - 1; j >= 0; j--) {
    if (j == d->bound) {
      sizes[j] = d->dim[j].size[v % nb];
      continue;
    }
    sizes[j] = d->dim[j].size[c % d->dim[j].n];
    c /= d->dim[j].n;
  }
}

void dyn_suffix(const DynInfo *d, int v, char *buf, size_t n) {
  int64_t sz[DYN_MAX_DIMS];
  dyn_sizes(d, v, sz);
  size_t k = 0;
  buf[0] = 0;
  for (int j = 0; j < d->ndim && k < n; j++) k += (size_t)snprintf(buf + k, n - k, "%s%lld", j ? "_" : "", (long long)sz[j]);
}

/* Whether the inputs of builds a and b have the same shapes. */
static bool same_inputs(const Graph *a, const Graph *b) {
  for (int i = 0; i < ir_num_inputs(a); i++)
    if (!shape_eq(&a->nodes[ir_input_id(a, i)]->shape, &b->nodes[ir_input_id(b, i)]->shape)) return false;
  return true;
}

int dyn_merge(Graph *const *v, DynInfo *d, Graph **out, DlcErr *e) {
  *out = NULL;
  const Graph *top = v[0];
  d->file = top->file;
  int nb = d->bound >= 0 ? d->dim[d->bound].n : 1, nc = dyn_combos(d), r = 0;
  for (int i = 0; i < d->nv; i++) {
    if (v[i]->nstep || v[i]->nspec) return dlc_errf(e, "--dynamic: a model with training steps has fixed shapes");
    for (int j = 0; j < v[i]->nout; j++)
      if (v[i]->out_count[j] >= 0)
        return dlc_errf(e, "--dynamic: output '%s' has a data-dependent length", v[i]->out_name[j]);
    if (ir_num_inputs(v[i]) != ir_num_inputs(top) || v[i]->nout != top->nout)
      return dlc_errf(e, "--dynamic: the model's inputs or outputs differ between sizes");
  }
  /* each dimension must reach an input: the builds that differ in it alone differ there */
  for (int j = 0; j < d->ndim; j++) {
    if (d->dim[j].n < 2) continue;
    int at = 1; /* the build that differs from build 0 in dimension j alone */
    if (j != d->bound) {
      for (int t = j + 1; t < d->ndim; t++)
        if (t != d->bound) at *= d->dim[t].n;
      at *= nb;
    }
    if (same_inputs(v[0], v[at]))
      return dlc_errf(e, "%s%s--dynamic %s: no input of the model has a dimension of that name", d->file ? d->file : "",
                      d->file ? ": " : "", d->dim[j].name);
  }
  d->nin = ir_num_inputs(top), d->nout = top->nout;
  d->io = calloc((size_t)(nc * (d->nin + d->nout)) + 1, sizeof *d->io);
  int most = 1;
  for (int i = 0; i < d->nv; i++) most = v[i]->n > most ? v[i]->n : most;
  Label *lab = malloc(sizeof *lab * (size_t)most);
  if (!d->io || !lab) r = dlc_errf(e, "out of memory");
  for (int c = 0; c < nc && !r; c++) { /* the samples' independence, at each size of the other dims */
    const Graph *big = v[c * nb];
    if (d->bound >= 0) {
      r = label(v[c * nb + 1], d->dim[d->bound].size[1], big, d->dim[d->bound].size[0], d, lab, e);
      for (int i = 0; !r && i < big->n; i++) r = check_node(big, big->nodes[i], lab, d, e);
    } else {
      for (int i = 0; i < big->n; i++) lab[i] = (Label){.axis = -1};
    }
    DynIO *io = d->io + c * (d->nin + d->nout);
    for (int i = 0; !r && i < d->nin; i++) io_geometry(big->nodes[ir_input_id(big, i)], lab[ir_input_id(big, i)], &io[i]);
    for (int j = 0; !r && j < d->nout; j++) io_geometry(big->nodes[big->out[j]], lab[big->out[j]], &io[d->nin + j]);
  }
  free(lab);
  Graph *m = r ? NULL : ir_graph_new(top->name);
  if (m && top->file) m->file = arena_strdup(m->arena, top->file);
  for (int k = 0; k < d->nv && !r; k++) {
    const Graph *g = v[k];
    char suffix[160];
    dyn_suffix(d, k, suffix, sizeof suffix);
    int *map = malloc(sizeof(int) * (size_t)(g->n ? g->n : 1));
    if (!map) r = dlc_errf(e, "out of memory");
    for (int i = 0; !r && i < g->n; i++)
      if ((map[i] = copy_node(m, g->nodes[i], map, suffix, e)) < 0) r = -1;
    for (int j = 0; !r && j < g->nout; j++) {
      char nm[300];
      snprintf(nm, sizeof nm, "%s__%s", g->out_name[j], suffix);
      if (ir_output(m, map[g->out[j]], nm) < 0) r = dlc_errf(e, "--dynamic: %s", m->err.msg);
    }
    free(map);
  }
  d->file = NULL; /* the builds' own, freed by the caller */
  if (!r && ir_verify(m, e)) r = -1;
  if (r) {
    if (m) ir_graph_free(m);
    return -1;
  }
  *out = m;
  return 0;
}

int dyn_split_check(const Graph *big, int64_t nb, const Graph *small, int64_t ns, DynIO *io, DlcErr *e) {
  DynInfo d = {.ndim = 1, .bound = 0, .file = big->file, .flag = "--micro-batch"};
  snprintf(d.dim[0].name, sizeof d.dim[0].name, "%s", "batch");
  if (big->nstep || big->nspec) return dlc_errf(e, "--micro-batch: a model with training steps runs whole");
  for (int j = 0; j < big->nout; j++)
    if (big->out_count[j] >= 0)
      return dlc_errf(e, "--micro-batch: output '%s' has a data-dependent length", big->out_name[j]);
  if (ir_num_inputs(small) != ir_num_inputs(big) || small->nout != big->nout)
    return dlc_errf(e, "--micro-batch: the model's inputs or outputs differ between sizes");
  for (int i = 0; i < big->n; i++) {
    const Node *n = big->nodes[i];
    if (n->op == OP_RNG_UNIFORM || n->op == OP_RNG_NORMAL)
      return refuse(e, &d, n, "its random numbers are numbered over the whole batch");
    if (n->dtype == DT_STR) return refuse(e, &d, n, "a string value (the string heap is one per run)");
  }
  Label *lab = malloc(sizeof *lab * (size_t)(big->n + 1));
  if (!lab) return dlc_errf(e, "out of memory");
  int r = label(small, ns, big, nb, &d, lab, e);
  for (int i = 0; !r && i < big->n; i++) r = check_node(big, big->nodes[i], lab, &d, e);
  int nin = ir_num_inputs(big);
  for (int i = 0; !r && i < nin; i++) io_geometry(big->nodes[ir_input_id(big, i)], lab[ir_input_id(big, i)], &io[i]);
  for (int j = 0; !r && j < big->nout; j++) io_geometry(big->nodes[big->out[j]], lab[big->out[j]], &io[nin + j]);
  free(lab);
  return r;
}

/* "NAME<=MAX", "NAME<=MAX:S1,S2,..": any size to MAX; "NAME=S1,S2,..": exactly those. */
int dyn_parse(const char *s, DynInfo *d, DlcErr *e) {
  if (d->ndim == DYN_MAX_DIMS) return dlc_errf(e, "--dynamic: at most %d run-time dimensions", DYN_MAX_DIMS);
  const char *le = strstr(s, "<="), *eq = strchr(s, '=');
  bool bound = le && le < eq;
  const char *stop = bound ? le : eq;
  DynDim *dd = &d->dim[d->ndim];
  if (!stop || stop == s || (size_t)(stop - s) >= sizeof dd->name)
    return dlc_errf(e, "--dynamic '%s': expected NAME<=MAX (any size up to MAX, e.g. batch<=64) or NAME=S1,S2,.. "
                    "(exactly those sizes, e.g. seq=16,32,64)", s);
  for (const char *q = s; q < stop; q++)
    if ((unsigned char)*q < 0x20 || *q == 0x7f)
      return dlc_errf(e, "--dynamic: a dimension's name holds a control character");
  memcpy(dd->name, s, (size_t)(stop - s));
  dd->name[stop - s] = 0;
  for (int j = 0; j < d->ndim; j++)
    if (!strcmp(d->dim[j].name, dd->name)) return dlc_errf(e, "--dynamic: '%s' given twice", dd->name);
  if (bound && d->bound >= 0)
    return dlc_errf(e, "--dynamic '%s': one dimension may be NAME<=MAX ('%s' is); give the others as NAME=S1,S2,..", s,
                    d->dim[d->bound].name);
  dd->bound = bound, dd->n = 0;
  const char *p = bound ? le + 2 : eq + 1;
  char *end;
  int64_t prev = 0;
  if (bound) {
    long long max = strtoll(p, &end, 10);
    if (end == p || max < 2 || max > (1 << 20))
      return dlc_errf(e, "--dynamic '%s': the bound must be an integer from 2 to %d", s, 1 << 20);
    dd->max = max;
    if (!*end) {
      for (int64_t x = 1; x < max; x *= 2) dd->size[dd->n++] = x;
      p = end;
    } else if (*end == ':') {
      p = end + 1;
    } else {
      return dlc_errf(e, "--dynamic '%s': expected NAME<=MAX or NAME<=MAX:S1,S2,..", s);
    }
  }
  while (*p) {
    long long x = strtoll(p, &end, 10);
    if (end == p || x < 1 || (bound && x > dd->max) || x <= prev || dd->n == DYN_MAX_SIZES - 1)
      return dlc_errf(e, "--dynamic '%s': the sizes must rise, from 1%s, %d of them at most", s,
                      bound ? " to at most the bound" : "", DYN_MAX_SIZES - 1);
    dd->size[dd->n++] = prev = x;
    if (*end == ',' && end[1]) end++;
    else if (*end) return dlc_errf(e, "--dynamic '%s': expected a comma between sizes", s);
    p = end;
  }
  if (!dd->n) return dlc_errf(e, "--dynamic '%s': no sizes", s);
  if (bound) {
    if (dd->size[0] != 1) return dlc_errf(e, "--dynamic '%s': the sizes must start at 1, so that every size is a sum of them", s);
    if (dd->size[dd->n - 1] != dd->max) dd->size[dd->n++] = dd->max;
    for (int i = 0; i < dd->n / 2; i++) { /* largest first */
      int64_t t = dd->size[i];
      dd->size[i] = dd->size[dd->n - 1 - i], dd->size[dd->n - 1 - i] = t;
    }
    if (dd->n < 2) return dlc_errf(e, "--dynamic '%s': needs at least two sizes", s);
    d->bound = d->ndim;
  } else {
    dd->max = dd->size[dd->n - 1];
  }
  int64_t nv = 1;
  for (int j = 0; j <= d->ndim; j++) nv *= d->dim[j].n;
  if (nv > DYN_MAX_BUILDS)
    return dlc_errf(e, "--dynamic: %lld builds (the product of each dimension's sizes), over %d", (long long)nv,
                    DYN_MAX_BUILDS);
  d->nv = (int)nv;
  d->ndim++;
  return 0;
}

void dyn_free(DynInfo *d) {
  free(d->io);
  d->io = NULL;
}
