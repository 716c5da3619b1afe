/* Recent models kept across runs in ~/.config/headroom/recent (or under
 * $XDG_CONFIG_HOME), but only where that headroom directory already exists:
 * the planner never creates directories in a home on its own. */
#ifndef HR_TUI_RECENT_H
#define HR_TUI_RECENT_H

#include "app.h"

/* Load the list into app->recent (no-op when the file is absent). */
void recent_load(tui_app *app);
/* Write app->recent back (no-op when the directory is absent). */
void recent_save(const tui_app *app);

#endif
