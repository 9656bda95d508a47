/* emu_nvrtc.c — the CPU emulator's stand-in for libnvrtc (tests only; see
 * emu_cuda.c).  "Compiling" a program builds its CUDA C as C++ into a shared object
 * with emu_kernel.h included first; the "PTX" it returns names that object and lists
 * each kernel with its parameter count and whether it synchronises its block:
 *
 *   DLC-EMU /tmp/dlc-emu-XXXXXX/k.so
 *   kernel k12_matmul 3 sync
 *
 * Loaded by rt_cuda_lib.c through DLC_NVRTC=path/libdlc_emu_nvrtc.so. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EMU_KERNEL_H
#error "EMU_KERNEL_H: the path of emu_kernel.h"
#endif

typedef struct Prog {
  char *src, *ptx, *log;
} Prog;

const char *nvrtcGetErrorString(int r) { return r ? "NVRTC_ERROR_COMPILATION (emulated)" : "NVRTC_SUCCESS"; }
int nvrtcVersion(int *major, int *minor) { return *major = 0, *minor = 1, 0; }
int nvrtcGetNumSupportedArchs(int *n) { return *n = 1, 0; }
int nvrtcGetSupportedArchs(int *a) { return a[0] = 90, 0; }

int nvrtcCreateProgram(void **p, const char *src, const char *name, int nh, const char *const *h,
                       const char *const *hn) {
  (void)name, (void)nh, (void)h, (void)hn;
  Prog *g = calloc(1, sizeof *g);
  if (!g || !(g->src = strdup(src))) return free(g), 5;
  *p = g;
  return 0;
}

int nvrtcDestroyProgram(void **p) {
  Prog *g = *p;
  if (g) free(g->src), free(g->ptx), free(g->log), free(g);
  *p = NULL;
  return 0;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return strdup("");
  char *b = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&b, &n);
  for (int c; (c = fgetc(f)) != EOF;) fputc(c, m);
  fclose(m);
  fclose(f);
  return b;
}

/* Parameters: the commas of the signature outside comments, plus one. */
static int count_params(const char *open, const char *close) {
  int n = 1;
  for (const char *p = open; p < close; p++) {
    if (p[0] == '/' && p[1] == '*') {
      const char *end = strstr(p + 2, "*/");
      if (!end) break;
      p = end + 1;
    } else if (*p == ',') {
      n++;
    }
  }
  return n;
}

/* One "kernel NAME NARGS [sync]" line per __global__ function of src. */
static void describe(const char *src, FILE *out) {
  static const char mark[] = "__global__ void ";
  for (const char *p = strstr(src, mark); p; p = strstr(p + 1, mark)) {
    const char *name = p + strlen(mark), *open = strchr(name, '('), *close = strstr(name, ") {");
    const char *next = strstr(p + 1, mark), *sync = strstr(name, "__syncthreads");
    if (!open || !close) continue;
    bool uses = sync && (!next || sync < next);
    fprintf(out, "kernel %.*s %d%s\n", (int)(open - name), name, count_params(open, close), uses ? " sync" : "");
  }
}

int nvrtcCompileProgram(void *p, int n, const char *const *opts) {
  (void)n, (void)opts;
  Prog *g = p;
  char dir[] = "/tmp/dlc-emu-XXXXXX", cmd[4096], path[256];
  if (!mkdtemp(dir)) return g->log = strdup("emulator: mkdtemp failed"), 6;
  snprintf(path, sizeof path, "%s/k.cu", dir);
  FILE *f = fopen(path, "w");
  if (!f) return g->log = strdup("emulator: cannot write the source"), 6;
  fputs(g->src, f);
  fclose(f);
  const char *cxx = getenv("DLC_EMU_CXX");
  snprintf(cmd, sizeof cmd, "cd %s && %s -std=c++17 -O0 -w -shared -fPIC -include '%s' -x c++ k.cu -o k.so >log 2>&1",
           dir, cxx && *cxx ? cxx : "c++", EMU_KERNEL_H);
  int st = system(cmd);
  snprintf(path, sizeof path, "%s/log", dir);
  g->log = read_file(path);
  snprintf(cmd, sizeof cmd, "rm -f %s/k.cu %s/log", dir, dir);
  if (system(cmd) || st) { /* emu_cuda.c removes the folder once it has loaded k.so */
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "emulator: could not remove %s\n", dir);
    return 6;
  }
  size_t size = 0;
  FILE *out = open_memstream(&g->ptx, &size);
  fprintf(out, "DLC-EMU %s/k.so\n", dir);
  describe(g->src, out);
  fclose(out);
  return 0;
}

int nvrtcGetProgramLogSize(void *p, size_t *n) {
  Prog *g = p;
  *n = g->log ? strlen(g->log) + 1 : 1;
  return 0;
}

int nvrtcGetProgramLog(void *p, char *log) {
  Prog *g = p;
  strcpy(log, g->log ? g->log : "");
  return 0;
}

int nvrtcGetPTXSize(void *p, size_t *n) {
  Prog *g = p;
  *n = strlen(g->ptx) + 1;
  return 0;
}

int nvrtcGetPTX(void *p, char *ptx) {
  Prog *g = p;
  strcpy(ptx, g->ptx);
  return 0;
}
