/* The planner screen: Model and Settings panels on the left, the Memory view
 * (a stacked bar per device) and the total-vs-context curve on the right. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "settings_rows.h"
#include "views.h"
#include "widgets.h"

#define MODEL_PANEL_H 5
#define ANSWERS_W 16
#define AXIS_W 6

/* ---------- left column ---------- */

static void draw_model_panel(tui_app *app, int y, int x, int w)
{
    const tui_crt *crt = &app->crt;
    panel_draw(crt, y, x, MODEL_PANEL_H, w, "Model");
    const hr_model *m = app->model;
    int iw = w - 2;
    if (!m) {
        put_text(y + 1, x + 1, iw, crt_attr(crt, COL_DIM), "no model open (press o)");
        return;
    }
    char params[32], size[32];
    fmt_params(params, sizeof params, m->n_params);
    fmt_bytes(size, sizeof size, m->n_bytes);
    attr_t v = crt_attr(crt, COL_VALUE);
    put_textf(y + 1, x + 1, iw, v, "%s %s %s params %s %u layers",
              m->arch_name ? m->arch_name : hr_arch_name(m->arch), crt->glyphs.dot, params,
              crt->glyphs.dot, m->n_layer);
    put_textf(y + 2, x + 1, iw, v, "%s %s %.2f bpw %s %s",
              m->quant_name ? m->quant_name : "?", crt->glyphs.dot, m->bits_per_weight,
              crt->glyphs.dot, size);
    put_textf(y + 3, x + 1, iw, v, "ctx %u %s %u/%u heads %s d %u", m->n_ctx_train,
              crt->glyphs.dot, m->n_head, m->n_head_kv, crt->glyphs.dot, m->n_embd);
}

static void draw_settings_panel(tui_app *app, int y, int x, int h, int w)
{
    const tui_crt *crt = &app->crt;
    panel_draw(crt, y, x, h, w, "Settings");
    int n = settings_row_count();
    int label_w = 13;
    app->click_settings_y0 = y + 1;
    app->click_settings_x0 = x + 1;
    app->click_settings_x1 = x + w - 1;
    for (int i = 0; i < n && i < h - 2; i++) {
        const setting_row *row = settings_row_at(i);
        char value[96] = "", hint[96] = "";
        row->format(app, value, sizeof value, hint, sizeof hint);
        bool sel = i == app->plan_row && app->view == VIEW_PLAN;
        int ry = y + 1 + i, cx = x + 1, iw = w - 2;
        attr_t base = sel ? crt_attr(crt, COL_SELECTED) : A_NORMAL;
        fill_row(ry, cx, iw, base);
        put_text(ry, cx, 1, base, sel ? crt->glyphs.pointer : " ");
        put_text(ry, cx + 1, label_w, sel ? base : crt_attr(crt, COL_LABEL), row->label);
        int vx = cx + 1 + label_w;
        if (sel) {
            put_text(ry, vx, 1, base, crt->glyphs.arrow_left);
            int used = put_text(ry, vx + 2, iw - label_w - 5, base | A_BOLD, value);
            put_text(ry, vx + 3 + used, 1, base, crt->glyphs.arrow_right);
            put_text(ry, vx + 5 + used, cx + iw - (vx + 5 + used), base, hint);
        } else {
            int used = put_text(ry, vx + 2, iw - label_w - 3, crt_attr(crt, COL_VALUE), value);
            put_text(ry, vx + 3 + used + 1, cx + iw - (vx + 4 + used), crt_attr(crt, COL_DIM),
                     hint);
        }
    }
}

/* ---------- memory view ---------- */

/* Shorten a label to max columns by cutting its middle, so the device index
 * and layer range at the end stay visible. */
static void clip_middle(char *s, int max)
{
    int len = (int)strlen(s);
    if (len <= max || max < 8)
        return;
    int tail = max / 2 - 1, head = max - tail - 1;
    memmove(s + head + 1, s + len - tail, (size_t)tail + 1);
    s[head] = '~';
}

typedef enum fit_state { FIT_UNKNOWN, FIT_OK, FIT_TIGHT, FIT_OVER } fit_state;

static fit_state device_state(const hr_plan_device *d)
{
    if (!d->capacity_known)
        return FIT_UNKNOWN;
    if (!d->fits || d->headroom_bytes < 0)
        return FIT_OVER;
    /* tight: less than a tenth of the capacity left */
    if ((uint64_t)d->headroom_bytes < d->capacity_bytes / 10)
        return FIT_TIGHT;
    return FIT_OK;
}

static tui_colour state_colour(fit_state s)
{
    return s == FIT_OK ? COL_FITS : s == FIT_TIGHT ? COL_TIGHT : s == FIT_OVER ? COL_OVERFLOW
                                                                                : COL_DIM;
}

static void draw_device(tui_app *app, const hr_plan_device *d, int y, int x, int w)
{
    const tui_crt *crt = &app->crt;
    fit_state st = device_state(d);
    char verdict[64], amount[32];
    if (st == FIT_UNKNOWN) {
        snprintf(verdict, sizeof verdict, "capacity unknown");
    } else if (st == FIT_OVER) {
        fmt_bytes(amount, sizeof amount, (uint64_t)(-(d->headroom_bytes + 1)) + 1);
        snprintf(verdict, sizeof verdict, "OVER by %s", amount);
    } else {
        fmt_bytes(amount, sizeof amount, (uint64_t)d->headroom_bytes);
        snprintf(verdict, sizeof verdict, "%s %s free", st == FIT_TIGHT ? "tight" : "fits",
                 amount);
    }
    int vw = text_width(verdict);
    char name[160];
    if (d->kind == HR_DEVICE_GPU && d->layer_end > d->layer_begin)
        snprintf(name, sizeof name, "%s L%d-%d", d->name, d->layer_begin, d->layer_end - 1);
    else
        text_copy(name, sizeof name, d->name);
    clip_middle(name, w - vw - 1);
    put_text(y, x, w - vw - 1, A_BOLD, name);
    put_text(y, x + w - vw, vw, crt_attr(crt, state_colour(st)), verdict);

    char used[16], cap[16], caption[40];
    fmt_gib(used, sizeof used, d->total_bytes);
    if (d->capacity_known) {
        fmt_gib(cap, sizeof cap, d->capacity_bytes);
        snprintf(caption, sizeof caption, " %s/%s", used, cap);
    } else {
        snprintf(caption, sizeof caption, " %s/?", used);
    }
    int cw = text_width(caption);
    bar_segment seg[HR_COMP_COUNT];
    for (int c = 0; c < HR_COMP_COUNT; c++) {
        seg[c].bytes = d->bytes[c];
        seg[c].glyph = crt->glyphs.fill[c];
        seg[c].colour = (tui_colour)(COL_WEIGHTS + c);
    }
    bar_draw(crt, y + 1, x, w - cw, seg, HR_COMP_COUNT, d->capacity_bytes, d->capacity_known);
    put_text(y + 1, x + w - cw, cw, crt_attr(crt, state_colour(st)), caption);
}

static const char *component_label(int c)
{
    static const char *const labels[HR_COMP_COUNT] = {"weights", "KV", "output",
                                                      "compute", "overhead", "margin"};
    return labels[c];
}

/* Legend: every component of the plan with its total over devices. */
static int draw_legend(tui_app *app, int y, int x, int w)
{
    const tui_crt *crt = &app->crt;
    int col_w = w / 2 + 1, line = 0; /* the left labels are the longer ones */
    for (int c = 0; c < HR_COMP_COUNT; c++) {
        int ly = y + c / 2, lx = x + (c % 2) * col_w;
        char amount[32];
        fmt_bytes(amount, sizeof amount, app->plan.bytes[c]);
        put_text(ly, lx, 1, crt_attr(crt, (tui_colour)(COL_WEIGHTS + c)), crt->glyphs.fill[c]);
        put_textf(ly, lx + 2, (c % 2 ? w - col_w : col_w) - 2, A_NORMAL, "%s %s",
                  component_label(c), amount);
        line = c / 2 + 1;
    }
    char total[32];
    fmt_bytes(total, sizeof total, app->plan.total_bytes);
    attr_t verdict = crt_attr(crt, app->plan.fits ? COL_FITS : COL_OVERFLOW);
    int used = put_textf(y + line, x, w, A_BOLD, "total %s", total);
    put_textf(y + line, x + used, w - used, verdict, "  %s %s", crt->glyphs.dot,
              app->plan.fits ? "fits" : "does NOT fit");
    return line + 1;
}

/* Wrap msg over up to max_lines rows. */
static void put_wrapped(int y, int x, int w, int max_lines, attr_t attr, const char *msg)
{
    int len = (int)strlen(msg);
    for (int line = 0, off = 0; line < max_lines && off < len; line++) {
        int take = len - off < w ? len - off : w;
        if (off + take < len) {
            int cut = take;
            while (cut > w / 2 && msg[off + cut] != ' ')
                cut--;
            if (cut > w / 2)
                take = cut;
        }
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", take, msg + off);
        put_text(y + line, x, w, attr, buf);
        off += take;
        while (msg[off] == ' ')
            off++;
    }
}

static int memory_panel_height(const tui_app *app, int avail)
{
    int n = app->plan_ok ? app->plan.n_devices : 1;
    int h = 2 + 2 * n + 4;
    int max_h = avail - 9; /* leave the curve at least 9 rows */
    if (h > max_h)
        h = max_h;
    if (h < 6)
        h = 6;
    return h;
}

static void draw_memory_panel(tui_app *app, int y, int x, int h, int w)
{
    const tui_crt *crt = &app->crt;
    char title[160];
    snprintf(title, sizeof title, "Memory %s %s", crt->glyphs.dot, app_target_label(app));
    panel_draw(crt, y, x, h, w, title);
    int iy = y + 1, ix = x + 1, iw = w - 2, ih = h - 2;
    if (!app->plan_ok) {
        put_wrapped(iy, ix, iw, ih, crt_attr(crt, COL_OVERFLOW), app->plan_err.message);
        return;
    }
    int legend_rows = 4;
    int device_rows = (ih - legend_rows) / 2;
    int shown = app->plan.n_devices < device_rows ? app->plan.n_devices : device_rows;
    for (int d = 0; d < shown; d++)
        draw_device(app, &app->plan.devices[d], iy + 2 * d, ix, iw);
    int ly = iy + 2 * shown;
    int lines = draw_legend(app, ly, ix, iw);
    if (shown < app->plan.n_devices) {
        char more[40];
        snprintf(more, sizeof more, "+%d more: b", app->plan.n_devices - shown);
        put_text(ly + lines - 1, ix + iw - text_width(more), iw, crt_attr(crt, COL_DIM), more);
    }
}

/* ---------- curve and solver answers ---------- */

static void draw_answers(tui_app *app, int y, int x, int w, int h)
{
    const tui_crt *crt = &app->crt;
    put_text(y, x, w, crt_attr(crt, COL_TITLE), "Largest that fit");
    if (!app->fit_ok) {
        put_wrapped(y + 1, x, w, h - 1, crt_attr(crt, COL_DIM), app->fit_err.message);
        return;
    }
    const hr_fit *f = &app->fit;
    attr_t v = crt_attr(crt, COL_VALUE), none = crt_attr(crt, COL_OVERFLOW);
    int r = y + 1;
    char buf[32];
    if (f->has_ctx) {
        fmt_count_short(buf, sizeof buf, f->max_ctx);
        put_textf(r++, x, w, v, "context  %s", buf);
    } else {
        put_text(r++, x, w, none, "context  none");
    }
    if (f->has_batch)
        put_textf(r++, x, w, v, "batch    %u", f->max_batch);
    else
        put_text(r++, x, w, none, "batch    none");
    if (f->has_gpu_layers)
        put_textf(r++, x, w, v, "GPU lay. %d", f->max_gpu_layers);
    else
        put_text(r++, x, w, none, "GPU lay. none");
    if (f->has_ftype) {
        const char *q = hr_ftype_name(f->best_ftype);
        put_textf(r++, x, w, v, "quant    %s", q ? q : "?");
    } else {
        put_text(r++, x, w, none, "quant    none");
    }
    if (r < y + h) {
        if (f->has_parallel)
            put_textf(r++, x, w, v, "parallel %u", f->max_parallel);
        else
            put_text(r++, x, w, none, "parallel none");
    }
    if (r < y + h) {
        if (app->replicas_known)
            put_textf(r++, x, w, v, "replicas %u", f->replicas);
        else
            put_text(r++, x, w, crt_attr(crt, COL_DIM), "replicas ?");
    }
}

static void short_gib(char *buf, size_t len, double bytes)
{
    double g = bytes / (1024.0 * 1024.0 * 1024.0);
    if (g >= 100)
        snprintf(buf, len, "%.0fG", g);
    else if (g >= 10)
        snprintf(buf, len, "%.0fG", g);
    else
        snprintf(buf, len, "%.1fG", g);
}

static void draw_curve_panel(tui_app *app, int y, int x, int h, int w)
{
    const tui_crt *crt = &app->crt;
    panel_draw(crt, y, x, h, w, "Total vs context");
    int iy = y + 1, ix = x + 1, iw = w - 2, ih = h - 2;
    int answers_w = ANSWERS_W;
    draw_answers(app, iy, ix + iw - answers_w, answers_w, ih);
    int pw = iw - answers_w - AXIS_W - 1, ph = ih - 1;
    if (!app->sweep_ok || app->n_sweep < 2 || app->sweep_n_devices != app->budget.n_devices) {
        put_wrapped(iy, ix, iw - answers_w - 1, ih, crt_attr(crt, COL_DIM),
                    app->sweep_err.message[0] ? app->sweep_err.message : "no curve");
        return;
    }
    if (pw < 8 || ph < 3)
        return;
    int n = app->n_sweep, nd = app->sweep_n_devices;
    double xs[APP_SWEEP_POINTS];
    double ys[HR_MAX_DEVICES][APP_SWEEP_POINTS];
    double lo = log((double)app->sweep_ctx[0]), hi = log((double)app->sweep_ctx[n - 1]);
    double y_max = 0;
    bool carries[HR_MAX_DEVICES] = {false};
    for (int i = 0; i < n; i++) {
        xs[i] = (log((double)app->sweep_ctx[i]) - lo) / (hi - lo);
        for (int d = 0; d < nd; d++) {
            ys[d][i] = (double)app->sweep_totals[i * nd + d];
            if (ys[d][i] > y_max)
                y_max = ys[d][i];
            if (app->sweep_totals[i * nd + d] > 0)
                carries[d] = true;
        }
    }
    /* Scale to the curve, or to the smallest capacity it has to stay under. */
    double smallest_cap = 0;
    for (int d = 0; d < nd; d++) {
        const hr_budget_device *bd = &app->budget.devices[d];
        if (carries[d] && bd->capacity_known &&
            (smallest_cap == 0 || (double)bd->capacity_bytes < smallest_cap))
            smallest_cap = (double)bd->capacity_bytes;
    }
    if (smallest_cap > y_max)
        y_max = smallest_cap;
    y_max *= 1.08;
    if (y_max <= 0)
        y_max = 1;

    plot_series series[HR_MAX_DEVICES];
    plot_hline lines[HR_MAX_DEVICES];
    char labels[HR_MAX_DEVICES][24];
    int ns = 0, nl = 0;
    static const tui_colour curve_colours[] = {COL_CURVE, COL_WEIGHTS, COL_KV, COL_COMPUTE};
    for (int d = 0; d < nd; d++) {
        if (!carries[d])
            continue;
        const hr_budget_device *bd = &app->budget.devices[d];
        series[ns].y = ys[d];
        series[ns].colour = curve_colours[ns % 4];
        series[ns].glyph = crt->glyphs.curve;
        ns++;
        if (bd->capacity_known) {
            text_copy(labels[nl], sizeof labels[nl], d == 0 ? "RAM" : "GPU");
            if (d > 0 && nd > 2)
                snprintf(labels[nl], sizeof labels[nl], "GPU%d", d - 1);
            lines[nl].y = (double)bd->capacity_bytes;
            lines[nl].colour = COL_CAPACITY;
            lines[nl].label = labels[nl];
            nl++;
        }
    }
    double current = app->plan_ok ? (double)app->plan.n_ctx : 0;
    double marker = current > 0 ? (log(current) - lo) / (hi - lo) : -1;
    int px = ix + AXIS_W;
    plot_draw(crt, iy, px, ph, pw, xs, n, series, ns, lines, nl, y_max, marker);

    /* y axis */
    char lab[16];
    attr_t dim = crt_attr(crt, COL_DIM);
    short_gib(lab, sizeof lab, y_max);
    put_textf(iy, ix, AXIS_W - 1, dim, "%5s", lab);
    short_gib(lab, sizeof lab, y_max / 2);
    put_textf(iy + (ph - 1) / 2, ix, AXIS_W - 1, dim, "%5s", lab);
    put_textf(iy + ph - 1, ix, AXIS_W - 1, dim, "%5s", "0");
    /* x axis: first, current (when room) and last context */
    char first[16], last[16], cur[16];
    fmt_count_short(first, sizeof first, app->sweep_ctx[0]);
    fmt_count_short(last, sizeof last, app->sweep_ctx[n - 1]);
    put_text(iy + ph, px, pw, dim, first);
    put_text(iy + ph, px + pw - text_width(last), pw, dim, last);
    if (marker >= 0 && marker <= 1) {
        fmt_count_short(cur, sizeof cur, (uint64_t)current);
        int cx = px + (int)lround(marker * (pw - 1)) - text_width(cur) / 2;
        if (cx > px + text_width(first) && cx + text_width(cur) < px + pw - text_width(last))
            put_text(iy + ph, cx, pw, crt_attr(crt, COL_MARKER), cur);
    }
}

void view_plan_draw(tui_app *app, int y, int x, int h, int w)
{
    int left_w = w >= 110 ? 42 : 38;
    int settings_h = settings_row_count() + 2;
    draw_model_panel(app, y, x, left_w);
    int sh = h - MODEL_PANEL_H < settings_h ? h - MODEL_PANEL_H : settings_h;
    draw_settings_panel(app, y + MODEL_PANEL_H, x, sh, left_w);
    int rx = x + left_w, rw = w - left_w;
    int mh = memory_panel_height(app, h);
    draw_memory_panel(app, y, rx, mh, rw);
    draw_curve_panel(app, y + mh, rx, h - mh, rw);
}

bool view_plan_key(tui_app *app, tui_action action, int key)
{
    (void)key;
    int n = settings_row_count();
    switch (action) {
    case ACT_UP:
        app->plan_row = app->plan_row > 0 ? app->plan_row - 1 : n - 1;
        return true;
    case ACT_DOWN:
        app->plan_row = app->plan_row + 1 < n ? app->plan_row + 1 : 0;
        return true;
    case ACT_HOME:
        app->plan_row = 0;
        return true;
    case ACT_END:
        app->plan_row = n - 1;
        return true;
    case ACT_LEFT:
        settings_step(app, app->plan_row, -1);
        return true;
    case ACT_RIGHT:
        settings_step(app, app->plan_row, +1);
        return true;
    case ACT_ENTER: {
        const setting_row *row = settings_row_at(app->plan_row);
        char value[96], hint[96], label[160], text[256];
        row->format(app, value, sizeof value, hint, sizeof hint);
        snprintf(label, sizeof label, "%s (%s): ", row->label, row->input_hint);
        if (prompt_line(app, label, value, text, sizeof text))
            settings_apply_text(app, app->plan_row, text);
        return true;
    }
    case ACT_RESET: {
        hr_runtime rt = app->settings.runtime;
        hr_settings_init(&app->settings);
        app->settings.runtime = rt;
        app_status(app, "settings reset to llama.cpp's defaults");
        app_recompute(app);
        return true;
    }
    default:
        return false;
    }
}

bool view_plan_click(tui_app *app, int y, int x)
{
    int row = y - app->click_settings_y0;
    if (row < 0 || row >= settings_row_count() || x < app->click_settings_x0 ||
        x >= app->click_settings_x1)
        return false;
    if (row == app->plan_row) {
        /* a click on the selected row's arrows steps it */
        int value_x = app->click_settings_x0 + 1 + 13;
        if (x <= value_x + 1 && x >= value_x - 1)
            settings_step(app, row, -1);
        else if (x > value_x + 1)
            settings_step(app, row, +1);
        return true;
    }
    app->plan_row = row;
    return true;
}
