/* headroom fit MODEL: the largest settings that fit the budget. */
#include <stdio.h>

#include "cli_internal.h"

static void add_u32_or_null(cJSON *o, const char *key, bool has, double v)
{
    if (has)
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* Why replicas cannot be counted: the budget's devices of unknown capacity. */
static void replicas_unknown_reason(const hr_budget *b, char *why, size_t len)
{
    size_t n = (size_t)snprintf(why, len, "capacity unknown:");
    int named = 0;
    for (int d = 0; d < b->n_devices && n < len; d++) {
        if (b->devices[d].capacity_known)
            continue;
        n += (size_t)snprintf(why + n, len - n, "%s '%s'", named ? "," : "", b->devices[d].name);
        named++;
    }
    if (!named)
        snprintf(why, len, "the plan's devices cannot be counted");
}

static int print_json(const cli_session *s, const hr_fit *f)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "model", cli_model_summary_json(s->model));
    cJSON_AddItemToObject(root, "settings", cli_settings_json(&s->sc));
    cJSON_AddStringToObject(root, "hardware", s->budget.label);
    cJSON_AddBoolToObject(root, "fits_now", f->fits_now);
    add_u32_or_null(root, "max_ctx", f->has_ctx, f->max_ctx);
    add_u32_or_null(root, "max_batch", f->has_batch, f->max_batch);
    add_u32_or_null(root, "max_gpu_layers", f->has_gpu_layers, f->max_gpu_layers);
    if (f->has_ftype && hr_ftype_name(f->best_ftype))
        cJSON_AddStringToObject(root, "best_quant", hr_ftype_name(f->best_ftype));
    else
        cJSON_AddNullToObject(root, "best_quant");
    add_u32_or_null(root, "max_parallel", f->has_parallel, f->max_parallel);
    if (f->has_replicas) {
        cJSON_AddNumberToObject(root, "replicas", f->replicas);
    } else {
        char why[HR_ERROR_MESSAGE_MAX];
        replicas_unknown_reason(&s->budget, why, sizeof why);
        cJSON_AddNullToObject(root, "replicas");
        cJSON_AddStringToObject(root, "replicas_unknown_because", why);
    }
    cli_add_notes_json(root, &s->notes);
    return cli_print_json(root);
}

static void print_answer(const char *label, bool has, const char *fmt, double v)
{
    printf("%-22s", label);
    if (has)
        printf(fmt, v);
    else
        printf("does not fit");
    printf("\n");
}

int cmd_fit(int argc, char **argv)
{
    cli_session s;
    int rc = cli_session_open(argc, argv,
                              OPT_JSON | OPT_BYTES | OPT_SETTINGS | OPT_HARDWARE | OPT_HARDWARE_FILE | OPT_SCENARIO,
                              0, true, &s);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    hr_fit fit;
    hr_error err;
    hr_status st = hr_solve_all(s.model, &s.sc.settings, &s.budget, &fit, &err);
    if (st != HR_OK && st != HR_ERR_NO_FIT) {
        rc = cli_error(CLI_BAD_INPUT, "%s", err.message);
        cli_session_close(&s);
        return rc;
    }
    if (s.opts.json) {
        rc = print_json(&s, &fit);
        cli_session_close(&s);
        return rc;
    }
    cli_print_model_line(s.model, s.opts.bytes);
    printf("Hardware  %s\n\n", s.budget.label[0] ? s.budget.label : "this machine");
    printf("%-22s%s\n", "Fits as set", fit.fits_now ? "yes" : "no");
    print_answer("Largest context", fit.has_ctx, "%.0f tokens", fit.max_ctx);
    print_answer("Largest batch", fit.has_batch, "%.0f tokens", fit.max_batch);
    print_answer("Most GPU layers", fit.has_gpu_layers, "%.0f", fit.max_gpu_layers);
    printf("%-22s%s\n", "Best quantization",
           fit.has_ftype && hr_ftype_name(fit.best_ftype) ? hr_ftype_name(fit.best_ftype)
                                                          : "none fits");
    print_answer("Parallel sequences", fit.has_parallel, "%.0f", fit.max_parallel);
    if (fit.has_replicas) {
        printf("%-22s%u\n", "Replicas", fit.replicas);
    } else {
        char why[HR_ERROR_MESSAGE_MAX];
        replicas_unknown_reason(&s.budget, why, sizeof why);
        printf("%-22sunknown (%s)\n", "Replicas", why);
    }
    cli_print_notes(&s.notes);
    cli_session_close(&s);
    return CLI_OK;
}
