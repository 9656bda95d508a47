/* rt_cuda.c — a device context for generated code: the driver, the device's primary
 * context, one stream, one module of kernels, and the device memory made through it.
 *
 * Every driver call goes through CU_CHECK, which records the call's name, its
 * status's name (CUDA_ERROR_...), the file and line and, for a launch, the kernel. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_cuda_lib.h"

struct RtCuda {
  const RtCuLib *cu;
  CUdevice dev;
  CUcontext ctx;          /* the primary context, retained */
  CUstream stream;
  CUmodule module;
  int nk;
  CUfunction *fn;         /* [nk] */
  const char *const *names; /* [nk], the caller's */
  int nmem, capmem;
  CUdeviceptr *mem;       /* every allocation, freed by rt_cuda_close */
  char arch[16];          /* "sm_90" */
  char name[256];         /* the device's */
};

static _Thread_local char last_error[DLC_ERR_MAX];

const char *rt_cuda_last_error(void) { return last_error; }

int rt_cuda_fail(DlcErr *e, const char *fmt, ...) {
  char msg[DLC_ERR_MAX]; /* an argument may be last_error itself */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  memcpy(last_error, msg, sizeof msg);
  if (e) snprintf(e->msg, sizeof e->msg, "%s", last_error);
  return -1;
}

#define CU_CHECK(c, call, what) cu_check((c)->cu, (c)->cu->call, "cu" #call, what, __FILE__, __LINE__)
static int cu_check(const RtCuLib *cu, CUresult r, const char *call, const char *what,
                    const char *file, int line) {
  if (r == 0) return 0;
  const char *name = NULL;
  if (cu->GetErrorName(r, &name) || !name) name = "an unknown CUDA error";
  if (what) return rt_cuda_fail(NULL, "%s: %s: %s (%s:%d)", what, call, name, file, line);
  return rt_cuda_fail(NULL, "%s: %s (%s:%d)", call, name, file, line);
}

/* ---- opening ---- */

int rt_cuda_probe(DlcErr *e) {
  const RtCuLib *cu = rt_cu_lib(e);
  int count = 0;
  if (!cu) return -1;
  RtCuda probe = {.cu = cu};
  if (CU_CHECK(&probe, Init(0), "starting the CUDA driver") || CU_CHECK(&probe, DeviceGetCount(&count), NULL))
    return rt_cuda_fail(e, "%s", last_error);
  return count > 0 ? 0 : rt_cuda_fail(e, "no CUDA device: the driver reports none");
}

static int pick_device(RtCuda *c) {
  const char *env = getenv("DLC_CUDA_DEVICE");
  int count = 0, ordinal = env && *env ? atoi(env) : 0;
  if (CU_CHECK(c, Init(0), NULL) || CU_CHECK(c, DeviceGetCount(&count), NULL)) return -1;
  if (count <= 0) return rt_cuda_fail(NULL, "no CUDA device: the driver reports none");
  if (ordinal < 0 || ordinal >= count)
    return rt_cuda_fail(NULL, "DLC_CUDA_DEVICE=%s: there are %d devices", env, count);
  int major = 0, minor = 0;
  if (CU_CHECK(c, DeviceGet(&c->dev, ordinal), NULL) ||
      CU_CHECK(c, DeviceGetAttribute(&major, RT_CU_ATTR_CC_MAJOR, c->dev), NULL) ||
      CU_CHECK(c, DeviceGetAttribute(&minor, RT_CU_ATTR_CC_MINOR, c->dev), NULL) ||
      CU_CHECK(c, DeviceGetName(c->name, (int)sizeof c->name, c->dev), NULL))
    return -1;
  snprintf(c->arch, sizeof c->arch, "sm_%d%d", major, minor);
  if (CU_CHECK(c, PrimaryCtxRetain(&c->ctx, c->dev), NULL)) return c->ctx = NULL, -1;
  return CU_CHECK(c, CtxSetCurrent(c->ctx), NULL) || CU_CHECK(c, StreamCreate(&c->stream, 0), NULL);
}

static char *join(const char *const *lines, int n) {
  size_t size = 1;
  for (int i = 0; i < n; i++) size += strlen(lines[i]);
  char *s = dlc_try_malloc(size), *p = s;
  for (int i = 0; s && i < n; i++) p += strlen(strcpy(p, lines[i]));
  if (s) *p = 0;
  return s;
}

/* The module's PTX: the embedded lines, or NVRTC's output for this device. */
static char *module_ptx(RtCuda *c, const char *const *src, int src_lines, const char *const *ptx,
                        int ptx_lines) {
  if (ptx_lines > 0) return join(ptx, ptx_lines);
  char *text = join(src, src_lines), *out = NULL;
  if (!text) return rt_cuda_fail(NULL, "out of memory"), NULL;
  rt_nvrtc_compile(text, c->arch, 1, &out, NULL, NULL);
  free(text);
  return out;
}

static int load_module(RtCuda *c, const char *ptx) {
  if (CU_CHECK(c, ModuleLoadData(&c->module, ptx), "loading the kernels' PTX")) {
    c->module = NULL;
    if (strstr(last_error, "UNSUPPORTED_PTX_VERSION")) /* NVRTC newer than the driver */
      rt_cuda_fail(NULL, "%.600s; the driver is older than the NVRTC that made the PTX: update the driver, "
                         "or point DLC_NVRTC at an NVRTC no newer than it", last_error);
    return -1;
  }
  c->fn = dlc_try_calloc((size_t)(c->nk ? c->nk : 1), sizeof *c->fn);
  if (!c->fn) return rt_cuda_fail(NULL, "out of memory");
  for (int k = 0; k < c->nk; k++)
    if (CU_CHECK(c, ModuleGetFunction(&c->fn[k], c->module, c->names[k]), c->names[k])) return -1;
  return 0;
}

RtCuda *rt_cuda_open(const char *const *src, int src_lines, const char *const *ptx, int ptx_lines,
                     const char *const *kernels, int nk) {
  const RtCuLib *cu = rt_cu_lib(NULL);
  if (!cu) return NULL;
  RtCuda *c = dlc_try_calloc(1, sizeof *c);
  if (!c) return rt_cuda_fail(NULL, "out of memory"), NULL;
  c->cu = cu, c->nk = nk, c->names = kernels;
  char *text = pick_device(c) ? NULL : module_ptx(c, src, src_lines, ptx, ptx_lines);
  int st = text ? load_module(c, text) : -1;
  free(text);
  if (st) {
    char keep[DLC_ERR_MAX];
    memcpy(keep, last_error, sizeof keep); /* closing must not hide the cause */
    rt_cuda_close(c);
    rt_cuda_fail(NULL, "%s", keep);
    return NULL;
  }
  return c;
}

/* ---- memory and launches ---- */

/* The calling thread may not be the one that opened c. */
static int bind(RtCuda *c) { return CU_CHECK(c, CtxSetCurrent(c->ctx), NULL); }

int rt_cuda_alloc(RtCuda *c, size_t bytes, unsigned long long *ptr) {
  if (c->nmem == c->capmem) {
    int cap = c->capmem ? 2 * c->capmem : 16;
    CUdeviceptr *m = dlc_try_realloc(c->mem, (size_t)cap * sizeof *m);
    if (!m) return rt_cuda_fail(NULL, "out of memory");
    c->mem = m, c->capmem = cap;
  }
  if (bind(c) || CU_CHECK(c, MemAlloc(ptr, bytes ? bytes : 1), NULL)) return -1;
  c->mem[c->nmem++] = *ptr;
  const char *poison = getenv("DLC_CUDA_POISON");
  return rt_cuda_memset(c, *ptr, poison && *poison && strcmp(poison, "0") ? 0xff : 0, bytes);
}

int rt_cuda_upload(RtCuda *c, unsigned long long dst, const void *src, size_t bytes) {
  if (!bytes) return 0;
  return bind(c) || CU_CHECK(c, MemcpyHtoDAsync(dst, src, bytes, c->stream), NULL) ? -1 : 0;
}

int rt_cuda_download(RtCuda *c, void *dst, unsigned long long src, size_t bytes) {
  if (!bytes) return 0;
  return bind(c) || CU_CHECK(c, MemcpyDtoHAsync(dst, src, bytes, c->stream), NULL) ? -1 : 0;
}

int rt_cuda_copy(RtCuda *c, unsigned long long dst, unsigned long long src, size_t bytes) {
  if (!bytes) return 0;
  return bind(c) || CU_CHECK(c, MemcpyDtoDAsync(dst, src, bytes, c->stream), NULL) ? -1 : 0;
}

int rt_cuda_memset(RtCuda *c, unsigned long long dst, unsigned char value, size_t bytes) {
  if (!bytes) return 0;
  return bind(c) || CU_CHECK(c, MemsetD8Async(dst, value, bytes, c->stream), NULL) ? -1 : 0;
}

int rt_cuda_launch(RtCuda *c, int k, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                   unsigned shmem, void **args) {
  if (k < 0 || k >= c->nk) return rt_cuda_fail(NULL, "rt_cuda_launch: no kernel %d", k);
  if (bind(c)) return -1;
  return CU_CHECK(c, LaunchKernel(c->fn[k], gx, gy, gz, block, 1, 1, shmem, c->stream, args, NULL),
                  c->names[k]);
}

int rt_cuda_sync(RtCuda *c) {
  return bind(c) || CU_CHECK(c, StreamSynchronize(c->stream), "running the kernels") ? -1 : 0;
}

void rt_cuda_close(RtCuda *c) {
  if (!c) return;
  if (c->ctx) {
    c->cu->CtxSetCurrent(c->ctx);
    if (c->stream) c->cu->StreamSynchronize(c->stream);
    for (int i = 0; i < c->nmem; i++) c->cu->MemFree(c->mem[i]);
    if (c->module) c->cu->ModuleUnload(c->module);
    if (c->stream) c->cu->StreamDestroy(c->stream);
    c->cu->PrimaryCtxRelease(c->dev);
  }
  free(c->mem);
  free(c->fn);
  free(c);
}

const char *rt_cuda_arch(const RtCuda *c) { return c->arch; }
const char *rt_cuda_device_name(const RtCuda *c) { return c->name; }
