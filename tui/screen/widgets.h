/* Small drawing widgets: clipped text, panels, a stacked bar meter, a line
 * plot and a scrolling list window. They draw on stdscr and know nothing
 * about the engine. */
#ifndef HR_TUI_WIDGETS_H
#define HR_TUI_WIDGETS_H

#include <stdbool.h>
#include <stdint.h>

#include "crt.h"

/* Columns a UTF-8 string takes (one per code point; the planner uses no wide glyphs). */
int text_width(const char *s);
/* Draw s at (y, x) clipped to max_w columns; returns columns drawn. */
int put_text(int y, int x, int max_w, attr_t attr, const char *s);
/* Same, printf-style. */
int put_textf(int y, int x, int max_w, attr_t attr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Fill columns [x, x + w) of row y with spaces in attr. */
void fill_row(int y, int x, int w, attr_t attr);

/* A box with a title in its top border. */
void panel_draw(const tui_crt *crt, int y, int x, int h, int w, const char *title);

/* A stacked bar of `n` segments (bytes each) against capacity. When the total
 * passes the capacity the bar is scaled to the total and a marker shows where
 * the capacity ends. */
typedef struct bar_segment {
    uint64_t bytes;
    const char *glyph;
    tui_colour colour;
} bar_segment;
void bar_draw(const tui_crt *crt, int y, int x, int w, const bar_segment *seg, int n,
              uint64_t capacity, bool capacity_known);

/* A line plot: n points (x in [0,1]) per series, values against y_max.
 * Horizontal lines (capacities) are drawn first, then the series. */
typedef struct plot_series {
    const double *y;       /* n values */
    tui_colour colour;
    const char *glyph;
} plot_series;
typedef struct plot_hline {
    double y;
    tui_colour colour;
    const char *label;
} plot_hline;
void plot_draw(const tui_crt *crt, int y, int x, int h, int w, const double *xs, int n,
               const plot_series *series, int n_series, const plot_hline *hlines,
               int n_hlines, double y_max, double marker_x);

/* Keep `*top` so that `selected` is visible in a window of `rows` rows. */
void list_scroll(int selected, int n_items, int rows, int *top);

#endif
