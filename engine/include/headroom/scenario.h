/* headroom — scenarios (YAML): model, settings and hardware in one file,
 * shared by the CLI (--scenario / --save) and the TUI. */
#ifndef HEADROOM_SCENARIO_H
#define HEADROOM_SCENARIO_H

#include "headroom/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_scenario {
    char model[1024];        /* path or preset id */
    char hardware[128];      /* catalog spec ("2x RTX 4090"), "" = this machine */
    char hardware_file[1024];/* catalog file, "" = default */
    hr_settings settings;
    char runtime[32];        /* runtime name in runtimes.yaml, "" = from settings.mode */
} hr_scenario;

HR_API void hr_scenario_init(hr_scenario *sc);
HR_API hr_status hr_scenario_load(const char *path, hr_scenario *out, hr_error *err);
HR_API hr_status hr_scenario_parse(const char *yaml, size_t len, const char *origin,
                                   hr_scenario *out, hr_error *err);
HR_API hr_status hr_scenario_save(const char *path, const hr_scenario *sc, hr_error *err);

/* ---- settings as text: one path for scenario files, CLI flags and the TUI ----
 * Keys (llama.cpp-like names): ctx_size, batch_size, ubatch_size, parallel,
 * kv_unified, flash_attn (on|off|auto), cache_type_k, cache_type_v,
 * gpu_layers (N|all), device (cpu|gpu), tensor_split ("3,1"), kv_offload,
 * mmap, swa_full, embeddings, quant (FTYPE|file), margin ("10%", "512MiB",
 * "10%+512MiB"). */

/* Parse value for key into s. HR_ERR_ARG (message names key and value) for a
 * bad value, HR_ERR_NOT_FOUND for an unknown key. */
HR_API hr_status hr_setting_set(hr_settings *s, const char *key, const char *value,
                                hr_error *err);
/* Format key's value as a scenario file writes it (round-trips exactly through
 * hr_setting_set). False for an unknown key or a buffer too small. */
HR_API bool hr_setting_format(const hr_settings *s, const char *key, char *buf, size_t len);
/* The keys above in file order, NULL-terminated. */
HR_API const char *const *hr_setting_keys(void);

#ifdef __cplusplus
}
#endif
#endif
