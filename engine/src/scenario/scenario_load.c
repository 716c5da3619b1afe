/* Reading a scenario YAML file (libyaml document API). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/file_io.h"
#include "core/yaml_doc.h"
#include "headroom/scenario.h"

/* A scenario is a few lines: anything bigger is not one. */
#define SCENARIO_MAX_BYTES (1u << 20)

void hr_scenario_init(hr_scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    hr_settings_init(&sc->settings);
}

typedef hr_yaml_doc load_ctx;

static hr_status copy_scalar(load_ctx *c, const yaml_node_t *value, const char *key, char *dst,
                             size_t dst_len)
{
    if (value->type != YAML_SCALAR_NODE)
        return hr_error_set(c->err, HR_ERR_FORMAT, "%s: line %u: '%s' must be a single value",
                            c->origin, hr_yaml_line(value), key);
    if (hr_yaml_is_null(value)) {
        dst[0] = '\0';
        return HR_OK;
    }
    size_t n = value->data.scalar.length;
    if (n >= dst_len)
        return hr_error_set(c->err, HR_ERR_LIMIT, "%s: line %u: '%s' is longer than %zu bytes",
                            c->origin, hr_yaml_line(value), key, dst_len - 1);
    if (memchr(value->data.scalar.value, '\0', n))
        return hr_error_set(c->err, HR_ERR_FORMAT, "%s: line %u: '%s' holds a NUL byte",
                            c->origin, hr_yaml_line(value), key);
    memcpy(dst, value->data.scalar.value, n);
    dst[n] = '\0';
    return HR_OK;
}

/* tensor_split may be a YAML list ([3, 1]) as well as "3,1". */
static hr_status join_sequence(load_ctx *c, const yaml_node_t *seq, char *dst, size_t dst_len)
{
    size_t used = 0;
    dst[0] = '\0';
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *item = hr_yaml_node(c, *it);
        char one[64];
        if (!item || copy_scalar(c, item, "tensor_split", one, sizeof one) != HR_OK)
            return c->err ? c->err->status : HR_ERR_FORMAT;
        int n = snprintf(dst + used, dst_len - used, "%s%s", used ? "," : "", one);
        if (n < 0 || (size_t)n >= dst_len - used)
            return hr_error_set(c->err, HR_ERR_LIMIT, "%s: line %u: tensor_split is too long",
                                c->origin, hr_yaml_line(seq));
        used += (size_t)n;
    }
    return HR_OK;
}

static hr_status load_settings(load_ctx *c, const yaml_node_t *map, hr_settings *s)
{
    if (hr_yaml_is_null(map))
        return HR_OK; /* "settings:" with nothing under it */
    if (map->type != YAML_MAPPING_NODE)
        return hr_error_set(c->err, HR_ERR_FORMAT, "%s: line %u: 'settings' must be a mapping",
                            c->origin, hr_yaml_line(map));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = hr_yaml_node(c, p->key);
        yaml_node_t *v = hr_yaml_node(c, p->value);
        if (!k || !v)
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s: broken mapping", c->origin);
        char key[64], value[256];
        hr_status st = copy_scalar(c, k, "settings key", key, sizeof key);
        if (st != HR_OK)
            return st;
        if (strcmp(key, "tensor_split") == 0 && v->type == YAML_SEQUENCE_NODE)
            st = join_sequence(c, v, value, sizeof value);
        else
            st = copy_scalar(c, v, key, value, sizeof value);
        if (st != HR_OK)
            return st;
        hr_error set_err;
        st = hr_setting_set(s, key, value, &set_err);
        if (st != HR_OK)
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s: line %u: %s", c->origin, hr_yaml_line(k),
                                set_err.message);
    }
    return HR_OK;
}

static hr_status load_root(load_ctx *c, const yaml_node_t *root, hr_scenario *out)
{
    if (root->type != YAML_MAPPING_NODE)
        return hr_error_set(c->err, HR_ERR_FORMAT, "%s: a scenario must be a YAML mapping",
                            c->origin);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = hr_yaml_node(c, p->key);
        yaml_node_t *v = hr_yaml_node(c, p->value);
        if (!k || !v)
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s: broken mapping", c->origin);
        char key[64];
        hr_status st = copy_scalar(c, k, "key", key, sizeof key);
        if (st != HR_OK)
            return st;
        if (strcmp(key, "model") == 0)
            st = copy_scalar(c, v, key, out->model, sizeof out->model);
        else if (strcmp(key, "hardware") == 0)
            st = copy_scalar(c, v, key, out->hardware, sizeof out->hardware);
        else if (strcmp(key, "hardware_file") == 0)
            st = copy_scalar(c, v, key, out->hardware_file, sizeof out->hardware_file);
        else if (strcmp(key, "runtime") == 0)
            st = copy_scalar(c, v, key, out->runtime, sizeof out->runtime);
        else if (strcmp(key, "settings") == 0)
            st = load_settings(c, v, &out->settings);
        else
            st = hr_error_set(c->err, HR_ERR_FORMAT, "%s: line %u: unknown key '%s'", c->origin,
                              hr_yaml_line(k), key);
        if (st != HR_OK)
            return st;
    }
    return HR_OK;
}

hr_status hr_scenario_parse(const char *yaml, size_t len, const char *origin, hr_scenario *out,
                            hr_error *err)
{
    if (!out || (!yaml && len))
        return hr_error_set(err, HR_ERR_ARG, "no scenario text");
    if (!origin)
        origin = "scenario";
    hr_scenario sc;
    hr_scenario_init(&sc);
    hr_yaml_doc doc;
    hr_status st = hr_yaml_doc_load(&doc, yaml, len, origin, "YAML error", err);
    if (st != HR_OK)
        return st;
    yaml_node_t *root = hr_yaml_root(&doc);
    if (!root)
        st = hr_error_set(err, HR_ERR_FORMAT, "%s: empty scenario", origin);
    else
        st = load_root(&doc, root, &sc);
    hr_yaml_doc_free(&doc);
    if (st == HR_OK)
        *out = sc;
    return st;
}

hr_status hr_scenario_load(const char *path, hr_scenario *out, hr_error *err)
{
    if (!path)
        return hr_error_set(err, HR_ERR_ARG, "no scenario path");
    char *text = NULL;
    size_t len = 0;
    hr_status st = hr_read_file(path, SCENARIO_MAX_BYTES, &text, &len, err);
    if (st != HR_OK)
        return st;
    st = hr_scenario_parse(text, len, path, out, err);
    free(text);
    return st;
}
