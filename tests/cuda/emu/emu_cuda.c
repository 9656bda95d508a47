/* emu_cuda.c — a CPU emulator of the few CUDA driver entry points libdlcrt's loader
 * uses, built as libcuda.so.1 for the tests only.  It is not a GPU: it runs the
 * kernels that emu_nvrtc.c built as C++, block after block, each block's threads as
 * fibers (ucontext) of one OS thread that take turns between __syncthreads (or, for
 * a kernel that never synchronises, one after another).  So generated host code, the loader and the kernels' indexing,
 * bounds and block reductions run end to end on a machine without a GPU; what it
 * cannot show is anything about real hardware: timing, memory-model races between
 * blocks, register or shared-memory limits.
 *
 * Device pointers are host pointers; every call is synchronous. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ucontext.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KERNELS 4096
#define MAX_ARGS 32

typedef struct EmuModule EmuModule;

typedef struct EmuKernel { /* what cuModuleGetFunction hands out */
  EmuModule *m;
  char name[64];
  int nargs;
  bool sync;
  void *fn;
} EmuKernel;

struct EmuModule {
  void *so;
  void (*set)(const unsigned *b, unsigned t, unsigned bd, const unsigned *g);
  int nk;
  EmuKernel k[MAX_KERNELS];
};

enum { OK = 0, INVALID_VALUE = 1, NOT_FOUND = 500, INVALID_IMAGE = 200, LAUNCH_FAILED = 719 };

int cuGetErrorName(int r, const char **name) {
  *name = r == OK ? "CUDA_SUCCESS" : r == INVALID_VALUE ? "CUDA_ERROR_INVALID_VALUE"
          : r == NOT_FOUND ? "CUDA_ERROR_NOT_FOUND" : r == INVALID_IMAGE ? "CUDA_ERROR_INVALID_IMAGE"
                                                    : "CUDA_ERROR_LAUNCH_FAILED";
  return 0;
}

int cuInit(unsigned flags) { return (int)flags; }
int cuDeviceGetCount(int *n) { return *n = 1, 0; }
int cuDeviceGet(int *d, int i) { return *d = i, i ? INVALID_VALUE : 0; }
int cuDeviceGetName(char *name, int len, int d) { return (void)d, snprintf(name, (size_t)len, "dlc CPU emulator"), 0; }
int cuDeviceGetAttribute(int *v, int attr, int d) {
  (void)d;
  *v = attr == 75 ? 9 : attr == 76 ? 0 : 4; /* compute capability 9.0, 4 "SMs" */
  return 0;
}
int cuDevicePrimaryCtxRetain(void **ctx, int d) { static int token; return (void)d, *ctx = &token, 0; }
int cuDevicePrimaryCtxRelease_v2(int d) { return (void)d, 0; }
int cuCtxSetCurrent(void *ctx) { return (void)ctx, 0; }
int cuStreamCreate(void **s, unsigned f) { static int token; return (void)f, *s = &token, 0; }
int cuStreamDestroy_v2(void *s) { return (void)s, 0; }
int cuStreamSynchronize(void *s) { return (void)s, 0; }

int cuMemAlloc_v2(unsigned long long *p, size_t n) {
  void *m = malloc(n);
  *p = (unsigned long long)(size_t)m;
  return m ? 0 : 2;
}
int cuMemFree_v2(unsigned long long p) { return free((void *)(size_t)p), 0; }
int cuMemsetD8Async(unsigned long long p, unsigned char v, size_t n, void *s) {
  return (void)s, memset((void *)(size_t)p, v, n), 0;
}
int cuMemcpyHtoDAsync_v2(unsigned long long d, const void *h, size_t n, void *s) {
  return (void)s, memcpy((void *)(size_t)d, h, n), 0;
}
int cuMemcpyDtoHAsync_v2(void *h, unsigned long long d, size_t n, void *s) {
  return (void)s, memcpy(h, (const void *)(size_t)d, n), 0;
}
int cuMemcpyDtoDAsync_v2(unsigned long long d, unsigned long long src, size_t n, void *s) {
  return (void)s, memcpy((void *)(size_t)d, (const void *)(size_t)src, n), 0;
}

/* ---- modules ---- */

/* A block of a kernel that synchronises: one fiber per thread, and the scheduler's
 * context that runs them in turn.  __syncthreads hands control back to it. */
#define FIBER_STACK (256 * 1024)
static ucontext_t sched_ctx, *fiber_ctx;
static unsigned fiber_cur;
static void emu_barrier(void) { swapcontext(&fiber_ctx[fiber_cur], &sched_ctx); }

static void remove_build(const char *so) {
  char dir[512], cmd[600];
  snprintf(dir, sizeof dir, "%s", so);
  char *slash = strrchr(dir, '/');
  if (!slash || strncmp(dir, "/tmp/dlc-emu-", 13)) return;
  *slash = 0;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) fprintf(stderr, "emulator: could not remove %s\n", dir);
}

int cuModuleLoadData(void **mod, const void *image) {
  const char *text = image;
  char so[512];
  if (sscanf(text, "DLC-EMU %511s", so) != 1) return INVALID_IMAGE;
  EmuModule *m = calloc(1, sizeof *m);
  if (!m || !(m->so = dlopen(so, RTLD_NOW | RTLD_LOCAL))) return free(m), INVALID_IMAGE;
  remove_build(so);
  void (*bind)(void (*)(void)) = (void (*)(void (*)(void)))dlsym(m->so, "dlc_emu_bind");
  m->set = (void (*)(const unsigned *, unsigned, unsigned, const unsigned *))dlsym(m->so, "dlc_emu_set");
  if (!bind || !m->set) return INVALID_IMAGE;
  bind(emu_barrier);
  for (const char *p = strstr(text, "\nkernel "); p && m->nk < MAX_KERNELS; p = strstr(p + 1, "\nkernel ")) {
    EmuKernel *k = &m->k[m->nk];
    char sync[8] = "";
    if (sscanf(p, "\nkernel %63s %d %7s", k->name, &k->nargs, sync) < 2) continue;
    k->sync = !strcmp(sync, "sync");
    m->nk++;
  }
  *mod = m;
  return 0;
}

int cuModuleUnload(void *mod) {
  EmuModule *m = mod;
  dlclose(m->so);
  free(m);
  return 0;
}

int cuModuleGetFunction(void **f, void *mod, const char *name) {
  EmuModule *m = mod;
  for (int i = 0; i < m->nk; i++)
    if (!strcmp(m->k[i].name, name)) {
      m->k[i].m = m;
      m->k[i].fn = dlsym(m->so, name);
      *f = &m->k[i];
      return m->k[i].fn ? 0 : NOT_FOUND;
    }
  return NOT_FOUND;
}

/* ---- launches ---- */

typedef void (*Any)(void *, void *, void *, void *, void *, void *, void *, void *, void *, void *,
                    void *, void *, void *, void *, void *, void *, void *, void *, void *, void *,
                    void *, void *, void *, void *, void *, void *, void *, void *, void *, void *,
                    void *, void *);

typedef struct Thread {
  const EmuKernel *f;
  unsigned b[3], t, bd, g[3];
  void *a[MAX_ARGS];
} Thread;

/* Every kernel parameter is a pointer; a function that takes fewer ignores the rest. */
static void *run_thread(void *arg) {
  Thread *t = arg;
  t->f->m->set(t->b, t->t, t->bd, t->g);
  Any fn;
  memcpy(&fn, &t->f->fn, sizeof fn);
  void **a = t->a;
  fn(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15],
     a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29], a[30],
     a[31]);
  return NULL;
}

static Thread *fiber_th;
static bool *fiber_done;
static void fiber_main(void) {
  run_thread(&fiber_th[fiber_cur]);
  fiber_done[fiber_cur] = true;
}

/* The fibers run in rounds: each runs until its next __syncthreads or its end, so a
 * round ends with every thread at the same barrier, as on a GPU. */
static int run_block(const EmuKernel *f, Thread *th, unsigned bx) {
  if (!f->sync) {
    for (unsigned t = 0; t < bx; t++) th[0].t = t, run_thread(&th[0]);
    return 0;
  }
  static char *stacks;
  static unsigned nstacks;
  if (nstacks < bx) {
    free(stacks), free(fiber_ctx), free(fiber_done);
    stacks = malloc((size_t)bx * FIBER_STACK);
    fiber_ctx = calloc(bx, sizeof *fiber_ctx);
    fiber_done = calloc(bx, sizeof *fiber_done);
    if (!stacks || !fiber_ctx || !fiber_done) abort();
    nstacks = bx;
  }
  fiber_th = th;
  for (unsigned t = 0; t < bx; t++) {
    if (t) th[t] = th[0], th[t].t = t;
    fiber_done[t] = false;
    if (getcontext(&fiber_ctx[t])) return LAUNCH_FAILED;
    fiber_ctx[t].uc_stack.ss_sp = stacks + (size_t)t * FIBER_STACK;
    fiber_ctx[t].uc_stack.ss_size = FIBER_STACK;
    fiber_ctx[t].uc_link = &sched_ctx;
    makecontext(&fiber_ctx[t], fiber_main, 0);
  }
  for (bool left = true; left;) {
    left = false;
    for (unsigned t = 0; t < bx; t++) {
      if (fiber_done[t]) continue;
      fiber_cur = t;
      f->m->set(th[t].b, t, th[t].bd, th[t].g); /* the coordinates are per OS thread */
      if (swapcontext(&sched_ctx, &fiber_ctx[t])) return LAUNCH_FAILED;
      left |= !fiber_done[t];
    }
  }
  return 0;
}

int cuLaunchKernel(void *fp, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shmem, void *s, void **params, void **extra) {
  const EmuKernel *f = fp;
  (void)shmem, (void)s, (void)extra;
  if (by != 1 || bz != 1 || !bx || bx > 1024 || f->nargs > MAX_ARGS || !gx || !gy || !gz) return INVALID_VALUE;
  Thread *th = calloc(bx, sizeof *th);
  if (!th) return LAUNCH_FAILED;
  th[0].f = f, th[0].bd = bx, th[0].g[0] = gx, th[0].g[1] = gy, th[0].g[2] = gz;
  for (int i = 0; i < f->nargs; i++) th[0].a[i] = (void *)(size_t) * (unsigned long long *)params[i];
  int r = 0;
  for (unsigned z = 0; z < gz && !r; z++)
    for (unsigned y = 0; y < gy && !r; y++)
      for (unsigned x = 0; x < gx && !r; x++) {
        th[0].b[0] = x, th[0].b[1] = y, th[0].b[2] = z;
        r = run_block(f, th, bx);
      }
  free(th);
  return r;
}
