/* headroom: subcommands go to the CLI, everything else opens the planner. */
#include <string.h>

#include "cli/cli.h"
#include "screen/tui.h"

int main(int argc, char **argv)
{
    if (argc > 1 && hr_cli_is_command(argv[1]))
        return hr_cli_main(argc, argv);
    return hr_tui_main(argc, argv);
}
