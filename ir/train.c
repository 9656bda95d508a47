/* train.c — the training records a graph carries: statements not built yet (TrainSpec,
 * from the frontend) and built steps (GraphStep, from pass_train), whose outputs write
 * new values of parameters and optimizer state back in place. */
#include <stddef.h>
#include <string.h>

#include "ir.h"

Optim optim_default(OptKind k) {
  Optim o = {.kind = k, .lr = k == OPT_SGD ? 1e-2 : 1e-3, .beta1 = 0.9, .beta2 = 0.999,
             .eps = 1e-8, .weight_decay = k == OPT_ADAMW ? 1e-2 : 0, .sched = LR_CONSTANT,
             .gamma = 0.1};
  return o;
}

/* Grows an arena array of `size`-byte records to hold one more. */
static void *grow(Arena *a, void *old, int n, int *cap, size_t size) {
  if (n < *cap) return old;
  void *p = arena_grow(a, old, n, *cap, size);
  *cap = arena_grown(*cap);
  return p;
}

int ir_add_spec(Graph *g, const TrainSpec *s) {
  g->spec = grow(g->arena, g->spec, g->nspec, &g->speccap, sizeof *s);
  TrainSpec *d = &g->spec[g->nspec];
  *d = *s;
  d->name = arena_strdup(g->arena, s->name);
  d->where = s->where ? arena_strdup(g->arena, s->where) : NULL;
  d->pat = arena_alloc(g->arena, sizeof(char *) * (size_t)(s->npat ? s->npat : 1));
  for (int i = 0; i < s->npat; i++) d->pat[i] = arena_strdup(g->arena, s->pat[i]);
  return g->nspec++;
}

int ir_add_step(Graph *g, const char *name, int out0, int nupd, const int *target) {
  DLC_ASSERT(out0 >= 0 && out0 + nupd < g->nout);
  g->step = grow(g->arena, g->step, g->nstep, &g->stepcap, sizeof(GraphStep));
  GraphStep *s = &g->step[g->nstep];
  s->name = arena_strdup(g->arena, name);
  s->out0 = out0, s->nupd = nupd;
  s->target = arena_alloc(g->arena, sizeof(int) * (size_t)(nupd ? nupd : 1));
  if (nupd) memcpy(s->target, target, sizeof(int) * (size_t)nupd);
  return g->nstep++;
}

int ir_num_model_outputs(const Graph *g) { return g->nstep ? g->step[0].out0 : g->nout; }

int ir_update_target(const Graph *g, int j) {
  for (int k = 0; k < g->nstep; k++) {
    const GraphStep *s = &g->step[k];
    if (j > s->out0 && j <= s->out0 + s->nupd) return s->target[j - s->out0 - 1];
  }
  return -1;
}

void ir_copy_steps(Graph *dst, const Graph *src, const int *newid) {
  for (int k = 0; k < src->nstep; k++) {
    const GraphStep *s = &src->step[k];
    int at = ir_add_step(dst, s->name, s->out0, s->nupd, s->target);
    for (int i = 0; i < s->nupd; i++) dst->step[at].target[i] = newid[s->target[i]];
  }
}

/* ---- optimizers by name, and their settings ---- */

int optim_named(const char *name, Optim *o) {
  static const struct { const char *name; OptKind k; double momentum; bool nesterov; } opts[] = {
      {"sgd", OPT_SGD, 0, false},       {"momentum", OPT_SGD, 0.9, false},
      {"nesterov", OPT_SGD, 0.9, true}, {"adam", OPT_ADAM, 0, false},
      {"adamw", OPT_ADAMW, 0, false}};
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    if (!strcmp(name, opts[i].name)) {
      *o = optim_default(opts[i].k);
      o->momentum = opts[i].momentum, o->nesterov = opts[i].nesterov;
      return 0;
    }
  return -1;
}

int optim_schedule(const char *name, Optim *o) {
  static const char *const names[] = {[LR_CONSTANT] = "constant", [LR_STEP] = "step", [LR_COSINE] = "cosine"};
  for (int k = LR_CONSTANT; k <= LR_COSINE; k++)
    if (!strcmp(name, names[k])) return o->sched = (LrKind)k, 0;
  return -1;
}

void optim_copy_schedule(Optim *to, const Optim *from) {
  to->sched = from->sched, to->sched_steps = from->sched_steps;
  to->gamma = from->gamma, to->lr_min = from->lr_min;
}

typedef struct OptKey {
  const char *key;
  double lo, hi;   /* the range of values, inclusive */
  bool integer;
  size_t at;       /* offsetof the field in Optim */
  bool is_int64;
} OptKey;

#define DBL(k, lo, hi, f) {k, lo, hi, false, offsetof(Optim, f), false}
static const OptKey keys[] = {
    DBL("lr", 0, 1e9, lr),           DBL("momentum", 0, 0.999999, momentum),
    DBL("beta1", 0, 0.999999, beta1), DBL("beta2", 0, 0.999999, beta2),
    DBL("eps", 0, 1, eps),           DBL("weight_decay", 0, 1e9, weight_decay),
    DBL("gamma", 0, 1e9, gamma),     DBL("lr_min", 0, 1e9, lr_min),
    {"steps", 1, 1e15, true, offsetof(Optim, sched_steps), true},
    {"every", 1, 1e15, true, offsetof(Optim, sched_steps), true},
    {"nesterov", 0, 1, true, offsetof(Optim, nesterov), false},
};
#undef DBL

int optim_set(Optim *o, const char *key, double v, DlcErr *e) {
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const OptKey *k = &keys[i];
    if (strcmp(key, k->key)) continue;
    if (!(v >= k->lo && v <= k->hi) || (k->integer && v != (double)(int64_t)v))
      return dlc_errf(e, "%s=%g: expected %s from %g to %g", key, v, k->integer ? "an integer" : "a number", k->lo, k->hi);
    char *f = (char *)o + k->at;
    if (!k->integer) *(double *)(void *)f = v;
    else if (k->is_int64) *(int64_t *)(void *)f = (int64_t)v;
    else *(bool *)(void *)f = v != 0;
    return 0;
  }
  return dlc_errf(e, "unknown setting '%s' (lr, momentum, nesterov, beta1, beta2, eps, weight_decay; "
                     "schedules: steps, every, gamma, lr_min)", key);
}
