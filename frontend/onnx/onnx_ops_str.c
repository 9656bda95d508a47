/* onnx_ops_str.c — the string operators over the str core ops (ir/ops.def, "strings"):
 * StringConcat, StringNormalizer, StringSplit.  Equal on strings is in onnx_ops_elem.c, LabelEncoder's
 * string keys and values in onnx_ops_ml.c.  docs/ONNX.md, "Strings". */
#include <string.h>

#include "onnx_fe.h"

static int str_const(OnnxCtx *c, const char *const *v, int64_t n) {
  Shape s = {.rank = 1, .d = {n}};
  return ir_const(c->g, NULL, DT_STR, s, v);
}

static int need_str(OnnxCtx *c, OnnxNode *n, int i) {
  if (dtype_of(c, n->in[i]) == DT_STR) return 0;
  return onnx_fail(c, n, "input %d is %s, not string", i + 1, dtype_name(dtype_of(c, n->in[i])));
}

int onnx_StringConcat(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2) || need_str(c, n, 0) || need_str(c, n, 1)) return -1;
  ONNX_TRY(c, n, n->out[0] = ir_binary(c->g, OP_STR_CONCAT, n->in[0], n->in[1]));
  return 0;
}

static int str_case(OnnxCtx *c, int x, bool upper) {
  Attr a = attr_int(A_UPPER, upper);
  return x < 0 ? -1 : ir_add(c->g, OP_STR_CASE, &x, 1, &a, 1);
}

/* x [C] without the stopwords: the kept strings first, padded to C, with their count
 * (at least 1: when every string is a stopword the result is one empty string, as
 * ONNX's reference and ONNX Runtime give).  stops are compared with x as `cmp` holds it. */
static int drop_stopwords(OnnxCtx *c, OnnxNode *n, int x, int cmp, int stops, int *count) {
  Graph *g = c->g;
  int64_t C = shape_of(c, x)->d[0], col[2] = {C, 1}, flat = C, none = 0;
  int hit = bin(c, OP_STR_EQ, reshape(c, cmp, col, 2), stops); /* [C, K] */
  int64_t ax = 1;
  int any = hit < 0 ? -1 : ir_reduce(g, OP_REDUCE_MAX, ir_cast(g, hit, DT_I32), &ax, 1, false);
  int keep = bin(c, OP_EQ, any, ir_scalar(g, DT_I32, 0)), idx = -1, y = -1, k = -1, empty = -1;
  if (keep >= 0) idx = ir_add(g, OP_NONZERO, &keep, 1, NULL, 0); /* [1, C] */
  if (idx >= 0) idx = reshape(c, idx, &flat, 1);
  if (idx >= 0) {
    Attr a = attr_int(A_AXIS, 0);
    int in[2] = {x, idx};
    y = ir_add(g, OP_GATHER, in, 2, &a, 1);
  }
  if (keep >= 0) k = onnx_count_nonzero(g, keep);
  if (k >= 0) empty = bin(c, OP_EQ, k, ir_scalar(g, DT_I64, 0));
  const char *blank = "";
  int e0 = empty < 0 ? -1 : ir_const(g, NULL, DT_STR, (Shape){0}, &blank);
  ONNX_TRY(c, n, y = e0 < 0 || y < 0 ? -1 : ir_select(g, empty, e0, y));
  ONNX_TRY(c, n, *count = bin(c, OP_MAX, k, ir_scalar(g, DT_I64, 1)));
  (void)none;
  return y;
}

/* StringNormalizer: [C] or [1, C]; stopwords dropped (case-sensitively or not), then
 * the case changed.  Case mapping and case-insensitive comparison: ASCII, Latin-1 and
 * basic Cyrillic letters (ir/str.c); `locale` must name a locale whose case mapping
 * that is (en_US, C, or none). */
int onnx_StringNormalizer(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_str(c, n, 0)) return -1;
  const char *act = onnx_attr_str(c, n, "case_change_action", "NONE");
  int mode = !strcmp(act, "NONE") ? 0 : !strcmp(act, "LOWER") ? 1 : !strcmp(act, "UPPER") ? 2 : -1;
  if (mode < 0) return onnx_fail(c, n, "attribute 'case_change_action' is '%.64s', not NONE, LOWER or UPPER", act);
  int64_t sensitive = onnx_attr_int(n, "is_case_sensitive", 0);
  const char *locale = onnx_attr_str(c, n, "locale", "");
  if (*locale && strcmp(locale, "en_US") && strcmp(locale, "en_US.UTF-8") && strcmp(locale, "C"))
    return onnx_fail(c, n, "attribute 'locale' is '%.64s': dlc maps case as en_US does for ASCII, Latin-1 and "
                     "basic Cyrillic letters only (give en_US, C, or no locale)", locale);
  const char **stop;
  int nstop = onnx_attr_strs(c, n, "stopwords", &stop);
  if (nstop == -2) return -1;
  int x = n->in[0];
  const Shape *s = shape_of(c, x);
  if (!(s->rank == 1 || (s->rank == 2 && s->d[0] == 1)))
    return onnx_fail(c, n, "the input is %s-shaped: StringNormalizer takes [C] or [1, C]", s->rank == 2 ? "[N, C]" : "other");
  bool two = s->rank == 2;
  int64_t C = s->d[s->rank - 1];
  if (two) ONNX_TRY(c, n, x = reshape(c, x, &C, 1));
  int y = x, count = -1;
  if (nstop > 0 && C > 0) {
    int cmp = x;
    if (!sensitive) {
      ONNX_TRY(c, n, cmp = str_case(c, x, false));
      for (int i = 0; i < nstop; i++) {
        char *low = arena_alloc(c->g->arena, strlen(stop[i]) + 1);
        str_case_map(stop[i], low, false);
        stop[i] = low;
      }
    }
    int64_t row[2] = {1, nstop};
    int stops = reshape(c, str_const(c, stop, nstop), row, 2);
    ONNX_TRY(c, n, stops);
    if ((y = drop_stopwords(c, n, x, cmp, stops, &count)) < 0) return -1;
  }
  if (mode) ONNX_TRY(c, n, y = str_case(c, y, mode == 2));
  if (two) {
    int64_t d[2] = {1, C};
    ONNX_TRY(c, n, y = reshape(c, y, d, 2));
  }
  if (count >= 0) onnx_dyn_mark(c, y, count, two ? 1 : 0);
  n->out[0] = y;
  return 0;
}

/* StringSplit: Y, X's shape + [the most pieces of any string], padded with "", and Z,
 * the pieces of each.  Y is padded to a bound known at compile time: maxsplit + 1, or
 * --split-pieces (default 64) when that is smaller or maxsplit is absent; a string with
 * more pieces fails the run (NAME_ERR_STRINGS).  Y's real length is an output of its own
 * (docs/ONNX.md, "Data-dependent lengths"). */
int onnx_StringSplit(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_str(c, n, 0)) return -1;
  const Onnx__AttributeProto *a = onnx_attr(n, "delimiter");
  const char *delim = "";
  if (a && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
    return onnx_fail(c, n, "attribute 'delimiter' must be a string");
  if (a && a->has_s && !(delim = onnx_bytes_str(c, &a->s)))
    return onnx_fail(c, n, "attribute 'delimiter' holds a NUL byte");
  int64_t most = onnx_attr_int(n, "maxsplit", -1);
  if (most < 0) most = -1;
  int64_t bound = most >= 0 && most < ir_limits.split_pieces ? most + 1 : ir_limits.split_pieces;
  int x = n->in[0], d, y, z, count;
  ONNX_TRY(c, n, d = ir_const(c->g, NULL, DT_STR, (Shape){0}, &delim));
  int in[2] = {x, d};
  Attr ya[4] = {attr_int(A_MAXSPLIT, most), attr_int(A_PART, 0), attr_int(A_BOUND, bound), attr_dtype(A_DTYPE, DT_STR)};
  Attr za[4] = {attr_int(A_MAXSPLIT, most), attr_int(A_PART, 1), attr_int(A_BOUND, bound), attr_dtype(A_DTYPE, DT_I64)};
  ONNX_TRY(c, n, y = ir_add(c->g, OP_STR_SPLIT, in, 2, ya, 4));
  ONNX_TRY(c, n, z = ir_add(c->g, OP_STR_SPLIT, in, 2, za, 4));
  int64_t all = shape_numel(shape_of(c, x)), ax = 0;
  int flat = reshape(c, z, &all, 1);
  ONNX_TRY(c, n, count = bin(c, OP_MAX, flat < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_MAX, flat, &ax, 1, false),
                            ir_scalar(c->g, DT_I64, 0)));
  onnx_dyn_mark(c, y, count, shape_of(c, x)->rank);
  n->out[0] = y;
  if (n->nout > 1) n->out[1] = z;
  return 0;
}
