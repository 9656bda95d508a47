/* dlc.c — the dlc command: reads the command word and hands the rest to it.
 * The only place in dlc that exits with a status. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "dlc_git.h" /* DLC_GIT_COMMIT, written at build time (cmake/git_version.cmake) */

typedef struct Command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *what;
} Command;

static const Command commands[] = {
    {"compile", cmd_compile, "compile a model to C (OUT.c, OUT.h)"},
    {"run", cmd_run, "compile, build and run a model once; --check compares with the interpreter"},
    {"dump", cmd_dump, "print a model's IR in the native text format"},
    {"dot", cmd_dot, "draw a model's graph as Graphviz DOT, kernels as clusters"},
    {"bench", cmd_bench, "time a model's variants side by side (--compare fused,unfused)"},
    {"train", cmd_train, "train a model on a dataset with its generated training step"},
};

static void usage(void) {
  printf("usage: dlc COMMAND MODEL [options]\n\n"
         "dlc compiles deep-learning models (.onnx, .dlc) to C for the CPU or CUDA for a GPU,\n"
         "with no framework behind the generated code; it also runs, times and trains them.\n\n"
         "commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    printf("  %-9s %s\n", commands[i].name, commands[i].what);
  printf("\n'dlc COMMAND --help' lists a command's options; 'dlc --version' prints the version;\n"
         "'man dlc-COMMAND' (installed) says more.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) return cmd_fail("no command given (see 'dlc --help')");
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    usage();
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
    printf("dlc %s (commit %s)\n", DLC_VERSION, DLC_GIT_COMMIT);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(cmd, commands[i].name)) return commands[i].fn(argc - 2, argv + 2);
  if (cmd[0] == '-') return cmd_fail("unknown option '%s' (see 'dlc --help')", cmd);
  return cmd_fail("unknown command '%s' (see 'dlc --help')", cmd);
}
