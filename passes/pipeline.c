/* pipeline.c — the pass pipeline: which passes run, in what order, at each level.
 *
 * Needs: a verified graph.  Gives: a graph the verifier accepts after every pass (checked
 * when o->verify), its kernel schedule and its memory plan.  -O0 runs only what
 * correctness needs (schedule, plan); -O1 cleans the graph (fold, cse, dce); -O2, when
 * the graph is not a training step, first freezes its parameters into constants (so
 * fold computes what depends on weights alone) and also folds batchnorm-like affine
 * steps into conv/matmul weights.  Fusion is chosen apart from the level (o->fuse).
 */
#include <string.h>

#include "passes.h"

typedef int (*GraphPass)(Graph **g, DlcErr *e);

static const char *const pass_names[] = {"freeze", "fold", "cse", "dce", "bnfold", "fuse", "plan"};

bool pass_known(const char *name) {
  for (size_t i = 0; i < sizeof pass_names / sizeof pass_names[0]; i++)
    if (!strcmp(pass_names[i], name)) return true;
  return false;
}

bool pass_runs(const PassOptions *o, const char *name) {
  if (!strcmp(name, "bnfold") || !strcmp(name, "freeze")) return o->opt_level >= 2 && !o->training;
  if (!strcmp(name, "fuse") || !strcmp(name, "plan")) return true;
  return o->opt_level >= 1 && pass_known(name);
}

PassOptions pass_options(int opt_level) {
  PassOptions o = {.opt_level = opt_level, .fuse = opt_level >= 2 ? FUSE_ALL : FUSE_NONE};
#ifndef NDEBUG
  o.verify = true;
#endif
  return o;
}

/* What follows every pass: its stats line (what `stat` says), the graph when asked, the
 * verifier. */
static int after(const Graph *g, const PassOptions *o, const char *name, const char *stat, DlcErr *e) {
  if (o->stats_to) fprintf(o->stats_to, "pass %-7s %s\n", name, stat);
  if (o->print_after && !strcmp(o->print_after, name)) ir_print(o->print_to ? o->print_to : stderr, g);
  if (!o->verify) return 0;
  DlcErr v;
  if (ir_verify(g, &v)) return dlc_errf(e, "after pass %s: %s", name, v.msg);
  return 0;
}

/* Runs the pass when o asks for it. */
static int run(Graph **g, const PassOptions *o, const char *name, GraphPass pass, DlcErr *e) {
  if (!pass_runs(o, name)) return 0;
  int before = (*g)->n;
  DlcErr pe;
  if (pass(g, &pe)) return dlc_errf(e, "%s: %s", name, pe.msg);
  char stat[64];
  snprintf(stat, sizeof stat, "%5d -> %5d nodes", before, (*g)->n);
  return after(*g, o, name, stat, e);
}

static int fuse(Graph *g, const PassOptions *o, Schedule **s, DlcErr *e) {
  *s = pass_fuse(g, o->fuse);
  char stat[64];
  snprintf(stat, sizeof stat, "%5d nodes in %d kernels", g->n, (*s)->nk);
  return after(g, o, "fuse", stat, e);
}

static int plan(Graph *g, const PassOptions *o, const Schedule *s, Plan **p, DlcErr *e) {
  *p = pass_plan(g, s);
  if (o->verify && plan_check(g, s, *p, e)) return -1;
  char what[320];
  snprintf(what, sizeof what, "%.256s%sthe memory plan's arena", g->file ? g->file : "", g->file ? ": " : "");
  if (ir_limit_bytes(what, (double)(*p)->arena_bytes, ir_limits.arena_bytes, "--max-arena-bytes", e)) return -1;
  char stat[128];
  snprintf(stat, sizeof stat, "arena %lld bytes (live peak %lld, without reuse %lld)",
           (long long)(*p)->arena_bytes, (long long)(*p)->peak_bytes, (long long)(*p)->total_bytes);
  return after(g, o, "plan", stat, e);
}

int pass_pipeline(Graph **g, const PassOptions *o, Schedule **s, Plan **p, DlcErr *e) {
  if (run(g, o, "freeze", pass_freeze, e)) return -1;
  if (run(g, o, "fold", pass_fold, e)) return -1;
  if (run(g, o, "cse", pass_cse, e)) return -1;
  if (run(g, o, "dce", pass_dce, e)) return -1;
  if (run(g, o, "bnfold", pass_bnfold, e)) return -1;
  if (fuse(*g, o, s, e)) return -1;
  return plan(*g, o, *s, p, e);
}
