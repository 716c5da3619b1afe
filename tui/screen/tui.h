/* The interactive ncurses planner. */
#ifndef HR_TUI_H
#define HR_TUI_H

/* `headroom [MODEL] [--scenario F] [--hardware H] [settings]`; returns the exit code. */
int hr_tui_main(int argc, char **argv);

#endif
