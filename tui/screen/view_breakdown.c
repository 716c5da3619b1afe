/* Breakdown: which layers sit on which device and what each device holds,
 * the plan's notes, and the tensor type histogram of the model. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "views.h"
#include "widgets.h"

#define BREAKDOWN_MAX_LINES 96
#define TYPE_HISTOGRAM_MAX 48

typedef struct text_lines {
    char text[BREAKDOWN_MAX_LINES][200];
    tui_colour colour[BREAKDOWN_MAX_LINES];
    attr_t extra[BREAKDOWN_MAX_LINES];
    int n;
} text_lines;

static void add_line(text_lines *t, tui_colour c, attr_t extra, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_line(text_lines *t, tui_colour c, attr_t extra, const char *fmt, ...)
{
    if (t->n >= BREAKDOWN_MAX_LINES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->text[t->n], sizeof t->text[t->n], fmt, ap);
    va_end(ap);
    t->colour[t->n] = c;
    t->extra[t->n] = extra;
    t->n++;
}

static void layer_range(const hr_plan_device *d, char *buf, size_t len)
{
    if (d->layer_end > d->layer_begin)
        snprintf(buf, len, "%d-%d", d->layer_begin, d->layer_end - 1);
    else
        snprintf(buf, len, "-");
}

static void build_lines(const tui_app *app, text_lines *t)
{
    t->n = 0;
    if (!app->model) {
        add_line(t, COL_DIM, 0, "no model open (press o)");
        return;
    }
    if (app->plan_ok) {
        const hr_plan *p = &app->plan;
        add_line(t, COL_TITLE, A_BOLD, "Devices (repeating layers [first-last], GPU layers %d of %u+1)",
                 p->n_gpu_layers, app->model->n_layer);
        add_line(t, COL_NORMAL, A_UNDERLINE, "%-22s %7s %10s %10s %10s %10s %10s %10s %10s",
                 "Device", "Layers", "weights", "KV", "output", "compute", "overhead", "margin",
                 "total");
        for (int d = 0; d < p->n_devices; d++) {
            const hr_plan_device *pd = &p->devices[d];
            char range[24], cell[HR_COMP_COUNT][24], total[24];
            layer_range(pd, range, sizeof range);
            for (int c = 0; c < HR_COMP_COUNT; c++)
                fmt_bytes(cell[c], sizeof cell[c], pd->bytes[c]);
            fmt_bytes(total, sizeof total, pd->total_bytes);
            add_line(t, pd->fits ? COL_NORMAL : COL_OVERFLOW, 0,
                     "%-22.22s %7s %10s %10s %10s %10s %10s %10s %10s", pd->name, range, cell[0],
                     cell[1], cell[2], cell[3], cell[4], cell[5], total);
            if (pd->weights_mapped_bytes || pd->compute_host_bytes) {
                char mapped[24], host[24];
                fmt_bytes(mapped, sizeof mapped, pd->weights_mapped_bytes);
                fmt_bytes(host, sizeof host, pd->compute_host_bytes);
                add_line(t, COL_DIM, 0, "%-22s   of which mmap'd from the file %s, host compute %s",
                         "", mapped, host);
            }
        }
        char k[24], v[24], ks[24], vs[24], rec[24];
        fmt_bytes(k, sizeof k, p->kv_k_bytes);
        fmt_bytes(v, sizeof v, p->kv_v_bytes);
        fmt_bytes(ks, sizeof ks, p->kv_swa_k_bytes);
        fmt_bytes(vs, sizeof vs, p->kv_swa_v_bytes);
        fmt_bytes(rec, sizeof rec, p->recurrent_bytes);
        add_line(t, COL_NORMAL, 0, "%s", "");
        add_line(t, COL_TITLE, A_BOLD, "Resolved (as llama.cpp would print it)");
        add_line(t, COL_NORMAL, 0,
                 "n_ctx %u  n_ctx_seq %u  n_seq %u  n_batch %u  n_ubatch %u  outputs %u  flash_attn %s",
                 p->n_ctx, p->n_ctx_seq, p->n_seq, p->n_batch, p->n_ubatch, p->n_outputs,
                 p->flash_attn ? "on" : "off");
        add_line(t, COL_NORMAL, 0, "KV cells %u (SWA %u)  layers with KV %u, SWA %u, recurrent %u",
                 p->kv_cells, p->kv_cells_swa, p->n_layer_kv, p->n_layer_swa,
                 p->n_layer_recurrent);
        add_line(t, COL_NORMAL, 0, "K %s  V %s  SWA K %s  SWA V %s  recurrent state %s", k, v, ks,
                 vs, rec);
        for (int i = 0; i < p->n_notes; i++)
            add_line(t, COL_TIGHT, 0, "note: %s", p->notes[i]);
    } else {
        add_line(t, COL_OVERFLOW, 0, "plan: %s", app->plan_err.message);
    }

    hr_type types[TYPE_HISTOGRAM_MAX];
    uint32_t counts[TYPE_HISTOGRAM_MAX];
    int nt = hr_model_type_histogram(app->model, types, counts, TYPE_HISTOGRAM_MAX);
    add_line(t, COL_NORMAL, 0, "%s", "");
    add_line(t, COL_TITLE, A_BOLD, "Tensor types in the file (%zu tensors)", app->model->n_tensors);
    char line[200] = "";
    int used = 0;
    for (int i = 0; i < nt; i++) {
        const hr_type_info *info = hr_type_get(types[i]);
        char item[48];
        snprintf(item, sizeof item, "%-8s %5u   ", info ? info->name : "?", counts[i]);
        if (used + (int)strlen(item) > 90) {
            add_line(t, COL_VALUE, 0, "%s", line);
            used = 0;
            line[0] = '\0';
        }
        used += snprintf(line + used, sizeof line - (size_t)used, "%s", item);
    }
    if (used)
        add_line(t, COL_VALUE, 0, "%s", line);
    for (int i = 0; i < app->model->n_warnings; i++)
        add_line(t, COL_TIGHT, 0, "warning: %s", app->model->warnings[i]);
}

void view_breakdown_draw(tui_app *app, int y, int x, int h, int w)
{
    const tui_crt *crt = &app->crt;
    panel_draw(crt, y, x, h, w, "Layers and devices");
    text_lines lines; /* rebuilt on every frame (about 20 KiB of stack) */
    build_lines(app, &lines);
    int rows = h - 2;
    int *top = &app->list_top[VIEW_BREAKDOWN];
    if (*top > lines.n - rows)
        *top = lines.n - rows;
    if (*top < 0)
        *top = 0;
    for (int k = 0; k < rows && *top + k < lines.n; k++) {
        int i = *top + k;
        put_text(y + 1 + k, x + 1, w - 2, crt_attr(crt, lines.colour[i]) | lines.extra[i],
                 lines.text[i]);
    }
}

bool view_breakdown_key(tui_app *app, tui_action action, int key)
{
    (void)key;
    int *top = &app->list_top[VIEW_BREAKDOWN];
    switch (action) {
    case ACT_UP: *top -= 1; return true;
    case ACT_DOWN: *top += 1; return true;
    case ACT_PAGE_UP: *top -= LINES / 2; return true;
    case ACT_PAGE_DOWN: *top += LINES / 2; return true;
    case ACT_HOME: *top = 0; return true;
    case ACT_END: *top = BREAKDOWN_MAX_LINES; return true;
    default: return false;
    }
}
