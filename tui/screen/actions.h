/* Every action of the planner, listed once. The X-macro generates the action
 * enum, the key bindings and the help screen, so they cannot disagree.
 *
 * X(id, key, alt_key, keys shown in help, key bar / tab label (NULL: none), help text) */
#ifndef HR_TUI_ACTIONS_H
#define HR_TUI_ACTIONS_H

#include <stdbool.h>

#include <curses.h>

#define TUI_CTRL(c) ((c) & 0x1f)
#define TUI_NO_KEY (-1)

#define TUI_ACTIONS(X)                                                                        \
    X(HELP, '?', KEY_F(1), "? F1", "Help", "show this help (Esc returns)")                \
    X(VIEW_PLAN, 'p', KEY_F(2), "p F2", "Plan", "the planner: settings, memory bars, curve")  \
    X(VIEW_QUANT, 't', KEY_F(3), "t F3", "Quant", "quantization table at the current settings") \
    X(VIEW_COMPARE, 'c', KEY_F(4), "c F4", "Compare", "the hardware catalog for this model")  \
    X(VIEW_BREAKDOWN, 'b', KEY_F(5), "b F5", "Layers", "per-device layers and tensor types")  \
    X(OPEN, 'o', KEY_F(6), "o F6", "Open", "open another model (files, presets, recent)")     \
    X(SAVE, 's', TUI_NO_KEY, "s", "Save", "save the scenario (model, settings, hardware) as YAML") \
    X(LOAD, 'l', TUI_NO_KEY, "l", "Load", "load a scenario file")                             \
    X(QUIT, 'q', KEY_F(10), "q F10", "Quit", "quit headroom")                                 \
    X(UP, KEY_UP, 'k', "Up k", NULL, "previous row")                                          \
    X(DOWN, KEY_DOWN, 'j', "Down j", NULL, "next row")                                        \
    X(LEFT, KEY_LEFT, '-', "Left -", NULL, "smaller / previous value of the setting")         \
    X(RIGHT, KEY_RIGHT, '+', "Right +", NULL, "larger / next value of the setting")           \
    X(PAGE_UP, KEY_PPAGE, TUI_NO_KEY, "PgUp", NULL, "one page up")                            \
    X(PAGE_DOWN, KEY_NPAGE, TUI_NO_KEY, "PgDn", NULL, "one page down")                        \
    X(HOME, KEY_HOME, 'g', "Home g", NULL, "first row")                                       \
    X(END, KEY_END, 'G', "End G", NULL, "last row")                                           \
    X(ENTER, '\r', KEY_ENTER, "Enter", NULL, "type a value / use the selected row / open it") \
    X(FILTER, '/', TUI_NO_KEY, "/", NULL, "filter the list (opener, tables)")                 \
    X(RESET, 'r', TUI_NO_KEY, "r", NULL, "reset the settings to llama.cpp's defaults")        \
    X(BACK, 27, KEY_BACKSPACE, "Esc Bksp", NULL, "back to the planner / parent directory")    \
    X(REDRAW, TUI_CTRL('l'), TUI_NO_KEY, "^L", NULL, "redraw the screen")

typedef enum tui_action {
#define TUI_ACTION_ENUM(id, key, alt, keys, bar, help) ACT_##id,
    TUI_ACTIONS(TUI_ACTION_ENUM)
#undef TUI_ACTION_ENUM
    ACT_COUNT,
    ACT_NONE = -1
} tui_action;

typedef struct tui_action_info {
    tui_action id;
    int key, alt_key;
    const char *keys;      /* as shown in help */
    const char *bar_label; /* NULL: not in the key bar */
    const char *help;
} tui_action_info;

/* The table itself (ACT_COUNT entries). */
const tui_action_info *action_table(void);
/* The action bound to a key, ACT_NONE if none ('\n' counts as Enter). */
tui_action action_for_key(int key);

#endif
