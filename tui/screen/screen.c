/* The frame around the views: header, status line, key bar with clickable
 * tabs, the "terminal too small" notice, the input prompt and list movement. */
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "views.h"
#include "widgets.h"

typedef struct view_entry {
    void (*draw)(tui_app *app, int y, int x, int h, int w);
} view_entry;

static const view_entry view_table[VIEW_COUNT] = {
    [VIEW_PLAN] = {view_plan_draw},       [VIEW_QUANT] = {view_quant_draw},
    [VIEW_COMPARE] = {view_compare_draw}, [VIEW_BREAKDOWN] = {view_breakdown_draw},
    [VIEW_OPEN] = {view_open_draw},       [VIEW_HELP] = {view_help_draw},
};

/* The view an action's tab shows, VIEW_COUNT if it is not a view. */
static tui_view view_of_action(tui_action a)
{
    switch (a) {
    case ACT_VIEW_PLAN: return VIEW_PLAN;
    case ACT_VIEW_QUANT: return VIEW_QUANT;
    case ACT_VIEW_COMPARE: return VIEW_COMPARE;
    case ACT_VIEW_BREAKDOWN: return VIEW_BREAKDOWN;
    case ACT_OPEN: return VIEW_OPEN;
    case ACT_HELP: return VIEW_HELP;
    default: return VIEW_COUNT;
    }
}

void screen_show(tui_app *app, tui_view view)
{
    if (view != app->view)
        app->previous_view = app->view;
    app->view = view;
    if (view == VIEW_OPEN)
        app->open_dirty = true;
    if (view == VIEW_HELP)
        app->list_top[VIEW_HELP] = 0;
}

static void draw_header(tui_app *app)
{
    const tui_crt *crt = &app->crt;
    attr_t a = crt_attr(crt, COL_HEADER);
    fill_row(0, 0, COLS, a);
    char line[512];
    const hr_model *m = app->model;
    if (m) {
        char params[32], size[32];
        fmt_params(params, sizeof params, m->n_params);
        fmt_bytes(size, sizeof size, m->n_bytes);
        const char *d = crt->glyphs.dot;
        snprintf(line, sizeof line, " headroom %s %.120s %s %.40s %s %s %s %.40s %.2f bpw %s %s", d,
                 m->name ? m->name : app->model_spec, d,
                 m->arch_name ? m->arch_name : hr_arch_name(m->arch), d, params, d,
                 m->quant_name ? m->quant_name : "?", m->bits_per_weight, d, size);
    } else {
        snprintf(line, sizeof line, " headroom %s no model", crt->glyphs.dot);
    }
    const char *help = "?:help ";
    int hw = text_width(help);
    put_text(0, 0, COLS - hw - 1, a | A_BOLD, line);
    put_text(0, COLS - hw, hw, a, help);
}

static void draw_status(tui_app *app, int y)
{
    const tui_crt *crt = &app->crt;
    fill_row(y, 0, COLS, A_NORMAL);
    if (!app->status[0])
        return;
    attr_t a = app->status_is_error ? crt_attr(crt, COL_ERROR) : crt_attr(crt, COL_STATUS);
    put_textf(y, 0, COLS, a, " %s ", app->status);
}

/* Key bar: the actions with a bar label, generated from the action table;
 * their positions are kept for mouse clicks. */
static void draw_keybar(tui_app *app, int y)
{
    const tui_crt *crt = &app->crt;
    const tui_action_info *t = action_table();
    fill_row(y, 0, COLS, crt_attr(crt, COL_KEYBAR));
    int x = 0;
    app->click_tab_y = y;
    app->n_click_tabs = 0;
    for (int i = 0; i < ACT_COUNT && x < COLS; i++) {
        if (!t[i].bar_label)
            continue;
        char key[8];
        int k = t[i].key;
        if (k >= 32 && k < 127)
            snprintf(key, sizeof key, "%c", k);
        else
            snprintf(key, sizeof key, "?");
        bool active = view_of_action(t[i].id) == app->view;
        int x0 = x;
        x += put_text(y, x, COLS - x, crt_attr(crt, COL_KEY), key);
        x += put_text(y, x, COLS - x,
                      active ? crt_attr(crt, COL_TAB_ACTIVE) : crt_attr(crt, COL_KEYBAR),
                      t[i].bar_label);
        if (app->n_click_tabs < (int)(sizeof app->click_tab_x0 / sizeof app->click_tab_x0[0])) {
            app->click_tab_x0[app->n_click_tabs] = x0;
            app->click_tab_x1[app->n_click_tabs] = x;
            app->click_tab_action[app->n_click_tabs] = t[i].id;
            app->n_click_tabs++;
        }
        x += 1;
    }
}

static void draw_too_small(tui_app *app)
{
    erase();
    const char *msg = "terminal too small";
    char need[64];
    snprintf(need, sizeof need, "need %dx%d, have %dx%d", TUI_MIN_COLS, TUI_MIN_LINES, COLS,
             LINES);
    int y = LINES / 2 - 1;
    put_text(y < 0 ? 0 : y, (COLS - text_width(msg)) / 2 > 0 ? (COLS - text_width(msg)) / 2 : 0,
             COLS, crt_attr(&app->crt, COL_OVERFLOW) | A_BOLD, msg);
    put_text(y + 1, (COLS - text_width(need)) / 2 > 0 ? (COLS - text_width(need)) / 2 : 0, COLS,
             A_NORMAL, need);
    put_text(y + 2, 0, COLS, crt_attr(&app->crt, COL_DIM), " q quits");
    app->click_tab_y = -1;
    app->click_settings_y0 = -100;
}

void screen_draw(tui_app *app)
{
    if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_LINES) {
        draw_too_small(app);
        refresh();
        return;
    }
    erase();
    app->click_settings_y0 = -100;
    draw_header(app);
    view_table[app->view].draw(app, 1, 0, LINES - 3, COLS);
    draw_status(app, LINES - 2);
    draw_keybar(app, LINES - 1);
    refresh();
}

bool prompt_line(tui_app *app, const char *label, const char *initial, char *out, size_t len)
{
    char buf[512];
    text_copy(buf, sizeof buf, initial ? initial : "");
    size_t n = strlen(buf);
    curs_set(1);
    bool done = false, ok = false;
    while (!done) {
        screen_draw(app);
        int y = LINES - 2;
        fill_row(y, 0, COLS, crt_attr(&app->crt, COL_SELECTED));
        int lw = put_text(y, 0, COLS - 2, crt_attr(&app->crt, COL_SELECTED) | A_BOLD, label);
        int room = COLS - lw - 1;
        const char *shown = buf;
        if ((int)n > room && room > 0)
            shown = buf + n - (size_t)room;
        put_text(y, lw, room, crt_attr(&app->crt, COL_SELECTED), shown);
        move(y, lw + text_width(shown) < COLS ? lw + text_width(shown) : COLS - 1);
        refresh();
        int ch = getch();
        switch (ch) {
        case '\n': case '\r': case KEY_ENTER:
            ok = done = true;
            break;
        case 27: case TUI_CTRL('c'): case TUI_CTRL('g'):
            done = true;
            break;
        case KEY_BACKSPACE: case 127: case '\b':
            while (n > 0 && ((unsigned char)buf[n - 1] & 0xC0) == 0x80)
                buf[--n] = '\0';
            if (n > 0)
                buf[--n] = '\0';
            break;
        case TUI_CTRL('u'):
            n = 0;
            buf[0] = '\0';
            break;
        case KEY_RESIZE: case ERR:
            break;
        default:
            if (ch >= 32 && ch < 256 && ch != 127 && n + 1 < sizeof buf && n + 1 < len) {
                buf[n++] = (char)ch;
                buf[n] = '\0';
            }
            break;
        }
    }
    curs_set(0);
    if (ok)
        snprintf(out, len, "%s", buf);
    return ok;
}

bool list_move(int *selected, int n, int page, tui_action action)
{
    if (page < 1)
        page = 1;
    int s = *selected;
    switch (action) {
    case ACT_UP: s -= 1; break;
    case ACT_DOWN: s += 1; break;
    case ACT_PAGE_UP: s -= page; break;
    case ACT_PAGE_DOWN: s += page; break;
    case ACT_HOME: s = 0; break;
    case ACT_END: s = n - 1; break;
    default: return false;
    }
    if (s >= n)
        s = n - 1;
    if (s < 0)
        s = 0;
    *selected = s;
    return true;
}
