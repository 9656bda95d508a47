/* cmd_dot.c — `dlc dot MODEL [--after PASS] [-o OUT.dot]`: the graph as Graphviz DOT.
 *
 * By default the graph the whole pipeline leaves, each kernel of its schedule a cluster
 * (so fusion shows: --fuse and -O apply as for compile) and each value's place in the
 * memory plan in its label.  With --after PASS, the graph as that pass leaves it: after
 * fuse, the kernels without the plan; before fuse there are no kernels yet, and the
 * graph is the pipeline's own printout (--print-after) read back, so the pass list lives
 * in one place (passes/pipeline.c).
 *
 * Every node is `n<id>`, labelled with its op, name, dtype and shape; inputs, trainable
 * parameters, constants and outputs (`out<j>`, one per graph output) each have a shape
 * and colour of their own; a guarded node (a branch of a run-time If) has a dashed
 * border, an "if COND" line and a dashed edge from its guard.  A graph with more than
 * DOT_MAX_WEIGHTS parameters and constants draws none of them: each reader says how
 * many weights it reads instead.  Names come from models and may hold any byte:
 * everything inside quotes goes through put_str.  The file is written whole or not at
 * all, never over an input (rt_wfile_open); without -o it goes to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "dlcrt.h"

#define DOT_MAX_WEIGHTS 256 /* more parameters and constants than this: collapsed */
#define DOT_MAX_NAME 48     /* bytes of a name shown in a label */

/* ---- escaping ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if there is none. */
static int utf8_len(const unsigned char *s, size_t n) {
  int len = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
  if (!len || (size_t)len > n) return 0;
  for (int i = 1; i < len; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  return len;
}

/* Writes s (at most max bytes of it, then "...") for use inside a DOT double-quoted
 * string: quote and backslash escaped, '&' as an entity (Graphviz reads entities in
 * labels), control bytes and bytes that are not UTF-8 shown as the text \xNN. */
static void put_str(FILE *f, const char *str, size_t max) {
  const unsigned char *s = (const unsigned char *)str;
  size_t n = strlen(str), i = 0;
  while (i < n && i < max) {
    int u = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;
    if (u) fwrite(s + i, 1, (size_t)u, f), i += (size_t)u;
    else if (s[i] == '"' || s[i] == '\\') fprintf(f, "\\%c", s[i++]);
    else if (s[i] == '&') fputs("&amp;", f), i++;
    else if (s[i] < 0x20 || s[i] >= 0x7f) fprintf(f, "\\\\x%02x", s[i++]);
    else fputc(s[i++], f);
  }
  if (i < n) fputs("...", f);
}

/* ---- what to draw ---- */

typedef struct Dot {
  const Graph *g;
  const Schedule *s; /* NULL: not scheduled yet */
  const Plan *p;     /* NULL: not planned yet */
  const char *title; /* "after plan, -O2, fuse all" */
  bool collapse;     /* weights not drawn */
} Dot;

static bool is_weight(const Node *n) { return n->op == OP_PARAM || n->op == OP_CONST; }

static int count_weights(const Graph *g) {
  int k = 0;
  for (int i = 0; i < g->n; i++) k += is_weight(g->nodes[i]);
  return k;
}

/* Shape and colours of a node by what it is. */
static const char *node_style(const Node *n) {
  if (n->op == OP_INPUT) return "shape=invhouse, fillcolor=\"#cfe2ff\"";
  if (n->op == OP_PARAM) return "shape=box, fillcolor=\"#ffe8a8\"";
  if (n->op == OP_CONST) return "shape=note, fillcolor=\"#ececec\"";
  return n->guard >= 0 ? "shape=box, style=\"rounded,filled,dashed\", color=\"#c02020\"" : "shape=box";
}

static void put_place(FILE *f, const Plan *p, int id) {
  const Loc *l = &p->loc[id];
  if (l->kind == LOC_ARENA) fprintf(f, "\\narena +%lld", (long long)l->offset);
  else if (l->kind == LOC_OUTPUT) fprintf(f, "\\ninto output %d", l->index);
  else if (l->kind == LOC_WEIGHT) fprintf(f, "\\nweights +%lld", (long long)l->offset);
}

static void put_node(FILE *f, const Dot *d, const Node *n) {
  const Graph *g = d->g;
  char shape[256];
  shape_str(&n->shape, shape, sizeof shape);
  fprintf(f, "  n%d [%s, label=\"%s", n->id, node_style(n), ir_ops[n->op].name);
  if (n->name) fputs("\\n", f), put_str(f, n->name, DOT_MAX_NAME);
  fprintf(f, "\\n%s %s", dtype_name(n->dtype), shape);
  if (n->guard >= 0) {
    const Node *c = g->nodes[n->guard];
    fputs("\\nif ", f);
    if (c->name) put_str(f, c->name, DOT_MAX_NAME);
    else fprintf(f, "%%%d", c->id);
  }
  int nw = 0;
  for (int i = 0; d->collapse && i < n->nin; i++) nw += is_weight(g->nodes[n->in[i]]);
  if (nw) fprintf(f, "\\n+%d weight%s", nw, nw > 1 ? "s" : "");
  if (d->p) put_place(f, d->p, n->id);
  fputs("\"];\n", f);
}

static const char *const kind_names[] = {
    [KERNEL_SINGLE] = "single", [KERNEL_ELEMWISE] = "elemwise", [KERNEL_EPILOGUE] = "epilogue",
    [KERNEL_REDUCE] = "reduce", [KERNEL_ROW] = "row", [KERNEL_SEQ] = "seq"};

static void put_kernels(FILE *f, const Dot *d) {
  for (int t = 0; t < d->s->nk; t++) {
    const Kernel *k = &d->s->k[t];
    fprintf(f, "  subgraph cluster_k%d {\n    label=\"k%d %s (%d node%s)\"; style=\"rounded,filled\"; "
               "fillcolor=\"#f4f7fb\"; color=\"#7090b0\";\n",
            t, t, kind_names[k->kind], k->n, k->n > 1 ? "s" : "");
    for (int j = 0; j < k->n; j++) fputs("  ", f), put_node(f, d, d->g->nodes[k->nodes[j]]);
    fputs("  }\n", f);
  }
}

static void put_edges(FILE *f, const Dot *d) {
  const Graph *g = d->g;
  for (int i = 0; i < g->n; i++) {
    const Node *n = g->nodes[i];
    for (int k = 0; k < n->nin; k++)
      if (!d->collapse || !is_weight(g->nodes[n->in[k]])) fprintf(f, "  n%d -> n%d;\n", n->in[k], i);
    if (n->guard >= 0)
      fprintf(f, "  n%d -> n%d [style=dashed, color=\"#c02020\", label=\"if\", fontcolor=\"#c02020\"];\n", n->guard, i);
  }
  for (int j = 0; j < g->nout; j++) {
    const Node *n = g->nodes[g->out[j]];
    fprintf(f, "  out%d [shape=house, fillcolor=\"#c8f0c8\", label=\"output\\n", j);
    put_str(f, g->out_name && g->out_name[j] ? g->out_name[j] : n->name ? n->name : "", DOT_MAX_NAME);
    char shape[256];
    shape_str(&n->shape, shape, sizeof shape);
    fprintf(f, "\\n%s %s\"];\n  n%d -> out%d;\n", dtype_name(n->dtype), shape, n->id, j);
  }
}

static void put_graph(FILE *f, const Dot *d) {
  const Graph *g = d->g;
  fputs("digraph \"", f);
  put_str(f, g->name ? g->name : "model", DOT_MAX_NAME);
  fputs("\" {\n  graph [fontname=\"Helvetica\", labelloc=t, label=\"", f);
  put_str(f, g->file ? g->file : g->name ? g->name : "model", 256);
  fprintf(f, "\\n%s", d->title);
  if (d->s) fprintf(f, ", %d kernels", d->s->nk);
  if (d->collapse) fprintf(f, ", %d weights not drawn", count_weights(g));
  fputs("\"];\n  node [fontname=\"Helvetica\", fontsize=10, style=filled, fillcolor=white];\n"
        "  edge [color=\"#555555\", fontname=\"Helvetica\", fontsize=9];\n",
        f);
  for (int i = 0; i < g->n; i++) {
    const Node *n = g->nodes[i];
    bool source = n->op == OP_INPUT || is_weight(n);
    if ((source && !(d->collapse && is_weight(n))) || (!source && !d->s)) put_node(f, d, n);
  }
  if (d->s) put_kernels(f, d);
  put_edges(f, d);
  fputs("}\n", f);
}

/* ---- the graph after a pass ---- */

/* The graph as pass `after` leaves it, for a pass before fuse: the pipeline prints it
 * (--print-after) into memory and the text reader reads it back. */
static Graph *graph_after(const Graph *g, const PassOptions *po, const char *after, DlcErr *e) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) return dlc_errf(e, "out of memory"), NULL;
  PassOptions o = *po;
  o.print_after = after, o.print_to = mem, o.stats_to = NULL;
  Schedule *s;
  Plan *p;
  Graph *c = pass_clone(g);
  int r = pass_pipeline(&c, &o, &s, &p, e);
  ir_graph_free(c);
  if (fclose(mem) && !r) r = dlc_errf(e, "out of memory");
  Graph *out = NULL;
  if (!r) {
    LoadOptions lo = {0};
    out = txt_parse(text, len, g->file ? g->file : "<graph>", &lo, e);
  }
  free(text);
  return out;
}

/* ---- the command ---- */

static int write_dot(const Dot *d, const char *path, DlcErr *e) {
  if (!path) {
    put_graph(stdout, d);
    return fflush(stdout) ? dlc_errf(e, "writing the output failed") : 0;
  }
  RtWFile w;
  if (rt_wfile_open(&w, path, e)) return -1;
  put_graph(w.f, d);
  return rt_wfile_commit(&w, e);
}

static int dot_model(Graph **gp, const CmdArgs *a, DlcErr *e) {
  static const char *const fuse_names[] = {"none", "op", "all"};
  PassOptions po = a->passes;
  const char *after = a->after ? a->after : "plan";
  if (!pass_runs(&po, after)) return dlc_errf(e, "--after %s: that pass does not run at -O%d", after, po.opt_level);
  char title[128];
  bool scheduled = !strcmp(after, "fuse") || !strcmp(after, "plan");
  snprintf(title, sizeof title, "after %s, -O%d%s%s", after, po.opt_level, scheduled ? ", fuse " : "",
           scheduled ? fuse_names[po.fuse] : "");
  Dot d = {.title = title};
  Graph *shown = NULL;
  if (scheduled) {
    Schedule *s;
    Plan *p;
    if (pass_pipeline(gp, &po, &s, &p, e)) return -1;
    d.g = *gp, d.s = s, d.p = strcmp(after, "plan") ? NULL : p;
  } else {
    if (!(shown = graph_after(*gp, &po, after, e))) return -1;
    d.g = shown;
  }
  d.collapse = count_weights(d.g) > DOT_MAX_WEIGHTS;
  int r = write_dot(&d, a->out, e);
  if (shown) ir_graph_free(shown);
  return r;
}

int cmd_dot(int argc, char **argv) {
  CmdArgs a;
  if (cmd_parse(&a, "dot", CMD_DOT, argc, argv)) return 1;
  if (a.help) {
    cmd_help("dot", CMD_DOT, "MODEL [--after PASS] [-o OUT.dot] [options]",
             "Write the model's graph as Graphviz DOT (render: dot -Tsvg OUT.dot -o OUT.svg):\n"
             "after the whole pipeline, each kernel of the schedule a cluster and each value's\n"
             "place in the memory plan in its label, or as PASS leaves it.  Inputs, parameters,\n"
             "constants and outputs are drawn apart; a guarded node (a run-time If's branch)\n"
             "is dashed, with an edge from its condition.");
    return 0;
  }
  DlcErr e;
  Graph *g = cmd_load(&a, &e);
  if (!g) return cmd_fail("%s", e.msg);
  int r = dot_model(&g, &a, &e);
  ir_graph_free(g);
  return r ? cmd_fail("%s", e.msg) : 0;
}
