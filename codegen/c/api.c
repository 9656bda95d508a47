/* api.c — the generated entry points: NAME_run walks the kernel schedule with the
 * plan's buffers and copies the outputs the plan could not place; NAME_infer is its
 * typed face; NAME_init makes the one arena (and reads the weights file), so nothing
 * on the inference path allocates. */
#include <stdlib.h>
#include <string.h>

#include "tile.h"

bool cgen_same_buffer(const CEmit *ce, int a, int b) {
  const Loc *x = &ce->p->loc[a], *y = &ce->p->loc[b];
  if (x->kind != y->kind) return false;
  if (x->kind == LOC_INPUT || x->kind == LOC_OUTPUT) return x->index == y->index;
  return x->kind != LOC_NONE && x->offset == y->offset;
}

bool cgen_is_used(const CEmit *ce, int id) {
  if (ce->used) return ce->used[id];
  for (int t = 0; t < ce->s->nk; t++)
    for (int j = 0; j < ce->s->k[t].n; j++) {
      const Node *n = ce->g->nodes[ce->s->k[t].nodes[j]];
      for (int i = 0; i < n->nin; i++)
        if (n->in[i] == id) return true;
    }
  for (int c = 0; c < ce->p->ncopy; c++)
    if (ce->g->out[ce->p->copy_out[c]] == id) return true;
  return false;
}

int cgen_tables(CEmit *ce) {
  size_t n = (size_t)(ce->g->n ? ce->g->n : 1);
  ce->used = dlc_calloc(n, sizeof *ce->used);
  ce->pack_mm = dlc_try_calloc(n, sizeof *ce->pack_mm);
  ce->pack_at = dlc_try_calloc(n, sizeof *ce->pack_at);
  if (!ce->used || !ce->pack_mm || !ce->pack_at) {
    cgen_tables_free(ce);
    return dlc_errf(ce->e, "cgen: out of memory");
  }
  for (int t = 0; t < ce->s->nk; t++)
    for (int j = 0; j < ce->s->k[t].n; j++) {
      const Node *nd = ce->g->nodes[ce->s->k[t].nodes[j]];
      for (int i = 0; i < nd->nin; i++) ce->used[nd->in[i]] = true;
      if (nd->guard >= 0) ce->used[nd->guard] = true;
    }
  for (int c = 0; c < ce->p->ncopy; c++) ce->used[ce->g->out[ce->p->copy_out[c]]] = true;
  pack_b_init_tables(ce);
  return 0;
}

void cgen_tables_free(CEmit *ce) {
  free(ce->used), free(ce->pack_mm), free(ce->pack_at);
  ce->used = NULL, ce->pack_mm = NULL, ce->pack_at = NULL;
}

void cgen_loc_expr(const CEmit *ce, int id, bool writable, char *buf, size_t n) {
  const Node *nd = ce->g->nodes[id];
  const Loc *l = &ce->p->loc[id];
  const char *q = writable ? "" : "const ", *t = cgen_ctype(nd);
  char w[32];
  switch (l->kind) {
  case LOC_INPUT: snprintf(buf, n, "(const %s *)in[%d]", t, l->index); return;
  case LOC_OUTPUT: snprintf(buf, n, "(%s *)out[%d]", t, l->index); return;
  case LOC_WEIGHT:
    if ((ce->embedded && !ce->mutable_weights) || nd->dtype == DT_STR) /* str: string literals (strings.c) */ snprintf(buf, n, "%s", cgen_weight_name(nd, w, sizeof w));
    else snprintf(buf, n, "(%s%s *)(m->weights + %lld)", ce->mutable_weights ? q : "const ", t,
                  (long long)l->offset);
    return;
  case LOC_ARENA: snprintf(buf, n, "(%s%s *)(m->arena + %lld)", q, t, (long long)l->offset); return;
  case LOC_NONE: break;
  }
  DLC_ASSERT(!"a buffer the plan did not place");
}

/* Whether NAME_run touches its model, inputs and outputs (unused parameters warn). */
static void run_uses(const CEmit *ce, bool *uses) {
  for (int i = 0; i < ce->g->n; i++) {
    const Loc *l = &ce->p->loc[i];
    if (l->kind == LOC_OUTPUT) uses[LOC_OUTPUT] = true;
    if (l->kind == LOC_ARENA || (l->kind != LOC_OUTPUT && cgen_is_used(ce, i))) uses[l->kind] = true;
  }
  if (ce->p->ncopy) uses[LOC_OUTPUT] = true;
  if (ce->scratch_bytes) uses[LOC_ARENA] = true;
}

void cgen_kernel_call(CEmit *ce, const Kernel *k) {
  char buf[256], name[96];
  int max = 0;
  for (int j = 0; j < k->n; j++) max += ce->g->nodes[k->nodes[j]]->nin;
  int *in = dlc_malloc(sizeof(int) * (size_t)(max ? max : 1));
  DLC_ASSERT(in);
  int nin = cgen_kernel_inputs(ce, k, in);
  cgen_kernel_name(ce, k, name, sizeof name);
  int guard = ce->g->nodes[k->nodes[0]]->guard; /* a branch of a run-time If */
  if (guard >= 0) {
    cgen_loc_expr(ce, guard, false, buf, sizeof buf);
    cgen_printf(ce, "  if (*%s) {\n  ", buf);
  }
  cgen_printf(ce, "  %s%s(", cgen_kernel_can_fail(ce, k) ? "if (" : "", name);
  for (int i = 0; i < nin; i++) {
    cgen_loc_expr(ce, in[i], false, buf, sizeof buf);
    for (int j = 0; j < k->n; j++) { /* a weight read packed (pack.c) */
      const Node *h = ce->g->nodes[k->nodes[j]];
      if ((h->op == OP_MATMUL || h->op == OP_CONV) && h->in[1] == in[i] && pack_b_at_init(ce, h)) pack_b_init_expr(ce, h, buf, sizeof buf);
    }
    cgen_printf(ce, "%s, ", buf);
  }
  free(in);
  for (int j = k->kind == KERNEL_SEQ ? 0 : k->n - 1; j < k->n; j++) {
    cgen_loc_expr(ce, k->nodes[j], true, buf, sizeof buf);
    cgen_printf(ce, "%s%s", buf, j < k->n - 1 ? ", " : "");
  }
  if (cgen_kernel_scratch(ce, k)) cgen_printf(ce, ", m->arena + %lld", (long long)ce->scratch_at);
  if (cgen_kernel_heap(ce, k)) cgen_printf(ce, ", m->arena + %lld", (long long)ce->heap_at);
  if (cgen_kernel_regex(ce, k) >= 0) cgen_printf(ce, ", &m->re[%d]", cgen_kernel_regex(ce, k));
  if (cgen_kernel_can_fail(ce, k))
    cgen_printf(ce, ")) return %s_%s;\n", ce->uname, cgen_kernel_strings_fail(ce, k) ? "ERR_STRINGS" : "ERR_INDEX");
  else cgen_printf(ce, ");\n");
  if (guard >= 0) cgen_printf(ce, "  }\n");
}

static void copy_out(CEmit *ce, int j) {
  const Node *n = ce->g->nodes[ce->g->out[j]];
  char src[256];
  int64_t bytes = shape_numel(&n->shape) * dtype_size(n->dtype);
  cgen_loc_expr(ce, n->id, false, src, sizeof src);
  if (bytes) cgen_line(ce, 1, "memcpy(out[%d], %s, %lld);", j, src, (long long)bytes);
  else cgen_line(ce, 1, "/* output %d is empty */", j);
}

bool cgen_c_profiled(const CEmit *ce) {
  return ce->o->profile != CGEN_PROFILE_NONE && !ce->o->dyn && !ce->o->split && !ce->device;
}

/* dlc bench --profile: the clock each kernel call is timed by, and the table. */
static void emit_profile(CEmit *ce) {
  const char *nm = ce->o->name;
  int nk = ce->s->nk ? ce->s->nk : 1;
  cgen_printf(ce, "\n/* Nanoseconds in each kernel (schedule order), summed over runs: dlc bench --profile. */\n");
  cgen_printf(ce, "static int64_t dlc_prof_ns[%d];\n\n", nk);
  cgen_printf(ce, "static int64_t dlc_prof_now(void) {\n");
  cgen_line(ce, 1, "struct timespec ts;");
  cgen_line(ce, 1, "clock_gettime(%s, &ts);", ce->o->profile == CGEN_PROFILE_CPU ? "CLOCK_THREAD_CPUTIME_ID" : "CLOCK_MONOTONIC");
  cgen_line(ce, 1, "return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;");
  cgen_printf(ce, "}\n\nint64_t *%s_profile(int *n);\n", nm);
  cgen_printf(ce, "int64_t *%s_profile(int *n) {\n", nm);
  cgen_line(ce, 1, "*n = %d;", ce->s->nk);
  cgen_line(ce, 1, "return dlc_prof_ns;");
  cgen_printf(ce, "}\n");
}

/* A model with training steps runs only the kernels its own outputs need: never a
 * step's update. */
static void emit_run(CEmit *ce) {
  const char *nm = ce->o->name;
  bool uses[LOC_ARENA + 1] = {0}, prof = cgen_c_profiled(ce);
  run_uses(ce, uses);
  if (prof) emit_profile(ce);
  cgen_printf(ce, "\nint %s_run(%s *m, const void *const *in, void *const *out) {\n", nm, nm);
  bool all = !ce->mutable_weights, *need = all ? NULL : cgen_needed_kernels(ce, ce->g->out, ir_num_model_outputs(ce->g));
  if (!all || (!uses[LOC_ARENA] && !ce->heap_bytes && !cgen_regex_count(ce) && (ce->embedded || !uses[LOC_WEIGHT]))) cgen_line(ce, 1, "(void)m;");
  if (!all || !uses[LOC_INPUT]) cgen_line(ce, 1, "(void)in;");
  if (!all || !uses[LOC_OUTPUT]) cgen_line(ce, 1, "(void)out;");
  if (ce->heap_bytes) cgen_line(ce, 1, "dlc_heap_reset(m->arena + %lld);", (long long)ce->heap_at);
  for (int t = 0; t < ce->s->nk; t++) {
    if (!all && !need[t]) continue;
    if (prof) cgen_line(ce, 1, "{ const int64_t dlc_t0 = dlc_prof_now();");
    cgen_kernel_call(ce, &ce->s->k[t]);
    if (prof) cgen_line(ce, 1, "dlc_prof_ns[%d] += dlc_prof_now() - dlc_t0; }", t);
  }
  for (int c = 0; c < ce->p->ncopy; c++)
    if (ce->p->copy_out[c] < ir_num_model_outputs(ce->g)) copy_out(ce, ce->p->copy_out[c]);
  free(need);
  cgen_line(ce, 1, "return %s_OK;", ce->uname);
  cgen_printf(ce, "}\n");
}

void cgen_c_run_part(CEmit *ce, const char *fname, int out0, int nout) {
  const char *nm = ce->o->name;
  cgen_printf(ce, "\nstatic int %s(%s *m, const void *const *in, void *const *out) {\n", fname, nm);
  cgen_line(ce, 1, "(void)m;");
  cgen_line(ce, 1, "(void)in;");
  cgen_line(ce, 1, "(void)out;");
  bool *need = cgen_needed_kernels(ce, ce->g->out + out0, nout);
  if (ce->heap_bytes) cgen_line(ce, 1, "dlc_heap_reset(m->arena + %lld);", (long long)ce->heap_at);
  for (int t = 0; t < ce->s->nk; t++)
    if (need[t]) cgen_kernel_call(ce, &ce->s->k[t]);
  for (int c = 0; c < ce->p->ncopy; c++)
    if (ce->p->copy_out[c] >= out0 && ce->p->copy_out[c] < out0 + nout) copy_out(ce, ce->p->copy_out[c]);
  free(need);
  cgen_line(ce, 1, "return %s_OK;", ce->uname);
  cgen_printf(ce, "}\n");
}

void cgen_c_infer(CEmit *ce) {
  const char *nm = ce->o->name;
  int ni = ir_num_inputs(ce->g), no = ir_num_model_outputs(ce->g);
  cgen_printf(ce, "\nint %s_infer(%s *m", nm, nm);
  cgen_typed_params(ce);
  cgen_printf(ce, ") {\n");
  if (ni) cgen_line(ce, 1, "const void *in[%d];", ni);
  if (no) cgen_line(ce, 1, "void *out[%d];", no);
  for (int out = 0; out < 2; out++)
    for (int i = 0; i < (out ? no : ni); i++) {
      char p[300];
      cgen_param_name(ce, i, out, p, sizeof p);
      cgen_line(ce, 1, "%s[%d] = %s;", out ? "out" : "in", i, out || cgen_infer_input(ce, i) ? p : "NULL");
    }
  cgen_line(ce, 1, "return %s_run(m, %s, %s);", nm, ni ? "in" : "NULL", no ? "out" : "NULL");
  cgen_printf(ce, "}\n");
}

static void emit_load_weights(CEmit *ce) {
  const char *nm = ce->o->name, *u = ce->uname;
  int64_t packed = pack_b_init_offset(ce, NULL);
  if (packed) pack_b_init_code(ce);
  cgen_printf(ce, "\nstatic int dlc_load_weights(%s *m, const char *path) {\n", nm);
  cgen_line(ce, 1, "FILE *f;");
  cgen_line(ce, 1, "int st;");
  cgen_line(ce, 1, "m->weight_block = malloc((size_t)DLC_PACKED_AT + %lld + 64); /* and the packed panels */",
            (long long)packed);
  cgen_line(ce, 1, "if (!m->weight_block) return %s_ERR_NOMEM;", u);
  cgen_line(ce, 1, "m->weights = dlc_align64(m->weight_block);");
  cgen_line(ce, 1, "f = fopen(path, \"rb\");");
  cgen_line(ce, 1, "if (!f) return %s_ERR_WEIGHTS_OPEN;", u);
  cgen_line(ce, 1, "st = dlc_read_weights(f, m->weights);");
  cgen_line(ce, 1, "fclose(f);");
  if (packed) cgen_line(ce, 1, "if (!st) dlc_pack_weights(m);");
  cgen_line(ce, 1, "return st;");
  cgen_printf(ce, "}\n");
}

/* Arenas of at least this many bytes ask Linux for 2 MiB pages. */
#define HUGE_ARENA_BYTES (8 << 20)

static const char *const huge_arena[] = {
    "",
    "/* A large arena in 2 MiB pages where Linux gives them only when asked (transparent",
    " * huge pages in \"madvise\" mode): MobileNetV2 at batch 32 walks 190 MB of",
    " * activations, in 4 KiB pages a TLB entry for every 4 KiB.  A hint: no effect on",
    " * results, none where the system refuses it. */",
    "#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))",
    "extern int madvise(void *addr, size_t len, int advice);",
    "static void dlc_arena_huge(void *p, size_t n) {",
    "  uintptr_t a = ((uintptr_t)p + 0x1fffff) & ~(uintptr_t)0x1fffff, e = ((uintptr_t)p + n) & ~(uintptr_t)0x1fffff;",
    "  if (e > a) (void)madvise((void *)a, (size_t)(e - a), 14); /* MADV_HUGEPAGE */",
    "}",
    "#else",
    "#define dlc_arena_huge(p, n) ((void)(p), (void)(n))",
    "#endif",
};

static bool arena_huge(const CEmit *ce) {
  return (ce->scratch_bytes ? ce->scratch_at + ce->scratch_bytes : ce->p->arena_bytes) >= HUGE_ARENA_BYTES;
}

static void emit_init(CEmit *ce) {
  const char *nm = ce->o->name, *u = ce->uname;
  if (arena_huge(ce)) cgen_lines(ce, huge_arena, sizeof huge_arena / sizeof huge_arena[0]);
  if (!ce->embedded) emit_load_weights(ce);
  if (ce->mutable_weights) cgen_c_train_init(ce);
  cgen_printf(ce, "\nint %s_init(%s **mp, const char *weights) {\n", nm, nm);
  cgen_line(ce, 1, "%s *m;", nm);
  cgen_line(ce, 1, "*mp = NULL;");
  cgen_line(ce, 1, "if (!(DLC_CPU_OK())) return %s_ERR_CPU;", u);
  cgen_line(ce, 1, "if (%sweights) return %s_ERR_WEIGHTS_ARG;", ce->embedded ? "" : "!", u);
  if (ce->incbin) cgen_line(ce, 1, "if (dlc_blob_check()) return %s_ERR_WEIGHTS_BAD;", u);
  cgen_line(ce, 1, "m = (%s *)calloc(1, sizeof *m);", nm);
  cgen_line(ce, 1, "if (!m) return %s_ERR_NOMEM;", u);
  cgen_line(ce, 1, "m->arena_block = malloc((size_t)%s_ARENA_BYTES + 64);", u);
  cgen_line(ce, 1, "if (!m->arena_block) {");
  cgen_line(ce, 2, "free(m);");
  cgen_line(ce, 2, "return %s_ERR_NOMEM;", u);
  cgen_line(ce, 1, "}");
  if (arena_huge(ce)) cgen_line(ce, 1, "dlc_arena_huge(m->arena_block, (size_t)%s_ARENA_BYTES + 64);", u);
  cgen_line(ce, 1, "m->arena = dlc_align64(m->arena_block);");
  cgen_regex_init(ce);
  if (!ce->embedded || ce->mutable_weights) {
    cgen_line(ce, 1, "{");
    cgen_line(ce, 2, "int st = %s;", ce->embedded ? "dlc_train_init(m)" : "dlc_load_weights(m, weights)");
    if (!ce->embedded && ce->mutable_weights) cgen_line(ce, 2, "if (!st) st = dlc_train_init(m);");
    cgen_line(ce, 2, "if (st) {");
    cgen_line(ce, 3, "%s_free(m);", nm);
    cgen_line(ce, 3, "return st;");
    cgen_line(ce, 2, "}");
    cgen_line(ce, 1, "}");
  }
  cgen_line(ce, 1, "*mp = m;");
  cgen_line(ce, 1, "return %s_OK;", u);
  cgen_printf(ce, "}\n");
}

static void emit_free(CEmit *ce) {
  const char *nm = ce->o->name;
  cgen_printf(ce, "\nvoid %s_free(%s *m) {\n", nm, nm);
  cgen_line(ce, 1, "if (!m) return;");
  if (cgen_regex_count(ce)) cgen_line(ce, 1, "while (m->nre > 0) regfree(&m->re[--m->nre]);");
  cgen_line(ce, 1, "free(m->arena_block);");
  if (!ce->embedded || ce->mutable_weights) cgen_line(ce, 1, "free(m->weight_block);");
  if (ce->mutable_weights) cgen_line(ce, 1, "free(m->scratch_block);");
  cgen_line(ce, 1, "free(m);");
  cgen_printf(ce, "}\n");
}

static void emit_strerror(CEmit *ce) {
  static const char *const msg[][2] = {
      {"OK", "ok"},
      {"ERR_NOMEM", "out of memory"},
      {"ERR_WEIGHTS_OPEN", "the weights file is missing or unreadable"},
      {"ERR_WEIGHTS_BAD", "the weights file (or the linked blob) has the wrong size, format or hash"},
      {"ERR_WEIGHTS_ARG", "a weights file was given for embedded weights, or none for a model "
                          "that needs one"},
      {"ERR_INDEX", "an index read from the data is out of range (a gather or scatter index, TopK's k), or a Loop would run past its bound (dlc --max-trip)"},
      {"ERR_STRINGS", "a string operation failed: the string heap is full (dlc --string-heap), a string split into more pieces than its "
                      "bound (dlc --split-pieces), a pattern met a non-ASCII string it cannot match as written, a case "
                      "change met a letter dlc does not map, or a string cast to a number holds none"},
      {"ERR_CPU", "this CPU lacks the instructions the code was generated for (dlc --cpu)"},
  };
  cgen_printf(ce, "\nconst char *%s_strerror(int status) {\n  switch (status) {\n", ce->o->name);
  for (size_t i = 0; i < sizeof msg / sizeof msg[0]; i++)
    cgen_line(ce, 1, "case %s_%s: return \"%s\";", ce->uname, msg[i][0], msg[i][1]);
  if (ce->mutable_weights) cgen_line(ce, 1, "case %s_ERR_STEP: return \"no training step of that index\";", ce->uname);
  cgen_line(ce, 1, "default: return \"unknown status\";");
  cgen_printf(ce, "  }\n}\n");
}

void cgen_c_api(CEmit *ce) {
  if (!ce->embedded)
    cgen_printf(ce, "\n#define DLC_PACKED_AT %lld /* the weight block, 64-byte aligned; packed panels follow */\n",
                (long long)((ce->p->weight_bytes + 63) / 64 * 64));
  emit_run(ce);
  cgen_c_infer(ce);
  emit_init(ce);
  emit_free(ce);
  emit_strerror(ce);
}
