/* rt_plot.c — the record of a training run: loss curves as CSV and as an SVG line
 * chart (no dependencies: the SVG is written by hand), and image grids as PGM. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if there is none. */
static int utf8_len(const unsigned char *s, size_t n) {
  int len = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
  if (!len || (size_t)len > n) return 0;
  for (int i = 1; i < len; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  return len;
}

/* Text from a model or a command line as XML character data or an attribute value:
 * markup characters as entities, control bytes and bytes that are not UTF-8 (which no
 * XML document may hold) as the text \xNN. */
static void put_xml(FILE *f, const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  size_t n = strlen(str);
  for (size_t i = 0; i < n;) {
    int u = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;
    if (u) fwrite(s + i, 1, (size_t)u, f), i += (size_t)u;
    else if (s[i] == '&') fputs("&amp;", f), i++;
    else if (s[i] == '<') fputs("&lt;", f), i++;
    else if (s[i] == '>') fputs("&gt;", f), i++;
    else if (s[i] == '\'') fputs("&apos;", f), i++;
    else if (s[i] == '"') fputs("&quot;", f), i++;
    else if (s[i] < 0x20 || s[i] >= 0x7f) fprintf(f, "\\x%02x", s[i++]);
    else fputc(s[i++], f);
  }
}

/* <text ATTRS>TEXT</text>, the text escaped. */
static void text_at(FILE *f, const char *attrs, const char *text) {
  fprintf(f, "<text %s>", attrs);
  put_xml(f, text);
  fputs("</text>\n", f);
}

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
  char at[128];
  snprintf(at, sizeof at, "x='%d' y='%d' font-size='13' text-anchor='middle'", (L + W - R) / 2, H - 12);
  text_at(f, at, xlabel);
  snprintf(at, sizeof at, "x='16' y='%d' font-size='13' text-anchor='middle' transform='rotate(-90 16 %d)'",
           (T + H - B) / 2, (T + H - B) / 2);
  text_at(f, at, ylabel);
}

static void curve(FILE *f, const Box *b, const RtCurve *c, int k) {
  static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  const char *col = colors[k % 5];
  fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", col);
  for (int i = 0; i < c->n; i++)
    if (isfinite(c->y[i])) fprintf(f, "%.1f,%.1f ", px(b, c->x[i]), py(b, c->y[i]));
  char at[128];
  snprintf(at, sizeof at, "x='%d' y='%d' font-size='12' fill='%s' text-anchor='end'", W - R - 8, T + 16 + 16 * k, col);
  fputs("'/>\n", f);
  text_at(f, at, c->name);
}

int rt_plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const RtCurve *c, int nc, DlcErr *e) {
  RtWFile w;
  FILE *f = open_w(&w, path, e);
  if (!f) return -1;
  Box b = bounds(c, nc);
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif'>\n", W, H);
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
  char at[64];
  snprintf(at, sizeof at, "x='%d' y='24' font-size='15' text-anchor='middle'", W / 2);
  text_at(f, at, title);
  axes(f, &b, xlabel, ylabel);
  for (int k = 0; k < nc; k++) curve(f, &b, &c[k], k);
  fprintf(f, "</svg>\n");
  return close_w(&w, e);
}

/* ---- bar charts ---- */

/* A round step for an axis from 0 to top: 1, 2 or 5 times a power of ten, about 5 ticks. */
static double tick_step(double top) {
  double raw = top / 5, p = pow(10, floor(log10(raw)));
  return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

static void bar(FILE *f, const RtBar *b, int i, int n, double top) {
  static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  double slot = (double)(W - L - R) / n, bw = slot * 0.6, x = L + slot * i + (slot - bw) / 2, cx = x + bw / 2;
  double y = H - B - b->value / top * (H - T - B);
  double ylo = H - B - b->lo / top * (H - T - B), yhi = H - B - b->hi / top * (H - T - B);
  fprintf(f, "<rect class='bar' x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'><title>", x, y, bw,
          H - B - y, colors[i % 5]);
  put_xml(f, b->name);
  fprintf(f, ": %.4g (%.4g to %.4g)</title></rect>\n", b->value, b->lo, b->hi);
  fprintf(f, "<g class='whisker' stroke='#222'><line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f'/>"
             "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f'/><line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f'/></g>\n",
          cx, cx, ylo, yhi, cx - bw / 6, cx + bw / 6, ylo, ylo, cx - bw / 6, cx + bw / 6, yhi, yhi);
  char at[128];
  snprintf(at, sizeof at, "class='label' x='%.1f' y='%d' font-size='12' text-anchor='middle'", cx, H - B + 16);
  text_at(f, at, b->name);
  char v[32];
  snprintf(v, sizeof v, "%.4g", b->value);
  snprintf(at, sizeof at, "class='value' x='%.1f' y='%.1f' font-size='11' text-anchor='start'", cx + 4, yhi - 4);
  text_at(f, at, v);
}

int rt_plot_bars(const char *path, const char *title, const char *ylabel, const RtBar *b, int n, DlcErr *e) {
  double top = 0;
  for (int i = 0; i < n; i++) top = fmax(top, fmax(b[i].hi, b[i].value));
  if (!(top > 0) || !isfinite(top)) top = 1;
  double step = tick_step(top * 1.08);
  top = ceil(top * 1.08 / step) * step;
  RtWFile w;
  FILE *f = open_w(&w, path, e);
  if (!f) return -1;
  char at[160];
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif'>\n", W, H);
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
  snprintf(at, sizeof at, "class='title' x='%d' y='24' font-size='14' text-anchor='middle'", W / 2);
  text_at(f, at, title);
  for (double v = 0; v <= top * (1 + 1e-9); v += step) {
    double y = H - B - v / top * (H - T - B);
    fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/>\n", L, W - R, y, y);
    fprintf(f, "<text x='%d' y='%.1f' font-size='12' text-anchor='end'>%.4g</text>\n", L - 6, y + 4, v);
  }
  fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#444'/>\n", L, T, W - L - R, H - T - B);
  snprintf(at, sizeof at, "x='16' y='%d' font-size='13' text-anchor='middle' transform='rotate(-90 16 %d)'",
           (T + H - B) / 2, (T + H - B) / 2);
  text_at(f, at, ylabel);
  for (int i = 0; i < n; i++) bar(f, &b[i], i, n, top);
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
