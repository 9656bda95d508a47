/* cmd_dump.c — `dlc dump MODEL`: the IR in the native text format, which reads back
 * as the same graph. */
#include <stdio.h>

#include "cmd.h"

int cmd_dump(int argc, char **argv) {
  CmdArgs a;
  if (cmd_parse(&a, "dump", CMD_DUMP, argc, argv)) return 1;
  if (a.help) {
    cmd_help("dump", CMD_DUMP, "MODEL [options]",
             "Print the model's IR in the native text format (MODEL '-' reads stdin).");
    return 0;
  }
  DlcErr e;
  Graph *g = cmd_load(&a, &e);
  if (!g) return cmd_fail("%s", e.msg);
  ir_print(stdout, g);
  ir_graph_free(g);
  if (fflush(stdout)) return cmd_fail("writing the output failed");
  return 0;
}
