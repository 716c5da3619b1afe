/* File opener: recent models, built-in presets, and a directory browser
 * filtered to model files (.gguf, .safetensors, config.json, .yaml presets). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "format.h"
#include "views.h"
#include "widgets.h"

#define OPEN_MAX_DIR_ENTRIES 2000

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static bool is_model_file(const char *name)
{
    return ends_with_ci(name, ".gguf") || ends_with_ci(name, ".safetensors") ||
           strcasecmp(name, "config.json") == 0 || ends_with_ci(name, ".safetensors.index.json") ||
           ends_with_ci(name, ".yaml") || ends_with_ci(name, ".yml");
}

static bool matches_filter(const tui_app *app, const char *label)
{
    return !app->open_filter[0] || strcasestr(label, app->open_filter) != NULL;
}

typedef struct entry_list {
    open_entry *items;
    int n, cap;
} entry_list;

static open_entry *push(entry_list *l, open_kind kind)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        open_entry *p = realloc(l->items, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        l->items = p;
        l->cap = cap;
    }
    open_entry *e = &l->items[l->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    return e;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_directory(tui_app *app, entry_list *l)
{
    open_entry *h = push(l, OPEN_HEADING);
    if (h)
        snprintf(h->label, sizeof h->label, "Directory %.140s", app->open_dir);
    open_entry *up = push(l, OPEN_PARENT);
    if (up) {
        snprintf(up->label, sizeof up->label, "../");
        text_copy(up->target, sizeof up->target, app->open_dir);
    }
    DIR *d = opendir(app->open_dir);
    if (!d) {
        app_error(app, "%s: cannot list this directory", app->open_dir);
        return;
    }
    char **names = calloc(OPEN_MAX_DIR_ENTRIES, sizeof *names);
    int n = 0;
    struct dirent *de;
    while (names && n < OPEN_MAX_DIR_ENTRIES && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (!names)
        return;
    qsort(names, (size_t)n, sizeof *names, compare_names);
    /* directories first, then model files */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
            char path[APP_PATH_MAX];
            struct stat st;
            if (snprintf(path, sizeof path, "%s/%s", app->open_dir, names[i]) >= (int)sizeof path ||
                stat(path, &st) != 0)
                continue;
            bool dir = S_ISDIR(st.st_mode);
            if ((pass == 0) != dir || (!dir && !is_model_file(names[i])))
                continue;
            if (!matches_filter(app, names[i]))
                continue;
            open_entry *e = push(l, dir ? OPEN_DIR : OPEN_FILE);
            if (!e)
                break;
            snprintf(e->label, sizeof e->label, "%s%s", names[i], dir ? "/" : "");
            text_copy(e->target, sizeof e->target, path);
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void open_refresh(tui_app *app)
{
    if (!app->open_dirty && app->open_entries)
        return;
    app->open_dirty = false;
    entry_list l = {app->open_entries, 0, 0};
    /* reuse nothing: the old array is freed and a new one built */
    l.items = NULL;
    free(app->open_entries);

    open_entry *h;
    if (app->n_recent) {
        if ((h = push(&l, OPEN_HEADING)))
            snprintf(h->label, sizeof h->label, "Recent");
        for (int i = 0; i < app->n_recent; i++) {
            if (!matches_filter(app, app->recent[i]))
                continue;
            open_entry *e = push(&l, OPEN_RECENT);
            if (!e)
                break;
            text_copy(e->label, sizeof e->label, app->recent[i]);
            text_copy(e->target, sizeof e->target, app->recent[i]);
        }
    }
    hr_preset_info *presets = NULL;
    int n_presets = 0;
    hr_error err;
    hr_error_clear(&err);
    if ((h = push(&l, OPEN_HEADING))) {
        if (hr_preset_list(NULL, &presets, &n_presets, &err) == HR_OK)
            snprintf(h->label, sizeof h->label, "Presets (%d built in)", n_presets);
        else
            snprintf(h->label, sizeof h->label, "Presets: %.140s", err.message);
    }
    for (int i = 0; i < n_presets; i++) {
        char label[200];
        snprintf(label, sizeof label, "%-28s %s", presets[i].id, presets[i].name);
        if (!matches_filter(app, label))
            continue;
        open_entry *e = push(&l, OPEN_PRESET);
        if (!e)
            break;
        text_copy(e->label, sizeof e->label, label);
        text_copy(e->target, sizeof e->target, presets[i].id);
    }
    free(presets);
    add_directory(app, &l);
    app->open_entries = l.items;
    app->n_open_entries = l.n;
    int *sel = &app->list_row[VIEW_OPEN];
    if (*sel >= l.n)
        *sel = l.n - 1;
    while (*sel < l.n - 1 && *sel >= 0 && l.items[*sel].kind == OPEN_HEADING)
        (*sel)++;
    if (*sel < 0)
        *sel = 0;
}

void view_open_draw(tui_app *app, int y, int x, int h, int w)
{
    const tui_crt *crt = &app->crt;
    open_refresh(app);
    char title[200];
    snprintf(title, sizeof title, "Open a model%s%s%s  (Enter open, / filter, Bksp up, Esc back)",
             app->open_filter[0] ? " [filter: " : "", app->open_filter,
             app->open_filter[0] ? "]" : "");
    panel_draw(crt, y, x, h, w, title);
    int rows = h - 2, *sel = &app->list_row[VIEW_OPEN];
    list_scroll(*sel, app->n_open_entries, rows, &app->list_top[VIEW_OPEN]);
    app->list_y0[VIEW_OPEN] = y + 1;
    app->list_rows[VIEW_OPEN] = rows;
    for (int k = 0; k < rows; k++) {
        int i = app->list_top[VIEW_OPEN] + k;
        if (i >= app->n_open_entries)
            break;
        const open_entry *e = &app->open_entries[i];
        int ry = y + 1 + k;
        if (e->kind == OPEN_HEADING) {
            put_text(ry, x + 1, w - 2, crt_attr(crt, COL_TITLE), e->label);
            continue;
        }
        attr_t base = i == *sel ? crt_attr(crt, COL_SELECTED) : A_NORMAL;
        fill_row(ry, x + 1, w - 2, base);
        attr_t a = base;
        if (i != *sel)
            a = e->kind == OPEN_DIR || e->kind == OPEN_PARENT ? crt_attr(crt, COL_VALUE)
                                                              : A_NORMAL;
        put_textf(ry, x + 1, w - 2, a, "  %s", e->label);
    }
}

static void go_parent(tui_app *app)
{
    char path[APP_PATH_MAX + 4], resolved[PATH_MAX];
    snprintf(path, sizeof path, "%s/..", app->open_dir);
    if (realpath(path, resolved))
        text_copy(app->open_dir, sizeof app->open_dir, resolved);
    app->open_dirty = true;
    app->list_row[VIEW_OPEN] = 0;
}

bool view_open_key(tui_app *app, tui_action action, int key)
{
    open_refresh(app);
    int *sel = &app->list_row[VIEW_OPEN];
    int before = *sel;
    if (list_move(sel, app->n_open_entries, LINES - 6, action)) {
        /* skip headings in the direction of travel, else the other way */
        int landed = *sel, dir = landed >= before ? 1 : -1;
        for (int attempt = 0; attempt < 2; attempt++, dir = -dir) {
            *sel = landed;
            while (*sel >= 0 && *sel < app->n_open_entries &&
                   app->open_entries[*sel].kind == OPEN_HEADING)
                *sel += dir;
            if (*sel >= 0 && *sel < app->n_open_entries)
                return true;
        }
        *sel = before;
        return true;
    }
    if (key == KEY_BACKSPACE || key == 127 || key == '\b') {
        go_parent(app);
        return true;
    }
    if (action == ACT_FILTER) {
        char text[128];
        if (prompt_line(app, "Filter: ", app->open_filter, text, sizeof text)) {
            text_copy(app->open_filter, sizeof app->open_filter, text);
            app->open_dirty = true;
            app->list_row[VIEW_OPEN] = 0;
            open_refresh(app);
        }
        return true;
    }
    if (action != ACT_ENTER || *sel < 0 || *sel >= app->n_open_entries)
        return false;
    open_entry e = app->open_entries[*sel];
    switch (e.kind) {
    case OPEN_PARENT:
        go_parent(app);
        return true;
    case OPEN_DIR: {
        char resolved[PATH_MAX];
        if (realpath(e.target, resolved))
            text_copy(app->open_dir, sizeof app->open_dir, resolved);
        app->open_dirty = true;
        app->list_row[VIEW_OPEN] = 0;
        return true;
    }
    case OPEN_FILE: case OPEN_PRESET: case OPEN_RECENT:
        if (app_open_model(app, e.target)) {
            app->open_filter[0] = '\0';
            app->open_dirty = true;
            screen_show(app, VIEW_PLAN);
        }
        return true;
    default:
        return true;
    }
}
