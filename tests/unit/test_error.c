/* test_error.c — error text from names that hold any byte (runtime/error.c's
 * dlc_escape_ctl, and its users ir_note and ir_limit_set): control bytes come out as
 * \xNN, a cut never splits an escape, and the buffer is always terminated. */
#include <string.h>

#include "check.h"

static void test_escape(void) {
  char buf[64];
  CHECK(dlc_escape_ctl(buf, sizeof buf, "conv_1") == 6 && !strcmp(buf, "conv_1"));
  CHECK(dlc_escape_ctl(buf, sizeof buf, "a\x1b[2Jb\n\x7f") == 17 && !strcmp(buf, "a\\x1b[2Jb\\x0a\\x7f"));
  CHECK(dlc_escape_ctl(buf, sizeof buf, NULL) == 0 && !buf[0]);
  CHECK(dlc_escape_ctl(buf, sizeof buf, "caf\xc3\xa9") == 5 && !strcmp(buf, "caf\xc3\xa9")); /* UTF-8 passes */
  /* cut to fit: "ab" then an escape that does not fit in 6 bytes (2 + 4 + NUL) */
  CHECK(dlc_escape_ctl(buf, 6, "ab\x01z") == 2 && !strcmp(buf, "ab"));
  CHECK(dlc_escape_ctl(buf, 7, "ab\x01z") == 6 && !strcmp(buf, "ab\\x01"));
  CHECK(dlc_escape_ctl(buf, 1, "abc") == 0 && !buf[0]);
}

static void test_users(void) {
  Graph *g = ir_graph_new("g");
  ir_note(g, "node '%s' folded", "x\x1b]0;owned\x07");
  CHECK(g->nnotes == 1 && !strcmp(g->notes[0], "node 'x\\x1b]0;owned\\x07' folded"));
  ir_graph_free(g);
  DlcErr e;
  CHECK(ir_limit_set("max-\x1btrip", 3, &e) && strstr(e.msg, "no limit named 'max-\\x1btrip' (max-elements, "));
  CHECK(!strchr(e.msg, '\x1b'));
  for (int i = 0; ir_limit_name(i); i++) CHECK(ir_limit_named(ir_limit_name(i)) != NULL);
  CHECK(ir_limit_name(-1) == NULL);
}

int main(void) {
  test_escape();
  test_users();
  return check_report("test_error");
}
