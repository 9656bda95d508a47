/* cmd_train_graph.c — the training steps `dlc compile --train` and `dlc train` build:
 * the model's own training statements, or the one --loss and --optimizer describe,
 * with the command line's settings applied, then pass_train. */
#include <string.h>

#include "cmd.h"

/* What the command line says about every statement's optimizer. */
static int apply_options(TrainSpec *s, const CmdArgs *a, int64_t steps, DlcErr *e) {
  Optim keep = s->opt;
  if (a->optim_given) s->opt = a->optim;
  optim_copy_schedule(&s->opt, a->sched_given ? &a->optim : &keep);
  if (a->lr > 0) s->opt.lr = a->lr;
  if (s->opt.sched != LR_CONSTANT && !s->opt.sched_steps) {
    if (!steps) return dlc_errf(e, "train %s: the %s schedule needs steps= (every= for step)", s->name,
                                s->opt.sched == LR_STEP ? "step" : "cosine");
    s->opt.sched_steps = s->opt.sched == LR_COSINE ? steps : (steps + 2) / 3;
  }
  return 0;
}

int cmd_train_check(const Graph *g, const CmdArgs *a, DlcErr *e) {
  if (g->nspec && a->loss_given)
    return dlc_errf(e, "%s: --loss is for models without a training statement; this one has %d",
                    g->file ? g->file : "the model", g->nspec);
  return 0;
}

int cmd_train_graph(Graph *g, const CmdArgs *a, int64_t steps, DlcErr *e) {
  if (cmd_train_check(g, a, e)) return -1;
  if (!g->nspec && train_default_spec(g, a->loss, &a->optim, "train", e)) return -1;
  for (int k = 0; k < g->nspec; k++)
    if (apply_options(&g->spec[k], a, steps, e)) return -1;
  return pass_train(g, e);
}
