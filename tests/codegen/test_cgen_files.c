/* test_cgen_files.c — what the C backend promises beyond each op's values: the
 * weights file and its checks, the linked blob (.incbin) and its check, C arrays that
 * compute the same bits, byte-identical output for the same graph, the header's
 * interface, names C cannot spell, and gather's index check at run time. */
#include <dlfcn.h>

#include "cgen.h"
#include "cgen_util.h"
#include "passes.h"

static const Range F = {-3, 3}, I = {-10, 10};

static Graph *network(void) {
  Graph *g = ir_graph_new("net");
  int x = ir_input(g, "x", DT_F32, SHP(4, 8));
  int w1 = ir_param(g, "w1", DT_F32, SHP(8, 16), (Init){.kind = INIT_XAVIER, .seed = 1});
  int b1 = ir_param(g, "b1", DT_F32, SHP(16), (Init){.kind = INIT_NORMAL, .b = 0.1, .seed = 2});
  int64_t k[3] = {-3, 1, 7}, all[2] = {0, 1};
  int kc = ir_const(g, "k", DT_I64, SHP(3), k);
  int h = ir_binary(g, OP_ADD, ir_matmul(g, x, w1, false, false), b1);
  h = ir_binary(g, OP_MAX, h, ir_scalar(g, DT_F32, 0));
  cg_out(g, h);
  cg_out(g, ir_binary(g, OP_MUL, kc, ir_cast(g, ir_reduce(g, OP_REDUCE_SUM, x, all, 2, false), DT_I64)));
  return g;
}

/* ---- the weights file ---- */

typedef int (*InitFn)(void **m, const char *weights);
typedef void (*FreeFn)(void *m);

static int init_status(void *so, const char *weights) {
  InitFn init;
  FreeFn fr;
  void *p = dlsym(so, "dlc_jit_model_init"), *q = dlsym(so, "dlc_jit_model_free"), *m = NULL;
  if (!p || !q) return -1;
  memcpy(&init, &p, sizeof init);
  memcpy(&fr, &q, sizeof fr);
  int st = init(&m, weights);
  CHECK((st == 0) == (m != NULL));
  fr(m);
  return st;
}

/* Copies `from` to `to`, flipping byte `flip` (or truncating to `cut` bytes, if >= 0). */
static void copy_bad(const char *from, const char *to, long flip, long cut) {
  FILE *f = fopen(from, "rb"), *t = fopen(to, "wb");
  int c;
  for (long i = 0; f && t && (c = fgetc(f)) != EOF && (cut < 0 || i < cut); i++)
    fputc(i == flip ? c ^ 1 : c, t);
  if (f) fclose(f);
  if (t) fclose(t);
}

static void weights_file(void) {
  Graph *g = network();
  cg_check_embed(g, "weights file", F, I, 21, 1);
  DlcErr e = {{0}};
  JitOptions o = {.cflags = CGEN_STRICT, .embed_max_bytes = 1, .keep = true};
  JitModel *m = jit_build(g, &o, &e);
  CHECK(m != NULL);
  if (!m) {
    fprintf(stderr, "weights file: %s\n", e.msg);
    ir_graph_free(g);
    return;
  }
  char dir[4096], so_path[4200], good[4200], bad[4200], none[4200];
  snprintf(dir, sizeof dir, "%s", jit_dir(m));
  snprintf(so_path, sizeof so_path, "%s/model.so", dir);
  snprintf(good, sizeof good, "%s/model.weights", dir);
  snprintf(bad, sizeof bad, "%s/bad.weights", dir);
  snprintf(none, sizeof none, "%s/missing.weights", dir);
  void *so = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
  CHECK(so != NULL);
  if (so) {
    CHECK(init_status(so, good) == 0);
    CHECK(init_status(so, NULL) == 4);  /* weights needed, none given */
    CHECK(init_status(so, none) == 2);  /* missing */
    copy_bad(good, bad, 200, -1);       /* a flipped bit in the data: the hash */
    CHECK(init_status(so, bad) == 3);
    copy_bad(good, bad, 3, -1);         /* the magic */
    CHECK(init_status(so, bad) == 3);
    copy_bad(good, bad, 9, -1);         /* the byte count */
    CHECK(init_status(so, bad) == 3);
    copy_bad(good, bad, -1, 100);       /* truncated */
    CHECK(init_status(so, bad) == 3);
    dlclose(so);
  }
  jit_free(m);
  cg_remove_dir(dir);
  ir_graph_free(g);
}

/* Embedded weights refuse a weights file. */
static void embedded_refuses_file(void) {
  Graph *g = network();
  DlcErr e = {{0}};
  JitOptions o = {.cflags = CGEN_STRICT, .keep = true};
  JitModel *m = jit_build(g, &o, &e);
  CHECK(m != NULL);
  if (m) {
    char so_path[4200], dir[4096];
    snprintf(dir, sizeof dir, "%s", jit_dir(m));
    snprintf(so_path, sizeof so_path, "%s/model.so", dir);
    void *so = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    CHECK(so && init_status(so, so_path) == 4);
    if (so) dlclose(so);
    jit_free(m);
    cg_remove_dir(dir);
  }
  ir_graph_free(g);
}

/* ---- the blob ---- */

/* Rebuilds the kept model.c against `blob` (NAME_WEIGHTS_BIN) into bad.so: its init status. */
static int status_with_blob(const char *dir, const char *blob) {
  char cmd[9000], so_path[4200];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && ${CC:-cc} -shared -fPIC -std=c99 -O1 "
           "-DDLC_JIT_MODEL_WEIGHTS_BIN='\"%s\"' model.c -o bad.so -lm >cc.log 2>&1",
           dir, blob);
  if (system(cmd)) return -1;
  snprintf(so_path, sizeof so_path, "%s/bad.so", dir);
  void *so = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
  int st = so ? init_status(so, NULL) : -1;
  if (so) dlclose(so);
  return st;
}

static void run_network(JitModel *m, float *y0, int64_t *y1) {
  float x[32];
  for (int i = 0; i < 32; i++) x[i] = (float)(i % 7) - 3.0f;
  const void *in[1] = {x};
  void *out[2] = {y0, y1};
  DlcErr e = {{0}};
  CHECK(jit_run(m, in, out, &e) == 0);
}

/* The default: model.c names no weight and links model.bin, which init checks; C arrays
 * give the same bits. */
static void blob(void) {
  Graph *g = network();
  cg_check(g, "blob", F, I, 22);
  DlcErr e = {{0}};
  JitOptions o = {.cflags = CGEN_STRICT, .keep = true};
  JitOptions arrays = {.cflags = CGEN_STRICT, .weights_as = CGEN_WEIGHTS_C_ARRAY, .keep = true};
  PassOptions po = pass_options(2); /* the matmul's B packed into the blob */
  o.passes = arrays.passes = &po;
  JitModel *m = jit_build(g, &o, &e), *a = m ? jit_build(g, &arrays, &e) : NULL;
  CHECK(m && a);
  if (!m || !a) {
    fprintf(stderr, "blob: %s\n", e.msg);
    jit_free(m);
    ir_graph_free(g);
    return;
  }
  float y0[64], y0a[64];
  int64_t y1[3], y1a[3];
  run_network(m, y0, y1), run_network(a, y0a, y1a);
  CHECK(!memcmp(y0, y0a, sizeof y0) && !memcmp(y1, y1a, sizeof y1));
  char dir[4096], adir[4096], path[4200], good[4200], bad[4200];
  snprintf(dir, sizeof dir, "%s", jit_dir(m));
  snprintf(adir, sizeof adir, "%s", jit_dir(a));
  snprintf(path, sizeof path, "%s/model.bin", adir);
  CHECK(access(path, F_OK) != 0); /* C arrays: no blob */
  snprintf(good, sizeof good, "%s/model.bin", dir);
  snprintf(bad, sizeof bad, "%s/bad.bin", dir);
  CHECK(status_with_blob(dir, "model.bin") == 0);
  copy_bad(good, bad, 20, -1);       /* the hash: another model's blob, or a stale one */
  CHECK(status_with_blob(dir, "bad.bin") == 3);
  copy_bad(good, bad, 2, -1);        /* the magic */
  CHECK(status_with_blob(dir, "bad.bin") == 3);
  copy_bad(good, bad, 9, -1);        /* the byte count */
  CHECK(status_with_blob(dir, "bad.bin") == 3);
  copy_bad(good, bad, -1, 200);      /* truncated */
  CHECK(status_with_blob(dir, "bad.bin") == 3);
  jit_free(m), jit_free(a);
  cg_remove_dir(dir), cg_remove_dir(adir);
  ir_graph_free(g);
}

/* However many weights, the .c holds the kernels alone. */
static void small_code(void) {
  Graph *g = ir_graph_new("big");
  int x = ir_input(g, "x", DT_F32, SHP(2, 512));
  int w = ir_param(g, "w", DT_F32, SHP(512, 512), (Init){.kind = INIT_XAVIER, .seed = 3}); /* 1 MiB */
  cg_out(g, ir_matmul(g, x, w, false, false));
  Schedule *s = pass_schedule(g);
  Plan *p = pass_plan(g, s);
  char *c = NULL, *h = NULL, *d = NULL;
  size_t nc = 0, nh = 0, nd = 0;
  CgenOptions o = {.name = "big", .header_name = "big.h", .embed_max_bytes = CGEN_EMBED_DEFAULT};
  FILE *fc = open_memstream(&c, &nc), *fh = open_memstream(&h, &nh), *fd = open_memstream(&d, &nd);
  DlcErr e;
  CHECK(cgen_c_needs_blob(g, p, &o) && cgen_c(g, s, p, &o, fc, fh, fd, &e) == 0);
  fclose(fc), fclose(fh), fclose(fd);
  CHECK(nc < 32 << 10 && nd >= (512 * 512 + 16) * 4); /* 1 MiB of B, then its panels */
  CHECK(nd % 64 == 0 && d && !memcmp(d, "DLCBIN01", 8));
  CHECK(c && strstr(c, ".incbin ") && strstr(c, "\" BIG_WEIGHTS_BIN \"") && strstr(c, "#define BIG_WEIGHTS_BIN \"big.bin\""));
  free(c), free(h), free(d);
  ir_graph_free(g);
}

/* ---- generating to memory ---- */

typedef struct Gen {
  char *c, *h, *w;
  size_t nc, nh, nw;
  int rc;
  DlcErr e;
} Gen;

static Gen generate_as(Graph *g, const char *name, int64_t embed_max, CgenWeightsAs as) {
  Gen r = {0};
  Schedule *s = pass_schedule(g);
  Plan *p = pass_plan(g, s);
  CgenOptions o = {.name = name, .header_name = "model.h", .embed_max_bytes = embed_max, .weights_as = as};
  FILE *c = open_memstream(&r.c, &r.nc), *h = open_memstream(&r.h, &r.nh);
  FILE *w = open_memstream(&r.w, &r.nw);
  r.rc = cgen_c(g, s, p, &o, c, h, w, &r.e);
  fclose(c), fclose(h), fclose(w);
  return r;
}

static Gen generate(Graph *g, const char *name, int64_t embed_max) {
  return generate_as(g, name, embed_max, CGEN_WEIGHTS_INCBIN);
}

static void gen_free(Gen *r) { free(r->c), free(r->h), free(r->w); }

static bool same(const char *a, size_t na, const char *b, size_t nb) {
  return na == nb && !memcmp(a, b, na);
}

/* The same bytes for the same graph; a data file but with C arrays; "DLCBIN01" for the
 * blob, "DLCWGT01" for the weights file. */
static void deterministic(int64_t embed_max, CgenWeightsAs as) {
  Graph *g1 = network(), *g2 = network();
  Gen a = generate_as(g1, "net", embed_max, as), b = generate_as(g1, "net", embed_max, as);
  Gen c = generate_as(g2, "net", embed_max, as);
  CHECK(a.rc == 0 && b.rc == 0 && c.rc == 0);
  CHECK(same(a.c, a.nc, b.c, b.nc) && same(a.c, a.nc, c.c, c.nc));
  CHECK(same(a.h, a.nh, b.h, b.nh) && same(a.h, a.nh, c.h, c.nh));
  CHECK(same(a.w, a.nw, b.w, b.nw) && same(a.w, a.nw, c.w, c.nw));
  CHECK((a.nw > 0) == (embed_max == 0 || as == CGEN_WEIGHTS_INCBIN));
  if (a.nw) CHECK(!memcmp(a.w, embed_max == 0 ? "DLCWGT01" : "DLCBIN01", 8));
  gen_free(&a), gen_free(&b), gen_free(&c);
  ir_graph_free(g1), ir_graph_free(g2);
}

/* ---- the header ---- */

static void header(void) {
  Graph *g = network();
  Gen r = generate(g, "net", CGEN_EMBED_DEFAULT);
  CHECK(r.rc == 0);
  static const char *const want[] = {
      "#include <stdint.h>",
      "typedef struct net net;",
      "enum { NET_NUM_INPUTS = 1, NET_NUM_OUTPUTS = 2 };",
      "#define NET_X_SIZE 32",
      "#define NET_Y0_SIZE 64",
      "#define NET_Y1_SIZE 3",
      "#define NET_ARENA_BYTES ",
      "#define NET_WEIGHT_BYTES ",
      "int net_init(net **m, const char *weights);",
      "int net_infer(net *m, const float *x, float *y0, int64_t *y1);",
      "int net_run(net *m, const void *const *inputs, void *const *outputs);",
      "void net_free(net *m);",
      "const char *net_strerror(int status);",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (!r.h || !strstr(r.h, want[i])) {
      fprintf(stderr, "header lacks: %s\n", want[i]);
      check_failures++;
    }
  CHECK(r.c && strstr(r.c, "static void k"));
  CHECK(r.c && strstr(r.c, "restrict"));
  gen_free(&r);
  ir_graph_free(g);
}

/* Names that collide once made into C identifiers are refused, not miscompiled. */
static void name_collision(void) {
  Graph *g = ir_graph_new("clash");
  int a = ir_input(g, "a.b", DT_F32, SHP(2)), b = ir_input(g, "a_b", DT_F32, SHP(2));
  cg_out(g, ir_binary(g, OP_ADD, a, b));
  Gen r = generate(g, "clash", CGEN_EMBED_DEFAULT);
  CHECK(r.rc == -1 && strstr(r.e.msg, "a.b") && strstr(r.e.msg, "a_b"));
  gen_free(&r);
  Gen bad = generate(g, "not-an-identifier", CGEN_EMBED_DEFAULT);
  CHECK(bad.rc == -1 && strstr(bad.e.msg, "not-an-identifier"));
  gen_free(&bad);
  ir_graph_free(g);
}

/* ---- gather's index check ---- */

static void gather_out_of_range(void) {
  Graph *g = ir_graph_new("gather");
  int x = ir_input(g, "x", DT_F32, SHP(4, 3)), i = ir_input(g, "i", DT_I64, SHP(3));
  int in[2] = {x, i};
  Attr a = attr_int(A_AXIS, 0);
  cg_out(g, ir_add(g, OP_GATHER, in, 2, &a, 1));
  DlcErr e = {{0}};
  JitOptions o = {.cflags = CGEN_STRICT};
  JitModel *m = jit_build(g, &o, &e);
  CHECK(m != NULL);
  float xv[12] = {0}, y[9];
  int64_t cases[][3] = {{0, 4, 1}, {-5, 0, 0}, {0, 0, 100}, {-4, 3, -1}};
  int want_ok[] = {0, 0, 0, 1};
  for (int c = 0; m && c < 4; c++) {
    const void *ins[2] = {xv, cases[c]};
    void *outs[1] = {y};
    e.msg[0] = 0;
    int rc = jit_run(m, ins, outs, &e);
    CHECK((rc == 0) == want_ok[c]);
    if (!want_ok[c]) CHECK(strstr(e.msg, "index read from the data is out of range") != NULL);
  }
  jit_free(m);
  ir_graph_free(g);
}

int main(void) {
  weights_file();
  embedded_refuses_file();
  blob();
  small_code();
  deterministic(CGEN_EMBED_DEFAULT, CGEN_WEIGHTS_INCBIN);
  deterministic(CGEN_EMBED_DEFAULT, CGEN_WEIGHTS_C_ARRAY);
  deterministic(0, CGEN_WEIGHTS_INCBIN);
  header();
  name_collision();
  gather_out_of_range();
  return check_report("test_cgen_files");
}
