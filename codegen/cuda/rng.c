/* rng.c — rng_uniform and rng_normal: the counter-based numbers of the interpreter and
 * the C backend (runtime/rng.c, codegen/c/grad_rng.c), one thread per element.
 *
 * Element i of step s is number s * numel + i of stream `seed`: a Philox4x32-10 block
 * of counter number / 4 (uniform: 24 bits of one word) or number / 2 (normal:
 * Box-Muller over two words, in double), so every element is computed alone and the
 * device draws exactly the numbers the CPU draws. */
#include <inttypes.h>

#include "cuda.h"

/* w[4]: the Philox block of counter ctr under the node's seed. */
static void philox(CuEmit *ce, uint64_t seed, int depth) {
  CEmit *c = &ce->c;
  cgen_line(c, depth, "uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = 0, c3 = 0;");
  cgen_line(c, depth, "uint32_t k0 = 0x%08" PRIx32 "u, k1 = 0x%08" PRIx32 "u;", (uint32_t)seed,
            (uint32_t)(seed >> 32));
  cgen_line(c, depth, "for (int r = 0; r < 10; r++) {");
  cgen_line(c, depth + 1, "const uint64_t m0 = (uint64_t)0xD2511F53u * c0, m1 = (uint64_t)0xCD9E8D57u * c2;");
  cgen_line(c, depth + 1, "c0 = (uint32_t)(m1 >> 32) ^ c1 ^ k0;");
  cgen_line(c, depth + 1, "c1 = (uint32_t)m1;");
  cgen_line(c, depth + 1, "c2 = (uint32_t)(m0 >> 32) ^ c3 ^ k1;");
  cgen_line(c, depth + 1, "c3 = (uint32_t)m0;");
  cgen_line(c, depth + 1, "k0 += 0x9E3779B9u;");
  cgen_line(c, depth + 1, "k1 += 0xBB67AE85u;");
  cgen_line(c, depth, "}");
  cgen_line(c, depth, "const uint32_t w[4] = {c0, c1, c2, c3};");
}

int cuda_rng(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  uint64_t seed = (uint64_t)node_int(n, A_SEED), m = (uint64_t)shape_numel(&n->shape);
  bool normal = n->op == OP_RNG_NORMAL;
  const char *t = cgen_ctype(n);
  int depth = cuda_grid_loop(ce, l, "i", (int64_t)m, 1);
  cgen_line(&ce->c, depth, "const uint64_t num = (uint64_t)(int64_t)buf%d[0] * %" PRIu64 "u + (uint64_t)i;", n->in[0], m);
  cgen_line(&ce->c, depth, "const uint64_t ctr = num / %d;", normal ? 2 : 4);
  philox(ce, seed, depth);
  if (normal) {
    cgen_line(&ce->c, depth, "const int at = (int)(num %% 2) * 2;");
    cgen_line(&ce->c, depth, "const double u1 = ((double)(w[at] >> 8) + 1.0) * (1.0 / 16777216.0);");
    cgen_line(&ce->c, depth, "const double u2 = (double)(w[at + 1] >> 8) * (1.0 / 16777216.0);");
    cgen_line(&ce->c, depth, "const %s v%d = (%s)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));", t, n->id, t);
  } else {
    cgen_line(&ce->c, depth, "const %s v%d = (%s)((double)(w[num %% 4] >> 8) * (1.0 / 16777216.0));", t, n->id, t);
  }
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}
