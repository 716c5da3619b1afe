/* `headroom [MODEL] [options]`: the interactive planner's entry point and its
 * event loop. Views draw and take keys; this file wires keys, mouse and
 * resizes to them and makes sure the terminal is restored on every exit. */
#include "tui.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "recent.h"
#include "settings_rows.h"
#include "views.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: headroom [MODEL] [--hardware SPEC] [--scenario FILE] [--SETTING VALUE...]\n"
            "  MODEL       a .gguf, .safetensors, config.json, directory or preset id\n"
            "              (default: the %s preset on this machine)\n"
            "  --hardware  a catalog entry, e.g. \"2x RTX 4090\" (default: this machine)\n"
            "  --scenario  a scenario YAML saved with s or `headroom plan --save`\n"
            "  settings    --ctx-size --batch-size --ubatch-size --parallel --quant\n"
            "              --cache-type-k --flash-attn --gpu-layers --margin --margin-mib\n"
            "              --runtime, as in the planner's Settings panel\n"
            "other commands: headroom --help\n",
            HR_DEFAULT_PRESET);
}

typedef struct tui_args {
    const char *model;
    const char *hardware;
    const char *scenario;
    int setting_index[32];
    const char *setting_value[32];
    int n_settings;
} tui_args;

/* 0 ok, 2 usage error (message printed), 1 help printed. */
static int parse_args(int argc, char **argv, tui_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help-tui") == 0) {
            usage(stdout);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (a->model) {
                fprintf(stderr, "headroom: more than one model given ('%s' and '%s')\n",
                        a->model, arg);
                return 2;
            }
            a->model = arg;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "headroom: %s needs a value\n", arg);
            return 2;
        }
        const char *value = argv[++i];
        if (strcmp(arg, "--hardware") == 0) {
            a->hardware = value;
        } else if (strcmp(arg, "--scenario") == 0) {
            a->scenario = value;
        } else {
            int row = settings_find(arg + 2);
            if (row < 0 && strcmp(arg, "--cache-type-v") == 0)
                row = settings_find("cache-type-k");
            if (row < 0 && strcmp(arg, "--n-gpu-layers") == 0)
                row = settings_find("gpu-layers");
            if (row < 0 || a->n_settings >= 32) {
                fprintf(stderr, "headroom: unknown option %s\n", arg);
                usage(stderr);
                return 2;
            }
            a->setting_index[a->n_settings] = row;
            a->setting_value[a->n_settings++] = value;
        }
    }
    return 0;
}

/* Apply the command line to the app; false (message printed) on a bad value. */
static bool apply_args(tui_app *app, const tui_args *a)
{
    if (a->scenario && !app_load_scenario(app, a->scenario)) {
        fprintf(stderr, "headroom: %s\n", app->status);
        return false;
    }
    if (a->hardware && !app_set_target_spec(app, a->hardware)) {
        fprintf(stderr, "headroom: %s\n", app->status);
        return false;
    }
    for (int i = 0; i < a->n_settings; i++) {
        settings_apply_text(app, a->setting_index[i], a->setting_value[i]);
        if (app->status_is_error) {
            fprintf(stderr, "headroom: %s\n", app->status);
            return false;
        }
    }
    return true;
}

static void run_action(tui_app *app, tui_action action, int key);

static void handle_mouse(tui_app *app)
{
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return;
    if (ev.bstate & BUTTON4_PRESSED) {
        run_action(app, ACT_UP, TUI_NO_KEY);
        return;
    }
    if (ev.bstate & BUTTON5_PRESSED) {
        run_action(app, ACT_DOWN, TUI_NO_KEY);
        return;
    }
    if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)))
        return;
    if (ev.y == app->click_tab_y) {
        for (int i = 0; i < app->n_click_tabs; i++)
            if (ev.x >= app->click_tab_x0[i] && ev.x < app->click_tab_x1[i]) {
                run_action(app, (tui_action)app->click_tab_action[i], TUI_NO_KEY);
                return;
            }
        return;
    }
    if (app->view == VIEW_PLAN) {
        view_plan_click(app, ev.y, ev.x);
        return;
    }
    /* lists: a click selects a row, a click on the selected row uses it */
    tui_view v = app->view;
    int row = ev.y - app->list_y0[v];
    if ((v == VIEW_QUANT || v == VIEW_COMPARE || v == VIEW_OPEN) && row >= 0 &&
        row < app->list_rows[v]) {
        int item = app->list_top[v] + row;
        int n = v == VIEW_QUANT ? app->n_quant_rows
                : v == VIEW_COMPARE ? app->n_compare_rows : app->n_open_entries;
        if (item >= n)
            return;
        if (item == app->list_row[v]) {
            run_action(app, ACT_ENTER, TUI_NO_KEY);
        } else if (v != VIEW_OPEN || app->open_entries[item].kind != OPEN_HEADING) {
            app->list_row[v] = item;
        }
    }
}

static void ask_and_save(tui_app *app)
{
    char path[APP_PATH_MAX];
    if (prompt_line(app, "Save scenario to: ", "headroom-scenario.yaml", path, sizeof path) &&
        path[0])
        app_save_scenario(app, path);
}

static void ask_and_load(tui_app *app)
{
    char path[APP_PATH_MAX];
    if (prompt_line(app, "Load scenario from: ", "headroom-scenario.yaml", path, sizeof path) &&
        path[0])
        app_load_scenario(app, path);
}

static bool view_key(tui_app *app, tui_action action, int key)
{
    switch (app->view) {
    case VIEW_PLAN: return view_plan_key(app, action, key);
    case VIEW_QUANT: return view_quant_key(app, action, key);
    case VIEW_COMPARE: return view_compare_key(app, action, key);
    case VIEW_BREAKDOWN: return view_breakdown_key(app, action, key);
    case VIEW_OPEN: return view_open_key(app, action, key);
    case VIEW_HELP: return view_help_key(app, action, key);
    default: return false;
    }
}

/* The current view gets the key first; then the actions every view shares. */
static void run_action(tui_app *app, tui_action action, int key)
{
    if (view_key(app, action, key))
        return;
    switch (action) {
    case ACT_QUIT: app->quit = true; break;
    case ACT_HELP: screen_show(app, VIEW_HELP); break;
    case ACT_VIEW_PLAN: screen_show(app, VIEW_PLAN); break;
    case ACT_VIEW_QUANT: screen_show(app, VIEW_QUANT); break;
    case ACT_VIEW_COMPARE: screen_show(app, VIEW_COMPARE); break;
    case ACT_VIEW_BREAKDOWN: screen_show(app, VIEW_BREAKDOWN); break;
    case ACT_OPEN: screen_show(app, VIEW_OPEN); break;
    case ACT_SAVE: ask_and_save(app); break;
    case ACT_LOAD: ask_and_load(app); break;
    case ACT_BACK: screen_show(app, VIEW_PLAN); break;
    case ACT_REDRAW: clearok(stdscr, TRUE); break;
    default: break;
    }
}

/* True if a key is already waiting (typeahead, a held arrow key). */
static bool input_pending(void)
{
    nodelay(stdscr, TRUE);
    int ch = getch();
    nodelay(stdscr, FALSE);
    if (ch == ERR)
        return false;
    ungetch(ch);
    return true;
}

#define MAX_FAILED_READS 100

static void event_loop(tui_app *app)
{
    int failed_reads = 0;
    while (!app->quit) {
        if (app->derived_stale && !input_pending())
            app_recompute_derived(app);
        screen_draw(app);
        int key = getch();
        if (key == ERR) {
            /* a blocking read only fails for good when the terminal went away */
            if (++failed_reads >= MAX_FAILED_READS)
                app->quit = true;
            continue;
        }
        failed_reads = 0;
        if (key == KEY_RESIZE)
            continue; /* ncurses already updated LINES / COLS: the next frame follows */
        if (key == KEY_MOUSE) {
            handle_mouse(app);
            continue;
        }
        tui_action action = action_for_key(key);
        if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_LINES) {
            if (action == ACT_QUIT)
                app->quit = true;
            continue;
        }
        run_action(app, action, key);
    }
}

int hr_tui_main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    tui_args args;
    int rc = parse_args(argc, argv, &args);
    if (rc)
        return rc == 1 ? 0 : 2;

    tui_app *app = calloc(1, sizeof *app);
    if (!app) {
        fprintf(stderr, "headroom: out of memory\n");
        return 1;
    }
    app_init(app);
    recent_load(app);
    const char *spec = args.model ? args.model : HR_DEFAULT_PRESET;
    if (!app_open_model(app, spec)) {
        if (args.model) {
            fprintf(stderr, "headroom: %s\n", app->status);
            app_free(app);
            free(app);
            return 1;
        }
        app->view = VIEW_OPEN; /* no default model: let the user pick one */
    }
    if (!apply_args(app, &args)) {
        app_free(app);
        free(app);
        return 1;
    }

    char why[256];
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "headroom: the planner needs a terminal; for scripts use a command "
                        "such as `headroom plan MODEL --json` (see headroom --help)\n");
        app_free(app);
        free(app);
        return 2;
    }
    if (!crt_init(&app->crt, why, sizeof why)) {
        fprintf(stderr, "headroom: %s\n", why);
        app_free(app);
        free(app);
        return 2;
    }
    event_loop(app);
    crt_done(&app->crt);
    recent_save(app);
    app_free(app);
    free(app);
    return 0;
}
