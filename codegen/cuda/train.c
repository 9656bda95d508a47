/* train.c — the training steps of a CUDA model, with the C backend's interface
 * (train_step.c, docs/TRAINING.md):
 *
 *   NAME_<step>_step, NAME_<step>_loss, NAME_step, NAME_step_name
 *       upload the inputs the step reads, launch the kernels its outputs need in
 *       schedule order, copy each update the plan could not write over its parameter
 *       (device to device), download the loss and synchronise;
 *   NAME_param, NAME_save, NAME_load
 *       the parameters' file of the C backend, over m->host: a host copy of the device's
 *       weight block, fetched when they are called (load uploads what it read).
 *
 * The parameters and the optimizer's state never leave the device during training;
 * a step moves its inputs in and four bytes of loss out. */
#include <inttypes.h>
#include <stdlib.h>

#include "cuda.h"

static int64_t bytes_of(const Node *n) { return shape_numel(&n->shape) * dtype_size(n->dtype); }

/* The updates of step k the plan left in their own buffers: copied over their
 * parameters once every kernel has run. */
static void update_copies(CuEmit *ce, int k) {
  CEmit *c = &ce->c;
  const GraphStep *st = &c->g->step[k];
  char src[128];
  for (int i = 0; i < c->p->ncopy; i++) {
    int j = c->p->copy_out[i], v = c->g->out[j];
    if (j <= st->out0 || j > st->out0 + st->nupd) continue;
    int t = st->target[j - st->out0 - 1]; /* ir_update_target, without a search per copy */
    if (v == t || !bytes_of(c->g->nodes[v])) continue;
    cuda_dev_addr(ce, v, src, sizeof src);
    cgen_line(c, 1, "if (rt_cuda_copy(m->cu, m->weights + %" PRId64 ", %s, %" PRId64 ")) return %s_ERR_DEVICE;",
              c->p->loc[t].offset, src, bytes_of(c->g->nodes[v]), c->uname);
  }
}

static void step_body(CuEmit *ce, int k, bool update) {
  CEmit *c = &ce->c;
  const char *u = c->uname;
  const Node *loss = c->g->nodes[c->g->out[c->g->step[k].out0]];
  char addr[128];
  cgen_printf(c, "\nstatic int dlc_step%d_%s(%s *m, const void *const *in, float *loss) {\n", k,
              update ? "update" : "loss", c->o->name);
  cgen_line(c, 1, "float dlc_loss = 0;");
  if (cuda_has_err(ce)) cgen_line(c, 1, "int flag = 0;");
  int *ids = dlc_malloc(sizeof(int) * (size_t)(c->g->step[k].nupd + 1));
  DLC_ASSERT(ids);
  int n = cgen_step_outputs(c, k, update, ids);
  if (!cuda_uploads(ce, ids, n)) cgen_line(c, 1, "(void)in;");
  bool *need = cgen_needed_kernels(c, ids, n);
  cuda_launches(ce, need);
  free(need), free(ids);
  if (update) update_copies(ce, k);
  DLC_ASSERT(bytes_of(loss) == (int64_t)sizeof(float));
  cuda_dev_addr(ce, loss->id, addr, sizeof addr);
  cgen_line(c, 1, "if (rt_cuda_download(m->cu, &dlc_loss, %s, sizeof dlc_loss)) return %s_ERR_DEVICE;", addr, u);
  cuda_finish(ce);
  cgen_line(c, 1, "if (loss) *loss = dlc_loss;");
  cgen_line(c, 1, "return %s_OK;", u);
  cgen_printf(c, "}\n");
}

/* ---- the parameters' file over the host copy ---- */

static void emit_fetch(CuEmit *ce) {
  CEmit *c = &ce->c;
  cgen_printf(c, "\n/* The device's weight block into m->host. */\n");
  cgen_printf(c, "static int dlc_fetch(const %s *m) {\n", c->o->name);
  cgen_line(c, 1, "return rt_cuda_download(m->cu, m->host, m->weights, (size_t)%s_WEIGHT_BYTES) || rt_cuda_sync(m->cu) ? -1 : 0;",
            c->uname);
  cgen_printf(c, "}\n");
}

static void emit_param(CuEmit *ce) {
  CEmit *c = &ce->c;
  const char *nm = c->o->name;
  cgen_printf(c, "\nvoid *%s_param(%s *m, const char *name) {\n", nm, nm);
  cgen_line(c, 1, "int i;");
  cgen_line(c, 1, "for (i = 0; i < DLC_NUM_PARAMS; i++)");
  cgen_line(c, 2, "if (!strcmp(dlc_params[i].name, name)) return dlc_fetch(m) ? NULL : m->host + dlc_params[i].offset;");
  cgen_line(c, 1, "return NULL;");
  cgen_printf(c, "}\n");
}

static void emit_save(CuEmit *ce) {
  CEmit *c = &ce->c;
  const char *nm = c->o->name, *u = c->uname;
  cgen_printf(c, "\nint %s_save(const %s *m, const char *path) {\n", nm, nm);
  cgen_line(c, 1, "FILE *f;");
  cgen_line(c, 1, "int i, r = 0;");
  cgen_line(c, 1, "if (dlc_fetch(m)) return %s_ERR_DEVICE;", u);
  cgen_line(c, 1, "f = fopen(path, \"wb\");");
  cgen_line(c, 1, "if (!f) return %s_ERR_WEIGHTS_OPEN;", u);
  cgen_line(c, 1, "r |= fwrite(\"DLCPRM01\", 1, 8, f) == 8 ? 0 : -1;");
  cgen_line(c, 1, "r |= dlc_put(f, DLC_NUM_PARAMS, 8);");
  cgen_line(c, 1, "for (i = 0; i < DLC_NUM_PARAMS; i++) r |= dlc_save_one(f, m->host, &dlc_params[i]);");
  cgen_line(c, 1, "if (fclose(f)) r = -1;");
  cgen_line(c, 1, "return r ? %s_ERR_WEIGHTS_OPEN : %s_OK;", u, u);
  cgen_printf(c, "}\n");
}

/* Reads every record over a copy of the current weights; uploads it only when the
 * whole file was good, so a bad file changes nothing. */
static void emit_load(CuEmit *ce) {
  CEmit *c = &ce->c;
  const char *nm = c->o->name, *u = c->uname;
  cgen_printf(c, "\nint %s_load(%s *m, const char *path) {\n", nm, nm);
  cgen_line(c, 1, "FILE *f;");
  cgen_line(c, 1, "char magic[8];");
  cgen_line(c, 1, "uint64_t n, i;");
  cgen_line(c, 1, "int bad;");
  cgen_line(c, 1, "if (dlc_fetch(m)) return %s_ERR_DEVICE;", u);
  cgen_line(c, 1, "f = fopen(path, \"rb\");");
  cgen_line(c, 1, "if (!f) return %s_ERR_WEIGHTS_OPEN;", u);
  cgen_line(c, 1, "bad = fread(magic, 1, 8, f) != 8 || memcmp(magic, \"DLCPRM01\", 8) || dlc_get(f, &n, 8);");
  cgen_line(c, 1, "for (i = 0; !bad && i < n; i++) bad = dlc_load_one(f, m->host);");
  cgen_line(c, 1, "bad = bad || fgetc(f) != EOF;");
  cgen_line(c, 1, "fclose(f);");
  cgen_line(c, 1, "if (bad) return %s_ERR_WEIGHTS_BAD;", u);
  cgen_line(c, 1, "if (rt_cuda_upload(m->cu, m->weights, m->host, (size_t)%s_WEIGHT_BYTES) || rt_cuda_sync(m->cu))",
            u);
  cgen_line(c, 2, "return %s_ERR_DEVICE;", u);
  cgen_line(c, 1, "return %s_OK;", u);
  cgen_printf(c, "}\n");
}

void cuda_train(CuEmit *ce) {
  for (int k = 0; k < ce->c.g->nstep; k++) {
    step_body(ce, k, true);
    step_body(ce, k, false);
  }
  cgen_train_faces(&ce->c);
  cgen_param_io(&ce->c);
  emit_fetch(ce);
  emit_param(ce);
  emit_save(ce);
  emit_load(ce);
}
