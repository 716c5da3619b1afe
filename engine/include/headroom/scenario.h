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

#ifdef __cplusplus
}
#endif
#endif
