/* Writing a scenario YAML file (libyaml emitter). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "headroom/scenario.h"

typedef struct emit_ctx {
    yaml_emitter_t emitter;
    bool ok;
} emit_ctx;

static void emit(emit_ctx *c, yaml_event_t *ev)
{
    if (c->ok && !yaml_emitter_emit(&c->emitter, ev))
        c->ok = false;
}

/* Plain words the loader reads as "nothing given" must be quoted to survive. */
static bool reads_as_null(const char *text)
{
    return strcmp(text, "~") == 0 || strcmp(text, "null") == 0 || strcmp(text, "Null") == 0 ||
           strcmp(text, "NULL") == 0;
}

static void emit_scalar(emit_ctx *c, const char *text)
{
    yaml_event_t ev;
    yaml_scalar_style_t style =
        reads_as_null(text) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1,
                                      1, style)) {
        c->ok = false;
        return;
    }
    emit(c, &ev);
}

static void emit_pair(emit_ctx *c, const char *key, const char *value)
{
    emit_scalar(c, key);
    emit_scalar(c, value);
}

static void emit_mapping_start(emit_ctx *c)
{
    yaml_event_t ev;
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)) {
        c->ok = false;
        return;
    }
    emit(c, &ev);
}

static void emit_mapping_end(emit_ctx *c)
{
    yaml_event_t ev;
    yaml_mapping_end_event_initialize(&ev);
    emit(c, &ev);
}

static void emit_document(emit_ctx *c, const hr_scenario *sc)
{
    yaml_event_t ev;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    emit(c, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    emit(c, &ev);
    emit_mapping_start(c);
    emit_pair(c, "model", sc->model);
    emit_pair(c, "hardware", sc->hardware);
    emit_pair(c, "hardware_file", sc->hardware_file);
    emit_pair(c, "runtime", sc->runtime);
    emit_scalar(c, "settings");
    emit_mapping_start(c);
    for (const char *const *k = hr_setting_keys(); *k; k++) {
        char value[256];
        if (!hr_setting_format(&sc->settings, *k, value, sizeof value)) {
            c->ok = false;
            return;
        }
        emit_pair(c, *k, value);
    }
    emit_mapping_end(c);
    emit_mapping_end(c);
    yaml_document_end_event_initialize(&ev, 1);
    emit(c, &ev);
    yaml_stream_end_event_initialize(&ev);
    emit(c, &ev);
}

hr_status hr_scenario_save(const char *path, const hr_scenario *sc, hr_error *err)
{
    if (!path || !sc)
        return hr_error_set(err, HR_ERR_ARG, "no scenario path");
    FILE *f = fopen(path, "w");
    if (!f)
        return hr_error_set(err, HR_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    emit_ctx c = {.ok = true};
    if (!yaml_emitter_initialize(&c.emitter)) {
        fclose(f);
        return hr_error_set(err, HR_ERR_NOMEM, "%s: cannot start the YAML emitter", path);
    }
    yaml_emitter_set_output_file(&c.emitter, f);
    yaml_emitter_set_unicode(&c.emitter, 1);
    emit_document(&c, sc);
    if (c.ok && !yaml_emitter_flush(&c.emitter))
        c.ok = false;
    yaml_emitter_delete(&c.emitter);
    bool closed = fclose(f) == 0;
    if (!c.ok || !closed)
        return hr_error_set(err, HR_ERR_IO, "%s: cannot write the scenario", path);
    return HR_OK;
}
