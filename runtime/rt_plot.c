/* rt_plot.c — the record of a training run: loss curves as CSV and as an SVG line
 * chart (no dependencies: the SVG is written by hand), and image grids as PGM. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt_data.h"

/* Each file is written whole or not at all (rt_file.c). */
static FILE *open_w(RtWFile *w, const char *path, DlcErr *e) { return rt_wfile_open(w, path, e) ? NULL : w->f; }
static int close_w(RtWFile *w, DlcErr *e) { return rt_wfile_commit(w, e); }

int rt_plot_csv(const char *path, const char *const *header, int ncol, const double *values,
                int nrow, DlcErr *e) {
  RtWFile w;
  FILE *f = open_w(&w, path, e);
  if (!f) return -1;
  for (int c = 0; c < ncol; c++) fprintf(f, "%s%s", c ? "," : "", header[c]);
  fputc('\n', f);
  for (int r = 0; r < nrow; r++)
    for (int c = 0; c < ncol; c++) fprintf(f, "%.9g%s", values[r * ncol + c], c + 1 < ncol ? "," : "\n");
  return close_w(&w, e);
}

/* ---- SVG ---- */

enum { W = 720, H = 420, L = 70, R = 20, T = 40, B = 50 };

typedef struct Box {
  double x0, x1, y0, y1;
} Box;

static Box bounds(const RtCurve *c, int nc) {
  Box b = {INFINITY, -INFINITY, INFINITY, -INFINITY};
  for (int k = 0; k < nc; k++)
    for (int i = 0; i < c[k].n; i++) {
      if (!isfinite(c[k].y[i])) continue;
      b.x0 = fmin(b.x0, c[k].x[i]), b.x1 = fmax(b.x1, c[k].x[i]);
      b.y0 = fmin(b.y0, c[k].y[i]), b.y1 = fmax(b.y1, c[k].y[i]);
    }
  if (!(b.x1 > b.x0)) b.x0 = isfinite(b.x0) ? b.x0 - 1 : 0, b.x1 = b.x0 + 2;
  if (!(b.y1 > b.y0)) b.y0 = isfinite(b.y0) ? b.y0 - 1 : 0, b.y1 = b.y0 + 2;
  if (b.y0 > 0 && b.y0 < 0.5 * b.y1) b.y0 = 0; /* losses: from zero when that costs little */
  return b;
}

static double px(const Box *b, double x) { return L + (x - b->x0) / (b->x1 - b->x0) * (W - L - R); }
static double py(const Box *b, double y) { return H - B - (y - b->y0) / (b->y1 - b->y0) * (H - T - B); }

static void axes(FILE *f, const Box *b, const char *xlabel, const char *ylabel) {
  fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#444'/>\n", L, T, W - L - R, H - T - B);
  for (int i = 0; i <= 4; i++) {
    double vx = b->x0 + (b->x1 - b->x0) * i / 4, vy = b->y0 + (b->y1 - b->y0) * i / 4;
    fprintf(f, "<text x='%.1f' y='%d' font-size='12' text-anchor='middle'>%.4g</text>\n", px(b, vx), H - B + 16, vx);
    fprintf(f, "<text x='%d' y='%.1f' font-size='12' text-anchor='end'>%.4g</text>\n", L - 6, py(b, vy) + 4, vy);
    fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/>\n", L, W - R, py(b, vy), py(b, vy));
  }
  fprintf(f, "<text x='%d' y='%d' font-size='13' text-anchor='middle'>%s</text>\n", (L + W - R) / 2, H - 12, xlabel);
  fprintf(f, "<text x='16' y='%d' font-size='13' text-anchor='middle' transform='rotate(-90 16 %d)'>%s</text>\n",
          (T + H - B) / 2, (T + H - B) / 2, ylabel);
}

static void curve(FILE *f, const Box *b, const RtCurve *c, int k) {
  static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  const char *col = colors[k % 5];
  fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", col);
  for (int i = 0; i < c->n; i++)
    if (isfinite(c->y[i])) fprintf(f, "%.1f,%.1f ", px(b, c->x[i]), py(b, c->y[i]));
  fprintf(f, "'/>\n<text x='%d' y='%d' font-size='12' fill='%s' text-anchor='end'>%s</text>\n", W - R - 8,
          T + 16 + 16 * k, col, c->name);
}

int rt_plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const RtCurve *c, int nc, DlcErr *e) {
  RtWFile w;
  FILE *f = open_w(&w, path, e);
  if (!f) return -1;
  Box b = bounds(c, nc);
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif'>\n", W, H);
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
  fprintf(f, "<text x='%d' y='24' font-size='15' text-anchor='middle'>%s</text>\n", W / 2, title);
  axes(f, &b, xlabel, ylabel);
  for (int k = 0; k < nc; k++) curve(f, &b, &c[k], k);
  fprintf(f, "</svg>\n");
  return close_w(&w, e);
}

/* ---- image grids ---- */

int rt_plot_grid(const char *path, const float *img, int n, int rows, int cols, int per_row,
                 DlcErr *e) {
  int gr = (n + per_row - 1) / per_row, w = per_row * (cols + 1) + 1, h = gr * (rows + 1) + 1;
  unsigned char *p = dlc_try_calloc((size_t)w * (size_t)h, 1);
  if (!p) return rt_fail(e, RT_E_NOMEM, path, NULL);
  for (int k = 0; k < n; k++)
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++) {
        float v = img[((size_t)k * rows + r) * cols + c];
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        p[(size_t)(k / per_row * (rows + 1) + 1 + r) * w + k % per_row * (cols + 1) + 1 + c] = (unsigned char)(v * 255 + 0.5f);
      }
  RtWFile out;
  FILE *f = open_w(&out, path, e);
  if (!f) return free(p), -1;
  fprintf(f, "P5\n%d %d\n255\n", w, h);
  fwrite(p, 1, (size_t)w * (size_t)h, f);
  free(p);
  return close_w(&out, e);
}
