/* conv_wino.c — 3x3 stride-1 convolutions by Winograd's F(2x2, 3x3).
 *
 * Each 2x2 block of outputs (a "tile") comes from a 4x4 window d of the padded input:
 * Y = A^T [ sum_c (G g_oc G^T) . (B^T d_c B) ] A, where . is the elementwise product of
 * 4x4 matrices.  So a conv of O x C x 9 taps over T tiles becomes 16 products
 * M[e] (O x T) = U[e] (O x C) V[e] (C x T), one per element e of the 4x4 transform,
 * 16 multiply-adds per tile and channel pair instead of 9 x 4:
 *   - U = G g G^T, the weight transformed and packed once (pack.c: baked in, or by
 *     NAME_init from a weights file) in the tile's row panels, [16][O / MR][C][MR];
 *   - per image, x padded into scratch P [C][2 TH + 2][2 TW + 2] (TH, TW: tiles down and
 *     across, an odd size's last tile half outside y), then V = B^T d B for every
 *     tile and channel into V [16][C][Tp] (T rounded up to whole panels, zeros after);
 *   - the 16 products through the register tile (tile.h) into M [16][O][Tp];
 *   - Y = A^T m A per tile and output channel, each output through the epilogue.
 * Not a reassociation of the direct sum: the transforms add and halve values, so
 * results differ from the im2col path by a few ulps of the inputs' scale (about
 * 1e-6 relative here), the same for every run and thread count.  Used for f32 on the
 * targets with a vector tile, one group, and enough tiles that the
 * 16 products are clearly fewer multiply-adds than the 9 taps (wino_shape). */
#include <inttypes.h>
#include <string.h>

#include "conv.h"

/* G g G^T of a 3x3 kernel g (row-major), in float, in this order of operations: pack.c
 * evaluates it at compile time and dlc_pack_weights in the generated code, the same. */
static const char *const wino_u_text =
    "  float t[4][3];\n"
    "  for (int j = 0; j < 3; j++) {\n"
    "    t[0][j] = g[j];\n"
    "    t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);\n"
    "    t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);\n"
    "    t[3][j] = g[6 + j];\n"
    "  }\n"
    "  for (int i = 0; i < 4; i++) {\n"
    "    u[i * 4 + 0] = t[i][0];\n"
    "    u[i * 4 + 1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);\n"
    "    u[i * 4 + 2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);\n"
    "    u[i * 4 + 3] = t[i][2];\n"
    "  }\n";

void conv_wino_u(const float g[9], float u[16]) {
  float t[4][3];
  for (int j = 0; j < 3; j++) {
    t[0][j] = g[j];
    t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
    t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
    t[3][j] = g[6 + j];
  }
  for (int i = 0; i < 4; i++) {
    u[i * 4 + 0] = t[i][0];
    u[i * 4 + 1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
    u[i * 4 + 2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
    u[i * 4 + 3] = t[i][2];
  }
}

/* static void dlc_wino_u(const float *g, float *u), once per file that packs at init. */
void conv_wino_u_code(CEmit *ce) {
  cgen_printf(ce, "\n/* G g G^T of a 3x3 kernel (conv_wino.c). */\n");
  cgen_printf(ce, "static void dlc_wino_u(const float *restrict g, float *restrict u) {\n%s}\n", wino_u_text);
}

typedef struct Wino {
  int64_t c, o, opad;     /* input, output channels; o rounded up to whole row panels */
  int64_t oh, ow, th, tw; /* output size, tiles down and across */
  int64_t t, tp;          /* tiles, rounded up to whole panels */
  int64_t ph, pw;         /* the padded plane */
  int64_t slot;           /* scratch elements per image */
} Wino;

static Wino wino_of(const Conv *c) {
  Wino z = {.c = c->cg, .o = c->og, .oh = c->w.out[0], .ow = c->w.out[1]};
  z.opad = conv_round_up(z.o, c->mr);
  z.th = (z.oh + 1) / 2, z.tw = (z.ow + 1) / 2, z.t = z.th * z.tw, z.tp = conv_round_up(z.t, c->nr);
  z.ph = 2 * z.th + 2, z.pw = 2 * z.tw + 2;
  z.slot = z.c * z.ph * z.pw + 16 * z.c * z.tp + 16 * z.o * z.tp + CGEN_SLOTS * 4 * z.tw;
  return z;
}

static bool wino_shape(const CEmit *ce, const Conv *c) {
  const Win *w = &c->w;
  if (ce->device || strcmp(c->t, "float") || !cgen_tile_vector(ce, DT_F32)) return false;
  if (c->nr % ce->cpu->vw || w->nsp != 2 || c->groups != 1) return false;
  for (int d = 0; d < 2; d++)
    if (w->k[d] != 3 || w->stride[d] != 1 || w->dil[d] != 1 || w->out[d] < 2) return false;
  if (c->cg < 32 || c->og < 8) return false; /* fewer channels: the transforms cost more than they save */
  Wino z = wino_of(c);
  /* 16 products over whole panels against 9 taps over the positions: at least 1.5x fewer */
  if (16.0 * (double)z.tp * 1.5 > 9.0 * (double)c->q) return false;
  return z.slot * 4 <= 4 * (int64_t)CONV_ROW_MAX_BYTES; /* 64 MiB of scratch per image */
}

bool conv_wino_shape(const CEmit *ce, const Node *n) {
  if (ce->device) return false; /* the CUDA backend has its own convolutions (and no CPU target) */
  if (n->op != OP_CONV || n->shape.rank != 4 || shape_numel(&n->shape) <= 0) return false;
  const Shape *x = &cgen_in(ce, n, 0)->shape, *wt = &cgen_in(ce, n, 1)->shape;
  Epi ep = epi_plain(n);
  Conv c = conv_of(ce, n, &ep, x, wt, n->shape.d + 2);
  return wino_shape(ce, &c);
}

int64_t conv_wino_count(const CEmit *ce, const Node *n) {
  const Shape *wt = &cgen_in(ce, n, 1)->shape;
  int64_t mr = cgen_tile_mr(ce, DT_F32);
  return 16 * conv_round_up(wt->d[0], mr) * wt->d[1];
}

/* U[e][o / MR][c][o % MR] = (G g_oc G^T)[e], zero for o >= O. */
void conv_wino_fill(const CEmit *ce, const Node *n, const float *w, float *u) {
  const Shape *wt = &cgen_in(ce, n, 1)->shape;
  int64_t o = wt->d[0], c = wt->d[1], mr = cgen_tile_mr(ce, DT_F32), opad = conv_round_up(o, mr);
  memset(u, 0, (size_t)conv_wino_count(ce, n) * sizeof *u);
  for (int64_t oo = 0; oo < o; oo++)
    for (int64_t cc = 0; cc < c; cc++) {
      float v[16];
      conv_wino_u(w + (oo * c + cc) * 9, v);
      for (int e = 0; e < 16; e++) u[e * opad * c + (oo / mr * c + cc) * mr + oo % mr] = v[e];
    }
}

/* The same, in NAME_init: src and dst are in scope. */
void conv_wino_fill_code(CEmit *ce, const Node *n, int depth) {
  const Shape *wt = &cgen_in(ce, n, 1)->shape;
  int64_t o = wt->d[0], c = wt->d[1], mr = cgen_tile_mr(ce, DT_F32), opad = conv_round_up(o, mr);
  cgen_line(ce, depth, "memset(dst, 0, %" PRId64 " * sizeof(float));", conv_wino_count(ce, n));
  cgen_line(ce, depth, "for (int64_t oo = 0; oo < %" PRId64 "; oo++)", o);
  cgen_line(ce, depth + 1, "for (int64_t cc = 0; cc < %" PRId64 "; cc++) {", c);
  cgen_line(ce, depth + 2, "float v[16];");
  cgen_line(ce, depth + 2, "dlc_wino_u(src + (oo * %" PRId64 " + cc) * 9, v);", c);
  cgen_line(ce, depth + 2, "for (int e = 0; e < 16; e++) dst[e * %" PRId64 " + (oo / %" PRId64 " * %" PRId64 " + cc) * %" PRId64 " + oo %% %" PRId64 "] = v[e];",
            opad * c, mr, c, mr, mr);
  cgen_line(ce, depth + 1, "}");
}

bool conv_wino_wanted(const CEmit *ce, const Conv *c) { return wino_shape(ce, c) && pack_b_wanted(ce, c->n); }

int64_t conv_wino_scratch(const Conv *c, bool slots) {
  return (slots ? CGEN_SLOTS : 1) * wino_of(c).slot * 4;
}

/* P[ci][r][j] = x[ci][r - pad_top][j - pad_left], zero outside x. */
static void pad_planes(CEmit *ce, const Conv *c, const Wino *z, int depth) {
  const Win *w = &c->w;
  int64_t pt = w->pad[0], pl = w->pad[1], h = w->in[0], wi = w->in[1];
  int64_t a = pl < z->pw ? pl : z->pw, b = pl + wi < z->pw ? pl + wi : z->pw;
  if (c->inside) cgen_par_for(ce, depth);
  cgen_line(ce, depth, "for (int64_t ci = 0; ci < %" PRId64 "; ci++)", z->c);
  cgen_line(ce, depth + 1, "for (int64_t r = 0; r < %" PRId64 "; r++) {", z->ph);
  cgen_line(ce, depth + 2, "float *restrict pr = P + (ci * %" PRId64 " + r) * %" PRId64 ";", z->ph, z->pw);
  cgen_line(ce, depth + 2, "const int64_t ih = r - %" PRId64 ";", pt);
  cgen_line(ce, depth + 2, "if (ih < 0 || ih >= %" PRId64 ") {", h);
  cgen_line(ce, depth + 3, "for (int64_t j = 0; j < %" PRId64 "; j++) pr[j] = 0;", z->pw);
  cgen_line(ce, depth + 3, "continue;");
  cgen_line(ce, depth + 2, "}");
  if (a > 0) cgen_line(ce, depth + 2, "for (int64_t j = 0; j < %" PRId64 "; j++) pr[j] = 0;", a);
  if (b > a) /* a memcpy: gcc 12.2 -O3 miscompiles the loop (conv.c, run_copy) */
    cgen_line(ce, depth + 2, "memcpy(pr + %" PRId64 ", X + (ci * %" PRId64 " + ih) * %" PRId64 " + %" PRId64 ", %" PRId64 " * sizeof(float));",
              a, h, wi, a - pl, b - a);
  if (z->pw > b) cgen_line(ce, depth + 2, "for (int64_t j = %" PRId64 "; j < %" PRId64 "; j++) pr[j] = 0;", b, z->pw);
  cgen_line(ce, depth + 1, "}");
}

/* The transforms' loops, once per file (tile_prelude): functions of their own with
 * restrict arguments, so that gcc vectorises the loop over a row of tiles (its loads
 * have stride 2, its stores stride 1); inside the kernel, with pointers into one
 * scratch, it did not. */
static const char *const wino_helpers =
    "\n/* Winograd F(2x2, 3x3) (conv_wino.c): V = B^T d B of one channel's tiles, from its padded plane. */\n"
    "DLC_KERNEL __attribute__((noinline, unused)) static void dlc_wino_in(int64_t th, int64_t tw, int64_t pw,\n"
    "    int64_t ct, const float *restrict pc, float *restrict vc) {\n"
    "  for (int64_t ty = 0; ty < th; ty++) {\n"
    "    const float *restrict d0 = pc + ty * 2 * pw, *restrict d1 = d0 + pw, *restrict d2 = d1 + pw, *restrict d3 = d2 + pw;\n"
    "    float *restrict vt = vc + ty * tw;\n"
    "    for (int64_t tx = 0; tx < tw; tx++) {\n"
    "      const float *restrict a = d0 + tx * 2, *restrict b = d1 + tx * 2, *restrict c = d2 + tx * 2, *restrict d = d3 + tx * 2;\n"
    "      const float r00 = a[0] - c[0], r10 = b[0] + c[0], r20 = c[0] - b[0], r30 = b[0] - d[0];\n"
    "      const float r01 = a[1] - c[1], r11 = b[1] + c[1], r21 = c[1] - b[1], r31 = b[1] - d[1];\n"
    "      const float r02 = a[2] - c[2], r12 = b[2] + c[2], r22 = c[2] - b[2], r32 = b[2] - d[2];\n"
    "      const float r03 = a[3] - c[3], r13 = b[3] + c[3], r23 = c[3] - b[3], r33 = b[3] - d[3];\n"
    "      vt[0 * ct + tx] = r00 - r02, vt[1 * ct + tx] = r01 + r02, vt[2 * ct + tx] = r02 - r01, vt[3 * ct + tx] = r01 - r03;\n"
    "      vt[4 * ct + tx] = r10 - r12, vt[5 * ct + tx] = r11 + r12, vt[6 * ct + tx] = r12 - r11, vt[7 * ct + tx] = r11 - r13;\n"
    "      vt[8 * ct + tx] = r20 - r22, vt[9 * ct + tx] = r21 + r22, vt[10 * ct + tx] = r22 - r21, vt[11 * ct + tx] = r21 - r23;\n"
    "      vt[12 * ct + tx] = r30 - r32, vt[13 * ct + tx] = r31 + r32, vt[14 * ct + tx] = r32 - r31, vt[15 * ct + tx] = r31 - r33;\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n/* Y = A^T m A of one output channel's row of tiles, into two rows of r, ow apart. */\n"
    "DLC_KERNEL __attribute__((noinline, unused)) static void dlc_wino_out(int64_t tw, int64_t ow, int64_t ot,\n"
    "    const float *restrict mt, float *restrict r) {\n"
    "  for (int64_t tx = 0; tx < tw; tx++) {\n"
    "    float s0[4], s1[4];\n"
    "    for (int j = 0; j < 4; j++) {\n"
    "      const float m0 = mt[j * ot + tx], m1 = mt[(4 + j) * ot + tx], m2 = mt[(8 + j) * ot + tx], m3 = mt[(12 + j) * ot + tx];\n"
    "      s0[j] = m0 + m1 + m2, s1[j] = m1 - m2 - m3;\n"
    "    }\n"
    "    r[tx * 2] = s0[0] + s0[1] + s0[2], r[tx * 2 + 1] = s0[1] - s0[2] - s0[3];\n"
    "    r[ow + tx * 2] = s1[0] + s1[1] + s1[2], r[ow + tx * 2 + 1] = s1[1] - s1[2] - s1[3];\n"
    "  }\n"
    "}\n";

void conv_wino_helpers(CEmit *ce) { cgen_printf(ce, "%s", wino_helpers); }

/* V[e][ci][tt] = (B^T d B)[e] for the 4x4 window d of tile tt; zero for tt >= T. */
static void input_transform(CEmit *ce, const Conv *c, const Wino *z, int depth) {
  int64_t ct = z->c * z->tp;
  if (c->inside) cgen_par_for(ce, depth);
  cgen_line(ce, depth, "for (int64_t ci = 0; ci < %" PRId64 "; ci++) {", z->c);
  cgen_line(ce, depth + 1, "float *restrict vc = V + ci * %" PRId64 ";", z->tp);
  cgen_line(ce, depth + 1, "dlc_wino_in(%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ", P + ci * %" PRId64 ", vc);",
            z->th, z->tw, z->pw, ct, z->ph * z->pw);
  if (z->tp > z->t) {
    cgen_line(ce, depth + 1, "for (int e = 0; e < 16; e++)");
    cgen_line(ce, depth + 2, "for (int64_t tt = %" PRId64 "; tt < %" PRId64 "; tt++) vc[e * %" PRId64 " + tt] = 0;", z->t,
              z->tp, ct);
  }
  cgen_line(ce, depth, "}");
}

/* M[e] = U[e] V[e]: per panel of tiles, the output channels in register tiles. */
static void products(CEmit *ce, const Conv *c, const Wino *z, const char *u, int depth) {
  int64_t ofull = z->o - z->o % c->mr;
  char end[32];
  snprintf(end, sizeof end, "%" PRId64, ofull);
  Rows r = {.begin = "0", .end = end, .rem = z->o % c->mr, .rem_at = z->o % c->mr ? end : NULL};
  Tile t = {.t = "float", .nr = c->nr, .nstore = c->nr, .depth = z->c, .a = "ue", .a_pack = c->mr,
            .panel = "ve + jc", .pstride = z->tp, .col0 = "jc"};
  Epi ep = epi_to(c->n, "me", z->tp, 1, false);
  if (c->inside) cgen_par_for(ce, depth);
  cgen_line(ce, depth, "for (int64_t ej = 0; ej < %" PRId64 "; ej++) {", 16 * (z->tp / c->nr));
  cgen_line(ce, depth + 1, "const int64_t e = ej / %" PRId64 ", jp = ej %% %" PRId64 ", jc = jp * %d;", z->tp / c->nr,
            z->tp / c->nr, c->nr);
  cgen_line(ce, depth + 1, "const float *restrict ue = %s + e * %" PRId64 ";", u, z->opad * z->c);
  cgen_line(ce, depth + 1, "const float *restrict ve = V + e * %" PRId64 ";", z->c * z->tp);
  cgen_line(ce, depth + 1, "float *restrict me = M + e * %" PRId64 ";", z->o * z->tp);
  tile_rows(ce, &t, &r, &ep, depth + 1);
  cgen_line(ce, depth, "}");
}

/* Y = A^T m A per tile and output channel: a row of tiles into two rows of R, then
 * each output through the epilogue, row by row. */
static void output_transform(CEmit *ce, const Conv *c, const Wino *z, int depth) {
  int64_t ot = z->o * z->tp;
  char col[96];
  if (c->inside) cgen_par_for_slots(ce, depth); /* a row buffer R per thread */
  cgen_line(ce, depth, "for (int64_t o = 0; o < %" PRId64 "; o++) {", z->o);
  cgen_line(ce, depth + 1, "float *restrict R = M + %" PRId64 " + %s * %" PRId64 ";", 16 * ot,
            c->inside ? "DLC_SLOT()" : "0", 4 * z->tw);
  cgen_line(ce, depth + 1, "for (int64_t ty = 0; ty < %" PRId64 "; ty++) {", z->th);
  cgen_line(ce, depth + 2, "dlc_wino_out(%" PRId64 ", %" PRId64 ", %" PRId64 ", M + o * %" PRId64 " + ty * %" PRId64 ", R);",
            z->tw, 2 * z->tw, ot, z->tp, z->tw);
  for (int i = 0; i < 2; i++) { /* an odd height's last tile has one row inside y */
    char v[48];
    int d = depth + 2 + (i && z->oh % 2);
    if (i && z->oh % 2) cgen_line(ce, depth + 2, "if (ty * 2 + 1 < %" PRId64 ")", z->oh);
    cgen_line(ce, d, "for (int64_t j = 0; j < %" PRId64 "; j++) {", z->ow);
    snprintf(v, sizeof v, "R[%" PRId64 " + j]", i * 2 * z->tw);
    snprintf(col, sizeof col, "(ty * 2 + %d) * %" PRId64 " + j", i, z->ow);
    epi_store(ce, c->ep, d + 1, v, "o", col);
    cgen_line(ce, d, "}");
  }
  cgen_line(ce, depth + 1, "}");
  cgen_line(ce, depth, "}");
}

/* One image: X (its channels) and the scratch `scratch` in scope. */
void conv_wino_emit(CEmit *ce, const Conv *c, const char *u, const char *scratch, int depth) {
  Wino z = wino_of(c);
  cgen_line(ce, depth, "float *restrict P = %s; /* x padded: [%" PRId64 "][%" PRId64 "][%" PRId64 "] */", scratch, z.c,
            z.ph, z.pw);
  cgen_line(ce, depth, "float *restrict V = P + %" PRId64 "; /* B^T d B: [16][%" PRId64 "][%" PRId64 "] */",
            z.c * z.ph * z.pw, z.c, z.tp);
  cgen_line(ce, depth, "float *restrict M = V + %" PRId64 "; /* U V: [16][%" PRId64 "][%" PRId64 "] */", 16 * z.c * z.tp,
            z.o, z.tp);
  pad_planes(ce, c, &z, depth);
  input_transform(ce, c, &z, depth);
  products(ce, c, &z, u, depth);
  output_transform(ce, c, &z, depth);
}
