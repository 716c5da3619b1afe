/* Preset directory, listing and loading (configs/models, one YAML per model). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/file_io.h"
#include "headroom/preset.h"
#include "model/model_internal.h"

#define PRESET_FILE_MAX (1u << 20)
#define PRESET_MAX_COUNT 4096

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *hr_preset_dir(const char *dir, char *buf, size_t buf_len)
{
    if (!buf || buf_len == 0)
        return NULL;
    if (dir) {
        if (!is_dir(dir) || (size_t)snprintf(buf, buf_len, "%s", dir) >= buf_len)
            return NULL;
        return buf;
    }
    if (hr_config_path("models", buf, buf_len) == 0 && is_dir(buf))
        return buf;
    return NULL;
}

/* "llama-3.1-8b.yaml" -> stem length, or 0 if not a preset file name. */
static size_t yaml_stem(const char *file)
{
    size_t n = strlen(file);
    if (file[0] == '.')
        return 0;
    if (n > 5 && strcasecmp(file + n - 5, ".yaml") == 0)
        return n - 5;
    if (n > 4 && strcasecmp(file + n - 4, ".yml") == 0)
        return n - 4;
    return 0;
}

static hr_status read_shape(const char *path, hr_shape *shape, char **strings, hr_error *err)
{
    char *text = NULL;
    size_t len = 0;
    hr_status st = hr_read_file(path, PRESET_FILE_MAX, &text, &len, err);
    if (st != HR_OK)
        return st;
    st = hr_preset_parse(text, len, path, shape, strings, err);
    free(text);
    return st;
}

static int compare_info(const void *a, const void *b)
{
    return strcmp(((const hr_preset_info *)a)->id, ((const hr_preset_info *)b)->id);
}

hr_status hr_preset_list(const char *dir, hr_preset_info **out, int *count, hr_error *err)
{
    if (!out || !count)
        return hr_error_set(err, HR_ERR_ARG, "nowhere to list presets");
    *out = NULL;
    *count = 0;
    char base[1024];
    if (!hr_preset_dir(dir, base, sizeof base))
        return hr_error_set(err, HR_ERR_NOT_FOUND, "%s: no preset directory",
                            dir ? dir : "configs/models");
    DIR *d = opendir(base);
    if (!d)
        return hr_error_set(err, HR_ERR_IO, "%s: cannot list presets", base);
    hr_preset_info *list = NULL;
    int n = 0, cap = 0;
    hr_status st = HR_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t stem = yaml_stem(e->d_name);
        if (stem == 0)
            continue;
        if (n == PRESET_MAX_COUNT) {
            st = hr_error_set(err, HR_ERR_LIMIT, "%s: more than %d presets", base,
                              PRESET_MAX_COUNT);
            break;
        }
        if (n == cap) {
            int ncap = cap ? cap * 2 : 32;
            hr_preset_info *grown = realloc(list, (size_t)ncap * sizeof *grown);
            if (!grown) {
                st = hr_error_set(err, HR_ERR_NOMEM, "out of memory listing presets");
                break;
            }
            list = grown;
            cap = ncap;
        }
        hr_preset_info *info = &list[n];
        memset(info, 0, sizeof *info);
        if (stem >= sizeof info->id || !hr_path_join(info->path, sizeof info->path, base, e->d_name))
            continue; /* names too long for the listing are skipped */
        memcpy(info->id, e->d_name, stem);
        hr_shape shape;
        char *strings = NULL;
        st = read_shape(info->path, &shape, &strings, err);
        if (st != HR_OK)
            break;
        snprintf(info->name, sizeof info->name, "%s", shape.name);
        free(strings);
        n++;
    }
    closedir(d);
    if (st != HR_OK) {
        free(list);
        return st;
    }
    if (n > 1)
        qsort(list, (size_t)n, sizeof *list, compare_info);
    *out = list;
    *count = n;
    return HR_OK;
}

static hr_status load_path(const char *path, const char *id, hr_model **out, hr_error *err)
{
    hr_shape shape;
    char *strings = NULL;
    hr_status st = read_shape(path, &shape, &strings, err);
    if (st != HR_OK)
        return st;
    hr_model *m = NULL;
    st = hr_model_from_shape(&shape, &m, err);
    if (st == HR_OK) {
        m->source = HR_SOURCE_PRESET;
        m->path = hr_model_strdup(m, id);
        if (!m->path) {
            hr_model_free(m);
            m = NULL;
            st = hr_error_set(err, HR_ERR_NOMEM, "out of memory");
        }
    } else if (err) {
        /* name the file: shape errors only know the model name */
        char msg[HR_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", err->message);
        hr_error_set(err, st, "%s: %s", path, msg);
    }
    free(strings);
    *out = m;
    return st;
}

hr_status hr_preset_load(const char *dir, const char *id_or_path, hr_model **out, hr_error *err)
{
    if (!id_or_path || !*id_or_path || !out)
        return hr_error_set(err, HR_ERR_ARG, "no preset given");
    *out = NULL;
    if (strchr(id_or_path, '/') || yaml_stem(id_or_path) > 0) {
        struct stat sb;
        if (stat(id_or_path, &sb) != 0)
            return hr_error_set(err, HR_ERR_IO, "%s: no such preset file", id_or_path);
        char stem[64];
        const char *file = strrchr(id_or_path, '/');
        file = file ? file + 1 : id_or_path;
        size_t n = yaml_stem(file);
        snprintf(stem, sizeof stem, "%.*s", (int)(n ? n : strlen(file)), file);
        return load_path(id_or_path, stem, out, err);
    }
    /* the common case: the id is the file stem, no need to read every preset */
    char base[1024], direct[2048], file[128];
    if (hr_preset_dir(dir, base, sizeof base) && strlen(id_or_path) < 64) {
        struct stat sb;
        snprintf(file, sizeof file, "%s.yaml", id_or_path);
        if (hr_path_join(direct, sizeof direct, base, file) && stat(direct, &sb) == 0)
            return load_path(direct, id_or_path, out, err);
    }
    hr_preset_info *list = NULL;
    int count = 0;
    hr_status st = hr_preset_list(dir, &list, &count, err);
    if (st != HR_OK)
        return st;
    const hr_preset_info *hit = NULL;
    for (int i = 0; i < count && !hit; i++)
        if (strcasecmp(list[i].id, id_or_path) == 0)
            hit = &list[i];
    for (int i = 0; i < count && !hit; i++)
        if (strcasecmp(list[i].name, id_or_path) == 0)
            hit = &list[i];
    if (!hit)
        st = hr_error_set(err, HR_ERR_NOT_FOUND,
                          "'%s' is not a model file or a known preset (%d presets; see "
                          "configs/models)", id_or_path, count);
    else
        st = load_path(hit->path, hit->id, out, err);
    free(list);
    return st;
}
