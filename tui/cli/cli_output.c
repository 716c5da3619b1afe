/* Output helpers: errors on stderr, sizes, JSON printing, notes. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

int cli_error(int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* one line: the engine's messages never hold newlines, but file names might */
    for (char *c = msg; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    fprintf(stderr, "headroom: %s\n", msg);
    return code;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cli_error(CLI_USAGE, "%s: %s (see headroom %s --help)", command, msg, command);
}

const char *cli_size(char *buf, size_t len, uint64_t bytes, bool exact)
{
    if (exact)
        snprintf(buf, len, "%" PRIu64, bytes);
    else if ((double)bytes >= GIB)
        snprintf(buf, len, "%.2f GiB", (double)bytes / GIB);
    else
        snprintf(buf, len, "%.2f MiB", (double)bytes / MIB);
    return buf;
}

const char *cli_signed_size(char *buf, size_t len, int64_t bytes, bool exact)
{
    uint64_t mag = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;
    char inner[64];
    cli_size(inner, sizeof inner, mag, exact);
    snprintf(buf, len, "%s%s", bytes < 0 ? "-" : "", inner);
    return buf;
}

int cli_print_json(cJSON *root)
{
    if (!root)
        return cli_error(CLI_BAD_INPUT, "out of memory building JSON");
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return cli_error(CLI_BAD_INPUT, "out of memory printing JSON");
    puts(text);
    free(text);
    return CLI_OK;
}

cJSON *cli_model_summary_json(const hr_model *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", m->name ? m->name : "");
    cJSON_AddStringToObject(o, "path", m->path ? m->path : "");
    cJSON_AddStringToObject(o, "source", hr_source_name(m->source));
    cJSON_AddStringToObject(o, "arch", m->arch_name ? m->arch_name : hr_arch_name(m->arch));
    cJSON_AddStringToObject(o, "quant", m->quant_name ? m->quant_name : "unknown");
    cJSON_AddNumberToObject(o, "n_params", (double)m->n_params);
    cJSON_AddNumberToObject(o, "bytes", (double)m->n_bytes);
    cJSON_AddNumberToObject(o, "bits_per_weight", m->bits_per_weight);
    cJSON_AddNumberToObject(o, "n_layer", m->n_layer);
    cJSON_AddNumberToObject(o, "n_ctx_train", m->n_ctx_train);
    return o;
}

cJSON *cli_settings_json(const hr_scenario *sc)
{
    cJSON *o = cJSON_CreateObject();
    for (const char *const *k = hr_setting_keys(); *k; k++) {
        char value[256];
        if (hr_setting_format(&sc->settings, *k, value, sizeof value))
            cJSON_AddStringToObject(o, *k, value);
    }
    cJSON_AddStringToObject(o, "runtime", sc->settings.runtime.name);
    cJSON_AddStringToObject(o, "hardware", sc->hardware[0] ? sc->hardware : "this machine");
    return o;
}

void cli_note(cli_notes *notes, const char *fmt, ...)
{
    if (notes->n >= CLI_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes->text[notes->n], sizeof notes->text[0], fmt, ap);
    va_end(ap);
    notes->n++;
}

void cli_add_notes_json(cJSON *root, const cli_notes *notes)
{
    /* join the plan's own "notes" array when there is one */
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "notes");
    if (!cJSON_IsArray(arr))
        arr = cJSON_AddArrayToObject(root, "notes");
    for (int i = 0; i < notes->n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(notes->text[i]));
}

void cli_print_notes(const cli_notes *notes)
{
    for (int i = 0; i < notes->n; i++)
        printf("note: %s\n", notes->text[i]);
}

void cli_print_model_line(const hr_model *m, bool exact)
{
    char size[64];
    printf("Model     %s (%s, %s, %.2f B params, %s)\n", m->name ? m->name : "?",
           m->arch_name ? m->arch_name : hr_arch_name(m->arch),
           m->quant_name ? m->quant_name : "unknown", (double)m->n_params / 1e9,
           cli_size(size, sizeof size, m->n_bytes, exact));
}
