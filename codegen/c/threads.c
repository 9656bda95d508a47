/* threads.c — optional threads in the generated C, through OpenMP, serial without it.
 *
 * The heavy loops (matmul's row blocks or panels, conv's images) are marked with
 * DLC_PARALLEL_FOR, which is an OpenMP worksharing pragma when the code is built with
 * -fopenmp and nothing otherwise: the same file builds serial with any C99 compiler.
 * Each marked loop's iterations write disjoint parts of the result and every element
 * is computed by the same chain of operations whichever thread runs it, so threaded
 * results are bit for bit the serial ones.  Only loops with enough work to pay for
 * waking the threads are marked (CGEN_PAR_MIN_FLOPS).
 *
 * NAME_set_threads(n) sets the threads of every later call (n <= 0: OpenMP's default,
 * OMP_NUM_THREADS or the cores); it returns the count the code will use, 1 when built
 * without OpenMP. */
#include "cgen_c.h"

static const char *const threads_macros[] = {
    "",
    "/* Threads: with -fopenmp, DLC_PARALLEL_FOR shares a loop's iterations among",
    " * NAME_set_threads' threads (each iteration writes its own elements, so results",
    " * do not depend on the count); without it, every loop runs on the calling thread. */",
    "#ifdef _OPENMP",
    "#include <omp.h>",
    "static int dlc_threads; /* 0: OpenMP's default */",
    "#define DLC_PARALLEL_FOR _Pragma(\"omp parallel for schedule(static) num_threads(dlc_threads > 0 ? dlc_threads : omp_get_max_threads())\")",
    "/* A loop whose iterations each use a slot of the kernel's scratch (the thread's",
    " * number): at most DLC_SLOTS threads share it. */",
    "#define DLC_NUM_THREADS (dlc_threads > 0 ? dlc_threads : omp_get_max_threads())",
    "#define DLC_PARALLEL_FOR_SLOTS _Pragma(\"omp parallel for schedule(static) num_threads(DLC_NUM_THREADS < DLC_SLOTS ? DLC_NUM_THREADS : DLC_SLOTS)\")",
    "#define DLC_SLOT() omp_get_thread_num()",
    "#else",
    "#define DLC_PARALLEL_FOR",
    "#define DLC_PARALLEL_FOR_SLOTS",
    "#define DLC_SLOT() 0",
    "#endif",
};

void cgen_c_threads(CEmit *ce) {
  cgen_printf(ce, "\n#define DLC_SLOTS %d /* threads of a loop with per-thread scratch */", CGEN_SLOTS);
  cgen_lines(ce, threads_macros, sizeof threads_macros / sizeof threads_macros[0]);
}

bool cgen_par_worth(double flops) { return flops >= CGEN_PAR_MIN_FLOPS; }

bool cgen_par_elems(int64_t elems, double cost) { return cgen_par_worth((double)elems * cost); }

void cgen_par_for(CEmit *ce, int depth) { cgen_line(ce, depth, "DLC_PARALLEL_FOR"); }

void cgen_par_for_slots(CEmit *ce, int depth) { cgen_line(ce, depth, "DLC_PARALLEL_FOR_SLOTS"); }

void cgen_c_threads_api(CEmit *ce) {
  const char *nm = ce->o->name;
  cgen_printf(ce, "\nint %s_set_threads(int n) {\n", nm);
  cgen_printf(ce, "#ifdef _OPENMP\n");
  cgen_line(ce, 1, "dlc_threads = n > 0 ? n : 0;");
  cgen_line(ce, 1, "return dlc_threads > 0 ? dlc_threads : omp_get_max_threads();");
  cgen_printf(ce, "#else\n");
  cgen_line(ce, 1, "(void)n;");
  cgen_line(ce, 1, "return 1;");
  cgen_printf(ce, "#endif\n}\n");
}
