/* Compare: the hardware catalog as rows for the current model and settings
 * (fits, headroom, largest context, best quant, price per GiB), cheapest
 * fitting entry first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "views.h"
#include "widgets.h"

#define GIB_D (1024.0 * 1024.0 * 1024.0)

static void compare_one(const tui_app *app, int entry, compare_row *r)
{
    const hr_hw_entry *e = &app->catalog->entries[entry];
    hr_budget b;
    hr_budget_from_entry(e, 1, &b);
    hr_settings s = app->settings;
    hr_runtime rt;
    /* The entry's own runtime overheads when runtimes.yaml has them. */
    if (hr_runtime_load(NULL, hr_backend_name(e->backend), &rt, NULL) == HR_OK)
        s.runtime = rt;
    hr_plan plan;
    hr_error err;
    hr_error_clear(&err);
    r->entry = entry;
    r->price_known = e->price_known;
    r->price_usd = e->price_usd;
    r->plan_ok = hr_plan_compute(app->model, &s, &b, &plan, &err) == HR_OK;
    if (!r->plan_ok) {
        text_copy(r->error, sizeof r->error, err.message);
        return;
    }
    r->fits = plan.fits;
    bool first = true;
    for (int d = 0; d < plan.n_devices; d++) {
        const hr_plan_device *pd = &plan.devices[d];
        if (!pd->capacity_known || pd->total_bytes == 0)
            continue;
        if (first || pd->headroom_bytes < r->headroom_bytes)
            r->headroom_bytes = pd->headroom_bytes;
        first = false;
    }
    r->gpu_capacity_bytes = e->memory_bytes;
    hr_error_clear(&err);
    r->fit_ok = hr_solve_all(app->model, &s, &b, &r->fit, &err) == HR_OK;
}

/* Fitting entries first, cheapest first; unknown prices after known ones. */
static int compare_rank(const void *pa, const void *pb)
{
    const compare_row *a = pa, *b = pb;
    if (a->fits != b->fits)
        return a->fits ? -1 : 1;
    if (a->price_known != b->price_known)
        return a->price_known ? -1 : 1;
    if (a->price_usd != b->price_usd)
        return a->price_usd < b->price_usd ? -1 : 1;
    return a->entry - b->entry;
}

static void compare_refresh(tui_app *app)
{
    if (app->compare_rows && app->compare_generation == app->generation)
        return;
    free(app->compare_rows);
    app->compare_rows = NULL;
    app->n_compare_rows = 0;
    app->compare_generation = app->generation;
    if (!app->catalog || !app->model)
        return;
    int n = app->catalog->n_entries;
    app->compare_rows = calloc((size_t)n, sizeof *app->compare_rows);
    if (!app->compare_rows)
        return;
    for (int i = 0; i < n; i++)
        compare_one(app, i, &app->compare_rows[i]);
    qsort(app->compare_rows, (size_t)n, sizeof *app->compare_rows, compare_rank);
    app->n_compare_rows = n;
}

void view_compare_draw(tui_app *app, int y, int x, int h, int w)
{
    const tui_crt *crt = &app->crt;
    compare_refresh(app);
    panel_draw(crt, y, x, h, w, "Compare hardware (one device each; Enter: make it the target)");
    int iy = y + 1, ix = x + 1, iw = w - 2, ih = h - 2;
    if (!app->catalog) {
        put_text(iy, ix, iw, crt_attr(crt, COL_OVERFLOW), app->catalog_error);
        return;
    }
    if (!app->model) {
        put_text(iy, ix, iw, crt_attr(crt, COL_DIM), "no model open (press o)");
        return;
    }
    int name_w = iw - 49;
    if (name_w < 14)
        name_w = 14;
    put_textf(iy, ix, iw, A_BOLD | A_UNDERLINE, " %-*.*s %7s %4s %10s %6s %-7s %6s ", name_w,
              name_w, "Hardware", "Memory", "Fits", "Headroom", "ctx", "Quant", "$/GiB");
    int rows = ih - 1;
    int *sel = &app->list_row[VIEW_COMPARE];
    if (*sel >= app->n_compare_rows)
        *sel = app->n_compare_rows - 1;
    if (*sel < 0)
        *sel = 0;
    list_scroll(*sel, app->n_compare_rows, rows, &app->list_top[VIEW_COMPARE]);
    app->list_y0[VIEW_COMPARE] = iy + 1;
    app->list_rows[VIEW_COMPARE] = rows;
    for (int k = 0; k < rows; k++) {
        int i = app->list_top[VIEW_COMPARE] + k;
        if (i >= app->n_compare_rows)
            break;
        const compare_row *r = &app->compare_rows[i];
        const hr_hw_entry *e = &app->catalog->entries[r->entry];
        int ry = iy + 1 + k;
        bool selected = i == *sel;
        attr_t base = selected ? crt_attr(crt, COL_SELECTED) : A_NORMAL;
        fill_row(ry, ix, iw, base);
        char mem[16];
        fmt_gib(mem, sizeof mem, e->memory_bytes);
        int used = put_textf(ry, ix, iw, base, " %-*.*s %6sG ", name_w, name_w, e->name, mem);
        if (!r->plan_ok) {
            put_text(ry, ix + used, iw - used, selected ? base : crt_attr(crt, COL_DIM), r->error);
            continue;
        }
        tui_colour fc = r->fits ? COL_FITS : COL_OVERFLOW;
        used += put_textf(ry, ix + used, iw - used, selected ? base : crt_attr(crt, fc), "%4s ",
                          r->fits ? "yes" : "no");
        char head[32];
        fmt_bytes_signed(head, sizeof head, r->headroom_bytes);
        used += put_textf(ry, ix + used, iw - used, selected ? base : crt_attr(crt, fc), "%10s ",
                          head);
        char ctx[16] = "-", quant[16] = "-", price[16] = "-";
        if (r->fit_ok && r->fit.has_ctx)
            fmt_count_short(ctx, sizeof ctx, r->fit.max_ctx);
        if (r->fit_ok && r->fit.has_ftype && hr_ftype_name(r->fit.best_ftype))
            text_copy(quant, sizeof quant, hr_ftype_name(r->fit.best_ftype));
        if (r->fits && e->price_known && e->memory_bytes)
            snprintf(price, sizeof price, "%.0f", e->price_usd / ((double)e->memory_bytes / GIB_D));
        put_textf(ry, ix + used, iw - used, base, "%6s %-7s %6s", ctx, quant, price);
    }
}

bool view_compare_key(tui_app *app, tui_action action, int key)
{
    (void)key;
    compare_refresh(app);
    int *sel = &app->list_row[VIEW_COMPARE];
    if (list_move(sel, app->n_compare_rows, LINES - 6, action))
        return true;
    if (action == ACT_ENTER && *sel >= 0 && *sel < app->n_compare_rows) {
        app_set_target(app, app->compare_rows[*sel].entry, 1);
        app_status(app, "target: %s", app_target_label(app));
        screen_show(app, VIEW_PLAN);
        return true;
    }
    return false;
}
