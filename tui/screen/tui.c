/* Placeholder until the planner screen lands (owned by the TUI work). */
#include <stdio.h>

#include "tui.h"

int hr_tui_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "headroom: the interactive planner is not available yet\n");
    return 2;
}
