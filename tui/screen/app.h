/* The planner's state: one struct passed to every screen. The app owns the
 * model, the settings (hr_settings as-is), the target hardware and the last
 * results from the engine; screens only read it and call the app_* verbs. */
#ifndef HR_TUI_APP_H
#define HR_TUI_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "headroom/headroom.h"

#include "crt.h"

#define APP_SWEEP_POINTS 60
#define APP_RECENT_MAX 10
#define APP_PATH_MAX 1024

typedef enum tui_view {
    VIEW_PLAN = 0, VIEW_QUANT, VIEW_COMPARE, VIEW_BREAKDOWN, VIEW_OPEN, VIEW_HELP, VIEW_COUNT
} tui_view;

/* One row of the compare view, computed by the engine for one catalog entry. */
typedef struct compare_row {
    int entry;               /* index into the catalog */
    bool plan_ok, fits;
    int64_t headroom_bytes;  /* of the tightest device */
    uint64_t gpu_capacity_bytes; /* sum of the entry's device capacities */
    hr_fit fit;
    bool fit_ok;
    bool price_known;        /* copied from the entry so rows sort on their own */
    double price_usd;
    char error[160];
} compare_row;

/* One row of the quantization table. */
typedef struct quant_row {
    hr_ftype ftype;          /* HR_FTYPE_UNKNOWN: as the file */
    bool size_ok, plan_ok;
    uint64_t file_bytes;
    hr_plan plan;
    char error[160];
} quant_row;

/* One entry of the file opener's list. */
typedef enum open_kind { OPEN_HEADING, OPEN_RECENT, OPEN_PRESET, OPEN_PARENT, OPEN_DIR, OPEN_FILE } open_kind;
typedef struct open_entry {
    open_kind kind;
    char label[160];
    char target[APP_PATH_MAX]; /* what hr_model_open gets, or the directory to enter */
} open_entry;

typedef struct tui_app {
    tui_crt crt;

    /* model */
    hr_model *model;
    hr_planner *planner;           /* plans of the model, reusing earlier work (NULL: plain) */
    char model_spec[APP_PATH_MAX]; /* as the user gave it: preset id or path */

    /* settings and target */
    hr_settings settings;
    char runtime_name[32];
    char runtime_error[HR_ERROR_MESSAGE_MAX];
    hr_system system;
    bool system_ok;
    hr_budget machine_budget;
    hr_catalog *catalog;
    char catalog_error[HR_ERROR_MESSAGE_MAX];
    int target_entry;        /* -1: this machine, else catalog index */
    int target_count;        /* devices of the catalog entry */
    hr_budget budget;

    /* results (recomputed on every change) */
    unsigned generation;     /* bumped on every change; caches compare against it */
    hr_plan plan;
    bool plan_ok;
    hr_error plan_err;
    bool derived_stale;      /* solver answers and sweep wait for the keyboard to go idle */
    hr_fit fit;
    bool fit_ok;
    hr_error fit_err;
    bool replicas_known;     /* fit.has_replicas: 0 replicas is an answer, not "cannot tell" */
    uint32_t sweep_ctx[APP_SWEEP_POINTS];
    uint64_t sweep_totals[APP_SWEEP_POINTS * HR_MAX_DEVICES];
    int n_sweep;
    int sweep_n_devices;     /* totals are laid out per device of the budget at the time */
    bool sweep_ok;
    hr_error sweep_err;

    /* screens */
    tui_view view, previous_view;
    int plan_row;            /* selected settings row */
    int list_row[VIEW_COUNT];
    int list_top[VIEW_COUNT];
    char status[HR_ERROR_MESSAGE_MAX + 64];
    bool status_is_error;
    bool quit;

    /* quantization table cache */
    quant_row *quant_rows;
    int n_quant_rows;
    unsigned quant_generation;

    /* compare cache */
    compare_row *compare_rows;
    int n_compare_rows;
    unsigned compare_generation;

    /* opener */
    char open_dir[APP_PATH_MAX];
    char open_filter[128];
    open_entry *open_entries;
    int n_open_entries;
    bool open_dirty;
    char recent[APP_RECENT_MAX][APP_PATH_MAX];
    int n_recent;

    /* click targets of the last frame (y == -1: none) */
    int click_settings_y0, click_settings_x0, click_settings_x1;
    int click_tab_y;
    int click_tab_x0[VIEW_COUNT + 8], click_tab_x1[VIEW_COUNT + 8];
    int click_tab_action[VIEW_COUNT + 8];
    int n_click_tabs;
    int list_y0[VIEW_COUNT];  /* screen row of each list's first item, for clicks */
    int list_rows[VIEW_COUNT];
} tui_app;

/* Set up defaults (llama.cpp settings, detected machine, catalog); no model yet. */
void app_init(tui_app *app);
void app_free(tui_app *app);

/* Open a model (path or preset); on failure the old one stays and false is returned
 * with the engine's message in the status line. */
bool app_open_model(tui_app *app, const char *spec);

/* A plan of the open model through its planner (hr_plan_compute without one). */
bool app_plan(tui_app *app, const hr_settings *s, const hr_budget *b, hr_plan *out, hr_error *err);

/* Recompute the plan after any change (at once, it takes microseconds); the
 * solver answers and the context sweep are marked stale. */
void app_recompute(tui_app *app);
/* Recompute solver answers and the sweep (tens of milliseconds on big models:
 * the event loop calls it when no key is waiting). */
void app_recompute_derived(tui_app *app);

/* Target hardware: entry -1 = this machine. Recomputes. */
void app_set_target(tui_app *app, int entry, int count);
/* Parse "this machine", "2x RTX 4090", "h100-sxm-80gb"; false with a status message. */
bool app_set_target_spec(tui_app *app, const char *spec);
/* Label of the current target ("this machine", "2x NVIDIA H100 80GB SXM"). */
const char *app_target_label(const tui_app *app);

/* Runtime from runtimes.yaml; false with a status message (settings unchanged). */
bool app_set_runtime(tui_app *app, const char *name);

/* Status line messages. */
void app_status(tui_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void app_error(tui_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Remember a model in the recent list (most recent first). */
void app_remember(tui_app *app, const char *spec);

/* Scenarios: the app's model, settings and hardware as YAML. */
bool app_save_scenario(tui_app *app, const char *path);
bool app_load_scenario(tui_app *app, const char *path);

#endif
