/* dlc_api.c — libdlc (tools/dlc_api.h): frontend_load, ir_verify and the jit, with the
 * graph's interface kept beside the loaded model.  A training model's steps are built
 * by the same code as `dlc train`'s (cmd_train_graph), its weights written back into
 * ONNX by the same (train_write_onnx). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_train.h"
#include "dlc_api.h"
#include "dlc_git.h"
#include "dlcrt.h"
#include "frontend.h"
#include "jit.h"
#include "rt_cuda.h"
#include "split_load.h"

typedef struct Port {
  const char *name, *dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
} Port;

struct DlcModel {
  Graph *g; /* the model as loaded (with its training steps): names, dtypes, shapes */
  JitModel *jit;
  DynInfo dyn;   /* a --dynamic model (dlc_model_compile_dynamic): dyn.ndim > 0 */
  Shape *shapes; /* and each build's inputs' and outputs' shapes: nv x (ni + no) */
  int ni, no, np;
  Port *in, *out, *param; /* param: a training model's float parameters */
};

static int fail(char *err, size_t n, const char *msg) {
  if (err && n) snprintf(err, n, "%s", msg);
  return -1;
}

/* "NAME=V,NAME=V" into o->dims; names point into buf, which outlives the load. */
static int parse_dims(const char *dims, char *buf, size_t n, LoadOptions *o, DlcErr *e) {
  snprintf(buf, n, "%s", dims ? dims : "");
  for (char *s = buf, *next; s && *s; s = next) {
    next = strchr(s, ',');
    if (next) *next++ = 0;
    char *eq = strchr(s, '='), *end = NULL;
    long long v = eq ? strtoll(eq + 1, &end, 10) : 0;
    if (!eq || eq == s || !end || end == eq + 1 || *end || v < 1)
      return dlc_errf(e, "dims '%s': expected NAME=V with V a positive integer", s);
    if (o->ndims == LOAD_MAX_BIND) return dlc_errf(e, "dims: at most %d bindings", LOAD_MAX_BIND);
    *eq = 0;
    o->dims[o->ndims].name = s, o->dims[o->ndims++].value = v;
  }
  return 0;
}

static void port(Port *p, const Graph *g, int id, const char *name) {
  const Node *n = ir_node(g, id);
  p->name = name, p->dtype = dtype_name(n->dtype), p->rank = n->shape.rank;
  for (int k = 0; k < n->shape.rank; k++) p->dims[k] = n->shape.d[k];
}

static void ports(DlcModel *m) {
  const Graph *g = m->g;
  m->ni = ir_num_inputs(g), m->no = g->nstep ? ir_num_model_outputs(g) : g->nout;
  m->in = dlc_calloc((size_t)m->ni + 1, sizeof *m->in);
  m->out = dlc_calloc((size_t)m->no + 1, sizeof *m->out);
  DLC_ASSERT(m->in && m->out);
  for (int i = 0; i < m->ni; i++) port(&m->in[i], g, ir_input_id(g, i), ir_node(g, ir_input_id(g, i))->name);
  for (int j = 0; j < m->no; j++) {
    const char *name = g->out_name && g->out_name[j] ? g->out_name[j] : NULL;
    if (!name) {
      char buf[32];
      snprintf(buf, sizeof buf, "output%d", j);
      name = arena_strdup(g->arena, buf);
    }
    port(&m->out[j], g, g->out[j], name);
  }
}

/* The model at path, loaded and verified (for training: with lo->train). */
static DlcModel *load(const char *path, LoadOptions *lo, const char *dims, int opt_level, char *dimbuf, size_t nbuf,
                      DlcErr *e) {
  if (!path) return dlc_errf(e, "no model file given"), NULL;
  if (opt_level < 0 || opt_level > 2) return dlc_errf(e, "opt_level must be 0, 1 or 2"), NULL;
  if (lo->batch < 0) return dlc_errf(e, "batch must be positive"), NULL;
  if (parse_dims(dims, dimbuf, nbuf, lo, e)) return NULL;
  DlcModel *m = dlc_try_calloc(1, sizeof *m);
  if (!m) return dlc_errf(e, "out of memory"), NULL;
  m->g = frontend_load(path, lo, e);
  if (m->g && !ir_verify(m->g, e)) return m;
  dlc_model_free(m);
  return NULL;
}

static DlcModel *build(DlcModel *m, const PassOptions *po, const JitOptions *jo, char *err, size_t errlen, DlcErr *e) {
  JitOptions o = *jo;
  o.passes = po;
  m->jit = jit_build(m->g, &o, e);
  if (!m->jit) {
    fail(err, errlen, e->msg);
    dlc_model_free(m);
    return NULL;
  }
  ports(m);
  return m;
}

typedef struct Reload {
  const char *path;
  const LoadOptions *lo;
} Reload;

/* The model again at a part's samples (split_build). */
static Graph *reload(void *ctx, int64_t from, int64_t to, DlcErr *e) {
  const Reload *r = ctx;
  LoadOptions lo = *r->lo;
  load_set_lead(&lo, from, to);
  Graph *g = frontend_load(r->path, &lo, e);
  if (g && ir_verify(g, e)) {
    ir_graph_free(g);
    g = NULL;
  }
  return g;
}

DlcModel *dlc_model_compile(const char *path, int64_t batch, const char *dims, int opt_level, int threads,
                            const char *cflags, int cuda, int64_t micro, char *err, size_t errlen) {
  DlcErr e = {{0}};
  char dimbuf[1024];
  LoadOptions lo = {.batch = batch};
  if (micro < -1) return fail(err, errlen, "micro_batch: -1 (auto), 0 (whole) or the samples of a part"), NULL;
  if (cuda && micro > 0) return fail(err, errlen, "micro_batch: the CUDA backend runs the batch whole"), NULL;
  if (cuda && rt_cuda_probe(&e)) return fail(err, errlen, e.msg), NULL;
  DlcModel *m = load(path, &lo, dims, opt_level, dimbuf, sizeof dimbuf, &e);
  if (!m) return fail(err, errlen, e.msg), NULL;
  PassOptions po = pass_options(opt_level);
  SplitBuild sp;
  CgenSplit cs;
  Reload rl = {path, &lo};
  if (split_build(m->g, cuda ? 0 : micro, reload, &rl, &sp, &e)) {
    fail(err, errlen, e.msg);
    dlc_model_free(m);
    return NULL;
  }
  JitOptions jo = {.cflags = cflags, .threads = threads, .cuda = cuda != 0, .split = split_cgen(&sp, &cs)};
  m = build(m, &po, &jo, err, errlen, &e);
  split_free(&sp);
  return m;
}

/* ---- run-time dimensions ---- */

DlcModel *dlc_model_compile_dynamic(const char *path, const char *dynamic, const char *dims, int opt_level,
                                    int threads, const char *cflags, int cuda, char *err, size_t errlen) {
  DlcErr e = {{0}};
  char dimbuf[1024], spec[1024];
  LoadOptions lo = {0};
  if (!path) return fail(err, errlen, "no model file given"), NULL;
  if (!dynamic || !*dynamic) return fail(err, errlen, "dynamic: no dimension given"), NULL;
  if (opt_level < 0 || opt_level > 2) return fail(err, errlen, "opt_level must be 0, 1 or 2"), NULL;
  if (parse_dims(dims, dimbuf, sizeof dimbuf, &lo, &e)) return fail(err, errlen, e.msg), NULL;
  if (cuda && rt_cuda_probe(&e)) return fail(err, errlen, e.msg), NULL;
  DlcModel *m = dlc_try_calloc(1, sizeof *m);
  if (!m) return fail(err, errlen, "out of memory"), NULL;
  m->dyn.bound = -1;
  snprintf(spec, sizeof spec, "%s", dynamic);
  for (char *s = spec, *next; s; s = next) {
    if ((next = strchr(s, ';'))) *next++ = 0;
    if (dyn_parse(s, &m->dyn, &e)) goto bad;
  }
  Graph **v = dlc_try_calloc((size_t)m->dyn.nv, sizeof *v), *joined = NULL;
  int nio = 0, r = v ? 0 : dlc_errf(&e, "out of memory");
  for (int k = 0; !r && k < m->dyn.nv; k++) {
    LoadOptions b = lo;
    int64_t sz[DYN_MAX_DIMS];
    dyn_sizes(&m->dyn, k, sz);
    for (int j = 0; !r && j < m->dyn.ndim; j++) {
      int t = 0;
      while (t < b.ndims && strcmp(b.dims[t].name, m->dyn.dim[j].name)) t++;
      if (t == LOAD_MAX_BIND) r = dlc_errf(&e, "dims: at most %d bindings", LOAD_MAX_BIND);
      else if (t == b.ndims) b.ndims++;
      b.dims[t].name = m->dyn.dim[j].name, b.dims[t].value = sz[j];
      if (!strcmp(m->dyn.dim[j].name, "batch")) b.batch = sz[j];
    }
    if (!r && (!(v[k] = frontend_load(path, &b, &e)) || ir_verify(v[k], &e))) r = -1;
    if (!r && !k) {
      nio = ir_num_inputs(v[0]) + v[0]->nout;
      if (!(m->shapes = dlc_try_calloc((size_t)(m->dyn.nv * nio) + 1, sizeof *m->shapes))) r = dlc_errf(&e, "out of memory");
    }
    if (!r && ir_num_inputs(v[k]) + v[k]->nout != nio) r = dlc_errf(&e, "dynamic: the model's inputs differ between sizes");
    for (int i = 0; !r && i < nio; i++) {
      int ni = ir_num_inputs(v[k]);
      m->shapes[k * nio + i] = ir_node(v[k], i < ni ? ir_input_id(v[k], i) : v[k]->out[i - ni])->shape;
    }
  }
  if (!r && dyn_merge(v, &m->dyn, &joined, &e)) r = -1;
  for (int k = 1; v && k < m->dyn.nv; k++) ir_graph_free(v[k]);
  if (v) m->g = v[0];
  free(v);
  if (r) goto bad;
  PassOptions po = pass_options(opt_level);
  JitOptions jo = {.cflags = cflags, .threads = threads, .passes = &po, .cuda = cuda != 0, .dyn = &m->dyn};
  m->jit = jit_build(joined, &jo, &e);
  ir_graph_free(joined);
  if (!m->jit) goto bad;
  ports(m);
  return m;
bad:
  fail(err, errlen, e.msg);
  dlc_model_free(m);
  return NULL;
}

int dlc_model_num_dims(const DlcModel *m) { return m->dyn.ndim; }
const char *dlc_model_dim_name(const DlcModel *m, int j) { return j >= 0 && j < m->dyn.ndim ? m->dyn.dim[j].name : NULL; }
int64_t dlc_model_dim_max(const DlcModel *m, int j) { return j >= 0 && j < m->dyn.ndim ? m->dyn.dim[j].max : -1; }

/* The combination of the exact dimensions' sizes in dims, or -1. */
static int combo_of(const DynInfo *d, const int64_t *dims) {
  int c = 0;
  for (int j = 0; j < d->ndim; j++) {
    const DynDim *dd = &d->dim[j];
    if (dd->bound) {
      if (dims[j] < 0 || dims[j] > dd->max) return -1;
      continue;
    }
    int i = 0;
    while (i < dd->n && dd->size[i] != dims[j]) i++;
    if (i == dd->n) return -1;
    c = c * dd->n + i;
  }
  return c;
}

int dlc_model_shape_at(const DlcModel *m, int output, int i, const int64_t *dims, int64_t *shape) {
  const DynInfo *d = &m->dyn;
  int c = d->ndim && dims ? combo_of(d, dims) : -1, nio = m->ni + m->no, k = output ? m->ni + i : i;
  if (c < 0 || i < 0 || i >= (output ? m->no : m->ni)) return -1;
  int nb = d->bound >= 0 ? d->dim[d->bound].n : 1;
  Shape s = m->shapes[c * nb * nio + k];
  const DynIO *io = &d->io[c * nio + k];
  if (d->bound >= 0 && io->axis >= 0) s.d[io->axis] = s.d[io->axis] / d->dim[d->bound].max * dims[d->bound];
  for (int t = 0; t < s.rank; t++) shape[t] = s.d[t];
  return s.rank;
}

int dlc_model_dims_of(const DlcModel *m, const int64_t *const *shapes, const int *ranks, int64_t *dims, char *err,
                      size_t errlen) {
  const DynInfo *d = &m->dyn;
  if (!d->ndim) return fail(err, errlen, "the model was compiled without run-time dimensions");
  int nb = d->bound >= 0 ? d->dim[d->bound].n : 1, nio = m->ni + m->no;
  for (int c = 0; c < dyn_combos(d); c++) {
    int64_t n = -1, sz[DYN_MAX_DIMS];
    bool ok = true;
    for (int i = 0; ok && i < m->ni; i++) {
      const Shape *s = &m->shapes[c * nb * nio + i];
      const DynIO *io = &d->io[c * nio + i];
      ok = ranks[i] == s->rank;
      for (int t = 0; ok && t < s->rank; t++) {
        if (d->bound >= 0 && t == io->axis) {
          int64_t f = s->d[t] / d->dim[d->bound].max, got = f ? shapes[i][t] / f : -1;
          ok = f && shapes[i][t] % f == 0 && got <= d->dim[d->bound].max && (n < 0 || n == got);
          n = got;
        } else {
          ok = shapes[i][t] == s->d[t];
        }
      }
    }
    if (!ok) continue;
    dyn_sizes(d, c * nb, sz);
    for (int j = 0; j < d->ndim; j++) dims[j] = j == d->bound ? (n < 0 ? 0 : n) : sz[j];
    return 0;
  }
  return fail(err, errlen, "the inputs' shapes match no size the model was built for");
}

int dlc_model_run_dims(DlcModel *m, const int64_t *dims, const void *const *inputs, void *const *outputs, char *err,
                       size_t errlen) {
  DlcErr e;
  return jit_run_dims(m->jit, dims, inputs, outputs, &e) ? fail(err, errlen, e.msg) : 0;
}

/* ---- training ---- */

/* "NAME" or "NAME:K=V,K=V" (dlc train --optimizer) into o. */
static int parse_optimizer(const char *s, Optim *o, DlcErr *e) {
  char name[32];
  const char *colon = strchr(s, ':');
  snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
  if (optim_named(name, o)) return dlc_errf(e, "optimizer '%s': expected sgd, momentum, nesterov, adam or adamw", s);
  for (const char *p = colon ? colon + 1 : ""; *p;) {
    size_t n = strcspn(p, ",");
    char kv[128], *eq, *end;
    if (n >= sizeof kv) return dlc_errf(e, "optimizer '%s': a setting is too long", s);
    memcpy(kv, p, n), kv[n] = 0;
    p += n + (p[n] == ',');
    if (!(eq = strchr(kv, '='))) return dlc_errf(e, "optimizer '%s': expected KEY=VALUE settings, found '%s'", s, kv);
    *eq = 0;
    double v = strtod(eq + 1, &end);
    if (!eq[1] || *end) return dlc_errf(e, "optimizer '%s': '%s' is not a number", s, eq + 1);
    DlcErr oe;
    if (optim_set(o, kv, v, &oe)) return dlc_errf(e, "optimizer '%s': %s", s, oe.msg);
  }
  return 0;
}

/* The float PARAMs of the model as loaded, before the optimizer adds its state. */
static void params(DlcModel *m) {
  const Graph *g = m->g;
  m->param = dlc_calloc((size_t)g->n + 1, sizeof *m->param);
  DLC_ASSERT(m->param);
  for (int i = 0; i < g->n; i++)
    if (g->nodes[i]->op == OP_PARAM && dtype_is_float(g->nodes[i]->dtype)) port(&m->param[m->np++], g, i, g->nodes[i]->name);
}

DlcModel *dlc_model_compile_train(const char *path, int64_t batch, const char *dims, const char *loss,
                                  const char *optimizer, double lr, int64_t steps, int opt_level, int threads,
                                  const char *cflags, char *err, size_t errlen) {
  DlcErr e = {{0}};
  char dimbuf[1024];
  CmdArgs a = {.lr = lr > 0 ? lr : 0};
  optim_named("adam", &a.optim);
  if (loss && loss_parse(loss, &a.loss)) return fail(err, errlen, "loss: expected ce, bce, mse or l1"), NULL;
  if (optimizer && parse_optimizer(optimizer, &a.optim, &e)) return fail(err, errlen, e.msg), NULL;
  if (!(lr >= 0 && lr < 1e9)) return fail(err, errlen, "lr: expected a positive number"), NULL;
  a.loss_given = loss != NULL, a.optim_given = optimizer != NULL;
  LoadOptions lo = {.batch = batch, .train = true};
  DlcModel *m = load(path, &lo, dims, opt_level, dimbuf, sizeof dimbuf, &e);
  if (!m) return fail(err, errlen, e.msg), NULL;
  params(m);
  if (cmd_train_graph(m->g, &a, steps > 0 ? steps : 0, &e)) {
    fail(err, errlen, e.msg);
    dlc_model_free(m);
    return NULL;
  }
  PassOptions po = pass_options(opt_level);
  po.training = true;
  JitOptions jo = {.cflags = cflags, .threads = threads};
  return build(m, &po, &jo, err, errlen, &e);
}

int dlc_model_num_steps(const DlcModel *m) { return jit_steps(m->jit); }
const char *dlc_model_step_name(const DlcModel *m, int k) {
  return k >= 0 && k < jit_steps(m->jit) ? jit_step_name(m->jit, k) : NULL;
}

int dlc_model_step(DlcModel *m, int k, int update, const void *const *inputs, float *loss, char *err, size_t errlen) {
  DlcErr e;
  if (k < 0 || k >= jit_steps(m->jit)) return fail(err, errlen, "no such training step");
  return jit_step(m->jit, k, update != 0, inputs, loss, &e) ? fail(err, errlen, e.msg) : 0;
}

static const Port *param_port(const DlcModel *m, int i) { return i >= 0 && i < m->np ? &m->param[i] : NULL; }
int dlc_model_num_params(const DlcModel *m) { return m->np; }
const char *dlc_model_param_name(const DlcModel *m, int i) { return param_port(m, i) ? m->param[i].name : NULL; }
const char *dlc_model_param_dtype(const DlcModel *m, int i) { return param_port(m, i) ? m->param[i].dtype : NULL; }
int dlc_model_param_rank(const DlcModel *m, int i) { return param_port(m, i) ? m->param[i].rank : -1; }
const int64_t *dlc_model_param_dims(const DlcModel *m, int i) { return param_port(m, i) ? m->param[i].dims : NULL; }
void *dlc_model_param(DlcModel *m, int i) { return param_port(m, i) ? jit_param(m->jit, m->param[i].name) : NULL; }

int dlc_model_save(DlcModel *m, const char *path, char *err, size_t errlen) {
  DlcErr e;
  if (!path) return fail(err, errlen, "no file given");
  return jit_save(m->jit, path, &e) ? fail(err, errlen, e.msg) : 0;
}

int dlc_model_load(DlcModel *m, const char *path, char *err, size_t errlen) {
  DlcErr e;
  if (!path) return fail(err, errlen, "no file given");
  return jit_load(m->jit, path, &e) ? fail(err, errlen, e.msg) : 0;
}

int dlc_model_write_onnx(DlcModel *m, const char *src, const char *dst, char *err, size_t errlen) {
  if (!src || !dst) return fail(err, errlen, "write_onnx: no file given");
  if (!jit_steps(m->jit)) return fail(err, errlen, "write_onnx: the model was compiled without training steps");
#ifdef DLC_HAVE_ONNX
  DlcErr e;
  return train_write_onnx(src, dst, m->jit, &e) ? fail(err, errlen, e.msg) : 0;
#else
  return fail(err, errlen, "write_onnx: this libdlc was built without the ONNX frontend");
#endif
}

void dlc_shuffle(uint64_t seed, uint64_t epoch, int64_t n, int64_t *order) { rt_data_shuffle(seed, epoch, n, order); }

void dlc_model_free(DlcModel *m) {
  if (!m) return;
  jit_free(m->jit);
  dyn_free(&m->dyn);
  free(m->shapes);
  ir_graph_free(m->g);
  free(m->in), free(m->out), free(m->param);
  free(m);
}

int dlc_model_num_inputs(const DlcModel *m) { return m->ni; }
int dlc_model_num_outputs(const DlcModel *m) { return m->no; }

static const Port *in_port(const DlcModel *m, int i) { return i >= 0 && i < m->ni ? &m->in[i] : NULL; }
static const Port *out_port(const DlcModel *m, int j) { return j >= 0 && j < m->no ? &m->out[j] : NULL; }

const char *dlc_model_input_name(const DlcModel *m, int i) { return in_port(m, i) ? m->in[i].name : NULL; }
const char *dlc_model_input_dtype(const DlcModel *m, int i) { return in_port(m, i) ? m->in[i].dtype : NULL; }
int dlc_model_input_rank(const DlcModel *m, int i) { return in_port(m, i) ? m->in[i].rank : -1; }
const int64_t *dlc_model_input_dims(const DlcModel *m, int i) { return in_port(m, i) ? m->in[i].dims : NULL; }
const char *dlc_model_output_name(const DlcModel *m, int j) { return out_port(m, j) ? m->out[j].name : NULL; }
const char *dlc_model_output_dtype(const DlcModel *m, int j) { return out_port(m, j) ? m->out[j].dtype : NULL; }
int dlc_model_output_rank(const DlcModel *m, int j) { return out_port(m, j) ? m->out[j].rank : -1; }
const int64_t *dlc_model_output_dims(const DlcModel *m, int j) { return out_port(m, j) ? m->out[j].dims : NULL; }

int dlc_model_output_extent(const DlcModel *m, int j, int *count, int *axis) {
  if (!out_port(m, j) || !m->g->out_count || m->g->out_count[j] < 0 || m->g->out_count[j] >= m->no) return 0;
  *count = m->g->out_count[j], *axis = m->g->out_axis[j];
  return 1;
}

int dlc_model_run(DlcModel *m, const void *const *inputs, void *const *outputs, char *err, size_t errlen) {
  DlcErr e;
  return jit_run(m->jit, inputs, outputs, &e) ? fail(err, errlen, e.msg) : 0;
}

int dlc_model_bench(DlcModel *m, const void *const *inputs, void *const *outputs, int runs, int warmup,
                    double *us, char *err, size_t errlen) {
  if (runs < 1 || warmup < 0) return fail(err, errlen, "bench: runs must be at least 1, warmup at least 0");
  for (int k = 0; k < warmup; k++)
    if (dlc_model_run(m, inputs, outputs, err, errlen)) return -1;
  for (int k = 0; k < runs; k++) {
    uint64_t t0 = rt_now_ns();
    if (dlc_model_run(m, inputs, outputs, err, errlen)) return -1;
    us[k] = (double)(rt_now_ns() - t0) * 1e-3;
  }
  return 0;
}

const char *dlc_version(void) { return DLC_VERSION " (commit " DLC_GIT_COMMIT ")"; }

int dlc_set_limit(const char *name, int64_t value, char *err, size_t errlen) {
  DlcErr e;
  if (!ir_limit_set(name, value, &e)) return 0;
  return fail(err, errlen, e.msg);
}

const char *dlc_limit_name(int i) { return ir_limit_name(i); }

int64_t dlc_limit(const char *name) {
  const int64_t *v = ir_limit_named(name);
  return v ? *v : -1;
}
