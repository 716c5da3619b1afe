/* headroom plan MODEL [settings]: memory per component and device. */
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

/* Short column heads ("host", "GPU0"); full names are listed above the table. */
static const char *device_label(const hr_plan *p, int d, char *buf, size_t len)
{
    if (p->devices[d].kind == HR_DEVICE_HOST)
        snprintf(buf, len, "host");
    else
        snprintf(buf, len, "GPU%d", d - 1);
    return buf;
}

static void print_devices(const hr_plan *p)
{
    char label[32];
    for (int d = 0; d < p->n_devices; d++) {
        const hr_plan_device *pd = &p->devices[d];
        printf("%-9s %s (%s)", device_label(p, d, label, sizeof label),
               pd->name[0] ? pd->name : "unnamed", hr_backend_name(pd->backend));
        if (pd->kind == HR_DEVICE_GPU && pd->layer_end > pd->layer_begin)
            printf(", layers %d-%d", (int)pd->layer_begin, (int)pd->layer_end - 1);
        else if (pd->kind == HR_DEVICE_GPU)
            printf(", no layers");
        printf("\n");
    }
}

static void print_row(const char *label, const hr_plan *p, const uint64_t *per_device,
                      uint64_t total, bool exact)
{
    char cell[64];
    printf("%-10s", label);
    for (int d = 0; d < p->n_devices; d++)
        printf(" %18s", cli_size(cell, sizeof cell, per_device[d], exact));
    if (p->n_devices > 1)
        printf(" %18s", cli_size(cell, sizeof cell, total, exact));
    printf("\n");
}

static void print_table(const hr_plan *p, bool exact)
{
    char cell[96];
    printf("%-10s", "");
    for (int d = 0; d < p->n_devices; d++)
        printf(" %18s", device_label(p, d, cell, sizeof cell));
    if (p->n_devices > 1)
        printf(" %18s", "all devices");
    printf("\n");
    uint64_t col[HR_MAX_DEVICES];
    for (int c = 0; c < HR_COMP_COUNT; c++) {
        for (int d = 0; d < p->n_devices; d++)
            col[d] = p->devices[d].bytes[c];
        print_row(hr_component_name((hr_component)c), p, col, p->bytes[c], exact);
    }
    for (int d = 0; d < p->n_devices; d++)
        col[d] = p->devices[d].total_bytes;
    print_row("total", p, col, p->total_bytes, exact);

    printf("%-10s", "capacity");
    for (int d = 0; d < p->n_devices; d++)
        printf(" %18s", p->devices[d].capacity_known
                            ? cli_size(cell, sizeof cell, p->devices[d].capacity_bytes, exact)
                            : "unknown");
    printf("\n%-10s", "headroom");
    for (int d = 0; d < p->n_devices; d++)
        printf(" %18s", p->devices[d].capacity_known
                            ? cli_signed_size(cell, sizeof cell, p->devices[d].headroom_bytes, exact)
                            : "unknown");
    printf("\n%-10s", "fits");
    for (int d = 0; d < p->n_devices; d++)
        printf(" %18s", !p->devices[d].capacity_known ? "unknown"
                        : p->devices[d].fits         ? "yes"
                                                     : "NO");
    if (p->n_devices > 1)
        printf(" %18s", p->fits ? "yes" : "NO");
    printf("\n");
}

static void print_resolved(const hr_plan *p)
{
    const hr_type_info *tk = hr_type_get(p->type_k), *tv = hr_type_get(p->type_v);
    printf("Resolved  n_ctx %u (%u per sequence) | batch %u | ubatch %u | parallel %u | "
           "flash attn %s | KV %s/%s | GPU layers %d\n",
           p->n_ctx, p->n_ctx_seq, p->n_batch, p->n_ubatch, p->n_seq, p->flash_attn ? "on" : "off",
           tk ? tk->name : "?", tv ? tv->name : "?", (int)p->n_gpu_layers);
}

static int save_scenario(const cli_session *s)
{
    hr_error err;
    if (hr_scenario_save(s->opts.save_path, &s->sc, &err) != HR_OK)
        return cli_error(CLI_BAD_INPUT, "%s", err.message);
    return CLI_OK;
}

int cmd_plan(int argc, char **argv)
{
    cli_session s;
    int rc = cli_session_open(argc, argv,
                              OPT_JSON | OPT_BYTES | OPT_SETTINGS | OPT_HARDWARE | OPT_HARDWARE_FILE | OPT_SCENARIO |
                                  OPT_SAVE,
                              0, true, &s);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    hr_plan plan;
    hr_error err;
    if (hr_plan_compute(s.model, &s.sc.settings, &s.budget, &plan, &err) != HR_OK) {
        rc = cli_error(CLI_BAD_INPUT, "%s", err.message);
        cli_session_close(&s);
        return rc;
    }
    if (s.opts.save_path && (rc = save_scenario(&s)) != CLI_OK) {
        cli_session_close(&s);
        return rc;
    }
    if (s.opts.json) {
        char *text = hr_plan_to_json(&plan);
        cJSON *root = text ? cJSON_Parse(text) : NULL;
        free(text);
        if (root) {
            cJSON_AddItemToObject(root, "model", cli_model_summary_json(s.model));
            cJSON_AddItemToObject(root, "settings", cli_settings_json(&s.sc));
            cJSON_AddStringToObject(root, "hardware", s.budget.label);
            cli_add_notes_json(root, &s.notes);
        }
        cli_session_close(&s);
        return cli_print_json(root);
    }
    cli_print_model_line(s.model, s.opts.bytes);
    printf("Hardware  %s\n", s.budget.label[0] ? s.budget.label : "this machine");
    print_resolved(&plan);
    print_devices(&plan);
    printf("\n");
    print_table(&plan, s.opts.bytes);
    bool any_known = false;
    for (int d = 0; d < plan.n_devices; d++)
        any_known = any_known || plan.devices[d].capacity_known;
    printf("\n%s\n", !plan.fits ? "Does NOT fit."
                      : any_known ? "Fits."
                                  : "Capacity unknown: fit not checked.");
    for (int i = 0; i < plan.n_notes; i++)
        printf("note: %s\n", plan.notes[i]);
    cli_print_notes(&s.notes);
    if (s.opts.save_path)
        printf("Scenario saved to %s\n", s.opts.save_path);
    cli_session_close(&s);
    return CLI_OK;
}
