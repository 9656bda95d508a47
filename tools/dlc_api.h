/* dlc_api.h — libdlc: compile a model and run it in this process (installed as
 * include/dlc/dlc_api.h; what the Python module python/dlc calls through ctypes).
 *
 * The same path as `dlc run`: the frontend reads the model, the jit (tools/jit.c) runs
 * the pass pipeline, generates C, builds a shared object with $CC (else cc) and loads
 * it.  Functions that can fail take err (errlen bytes; may be NULL) and write one line
 * there, the CLI's message; nothing here prints or exits. */
#ifndef DLC_API_H
#define DLC_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct DlcModel DlcModel;

/* path: .onnx or .dlc.  batch: binds the dimension named batch (0: 1).  dims: more
 * bindings "NAME=V,NAME=V" or NULL.  opt_level: 0, 1 or 2 (dlc's -O; fusion as the
 * level defaults).  threads: > 1 builds with -fopenmp.  cflags: for the C compiler
 * (NULL: -O2).  cuda: nonzero generates CUDA and runs on the GPU.  micro: the batch in
 * parts of this many samples, as `dlc compile --micro-batch` (-1: auto, 0: whole; CUDA
 * runs whole).  NULL on failure. */
DlcModel *dlc_model_compile(const char *path, int64_t batch, const char *dims, int opt_level, int threads,
                            const char *cflags, int cuda, int64_t micro, char *err, size_t errlen);
void dlc_model_free(DlcModel *m);

/* The interface: inputs in order, then outputs.  dtype: "f32", "i64", ... (dlc's
 * names); dims: rank values.  Names and arrays live as long as the model. */
int dlc_model_num_inputs(const DlcModel *m);
int dlc_model_num_outputs(const DlcModel *m);
const char *dlc_model_input_name(const DlcModel *m, int i);
const char *dlc_model_input_dtype(const DlcModel *m, int i);
int dlc_model_input_rank(const DlcModel *m, int i);
const int64_t *dlc_model_input_dims(const DlcModel *m, int i);
const char *dlc_model_output_name(const DlcModel *m, int j);
const char *dlc_model_output_dtype(const DlcModel *m, int j);
int dlc_model_output_rank(const DlcModel *m, int j);
const int64_t *dlc_model_output_dims(const DlcModel *m, int j);
/* Output j holds only as many entries along *axis as output *count (an int64 scalar)
 * says after a run, the rest padding (a length that depends on the data: NonZero,
 * Unique, NonMaxSuppression): 1 and the two set, or 0 when j is what its dims say. */
int dlc_model_output_extent(const DlcModel *m, int j, int *count, int *axis);

/* inputs[i]: the i-th input's elements in its dtype, C order; outputs[j]: room for the
 * j-th output's.  0, or -1 with err set. */
int dlc_model_run(DlcModel *m, const void *const *inputs, void *const *outputs, char *err, size_t errlen);
/* warmup untimed runs, then runs timed ones: us[k] the wall-clock microseconds of run
 * k (the generated code alone, no copies).  0, or -1 with err set. */
int dlc_model_bench(DlcModel *m, const void *const *inputs, void *const *outputs, int runs, int warmup,
                    double *us, char *err, size_t errlen);

/* ---- run-time dimensions (`dlc compile --dynamic`, docs/ARCHITECTURE.md) ----
 *
 * dynamic: one or more specs separated by ';', as --dynamic takes them:
 * "batch<=64" (any size to 64) or "seq=16,32" (exactly those).  The interface above
 * gives the largest sizes; dlc_model_shape_at the shape of input (output 0) or output
 * (1) i at given sizes (its rank, or -1 when they are not sizes the model was built
 * for), dlc_model_dims_of the sizes the inputs' shapes imply.  dims: one size per
 * dimension, in the order given. */
DlcModel *dlc_model_compile_dynamic(const char *path, const char *dynamic, const char *dims, int opt_level,
                                    int threads, const char *cflags, int cuda, char *err, size_t errlen);
int dlc_model_num_dims(const DlcModel *m); /* 0: a model of fixed shapes */
const char *dlc_model_dim_name(const DlcModel *m, int j);
int64_t dlc_model_dim_max(const DlcModel *m, int j);
int dlc_model_shape_at(const DlcModel *m, int output, int i, const int64_t *dims, int64_t *shape);
int dlc_model_dims_of(const DlcModel *m, const int64_t *const *shapes, const int *ranks, int64_t *dims, char *err,
                      size_t errlen);
int dlc_model_run_dims(DlcModel *m, const int64_t *dims, const void *const *inputs, void *const *outputs, char *err,
                       size_t errlen);

/* ---- training (docs/TRAINING.md) ----
 *
 * A model compiled with its training steps, as `dlc train` builds them: the model's own
 * training statements, else `loss` ("ce", "bce", "mse", "l1"; NULL: ce) on its single
 * output against a new input "label", every float parameter trained.  optimizer:
 * "NAME" or "NAME:K=V,K=V" as `dlc train --optimizer` takes it (NULL: the model's, else
 * adam); lr > 0 overrides every step's rate; steps: the run's steps, for a schedule
 * without steps= (0: unknown).  The interface: every input (the labels too), then the
 * model's own outputs, which dlc_model_run computes; the labels may be any values
 * there.  Its parameters are the model's float parameters, in the model's order. */
DlcModel *dlc_model_compile_train(const char *path, int64_t batch, const char *dims, const char *loss,
                                  const char *optimizer, double lr, int64_t steps, int opt_level, int threads,
                                  const char *cflags, char *err, size_t errlen);
int dlc_model_num_steps(const DlcModel *m); /* 0 for a model compiled without them */
const char *dlc_model_step_name(const DlcModel *m, int k);
/* Step k on one batch (inputs as for dlc_model_run, every input): update nonzero runs
 * forward, backward and the optimizer, the parameters updated in place; zero computes
 * the loss alone.  *loss (may be NULL): the loss before the update.  0, or -1. */
int dlc_model_step(DlcModel *m, int k, int update, const void *const *inputs, float *loss, char *err, size_t errlen);
int dlc_model_num_params(const DlcModel *m);
const char *dlc_model_param_name(const DlcModel *m, int i);
const char *dlc_model_param_dtype(const DlcModel *m, int i);
int dlc_model_param_rank(const DlcModel *m, int i);
const int64_t *dlc_model_param_dims(const DlcModel *m, int i);
/* The parameter's values inside the model (read and write them there), or NULL. */
void *dlc_model_param(DlcModel *m, int i);
/* The parameters and the optimizer's state, as NAME_save writes them (`dlc train --out`'s
 * NAME.params), and read back.  Written whole, never over an input.  0, or -1. */
int dlc_model_save(DlcModel *m, const char *path, char *err, size_t errlen);
int dlc_model_load(DlcModel *m, const char *path, char *err, size_t errlen);
/* A copy of the ONNX file src at dst with the trained parameters as its initializers
 * (what `dlc train --out` writes for an ONNX model).  0, or -1. */
int dlc_model_write_onnx(DlcModel *m, const char *src, const char *dst, char *err, size_t errlen);
/* The order of n samples in epoch `epoch` of a run seeded by seed: `dlc train`'s. */
void dlc_shuffle(uint64_t seed, uint64_t epoch, int64_t n, int64_t *order);

const char *dlc_version(void); /* "0.1.0 (commit 0123456789ab)" */

/* The budgets and bounds the CLI's flags set (docs/SECURITY.md), process-wide, read by
 * every compile after: name is the flag without its dashes ("max-nodes", "max-trip",
 * "string-heap", ...), value at least 1 (max-trip: 0 takes the bound away again).
 * dlc_limit gives the value now, or -1 for a name it does not know.  0, or -1. */
int dlc_set_limit(const char *name, int64_t value, char *err, size_t errlen);
int64_t dlc_limit(const char *name);
const char *dlc_limit_name(int i); /* the i-th name dlc_limit knows; NULL past the last */

#ifdef __cplusplus
}
#endif

#endif
