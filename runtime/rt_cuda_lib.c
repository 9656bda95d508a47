/* rt_cuda_lib.c — opens libcuda and libnvrtc with dlopen, once per process, and
 * resolves the entry points of the tables in rt_cuda_lib.h.
 *
 * Nothing links against CUDA: where a library is missing, the first caller gets one
 * line that names every file tried and the loader's last complaint, and so does every
 * later caller (the outcome is remembered). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_cuda_lib.h"

typedef struct Loaded {
  pthread_once_t once;
  void *handle;
  char why[DLC_ERR_MAX]; /* the failure, when handle is NULL */
} Loaded;

static Loaded cu_loaded = {PTHREAD_ONCE_INIT, NULL, ""};
static Loaded nvrtc_loaded = {PTHREAD_ONCE_INIT, NULL, ""};
static RtCuLib cu;
static RtNvrtcLib nvrtc;

/* dlsym's result converts to a function pointer (POSIX); memcpy says so without a
 * cast that pedantic compilers flag. */
static int resolve(void *h, const char *sym, void *fn, size_t size, char *why, size_t n) {
  void *p = dlsym(h, sym);
  if (!p) return snprintf(why, n, "%s", dlerror()), -1;
  memcpy(fn, &p, size);
  return 0;
}

/* Tries each name in turn; appends each failure to `tried`. */
static void *open_first(const char *const *names, int count, char *tried, size_t n) {
  for (int i = 0; i < count; i++) {
    if (!names[i] || !names[i][0]) continue;
    void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (h) return h;
    size_t k = strlen(tried);
    snprintf(tried + k, n - k, "%s%s", k ? ", " : "", names[i]);
  }
  return NULL;
}

static void load_cu(void) {
  static const char *const names[] = {"libcuda.so.1", "libcuda.so"};
  char tried[512] = "";
  void *h = open_first(names, 2, tried, sizeof tried);
  if (!h) {
    snprintf(cu_loaded.why, sizeof cu_loaded.why, "no CUDA driver (tried %s): %s", tried, dlerror());
    return;
  }
  char why[256];
#define X(field, sym, params)                                                                  \
  if (resolve(h, sym, &cu.field, sizeof cu.field, why, sizeof why)) {                          \
    snprintf(cu_loaded.why, sizeof cu_loaded.why, "the CUDA driver lacks %s: %s", sym, why);   \
    return;                                                                                    \
  }
  RT_CU_FUNCS(X)
#undef X
  cu_loaded.handle = h;
}

/* The NVRTC names to try: $DLC_NVRTC, the sonames, then the toolkit folders. */
static int nvrtc_names(char (*buf)[512], int max) {
  static const char *const sonames[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
                                        "libnvrtc.so.11.2"};
  const char *dirs[] = {getenv("CUDA_HOME"), getenv("CUDA_PATH"), "/usr/local/cuda"};
  int n = 0;
  const char *env = getenv("DLC_NVRTC");
  if (env && *env && n < max) snprintf(buf[n++], sizeof buf[0], "%s", env);
  for (int i = 0; i < 4 && n < max; i++) snprintf(buf[n++], sizeof buf[0], "%s", sonames[i]);
  for (int d = 0; d < 3; d++)
    for (int i = 0; i < 4 && dirs[d] && *dirs[d] && n < max; i++)
      snprintf(buf[n++], sizeof buf[0], "%s/lib64/%s", dirs[d], sonames[i]);
  return n;
}

static void load_nvrtc(void) {
  char names[24][512], tried[DLC_ERR_MAX / 2] = "";
  const char *list[24];
  int n = nvrtc_names(names, 24);
  for (int i = 0; i < n; i++) list[i] = names[i];
  void *h = open_first(list, n, tried, sizeof tried);
  if (!h) {
    snprintf(nvrtc_loaded.why, sizeof nvrtc_loaded.why, "no NVRTC (tried %s)", tried);
    return;
  }
  char why[256];
  if (resolve(h, "nvrtcGetErrorString", &nvrtc.GetErrorString, sizeof nvrtc.GetErrorString, why,
              sizeof why)) {
    snprintf(nvrtc_loaded.why, sizeof nvrtc_loaded.why, "NVRTC lacks nvrtcGetErrorString: %s", why);
    return;
  }
#define X(field, sym, params)                                                                 \
  if (resolve(h, sym, &nvrtc.field, sizeof nvrtc.field, why, sizeof why)) {                   \
    snprintf(nvrtc_loaded.why, sizeof nvrtc_loaded.why, "NVRTC lacks %s: %s", sym, why);      \
    return;                                                                                   \
  }
  RT_NVRTC_FUNCS(X)
#undef X
  nvrtc_loaded.handle = h;
}

const RtCuLib *rt_cu_lib(DlcErr *e) {
  pthread_once(&cu_loaded.once, load_cu);
  if (!cu_loaded.handle) return rt_cuda_fail(e, "%s", cu_loaded.why), NULL;
  return &cu;
}

const RtNvrtcLib *rt_nvrtc_lib(DlcErr *e) {
  pthread_once(&nvrtc_loaded.once, load_nvrtc);
  if (!nvrtc_loaded.handle) return rt_cuda_fail(e, "%s", nvrtc_loaded.why), NULL;
  return &nvrtc;
}

int rt_nvrtc_load(DlcErr *e) { return rt_nvrtc_lib(e) ? 0 : -1; }
