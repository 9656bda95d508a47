/* dlc_rng.h — counter-based random numbers (Philox4x32-10).
 *
 * Stateless: the n-th number of stream `seed` is a pure function of (seed, n), so
 * initialisers, dropout masks and data shuffles are reproducible on every backend
 * and in any order of evaluation. */
#ifndef DLC_RNG_H
#define DLC_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Four 32-bit words for counter `ctr` under key `seed`. */
void rt_philox(uint64_t seed, uint64_t ctr, uint32_t out[4]);
/* Uniform in [0, 1) with 24 random bits: the n-th of stream seed. */
double rt_rand_uniform(uint64_t seed, uint64_t n);
/* Standard normal (Box-Muller over one Philox block): the n-th of stream seed. */
double rt_rand_normal(uint64_t seed, uint64_t n);

#ifdef __cplusplus
}
#endif

#endif
