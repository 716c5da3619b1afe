/* What several commands need: the model, the budget, the runtime overheads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

static int copy_field(const char *command, const char *what, char *dst, size_t len,
                      const char *value)
{
    if (strlen(value) >= len)
        return cli_usage_error(command, "%s is too long", what);
    strcpy(dst, value);
    return CLI_OK;
}

int cli_build_scenario(const cli_opts *o, const char *model_arg, hr_scenario *sc)
{
    hr_scenario_init(sc);
    if (o->scenario_path) {
        hr_error err;
        if (hr_scenario_load(o->scenario_path, sc, &err) != HR_OK)
            return cli_error(CLI_BAD_INPUT, "%s", err.message);
    }
    for (int i = 0; i < o->n_settings; i++) {
        const cli_setting_arg *a = &o->settings[i];
        hr_error err;
        if (hr_setting_set(&sc->settings, a->key, a->value, &err) != HR_OK)
        {
            /* the engine's message starts with the key name: show the flag instead */
            const char *colon = strchr(err.message, ':');
            return cli_usage_error(o->command, "%s:%s", a->flag,
                                   colon ? colon + 1 : err.message);
        }
    }
    int rc = CLI_OK;
    if (model_arg)
        rc = copy_field(o->command, "the model path", sc->model, sizeof sc->model, model_arg);
    if (rc == CLI_OK && o->hardware)
        rc = copy_field(o->command, "--hardware", sc->hardware, sizeof sc->hardware, o->hardware);
    if (rc == CLI_OK && o->hardware_file)
        rc = copy_field(o->command, "--hardware-file", sc->hardware_file,
                        sizeof sc->hardware_file, o->hardware_file);
    if (rc == CLI_OK && o->runtime)
        rc = copy_field(o->command, "--runtime", sc->runtime, sizeof sc->runtime, o->runtime);
    return rc;
}

int cli_open_model(const char *spec, hr_model **out)
{
    hr_error err;
    *out = NULL;
    if (!spec || !*spec)
        return cli_error(CLI_USAGE, "no model given (a .gguf, safetensors, config.json or preset)");
    if (hr_model_open(spec, out, &err) != HR_OK)
        return cli_error(CLI_BAD_INPUT, "%s", err.message);
    return CLI_OK;
}

int cli_make_budget(const hr_scenario *sc, hr_budget *budget)
{
    hr_error err;
    if (sc->hardware[0]) {
        hr_catalog *cat = NULL;
        const char *file = sc->hardware_file[0] ? sc->hardware_file : NULL;
        if (hr_catalog_load_merged(file, &cat, &err) != HR_OK)
            return cli_error(CLI_BAD_INPUT, "%s", err.message);
        int count = 1;
        const hr_hw_entry *e = hr_catalog_find(cat, sc->hardware, &count);
        if (!e) {
            hr_catalog_free(cat);
            return cli_error(CLI_BAD_INPUT, "unknown hardware '%s' (not in the hardware catalog%s%s)",
                             sc->hardware, file ? " nor " : "", file ? file : "");
        }
        hr_budget_from_entry(e, count, budget);
        hr_catalog_free(cat);
        return CLI_OK;
    }
    hr_system sys;
    if (hr_system_detect(NULL, &sys, &err) != HR_OK)
        return cli_error(CLI_BAD_INPUT, "cannot read this machine's memory: %s", err.message);
    hr_budget_from_system(&sys, budget);
    return CLI_OK;
}

int cli_load_runtime(hr_scenario *sc, const hr_budget *budget, cli_notes *notes)
{
    const char *name = sc->runtime;
    bool explicit_name = name[0] != '\0';
    if (!explicit_name) {
        name = "cpu";
        if (sc->settings.mode == HR_MODE_GPU && budget->n_devices > 1)
            name = hr_backend_name(budget->devices[1].backend);
    }
    hr_error err;
    hr_runtime rt;
    hr_status st = hr_runtime_load(NULL, name, &rt, &err);
    if (st == HR_OK) {
        sc->settings.runtime = rt;
        return CLI_OK;
    }
    if (explicit_name && st != HR_ERR_IO)
        return cli_error(CLI_BAD_INPUT, "%s", err.message);
    cli_note(notes, "runtime overheads not counted: %s", err.message);
    return CLI_OK;
}

int cli_read_text(const char *path, size_t max_bytes, char **out, size_t *len)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_error(CLI_BAD_INPUT, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return cli_error(CLI_BAD_INPUT, "%s: out of memory", path);
    }
    for (;;) {
        if (cap - n < 2) {
            if (cap >= max_bytes + 2) {
                free(buf);
                fclose(f);
                return cli_error(CLI_BAD_INPUT, "%s: larger than %zu MiB", path,
                                 max_bytes >> 20);
            }
            size_t next = cap * 2 > max_bytes + 2 ? max_bytes + 2 : cap * 2;
            char *grown = realloc(buf, next);
            if (!grown) {
                free(buf);
                fclose(f);
                return cli_error(CLI_BAD_INPUT, "%s: out of memory", path);
            }
            buf = grown;
            cap = next;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int read_errno = ferror(f) ? errno : 0;
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(buf);
        return cli_error(CLI_BAD_INPUT, "%s: cannot read: %s", path,
                         read_errno ? strerror(read_errno) : "read error");
    }
    if (n > max_bytes) {
        free(buf);
        return cli_error(CLI_BAD_INPUT, "%s: larger than %zu MiB", path, max_bytes >> 20);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CLI_OK;
}

int cli_session_open(int argc, char **argv, unsigned allowed, int n_args, bool need_budget,
                     cli_session *s)
{
    memset(s, 0, sizeof *s);
    int rc = cli_parse_args(argc, argv, allowed, &s->opts);
    if (rc != CLI_OK)
        return rc;
    const char *command = s->opts.command;
    if (s->opts.help) {
        cli_print_command_help(command, stdout);
        return -1;
    }
    /* MODEL may come from --scenario instead of the command line */
    int n_pos = s->opts.n_positional;
    bool model_in_args = n_pos == n_args + 1;
    if (!(model_in_args || (n_pos == n_args && s->opts.scenario_path))) {
        if (n_args == 0)
            return cli_usage_error(command, "expected one MODEL");
        return cli_usage_error(command, "expected MODEL and %d more argument(s)", n_args);
    }
    rc = cli_build_scenario(&s->opts, model_in_args ? s->opts.positional[0] : NULL, &s->sc);
    if (rc != CLI_OK)
        return rc;
    rc = cli_open_model(s->sc.model, &s->model);
    if (rc != CLI_OK)
        return rc;
    if (!need_budget)
        return CLI_OK;
    rc = cli_make_budget(&s->sc, &s->budget);
    if (rc == CLI_OK)
        rc = cli_load_runtime(&s->sc, &s->budget, &s->notes);
    if (rc != CLI_OK) {
        hr_model_free(s->model);
        s->model = NULL;
    }
    return rc;
}

void cli_session_close(cli_session *s)
{
    hr_model_free(s->model);
    s->model = NULL;
}
