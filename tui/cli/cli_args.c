/* Command-line options: llama.cpp spellings mapped to scenario keys. */
#include <string.h>

#include "cli_internal.h"

typedef enum opt_action {
    ACT_SETTING,   /* takes a value: settings key */
    ACT_SETTING_FIXED, /* no value: settings key gets fixed_value */
    ACT_JSON, ACT_CSV, ACT_BYTES, ACT_HELP,
    ACT_SCENARIO, ACT_SAVE, ACT_HARDWARE, ACT_HARDWARE_FILE, ACT_RUNTIME,
    ACT_TF_BATCH, ACT_TF_SEQ_LEN, ACT_TF_DTYPE, ACT_TF_OVERHEAD,
} opt_action;

typedef struct opt_spec {
    const char *long_name;
    const char *short_name; /* NULL if none */
    opt_action action;
    unsigned group;
    const char *key;         /* scenario key for settings */
    const char *fixed_value; /* for ACT_SETTING_FIXED */
} opt_spec;

static const opt_spec options[] = {
    {"--ctx-size", "-c", ACT_SETTING, OPT_SETTINGS, "ctx_size", NULL},
    {"--batch-size", "-b", ACT_SETTING, OPT_SETTINGS, "batch_size", NULL},
    {"--ubatch-size", "-ub", ACT_SETTING, OPT_SETTINGS, "ubatch_size", NULL},
    {"--parallel", "-np", ACT_SETTING, OPT_SETTINGS, "parallel", NULL},
    {"--kv-unified", "-kvu", ACT_SETTING_FIXED, OPT_SETTINGS, "kv_unified", "true"},
    {"--flash-attn", "-fa", ACT_SETTING, OPT_SETTINGS, "flash_attn", NULL},
    {"--cache-type-k", "-ctk", ACT_SETTING, OPT_SETTINGS, "cache_type_k", NULL},
    {"--cache-type-v", "-ctv", ACT_SETTING, OPT_SETTINGS, "cache_type_v", NULL},
    {"--gpu-layers", "-ngl", ACT_SETTING, OPT_SETTINGS, "gpu_layers", NULL},
    {"--n-gpu-layers", NULL, ACT_SETTING, OPT_SETTINGS, "gpu_layers", NULL},
    {"--device", "-dev", ACT_SETTING, OPT_SETTINGS, "device", NULL},
    {"--tensor-split", "-ts", ACT_SETTING, OPT_SETTINGS, "tensor_split", NULL},
    {"--no-kv-offload", "-nkvo", ACT_SETTING_FIXED, OPT_SETTINGS, "kv_offload", "false"},
    {"--no-mmap", NULL, ACT_SETTING_FIXED, OPT_SETTINGS, "mmap", "false"},
    {"--swa-full", NULL, ACT_SETTING_FIXED, OPT_SETTINGS, "swa_full", "true"},
    {"--embeddings", "--embedding", ACT_SETTING_FIXED, OPT_SETTINGS, "embeddings", "true"},
    {"--quant", NULL, ACT_SETTING, OPT_SETTINGS, "quant", NULL},
    {"--margin", NULL, ACT_SETTING, OPT_SETTINGS, "margin", NULL},
    {"--runtime", NULL, ACT_RUNTIME, OPT_SETTINGS, NULL, NULL},
    {"--hardware", NULL, ACT_HARDWARE, OPT_HARDWARE, NULL, NULL},
    {"--hardware-file", NULL, ACT_HARDWARE_FILE, OPT_HARDWARE_FILE, NULL, NULL},
    {"--scenario", NULL, ACT_SCENARIO, OPT_SCENARIO, NULL, NULL},
    {"--save", NULL, ACT_SAVE, OPT_SAVE, NULL, NULL},
    {"--json", NULL, ACT_JSON, OPT_JSON, NULL, NULL},
    {"--csv", NULL, ACT_CSV, OPT_CSV, NULL, NULL},
    {"--bytes", NULL, ACT_BYTES, OPT_BYTES, NULL, NULL},
    {"--batch", NULL, ACT_TF_BATCH, OPT_WORKERS, NULL, NULL},
    {"--seq-len", NULL, ACT_TF_SEQ_LEN, OPT_WORKERS, NULL, NULL},
    {"--dtype", NULL, ACT_TF_DTYPE, OPT_WORKERS, NULL, NULL},
    {"--overhead", NULL, ACT_TF_OVERHEAD, OPT_WORKERS, NULL, NULL},
    {"--help", "-h", ACT_HELP, 0, NULL, NULL},
};

static bool takes_value(opt_action a)
{
    switch (a) {
    case ACT_SETTING: case ACT_SCENARIO: case ACT_SAVE: case ACT_HARDWARE:
    case ACT_HARDWARE_FILE: case ACT_RUNTIME: case ACT_TF_BATCH: case ACT_TF_SEQ_LEN:
    case ACT_TF_DTYPE: case ACT_TF_OVERHEAD:
        return true;
    default:
        return false;
    }
}

/* Match "--name", "-s" or "--name=value" (value returned through *inline_value). */
static const opt_spec *find_option(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        const opt_spec *o = &options[i];
        bool hit = (strlen(o->long_name) == n && strncmp(arg, o->long_name, n) == 0) ||
                   (o->short_name && strlen(o->short_name) == n &&
                    strncmp(arg, o->short_name, n) == 0);
        if (hit) {
            if (eq)
                *inline_value = eq + 1;
            return o;
        }
    }
    return NULL;
}

int cli_parse_args(int argc, char **argv, unsigned allowed, cli_opts *out)
{
    memset(out, 0, sizeof *out);
    out->command = argv[1];
    bool only_positional = false;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (out->n_positional == (int)(sizeof out->positional / sizeof out->positional[0]))
                return cli_usage_error(out->command, "too many arguments ('%s')", arg);
            out->positional[out->n_positional++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        const char *value = NULL;
        const opt_spec *o = find_option(arg, &value);
        if (!o || (o->group && !(allowed & o->group)))
            return cli_usage_error(out->command, "unknown option '%s'", arg);
        if (takes_value(o->action)) {
            if (!value) {
                if (i + 1 >= argc)
                    return cli_usage_error(out->command, "%s needs a value", o->long_name);
                value = argv[++i];
            }
        } else if (value) {
            return cli_usage_error(out->command, "%s takes no value", o->long_name);
        }
        switch (o->action) {
        case ACT_SETTING:
        case ACT_SETTING_FIXED:
            if (out->n_settings == CLI_MAX_SETTING_ARGS)
                return cli_usage_error(out->command, "too many options");
            out->settings[out->n_settings++] = (cli_setting_arg){
                o->key, o->action == ACT_SETTING ? value : o->fixed_value, o->long_name};
            break;
        case ACT_JSON: out->json = true; break;
        case ACT_CSV: out->csv = true; break;
        case ACT_BYTES: out->bytes = true; break;
        case ACT_HELP: out->help = true; break;
        case ACT_SCENARIO: out->scenario_path = value; break;
        case ACT_SAVE: out->save_path = value; break;
        case ACT_HARDWARE: out->hardware = value; break;
        case ACT_HARDWARE_FILE: out->hardware_file = value; break;
        case ACT_RUNTIME: out->runtime = value; break;
        case ACT_TF_BATCH: out->tf_batch = value; break;
        case ACT_TF_SEQ_LEN: out->tf_seq_len = value; break;
        case ACT_TF_DTYPE: out->tf_dtype = value; break;
        case ACT_TF_OVERHEAD: out->tf_overhead = value; break;
        }
    }
    if (out->json && out->csv)
        return cli_usage_error(out->command, "--json and --csv exclude each other");
    return CLI_OK;
}
