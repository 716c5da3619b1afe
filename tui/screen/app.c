/* The planner's state and the verbs that change it; every figure comes from
 * the engine (hr_plan_compute, hr_solve_all, hr_sweep_ctx). */
#include "format.h"
#include "app.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void app_status(tui_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->status, sizeof app->status, fmt, ap);
    va_end(ap);
    app->status_is_error = false;
}

void app_error(tui_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->status, sizeof app->status, fmt, ap);
    va_end(ap);
    app->status_is_error = true;
}

/* The runtime a budget suggests: the first GPU's backend, else the CPU. */
static const char *runtime_for_budget(const hr_budget *b)
{
    for (int i = 1; i < b->n_devices; i++)
        if (b->devices[i].kind == HR_DEVICE_GPU)
            return hr_backend_name(b->devices[i].backend);
    return "cpu";
}

bool app_set_runtime(tui_app *app, const char *name)
{
    hr_runtime rt;
    hr_error err;
    hr_error_clear(&err);
    if (hr_runtime_load(NULL, name, &rt, &err) != HR_OK) {
        text_copy(app->runtime_error, sizeof app->runtime_error, err.message);
        app_error(app, "runtime %s: %s", name, err.message);
        return false;
    }
    app->settings.runtime = rt;
    text_copy(app->runtime_name, sizeof app->runtime_name, name);
    app->runtime_error[0] = '\0';
    return true;
}

void app_init(tui_app *app)
{
    hr_error err;
    hr_error_clear(&err);
    hr_settings_init(&app->settings);
    app->target_entry = -1;
    app->target_count = 1;

    hr_budget_init_host_only(&app->machine_budget);
    if (hr_system_detect(NULL, &app->system, &err) == HR_OK) {
        app->system_ok = true;
        hr_budget_from_system(&app->system, &app->machine_budget);
    } else {
        app_error(app, "machine detection: %s", err.message);
    }
    snprintf(app->machine_budget.label, sizeof app->machine_budget.label, "this machine");
    app->budget = app->machine_budget;

    hr_error_clear(&err);
    if (hr_catalog_load(NULL, &app->catalog, &err) != HR_OK) {
        app->catalog = NULL;
        text_copy(app->catalog_error, sizeof app->catalog_error, err.message);
    }

    char saved_status[sizeof app->status];
    bool saved_is_error = app->status_is_error;
    memcpy(saved_status, app->status, sizeof saved_status);
    if (!app_set_runtime(app, runtime_for_budget(&app->budget)) && saved_status[0]) {
        memcpy(app->status, saved_status, sizeof saved_status);
        app->status_is_error = saved_is_error;
    }

    if (!getcwd(app->open_dir, sizeof app->open_dir))
        snprintf(app->open_dir, sizeof app->open_dir, ".");
    app->open_dirty = true;
}

void app_free(tui_app *app)
{
    hr_planner_free(app->planner);
    app->planner = NULL;
    hr_model_free(app->model);
    app->model = NULL;
    hr_catalog_free(app->catalog);
    app->catalog = NULL;
    free(app->quant_rows);
    free(app->compare_rows);
    free(app->open_entries);
}

void app_remember(tui_app *app, const char *spec)
{
    int found = -1;
    for (int i = 0; i < app->n_recent; i++)
        if (strcmp(app->recent[i], spec) == 0)
            found = i;
    int last = found >= 0 ? found : (app->n_recent < APP_RECENT_MAX ? app->n_recent++
                                                                    : APP_RECENT_MAX - 1);
    memmove(app->recent[1], app->recent[0], (size_t)last * sizeof app->recent[0]);
    text_copy(app->recent[0], sizeof app->recent[0], spec);
    app->open_dirty = true;
}

bool app_open_model(tui_app *app, const char *spec)
{
    hr_model *model = NULL;
    hr_error err;
    hr_error_clear(&err);
    if (hr_model_open(spec, &model, &err) != HR_OK) {
        app_error(app, "%s", err.message[0] ? err.message : "cannot open the model");
        return false;
    }
    hr_planner_free(app->planner);
    hr_model_free(app->model);
    app->model = model;
    app->planner = hr_planner_new(model, NULL); /* NULL (no memory): plain plans */
    text_copy(app->model_spec, sizeof app->model_spec, spec);
    app_remember(app, spec);
    /* A what-if quantization or layer count of the previous model means nothing here. */
    app->settings.target_ftype = HR_FTYPE_UNKNOWN;
    app->settings.n_gpu_layers = -1;
    app_status(app, "opened %s", model->name ? model->name : spec);
    app_recompute(app);
    return true;
}

/* Log-spaced context sizes from 256 to the larger of the training and current
 * context, rounded to multiples of 256 (what llama.cpp pads to) and deduplicated. */
static int sweep_points(const tui_app *app, uint32_t *ctx, int max_points)
{
    uint32_t top = app->model->n_ctx_train ? app->model->n_ctx_train : 4096;
    uint32_t current = app->settings.n_ctx ? app->settings.n_ctx : top;
    if (current > top)
        top = current;
    if (top < 512)
        top = 512;
    int n = 0;
    double lo = log(256.0), hi = log((double)top);
    for (int i = 0; i < max_points; i++) {
        double v = exp(lo + (hi - lo) * i / (max_points - 1));
        uint32_t c = (uint32_t)(v / 256.0 + 0.5) * 256u;
        if (c < 256)
            c = 256;
        if (i == max_points - 1)
            c = top;
        if (n == 0 || c > ctx[n - 1])
            ctx[n++] = c;
    }
    return n;
}

bool app_plan(tui_app *app, const hr_settings *s, const hr_budget *b, hr_plan *out, hr_error *err)
{
    if (app->planner)
        return hr_planner_plan(app->planner, s, b, out, err) == HR_OK;
    return hr_plan_compute(app->model, s, b, out, err) == HR_OK;
}

void app_recompute(tui_app *app)
{
    app->generation++;
    app->plan_ok = false; /* the previous answers and curve stay up until recomputed */
    hr_error_clear(&app->plan_err);
    if (!app->model) {
        hr_error_set(&app->plan_err, HR_ERR_ARG, "no model open (press o)");
        app->derived_stale = true;
        return;
    }
    app->plan_ok = app_plan(app, &app->settings, &app->budget, &app->plan, &app->plan_err);
    if (!app->plan_ok)
        app_error(app, "plan: %s", app->plan_err.message);
    app->derived_stale = true;
}

void app_recompute_derived(tui_app *app)
{
    app->derived_stale = false;
    app->fit_ok = app->sweep_ok = false;
    hr_error_clear(&app->fit_err);
    hr_error_clear(&app->sweep_err);
    if (!app->model) {
        hr_error_set(&app->fit_err, HR_ERR_ARG, "no model open");
        hr_error_set(&app->sweep_err, HR_ERR_ARG, "no model open");
        return;
    }
    memset(&app->fit, 0, sizeof app->fit);
    app->fit_ok = hr_solve_all(app->model, &app->settings, &app->budget, &app->fit,
                               &app->fit_err) == HR_OK;
    app->replicas_known = app->fit_ok && app->fit.has_replicas;
    app->n_sweep = sweep_points(app, app->sweep_ctx, APP_SWEEP_POINTS);
    app->sweep_n_devices = app->budget.n_devices;
    app->sweep_ok = hr_sweep_ctx(app->model, &app->settings, &app->budget, app->sweep_ctx,
                                 app->n_sweep, app->sweep_totals, &app->sweep_err) == HR_OK;
}

const char *app_target_label(const tui_app *app)
{
    return app->budget.label[0] ? app->budget.label : "this machine";
}

void app_set_target(tui_app *app, int entry, int count)
{
    if (entry < 0 || !app->catalog || entry >= app->catalog->n_entries) {
        app->target_entry = -1;
        app->target_count = 1;
        app->budget = app->machine_budget;
    } else {
        if (count < 1)
            count = 1;
        if (count > HR_MAX_GPUS)
            count = HR_MAX_GPUS;
        app->target_entry = entry;
        app->target_count = count;
        hr_budget_from_entry(&app->catalog->entries[entry], count, &app->budget);
        if (!app->budget.label[0])
            snprintf(app->budget.label, sizeof app->budget.label, "%dx %s", count,
                     app->catalog->entries[entry].name);
    }
    app_set_runtime(app, runtime_for_budget(&app->budget));
    app_recompute(app);
}

bool app_set_target_spec(tui_app *app, const char *spec)
{
    while (*spec == ' ')
        spec++;
    if (!*spec || strcasecmp(spec, "this machine") == 0 || strcasecmp(spec, "this") == 0 ||
        strcasecmp(spec, "local") == 0) {
        app_set_target(app, -1, 1);
        return true;
    }
    if (!app->catalog) {
        app_error(app, "hardware catalog: %s", app->catalog_error);
        return false;
    }
    int count = 1;
    const hr_hw_entry *e = hr_catalog_find(app->catalog, spec, &count);
    if (!e) {
        app_error(app, "no hardware '%s' in the catalog", spec);
        return false;
    }
    app_set_target(app, (int)(e - app->catalog->entries), count);
    return true;
}

bool app_save_scenario(tui_app *app, const char *path)
{
    hr_scenario sc;
    hr_error err;
    hr_error_clear(&err);
    hr_scenario_init(&sc);
    text_copy(sc.model, sizeof sc.model, app->model_spec);
    if (app->target_entry >= 0)
        snprintf(sc.hardware, sizeof sc.hardware, "%dx %s", app->target_count,
                 app->catalog->entries[app->target_entry].id);
    sc.settings = app->settings;
    text_copy(sc.runtime, sizeof sc.runtime, app->runtime_name);
    if (hr_scenario_save(path, &sc, &err) != HR_OK) {
        app_error(app, "save: %s", err.message);
        return false;
    }
    app_status(app, "scenario saved to %s", path);
    return true;
}

bool app_load_scenario(tui_app *app, const char *path)
{
    hr_scenario sc;
    hr_error err;
    hr_error_clear(&err);
    if (hr_scenario_load(path, &sc, &err) != HR_OK) {
        app_error(app, "load: %s", err.message);
        return false;
    }
    if (sc.model[0] && strcmp(sc.model, app->model_spec) != 0 && !app_open_model(app, sc.model))
        return false;
    if (sc.hardware_file[0]) {
        hr_catalog *cat = NULL;
        if (hr_catalog_load_merged(sc.hardware_file, &cat, &err) != HR_OK) {
            app_error(app, "load: %s", err.message);
            return false;
        }
        hr_catalog_free(app->catalog);
        app->catalog = cat;
        app->compare_generation = 0;
    }
    hr_runtime previous_runtime = app->settings.runtime;
    app->settings = sc.settings;
    app->settings.runtime = previous_runtime;
    if (!app_set_target_spec(app, sc.hardware))
        return false;
    if (sc.runtime[0] && !app_set_runtime(app, sc.runtime))
        return false;
    app_recompute(app);
    app_status(app, "scenario loaded from %s", path);
    return true;
}
