/* fuse.h — what the fuse pass's files share (private to passes/): who uses each node,
 * the region grower, and building a schedule. */
#ifndef DLC_FUSE_H
#define DLC_FUSE_H

#include "passes.h"

/* The users of every node (ids, one entry per operand slot) and whether it is an output. */
typedef struct FuseUses {
  int *start; /* users of node i: user[start[i] .. start[i + 1]) */
  int *user;
  bool *output;
  /* scratch of the region grower: a node is a member, blocked or a candidate of the
   * region of root r while its entry holds r + 1 */
  int *member, *blocked, *cand;
} FuseUses;

FuseUses *fuse_uses(Graph *g);
bool fuse_is_data(const Node *n); /* INPUT, PARAM, CONST: data, never in a kernel */

/* Grows the region whose sink is `root` (fuse_region.c): writes its nodes in kernel
 * order to `nodes`, its kind to *kind, marks owner[m] = root for each member, and
 * returns the count.  Nodes with owner >= 0 are never taken; when `allowed` is given,
 * only nodes it marks are. */
int fuse_region(Graph *g, FuseUses *u, int root, int *owner, const bool *allowed, int *nodes,
                KernelKind *kind);

Schedule *schedule_new(Graph *g);
/* Appends a kernel of the nodes (copied); one node is always KERNEL_SINGLE. */
Kernel *schedule_add(Graph *g, Schedule *s, KernelKind kind, const int *nodes, int n);

#endif
