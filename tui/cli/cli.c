/* The scriptable command line: dispatch to one function per command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_internal.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
} cli_command;

static const cli_command commands[] = {
    {"inspect", cmd_inspect}, {"plan", cmd_plan},       {"fit", cmd_fit},
    {"compare", cmd_compare}, {"devices", cmd_devices}, {"check", cmd_check},
    {"workers", cmd_workers},
};

bool hr_cli_is_command(const char *word)
{
    static const char *const extra[] = {"help", "--help", "-h", "--version"};
    if (!word)
        return false;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(word, commands[i].name) == 0)
            return true;
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (strcmp(word, extra[i]) == 0)
            return true;
    return false;
}

int hr_cli_main(int argc, char **argv)
{
    const char *word = argv[1];
    if (strcmp(word, "--version") == 0) {
        printf("headroom %s\n", hr_version());
        return CLI_OK;
    }
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
        cli_print_help(stdout);
        return CLI_OK;
    }
    if (strcmp(word, "help") == 0) {
        if (argc < 3) {
            cli_print_help(stdout);
            return CLI_OK;
        }
        if (!cli_print_command_help(argv[2], stdout))
            return cli_error(CLI_USAGE, "unknown command '%s' (see headroom --help)", argv[2]);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(word, commands[i].name) == 0)
            return commands[i].run(argc, argv);
    return cli_error(CLI_USAGE, "unknown command '%s' (see headroom --help)", word);
}
