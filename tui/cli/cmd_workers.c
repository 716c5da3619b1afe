/* headroom workers MODEL: transformers-style plan and the worker instances that fit. */
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

static int parse_count(const char *flag, const char *text, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *end || v == 0 || v > 1u << 24)
        return cli_usage_error("workers", "%s wants a positive number, not '%s'", flag, text);
    *out = (uint32_t)v;
    return CLI_OK;
}

/* Sizes ("400MiB", "2GiB") share the settings parser through the margin key. */
static int parse_size(const char *flag, const char *text, uint64_t *out)
{
    hr_settings tmp;
    hr_settings_init(&tmp);
    hr_error err;
    if (hr_setting_set(&tmp, "margin", text, &err) != HR_OK || tmp.margin_percent != 0)
        return cli_usage_error("workers", "%s wants a size such as 400MiB, not '%s'", flag, text);
    *out = tmp.margin_bytes;
    return CLI_OK;
}

static int build_settings(const cli_opts *o, const hr_scenario *sc, hr_tf_settings *tf)
{
    hr_tf_settings_init(tf);
    int rc = CLI_OK;
    if (o->tf_batch)
        rc = parse_count("--batch", o->tf_batch, &tf->batch);
    if (rc == CLI_OK && o->tf_seq_len)
        rc = parse_count("--seq-len", o->tf_seq_len, &tf->seq_len);
    if (rc == CLI_OK && o->tf_overhead)
        rc = parse_size("--overhead", o->tf_overhead, &tf->overhead_bytes);
    if (rc == CLI_OK && o->tf_dtype) {
        tf->dtype = hr_type_from_name(o->tf_dtype);
        if (tf->dtype != HR_TYPE_F32 && tf->dtype != HR_TYPE_F16 && tf->dtype != HR_TYPE_BF16)
            rc = cli_usage_error("workers", "--dtype wants F32, F16 or BF16, not '%s'", o->tf_dtype);
    }
    tf->margin_percent = sc->settings.margin_percent;
    tf->margin_bytes = sc->settings.margin_bytes;
    return rc;
}

static void print_line(const char *label, uint64_t bytes, bool exact)
{
    char cell[64];
    printf("%-12s %16s\n", label, cli_size(cell, sizeof cell, bytes, exact));
}

int cmd_workers(int argc, char **argv)
{
    cli_session s;
    int rc = cli_session_open(argc, argv,
                              OPT_JSON | OPT_BYTES | OPT_SETTINGS | OPT_HARDWARE | OPT_HARDWARE_FILE |
                                  OPT_WORKERS,
                              0, true, &s);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    /* of the llama.cpp settings only --device and --margin mean something here:
     * refuse the others rather than ignore them */
    for (int i = 0; i < s.opts.n_settings; i++) {
        const char *key = s.opts.settings[i].key;
        if (strcmp(key, "device") != 0 && strcmp(key, "margin") != 0) {
            rc = cli_usage_error("workers", "%s does not apply to a transformers-style plan",
                                 s.opts.settings[i].flag);
            cli_session_close(&s);
            return rc;
        }
    }
    hr_tf_settings tf;
    rc = build_settings(&s.opts, &s.sc, &tf);
    if (rc != CLI_OK) {
        cli_session_close(&s);
        return rc;
    }
    /* embedding models run one forward pass: no generation cache */
    tf.use_kv_cache = !s.model->embedding_only;
    /* workers default to host RAM; --device gpu puts them on the first GPU */
    bool on_gpu = false;
    for (int i = 0; i < s.opts.n_settings; i++)
        if (strcmp(s.opts.settings[i].key, "device") == 0)
            on_gpu = s.sc.settings.mode == HR_MODE_GPU;
    int device = 0;
    if (on_gpu) {
        for (int d = 1; d < s.budget.n_devices; d++)
            if (s.budget.devices[d].kind == HR_DEVICE_GPU) {
                device = d;
                break;
            }
        if (device == 0) {
            rc = cli_error(CLI_BAD_INPUT, "workers: --device gpu but %s has no GPU",
                           s.budget.label[0] ? s.budget.label : "this machine");
            cli_session_close(&s);
            return rc;
        }
    }
    hr_tf_plan plan;
    uint32_t n = 0;
    hr_error err;
    hr_status st = hr_solve_tf_workers(s.model, &tf, &s.budget, device, &n, &plan, &err);
    bool count_known = st == HR_OK;
    if (!count_known && hr_plan_transformers(s.model, &tf, &plan, &err) != HR_OK) {
        rc = cli_error(CLI_BAD_INPUT, "%s", err.message);
        cli_session_close(&s);
        return rc;
    }
    const hr_budget_device *bd = &s.budget.devices[device];
    if (s.opts.json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "model", cli_model_summary_json(s.model));
        cJSON *set = cJSON_AddObjectToObject(root, "settings");
        cJSON_AddNumberToObject(set, "batch", tf.batch);
        cJSON_AddNumberToObject(set, "seq_len", tf.seq_len ? tf.seq_len : s.model->n_ctx_train);
        cJSON_AddStringToObject(set, "dtype", tf.dtype == HR_TYPE_INVALID ? "checkpoint"
                                                                          : hr_type_get(tf.dtype)->name);
        cJSON_AddBoolToObject(set, "kv_cache", tf.use_kv_cache);
        cJSON *mem = cJSON_AddObjectToObject(root, "memory");
        cJSON_AddNumberToObject(mem, "weights_bytes", (double)plan.weights_bytes);
        cJSON_AddNumberToObject(mem, "kv_bytes", (double)plan.kv_bytes);
        cJSON_AddNumberToObject(mem, "activation_bytes", (double)plan.activation_bytes);
        cJSON_AddNumberToObject(mem, "overhead_bytes", (double)plan.overhead_bytes);
        cJSON_AddNumberToObject(mem, "margin_bytes", (double)plan.margin_bytes);
        cJSON_AddNumberToObject(mem, "total_bytes", (double)plan.total_bytes);
        cJSON_AddStringToObject(root, "device", bd->name);
        if (bd->capacity_known)
            cJSON_AddNumberToObject(root, "capacity_bytes", (double)bd->capacity_bytes);
        else
            cJSON_AddNullToObject(root, "capacity_bytes");
        if (count_known)
            cJSON_AddNumberToObject(root, "workers", n);
        else {
            cJSON_AddNullToObject(root, "workers");
            cJSON_AddStringToObject(root, "workers_unknown_because", err.message);
        }
        rc = cli_print_json(root);
        cli_session_close(&s);
        return rc;
    }
    bool exact = s.opts.bytes;
    cli_print_model_line(s.model, exact);
    printf("Plan      transformers-style, batch %u x %u tokens, %s, %s\n\n", tf.batch,
           tf.seq_len ? tf.seq_len : s.model->n_ctx_train,
           tf.dtype == HR_TYPE_INVALID ? "checkpoint dtype" : hr_type_get(tf.dtype)->name,
           tf.use_kv_cache ? "KV cache" : "no KV cache (embedding forward)");
    print_line("weights", plan.weights_bytes, exact);
    print_line("kv", plan.kv_bytes, exact);
    print_line("activations", plan.activation_bytes, exact);
    print_line("overhead", plan.overhead_bytes, exact);
    print_line("margin", plan.margin_bytes, exact);
    print_line("per worker", plan.total_bytes, exact);
    char cell[64];
    printf("\n%-12s %16s  (%s)\n", "capacity",
           bd->capacity_known ? cli_size(cell, sizeof cell, bd->capacity_bytes, exact) : "unknown",
           bd->name);
    if (count_known)
        printf("%-12s %16u\n", "workers", n);
    else
        printf("%-12s %16s  (%s)\n", "workers", "unknown", err.message);
    if (tf.overhead_bytes == 0)
        printf("\nFramework overhead not counted: pass --overhead (a PyTorch process with a CUDA "
               "context typically holds 300-500 MiB).\n");
    cli_session_close(&s);
    return CLI_OK;
}
