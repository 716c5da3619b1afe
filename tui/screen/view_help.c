/* Help: generated from the action table (the same one the keys come from)
 * and the settings rows (with their CLI names). */
#include <stdio.h>

#include "format.h"
#include "settings_rows.h"
#include "views.h"
#include "widgets.h"

void view_help_draw(tui_app *app, int y, int x, int h, int w)
{
    const tui_crt *crt = &app->crt;
    panel_draw(crt, y, x, h, w, "Help (Esc or q returns)");
    const tui_action_info *t = action_table();
    int n_lines = ACT_COUNT + 3 + settings_row_count();
    int rows = h - 2;
    int *top = &app->list_top[VIEW_HELP];
    if (*top > n_lines - rows)
        *top = n_lines - rows;
    if (*top < 0)
        *top = 0;
    int line = 0, ry = y + 1;
#define HELP_ROW (line++ >= *top && ry < y + 1 + rows)
    if (HELP_ROW)
        put_text(ry++, x + 2, w - 4, crt_attr(crt, COL_TITLE), "Keys");
    for (int i = 0; i < ACT_COUNT; i++)
        if (HELP_ROW) {
            put_text(ry, x + 2, 12, crt_attr(crt, COL_VALUE) | A_BOLD, t[i].keys);
            put_text(ry, x + 15, w - 17, A_NORMAL, t[i].help);
            ry++;
        }
    if (HELP_ROW)
        ry++;
    if (HELP_ROW)
        put_text(ry++, x + 2, w - 4, crt_attr(crt, COL_TITLE),
                 "Settings (Left/Right steps, Enter types a value; names as the CLI flags)");
    for (int i = 0; i < settings_row_count(); i++)
        if (HELP_ROW) {
            const setting_row *r = settings_row_at(i);
            put_text(ry, x + 2, 14, crt_attr(crt, COL_VALUE) | A_BOLD, r->label);
            put_textf(ry, x + 17, w - 19, A_NORMAL, "--%-14s %s", r->cli_name, r->input_hint);
            ry++;
        }
#undef HELP_ROW
}

bool view_help_key(tui_app *app, tui_action action, int key)
{
    (void)key;
    int *top = &app->list_top[VIEW_HELP];
    switch (action) {
    case ACT_UP: *top -= 1; return true;
    case ACT_DOWN: *top += 1; return true;
    case ACT_PAGE_UP: *top -= LINES / 2; return true;
    case ACT_PAGE_DOWN: *top += LINES / 2; return true;
    case ACT_QUIT: case ACT_HELP: case ACT_BACK: case ACT_ENTER:
        screen_show(app, app->previous_view == VIEW_HELP ? VIEW_PLAN : app->previous_view);
        return true;
    default:
        return false;
    }
}
