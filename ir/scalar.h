/* scalar.h — the scalar column of ops.def (see scalar.c). */
#ifndef DLC_SCALAR_H
#define DLC_SCALAR_H

#define sc_none 0
double sc_neg(const double *x);
double sc_abs(const double *x);
double sc_exp(const double *x);
double sc_log(const double *x);
double sc_sqrt(const double *x);
double sc_rsqrt(const double *x);
double sc_recip(const double *x);
double sc_tanh(const double *x);
double sc_erf(const double *x);
double sc_sin(const double *x);
double sc_cos(const double *x);
double sc_tan(const double *x);
double sc_asin(const double *x);
double sc_acos(const double *x);
double sc_atan(const double *x);
double sc_sinh(const double *x);
double sc_cosh(const double *x);
double sc_asinh(const double *x);
double sc_acosh(const double *x);
double sc_atanh(const double *x);
double sc_floor(const double *x);
double sc_ceil(const double *x);
double sc_round(const double *x);
double sc_sign(const double *x);
double sc_not(const double *x);
double sc_add(const double *x);
double sc_sub(const double *x);
double sc_mul(const double *x);
double sc_div(const double *x);
double sc_mod(const double *x);
double sc_pow(const double *x);
double sc_max(const double *x);
double sc_min(const double *x);
double sc_eq(const double *x);
double sc_ne(const double *x);
double sc_lt(const double *x);
double sc_le(const double *x);
double sc_gt(const double *x);
double sc_ge(const double *x);
double sc_and(const double *x);
double sc_or(const double *x);
double sc_xor(const double *x);
double sc_bitand(const double *x);
double sc_bitor(const double *x);
double sc_bitxor(const double *x);
double sc_bitnot(const double *x);
double sc_shl(const double *x);
double sc_shr(const double *x);
double sc_select(const double *x);
double sc_idiv(double a, double b);
double sc_imod(double a, double b);

#endif
