/* test_train_text.c — the training section of the text format: what it records, that
 * it is skipped unless training, and its errors (each with its line and column).
 * Usage: test_train_text */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend.h"
#include "passes.h"
#include "rnd.h"

static const char *const gan_like =
    "model g\n"
    "input z: f32[batch, 4]\n"
    "fake = dense(z, 6, name=gen.d)\n"
    "output fake\n"
    "training\n"
    "input real: f32[batch, 6]\n"
    "both = concat(real, fake, axis=0)\n"
    "d = dense(both, 1, name=disc.d)\n"
    "d_real = slice(d, starts=[0, 0], ends=[3, 1], steps=[1, 1])\n"
    "d_fake = slice(d, starts=[3, 0], ends=[6, 1], steps=[1, 1])\n"
    "train step_d: loss = add(bce(d_real, 1), bce(d_fake, 0)), params = [disc],\n"
    "              optimizer = adam(lr=2e-4, beta1=0.5)\n"
    "train step_g: loss = bce(d_fake, 1), params = [\"gen.*\"], optimizer = sgd(lr=0.1, momentum=0.5, nesterov=1),\n"
    "              schedule = step(every=10, gamma=0.5)\n";

static Graph *parse(const char *src, bool train, DlcErr *e) {
  LoadOptions o = {.batch = 3, .train = train};
  return txt_parse(src, strlen(src), "t.dlc", &o, e);
}

static void records(void) {
  DlcErr e;
  Graph *g = parse(gan_like, true, &e);
  if (!g) {
    check_failures++;
    fprintf(stderr, "gan_like: %s\n", e.msg);
    return;
  }
  CHECK(g->nspec == 2 && ir_num_inputs(g) == 2);
  const TrainSpec *d = &g->spec[0], *s = &g->spec[1];
  CHECK(!strcmp(d->name, "step_d") && d->npat == 1 && !strcmp(d->pat[0], "disc"));
  CHECK(d->opt.kind == OPT_ADAM && d->opt.lr == 2e-4 && d->opt.beta1 == 0.5 && d->opt.beta2 == 0.999);
  CHECK(!strcmp(s->name, "step_g") && !strcmp(s->pat[0], "gen.*") && s->opt.kind == OPT_SGD);
  CHECK(s->opt.momentum == 0.5 && s->opt.nesterov && s->opt.sched == LR_STEP && s->opt.sched_steps == 10);
  CHECK(d->where && strstr(d->where, "t.dlc:11"));
  if (pass_train(g, &e)) {
    check_failures++;
    fprintf(stderr, "pass_train: %s\n", e.msg);
  } else {
    CHECK(g->nstep == 2 && g->nspec == 0 && ir_num_model_outputs(g) == 1);
    CHECK(g->step[0].nupd == 1 + 2 * 2 + 2 * 1); /* the counter, then m, v and w of disc.d.w, disc.d.b */
    for (int u = 0; u < g->step[0].nupd; u++) CHECK(!strncmp(g->nodes[g->step[0].target[u]]->name, "step_d.", 7) ||
                                                  !strncmp(g->nodes[g->step[0].target[u]]->name, "disc.", 5));
  }
  ir_graph_free(g);
  g = parse(gan_like, false, &e); /* inference: the section is not read */
  CHECK(g && g->nspec == 0 && ir_num_inputs(g) == 1 && g->nout == 1);
  ir_graph_free(g);
}

/* Each bad file's message names its line and column. */
static void bad(const char *body, const char *want) {
  char src[1024];
  snprintf(src, sizeof src, "input x: f32[2, 3]\ny = dense(x, 4)\noutput y\n%s", body);
  DlcErr e;
  Graph *g = parse(src, true, &e);
  if (!g && strstr(e.msg, want)) return;
  check_failures++;
  fprintf(stderr, "expected \"%s\" for:\n%s\ngot: %s\n", want, body, g ? "a graph" : e.msg);
  ir_graph_free(g);
}

static void errors(void) {
  bad("train: loss = mse(y, 0)\n", "t.dlc:4:1: 'train' belongs in the training section");
  bad("training\ntraining\n", "t.dlc:5:1: 'training' begins the training section once");
  bad("training\noutput y2 = y\n", "t.dlc:5:1: outputs belong before the training section");
  bad("training\ntrain: loss = y\n", "t.dlc:5:1: train train: the loss must be a float scalar");
  bad("training\ntrain: optimizer = adam\n", "t.dlc:5:1: train train: no loss");
  bad("training\ntrain: loss = mse(y, 0), lr = 3\n", "t.dlc:5:26: expected loss, params, optimizer or schedule");
  bad("training\ntrain: loss = mse(y, 0), optimizer = adagrad\n", "t.dlc:5:38: expected an optimizer");
  bad("training\ntrain: loss = mse(y, 0), optimizer = adam(beta1=1.5)\n", "t.dlc:5:49: beta1=1.5: expected a number from 0");
  bad("training\ntrain: loss = mse(y, 0), optimizer = adam(rho=1)\n", "unknown setting 'rho'");
  bad("training\ntrain: loss = mse(y, 0), loss = l1(y, 0)\n", "t.dlc:5:26: 'loss' is given twice");
  bad("training\ntrain s: loss = mse(y, 0)\ntrain s: loss = l1(y, 0)\n", "t.dlc:6:7: a step named 's' exists already");
  bad("training\ntrain a.b: loss = mse(y, 0)\n", "t.dlc:5:7: expected the step's name");
  bad("training\ntrain: loss = mse(y, 0), params = []\n", "params: the list is empty");
  bad("training\ntrain: loss = mse(y, 0), schedule = linear\n", "expected a schedule");
  bad("training\ntrain: loss = mse(y, 0, 1)\n", "t.dlc:5:15: mse takes two operands");
  bad("training\ninput l: i64[5]\ntrain: loss = cross_entropy(y, l)\n", "t.dlc:6:15: loss ce: class ids [5] do not fit logits [2,4]");
}

/* pass_train's own refusals, with the statement's place. */
static void build_errors(void) {
  static const char *const src =
      "input x: f32[2, 3]\ny = dense(x, 4)\nparam w: f32[2] = ones\noutput y\ntraining\n"
      "train: loss = mse(y, 0), params = [nothing]\n";
  DlcErr e;
  Graph *g = parse(src, true, &e);
  CHECK(g != NULL);
  if (g && (!pass_train(g, &e) || !strstr(e.msg, "t.dlc:6: train train: params: 'nothing' names no float parameter"))) {
    check_failures++;
    fprintf(stderr, "unexpected: %s\n", e.msg);
  }
  ir_graph_free(g);
  g = parse("input x: f32[2, 3]\ny = dense(x, 4)\nparam w: f32[2] = ones\noutput y\ntraining\n"
            "train: loss = mse(y, 0), params = [w]\n", true, &e);
  if (g && (!pass_train(g, &e) || !strstr(e.msg, "the loss does not depend on parameter 'w'"))) {
    check_failures++;
    fprintf(stderr, "unexpected: %s\n", e.msg);
  }
  ir_graph_free(g);
}

/* Mutated training sections: every outcome is a graph or one error line, never a
 * crash (the sanitizer builds check the memory).  Deterministic mutations. */
static void mutations(void) {
  static const char alphabet[] = "train:=,()[]\"*.ab0 1e-\n#";
  uint64_t s = 0x9E3779B97F4A7C15ULL;
  size_t n = strlen(gan_like);
  char *buf = malloc(n + 8);
  for (int k = 0; k < 3000; k++) {
    memcpy(buf, gan_like, n + 1);
    for (int m = 0; m < 1 + k % 4; m++) {
      uint64_t r = rnd_next(&s);
      size_t at = 250 + (size_t)(r % (n - 250)); /* within the training section */
      buf[at] = alphabet[(r >> 32) % (sizeof alphabet - 1)];
    }
    DlcErr e;
    Graph *g = parse(buf, true, &e);
    if (g && !pass_train(g, &e)) CHECK(g->nstep >= 1);
    else CHECK(strchr(e.msg, '\n') == NULL && e.msg[0]);
    ir_graph_free(g);
  }
  free(buf);
}

int main(void) {
  records();
  mutations();
  errors();
  build_errors();
  return check_report("test_train_text");
}
