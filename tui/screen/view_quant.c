/* Quantization table: every what-if quantization with its file size, bits per
 * weight, total at the current settings and a fits mark per device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "views.h"
#include "widgets.h"

static void quant_refresh(tui_app *app)
{
    if (app->quant_rows && app->quant_generation == app->generation)
        return;
    const hr_ftype *list;
    int n = hr_ftype_whatif_list(&list);
    free(app->quant_rows);
    app->quant_rows = calloc((size_t)n + 1, sizeof *app->quant_rows);
    app->n_quant_rows = 0;
    app->quant_generation = app->generation;
    if (!app->quant_rows || !app->model)
        return;
    app->n_quant_rows = n + 1;
    for (int i = 0; i <= n; i++) {
        quant_row *r = &app->quant_rows[i];
        r->ftype = i == 0 ? HR_FTYPE_UNKNOWN : list[i - 1];
        hr_error err;
        hr_error_clear(&err);
        if (i == 0) {
            r->file_bytes = app->model->n_bytes;
            r->size_ok = true;
        } else {
            r->size_ok = hr_quant_project(app->model, r->ftype, &r->file_bytes, NULL, NULL, NULL,
                                          &err) == HR_OK;
            if (!r->size_ok)
                text_copy(r->error, sizeof r->error, err.message);
        }
        hr_settings s = app->settings;
        s.target_ftype = r->ftype;
        hr_error_clear(&err);
        r->plan_ok = app_plan(app, &s, &app->budget, &r->plan, &err);
        if (!r->plan_ok && !r->error[0])
            text_copy(r->error, sizeof r->error, err.message);
    }
}

void view_quant_draw(tui_app *app, int y, int x, int h, int w)
{
    const tui_crt *crt = &app->crt;
    quant_refresh(app);
    panel_draw(crt, y, x, h, w, "Quantization at the current settings (Enter: use it)");
    int iy = y + 1, ix = x + 1, iw = w - 2, ih = h - 2;
    if (!app->model) {
        put_text(iy, ix, iw, crt_attr(crt, COL_DIM), "no model open (press o)");
        return;
    }
    int nd = app->budget.n_devices;
    char head[256];
    int hl = snprintf(head, sizeof head, " %-16s %10s %6s %11s ", "Quant", "File", "bpw", "Total");
    for (int d = 0; d < nd && hl < (int)sizeof head - 8; d++)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, " %-6s", d == 0 ? "RAM" : "GPU");
    put_text(iy, ix, iw, A_BOLD | A_UNDERLINE, head);
    int rows = ih - 1;
    int *sel = &app->list_row[VIEW_QUANT];
    if (*sel >= app->n_quant_rows)
        *sel = app->n_quant_rows - 1;
    list_scroll(*sel, app->n_quant_rows, rows, &app->list_top[VIEW_QUANT]);
    app->list_y0[VIEW_QUANT] = iy + 1;
    app->list_rows[VIEW_QUANT] = rows;
    for (int k = 0; k < rows; k++) {
        int i = app->list_top[VIEW_QUANT] + k;
        if (i >= app->n_quant_rows)
            break;
        const quant_row *r = &app->quant_rows[i];
        int ry = iy + 1 + k;
        bool selected = i == *sel;
        attr_t base = selected ? crt_attr(crt, COL_SELECTED) : A_NORMAL;
        fill_row(ry, ix, iw, base);
        char name[40], file[32] = "?", bpw[16] = "?", total[32] = "-";
        if (r->ftype == HR_FTYPE_UNKNOWN)
            snprintf(name, sizeof name, "%s (file)",
                     app->model->quant_name ? app->model->quant_name : "?");
        else
            text_copy(name, sizeof name, hr_ftype_name(r->ftype));
        if (r->size_ok) {
            fmt_bytes(file, sizeof file, r->file_bytes);
            if (app->model->n_params)
                snprintf(bpw, sizeof bpw, "%.2f",
                         8.0 * (double)r->file_bytes / (double)app->model->n_params);
        }
        if (r->plan_ok)
            fmt_bytes(total, sizeof total, r->plan.total_bytes);
        bool current = r->ftype == app->settings.target_ftype;
        int used = put_textf(ry, ix, iw, base | (current ? A_BOLD : A_NORMAL),
                             "%s%-16s %10s %6s %11s ", current ? crt->glyphs.pointer : " ", name,
                             file, bpw, total);
        if (!r->plan_ok) {
            put_text(ry, ix + used, iw - used, selected ? base : crt_attr(crt, COL_DIM), r->error);
            continue;
        }
        for (int d = 0; d < r->plan.n_devices && used + 7 <= iw; d++) {
            const hr_plan_device *pd = &r->plan.devices[d];
            const char *mark;
            tui_colour c;
            if (!pd->capacity_known) {
                mark = "?";
                c = COL_DIM;
            } else if (!pd->fits) {
                mark = "over";
                c = COL_OVERFLOW;
            } else if ((uint64_t)pd->headroom_bytes < pd->capacity_bytes / 10) {
                mark = "tight";
                c = COL_TIGHT;
            } else {
                mark = "fits";
                c = COL_FITS;
            }
            put_textf(ry, ix + used, 7, selected ? base : crt_attr(crt, c), " %-6s", mark);
            used += 7;
        }
    }
}

bool view_quant_key(tui_app *app, tui_action action, int key)
{
    (void)key;
    quant_refresh(app);
    int *sel = &app->list_row[VIEW_QUANT];
    if (list_move(sel, app->n_quant_rows, LINES - 6, action))
        return true;
    if (action == ACT_ENTER && *sel >= 0 && *sel < app->n_quant_rows) {
        app->settings.target_ftype = app->quant_rows[*sel].ftype;
        app_recompute(app);
        const char *name = hr_ftype_name(app->settings.target_ftype);
        app_status(app, "quantization: %s", name ? name : "as the file");
        return true;
    }
    return false;
}
