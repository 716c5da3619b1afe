/* Terminal layer: curses setup and teardown, colours by meaning, glyphs,
 * and the signal handler that restores the terminal before dying. */
#ifndef HR_TUI_CRT_H
#define HR_TUI_CRT_H

#include <stdbool.h>

#include <curses.h>

/* Colours are named by what they mean, never by hue. */
typedef enum tui_colour {
    COL_NORMAL = 0,
    COL_HEADER, COL_BORDER, COL_TITLE, COL_SELECTED, COL_LABEL, COL_VALUE, COL_DIM,
    COL_FITS, COL_TIGHT, COL_OVERFLOW,
    COL_WEIGHTS, COL_KV, COL_OUTPUT, COL_COMPUTE, COL_OVERHEAD, COL_MARGIN, COL_FREE,
    COL_STATUS, COL_ERROR, COL_KEY, COL_KEYBAR, COL_TAB_ACTIVE,
    COL_CURVE, COL_CAPACITY, COL_MARKER,
    COL_COUNT
} tui_colour;

/* Characters that differ between a UTF-8 terminal and a plain one. */
typedef struct tui_glyphs {
    const char *fill[6];   /* one per hr_component, also tells them apart in monochrome */
    const char *free_cell;
    const char *curve;
    const char *capacity;
    const char *marker;
    const char *arrow_left, *arrow_right, *pointer, *dot;
} tui_glyphs;

typedef struct tui_crt {
    bool colour;           /* false: monochrome attributes only */
    bool utf8;
    bool active;           /* curses is up */
    SCREEN *screen;
    tui_glyphs glyphs;
} tui_crt;

/* Start curses on the controlling terminal; false (with a message in why) if
 * there is no usable terminal. Installs the restoring signal handlers. */
bool crt_init(tui_crt *crt, char *why, size_t why_len);
/* Restore the terminal; safe to call twice. */
void crt_done(tui_crt *crt);
/* The attribute to draw `colour` with (monochrome fallback included). */
attr_t crt_attr(const tui_crt *crt, tui_colour colour);

#endif
