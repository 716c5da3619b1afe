/* Settings rows: display, arrow-key steps and typed values for hr_settings. */
#include "format.h"
#include "settings_rows.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIB_BYTES (1024ull * 1024ull)
#define CTX_MIN 256u
#define CTX_MAX (16u * 1024u * 1024u)
#define BATCH_MIN 1u
#define BATCH_MAX 65536u
#define SEQ_MAX 256u
#define MARGIN_STEP_PERCENT 5.0
#define MARGIN_FIXED_STEP (256ull * MIB_BYTES)

static const char *const kv_type_names[] = {"f32", "f16", "bf16", "q8_0", "q5_1",
                                            "q5_0", "q4_1", "q4_0", "iq4_nl"};
#define N_KV_TYPES ((int)(sizeof kv_type_names / sizeof kv_type_names[0]))
static const char *const runtime_names[] = {"cpu", "cuda", "rocm", "metal", "vulkan"};
#define N_RUNTIMES ((int)(sizeof runtime_names / sizeof runtime_names[0]))
static const char *const fa_names[] = {"off", "on", "auto"};

/* ---------- parsing helpers ---------- */

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

bool parse_count(const char *text, unsigned long long *out)
{
    text = skip_space(text);
    char *end;
    double v = strtod(text, &end);
    if (end == text || v < 0 || !isfinite(v))
        return false;
    end = (char *)skip_space(end);
    double scale = 1;
    if (*end == 'k' || *end == 'K')
        scale = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        scale = 1024.0 * 1024.0, end++;
    if (*skip_space(end))
        return false;
    v *= scale;
    if (v > 1e15)
        return false;
    *out = (unsigned long long)(v + 0.5);
    return true;
}

bool parse_mib_or_size(const char *text, unsigned long long *out)
{
    text = skip_space(text);
    char *end;
    double v = strtod(text, &end);
    if (end == text || v < 0 || !isfinite(v))
        return false;
    end = (char *)skip_space(end);
    double scale = (double)MIB_BYTES;
    switch (tolower((unsigned char)*end)) {
    case 'k': scale = 1024.0; end++; break;
    case 'm': scale = (double)MIB_BYTES; end++; break;
    case 'g': scale = 1024.0 * (double)MIB_BYTES; end++; break;
    case 't': scale = 1024.0 * 1024.0 * (double)MIB_BYTES; end++; break;
    case 'b': scale = 1; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I')
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*skip_space(end))
        return false;
    v *= scale;
    if (v > 1e18)
        return false;
    *out = (unsigned long long)(v + 0.5);
    return true;
}

/* Typed values go through the engine's settings parser: the same spellings
 * and checks as the CLI flags and scenario files. */
static bool parse_with_key(tui_app *app, const char *key, const char *text, char *why,
                           size_t wl)
{
    hr_settings s = app->settings;
    hr_error err;
    hr_error_clear(&err);
    char value[128];
    text_copy(value, sizeof value, skip_space(text));
    size_t n = strlen(value);
    while (n && isspace((unsigned char)value[n - 1]))
        value[--n] = '\0';
    if (hr_setting_set(&s, key, value, &err) != HR_OK) {
        text_copy(why, wl, err.message);
        return false;
    }
    app->settings = s;
    return true;
}

/* Counts may be typed as "32k": spelled out before the engine parses them. */
static bool parse_count_key(tui_app *app, const char *key, const char *text, char *why,
                            size_t wl)
{
    unsigned long long v;
    char digits[32];
    if (parse_count(text, &v)) {
        snprintf(digits, sizeof digits, "%llu", v);
        text = digits;
    }
    return parse_with_key(app, key, text, why, wl);
}

static uint32_t next_pow2_above(uint32_t v, uint32_t max)
{
    uint32_t p = 1;
    while (p <= v && p < max)
        p <<= 1;
    return p > max ? max : p;
}

static uint32_t prev_pow2_below(uint32_t v, uint32_t min)
{
    uint32_t p = 1;
    while ((p << 1) < v)
        p <<= 1;
    return p < min ? min : p;
}

static uint32_t step_pow2(uint32_t v, int dir, uint32_t min, uint32_t max)
{
    return dir > 0 ? next_pow2_above(v, max) : prev_pow2_below(v, min);
}

/* ---------- context ---------- */

static uint32_t train_ctx(const tui_app *app)
{
    return app->model && app->model->n_ctx_train ? app->model->n_ctx_train : 4096;
}

static void ctx_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    if (app->settings.n_ctx == 0)
        snprintf(v, vl, "%u", train_ctx(app));
    else
        snprintf(v, vl, "%u", app->settings.n_ctx);
    if (app->settings.n_ctx == 0)
        snprintf(h, hl, "(train)");
    else {
        char train[16];
        fmt_count_short(train, sizeof train, train_ctx(app));
        snprintf(h, hl, "(train %s)", train);
    }
}

static bool ctx_step(tui_app *app, int dir)
{
    uint32_t cur = app->settings.n_ctx ? app->settings.n_ctx : train_ctx(app);
    uint32_t next = step_pow2(cur, dir, CTX_MIN, CTX_MAX);
    if (next == cur)
        return false;
    app->settings.n_ctx = next;
    return true;
}

static bool ctx_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    if (strcasecmp(skip_space(text), "train") == 0)
        text = "0";
    return parse_count_key(app, "ctx_size", text, why, wl);
}

/* ---------- batch / ubatch / sequences ---------- */

/* "2048", with "(uses N)" when llama.cpp would resolve it to another value */
static void format_resolved(uint32_t set, bool plan_ok, uint32_t used, char *v, size_t vl, char *h,
                            size_t hl)
{
    snprintf(v, vl, "%u", set);
    if (plan_ok && used != set)
        snprintf(h, hl, "(uses %u)", used);
    else
        h[0] = '\0';
}

static bool step_pow2_field(uint32_t *field, int dir)
{
    uint32_t next = step_pow2(*field, dir, BATCH_MIN, BATCH_MAX);
    if (next == *field)
        return false;
    *field = next;
    return true;
}

static void batch_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    format_resolved(app->settings.n_batch, app->plan_ok, app->plan.n_batch, v, vl, h, hl);
}

static bool batch_step(tui_app *app, int dir)
{
    return step_pow2_field(&app->settings.n_batch, dir);
}

static bool batch_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    return parse_count_key(app, "batch_size", text, why, wl);
}

static void ubatch_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    format_resolved(app->settings.n_ubatch, app->plan_ok, app->plan.n_ubatch, v, vl, h, hl);
}

static bool ubatch_step(tui_app *app, int dir)
{
    return step_pow2_field(&app->settings.n_ubatch, dir);
}

static bool ubatch_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    return parse_count_key(app, "ubatch_size", text, why, wl);
}

static void seq_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    snprintf(v, vl, "%u", app->settings.n_seq);
    snprintf(h, hl, "%s", app->settings.kv_unified ? "(unified KV)" : "");
}

static bool seq_step(tui_app *app, int dir)
{
    uint32_t cur = app->settings.n_seq;
    uint32_t next = dir > 0 ? (cur < SEQ_MAX ? cur + 1 : cur) : (cur > 1 ? cur - 1 : cur);
    if (next == cur)
        return false;
    app->settings.n_seq = next;
    return true;
}

static bool seq_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    return parse_with_key(app, "parallel", text, why, wl);
}

/* ---------- quantization ---------- */

/* Position in [as file, what-if list...]: 0 = as the file. */
static int quant_index(const tui_app *app, int *count)
{
    const hr_ftype *list;
    int n = hr_ftype_whatif_list(&list);
    *count = n + 1;
    if (app->settings.target_ftype == HR_FTYPE_UNKNOWN)
        return 0;
    for (int i = 0; i < n; i++)
        if (list[i] == app->settings.target_ftype)
            return i + 1;
    return 0;
}

static void quant_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    if (app->settings.target_ftype == HR_FTYPE_UNKNOWN) {
        const char *q = app->model && app->model->quant_name ? app->model->quant_name : "?";
        snprintf(v, vl, "%s", q);
        snprintf(h, hl, "(as file)");
    } else {
        const char *name = hr_ftype_name(app->settings.target_ftype);
        snprintf(v, vl, "%s", name ? name : "?");
        snprintf(h, hl, "(what-if)");
    }
}

static bool quant_step(tui_app *app, int dir)
{
    const hr_ftype *list;
    int n = hr_ftype_whatif_list(&list), count;
    int i = quant_index(app, &count);
    /* The list runs from highest quality down: right = smaller file. */
    int next = i + (dir > 0 ? 1 : -1);
    if (next < 0 || next >= count)
        return false;
    app->settings.target_ftype = next == 0 ? HR_FTYPE_UNKNOWN : list[next - 1];
    (void)n;
    return true;
}

static bool quant_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    text = skip_space(text);
    if (!*text || strcasecmp(text, "as file") == 0)
        text = "file";
    return parse_with_key(app, "quant", text, why, wl);
}

/* ---------- KV cache type ---------- */

static int kv_index(hr_type t)
{
    const hr_type_info *info = hr_type_get(t);
    for (int i = 0; info && i < N_KV_TYPES; i++)
        if (strcasecmp(info->name, kv_type_names[i]) == 0)
            return i;
    return -1;
}

static const char *type_label(hr_type t)
{
    const hr_type_info *info = hr_type_get(t);
    return info ? info->name : "?";
}

static void kv_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    if (app->settings.type_k == app->settings.type_v)
        snprintf(v, vl, "%s", type_label(app->settings.type_k));
    else
        snprintf(v, vl, "%s/%s", type_label(app->settings.type_k), type_label(app->settings.type_v));
    snprintf(h, hl, "(K/V)");
}

static bool kv_step(tui_app *app, int dir)
{
    int i = kv_index(app->settings.type_k);
    int next = i < 0 ? 1 : i + (dir > 0 ? 1 : -1);
    if (next < 0 || next >= N_KV_TYPES)
        return false;
    app->settings.type_k = app->settings.type_v = hr_type_from_name(kv_type_names[next]);
    return true;
}

static bool kv_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    char k[64], v[64];
    const char *slash = strchr(text, '/');
    if (slash) {
        snprintf(k, sizeof k, "%.*s", (int)(slash - text) < 63 ? (int)(slash - text) : 63, text);
        text_copy(v, sizeof v, slash + 1);
    } else {
        text_copy(k, sizeof k, text);
        text_copy(v, sizeof v, text);
    }
    hr_settings before = app->settings;
    if (!parse_with_key(app, "cache_type_k", k, why, wl) ||
        !parse_with_key(app, "cache_type_v", v, why, wl)) {
        app->settings = before;
        return false;
    }
    return true;
}

/* ---------- flash attention ---------- */

static void fa_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    snprintf(v, vl, "%s", fa_names[app->settings.flash_attn % 3]);
    if (app->settings.flash_attn == HR_FA_AUTO && app->plan_ok)
        snprintf(h, hl, "(%s)", app->plan.flash_attn ? "on" : "off");
    else
        h[0] = '\0';
}

static bool fa_step(tui_app *app, int dir)
{
    static const hr_flash_attn order[] = {HR_FA_OFF, HR_FA_AUTO, HR_FA_ON};
    int i = 0;
    for (int k = 0; k < 3; k++)
        if (order[k] == app->settings.flash_attn)
            i = k;
    int next = i + (dir > 0 ? 1 : -1);
    if (next < 0 || next > 2)
        return false;
    app->settings.flash_attn = order[next];
    return true;
}

static bool fa_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    return parse_with_key(app, "flash_attn", text, why, wl);
}

/* ---------- GPU layers ---------- */

static int32_t layers_max(const tui_app *app)
{
    return app->model ? (int32_t)app->model->n_layer + 1 : 1;
}

static void ngl_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    if (app->settings.n_gpu_layers < 0)
        snprintf(v, vl, "all");
    else
        snprintf(v, vl, "%d", app->settings.n_gpu_layers);
    if (app->plan_ok)
        snprintf(h, hl, "(%d/%d)", app->plan.n_gpu_layers, layers_max(app));
    else
        snprintf(h, hl, "(of %d)", layers_max(app));
}

static bool ngl_step(tui_app *app, int dir)
{
    int32_t cur = app->settings.n_gpu_layers, max = layers_max(app);
    int32_t next;
    if (cur < 0 || cur >= max)
        next = dir > 0 ? -1 : max - 1;
    else if (dir > 0)
        next = cur + 1 >= max ? -1 : cur + 1;
    else
        next = cur > 0 ? cur - 1 : 0;
    if (next == cur)
        return false;
    app->settings.n_gpu_layers = next;
    return true;
}

static bool ngl_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    return parse_with_key(app, "gpu_layers", text, why, wl);
}

/* ---------- margins ---------- */

static void margin_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    snprintf(v, vl, "%g%%", app->settings.margin_percent);
    h[0] = '\0';
    (void)hl;
}

static bool margin_step(tui_app *app, int dir)
{
    double cur = app->settings.margin_percent;
    double next = dir > 0 ? floor(cur / MARGIN_STEP_PERCENT + 1e-9) * MARGIN_STEP_PERCENT +
                                MARGIN_STEP_PERCENT
                          : ceil(cur / MARGIN_STEP_PERCENT - 1e-9) * MARGIN_STEP_PERCENT -
                                MARGIN_STEP_PERCENT;
    if (next < 0)
        next = 0;
    if (next > 100)
        next = 100;
    if (next == cur)
        return false;
    app->settings.margin_percent = next;
    return true;
}

static bool margin_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    char *end;
    double v = strtod(text, &end);
    end = (char *)skip_space(end);
    if (*end == '%')
        end++;
    if (end == text || *skip_space(end) || !(v >= 0 && v <= 1000)) {
        snprintf(why, wl, "margin: a percentage like 10");
        return false;
    }
    app->settings.margin_percent = v;
    return true;
}

static void margin_fixed_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    snprintf(v, vl, "%llu MiB", (unsigned long long)(app->settings.margin_bytes / MIB_BYTES));
    h[0] = '\0';
    (void)hl;
}

static bool margin_fixed_step(tui_app *app, int dir)
{
    uint64_t cur = app->settings.margin_bytes;
    uint64_t next = dir > 0 ? (cur / MARGIN_FIXED_STEP + 1) * MARGIN_FIXED_STEP
                            : (cur > MARGIN_FIXED_STEP
                                   ? ((cur - 1) / MARGIN_FIXED_STEP) * MARGIN_FIXED_STEP
                                   : 0);
    if (next == cur)
        return false;
    app->settings.margin_bytes = next;
    return true;
}

static bool margin_fixed_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    unsigned long long v;
    if (!parse_mib_or_size(text, &v)) {
        snprintf(why, wl, "margin-mib: MiB like 512, or a size like 1.5G");
        return false;
    }
    app->settings.margin_bytes = v;
    return true;
}

/* ---------- runtime ---------- */

static void runtime_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    snprintf(v, vl, "%s", app->runtime_name[0] ? app->runtime_name : "none");
    if (app->runtime_error[0])
        snprintf(h, hl, "(not loaded)");
    else
        h[0] = '\0';
}

static bool runtime_step(tui_app *app, int dir)
{
    int i = 0;
    for (int k = 0; k < N_RUNTIMES; k++)
        if (strcmp(app->runtime_name, runtime_names[k]) == 0)
            i = k;
    int next = i + (dir > 0 ? 1 : -1);
    if (next < 0 || next >= N_RUNTIMES)
        return false;
    return app_set_runtime(app, runtime_names[next]);
}

static bool runtime_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    char name[32];
    text_copy(name, sizeof name, skip_space(text));
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!app_set_runtime(app, name)) {
        snprintf(why, wl, "%s", app->status);
        return false;
    }
    return true;
}

/* ---------- target hardware ---------- */

static void target_format(const tui_app *app, char *v, size_t vl, char *h, size_t hl)
{
    (void)hl;
    if (app->target_entry < 0) {
        snprintf(v, vl, "this machine");
        h[0] = '\0';
    } else {
        snprintf(v, vl, "%dx %s", app->target_count, app->catalog->entries[app->target_entry].id);
        h[0] = '\0';
    }
}

/* Cycling the target changes the budget itself, so it recomputes through the app. */
static bool target_step(tui_app *app, int dir)
{
    int n = app->catalog ? app->catalog->n_entries : 0;
    int next = app->target_entry + (dir > 0 ? 1 : -1);
    if (next < -1 || next >= n) {
        if (!app->catalog)
            app_error(app, "hardware catalog: %s", app->catalog_error);
        return false;
    }
    app_set_target(app, next, app->target_count);
    return true;
}

static bool target_parse(tui_app *app, const char *text, char *why, size_t wl)
{
    if (!app_set_target_spec(app, text)) {
        snprintf(why, wl, "%s", app->status);
        return false;
    }
    return true;
}

static const setting_row rows[] = {
    {"Context", "ctx-size", "tokens, e.g. 8192, 32k or train", ctx_format, ctx_step, ctx_parse},
    {"Batch", "batch-size", "logical batch, e.g. 2048", batch_format, batch_step, batch_parse},
    {"Ubatch", "ubatch-size", "physical batch, e.g. 512", ubatch_format, ubatch_step, ubatch_parse},
    {"Sequences", "parallel", "parallel sequences, e.g. 4", seq_format, seq_step, seq_parse},
    {"Quantization", "quant", "e.g. Q4_K_M, Q8_0, F16, or file", quant_format, quant_step,
     quant_parse},
    {"KV cache", "cache-type-k", "f16, q8_0, or K/V like q8_0/f16", kv_format, kv_step, kv_parse},
    {"Flash attn", "flash-attn", "on, off or auto", fa_format, fa_step, fa_parse},
    {"GPU layers", "gpu-layers", "number of layers or all", ngl_format, ngl_step, ngl_parse},
    {"Margin", "margin", "percent of each device's total", margin_format, margin_step,
     margin_parse},
    {"Margin fixed", "margin-mib", "MiB per device, or 1.5G", margin_fixed_format,
     margin_fixed_step, margin_fixed_parse},
    {"Runtime", "runtime", "cpu, cuda, rocm, metal or vulkan", runtime_format, runtime_step,
     runtime_parse},
    {"Target", "hardware", "this machine, or e.g. 2x RTX 4090", target_format, target_step,
     target_parse},
};

int settings_row_count(void)
{
    return (int)(sizeof rows / sizeof rows[0]);
}

const setting_row *settings_row_at(int index)
{
    return index >= 0 && index < settings_row_count() ? &rows[index] : NULL;
}

int settings_find(const char *cli_name)
{
    for (int i = 0; i < settings_row_count(); i++)
        if (strcmp(rows[i].cli_name, cli_name) == 0)
            return i;
    return -1;
}

/* Rows whose change already went through app_set_target (which recomputes). */
static bool recomputes_itself(const setting_row *row)
{
    return row->step == target_step;
}

void settings_step(tui_app *app, int index, int dir)
{
    const setting_row *row = settings_row_at(index);
    if (!row)
        return;
    if (row->step(app, dir) && !recomputes_itself(row)) {
        app_status(app, "%s", "");
        app_recompute(app);
    }
}

void settings_apply_text(tui_app *app, int index, const char *text)
{
    const setting_row *row = settings_row_at(index);
    if (!row)
        return;
    char why[HR_ERROR_MESSAGE_MAX + 64] = "";
    hr_settings before = app->settings;
    if (!row->parse(app, text, why, sizeof why)) {
        app->settings = before;
        app_error(app, "%s", why);
        return;
    }
    if (!recomputes_itself(row)) {
        app_status(app, "%s", "");
        app_recompute(app);
    }
}
