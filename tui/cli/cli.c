/* Placeholder until the CLI lands (owned by the CLI work). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

bool hr_cli_is_command(const char *word)
{
    return strcmp(word, "inspect") == 0;
}

int hr_cli_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "headroom: '%s' is not available yet\n", argv[1]);
    return 2;
}
