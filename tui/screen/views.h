/* The screens of the planner: one draw and one key handler each (ncdu style).
 * Draw functions get the area they own; key handlers return true when the key
 * was theirs. */
#ifndef HR_TUI_VIEWS_H
#define HR_TUI_VIEWS_H

#include <stdbool.h>

#include "actions.h"
#include "app.h"

#define TUI_MIN_COLS 80
#define TUI_MIN_LINES 24

void view_plan_draw(tui_app *app, int y, int x, int h, int w);
bool view_plan_key(tui_app *app, tui_action action, int key);
/* A click at (y, x) on the planner (settings rows). */
bool view_plan_click(tui_app *app, int y, int x);

void view_quant_draw(tui_app *app, int y, int x, int h, int w);
bool view_quant_key(tui_app *app, tui_action action, int key);

void view_compare_draw(tui_app *app, int y, int x, int h, int w);
bool view_compare_key(tui_app *app, tui_action action, int key);

void view_breakdown_draw(tui_app *app, int y, int x, int h, int w);
bool view_breakdown_key(tui_app *app, tui_action action, int key);

void view_open_draw(tui_app *app, int y, int x, int h, int w);
bool view_open_key(tui_app *app, tui_action action, int key);

void view_help_draw(tui_app *app, int y, int x, int h, int w);
bool view_help_key(tui_app *app, tui_action action, int key);

/* Whole frame: header, the current view, status line, key bar. */
void screen_draw(tui_app *app);
/* Switch view (remembers where we came from). */
void screen_show(tui_app *app, tui_view view);

/* Read a line on the status row; true on Enter with the text in out. */
bool prompt_line(tui_app *app, const char *label, const char *initial, char *out, size_t len);

/* Move a list selection by an action over n items with a page of `page` rows;
 * returns true if the action was a movement. */
bool list_move(int *selected, int n, int page, tui_action action);

#endif
