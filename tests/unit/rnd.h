/* rnd.h — the tests' own random numbers: xorshift64* (Vigna), deterministic and
 * independent of dlc's RNG, so a test draws the same values on every machine and the
 * tolerances tuned to them keep holding.  The caller owns the state, any nonzero
 * uint64_t, and seeds it its own way.  rnd_next steps the state and returns the raw 64
 * bits; rnd_unit is uniform in [0, 1) from their top 53, rnd_sym uniform in [-1, 1). */
#ifndef DLC_TEST_RND_H
#define DLC_TEST_RND_H

#include <stdint.h>

static inline uint64_t rnd_next(uint64_t *s) {
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

static inline double rnd_unit(uint64_t *s) { return (double)(rnd_next(s) >> 11) / 9007199254740992.0; }

static inline double rnd_sym(uint64_t *s) { return rnd_unit(s) * 2 - 1; }

#endif
