/* emu_kernel.h — what CUDA C needs to compile as C++ for the CPU emulator of the
 * tests (emu_nvrtc.c includes it before a model's kernels).  Threads are fibers of
 * one OS thread (or one loop, for kernels without __syncthreads), and the emulator
 * sets the coordinates below each time a fiber resumes; blocks run one after another,
 * so a __shared__ array can be a static one. */
#include <cmath>
#include <cstring>

struct dlc_emu_dim3 {
  unsigned x, y, z;
};

static thread_local dlc_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
static void (*dlc_emu_barrier)(void);

extern "C" void dlc_emu_bind(void (*barrier)(void)) { dlc_emu_barrier = barrier; }

/* Sets the calling thread's coordinates: block b[3], thread t, block size bd, grid g[3]. */
extern "C" void dlc_emu_set(const unsigned *b, unsigned t, unsigned bd, const unsigned *g) {
  blockIdx = {b[0], b[1], b[2]};
  threadIdx = {t, 0, 0};
  blockDim = {bd, 1, 1};
  gridDim = {g[0], g[1], g[2]};
}

struct alignas(16) float4 {
  float x, y, z, w;
};

static inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

static inline float __uint_as_float(unsigned int u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

static inline unsigned int __float_as_uint(float f) {
  unsigned int u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

static inline long long __double_as_longlong(double d) {
  long long u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

static inline double __longlong_as_double(long long u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

#define __global__
#define __device__
#define __shared__ static
#define __restrict__ __restrict
#define __syncthreads() dlc_emu_barrier()

/* The kernels typedef the fixed-width names themselves (NVRTC has no headers); the C
 * library already did, with other types, so theirs get names of their own here. */
#define int8_t dlc_emu_int8_t
#define int16_t dlc_emu_int16_t
#define int32_t dlc_emu_int32_t
#define int64_t dlc_emu_int64_t
#define uint8_t dlc_emu_uint8_t
#define uint16_t dlc_emu_uint16_t
#define uint32_t dlc_emu_uint32_t
#define uint64_t dlc_emu_uint64_t
