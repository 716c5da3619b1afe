/* The rows of the Settings panel: how each setting is shown, stepped with the
 * arrow keys and parsed from a typed value. Names match the CLI flags. */
#ifndef HR_TUI_SETTINGS_ROWS_H
#define HR_TUI_SETTINGS_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

typedef struct setting_row {
    const char *label;     /* "Context" */
    const char *cli_name;  /* "ctx-size": the same name as the CLI flag */
    const char *input_hint;/* shown in the input prompt */
    /* value text and a dimmer hint ("train 131072") */
    void (*format)(const tui_app *app, char *value, size_t value_len, char *hint, size_t hint_len);
    /* dir = -1 / +1; returns false if nothing changed */
    bool (*step)(tui_app *app, int dir);
    /* typed value; false with the reason in *why */
    bool (*parse)(tui_app *app, const char *text, char *why, size_t why_len);
} setting_row;

int settings_row_count(void);
const setting_row *settings_row_at(int index);

/* Step / parse row `index` and recompute on change (status line on errors). */
void settings_step(tui_app *app, int index, int dir);
void settings_apply_text(tui_app *app, int index, const char *text);
/* Index of the row with this CLI name, -1 if none. */
int settings_find(const char *cli_name);

/* Parse "8192", "8k", "1M" as a count; false if not a number. */
bool parse_count(const char *text, unsigned long long *out);
/* Parse "512", "512M", "1.5G", "2 GiB" as bytes (bare numbers are MiB). */
bool parse_mib_or_size(const char *text, unsigned long long *out);

#endif
