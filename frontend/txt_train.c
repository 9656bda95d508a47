/* txt_train.c — the training section of the text format (docs/TRAINING.md):
 *
 *   training                                  # the rest of the file builds training
 *   input label: i64[batch]
 *   train: loss = cross_entropy(logits, label), optimizer = adam(lr=1e-3)
 *   train step_d: loss = add(bce(d_real, 1), bce(d_fake, 0)), params = [disc],
 *                 optimizer = adam(lr=2e-4, beta1=0.5), schedule = cosine(steps=1000)
 *
 * A line that ends in a comma continues the statement.  After `training` every statement is read only when the caller trains
 * (LoadOptions.train); else reading stops there, so the model's interface stays that
 * of inference.  A `train` statement records a TrainSpec (ir.h) that pass_train
 * builds; the losses are also calls usable anywhere: cross_entropy, bce, mse, l1. */
#include <string.h>

#include "txt.h"

/* ---- losses as calls ---- */

/* A loss's operand: a value, or a number as a constant of the prediction's dtype. */
static int loss_operand(Txt *p, const TxtArg *a, DType t) {
  if (a->id >= 0) return a->id;
  int id = ir_scalar(p->g, t, a->num.f);
  return id < 0 ? txt_build_fail(p, a->at) : id;
}

int txt_loss(Txt *p, TxtCall *c) {
  static const char *const names[] = {"cross_entropy", "bce", "mse", "l1"};
  char name[32];
  snprintf(name, sizeof name, "%.*s", c->fn->len < 31 ? c->fn->len : 31, c->fn->s);
  size_t i = 0;
  while (i < sizeof names / sizeof names[0] && strcmp(names[i], name)) i++;
  if (i == sizeof names / sizeof names[0]) return -2;
  LossKind k;
  DLC_ASSERT(!loss_parse(name, &k));
  if (c->nargs != 2 || c->nkw)
    return txt_err(p, c->fn, "%s takes two operands, the prediction and the target", name);
  if (c->args[0].id < 0) return txt_err(p, c->args[0].at, "%s: the prediction must be a value", name);
  DType pt = p->g->nodes[c->args[0].id]->dtype;
  if (!dtype_is_float(pt))
    return txt_err(p, c->args[0].at, "%s: the prediction is %s; a loss reads floating-point values", name, dtype_name(pt));
  int pred = c->args[0].id, target = loss_operand(p, &c->args[1], p->g->nodes[pred]->dtype);
  int id = target < 0 ? -1 : ir_loss(p->g, k, pred, target);
  return id < 0 && target >= 0 ? txt_build_fail(p, c->fn) : id;
}

/* ---- the section ---- */

/* `training`: from here on, training only. */
int txt_training(Txt *p, const Tok *kw) {
  if (p->training) return txt_err(p, kw, "'training' begins the training section once");
  p->training = true;
  return 0;
}

/* ---- `train NAME: key = value, ...` ---- */

typedef struct TrainRead {
  TrainSpec s;
  const char *pat[64];
  bool seen[4]; /* loss, params, optimizer, schedule */
} TrainRead;

static int read_loss(Txt *p, TrainRead *r) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  if (!txt_is_name(t)) return txt_err(p, t, "expected the loss (a name or a call), found %s", txt_describe(t, buf, sizeof buf));
  r->s.loss = txt_is(txt_peek(p, 1), '(') ? txt_eval(p) : txt_lookup(p, txt_next(p));
  return r->s.loss < 0 ? -1 : 0;
}

static int read_params(Txt *p, TrainRead *r) {
  if (txt_expect(p, '[', "to open the list of parameters")) return -1;
  while (!txt_is(txt_peek(p, 0), ']')) {
    Tok *t = txt_peek(p, 0);
    char buf[64];
    if (!txt_is_name(t)) return txt_err(p, t, "expected a parameter, a layer or a \"glob*\", found %s", txt_describe(t, buf, sizeof buf));
    if (r->s.npat == 64) return txt_err(p, t, "at most 64 entries in params");
    r->pat[r->s.npat++] = txt_text(p, txt_next(p));
    if (txt_is(txt_peek(p, 0), ',')) txt_next(p);
    else if (!txt_is(txt_peek(p, 0), ']')) return txt_expect(p, ']', "to close the list of parameters");
  }
  txt_next(p);
  if (!r->s.npat) return txt_err(p, txt_peek(p, 0), "params: the list is empty");
  return 0;
}

/* NAME or NAME(key=number, ...): an optimizer (or a schedule) and its settings. */
static int read_setting(Txt *p, TrainRead *r, bool sched) {
  Tok *t = txt_peek(p, 0);
  char name[32], buf[64];
  snprintf(name, sizeof name, "%.*s", t->len < 31 ? t->len : 31, t->s);
  int bad = t->kind != TK_IDENT || (sched ? optim_schedule(name, &r->s.opt) : optim_named(name, &r->s.opt));
  if (bad) return txt_err(p, t, "expected %s, found %s", sched ? "a schedule (constant, step, cosine)"
                          : "an optimizer (sgd, momentum, nesterov, adam, adamw)", txt_describe(t, buf, sizeof buf));
  txt_next(p);
  if (!txt_is(txt_peek(p, 0), '(')) return 0;
  txt_next(p);
  while (!txt_is(txt_peek(p, 0), ')')) {
    Tok *key = txt_peek(p, 0);
    TxtNum v;
    DlcErr e;
    if (key->kind != TK_IDENT || !txt_is(txt_peek(p, 1), '='))
      return txt_err(p, key, "expected KEY=VALUE, found %s", txt_describe(key, buf, sizeof buf));
    txt_next(p), txt_next(p);
    Tok *at = txt_peek(p, 0);
    if (txt_number(p, &v)) return -1;
    if (optim_set(&r->s.opt, txt_text(p, key), v.f, &e)) return txt_err(p, at, "%s", e.msg);
    if (txt_is(txt_peek(p, 0), ',')) txt_next(p);
    else if (!txt_is(txt_peek(p, 0), ')')) return txt_expect(p, ')', "to close the settings");
  }
  txt_next(p);
  return 0;
}

static int read_key(Txt *p, TrainRead *r) {
  static const char *const keys[] = {"loss", "params", "optimizer", "schedule"};
  Tok *k = txt_peek(p, 0);
  char buf[64];
  int i = 0;
  while (i < 4 && !txt_word(k, keys[i])) i++;
  if (i == 4) return txt_err(p, k, "expected loss, params, optimizer or schedule, found %s", txt_describe(k, buf, sizeof buf));
  if (r->seen[i]) return txt_err(p, k, "'%s' is given twice", keys[i]);
  r->seen[i] = true;
  txt_next(p);
  if (txt_expect(p, '=', "after the key")) return -1;
  if (i == 0) return read_loss(p, r);
  if (i == 1) return read_params(p, r);
  /* an optimizer keeps the schedule read so far; a schedule changes nothing else */
  Optim keep = r->s.opt;
  if (read_setting(p, r, i == 3)) return -1;
  if (i == 3) optim_copy_schedule(&keep, &r->s.opt), r->s.opt = keep;
  else optim_copy_schedule(&r->s.opt, &keep);
  return 0;
}

static int read_name(Txt *p, TrainRead *r) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  r->s.name = "train";
  if (txt_is(t, ':')) return txt_next(p), 0;
  if (t->kind != TK_IDENT || memchr(t->s, '.', (size_t)t->len))
    return txt_err(p, t, "expected the step's name (a C identifier) or ':', found %s", txt_describe(t, buf, sizeof buf));
  r->s.name = txt_text(p, txt_next(p));
  for (int i = 0; i < p->g->nspec; i++)
    if (!strcmp(p->g->spec[i].name, r->s.name)) return txt_err(p, t, "a step named '%s' exists already", r->s.name);
  return txt_expect(p, ':', "after the step's name");
}

int txt_train(Txt *p, const Tok *kw) {
  if (!p->training) return txt_err(p, kw, "'train' belongs in the training section (after a 'training' line)");
  TrainRead r = {.s = {.opt = optim_default(OPT_ADAM), .where = p->g->where}};
  if (read_name(p, &r)) return -1;
  for (;;) {
    if (read_key(p, &r)) return -1;
    if (!txt_is(txt_peek(p, 0), ',')) break;
    txt_next(p);
    while (txt_peek(p, 0)->kind == TK_NL) txt_next(p); /* a comma continues the statement */
  }
  if (!r.seen[0]) return txt_err(p, kw, "train %s: no loss (add loss = ...)", r.s.name);
  const Node *l = p->g->nodes[r.s.loss];
  if (!dtype_is_float(l->dtype) || shape_numel(&l->shape) != 1)
    return txt_err(p, kw, "train %s: the loss must be a float scalar, not %s with %lld elements", r.s.name,
                   dtype_name(l->dtype), (long long)shape_numel(&l->shape));
  r.s.pat = r.pat;
  ir_add_spec(p->g, &r.s);
  return 0;
}
