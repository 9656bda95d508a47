/* dlc_api.c — libdlc (tools/dlc_api.h): frontend_load, ir_verify and the jit, with the
 * graph's interface kept beside the loaded model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlc_api.h"
#include "dlc_git.h"
#include "dlcrt.h"
#include "frontend.h"
#include "jit.h"
#include "rt_cuda.h"

typedef struct Port {
  const char *name, *dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
} Port;

struct DlcModel {
  Graph *g; /* the model as loaded: names, dtypes, shapes */
  JitModel *jit;
  int ni, no;
  Port *in, *out;
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
  m->ni = ir_num_inputs(g), m->no = g->nout;
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

DlcModel *dlc_model_compile(const char *path, int64_t batch, const char *dims, int opt_level, int threads,
                            const char *cflags, int cuda, char *err, size_t errlen) {
  DlcErr e = {{0}};
  char dimbuf[1024];
  LoadOptions lo = {.batch = batch};
  if (!path) return fail(err, errlen, "no model file given"), NULL;
  if (opt_level < 0 || opt_level > 2) return fail(err, errlen, "opt_level must be 0, 1 or 2"), NULL;
  if (batch < 0) return fail(err, errlen, "batch must be positive"), NULL;
  if (parse_dims(dims, dimbuf, sizeof dimbuf, &lo, &e) || (cuda && rt_cuda_probe(&e)))
    return fail(err, errlen, e.msg), NULL;
  DlcModel *m = dlc_try_calloc(1, sizeof *m);
  if (!m) return fail(err, errlen, "out of memory"), NULL;
  m->g = frontend_load(path, &lo, &e);
  if (m->g && !ir_verify(m->g, &e)) {
    PassOptions po = pass_options(opt_level);
    JitOptions jo = {.cflags = cflags, .passes = &po, .threads = threads, .cuda = cuda != 0};
    m->jit = jit_build(m->g, &jo, &e);
  }
  if (!m->jit) {
    fail(err, errlen, e.msg);
    dlc_model_free(m);
    return NULL;
  }
  ports(m);
  return m;
}

void dlc_model_free(DlcModel *m) {
  if (!m) return;
  jit_free(m->jit);
  ir_graph_free(m->g);
  free(m->in), free(m->out);
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
