/* grad_rng.c — rng_uniform and rng_normal: counter-based random numbers, the same ones
 * the interpreter draws (runtime/rng.c).
 *
 * Generated code is self-contained, so each kernel carries its own Philox4x32-10: element
 * i of step s is number s * numel + i of stream `seed`; uniform takes 24 bits of one
 * word of a Philox block, normal is Box-Muller over two words, in double, as
 * rt_rand_uniform and rt_rand_normal compute them. */
#include <inttypes.h>

#include "cgen_c.h"

/* w[4]: the Philox block of counter ctr under the node's seed. */
static void philox(CEmit *ce, uint64_t seed, int depth) {
  cgen_line(ce, depth, "uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = 0, c3 = 0;");
  cgen_line(ce, depth, "uint32_t k0 = 0x%08" PRIx32 "u, k1 = 0x%08" PRIx32 "u;", (uint32_t)seed,
            (uint32_t)(seed >> 32));
  cgen_line(ce, depth, "for (int r = 0; r < 10; r++) {");
  cgen_line(ce, depth + 1,
            "const uint64_t m0 = (uint64_t)0xD2511F53u * c0, m1 = (uint64_t)0xCD9E8D57u * c2;");
  cgen_line(ce, depth + 1, "c0 = (uint32_t)(m1 >> 32) ^ c1 ^ k0;");
  cgen_line(ce, depth + 1, "c1 = (uint32_t)m1;");
  cgen_line(ce, depth + 1, "c2 = (uint32_t)(m0 >> 32) ^ c3 ^ k1;");
  cgen_line(ce, depth + 1, "c3 = (uint32_t)m0;");
  cgen_line(ce, depth + 1, "k0 += 0x9E3779B9u;");
  cgen_line(ce, depth + 1, "k1 += 0xBB67AE85u;");
  cgen_line(ce, depth, "}");
  cgen_line(ce, depth, "const uint32_t w[4] = {c0, c1, c2, c3};");
}

int cgen_rng(CEmit *ce, const Node *n) {
  uint64_t seed = (uint64_t)node_int(n, A_SEED), m = (uint64_t)shape_numel(&n->shape);
  bool normal = n->op == OP_RNG_NORMAL;
  const char *t = cgen_ctype(n);
  cgen_line(ce, 1, "const uint64_t base = (uint64_t)(int64_t)a0[0] * %" PRIu64 "u;", m);
  cgen_line(ce, 1, "for (uint64_t i = 0; i < %" PRIu64 "u; i++) {", m);
  cgen_line(ce, 2, "const uint64_t num = base + i, ctr = num / %d;", normal ? 2 : 4);
  philox(ce, seed, 2);
  if (normal) {
    cgen_line(ce, 2, "const int at = (int)(num %% 2) * 2;");
    cgen_line(ce, 2, "const double u1 = ((double)(w[at] >> 8) + 1.0) * (1.0 / 16777216.0);");
    cgen_line(ce, 2, "const double u2 = (double)(w[at + 1] >> 8) * (1.0 / 16777216.0);");
    cgen_line(ce, 2, "y[i] = (%s)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));", t);
  } else {
    cgen_line(ce, 2, "y[i] = (%s)((double)(w[num %% 4] >> 8) * (1.0 / 16777216.0));", t);
  }
  cgen_line(ce, 1, "}");
  return 0;
}
