/* train.c — pass_train: the training statements of a graph become training steps.
 *
 * Needs: a verified graph whose g->spec lists training statements (from the frontend,
 * or train_default_spec); each names a float scalar loss, the parameters it trains and
 * an optimizer.  Gives: the same graph with, for every statement, the backward graph
 * (pass_autodiff) and the optimizer's update (train_optim.c) appended, and a GraphStep
 * whose outputs are the loss and the new values of the trained parameters and of the
 * optimizer's state; g->spec is emptied.  Every step's gradients are appended before
 * any update, so every read of a parameter's old value comes before the node that
 * computes its new one: the plan may then write the new value over the old in place.
 * The forward nodes and the model's outputs are untouched, so the model still infers.
 */
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* A glob with '*' (any run of characters), or a name: the parameter itself or, for a
 * layer's name, its parameters "<name>.*". */
static bool glob(const char *pat, const char *s) {
  if (*pat == '*') return glob(pat + 1, s) || (*s && glob(pat, s + 1));
  if (!*pat) return !*s;
  return *pat == *s && glob(pat + 1, s + 1);
}

static bool matches(const char *pat, const char *name) {
  size_t n = strlen(pat);
  if (strchr(pat, '*')) return glob(pat, name);
  return !strcmp(pat, name) || (!strncmp(pat, name, n) && name[n] == '.');
}

/* Float PARAMs the loss depends on. */
static bool *reaches_loss(const Graph *g, int loss) {
  bool *need = dlc_calloc((size_t)g->n, sizeof(bool));
  DLC_ASSERT(need);
  need[loss] = true;
  for (int i = loss; i >= 0; i--)
    for (int k = 0; need[i] && k < g->nodes[i]->nin; k++) need[g->nodes[i]->in[k]] = true;
  return need;
}

static int spec_fail(const TrainSpec *s, DlcErr *e, const char *msg) {
  return dlc_errf(e, "%s%strain %s: %s", s->where ? s->where : "", s->where ? ": " : "", s->name, msg);
}

/* The parameters statement s trains, in graph order; their count, or -1. */
static int select_params(const Graph *g, const TrainSpec *s, int *ids, DlcErr *e) {
  bool *need = reaches_loss(g, s->loss), *hit = dlc_calloc((size_t)(s->npat + 1), sizeof(bool));
  DLC_ASSERT(hit);
  int np = 0;
  for (int i = 0; i < g->n; i++) {
    const Node *n = g->nodes[i];
    if (n->op != OP_PARAM || !dtype_is_float(n->dtype) || !n->name) continue;
    bool take = !s->npat && need[i];
    for (int k = 0; k < s->npat; k++)
      if (matches(s->pat[k], n->name)) take = hit[k] = true;
    if (take) ids[np++] = i;
  }
  char msg[DLC_ERR_MAX] = "";
  for (int k = 0; k < s->npat && !msg[0]; k++)
    if (!hit[k]) snprintf(msg, sizeof msg, "params: '%s' names no float parameter", s->pat[k]);
  for (int k = 0; k < np && !msg[0]; k++)
    if (!need[ids[k]]) snprintf(msg, sizeof msg, "the loss does not depend on parameter '%s'", g->nodes[ids[k]]->name);
  if (!np && !msg[0]) snprintf(msg, sizeof msg, "the loss depends on no parameter");
  free(need), free(hit);
  return msg[0] ? spec_fail(s, e, msg) : np;
}

typedef struct Built {
  int np;
  int *param, *grad;
} Built;

static int differentiate(Graph *g, const TrainSpec *s, Built *b, DlcErr *e) {
  b->param = dlc_malloc(sizeof(int) * (size_t)g->n);
  DLC_ASSERT(b->param);
  b->np = select_params(g, s, b->param, e);
  if (b->np < 0) return -1;
  b->grad = dlc_malloc(sizeof(int) * (size_t)b->np);
  DLC_ASSERT(b->grad);
  DlcErr ae;
  if (pass_autodiff(g, s->loss, b->param, b->np, b->grad, &ae)) return spec_fail(s, e, ae.msg);
  return 0;
}

/* The optimizer's nodes, then the step's outputs: the loss, then each update. */
static int update(Graph *g, const TrainSpec *s, const Built *b, DlcErr *e) {
  OptStep os = {.o = &s->opt, .step = s->name};
  int cap = 3 * b->np + 1, nu = 0;
  int *tg = dlc_malloc(sizeof(int) * (size_t)cap), *val = dlc_malloc(sizeof(int) * (size_t)cap);
  DLC_ASSERT(tg && val);
  int rc = train_opt_begin(g, &os);
  if (!rc) tg[nu] = os.t, val[nu++] = os.t1;
  for (int i = 0; i < b->np && !rc; i++) {
    int k = train_opt_update(g, &os, b->param[i], b->grad[i], tg + nu, val + nu);
    rc = k < 0 ? -1 : 0;
    nu += k > 0 ? k : 0;
  }
  char name[512];
  snprintf(name, sizeof name, "%s.loss", s->name);
  int loss = g->nodes[s->loss]->dtype == DT_F32 ? s->loss : ir_cast(g, s->loss, DT_F32);
  int out0 = rc || loss < 0 ? -1 : ir_output(g, loss, name);
  for (int i = 0; i < nu && out0 >= 0; i++) {
    snprintf(name, sizeof name, "%s.new.%s", s->name, g->nodes[tg[i]]->name);
    if (ir_output(g, val[i], name) < 0) out0 = -1;
  }
  if (out0 >= 0) ir_add_step(g, s->name, out0, nu, tg);
  free(tg), free(val);
  return out0 < 0 ? spec_fail(s, e, g->err.msg) : 0;
}

static int check_spec(const Graph *g, const TrainSpec *s, int k, DlcErr *e) {
  const Node *l = s->loss >= 0 && s->loss < g->n ? g->nodes[s->loss] : NULL;
  if (!l || !dtype_is_float(l->dtype) || shape_numel(&l->shape) != 1)
    return spec_fail(s, e, "the loss must be a float scalar");
  for (int j = 0; j < k; j++)
    if (!strcmp(g->spec[j].name, s->name)) return spec_fail(s, e, "a step of this name exists already");
  for (int j = 0; j < g->nstep; j++)
    if (!strcmp(g->step[j].name, s->name)) return spec_fail(s, e, "a step of this name exists already");
  return 0;
}

int pass_train(Graph *g, DlcErr *e) {
  int ns = g->nspec, rc = 0;
  Built *b = dlc_calloc((size_t)(ns ? ns : 1), sizeof *b);
  DLC_ASSERT(b);
  for (int k = 0; k < ns && !rc; k++) rc = check_spec(g, &g->spec[k], k, e);
  for (int k = 0; k < ns && !rc; k++) rc = differentiate(g, &g->spec[k], &b[k], e);
  for (int k = 0; k < ns && !rc; k++) rc = update(g, &g->spec[k], &b[k], e);
  for (int k = 0; k < ns; k++) free(b[k].param), free(b[k].grad);
  free(b);
  if (!rc) g->nspec = 0;
  DlcErr ve;
  if (!rc && ir_verify(g, &ve)) return dlc_errf(e, "train: %s", ve.msg);
  return rc;
}
