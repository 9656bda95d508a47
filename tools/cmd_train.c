/* cmd_train.c — `dlc train MODEL --data fashion-mnist`: the model's training step,
 * generated and loaded through the jit, run over the shuffled training set for
 * --epochs, with the test set's loss and accuracy after each epoch.
 *
 * Each epoch draws a new order of the samples (rt_data_shuffle, seeded by --seed) and
 * runs every training step of the model, in order, on each full batch; the samples of
 * a last partial batch wait for the next epoch's order.  The test set is run through
 * the model's inference (every sample) and the first step's loss (every full batch). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_train.h"
#include "rt_cuda.h"

#define FASHION_MNIST "/usr/share/datasets/fashion-mnist"

static int load_data(TrainRun *r, DlcErr *e) {
  const char *dir = !r->a->data || !strcmp(r->a->data, "fashion-mnist") ? FASHION_MNIST : r->a->data;
  if (rt_data_dir(dir, "train", &r->train, e) || rt_data_dir(dir, "t10k", &r->test, e)) return -1;
  char a[96], b[96];
  rt_shape_str(r->train.rank, r->train.dims, a, sizeof a);
  rt_shape_str(r->test.rank, r->test.dims, b, sizeof b);
  if (strcmp(a, b)) return dlc_errf(e, "%s: the training samples are %s, the test samples %s", dir, a, b);
  if (r->train.n < 1 || r->test.n < 1) /* else the accuracy is 0/0 */
    return dlc_errf(e, "--data %s: the %s set is empty", dir, r->train.n < 1 ? "training" : "test");
  if (r->test.classes > r->train.classes) r->train.classes = r->test.classes; /* the model must fit both */
  r->order = dlc_try_malloc(sizeof(int64_t) * (size_t)r->train.n);
  if (!r->order) return dlc_errf(e, "--data %s: out of memory", dir);
  return 0;
}

/* What --out will write, checked before any training: none of it may be a folder or
 * an input of this command (the model, its external data, the dataset), which by now
 * have all been read (rt_file.c). */
static int outputs_ok(const TrainRun *r, DlcErr *e) {
  const char *dir = r->a->out_dir;
  static const char *const fixed[] = {"loss.csv", "epochs.csv", "loss.svg", "samples.pgm"};
  char p[4200];
  for (int i = 0; dir && i < 6; i++) {
    if (i < 4) snprintf(p, sizeof p, "%s/%s", dir, fixed[i]);
    else snprintf(p, sizeof p, "%s/%s.%s", dir, r->g->name, i == 4 ? "params" : "onnx");
    const char *why = rt_output_check(p);
    if (why) return dlc_errf(e, "--out %s: will not write '%s': %s", dir, p, why);
  }
  return 0;
}

/* The batch is the first input's leading dimension (--batch binds it, default 64). */
static int64_t model_batch(const Graph *g) {
  const Node *x = ir_num_inputs(g) ? g->nodes[ir_input_id(g, 0)] : NULL;
  return x && x->shape.rank ? x->shape.d[0] : 1;
}

static int build(TrainRun *r, DlcErr *e) {
  int64_t b = model_batch(r->g), n = r->a->limit && r->a->limit < r->train.n ? r->a->limit : r->train.n;
  r->per_epoch = n / (b ? b : 1);
  if (r->per_epoch < 1)
    return dlc_errf(e, "a batch of %lld is more than the %lld training samples", (long long)b, (long long)n);
  if (cmd_train_graph(r->g, r->a, r->per_epoch * r->a->epochs, e) || feed_bind(&r->feed, r->g, &r->train, e))
    return -1;
  PassOptions po = r->a->passes;
  po.training = true;
  JitOptions jo = {.cflags = r->a->cflags ? r->a->cflags : "-O3", .cpu = r->a->cpu, .keep = r->a->keep, .passes = &po,
                   .threads = r->a->threads, .cuda = r->a->cuda};
  r->m = jit_build(r->g, &jo, e);
  if (r->m && r->a->keep) fprintf(stderr, "dlc: note: generated code kept in %s\n", jit_dir(r->m));
  r->nout = ir_num_model_outputs(r->g);
  r->out = dlc_calloc((size_t)r->nout, sizeof(void *));
  for (int j = 0; r->out && j < r->nout; j++) DLC_ASSERT((r->out[j] = cmd_alloc_value(r->g->nodes[r->g->out[j]])));
  r->curve = dlc_malloc(sizeof(double) * 3 * (size_t)(r->per_epoch * r->a->epochs + 1));
  r->epochs = dlc_malloc(sizeof(double) * 5 * (size_t)(r->a->epochs + 1));
  DLC_ASSERT(r->curve && r->epochs);
  return r->m && r->out ? 0 : -1;
}

/* Every step on one batch; the first step's loss. */
static int step_all(TrainRun *r, double *loss, DlcErr *e) {
  for (int k = 0; k < jit_steps(r->m); k++) {
    float l = 0;
    if (jit_step(r->m, k, true, (const void *const *)r->feed.buf, &l, e)) return -1;
    if (!k) *loss = l;
  }
  return 0;
}

static int train_epoch(TrainRun *r, int epoch, double *mean, DlcErr *e) {
  uint64_t t0 = rt_now_ns();
  double sum = 0;
  rt_data_shuffle(r->a->seed, (uint64_t)epoch, r->train.n, r->order);
  for (int64_t b = 0; b < r->per_epoch; b++) {
    double loss = 0;
    feed_fill(&r->feed, &r->train, r->order, b * r->feed.batch);
    if (step_all(r, &loss, e)) return -1;
    sum += loss;
    double *c = &r->curve[3 * r->ncurve++];
    c[0] = (double)(epoch * r->per_epoch + b + 1), c[1] = epoch + (double)(b + 1) / (double)r->per_epoch, c[2] = loss;
    report_progress(r, epoch + 1, b, sum / (double)(b + 1), (double)(rt_now_ns() - t0) * 1e-9);
  }
  *mean = sum / (double)r->per_epoch;
  return 0;
}

/* Rows of the first output whose largest score is at the label. */
static int64_t correct(const TrainRun *r, int64_t first) {
  const float *y = r->out[0];
  int64_t k = r->feed.classes, hits = 0;
  for (int64_t i = 0; i < r->feed.batch && first + i < r->test.n; i++) {
    int64_t best = 0;
    for (int64_t c = 1; c < k; c++)
      if (y[i * k + c] > y[i * k + best]) best = c;
    hits += best == r->test.y[first + i];
  }
  return hits;
}

static int evaluate(TrainRun *r, double *loss, double *acc, DlcErr *e) {
  int64_t n = r->test.n, bsz = r->feed.batch, hits = 0, full = 0;
  double sum = 0;
  for (int64_t first = 0; first < n; first += bsz) {
    float l = 0;
    feed_fill(&r->feed, &r->test, NULL, first);
    if (first + bsz <= n && jit_step(r->m, 0, false, (const void *const *)r->feed.buf, &l, e)) return -1;
    if (first + bsz <= n) sum += l, full++;
    if (!r->feed.classes) continue;
    if (jit_run(r->m, (const void *const *)r->feed.buf, r->out, e)) return -1;
    hits += correct(r, first);
  }
  *loss = full ? sum / (double)full : 0;
  *acc = r->feed.classes ? 100.0 * (double)hits / (double)n : 0;
  return 0;
}

static int save(TrainRun *r, int ne, DlcErr *e) {
  const char *dir = r->a->out_dir;
  if (!dir) return 0;
  if (mkdir(dir, 0777) && errno != EEXIST) return dlc_errf(e, "--out %s: %s", dir, strerror(errno));
  char p[4200];
  snprintf(p, sizeof p, "%s/%s.params", dir, r->g->name);
  if (report_write(r, ne, e) || report_images(r, e) || jit_save(r->m, p, e)) return -1;
  size_t n = strlen(r->a->model);
  if (n < 5 || strcmp(r->a->model + n - 5, ".onnx")) return 0;
#ifdef DLC_HAVE_ONNX
  snprintf(p, sizeof p, "%s/%s.onnx", dir, r->g->name);
  return train_write_onnx(r->a->model, p, r->m, e);
#else
  return 0;
#endif
}

static int run_epochs(TrainRun *r, DlcErr *e) {
  for (int ep = 0; ep < r->a->epochs; ep++) {
    uint64_t t0 = rt_now_ns();
    double tr, te, acc;
    if (train_epoch(r, ep, &tr, e) || evaluate(r, &te, &acc, e)) return -1;
    double sec = (double)(rt_now_ns() - t0) * 1e-9, *row = &r->epochs[5 * ep];
    row[0] = ep + 1, row[1] = tr, row[2] = te, row[3] = acc, row[4] = sec;
    if (r->feed.classes) printf("epoch %d: train loss %.4f, test accuracy %.2f%% (test loss %.4f, %.1f s)\n", ep + 1, tr, acc, te, sec);
    else printf("epoch %d: train loss %.4f, test loss %.4f (%.1f s)\n", ep + 1, tr, te, sec);
    fflush(stdout);
    if (save(r, ep + 1, e)) return -1;
  }
  return 0;
}

static void run_free(TrainRun *r) {
  for (int j = 0; r->out && j < r->nout; j++) free(r->out[j]);
  free(r->out), free(r->curve), free(r->epochs), free(r->order);
  feed_free(&r->feed);
  jit_free(r->m);
  ir_graph_free(r->g);
  rt_data_free(&r->train), rt_data_free(&r->test);
}

int cmd_train(int argc, char **argv) {
  CmdArgs a;
  if (cmd_parse(&a, "train", CMD_TRAIN, argc, argv)) return 1;
  if (a.help) {
    cmd_help("train", CMD_TRAIN, "MODEL --data fashion-mnist [options]",
             "Train a model with its generated training step (docs/TRAINING.md): the model's\n"
             "training statements, else --loss on its output against the labels.  --data\n"
             "fashion-mnist reads " FASHION_MNIST " (pixels scaled to\n"
             "[0, 1]).  --data DIR reads DIR/x_train.npy, y_train.npy, x_test.npy, y_test.npy\n"
             "(samples of any shape, as they are; integer class labels), else DIR/train.csv\n"
             "and test.csv (numbers; the class label in the last column; an optional header\n"
             "line), else MNIST-style IDX files.  After each epoch: the test accuracy.");
    return 0;
  }
  a.load.train = true;
  if (!a.load.batch) a.load.batch = 64;
  TrainRun r = {.a = &a};
  DlcErr e;
  if (a.cuda && rt_cuda_probe(&e)) return cmd_fail("--target cuda: %s", e.msg);
  int rc = !(r.g = cmd_load(&a, &e)) || cmd_train_check(r.g, &a, &e) || load_data(&r, &e) || outputs_ok(&r, &e) || build(&r, &e) ||
                   run_epochs(&r, &e)
               ? -1
               : 0;
  run_free(&r);
  return rc ? cmd_fail("%s", e.msg) : 0;
}
