/* header.c — the generated header: the model's whole user interface.  Sizes as
 * macros, status codes, and the typed and untyped entry points. */
#include <string.h>

#include "cgen_c.h"

/* Parameter names must not be keywords (or `m`, the model), nor start with a digit. */
static bool reserved(const char *s) {
  static const char *const words[] = {
      "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
      "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
      "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
      "typedef", "union", "unsigned", "void", "volatile", "while", "m", "in", "out"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (!strcmp(s, words[i])) return true;
  return !s[0] || (s[0] >= '0' && s[0] <= '9') || s[0] == '_';
}

const Node *cgen_io_node(const CEmit *ce, int which, bool output) {
  return ce->g->nodes[output ? ce->g->out[which] : ir_input_id(ce->g, which)];
}

const char *cgen_io_name(const CEmit *ce, int which, bool output) {
  return output ? ce->g->out_name[which] : cgen_io_node(ce, which, false)->name;
}

void cgen_param_name(const CEmit *ce, int which, bool output, char *buf, size_t n) {
  char id[160];
  cgen_ident(cgen_io_name(ce, which, output), false, id, sizeof id);
  snprintf(buf, n, "%s%s", reserved(id) ? "v_" : "", id);
}

static void size_macro(const CEmit *ce, int which, bool output, char *buf, size_t n) {
  char id[160];
  cgen_ident(cgen_io_name(ce, which, output), true, id, sizeof id);
  snprintf(buf, n, "%s_%s_SIZE", ce->uname, id);
}

/* Two inputs or outputs whose names differ only in characters C cannot spell would
 * define one macro twice. */
static int check_names(CEmit *ce) {
  int ni = ir_num_inputs(ce->g), total = ni + ir_num_model_outputs(ce->g);
  for (int a = 0; a < total; a++)
    for (int b = a + 1; b < total; b++) {
      char ma[300], mb[300], pa[300], pb[300];
      size_macro(ce, a < ni ? a : a - ni, a >= ni, ma, sizeof ma);
      size_macro(ce, b < ni ? b : b - ni, b >= ni, mb, sizeof mb);
      cgen_param_name(ce, a < ni ? a : a - ni, a >= ni, pa, sizeof pa);
      cgen_param_name(ce, b < ni ? b : b - ni, b >= ni, pb, sizeof pb);
      if (!strcmp(ma, mb) || !strcmp(pa, pb))
        return dlc_errf(ce->e, "cgen: inputs and outputs '%s' and '%s' map to one C name (%s)",
                        cgen_io_name(ce, a < ni ? a : a - ni, a >= ni),
                        cgen_io_name(ce, b < ni ? b : b - ni, b >= ni), pa);
    }
  return 0;
}

static void io_macros(CEmit *ce, bool output) {
  int count = output ? ir_num_model_outputs(ce->g) : ir_num_inputs(ce->g);
  for (int i = 0; i < count; i++) {
    const Node *n = cgen_io_node(ce, i, output);
    char mac[300], name[256], shp[160];
    size_macro(ce, i, output, mac, sizeof mac);
    cgen_printf(ce, "/* %s '%s': %s %s", output ? "output" : "input",
                cgen_comment_name(cgen_io_name(ce, i, output), name, sizeof name),
                dtype_name(n->dtype), cgen_shape(&n->shape, shp, sizeof shp));
    const Graph *g = ce->g;
    if (output && i < g->nout && g->out_count && g->out_count[i] >= 0)
      cgen_printf(ce, ",\n * padded: axis %d holds as many entries as output '%s' says", g->out_axis[i],
                  cgen_comment_name(g->out_name[g->out_count[i]], name, sizeof name));
    if (output && i < g->nout && g->out_keys && g->out_keys[i] >= 0)
      cgen_printf(ce, ",\n * maps: row i holds map i's values, for the keys in output '%s'",
                  cgen_comment_name(g->out_name[g->out_keys[i]], name, sizeof name));
    cgen_printf(ce, " */\n#define %s %lld\n", mac, (long long)shape_numel(&n->shape));
  }
}

void cgen_typed_params(CEmit *ce) {
  for (int out = 0; out < 2; out++) {
    int count = out ? ir_num_model_outputs(ce->g) : ir_num_inputs(ce->g);
    for (int i = 0; i < count; i++) {
      char p[300];
      if (!out && !cgen_infer_input(ce, i)) continue;
      cgen_param_name(ce, i, out, p, sizeof p);
      cgen_printf(ce, ", %s%s *%s", out ? "" : "const ", dtype_ctype(cgen_io_node(ce, i, out)->dtype), p);
    }
  }
}

static void status_codes(CEmit *ce) {
  const char *u = ce->uname;
  cgen_printf(ce, "\n/* Status codes of %s_init, %s_infer and %s_run; %s_strerror words them. */\n",
              ce->o->name, ce->o->name, ce->o->name, ce->o->name);
  cgen_printf(ce, "enum {\n  %s_OK = 0,\n", u);
  cgen_printf(ce, "  %s_ERR_NOMEM = 1,        /* out of memory */\n", u);
  cgen_printf(ce, "  %s_ERR_WEIGHTS_OPEN = 2, /* the weights file is missing or unreadable */\n", u);
  cgen_printf(ce, "  %s_ERR_WEIGHTS_BAD = 3,  /* the weights file (or linked blob) has the wrong size, format or hash */\n", u);
  cgen_printf(ce, "  %s_ERR_WEIGHTS_ARG = 4,  /* a weights file given when embedded, or none when not */\n", u);
  cgen_printf(ce, "  %s_ERR_INDEX = 5,        /* an index read from the data is out of range (a gather or scatter index, TopK's k), or a Loop would run past --max-trip */\n", u);
  cgen_printf(ce, "  %s_ERR_STRINGS = 8,      /* a string op failed: the string heap is full (--string-heap), a split has more pieces than its bound (--split-pieces), a pattern met a non-ASCII string, a case change an unmapped letter, a string cast to a number holds none */\n", u);
  if (!ce->device)
    cgen_printf(ce, "  %s_ERR_CPU = 7           /* this CPU lacks the instructions of the code's target, %s */\n",
                u, ce->cpu->name);
  if (ce->device)
    cgen_printf(ce, "  %s_ERR_DEVICE = 6        /* the GPU, its driver or NVRTC failed: see %s_device_error */\n",
                u, ce->o->name);
  cgen_printf(ce, "};\n");
}

static void prototypes(CEmit *ce) {
  const char *nm = ce->o->name;
  cgen_printf(ce, "\n/* weights: the path of the weights file, or NULL when the weights are embedded"
                  "\n * (for this model they are %s). */\n",
              ce->embedded ? "embedded: pass NULL" : "in a file: pass its path");
  cgen_printf(ce, "int %s_init(%s **m, const char *weights);\n", nm, nm);
  cgen_printf(ce, "/* One const pointer per input in order, then one pointer per output. */\n");
  cgen_printf(ce, "int %s_infer(%s *m", nm, nm);
  cgen_typed_params(ce);
  cgen_printf(ce, ");\n/* The same, untyped, for drivers%s. */\n",
              ce->mutable_weights ? ": every input by position (those infer does not take may be NULL), "
                                    "the model's outputs" : "");
  cgen_printf(ce, "int %s_run(%s *m, const void *const *inputs, void *const *outputs);\n", nm, nm);
  cgen_printf(ce, "void %s_free(%s *m);\nconst char *%s_strerror(int status);\n", nm, nm, nm);
  if (!ce->device)
    cgen_printf(ce, "/* The threads of every later call when built with -fopenmp (n <= 0: OpenMP's\n"
                    " * default); returns the count used, 1 when built without OpenMP. */\n"
                    "int %s_set_threads(int n);\n", nm);
  if (ce->device)
    cgen_printf(ce, "/* After %s_ERR_DEVICE: what failed, as one line (the call, its status, the kernel). */\n"
                    "const char *%s_device_error(void);\n"
                    "/* The kernels of %s_run on the device's buffers as they are, nothing copied in or\n"
                    " * out (the inputs of the last %s_run); waits for them.  For benchmarks. */\n"
                    "int %s_launch(%s *m);\n", ce->uname, nm, nm, nm, nm, nm);
  if (ce->mutable_weights) cgen_c_train_header(ce);
}

int cgen_c_header(CEmit *ce) {
  if (check_names(ce)) return -1;
  char name[256];
  cgen_printf(ce, "/* %s — generated by dlc from graph '%s': the model's whole interface. */\n",
              ce->o->header_name, cgen_comment_name(ce->g->name, name, sizeof name));
  cgen_printf(ce, "#ifndef %s_H_INCLUDED\n#define %s_H_INCLUDED\n\n#include <stdint.h>\n\n",
              ce->uname, ce->uname);
  cgen_printf(ce, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  cgen_printf(ce, "typedef struct %s %s;\n\n", ce->o->name, ce->o->name);
  if (cgen_graph_has_str(ce->g))
    cgen_printf(ce, "/* A str element: NUL-terminated UTF-8. */\n#ifndef DLC_STR_DEFINED\n#define DLC_STR_DEFINED\n"
                    "typedef const char *dlc_str;\n#endif\n\n");
  cgen_printf(ce, "enum { %s_NUM_INPUTS = %d, %s_NUM_OUTPUTS = %d };\n\n", ce->uname,
              ir_num_inputs(ce->g), ce->uname, ir_num_model_outputs(ce->g));
  io_macros(ce, false);
  io_macros(ce, true);
  if (ce->scratch_bytes)
    cgen_printf(ce, "/* The arena: %lld bytes of values (the memory plan), then %lld of the kernels' scratch. */\n",
                (long long)ce->p->arena_bytes, (long long)ce->scratch_bytes);
  if (ce->heap_bytes)
    cgen_printf(ce, "/* Then, at %lld, the string heap: %lld bytes (dlc compile --string-heap), emptied at\n"
                    " * each run; the outputs' strings are valid until the next run or %s_free. */\n",
                (long long)ce->heap_at, (long long)ce->heap_bytes, ce->o->name);
  if (ce->o->split) {
    const CgenSplit *sp = ce->o->split;
    cgen_printf(ce, "/* The %lld samples run as %lld parts of %lld, each thread that runs parts with an\n"
                    " * arena of its own (ARENA_BYTES each); the weights are stored once. */\n",
                (long long)sp->total, (long long)(sp->total / sp->part), (long long)sp->part);
    cgen_printf(ce, "#define %s_ARENA_BYTES %lld\n#define %s_WEIGHT_BYTES %lld\n", ce->uname, (long long)ce->split_arena,
                ce->uname, (long long)sp->p->weight_bytes);
  } else {
    cgen_printf(ce, "#define %s_ARENA_BYTES %lld\n#define %s_WEIGHT_BYTES %lld\n", ce->uname,
                (long long)cgen_arena_total(ce), ce->uname, (long long)ce->p->weight_bytes);
  }
  status_codes(ce);
  prototypes(ce);
  cgen_printf(ce, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
  return 0;
}
