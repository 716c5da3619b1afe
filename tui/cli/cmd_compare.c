/* headroom compare MODEL: one row per catalog entry, cheapest fitting first. */
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

typedef struct compare_row {
    const hr_hw_entry *entry;
    bool fits;
    bool headroom_known;
    int64_t headroom_bytes; /* smallest headroom over devices with a known capacity */
    bool has_ctx, has_ftype;
    uint32_t max_ctx;
    hr_ftype best_ftype;
    double usd_per_gb;      /* price / decimal GB of device memory; < 0 unknown */
} compare_row;

/* Fitting rows first; among them known prices ascending, then by headroom.
 * The rest: closest to fitting first. */
static int row_order(const void *pa, const void *pb)
{
    const compare_row *a = pa, *b = pb;
    if (a->fits != b->fits)
        return a->fits ? -1 : 1;
    if (a->fits) {
        bool pa_known = a->entry->price_known, pb_known = b->entry->price_known;
        if (pa_known != pb_known)
            return pa_known ? -1 : 1;
        if (pa_known && a->entry->price_usd != b->entry->price_usd)
            return a->entry->price_usd < b->entry->price_usd ? -1 : 1;
    }
    if (a->headroom_bytes != b->headroom_bytes)
        return a->headroom_bytes > b->headroom_bytes ? -1 : 1;
    return strcmp(a->entry->id, b->entry->id);
}

/* Runtime overheads for an entry's backend (the same for every entry of it). */
static void runtime_for(const hr_scenario *sc, const hr_hw_entry *e, hr_settings *s,
                        cli_notes *notes, bool *noted)
{
    const char *name = sc->runtime;
    if (!name[0])
        name = (sc->settings.mode == HR_MODE_GPU && e->kind == HR_DEVICE_GPU)
                   ? hr_backend_name(e->backend)
                   : "cpu";
    hr_error err;
    if (hr_runtime_load(NULL, name, &s->runtime, &err) != HR_OK) {
        memset(&s->runtime, 0, sizeof s->runtime);
        if (!*noted) {
            cli_note(notes, "runtime overheads not counted: %s", err.message);
            *noted = true;
        }
    }
}

static int evaluate(const cli_session *s, const hr_hw_entry *e, compare_row *row,
                    cli_notes *notes, bool *noted)
{
    hr_budget budget;
    hr_budget_from_entry(e, 1, &budget);
    hr_settings settings = s->sc.settings;
    runtime_for(&s->sc, e, &settings, notes, noted);
    memset(row, 0, sizeof *row);
    row->entry = e;
    hr_plan plan;
    hr_error err;
    if (hr_plan_compute(s->model, &settings, &budget, &plan, &err) != HR_OK)
        return cli_error(CLI_BAD_INPUT, "%s", err.message);
    row->fits = plan.fits;
    for (int d = 0; d < plan.n_devices; d++) {
        const hr_plan_device *pd = &plan.devices[d];
        if (!pd->capacity_known)
            continue;
        if (!row->headroom_known || pd->headroom_bytes < row->headroom_bytes)
            row->headroom_bytes = pd->headroom_bytes;
        row->headroom_known = true;
    }
    row->has_ctx = hr_solve_max_ctx(s->model, &settings, &budget, false, &row->max_ctx, &err) == HR_OK;
    row->has_ftype = hr_solve_best_ftype(s->model, &settings, &budget, &row->best_ftype, &err) == HR_OK;
    row->usd_per_gb = -1;
    if (e->price_known && e->memory_bytes > 0)
        row->usd_per_gb = e->price_usd / ((double)e->memory_bytes / 1e9);
    return CLI_OK;
}

static const char *quant_text(const compare_row *r)
{
    const char *name = r->has_ftype ? hr_ftype_name(r->best_ftype) : NULL;
    return name ? name : "";
}

static void print_csv_field(const char *text)
{
    bool quote = strpbrk(text, ",\"\n") != NULL;
    if (!quote) {
        fputs(text, stdout);
        return;
    }
    putchar('"');
    for (const char *c = text; *c; c++) {
        if (*c == '"')
            putchar('"');
        putchar(*c);
    }
    putchar('"');
}

static void print_csv(const compare_row *rows, int n)
{
    printf("id,name,memory_bytes,fits,headroom_bytes,max_ctx,best_quant,price_usd,usd_per_gb\n");
    for (int i = 0; i < n; i++) {
        const compare_row *r = &rows[i];
        print_csv_field(r->entry->id);
        putchar(',');
        print_csv_field(r->entry->name);
        printf(",%llu,%s,", (unsigned long long)r->entry->memory_bytes, r->fits ? "yes" : "no");
        if (r->headroom_known)
            printf("%lld", (long long)r->headroom_bytes);
        putchar(',');
        if (r->has_ctx)
            printf("%u", r->max_ctx);
        printf(",%s,", quant_text(r));
        if (r->entry->price_known)
            printf("%.2f", r->entry->price_usd);
        putchar(',');
        if (r->usd_per_gb >= 0)
            printf("%.2f", r->usd_per_gb);
        putchar('\n');
    }
}

static int print_json(const cli_session *s, const compare_row *rows, int n,
                      const cli_notes *notes)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "model", cli_model_summary_json(s->model));
    cJSON_AddItemToObject(root, "settings", cli_settings_json(&s->sc));
    cJSON *arr = cJSON_AddArrayToObject(root, "rows");
    for (int i = 0; i < n; i++) {
        const compare_row *r = &rows[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", r->entry->id);
        cJSON_AddStringToObject(o, "name", r->entry->name);
        cJSON_AddNumberToObject(o, "memory_bytes", (double)r->entry->memory_bytes);
        cJSON_AddBoolToObject(o, "fits", r->fits);
        if (r->headroom_known)
            cJSON_AddNumberToObject(o, "headroom_bytes", (double)r->headroom_bytes);
        else
            cJSON_AddNullToObject(o, "headroom_bytes");
        if (r->has_ctx)
            cJSON_AddNumberToObject(o, "max_ctx", r->max_ctx);
        else
            cJSON_AddNullToObject(o, "max_ctx");
        if (quant_text(r)[0])
            cJSON_AddStringToObject(o, "best_quant", quant_text(r));
        else
            cJSON_AddNullToObject(o, "best_quant");
        if (r->entry->price_known)
            cJSON_AddNumberToObject(o, "price_usd", r->entry->price_usd);
        else
            cJSON_AddNullToObject(o, "price_usd");
        if (r->usd_per_gb >= 0)
            cJSON_AddNumberToObject(o, "usd_per_gb", r->usd_per_gb);
        else
            cJSON_AddNullToObject(o, "usd_per_gb");
        cJSON_AddItemToArray(arr, o);
    }
    cli_add_notes_json(root, notes);
    return cli_print_json(root);
}

static void print_table(const compare_row *rows, int n, bool exact)
{
    printf("%-32s %12s %5s %14s %9s %-8s %9s %7s\n", "hardware", "memory", "fits", "headroom",
           "max ctx", "quant", "price", "$/GB");
    for (int i = 0; i < n; i++) {
        const compare_row *r = &rows[i];
        char mem[64], head[64], ctx[32] = "-", price[32] = "?", per_gb[32] = "?";
        cli_size(mem, sizeof mem, r->entry->memory_bytes, exact);
        if (r->headroom_known)
            cli_signed_size(head, sizeof head, r->headroom_bytes, exact);
        else
            snprintf(head, sizeof head, "unknown");
        if (r->has_ctx)
            snprintf(ctx, sizeof ctx, "%u", r->max_ctx);
        if (r->entry->price_known)
            snprintf(price, sizeof price, "$%.0f", r->entry->price_usd);
        if (r->usd_per_gb >= 0)
            snprintf(per_gb, sizeof per_gb, "%.2f", r->usd_per_gb);
        printf("%-32.32s %12s %5s %14s %9s %-8s %9s %7s\n", r->entry->name, mem,
               r->fits ? "yes" : "no", head, ctx, quant_text(r)[0] ? quant_text(r) : "-", price,
               per_gb);
    }
}

int cmd_compare(int argc, char **argv)
{
    cli_session s;
    int rc = cli_session_open(argc, argv,
                              OPT_JSON | OPT_CSV | OPT_BYTES | OPT_SETTINGS | OPT_HARDWARE_FILE |
                                  OPT_SCENARIO,
                              0, false, &s);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    hr_catalog *cat = NULL;
    hr_error err;
    if (hr_catalog_load_merged(s.sc.hardware_file, &cat, &err) != HR_OK) {
        cli_session_close(&s);
        return cli_error(CLI_BAD_INPUT, "%s", err.message);
    }
    compare_row *rows = calloc(cat->n_entries ? (size_t)cat->n_entries : 1, sizeof *rows);
    if (!rows) {
        hr_catalog_free(cat);
        cli_session_close(&s);
        return cli_error(CLI_BAD_INPUT, "out of memory");
    }
    bool noted = false;
    int n = 0;
    for (int i = 0; i < cat->n_entries && rc == CLI_OK; i++)
        if ((rc = evaluate(&s, &cat->entries[i], &rows[n], &s.notes, &noted)) == CLI_OK)
            n++;
    if (rc == CLI_OK) {
        qsort(rows, (size_t)n, sizeof *rows, row_order);
        if (s.opts.json) {
            rc = print_json(&s, rows, n, &s.notes);
        } else if (s.opts.csv) {
            print_csv(rows, n);
        } else {
            cli_print_model_line(s.model, s.opts.bytes);
            printf("\n");
            print_table(rows, n, s.opts.bytes);
            cli_print_notes(&s.notes);
        }
    }
    free(rows);
    hr_catalog_free(cat);
    cli_session_close(&s);
    return rc;
}
