/* The action table generated from TUI_ACTIONS and the key lookup over it. */
#include "actions.h"

static const tui_action_info table[ACT_COUNT] = {
#define TUI_ACTION_ROW(id, key, alt, keys, bar, help) {ACT_##id, key, alt, keys, bar, help},
    TUI_ACTIONS(TUI_ACTION_ROW)
#undef TUI_ACTION_ROW
};

const tui_action_info *action_table(void)
{
    return table;
}

tui_action action_for_key(int key)
{
    if (key == '\n')
        key = '\r';
    if (key == 127 || key == '\b')
        key = KEY_BACKSPACE;
    for (int i = 0; i < ACT_COUNT; i++)
        if (table[i].key == key || (table[i].alt_key != TUI_NO_KEY && table[i].alt_key == key))
            return table[i].id;
    return ACT_NONE;
}
