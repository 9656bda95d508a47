/* api.c — the generated entry points of a CUDA model, with the C backend's interface:
 * NAME_init opens the device, builds the kernels (or loads their PTX), allocates the
 * arena, the weights, the scratch and the input and output buffers on the device once
 * and copies the weights; NAME_run copies the inputs in, launches the kernels in
 * schedule order on one stream, copies the outputs out and checks the error flag;
 * NAME_launch runs the same kernels with no copies; NAME_infer is the C backend's own
 * (cgen_c_infer). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cuda.h"

void cuda_dev_addr(const CuEmit *ce, int id, char *buf, size_t n) {
  const Loc *l = &ce->c.p->loc[id];
  switch (l->kind) {
  case LOC_INPUT: snprintf(buf, n, "m->in[%d]", l->index); return;
  case LOC_OUTPUT: snprintf(buf, n, "m->out[%d]", l->index); return;
  case LOC_WEIGHT: snprintf(buf, n, "m->weights + %" PRId64, l->offset); return;
  case LOC_ARENA: snprintf(buf, n, "m->arena + %" PRId64, l->offset); return;
  case LOC_NONE:
    DLC_ASSERT(ce->scratch[id] >= 0 && "a buffer neither the plan nor a sequence placed");
    snprintf(buf, n, "m->scratch + %" PRId64, ce->scratch[id]);
    return;
  }
  DLC_ASSERT(!"an unknown location kind");
}

static int64_t bytes_of(const Node *n) { return shape_numel(&n->shape) * dtype_size(n->dtype); }

/* An input the kernels read, or one that is itself an output. */
static bool input_needed(const CEmit *c, int id) {
  for (int j = 0; j < c->g->nout; j++)
    if (c->g->out[j] == id) return true;
  return cgen_is_used(c, id);
}

/* Whether some node lives in output buffer j (m->out[j]); else output j is read from
 * where its node lives. */
static bool output_buffer_used(const CEmit *c, int j) {
  for (int i = 0; i < c->g->n; i++)
    if (c->p->loc[i].kind == LOC_OUTPUT && c->p->loc[i].index == j) return true;
  return false;
}

/* ---- NAME_run ---- */

static void launch_call(CuEmit *ce, int k) {
  const CuLaunch *l = &ce->l[k];
  char addr[128];
  cgen_line(&ce->c, 1, "{");
  cgen_printf(&ce->c, "    const unsigned long long a[%d] = {", l->nargs);
  for (int i = 0; i < l->nargs; i++) {
    if (l->args[i] == CUDA_ARG_ERR) snprintf(addr, sizeof addr, "m->err");
    else if (l->args[i] == CUDA_ARG_WS) snprintf(addr, sizeof addr, "m->scratch + %" PRId64, ce->l[k].ws_at);
    else cuda_dev_addr(ce, l->args[i], addr, sizeof addr);
    cgen_printf(&ce->c, "%s%s", i ? ", " : "", addr);
  }
  cgen_printf(&ce->c, "};\n");
  cgen_line(&ce->c, 2, "if (dlc_launch(m->cu, %d, %" PRId64 ", %" PRId64 ", %" PRId64 ", %d, a, %d)) return %s_ERR_DEVICE; /* %s */",
            k, l->grid[0], l->grid[1], l->grid[2], l->block, l->nargs, ce->c.uname, l->name);
  cgen_line(&ce->c, 1, "}");
}

/* A kernel under a guard (a branch of a run-time If) runs when the guard's byte, read
 * back from the device, is set. */
void cuda_launches(CuEmit *ce, const bool *need) {
  CEmit *c = &ce->c;
  for (int t = 0; t < c->s->nk; t++) {
    if (need && !need[t]) continue;
    int guard = c->g->nodes[c->s->k[t].nodes[0]]->guard;
    if (guard >= 0) {
      char addr[128];
      cuda_dev_addr(ce, guard, addr, sizeof addr);
      cgen_line(c, 1, "{");
      cgen_line(c, 2, "unsigned char taken = 0;");
      cgen_line(c, 2, "if (rt_cuda_download(m->cu, &taken, %s, 1) || rt_cuda_sync(m->cu)) return %s_ERR_DEVICE;",
                addr, c->uname);
      cgen_line(c, 2, "if (taken) {");
    }
    for (int k = ce->kfirst[t]; k < ce->kfirst[t + 1]; k++) launch_call(ce, k);
    if (guard >= 0) cgen_line(c, 2, "}"), cgen_line(c, 1, "}");
  }
}

int cuda_uploads(CuEmit *ce, const int *outputs, int n) {
  CEmit *c = &ce->c;
  int uploads = 0;
  for (int i = 0; i < ir_num_inputs(c->g); i++) {
    const Node *x = cgen_io_node(c, i, false);
    bool reads = c->mutable_weights ? cgen_reads_input(c, outputs, n, i) : input_needed(c, x->id);
    if (!bytes_of(x) || !reads) continue;
    cgen_line(c, 1, "if (rt_cuda_upload(m->cu, m->in[%d], in[%d], %" PRId64 ")) return %s_ERR_DEVICE;", i, i,
              bytes_of(x), c->uname);
    uploads++;
  }
  return uploads;
}

void cuda_finish(CuEmit *ce) {
  CEmit *c = &ce->c;
  const char *u = c->uname;
  if (cuda_has_err(ce))
    cgen_line(c, 1, "if (rt_cuda_download(m->cu, &flag, m->err, sizeof flag)) return %s_ERR_DEVICE;", u);
  cgen_line(c, 1, "if (rt_cuda_sync(m->cu)) return %s_ERR_DEVICE;", u);
  if (cuda_has_err(ce)) {
    cgen_line(c, 1, "if (flag) { /* clear it for the next run */");
    cgen_line(c, 2, "if (rt_cuda_memset(m->cu, m->err, 0, sizeof flag) || rt_cuda_sync(m->cu)) return %s_ERR_DEVICE;", u);
    cgen_line(c, 2, "return %s_ERR_INDEX;", u);
    cgen_line(c, 1, "}");
  }
}

/* The kernels of NAME_run and NAME_launch: all of them, or in a model with training
 * steps only those its own outputs need, never a step's update. */
static void run_kernels(CuEmit *ce) {
  CEmit *c = &ce->c;
  bool *need = c->mutable_weights ? cgen_needed_kernels(c, c->g->out, ir_num_model_outputs(c->g)) : NULL;
  cuda_launches(ce, need);
  free(need);
}

static void emit_run(CuEmit *ce) {
  CEmit *c = &ce->c;
  const char *u = c->uname;
  int no = ir_num_model_outputs(c->g);
  char addr[128];
  cgen_printf(c, "\nint %s_run(%s *m, const void *const *in, void *const *out) {\n", c->o->name, c->o->name);
  if (cuda_has_err(ce)) cgen_line(c, 1, "int flag = 0;");
  if (!cuda_uploads(ce, c->g->out, no)) cgen_line(c, 1, "(void)in;");
  run_kernels(ce);
  for (int j = 0; j < no; j++) {
    const Node *y = c->g->nodes[c->g->out[j]];
    cuda_dev_addr(ce, y->id, addr, sizeof addr);
    cgen_line(c, 1, "if (rt_cuda_download(m->cu, out[%d], %s, %" PRId64 ")) return %s_ERR_DEVICE;", j, addr,
              bytes_of(y), u);
  }
  if (!no) cgen_line(c, 1, "(void)out;");
  cuda_finish(ce);
  cgen_line(c, 1, "return %s_OK;", u);
  cgen_printf(c, "}\n");
}

/* One build of a --dynamic model (codegen/c/dyn_api.c): a static FNAME(m, in, out)
 * that copies in the inputs that build reads, launches only the kernels its outputs
 * (out0 .. out0 + nout - 1 of the joined graph) need, and copies those out.  The other
 * builds' entries of in and out are NULL. */
static void run_part(void *ctx, CEmit *c, const char *fname, int out0, int nout) {
  CuEmit *ce = ctx;
  const char *u = c->uname;
  char addr[128];
  DLC_ASSERT(c == &ce->c);
  cgen_printf(c, "\nstatic int %s(%s *m, const void *const *in, void *const *out) {\n", fname, c->o->name);
  if (cuda_has_err(ce)) cgen_line(c, 1, "int flag = 0;");
  cgen_line(c, 1, "(void)in;");
  cgen_line(c, 1, "(void)out;");
  for (int i = 0; i < ir_num_inputs(c->g); i++) {
    const Node *x = cgen_io_node(c, i, false);
    if (bytes_of(x) && cgen_reads_input(c, c->g->out + out0, nout, i))
      cgen_line(c, 1, "if (rt_cuda_upload(m->cu, m->in[%d], in[%d], %" PRId64 ")) return %s_ERR_DEVICE;", i, i,
                bytes_of(x), u);
  }
  bool *need = cgen_needed_kernels(c, c->g->out + out0, nout);
  cuda_launches(ce, need);
  free(need);
  for (int j = out0; j < out0 + nout; j++) {
    const Node *y = c->g->nodes[c->g->out[j]];
    cuda_dev_addr(ce, y->id, addr, sizeof addr);
    if (bytes_of(y))
      cgen_line(c, 1, "if (rt_cuda_download(m->cu, out[%d], %s, %" PRId64 ")) return %s_ERR_DEVICE;", j, addr,
                bytes_of(y), u);
  }
  cuda_finish(ce);
  cgen_line(c, 1, "return %s_OK;", u);
  cgen_printf(c, "}\n");
}

void cuda_dyn_api(CuEmit *ce, FILE *h) { cgen_dyn_api(&ce->c, h, run_part, ce); }

/* The kernels of NAME_run on the device buffers as they are: no copies (benchmarks,
 * and a run whose inputs have not changed). */
static void emit_launch(CuEmit *ce) {
  CEmit *c = &ce->c;
  cgen_printf(c, "\nint %s_launch(%s *m) {\n", c->o->name, c->o->name);
  if (cuda_has_err(ce)) cgen_line(c, 1, "int flag = 0;");
  run_kernels(ce);
  cuda_finish(ce);
  cgen_line(c, 1, "return %s_OK;", c->uname);
  cgen_printf(c, "}\n");
}

/* ---- NAME_init and NAME_free ---- */

static void emit_alloc(CuEmit *ce) {
  CEmit *c = &ce->c;
  const char *u = c->uname;
  int ni = ir_num_inputs(c->g), no = c->g->nout;
  cgen_printf(c, "\n/* Every device buffer, once; rt_cuda_close frees them. */\n");
  cgen_printf(c, "static int dlc_alloc(%s *m) {\n", c->o->name);
  cgen_line(c, 1, "if (rt_cuda_alloc(m->cu, %s_ARENA_BYTES, &m->arena)) return -1;", u);
  cgen_line(c, 1, "if (rt_cuda_alloc(m->cu, %s_WEIGHT_BYTES, &m->weights)) return -1;", u);
  cgen_line(c, 1, "if (rt_cuda_alloc(m->cu, %" PRId64 ", &m->scratch)) return -1;", ce->scratch_bytes);
  for (int i = 0; i < ni; i++)
    cgen_line(c, 1, "if (rt_cuda_alloc(m->cu, %" PRId64 ", &m->in[%d])) return -1;", bytes_of(cgen_io_node(c, i, false)), i);
  for (int j = 0; j < no; j++)
    if (output_buffer_used(c, j))
      cgen_line(c, 1, "if (rt_cuda_alloc(m->cu, %" PRId64 ", &m->out[%d])) return -1;", bytes_of(cgen_io_node(c, j, true)), j);
  if (cuda_has_err(ce))
    cgen_line(c, 1, "if (rt_cuda_alloc(m->cu, sizeof(int), &m->err) || rt_cuda_memset(m->cu, m->err, 0, sizeof(int))) return -1;");
  cgen_line(c, 1, "return 0;");
  cgen_printf(c, "}\n");
}

/* Embedded weights: each array to its place in the device's weight block.  A model
 * that trains embeds no arrays of zeros (the optimizer's state): its block is zeroed
 * first. */
static void emit_upload_embedded(CuEmit *ce) {
  CEmit *c = &ce->c;
  cgen_printf(c, "\nstatic int dlc_upload_weights(%s *m) {\n", c->o->name);
  if (c->incbin) /* the whole block, the blob's data, at once */
    cgen_line(c, 1, "if (rt_cuda_upload(m->cu, m->weights, DLC_BLOB_DATA, (size_t)%s_WEIGHT_BYTES)) return %s_ERR_DEVICE;",
              c->uname, c->uname);
  else if (c->mutable_weights)
    cgen_line(c, 1, "if (rt_cuda_memset(m->cu, m->weights, 0, %s_WEIGHT_BYTES)) return %s_ERR_DEVICE;", c->uname,
              c->uname);
  for (int i = 0; !c->incbin && i < c->g->n; i++) {
    const Node *n = c->g->nodes[i];
    char w[32];
    bool embeds = c->mutable_weights ? cgen_train_embeds(c, n)
                                     : (n->op == OP_PARAM || n->op == OP_CONST) && c->p->loc[i].kind == LOC_WEIGHT &&
                                           cgen_is_used(c, i);
    if (!embeds) continue;
    cgen_line(c, 1, "if (rt_cuda_upload(m->cu, m->weights + %" PRId64 ", %s, %" PRId64 ")) return %s_ERR_DEVICE;",
              c->p->loc[i].offset, cgen_weight_name(n, w, sizeof w), bytes_of(n), c->uname);
  }
  cgen_line(c, 1, "return rt_cuda_sync(m->cu) ? %s_ERR_DEVICE : %s_OK;", c->uname, c->uname);
  cgen_printf(c, "}\n");
}

/* A weights file: read and checked on the host (weights.c's dlc_read_weights), then
 * copied to the device at once. */
static void emit_upload_file(CuEmit *ce) {
  CEmit *c = &ce->c;
  const char *u = c->uname;
  cgen_printf(c, "\nstatic int dlc_upload_weights(%s *m, const char *path) {\n", c->o->name);
  cgen_line(c, 1, "unsigned char *w = (unsigned char *)malloc((size_t)%s_WEIGHT_BYTES + 1);", u);
  cgen_line(c, 1, "FILE *f;");
  cgen_line(c, 1, "int st;");
  cgen_line(c, 1, "if (!w) return %s_ERR_NOMEM;", u);
  cgen_line(c, 1, "f = fopen(path, \"rb\");");
  cgen_line(c, 1, "if (!f) {");
  cgen_line(c, 2, "free(w);");
  cgen_line(c, 2, "return %s_ERR_WEIGHTS_OPEN;", u);
  cgen_line(c, 1, "}");
  cgen_line(c, 1, "st = dlc_read_weights(f, w);");
  cgen_line(c, 1, "fclose(f);");
  cgen_line(c, 1, "if (!st && (rt_cuda_upload(m->cu, m->weights, w, (size_t)%s_WEIGHT_BYTES) || rt_cuda_sync(m->cu)))", u);
  cgen_line(c, 2, "st = %s_ERR_DEVICE;", u);
  cgen_line(c, 1, "free(w);");
  cgen_line(c, 1, "return st;");
  cgen_printf(c, "}\n");
}

static void emit_init(CuEmit *ce) {
  CEmit *c = &ce->c;
  const char *nm = c->o->name, *u = c->uname;
  bool aot = ce->opt->aot_arch != NULL;
  if (c->embedded) emit_upload_embedded(ce);
  else emit_upload_file(ce);
  emit_alloc(ce);
  cgen_printf(c, "\nint %s_init(%s **mp, const char *weights) {\n", nm, nm);
  cgen_line(c, 1, "%s *m;", nm);
  cgen_line(c, 1, "int st;");
  cgen_line(c, 1, "*mp = NULL;");
  cgen_line(c, 1, "if (%sweights) return %s_ERR_WEIGHTS_ARG;", c->embedded ? "" : "!", u);
  if (c->incbin) cgen_line(c, 1, "if (dlc_blob_check()) return %s_ERR_WEIGHTS_BAD;", u);
  cgen_line(c, 1, "m = (%s *)calloc(1, sizeof *m);", nm);
  cgen_line(c, 1, "if (!m) return %s_ERR_NOMEM;", u);
  if (c->mutable_weights) {
    cgen_line(c, 1, "m->host = (unsigned char *)malloc((size_t)%s_WEIGHT_BYTES + 1);", u);
    cgen_line(c, 1, "if (!m->host) {");
    cgen_line(c, 2, "free(m);");
    cgen_line(c, 2, "return %s_ERR_NOMEM;", u);
    cgen_line(c, 1, "}");
  }
  cgen_line(c, 1, "m->cu = rt_cuda_open(%s, dlc_kernel_names, %d);",
            aot ? "NULL, 0, dlc_kernel_text, DLC_KERNEL_LINES" : "dlc_kernel_text, DLC_KERNEL_LINES, NULL, 0",
            ce->nl);
  cgen_line(c, 1, "st = !m->cu || dlc_alloc(m) ? %s_ERR_DEVICE : dlc_upload_weights(m%s);", u,
            c->embedded ? "" : ", weights");
  cgen_line(c, 1, "if (st) {");
  cgen_line(c, 2, "%s_free(m);", nm);
  cgen_line(c, 2, "return st;");
  cgen_line(c, 1, "}");
  cgen_line(c, 1, "*mp = m;");
  cgen_line(c, 1, "return %s_OK;", u);
  cgen_printf(c, "}\n");
}

static void emit_free(CuEmit *ce) {
  cgen_printf(&ce->c, "\nvoid %s_free(%s *m) {\n", ce->c.o->name, ce->c.o->name);
  cgen_line(&ce->c, 1, "if (!m) return;");
  cgen_line(&ce->c, 1, "rt_cuda_close(m->cu);");
  if (ce->c.mutable_weights) cgen_line(&ce->c, 1, "free(m->host);");
  cgen_line(&ce->c, 1, "free(m);");
  cgen_printf(&ce->c, "}\n");
}

static void emit_strerror(CuEmit *ce) {
  static const char *const msg[][2] = {
      {"OK", "ok"},
      {"ERR_NOMEM", "out of memory"},
      {"ERR_WEIGHTS_OPEN", "the weights file is missing or unreadable"},
      {"ERR_WEIGHTS_BAD", "the weights file (or the linked blob) has the wrong size, format or hash"},
      {"ERR_WEIGHTS_ARG", "a weights file was given for embedded weights, or none for a model "
                          "that needs one"},
      {"ERR_INDEX", "an index read from the data is out of range (a gather or scatter index, TopK's k), or a Loop would run past its bound (dlc --max-trip)"},
      {"ERR_DEVICE", "the GPU, its driver or NVRTC failed"},
  };
  cgen_printf(&ce->c, "\nconst char *%s_strerror(int status) {\n  switch (status) {\n", ce->c.o->name);
  for (size_t i = 0; i < sizeof msg / sizeof msg[0]; i++)
    cgen_line(&ce->c, 1, "case %s_%s: return \"%s\";", ce->c.uname, msg[i][0], msg[i][1]);
  if (ce->c.mutable_weights)
    cgen_line(&ce->c, 1, "case %s_ERR_STEP: return \"no training step of that index\";", ce->c.uname);
  cgen_line(&ce->c, 1, "default: return \"unknown status\";");
  cgen_printf(&ce->c, "  }\n}\n");
  cgen_printf(&ce->c, "\nconst char *%s_device_error(void) { return rt_cuda_last_error(); }\n", ce->c.o->name);
}

void cuda_host_api(CuEmit *ce) {
  emit_run(ce);
  emit_launch(ce);
  cgen_c_infer(&ce->c);
  emit_init(ce);
  emit_free(ce);
  emit_strerror(ce);
}
