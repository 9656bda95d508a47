/* train_step.c — the entry points of a model with training steps (passes.h, GraphStep):
 *
 *   int NAME_<step>_step(NAME *m, <inputs the step reads>, float *loss)
 *       runs the step's kernels: forward, backward and the optimizer, whose new values
 *       of the parameters and of the optimizer's state go over the old ones in
 *       m->weights (in place where the plan could, else copied at the end);
 *   int NAME_<step>_loss(NAME *m, <the same inputs>, float *loss)
 *       the loss alone, nothing updated (evaluation);
 *   int NAME_step(NAME *m, int step, int update, const void *const *in, float *loss)
 *       either of them by the step's index, every input by position (drivers).
 *
 * Each runs only the kernels its outputs need, in schedule order.  A model output that
 * such a kernel computes lands in m->scratch; nothing allocates.  `loss` may be NULL. */
#include <stdlib.h>
#include <string.h>

#include "cgen_c.h"

/* Per node: whether outputs[0..n) need it, through the kernels that compute them. */
static bool *needed_nodes(const CEmit *ce, const int *outputs, int n, bool *kernel) {
  const Graph *g = ce->g;
  bool *need = dlc_calloc((size_t)g->n, sizeof(bool));
  DLC_ASSERT(need);
  for (int j = 0; j < n; j++) need[outputs[j]] = true;
  for (int t = ce->s->nk - 1; t >= 0; t--) {
    const Kernel *k = &ce->s->k[t];
    bool run = false;
    for (int j = 0; j < k->n; j++) run |= need[k->nodes[j]];
    if (kernel) kernel[t] = run;
    for (int j = 0; run && j < k->n; j++) {
      const Node *nd = g->nodes[k->nodes[j]];
      need[nd->id] = true;
      for (int i = 0; i < nd->nin; i++) need[nd->in[i]] = true;
      if (nd->guard >= 0) need[nd->guard] = true;
    }
  }
  return need;
}

bool *cgen_needed_kernels(const CEmit *ce, const int *outputs, int n) {
  bool *k = dlc_calloc((size_t)(ce->s->nk ? ce->s->nk : 1), sizeof(bool));
  DLC_ASSERT(k);
  free(needed_nodes(ce, outputs, n, k));
  return k;
}

bool cgen_reads_input(const CEmit *ce, const int *outputs, int n, int which) {
  bool *need = needed_nodes(ce, outputs, n, NULL);
  bool r = need[ir_input_id(ce->g, which)];
  free(need);
  return r;
}

bool cgen_infer_input(const CEmit *ce, int which) {
  return !ce->g->nstep || cgen_reads_input(ce, ce->g->out, ir_num_model_outputs(ce->g), which);
}

int cgen_step_outputs(const CEmit *ce, int k, bool update, int *ids) {
  const GraphStep *st = &ce->g->step[k];
  int n = update ? st->nupd + 1 : 1;
  for (int j = 0; j < n; j++) ids[j] = ce->g->out[st->out0 + j];
  return n;
}

static bool step_input(const CEmit *ce, int k, int which) {
  int *ids = dlc_malloc(sizeof(int) * (size_t)(ce->g->step[k].nupd + 1));
  DLC_ASSERT(ids);
  bool r = cgen_reads_input(ce, ids, cgen_step_outputs(ce, k, true, ids), which);
  free(ids);
  return r;
}

/* ---- the body ---- */

static void copy_to(CEmit *ce, const char *dst, int id) {
  const Node *n = ce->g->nodes[id];
  char src[256];
  int64_t bytes = shape_numel(&n->shape) * dtype_size(n->dtype);
  cgen_loc_expr(ce, id, false, src, sizeof src);
  if (bytes) cgen_line(ce, 1, "memcpy(%s, %s, %lld);", dst, src, (long long)bytes);
}

/* The copies the plan left for the end: the loss, and updates it could not place over
 * their parameter. */
static void step_copies(CEmit *ce, int k, bool update) {
  const GraphStep *st = &ce->g->step[k];
  for (int c = 0; c < ce->p->ncopy; c++) {
    int j = ce->p->copy_out[c], v = ce->g->out[j];
    char dst[128];
    if (j == st->out0) copy_to(ce, "&dlc_loss", v);
    if (!update || j <= st->out0 || j > st->out0 + st->nupd) continue;
    int t = st->target[j - st->out0 - 1]; /* ir_update_target, without a search per copy */
    if (v == t) continue;
    snprintf(dst, sizeof dst, "m->weights + %lld", (long long)ce->p->loc[t].offset);
    copy_to(ce, dst, v);
  }
}

/* The model outputs' places in m->scratch, for kernels of the step that write them. */
static void scratch_outputs(CEmit *ce) {
  int64_t off = 0;
  for (int j = 0; j < ir_num_model_outputs(ce->g); j++) {
    const Node *n = ce->g->nodes[ce->g->out[j]];
    cgen_line(ce, 1, "out[%d] = m->scratch + %lld;", j, (long long)off);
    off += (shape_numel(&n->shape) * dtype_size(n->dtype) + 63) / 64 * 64;
  }
}

static void step_body(CEmit *ce, int k, bool update) {
  const char *nm = ce->o->name;
  cgen_printf(ce, "\nstatic int dlc_step%d_%s(%s *m, const void *const *in, float *loss) {\n", k,
              update ? "update" : "loss", nm);
  cgen_line(ce, 1, "void *out[%d] = {0};", ce->g->nout);
  cgen_line(ce, 1, "float dlc_loss = 0;");
  cgen_line(ce, 1, "(void)in;");
  scratch_outputs(ce);
  cgen_line(ce, 1, "out[%d] = &dlc_loss;", ce->g->step[k].out0);
  int *ids = dlc_malloc(sizeof(int) * (size_t)(ce->g->step[k].nupd + 1));
  DLC_ASSERT(ids);
  bool *need = cgen_needed_kernels(ce, ids, cgen_step_outputs(ce, k, update, ids));
  for (int t = 0; t < ce->s->nk; t++)
    if (need[t]) cgen_kernel_call(ce, &ce->s->k[t]);
  free(need), free(ids);
  step_copies(ce, k, update);
  cgen_line(ce, 1, "if (loss) *loss = dlc_loss;");
  cgen_line(ce, 1, "return %s_OK;", ce->uname);
  cgen_printf(ce, "}\n");
}

/* ---- the typed faces ---- */

/* ", const float *x, const int64_t *label, float *loss" */
static void step_params(CEmit *ce, int k) {
  for (int i = 0; i < ir_num_inputs(ce->g); i++) {
    char p[300];
    if (!step_input(ce, k, i)) continue;
    cgen_param_name(ce, i, false, p, sizeof p);
    cgen_printf(ce, ", const %s *%s", dtype_ctype(cgen_io_node(ce, i, false)->dtype), p);
  }
  cgen_printf(ce, ", float *%s", "loss");
}

static void typed_step(CEmit *ce, int k, bool update) {
  const char *nm = ce->o->name;
  int ni = ir_num_inputs(ce->g);
  cgen_printf(ce, "\nint %s_%s_%s(%s *m", nm, ce->g->step[k].name, update ? "step" : "loss", nm);
  step_params(ce, k);
  cgen_printf(ce, ") {\n");
  if (ni) cgen_line(ce, 1, "const void *in[%d];", ni);
  for (int i = 0; i < ni; i++) {
    char p[300];
    cgen_param_name(ce, i, false, p, sizeof p);
    cgen_line(ce, 1, "in[%d] = %s;", i, step_input(ce, k, i) ? p : "NULL");
  }
  cgen_line(ce, 1, "return dlc_step%d_%s(m, %s, loss);", k, update ? "update" : "loss", ni ? "in" : "NULL");
  cgen_printf(ce, "}\n");
}

static void untyped(CEmit *ce) {
  const char *nm = ce->o->name;
  cgen_printf(ce, "\nint %s_step(%s *m, int step, int update, const void *const *in, float *loss) {\n", nm, nm);
  cgen_line(ce, 1, "switch (step) {");
  for (int k = 0; k < ce->g->nstep; k++)
    cgen_line(ce, 1, "case %d: return update ? dlc_step%d_update(m, in, loss) : dlc_step%d_loss(m, in, loss);", k, k, k);
  cgen_line(ce, 1, "default: return %s_ERR_STEP;", ce->uname);
  cgen_line(ce, 1, "}");
  cgen_printf(ce, "}\n\nconst char *%s_step_name(int step) {\n", nm);
  cgen_line(ce, 1, "switch (step) {");
  for (int k = 0; k < ce->g->nstep; k++) {
    cgen_printf(ce, "  case %d: return ", k);
    cgen_str(ce, ce->g->step[k].name);
    cgen_printf(ce, ";\n");
  }
  cgen_line(ce, 1, "default: return NULL;");
  cgen_line(ce, 1, "}");
  cgen_printf(ce, "}\n");
}

void cgen_c_train_header(CEmit *ce) {
  const char *nm = ce->o->name;
  cgen_printf(ce, "\n/* Training (docs/TRAINING.md).  A step runs forward, backward and the optimizer and\n"
                  " * updates the parameters and the optimizer's state in place; *loss gets the loss\n"
                  " * before the update (loss may be NULL).  NAME_<step>_loss computes the loss alone. */\n");
  cgen_printf(ce, "enum { %s_NUM_STEPS = %d, %s_ERR_STEP = 16 /* no step of that index */ };\n", ce->uname,
              ce->g->nstep, ce->uname);
  for (int k = 0; k < ce->g->nstep; k++)
    for (int u = 1; u >= 0; u--) {
      cgen_printf(ce, "int %s_%s_%s(%s *m", nm, ce->g->step[k].name, u ? "step" : "loss", nm);
      step_params(ce, k);
      cgen_printf(ce, ");\n");
    }
  cgen_printf(ce, "/* Step `step` (0..%s_NUM_STEPS-1), updating or not; every input by position. */\n", ce->uname);
  cgen_printf(ce, "int %s_step(%s *m, int step, int update, const void *const *inputs, float *loss);\n", nm, nm);
  cgen_printf(ce, "const char *%s_step_name(int step);\n", nm);
  cgen_printf(ce, "/* The parameters and the optimizer's state, by name, in a file (docs/TRAINING.md);\n"
                  " * load takes any subset of them, and on failure changes nothing. */\n");
  cgen_printf(ce, "int %s_save(const %s *m, const char *path);\nint %s_load(%s *m, const char *path);\n", nm, nm, nm, nm);
  if (ce->device)
    cgen_printf(ce, "/* A host copy of the values of the parameter of that name, fetched from the device\n"
                    " * now, or NULL (unknown name, or the device failed).  It stays valid until the\n"
                    " * next NAME_param, NAME_save or NAME_load on m; writing to it changes nothing on\n"
                    " * the device (NAME_load does). */\n");
  else cgen_printf(ce, "/* The values of the parameter of that name in m, or NULL. */\n");
  cgen_printf(ce, "void *%s_param(%s *m, const char *name);\n", nm, nm);
}

void cgen_train_faces(CEmit *ce) {
  for (int k = 0; k < ce->g->nstep; k++) {
    typed_step(ce, k, true);
    typed_step(ce, k, false);
  }
  untyped(ce);
}

void cgen_c_train(CEmit *ce) {
  for (int k = 0; k < ce->g->nstep; k++) {
    step_body(ce, k, true);
    step_body(ce, k, false);
  }
  cgen_train_faces(ce);
  cgen_c_train_params(ce);
}
