/* Shard discovery for safetensors checkpoints. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file_io.h"
#include "st_header.h"
#include "st_shards.h"

#define INDEX_NAME "model.safetensors.index.json"

void st_shards_free(st_shards *s)
{
    for (uint32_t i = 0; i < s->count; i++)
        free(s->files[i]);
    s->count = 0;
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static hr_status add_file(st_shards *s, const char *name, const char *origin, hr_error *err)
{
    if (s->count >= HR_MODEL_MAX_FILES)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: more than %d shards", origin,
                            HR_MODEL_MAX_FILES);
    char path[HR_ST_PATH_MAX];
    if (!hr_path_join(path, sizeof path, s->dir, name))
        return hr_error_set(err, HR_ERR_LIMIT, "%s: shard path too long", origin);
    s->files[s->count] = strdup(path);
    if (!s->files[s->count])
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", origin);
    s->count++;
    return HR_OK;
}

/* Shard names must stay inside the checkpoint directory. */
static bool safe_shard_name(const char *name)
{
    if (!*name || name[0] == '/')
        return false;
    for (const char *p = name; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += len + (slash ? 1 : 0);
    }
    return true;
}

/* Distinct shard names of an index, in first-seen order. The list holds at
 * most HR_MODEL_MAX_FILES names, so de-duplication is a short scan even for
 * an index of a million entries. */
static hr_status read_index(const char *index_path, st_shards *s, hr_error *err)
{
    char *text = NULL;
    size_t len = 0;
    hr_status st = hr_read_file(index_path, (size_t)HR_ST_MAX_HEADER_BYTES, &text, &len, err);
    if (st != HR_OK)
        return st;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: not valid JSON", index_path);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(root);
        return hr_error_set(err, HR_ERR_FORMAT, "%s: no \"weight_map\" object", index_path);
    }
    const char *names[HR_MODEL_MAX_FILES];
    uint64_t refs[HR_MODEL_MAX_FILES];
    uint32_t n_names = 0;
    s->index_entries = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, map) {
        if (!cJSON_IsString(e) || !safe_shard_name(e->valuestring)) {
            st = hr_error_set(err, HR_ERR_FORMAT,
                              "%s: weight_map entry '%.80s' is not a shard file name", index_path,
                              e->string ? e->string : "?");
            cJSON_Delete(root);
            return st;
        }
        s->index_entries++;
        uint32_t j = 0;
        while (j < n_names && strcmp(names[j], e->valuestring) != 0)
            j++;
        if (j < n_names) {
            refs[j]++;
            continue;
        }
        if (n_names == HR_MODEL_MAX_FILES) {
            cJSON_Delete(root);
            return hr_error_set(err, HR_ERR_LIMIT, "%s: more than %d distinct shards",
                                index_path, HR_MODEL_MAX_FILES);
        }
        names[n_names] = e->valuestring;
        refs[n_names++] = 1;
    }
    if (n_names == 0) {
        cJSON_Delete(root);
        return hr_error_set(err, HR_ERR_FORMAT, "%s: weight_map is empty", index_path);
    }
    st = HR_OK;
    for (uint32_t j = 0; j < n_names && st == HR_OK; j++) {
        st = add_file(s, names[j], index_path, err);
        if (st == HR_OK && !is_regular_file(s->files[s->count - 1]))
            st = hr_error_set(err, HR_ERR_IO,
                              "%s: shard '%s' (%llu tensors) is missing from %s", index_path,
                              names[j], (unsigned long long)refs[j], s->dir);
    }
    cJSON_Delete(root);
    if (st != HR_OK)
        st_shards_free(s);
    return st;
}

/* "<prefix>-00002-of-00005.safetensors": the siblings 1..5 with the same
 * zero padding. Returns false when the name has no such pattern. */
static bool sibling_pattern(const char *name, size_t *prefix_len, int *width, unsigned *total,
                            const char **total_text)
{
    size_t len = strlen(name);
    const char *ext = ".safetensors";
    if (len < strlen(ext) || strcmp(name + len - strlen(ext), ext) != 0)
        return false;
    const char *of = NULL;
    for (const char *p = strstr(name, "-of-"); p; p = strstr(p + 1, "-of-"))
        of = p;
    if (!of)
        return false;
    const char *num_end = of, *num = of;
    while (num > name && num[-1] >= '0' && num[-1] <= '9')
        num--;
    if (num == num_end || num == name || num[-1] != '-')
        return false;
    const char *t = of + 4;
    unsigned v = 0;
    int digits = 0;
    while (t[digits] >= '0' && t[digits] <= '9') {
        if (digits >= 6)
            return false;
        v = v * 10 + (unsigned)(t[digits] - '0');
        digits++;
    }
    if (digits == 0 || strcmp(t + digits, ext) != 0 || v == 0)
        return false;
    *prefix_len = (size_t)(num - 1 - name);
    *width = (int)(num_end - num);
    *total = v;
    *total_text = t;
    return true;
}

static hr_status add_siblings(const char *file, st_shards *s, hr_error *err)
{
    const char *name = base_name(file);
    size_t prefix_len;
    int width;
    unsigned total;
    const char *total_text;
    if (!sibling_pattern(name, &prefix_len, &width, &total, &total_text))
        return add_file(s, name, file, err);
    if (total > HR_MODEL_MAX_FILES)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: %u shards is over the limit of %d", file,
                            total, HR_MODEL_MAX_FILES);
    for (unsigned i = 1; i <= total; i++) {
        char sib[1024];
        int n = snprintf(sib, sizeof sib, "%.*s-%0*u-of-%s", (int)prefix_len, name, width, i,
                         total_text);
        if (n < 0 || (size_t)n >= sizeof sib)
            return hr_error_set(err, HR_ERR_LIMIT, "%s: shard name too long", file);
        hr_status st = add_file(s, sib, file, err);
        if (st != HR_OK)
            return st;
        if (!is_regular_file(s->files[s->count - 1]))
            return hr_error_set(err, HR_ERR_IO, "%s: shard %u of %u, %s, is missing", file, i,
                                total, sib);
    }
    return HR_OK;
}

/* The alphabetically first *.safetensors in dir, or "" */
static void first_safetensors(const char *dir, char *out, size_t cap)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!hr_str_ends_with(e->d_name, ".safetensors"))
            continue;
        if (!out[0] || strcmp(e->d_name, out) < 0)
            snprintf(out, cap, "%s", e->d_name);
    }
    closedir(d);
}

static bool index_lists(const st_shards *s, const char *file)
{
    for (uint32_t i = 0; i < s->count; i++)
        if (strcmp(base_name(s->files[i]), base_name(file)) == 0)
            return true;
    return false;
}

hr_status st_shards_resolve(const char *path, st_shards *out, hr_error *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0)
        return hr_error_set(err, HR_ERR_IO, "%s: no such file", path);
    char file[HR_ST_PATH_MAX];
    if (S_ISDIR(st.st_mode)) {
        snprintf(out->dir, sizeof out->dir, "%s", path);
        char index[HR_ST_PATH_MAX];
        if (hr_path_join(index, sizeof index, path, INDEX_NAME) && is_regular_file(index)) {
            snprintf(out->index_path, sizeof out->index_path, "%s", index);
            return read_index(index, out, err);
        }
        char name[512];
        first_safetensors(path, name, sizeof name);
        if (!name[0] || !hr_path_join(file, sizeof file, path, name))
            return hr_error_set(err, HR_ERR_NOT_FOUND, "%s: no .safetensors file in directory",
                                path);
    } else {
        snprintf(file, sizeof file, "%s", path);
        hr_path_dirname(path, out->dir, sizeof out->dir);
        if (hr_str_ends_with(path, ".json")) {
            snprintf(out->index_path, sizeof out->index_path, "%s", path);
            return read_index(path, out, err);
        }
        /* a shard of an indexed set opens the whole set */
        char index[HR_ST_PATH_MAX];
        if (hr_path_join(index, sizeof index, out->dir, INDEX_NAME) && is_regular_file(index)) {
            st_shards probe;
            memset(&probe, 0, sizeof probe);
            snprintf(probe.dir, sizeof probe.dir, "%s", out->dir);
            /* an index that is unreadable or lacks a shard stops here: the set is broken */
            hr_status rs = read_index(index, &probe, err);
            if (rs != HR_OK)
                return rs;
            if (index_lists(&probe, file)) {
                *out = probe;
                snprintf(out->index_path, sizeof out->index_path, "%s", index);
                return HR_OK;
            }
            st_shards_free(&probe);
        }
    }
    hr_status rs = add_siblings(file, out, err);
    if (rs != HR_OK)
        st_shards_free(out);
    return rs;
}
