/* Shared pieces of the command line: parsed options, output helpers, setup. */
#ifndef HR_CLI_INTERNAL_H
#define HR_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "headroom/headroom.h"

/* Exit codes. */
#define CLI_OK 0
#define CLI_BAD_INPUT 1
#define CLI_USAGE 2

/* Which option groups a command accepts. */
enum {
    OPT_JSON = 1 << 0,
    OPT_CSV = 1 << 1,
    OPT_BYTES = 1 << 2,
    OPT_SETTINGS = 1 << 3, /* --ctx-size ... --margin, --runtime */
    OPT_HARDWARE = 1 << 4, /* --hardware */
    OPT_HARDWARE_FILE = 1 << 7, /* --hardware-file */
    OPT_SCENARIO = 1 << 5, /* --scenario */
    OPT_SAVE = 1 << 6,     /* --save */
    OPT_WORKERS = 1 << 8,  /* --batch, --seq-len, --dtype, --overhead (workers) */
};

#define CLI_MAX_SETTING_ARGS 64
#define CLI_MAX_NOTES 8

typedef struct cli_setting_arg {
    const char *key;   /* scenario key ("ctx_size") */
    const char *value; /* text as given */
    const char *flag;  /* as the user spelled it, for messages */
} cli_setting_arg;

typedef struct cli_opts {
    const char *command;
    const char *positional[4];
    int n_positional;
    bool json, csv, bytes, help;
    const char *scenario_path, *save_path;
    const char *hardware, *hardware_file, *runtime;
    const char *tf_batch, *tf_seq_len, *tf_dtype, *tf_overhead; /* workers */
    cli_setting_arg settings[CLI_MAX_SETTING_ARGS];
    int n_settings;
} cli_opts;

/* Parse argv[2..] for `command` accepting `allowed` groups. Returns CLI_OK or
 * CLI_USAGE (message already printed). */
int cli_parse_args(int argc, char **argv, unsigned allowed, cli_opts *out);

/* Build the scenario: --scenario file first, then flags and the MODEL argument
 * on top. Returns CLI_OK or an exit code (message printed). */
int cli_build_scenario(const cli_opts *o, const char *model_arg, hr_scenario *sc);

/* Notes gathered while setting up (missing runtimes file, ...). */
typedef struct cli_notes {
    char text[CLI_MAX_NOTES][200];
    int n;
} cli_notes;
void cli_note(cli_notes *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Budget from the catalog (sc->hardware) or this machine. */
int cli_make_budget(const hr_scenario *sc, hr_budget *budget);
/* Load runtime overheads into sc->settings.runtime (notes when unavailable). */
int cli_load_runtime(hr_scenario *sc, const hr_budget *budget, cli_notes *notes);
/* Open the model named by sc->model. */
int cli_open_model(const char *spec, hr_model **out);

/* Output helpers. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "762.81 MiB" / "1.25 GiB", or the exact integer with --bytes. */
const char *cli_size(char *buf, size_t len, uint64_t bytes, bool exact);
const char *cli_signed_size(char *buf, size_t len, int64_t bytes, bool exact);
/* Print JSON (cJSON) to stdout and free it. */
int cli_print_json(cJSON *root);
cJSON *cli_model_summary_json(const hr_model *m);
cJSON *cli_settings_json(const hr_scenario *sc);
void cli_add_notes_json(cJSON *root, const cli_notes *notes);
void cli_print_notes(const cli_notes *notes);
void cli_print_model_line(const hr_model *m, bool exact);
/* Read a whole text file of at most max_bytes (malloc'd, NUL-terminated). */
int cli_read_text(const char *path, size_t max_bytes, char **out, size_t *len);

/* What plan, fit, compare and check share: options, scenario, model, budget
 * and runtime. n_args is how many positional arguments follow the MODEL. */
typedef struct cli_session {
    cli_opts opts;
    hr_scenario sc;
    hr_model *model;
    hr_budget budget;
    cli_notes notes;
} cli_session;

/* Returns CLI_OK with everything open, -1 when --help was printed, or an
 * exit code (message printed). need_budget false skips budget and runtime. */
int cli_session_open(int argc, char **argv, unsigned allowed, int n_args, bool need_budget,
                     cli_session *s);
void cli_session_close(cli_session *s);

/* Help. */
void cli_print_help(FILE *f);
bool cli_print_command_help(const char *command, FILE *f);

/* Commands (argc/argv as given to main). */
int cmd_inspect(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_workers(int argc, char **argv);

#endif
