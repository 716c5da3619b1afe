/* hr_model_open_gguf: a GGUF file (or split set) into an hr_model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_hparams.h"
#include "gguf_reader.h"
#include "gguf_split.h"
#include "gguf_types.h"
#include "model/model_internal.h"

static hr_status read_identity(const gguf_file *f, hr_model *m, uint32_t *raw_ftype,
                               bool *have_ftype, hr_error *err)
{
    const char *s;
    size_t len;
    bool found;
    hr_status st = gguf_get_str(f, "general.architecture", &s, &len, &found, err);
    if (st != HR_OK)
        return st;
    if (!found || len == 0)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: no general.architecture key", f->path);
    if (memchr(s, '\0', len))
        return hr_error_set(err, HR_ERR_FORMAT, "%s: general.architecture contains a NUL byte",
                            f->path);
    if (!(m->arch_name = hr_model_strndup(m, s, len)))
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", f->path);
    if ((st = gguf_get_str(f, "general.name", &s, &len, &found, err)) != HR_OK)
        return st;
    if (found && !(m->name = hr_model_strndup(m, s, strnlen(s, len))))
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", f->path);
    *raw_ftype = 0;
    return gguf_get_u32(f, "general.file_type", raw_ftype, have_ftype, err);
}

static hr_status push_tensor(hr_model *m, const gguf_file *f, const gguf_tensor_info *ti,
                             uint16_t file_index, bool bitnet_fork, hr_error *err)
{
    hr_type type = gguf_type_from_file(ti->type_id, bitnet_fork);
    if (type == HR_TYPE_INVALID)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%.*s' has unknown type id %u",
                            f->path, (int)ti->name_len, ti->name, ti->type_id);
    /* no converter writes an empty tensor, llama.cpp's reader divides by
     * ne[1..3], and a zero would let the other dims claim any size without the
     * element count overflowing (the graph builder then multiplies them) */
    for (uint32_t d = 0; d < ti->n_dims; d++)
        if (ti->ne[d] == 0)
            return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%.*s': dimension %u is 0",
                                f->path, (int)ti->name_len, ti->name, d);
    hr_error local;
    uint64_t bytes = 0;
    hr_status st = hr_type_tensor_bytes(type, ti->ne, &bytes, &local);
    if (st != HR_OK)
        return hr_error_set(err, st, "%s: tensor '%.*s': %s", f->path, (int)ti->name_len,
                            ti->name, local.message);
    if ((st = gguf_check_extent(f, ti, bytes, err)) != HR_OK)
        return st;
    hr_tensor *t = hr_model_push_tensor(m, err);
    if (!t)
        return HR_ERR_NOMEM;
    t->name = hr_model_strndup(m, ti->name, ti->name_len);
    if (!t->name)
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", f->path);
    t->type = type;
    t->n_dims = ti->n_dims;
    memcpy(t->ne, ti->ne, sizeof t->ne);
    t->bytes = bytes;
    t->offset = ti->offset;
    t->file_index = file_index;
    return HR_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Shards must not repeat a tensor (llama.cpp: "tensor is duplicated"). */
static hr_status check_cross_shard_duplicates(hr_model *m, hr_error *err)
{
    if (m->n_files < 2 || m->n_tensors < 2)
        return HR_OK;
    const char **names = malloc(m->n_tensors * sizeof *names);
    if (!names)
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", m->path);
    for (size_t i = 0; i < m->n_tensors; i++)
        names[i] = m->tensors[i].name;
    qsort(names, m->n_tensors, sizeof *names, compare_names);
    hr_status st = HR_OK;
    for (size_t i = 1; i < m->n_tensors && st == HR_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            st = hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%s' appears in two shards",
                              m->path, names[i]);
    free(names);
    return st;
}

static hr_status read_tensors(hr_model *m, const gguf_file *files, uint32_t n_files,
                              hr_error *err)
{
    for (uint32_t fi = 0; fi < n_files; fi++)
        for (size_t i = 0; i < files[fi].n_tensors; i++) {
            hr_status st = push_tensor(m, &files[fi], &files[fi].tensors[i], (uint16_t)fi,
                                       m->is_bitnet_fork, err);
            if (st != HR_OK)
                return st;
        }
    hr_status st = check_cross_shard_duplicates(m, err);
    if (st != HR_OK)
        return st;
    /* split.tensors.count, when present, must match what the shards hold. */
    int64_t expected = 0;
    bool found = false;
    if ((st = gguf_get_i64(&files[0], "split.tensors.count", &expected, &found, err)) != HR_OK)
        return st;
    if (found && n_files > 1 && (uint64_t)expected != m->n_tensors)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: split.tensors.count says %lld tensors but the shards hold %zu",
                            m->path, (long long)expected, m->n_tensors);
    return HR_OK;
}

/* Without general.file_type, name the quantization after the type holding the most bytes. */
static void guess_quant_name(hr_model *m)
{
    hr_type best = HR_TYPE_INVALID;
    uint64_t best_bytes = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        hr_type t = m->tensors[i].type;
        uint64_t sum = 0;
        for (size_t j = 0; j < m->n_tensors; j++)
            if (m->tensors[j].type == t && m->tensors[j].n_dims >= 2)
                sum += m->tensors[j].bytes;
        if (sum > best_bytes) {
            best_bytes = sum;
            best = t;
        }
        if (i >= 64) /* enough tensors seen to know the dominant type */
            break;
    }
    const hr_type_info *ti = hr_type_get(best);
    if (ti)
        m->quant_name = hr_model_strdup(m, ti->name);
}

/* Model-builder helpers (layer limits, finalize) do not know the file: prefix it. */
static hr_status name_the_file(hr_status st, const char *path, hr_error *err)
{
    if (!err || strncmp(err->message, path, strlen(path)) == 0)
        return st;
    char msg[HR_ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s", err->message);
    return hr_error_set(err, st, "%s: %s", path, msg);
}

static hr_status build_model(const gguf_file *files, uint32_t n_files, hr_model *m,
                             hr_error *err)
{
    const gguf_file *f0 = &files[0];
    m->gguf_version = f0->version;
    m->alignment = f0->alignment;
    m->n_files = n_files;
    if (!(m->path = hr_model_strdup(m, f0->path)))
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", f0->path);
    uint32_t raw_ftype = 0;
    bool have_ftype = false;
    hr_status st = read_identity(f0, m, &raw_ftype, &have_ftype, err);
    if (st != HR_OK)
        return st;
    for (uint32_t i = 0; i < n_files && !m->is_bitnet_fork; i++)
        m->is_bitnet_fork = gguf_is_bitnet_fork(&files[i], m->arch_name, have_ftype, raw_ftype);
    if (have_ftype) {
        m->ftype = gguf_ftype_from_file(raw_ftype, m->is_bitnet_fork);
        if (m->ftype == HR_FTYPE_UNKNOWN)
            hr_model_warn(m, "%s: unknown general.file_type %u", f0->path, raw_ftype);
    }
    if ((st = read_tensors(m, files, n_files, err)) != HR_OK)
        return st;
    if ((st = gguf_fill_hparams(f0, m, err)) != HR_OK)
        return name_the_file(st, f0->path, err);
    if (m->ftype == HR_FTYPE_UNKNOWN)
        guess_quant_name(m);
    if ((st = hr_model_finalize(m, err)) != HR_OK)
        return name_the_file(st, f0->path, err);
    return HR_OK;
}

hr_status hr_model_open_gguf(const char *path, hr_model **out, hr_error *err)
{
    if (!path || !out)
        return hr_error_set(err, HR_ERR_ARG, "no GGUF path given");
    *out = NULL;
    gguf_file *files = NULL;
    uint32_t n_files = 0;
    hr_status st = gguf_open_set(path, &files, &n_files, err);
    if (st != HR_OK)
        return st;
    hr_model *m = hr_model_alloc(HR_SOURCE_GGUF);
    if (!m) {
        gguf_close_set(files, n_files);
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", path);
    }
    /* Everything kept is copied into the model: the files are unmapped now. */
    st = build_model(files, n_files, m, err);
    gguf_close_set(files, n_files);
    if (st != HR_OK) {
        hr_model_free(m);
        return st;
    }
    *out = m;
    return HR_OK;
}
