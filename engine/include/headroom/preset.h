/* headroom — built-in model presets (YAML under configs/models/).
 *
 * A preset is an hr_shape in YAML. The preset directory is found in this
 * order: the dir argument, $HEADROOM_CONFIG_DIR/models, the build-time
 * source dir (configs/models), the install datadir (share/headroom/models).
 */
#ifndef HEADROOM_PRESET_H
#define HEADROOM_PRESET_H

#include "headroom/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_preset_info {
    char id[64];        /* file stem: "llama-3.1-8b" */
    char name[128];     /* display name: "Llama-3.1-8B" */
    char path[1024];
} hr_preset_info;

/* Directory presets are read from (NULL dir: the search order above).
 * Writes into buf; returns buf or NULL if none exists. */
HR_API const char *hr_preset_dir(const char *dir, char *buf, size_t buf_len);

/* List presets in dir (NULL: default). *out is malloc'd; caller frees. */
HR_API hr_status hr_preset_list(const char *dir, hr_preset_info **out, int *count, hr_error *err);

/* Load a preset by id/name (case-insensitive) or by YAML path. */
HR_API hr_status hr_preset_load(const char *dir, const char *id_or_path, hr_model **out,
                                hr_error *err);

/* Parse preset YAML from memory into a shape. String fields of the shape point
 * into *strings (malloc'd, caller frees). */
HR_API hr_status hr_preset_parse(const char *yaml, size_t len, const char *origin,
                                 hr_shape *shape, char **strings, hr_error *err);

/* The default model the planner opens with no argument. */
#define HR_DEFAULT_PRESET "llama-3.1-8b"

#ifdef __cplusplus
}
#endif
#endif
