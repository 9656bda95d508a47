/* jit.c — generated C to a loaded shared object (tools/jit.h).
 *
 * Needs: a verified graph, which it leaves as it is.  Runs the pass pipeline on a copy
 * (o->passes; by default -O0 without fusion), writes
 * model.c/model.h (and model.weights) into a fresh private folder, builds model.so with
 * $CC, dlopens it and initialises the model.  Everything on disk lives in that folder,
 * so concurrent builds (ctest -j) never meet.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgen.h"
#include "jit.h"
#include "passes.h"

/* The generated symbols' prefix: fixed, so dlsym knows what to look for. */
#define JIT_NAME "dlc_jit_model"

/* In sanitizer builds the generated code is instrumented the same way and built by the
 * compiler that built dlc, so both halves share one sanitizer runtime. */
#ifndef DLC_JIT_SANITIZE
#define DLC_JIT_SANITIZE ""
#endif
#ifndef DLC_JIT_CC
#define DLC_JIT_CC "cc"
#endif

typedef int (*InitFn)(void **m, const char *weights);
typedef int (*RunFn)(void *m, const void *const *inputs, void *const *outputs);
typedef void (*FreeFn)(void *m);
typedef const char *(*StrerrorFn)(int status);

struct JitModel {
  char dir[PATH_MAX];
  bool keep;
  void *so;
  void *model;
  RunFn run;
  FreeFn free_model;
  StrerrorFn strerror_fn;
};

static void jit_path(const JitModel *m, const char *file, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s", m->dir, file);
}

static int make_dir(JitModel *m, DlcErr *e) {
  const char *tmp = getenv("TMPDIR");
  snprintf(m->dir, sizeof m->dir, "%s/dlc-jit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(m->dir)) return dlc_errf(e, "cannot create a folder %s: %s", m->dir, strerror(errno));
  return 0;
}

/* The folder is private to this model (mkdtemp), so every file in it is ours: also
 * those a caller added beside the generated ones, such as another compiler's log. */
static void remove_dir(const JitModel *m) {
  DIR *d = opendir(m->dir);
  for (struct dirent *de; d && (de = readdir(d));) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char p[PATH_MAX + 256];
    jit_path(m, de->d_name, p, sizeof p);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(m->dir);
}

/* ---- writing the code ---- */

static FILE *open_out(const JitModel *m, const char *file, DlcErr *e) {
  char p[PATH_MAX + 32];
  jit_path(m, file, p, sizeof p);
  FILE *f = fopen(p, "w");
  if (!f) dlc_errf(e, "cannot create %s: %s", p, strerror(errno));
  return f;
}

static int close_out(FILE *f, int r, DlcErr *e) {
  if (f && fclose(f) && !r) return dlc_errf(e, "writing generated code failed: %s", strerror(errno));
  return r;
}

/* A copy of g through the pipeline, with its schedule and plan; NULL with e set. */
static Graph *optimise(const Graph *g, const JitOptions *o, Schedule **s, Plan **p, DlcErr *e) {
  PassOptions plain = pass_options(0);
  Graph *c = pass_clone(g);
  if (!pass_pipeline(&c, o && o->passes ? o->passes : &plain, s, p, e) && !plan_check(c, *s, *p, e))
    return c;
  ir_graph_free(c);
  return NULL;
}

/* Generates the code; *weights says whether model.weights was written. */
static int write_code(JitModel *m, Graph *g, const Schedule *s, const Plan *p, int64_t embed_max,
                      bool *weights, DlcErr *e) {
  CgenOptions co = {.name = JIT_NAME, .header_name = "model.h", .embed_max_bytes = embed_max};
  *weights = cgen_c_needs_weights_file(g, p, &co);
  FILE *c = open_out(m, "model.c", e), *h = c ? open_out(m, "model.h", e) : NULL;
  FILE *w = h && *weights ? open_out(m, "model.weights", e) : NULL;
  int r = !c || !h || (*weights && !w) ? -1 : cgen_c(g, s, p, &co, c, h, w, e);
  r = close_out(c, r, e);
  r = close_out(h, r, e);
  return close_out(w, r, e);
}

/* ---- building it ---- */

/* Appends s to buf in single quotes, so folders with spaces survive the shell. */
static void shell_quote(char *buf, size_t n, const char *s) {
  size_t k = strlen(buf);
  if (k + 1 < n) buf[k++] = '\'';
  for (; *s && k + 5 < n; s++) {
    if (*s == '\'') memcpy(buf + k, "'\\''", 4), k += 4;
    else buf[k++] = *s;
  }
  if (k + 1 < n) buf[k++] = '\'';
  buf[k] = 0;
}

/* The first line of the compiler's output that reports an error, else its first line. */
static void first_error_line(const JitModel *m, char *line, size_t n) {
  char p[PATH_MAX + 32], buf[1024];
  jit_path(m, "cc.log", p, sizeof p);
  FILE *f = fopen(p, "r");
  line[0] = 0;
  while (f && fgets(buf, sizeof buf, f)) {
    buf[strcspn(buf, "\n")] = 0;
    bool error = strstr(buf, "error") != NULL;
    if (error || (!line[0] && buf[0])) {
      size_t k = strlen(buf) < n - 1 ? strlen(buf) : n - 1; /* long lines are cut */
      memcpy(line, buf, k);
      line[k] = 0;
    }
    if (error) break;
  }
  if (f) fclose(f);
}

static int compile(JitModel *m, const char *cflags, DlcErr *e) {
  const char *cc = getenv("CC");
  char cmd[8192] = "cd ";
  shell_quote(cmd, sizeof cmd, m->dir);
  size_t k = strlen(cmd);
  int len = snprintf(cmd + k, sizeof cmd - k,
                     " && %s -shared -fPIC -std=c99 %s %s model.c -o model.so -lm >cc.log 2>&1",
                     cc && *cc ? cc : DLC_JIT_CC, cflags ? cflags : "-O2", DLC_JIT_SANITIZE);
  if (len < 0 || (size_t)len >= sizeof cmd - k) return dlc_errf(e, "the compiler command is too long");
  int st = system(cmd);
  if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  char line[600];
  first_error_line(m, line, sizeof line);
  if (!line[0]) snprintf(line, sizeof line, "exit status %d", st == -1 ? -1 : WEXITSTATUS(st));
  return dlc_errf(e, "cc failed: %s", line);
}

/* ---- loading it ---- */

/* POSIX guarantees dlsym's result converts to a function pointer; memcpy says so
 * without a cast that pedantic compilers flag. */
static int sym(JitModel *m, const char *what, void *fn, size_t size, DlcErr *e) {
  char name[64];
  snprintf(name, sizeof name, "%s_%s", JIT_NAME, what);
  void *p = dlsym(m->so, name);
  if (!p) return dlc_errf(e, "generated code lacks %s", name);
  memcpy(fn, &p, size);
  return 0;
}

static int load(JitModel *m, bool weights, DlcErr *e) {
  char so[PATH_MAX + 32], w[PATH_MAX + 32];
  jit_path(m, "model.so", so, sizeof so);
  jit_path(m, "model.weights", w, sizeof w);
  m->so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!m->so) return dlc_errf(e, "cannot load generated code: %s", dlerror());
  InitFn init = NULL;
  if (sym(m, "init", &init, sizeof init, e) || sym(m, "run", &m->run, sizeof m->run, e) ||
      sym(m, "free", &m->free_model, sizeof m->free_model, e) ||
      sym(m, "strerror", &m->strerror_fn, sizeof m->strerror_fn, e))
    return -1;
  int st = init(&m->model, weights ? w : NULL);
  if (st) return dlc_errf(e, "model init failed: %s", m->strerror_fn(st));
  return 0;
}

JitModel *jit_build(Graph *g, const JitOptions *o, DlcErr *e) {
  JitModel *m = calloc(1, sizeof *m);
  if (!m) return dlc_errf(e, "out of memory"), NULL;
  m->keep = o && o->keep;
  if (make_dir(m, e)) return free(m), NULL;
  int64_t embed = o && o->embed_max_bytes ? o->embed_max_bytes : CGEN_EMBED_DEFAULT;
  bool weights = false;
  Schedule *s = NULL;
  Plan *p = NULL;
  Graph *opt = optimise(g, o, &s, &p, e);
  int r = !opt || write_code(m, opt, s, p, embed, &weights, e);
  ir_graph_free(opt);
  if (r || compile(m, o ? o->cflags : NULL, e) || load(m, weights, e)) {
    jit_free(m);
    return NULL;
  }
  return m;
}

int jit_run(JitModel *m, const void *const *inputs, void *const *outputs, DlcErr *e) {
  int st = m->run(m->model, inputs, outputs);
  if (st) return dlc_errf(e, "model run failed: %s", m->strerror_fn(st));
  return 0;
}

const char *jit_dir(const JitModel *m) { return m->dir; }

void jit_free(JitModel *m) {
  if (!m) return;
  if (m->model) m->free_model(m->model);
  if (m->so) dlclose(m->so);
  if (!m->keep) remove_dir(m);
  free(m);
}
