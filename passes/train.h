/* train.h — the parts of pass_train (passes/train*.c), private to passes/. */
#ifndef DLC_TRAIN_H
#define DLC_TRAIN_H

#include "grad.h"

/* The scalars an optimizer's step shares among its parameters, of dtype f64. */
typedef struct OptStep {
  const Optim *o;
  const char *step; /* the step's name: prefix of its state's names */
  int t;            /* steps done before this one (the counter PARAM) */
  int t1;           /* t + 1 */
  int lr;           /* the learning rate of this step (the schedule at t) */
} OptStep;

/* The counter "<step>.t", its successor and the scheduled learning rate; 0 or -1. */
int train_opt_begin(Graph *g, OptStep *s);
/* Appends the update of parameter p with gradient gp: new values of p and of its state
 * PARAMs, as pairs targets[i] <- values[i] (at most 3).  Returns the count, or -1. */
int train_opt_update(Graph *g, const OptStep *s, int p, int gp, int *targets, int *values);

#endif
