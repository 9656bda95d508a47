/* rt_cuda.h — libdlcrt's CUDA loader: the driver API and NVRTC, opened with dlopen at
 * run time, so that nothing links against CUDA and a machine without it still runs
 * every CPU path.
 *
 * Sections: NVRTC alone (what `dlc compile --target cuda --cuda-aot` and the tests
 * use; no GPU needed), and a device context for generated code (open, memory, launch,
 * close).  Every CUDA and NVRTC call goes through a wrapper that records the call's
 * name, the file and line, the kernel it was for and, for NVRTC, the program log.
 *
 * Generated code declares the functions it calls itself (so it needs no include
 * path) and is built with:  cc model.c -ldlcrt -ldl
 *
 * Libraries searched: $DLC_NVRTC (a path), libnvrtc.so, libnvrtc.so.13, .so.12,
 * .so.11.2, then the same names under $CUDA_HOME/lib64, $CUDA_PATH/lib64 and
 * /usr/local/cuda/lib64; libcuda.so.1, then libcuda.so.
 *
 * Compiled PTX is cached on disk in $DLC_CUDA_CACHE, else $XDG_CACHE_HOME/dlc, else
 * ~/.cache/dlc, one file per hash of the source, the architecture and the NVRTC
 * version.  DLC_CUDA_CACHE=off turns the cache off; a cache that cannot be read or
 * written is skipped, never fatal.
 */
#ifndef RT_CUDA_H
#define RT_CUDA_H

#include <stddef.h>

#include "dlc_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- NVRTC alone --------------------------------------------------------------- */

/* Whether libnvrtc can be opened; 0, or -1 with e saying what was tried. */
int rt_nvrtc_load(DlcErr *e);

/* Compiles CUDA C source to PTX for arch ("sm_90", or "compute_90"), through the disk
 * cache unless use_cache is 0.  *ptx (malloc'd, NUL-terminated) on success; *log
 * (malloc'd, possibly empty: NVRTC's warnings) when log is not NULL.  -1 with e
 * holding the call's name and NVRTC's log when compilation fails. */
int rt_nvrtc_compile(const char *src, const char *arch, int use_cache, char **ptx, char **log,
                     DlcErr *e);

/* ---- a device context, for generated code -------------------------------------- */

/* Whether a CUDA driver and at least one device are there; 0, or -1 with e saying
 * what is missing ("no CUDA driver (tried libcuda.so.1, ...)", "no CUDA device"). */
int rt_cuda_probe(DlcErr *e);

typedef struct RtCuda RtCuda;

/* Opens the CUDA driver and device $DLC_CUDA_DEVICE (default 0), and loads one module:
 * the PTX given as lines (ptx_lines > 0), else the source lines compiled by NVRTC for
 * the device's architecture.  kernels[0..nk) are the kernel names that
 * rt_cuda_launch refers to by index.  NULL on failure: rt_cuda_last_error says why
 * (e.g. "no CUDA driver: libcuda.so.1: cannot open shared object file"). */
RtCuda *rt_cuda_open(const char *const *src, int src_lines, const char *const *ptx, int ptx_lines,
                     const char *const *kernels, int nk);

/* Device memory, zeroed (DLC_CUDA_POISON=1: filled with 0xff bytes, so that what a
 * kernel leaves unwritten shows as NaN); freed by rt_cuda_close.  0, or -1. */
int rt_cuda_alloc(RtCuda *c, size_t bytes, unsigned long long *ptr);
/* Copies queued on the context's stream; 0 or -1. */
int rt_cuda_upload(RtCuda *c, unsigned long long dst, const void *src, size_t bytes);
int rt_cuda_download(RtCuda *c, void *dst, unsigned long long src, size_t bytes);
int rt_cuda_memset(RtCuda *c, unsigned long long dst, unsigned char value, size_t bytes);
/* Device to device; the two ranges must not overlap. */
int rt_cuda_copy(RtCuda *c, unsigned long long dst, unsigned long long src, size_t bytes);
/* Launches kernel k with a grid of gx*gy*gz blocks of `block` threads; args as for
 * cuLaunchKernel (one pointer per parameter).  0 or -1. */
int rt_cuda_launch(RtCuda *c, int k, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                   unsigned shmem, void **args);
/* Waits for everything queued; reports a failure of any launch before it.  0 or -1. */
int rt_cuda_sync(RtCuda *c);
/* Frees the memory, the module and the stream; NULL is ignored. */
void rt_cuda_close(RtCuda *c);

/* The last failure of an rt_cuda_ call in this thread, as one line. */
const char *rt_cuda_last_error(void);

/* The device's architecture ("sm_90") once opened; the name of the device. */
const char *rt_cuda_arch(const RtCuda *c);
const char *rt_cuda_device_name(const RtCuda *c);

#ifdef __cplusplus
}
#endif

#endif
