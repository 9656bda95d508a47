/* rt_cuda_nvrtc.c — CUDA C to PTX through NVRTC, with the disk cache in front.
 *
 * The architecture is asked for as a virtual one (compute_XY), so the result is PTX
 * that the driver finishes for the device at load time, also for later devices.  The
 * cache key covers the source, the architecture, the options and NVRTC's version, so
 * a new toolkit never meets an old entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_cuda_lib.h"

/* One wrapper for every NVRTC call: the call's name, file and line on failure. */
#define NVRTC_CHECK(call, e)                                                     \
  nvrtc_check(lib, lib->call, #call, __FILE__, __LINE__, e)
static int nvrtc_check(const RtNvrtcLib *lib, nvrtcResult r, const char *call, const char *file,
                       int line, DlcErr *e) {
  if (r == 0) return 0;
  return rt_cuda_fail(e, "nvrtc%s: %s (%s:%d)", call, lib->GetErrorString(r), file, line);
}

static const char *const options_fmt[] = {"--gpu-architecture=compute_%s", "--std=c++17",
                                          "-default-device"};
#define NOPTS 3

/* "sm_90", "compute_90" or "90" -> "90"; NULL when it is none of those. */
static const char *arch_digits(const char *arch) {
  if (!strncmp(arch, "sm_", 3)) arch += 3;
  else if (!strncmp(arch, "compute_", 8)) arch += 8;
  if (!*arch || strlen(arch) > 4) return NULL;
  for (const char *p = arch; *p; p++)
    if ((*p < '0' || *p > '9') && !(p[1] == 0 && p != arch && (*p == 'a' || *p == 'f'))) return NULL;
  return arch;
}

/* A device newer than this NVRTC knows gets PTX for the newest architecture NVRTC has
 * below it, which the driver compiles for the device (PTX runs on later devices). */
static const char *clamp_arch(const RtNvrtcLib *lib, const char *digits, char *buf, size_t n) {
  int count = 0, want = atoi(digits), best = -1;
  if (digits[strspn(digits, "0123456789")] || lib->GetNumSupportedArchs(&count) || count <= 0 || count > 256)
    return digits; /* a suffixed architecture (90a) is taken as asked */
  int archs[256];
  if (lib->GetSupportedArchs(archs)) return digits;
  for (int i = 0; i < count; i++) {
    if (archs[i] == want) return digits;
    if (archs[i] < want && archs[i] > best) best = archs[i];
  }
  if (best < 0) return digits; /* older than any: NVRTC says so when it compiles */
  snprintf(buf, n, "%d", best);
  return buf;
}

static unsigned long long cache_key(const RtNvrtcLib *lib, const char *src, const char *digits) {
  int major = 0, minor = 0;
  lib->Version(&major, &minor);
  char tag[64];
  snprintf(tag, sizeof tag, "|compute_%s|nvrtc %d.%d", digits, major, minor);
  unsigned long long h = rt_cuda_hash(src, strlen(src), RT_CUDA_HASH_BASIS);
  for (int i = 0; i < NOPTS; i++) h = rt_cuda_hash(options_fmt[i], strlen(options_fmt[i]), h);
  return rt_cuda_hash(tag, strlen(tag), h);
}

static char *program_log(const RtNvrtcLib *lib, nvrtcProgram p) {
  size_t n = 0;
  if (lib->GetProgramLogSize(p, &n)) n = 0;
  char *log = dlc_try_calloc(n + 1, 1);
  if (log && n && lib->GetProgramLog(p, log)) log[0] = 0;
  return log;
}

static int get_ptx(const RtNvrtcLib *lib, nvrtcProgram p, char **ptx, DlcErr *e) {
  size_t n = 0;
  if (NVRTC_CHECK(GetPTXSize(p, &n), e)) return -1;
  *ptx = calloc(n + 1, 1);
  if (!*ptx) return rt_cuda_fail(e, "nvrtc: out of memory for %zu bytes of PTX", n);
  if (NVRTC_CHECK(GetPTX(p, *ptx), e)) return free(*ptx), *ptx = NULL, -1;
  return 0;
}

/* Compiles; on failure e holds the call, NVRTC's status and the log's first lines. */
static int compile(const RtNvrtcLib *lib, const char *src, const char *digits, char **ptx,
                   char **log, DlcErr *e) {
  nvrtcProgram p = NULL;
  char opts[NOPTS][64];
  const char *optv[NOPTS];
  for (int i = 0; i < NOPTS; i++) snprintf(opts[i], sizeof opts[i], options_fmt[i], digits), optv[i] = opts[i];
  if (NVRTC_CHECK(CreateProgram(&p, src, "dlc_model.cu", 0, NULL, NULL), e)) return -1;
  nvrtcResult r = lib->CompileProgram(p, NOPTS, optv);
  char *text = program_log(lib, p);
  int st = 0;
  if (r) {
    st = rt_cuda_fail(e, "nvrtcCompileProgram for compute_%s: %s (%s:%d): %.500s", digits,
                      lib->GetErrorString(r), __FILE__, __LINE__, text ? text : "");
  } else {
    st = get_ptx(lib, p, ptx, e);
  }
  lib->DestroyProgram(&p);
  if (log && !st) *log = text;
  else free(text);
  return st;
}

int rt_nvrtc_compile(const char *src, const char *arch, int use_cache, char **ptx, char **log,
                     DlcErr *e) {
  const RtNvrtcLib *lib = rt_nvrtc_lib(e);
  const char *digits = arch ? arch_digits(arch) : NULL;
  *ptx = NULL;
  if (log) *log = NULL;
  if (!lib) return -1;
  if (!digits) return rt_cuda_fail(e, "nvrtc: '%s' is not an architecture like sm_90", arch ? arch : "");
  char clamped[16];
  digits = clamp_arch(lib, digits, clamped, sizeof clamped);
  unsigned long long key = cache_key(lib, src, digits);
  if (use_cache && (*ptx = rt_cuda_cache_get(key))) {
    if (log && !(*log = dlc_try_calloc(1, 1))) return free(*ptx), *ptx = NULL, rt_cuda_fail(e, "out of memory");
    return 0;
  }
  if (compile(lib, src, digits, ptx, log, e)) return -1;
  if (use_cache) rt_cuda_cache_put(key, *ptx);
  return 0;
}
