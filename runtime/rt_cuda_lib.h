/* rt_cuda_lib.h — private to the CUDA loader (rt_cuda*.c): the few driver and NVRTC
 * types and entry points it uses, declared here rather than taken from the toolkit's
 * headers, so the runtime builds where CUDA is absent.  Each table row is
 *
 *   X(field, exported symbol, parameter list)
 *
 * and every function returns the library's status code (an int). */
#ifndef RT_CUDA_LIB_H
#define RT_CUDA_LIB_H

#include <stddef.h>

#include "rt_cuda.h"

typedef int CUresult;        /* CUDA_SUCCESS is 0 */
typedef int CUdevice;
typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUfunction;
typedef void *CUstream;
typedef unsigned long long CUdeviceptr;
typedef int nvrtcResult;     /* NVRTC_SUCCESS is 0 */
typedef void *nvrtcProgram;

enum { /* CUdevice_attribute values */
  RT_CU_ATTR_SM_COUNT = 16,
  RT_CU_ATTR_CC_MAJOR = 75,
  RT_CU_ATTR_CC_MINOR = 76,
};

#define RT_CU_FUNCS(X)                                                                    \
  X(Init, "cuInit", (unsigned flags))                                                     \
  X(DeviceGetCount, "cuDeviceGetCount", (int *count))                                     \
  X(DeviceGet, "cuDeviceGet", (CUdevice *dev, int ordinal))                               \
  X(DeviceGetAttribute, "cuDeviceGetAttribute", (int *v, int attr, CUdevice dev))         \
  X(DeviceGetName, "cuDeviceGetName", (char *name, int len, CUdevice dev))                \
  X(PrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext *ctx, CUdevice dev))         \
  X(PrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice dev))                    \
  X(CtxSetCurrent, "cuCtxSetCurrent", (CUcontext ctx))                                    \
  X(StreamCreate, "cuStreamCreate", (CUstream *s, unsigned flags))                        \
  X(StreamDestroy, "cuStreamDestroy_v2", (CUstream s))                                    \
  X(StreamSynchronize, "cuStreamSynchronize", (CUstream s))                               \
  X(ModuleLoadData, "cuModuleLoadData", (CUmodule *m, const void *image))                 \
  X(ModuleUnload, "cuModuleUnload", (CUmodule m))                                         \
  X(ModuleGetFunction, "cuModuleGetFunction", (CUfunction *f, CUmodule m, const char *n)) \
  X(MemAlloc, "cuMemAlloc_v2", (CUdeviceptr *p, size_t bytes))                            \
  X(MemFree, "cuMemFree_v2", (CUdeviceptr p))                                             \
  X(MemsetD8Async, "cuMemsetD8Async", (CUdeviceptr p, unsigned char v, size_t n, CUstream s)) \
  X(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2",                                              \
    (CUdeviceptr dst, const void *src, size_t n, CUstream s))                             \
  X(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", (void *dst, CUdeviceptr src, size_t n, CUstream s)) \
  X(MemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2",                                              \
    (CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s))                             \
  X(LaunchKernel, "cuLaunchKernel",                                                       \
    (CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,       \
     unsigned bz, unsigned shmem, CUstream s, void **params, void **extra))               \
  X(GetErrorName, "cuGetErrorName", (CUresult r, const char **name))

#define RT_NVRTC_FUNCS(X)                                                                 \
  X(Version, "nvrtcVersion", (int *major, int *minor))                                    \
  X(GetNumSupportedArchs, "nvrtcGetNumSupportedArchs", (int *n))                          \
  X(GetSupportedArchs, "nvrtcGetSupportedArchs", (int *archs))                            \
  X(CreateProgram, "nvrtcCreateProgram",                                                  \
    (nvrtcProgram * p, const char *src, const char *name, int nh, const char *const *h,   \
     const char *const *hn))                                                              \
  X(DestroyProgram, "nvrtcDestroyProgram", (nvrtcProgram * p))                            \
  X(CompileProgram, "nvrtcCompileProgram", (nvrtcProgram p, int n, const char *const *opts)) \
  X(GetProgramLogSize, "nvrtcGetProgramLogSize", (nvrtcProgram p, size_t *n))             \
  X(GetProgramLog, "nvrtcGetProgramLog", (nvrtcProgram p, char *log))                     \
  X(GetPTXSize, "nvrtcGetPTXSize", (nvrtcProgram p, size_t *n))                           \
  X(GetPTX, "nvrtcGetPTX", (nvrtcProgram p, char *ptx))

typedef struct RtCuLib {
#define X(field, sym, params) CUresult(*field) params;
  RT_CU_FUNCS(X)
#undef X
} RtCuLib;

typedef struct RtNvrtcLib {
  const char *(*GetErrorString)(nvrtcResult r); /* the one entry that returns no status */
#define X(field, sym, params) nvrtcResult(*field) params;
  RT_NVRTC_FUNCS(X)
#undef X
} RtNvrtcLib;

/* rt_cuda_lib.c: the libraries, opened once per process; NULL with e set. */
const RtCuLib *rt_cu_lib(DlcErr *e);
const RtNvrtcLib *rt_nvrtc_lib(DlcErr *e);

/* rt_cuda_cache.c: PTX by key; NULL when absent or unreadable.  Stores are best effort. */
char *rt_cuda_cache_get(unsigned long long key);
void rt_cuda_cache_put(unsigned long long key, const char *ptx);
unsigned long long rt_cuda_hash(const void *p, size_t n, unsigned long long h);
#define RT_CUDA_HASH_BASIS 14695981039346656037ULL

/* rt_cuda.c: records a failure for rt_cuda_last_error and copies it into e. */
int rt_cuda_fail(DlcErr *e, const char *fmt, ...) DLC_PRINTF(2, 3);

#endif
