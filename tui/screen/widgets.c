/* Drawing widgets over stdscr. */
#include "widgets.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

int text_width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        if (!is_continuation((unsigned char)*s))
            w++;
    return w;
}

int put_text(int y, int x, int max_w, attr_t attr, const char *s)
{
    if (max_w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + max_w > COLS)
        max_w = COLS - x;
    /* Byte length of the first max_w code points. */
    int cols = 0;
    size_t bytes = 0;
    while (s[bytes]) {
        if (!is_continuation((unsigned char)s[bytes])) {
            if (cols == max_w)
                break;
            cols++;
        }
        bytes++;
    }
    attron(attr);
    mvaddnstr(y, x, s, (int)bytes);
    attroff(attr);
    return cols;
}

int put_textf(int y, int x, int max_w, attr_t attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return put_text(y, x, max_w, attr, buf);
}

void fill_row(int y, int x, int w, attr_t attr)
{
    if (y < 0 || y >= LINES)
        return;
    attron(attr);
    for (int i = 0; i < w && x + i < COLS; i++)
        mvaddch(y, x + i, ' ');
    attroff(attr);
}

void panel_draw(const tui_crt *crt, int y, int x, int h, int w, const char *title)
{
    if (h < 2 || w < 4)
        return;
    attr_t border = crt_attr(crt, COL_BORDER);
    attron(border);
    mvaddch(y, x, ACS_ULCORNER);
    mvhline(y, x + 1, ACS_HLINE, w - 2);
    mvaddch(y, x + w - 1, ACS_URCORNER);
    mvvline(y + 1, x, ACS_VLINE, h - 2);
    mvvline(y + 1, x + w - 1, ACS_VLINE, h - 2);
    mvaddch(y + h - 1, x, ACS_LLCORNER);
    mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
    mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
    attroff(border);
    if (title && *title) {
        char t[128];
        snprintf(t, sizeof t, " %s ", title);
        put_text(y, x + 2, w - 4, crt_attr(crt, COL_TITLE), t);
    }
}

void bar_draw(const tui_crt *crt, int y, int x, int w, const bar_segment *seg, int n,
              uint64_t capacity, bool capacity_known)
{
    if (w <= 0)
        return;
    long double total = 0;
    for (int i = 0; i < n; i++)
        total += seg[i].bytes;
    long double scale = capacity_known && capacity > total ? (long double)capacity : total;
    if (scale <= 0) {
        for (int c = 0; c < w; c++)
            put_text(y, x + c, 1, crt_attr(crt, COL_FREE), crt->glyphs.free_cell);
        return;
    }
    /* Cell boundaries from cumulative sums so rounding never drifts. */
    long double cum = 0;
    int col = 0;
    for (int i = 0; i < n; i++) {
        cum += seg[i].bytes;
        int end = (int)lroundl(cum / scale * w);
        if (end > w)
            end = w;
        for (; col < end; col++)
            put_text(y, x + col, 1, crt_attr(crt, seg[i].colour), seg[i].glyph);
    }
    for (; col < w; col++)
        put_text(y, x + col, 1, crt_attr(crt, COL_FREE), crt->glyphs.free_cell);
    if (capacity_known && (long double)capacity < total) {
        int at = (int)floorl((long double)capacity / scale * w);
        if (at >= w)
            at = w - 1;
        put_text(y, x + at, 1, crt_attr(crt, COL_OVERFLOW) | A_REVERSE, crt->glyphs.marker);
    }
}

static int row_of(double v, double y_max, int h)
{
    if (y_max <= 0)
        return h - 1;
    int r = (int)lround((1.0 - v / y_max) * (h - 1));
    if (r < 0)
        r = 0;
    if (r > h - 1)
        r = h - 1;
    return r;
}

void plot_draw(const tui_crt *crt, int y, int x, int h, int w, const double *xs, int n,
               const plot_series *series, int n_series, const plot_hline *hlines,
               int n_hlines, double y_max, double marker_x)
{
    if (h < 2 || w < 4 || n < 1)
        return;
    if (marker_x >= 0 && marker_x <= 1) {
        int c = (int)lround(marker_x * (w - 1));
        for (int r = 0; r < h; r++)
            put_text(y + r, x + c, 1, crt_attr(crt, COL_MARKER), crt->glyphs.marker);
    }
    for (int i = 0; i < n_hlines; i++) {
        if (hlines[i].y > y_max)
            continue;
        int r = row_of(hlines[i].y, y_max, h);
        for (int c = 0; c < w; c++)
            put_text(y + r, x + c, 1, crt_attr(crt, hlines[i].colour), crt->glyphs.capacity);
        if (hlines[i].label && text_width(hlines[i].label) < w)
            put_text(y + r, x, w, crt_attr(crt, hlines[i].colour) | A_BOLD, hlines[i].label);
    }
    /* One cell per column: the series value at the nearest sample. */
    for (int s = 0; s < n_series; s++) {
        int k = 0;
        for (int c = 0; c < w; c++) {
            double at = w > 1 ? (double)c / (w - 1) : 0;
            while (k + 1 < n && fabs(xs[k + 1] - at) <= fabs(xs[k] - at))
                k++;
            put_text(y + row_of(series[s].y[k], y_max, h), x + c, 1,
                     crt_attr(crt, series[s].colour) | A_BOLD, series[s].glyph);
        }
    }
}

void list_scroll(int selected, int n_items, int rows, int *top)
{
    if (rows <= 0)
        return;
    if (selected < *top)
        *top = selected;
    if (selected >= *top + rows)
        *top = selected - rows + 1;
    if (*top > n_items - rows)
        *top = n_items - rows;
    if (*top < 0)
        *top = 0;
}
