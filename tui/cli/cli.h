/* The scriptable command line: inspect, plan, fit, compare, devices, check. */
#ifndef HR_CLI_H
#define HR_CLI_H

#include <stdbool.h>

/* True if word is a subcommand (or --help / --version). */
bool hr_cli_is_command(const char *word);

/* Run argv[1] as a subcommand. Exit codes: 0 ok, 1 bad input, 2 usage. */
int hr_cli_main(int argc, char **argv);

#endif
