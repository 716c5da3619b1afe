/* hr_model_open: pick the reader from the path (or treat it as a preset). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/file_io.h"
#include "headroom/preset.h"
#include "model_internal.h"

static bool has_suffix_ci(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static bool sniff_gguf(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && (memcmp(magic, "GGUF", 4) == 0 || memcmp(magic, "FUGG", 4) == 0);
}

/* A directory: prefer the safetensors index, then any safetensors, then a
 * GGUF, then config.json alone. */
static hr_status open_directory(const char *dir, hr_model **out, hr_error *err)
{
    char path[4096];
    struct stat st;
    if (hr_path_join(path, sizeof path, dir, "model.safetensors.index.json") && stat(path, &st) == 0)
        return hr_model_open_safetensors(path, out, err);
    if (hr_path_join(path, sizeof path, dir, "model.safetensors") && stat(path, &st) == 0)
        return hr_model_open_safetensors(path, out, err);
    DIR *d = opendir(dir);
    if (!d)
        return hr_error_set(err, HR_ERR_IO, "%s: cannot list directory", dir);
    char found_st[1024] = "", found_gguf[1024] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!found_st[0] && has_suffix_ci(e->d_name, ".safetensors"))
            snprintf(found_st, sizeof found_st, "%s", e->d_name);
        if (!found_gguf[0] && has_suffix_ci(e->d_name, ".gguf"))
            snprintf(found_gguf, sizeof found_gguf, "%s", e->d_name);
    }
    closedir(d);
    if (found_st[0] && hr_path_join(path, sizeof path, dir, found_st))
        return hr_model_open_safetensors(path, out, err);
    if (found_gguf[0] && hr_path_join(path, sizeof path, dir, found_gguf))
        return hr_model_open_gguf(path, out, err);
    if (hr_path_join(path, sizeof path, dir, "config.json") && stat(path, &st) == 0)
        return hr_model_open_config(path, out, err);
    return hr_error_set(err, HR_ERR_NOT_FOUND,
                        "%s: no .gguf, .safetensors or config.json in this directory", dir);
}

hr_status hr_model_open(const char *spec, hr_model **out, hr_error *err)
{
    if (!spec || !*spec || !out)
        return hr_error_set(err, HR_ERR_ARG, "no model given");
    *out = NULL;
    struct stat st;
    if (stat(spec, &st) != 0) {
        if (has_suffix_ci(spec, ".gguf") || has_suffix_ci(spec, ".safetensors") ||
            has_suffix_ci(spec, ".json") || strchr(spec, '/'))
            return hr_error_set(err, HR_ERR_IO, "%s: no such file", spec);
        return hr_preset_load(NULL, spec, out, err);
    }
    if (S_ISDIR(st.st_mode))
        return open_directory(spec, out, err);
    if (has_suffix_ci(spec, ".gguf") || sniff_gguf(spec))
        return hr_model_open_gguf(spec, out, err);
    if (has_suffix_ci(spec, ".safetensors") || has_suffix_ci(spec, ".safetensors.index.json"))
        return hr_model_open_safetensors(spec, out, err);
    if (has_suffix_ci(spec, ".json"))
        return hr_model_open_config(spec, out, err);
    if (has_suffix_ci(spec, ".yaml") || has_suffix_ci(spec, ".yml"))
        return hr_preset_load(NULL, spec, out, err);
    return hr_error_set(err, HR_ERR_FORMAT,
                        "%s: not a GGUF, safetensors, config.json or preset file", spec);
}
