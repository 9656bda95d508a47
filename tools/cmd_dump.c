/* cmd_dump.c — `dlc dump MODEL`: the IR in the native text format, which reads back
 * as the same graph.  As loaded, or with --after PASS as that pass of the pipeline left
 * it (at the level -O gives). */
#include <stdio.h>

#include "cmd.h"

/* Runs the pipeline on a copy for its printing: --after to stdout, --print-after to
 * stderr. */
static int dump_after(const Graph *g, const CmdArgs *a, DlcErr *e) {
  PassOptions o = a->passes;
  if (a->after && !pass_runs(&o, a->after))
    return dlc_errf(e, "--after %s: that pass does not run at -O%d", a->after, o.opt_level);
  if (a->after && o.print_after)
    return dlc_errf(e, "--after and --print-after: give one of them");
  if (a->after) o.print_after = a->after, o.print_to = stdout;
  Schedule *s;
  Plan *p;
  Graph *c = pass_clone(g);
  int r = pass_pipeline(&c, &o, &s, &p, e);
  ir_graph_free(c);
  return r;
}

int cmd_dump(int argc, char **argv) {
  CmdArgs a;
  if (cmd_parse(&a, "dump", CMD_DUMP, argc, argv)) return 1;
  if (a.help) {
    cmd_help("dump", CMD_DUMP, "MODEL [options]",
             "Print the model's IR in the native text format (MODEL '-' reads stdin), as\n"
             "loaded or, with --after PASS, as that pass leaves it.");
    return 0;
  }
  DlcErr e;
  Graph *g = cmd_load(&a, &e);
  if (!g) return cmd_fail("%s", e.msg);
  int r = a.after || a.passes.print_after ? dump_after(g, &a, &e) : 0;
  if (!r && !a.after) ir_print(stdout, g);
  ir_graph_free(g);
  if (r) return cmd_fail("%s", e.msg);
  if (fflush(stdout)) return cmd_fail("writing the output failed");
  return 0;
}
