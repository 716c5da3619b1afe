/* hr_model_open_safetensors: tensors from the shards' headers, GGUF names,
 * hyperparameters from config.json beside them (or inferred from shapes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_io.h"
#include "hfconfig/hf_config.h"
#include "model/model_internal.h"
#include "st_experts.h"
#include "st_gpt_oss.h"
#include "st_header.h"
#include "st_mla.h"
#include "st_names.h"
#include "st_shards.h"

#define N_DTYPE_SLOTS 32

typedef struct load_ctx {
    hr_model *m;
    st_name_ctx names;
    uint16_t file_index;
    int32_t max_block;
    uint64_t n_kept_hf;        /* tensors left under their HF names */
    uint64_t n_past_layers;    /* block tensors past the config's layer count */
    uint32_t n_folded;
    bool has_output;
    /* bytes per dtype, to name the checkpoint's dominant dtype */
    hr_type dtype_ids[N_DTYPE_SLOTS];
    const char *dtype_names[N_DTYPE_SLOTS];
    uint64_t dtype_bytes[N_DTYPE_SLOTS];
    int n_dtypes;
} load_ctx;

static void count_dtype(load_ctx *c, const st_tensor_info *t)
{
    int i;
    for (i = 0; i < c->n_dtypes; i++)
        if (c->dtype_ids[i] == t->type)
            break;
    if (i == c->n_dtypes) {
        if (c->n_dtypes == N_DTYPE_SLOTS)
            return;
        c->dtype_ids[i] = t->type;
        c->dtype_names[i] = t->dtype_name;
        c->dtype_bytes[i] = 0;
        c->n_dtypes++;
    }
    c->dtype_bytes[i] += t->end - t->begin;
}

static hr_status push_tensor(void *user, const st_tensor_info *info, hr_error *err)
{
    load_ctx *c = user;
    char name[512];
    st_name_result res;
    if (!st_map_name(info->name, &c->names, name, sizeof name, &res))
        snprintf(name, sizeof name, "%.500s", info->name); /* over-long: keep a prefix */
    hr_tensor *t = hr_model_push_tensor(c->m, err);
    if (!t)
        return HR_ERR_NOMEM;
    t->name = hr_model_strdup(c->m, name);
    t->hf_name = hr_model_strdup(c->m, info->name);
    if (!t->name || !t->hf_name)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory for tensor names");
    t->type = info->type;
    t->n_dims = info->rank == 0 ? 1 : info->rank > 4 ? 4 : info->rank;
    memcpy(t->ne, info->ne, sizeof t->ne);
    t->bytes = info->end - info->begin;
    t->offset = info->begin;
    t->file_index = c->file_index;
    t->role = (uint16_t)hr_role_from_name(name);
    if (res.block > c->max_block)
        c->max_block = res.block;
    if (!res.known && res.block < 0)
        c->n_kept_hf++;
    if (res.past_layers)
        c->n_past_layers++;
    if (strncmp(name, "output.weight", 14) == 0)
        c->has_output = true;
    count_dtype(c, info);
    return HR_OK;
}

static const hr_tensor *find_tensor(const hr_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

/* No config.json: what the tensor shapes alone tell (no head counts), in one
 * pass over the tensors. */
static void infer_hparams(hr_model *m)
{
    const hr_tensor *embd = find_tensor(m, "token_embd.weight");
    if (embd) {
        m->n_embd = (uint32_t)embd->ne[0];
        m->n_vocab = (uint32_t)embd->ne[1];
    }
    m->tied_output = find_tensor(m, "output.weight") == NULL;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        int32_t il = hr_tensor_block_index(t->name);
        if (il < 0 || (uint32_t)il >= m->n_layer || !hr_str_ends_with(t->name, ".weight"))
            continue;
        hr_layer *l = &m->layers[il];
        switch ((hr_role)t->role) {
        case HR_ROLE_FFN_GATE: case HR_ROLE_FFN_UP:
            l->n_ff = (uint32_t)t->ne[1];
            break;
        case HR_ROLE_ATTN_K: case HR_ROLE_ATTN_QKV: case HR_ROLE_ATTN_KV_A_MQA:
            l->has_kv = true;
            break;
        case HR_ROLE_SSM_IN: case HR_ROLE_TIME_MIX:
            l->is_recurrent = true;
            break;
        default:
            break;
        }
    }
}

/* Give packed quantized weights their logical shape (ne0 = input features)
 * under the plain ".weight" name, so parameter counts and graph shapes read
 * as for the unquantized model; bytes stay the packed extent.
 *   GPTQ qweight  int32 [K*bits/32, N] -> {K, N}
 *   AWQ  qweight  int32 [K, N*bits/32] -> {K, N}
 *   BitNet weight uint8 [N/4, K] -> {K, N} */
static hr_status unpack_quantized_shapes(hr_model *m, const hf_config *cfg, hr_error *err)
{
    const bool gptq = cfg->quant == HF_QUANT_GPTQ, awq = cfg->quant == HF_QUANT_AWQ;
    const int64_t per_word = cfg->quant_bits ? 32 / cfg->quant_bits : 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        hr_tensor *t = &m->tensors[i];
        const char *stem_end = NULL;
        int64_t ne[4] = {1, 1, 1, 1};
        if ((gptq || awq) && per_word > 0 && t->type == HR_TYPE_I32 && t->n_dims == 2 &&
            hr_str_ends_with(t->name, ".qweight")) {
            stem_end = t->name + strlen(t->name) - strlen(".qweight");
            ne[0] = gptq ? t->ne[1] * per_word : t->ne[1];
            ne[1] = gptq ? t->ne[0] : t->ne[0] * per_word;
        }
        if (cfg->quant == HF_QUANT_BITNET && t->type == HR_TYPE_ST_U8 && t->n_dims == 2 &&
            hr_str_ends_with(t->name, ".weight") && hr_tensor_block_index(t->name) >= 0) {
            /* four ternary values a byte, packed along the output rows */
            t->ne[1] *= 4;
            continue;
        }
        if (!stem_end)
            continue;
        char name[512];
        int n = snprintf(name, sizeof name, "%.*s.weight", (int)(stem_end - t->name), t->name);
        if (n < 0 || (size_t)n >= sizeof name)
            continue;
        t->name = hr_model_strdup(m, name);
        if (!t->name)
            return hr_error_set(err, HR_ERR_NOMEM, "out of memory for tensor names");
        memcpy(t->ne, ne, sizeof ne);
        t->n_dims = ne[2] > 1 ? 3 : 2;
        t->role = HR_ROLE_OTHER; /* re-derived from the new name */
    }
    return HR_OK;
}

static void finish_labels(hr_model *m, const load_ctx *c, const hf_config *cfg, bool have_cfg)
{
    int best = -1;
    for (int i = 0; i < c->n_dtypes; i++)
        if (best < 0 || c->dtype_bytes[i] > c->dtype_bytes[best])
            best = i;
    hr_type dominant = best >= 0 ? c->dtype_ids[best] : HR_TYPE_INVALID;
    m->dtype = best >= 0 ? c->dtype_names[best] : NULL;
    bool quantized = have_cfg && cfg->quant != HF_QUANT_NONE;
    char label[128];
    if (quantized)
        snprintf(label, sizeof label, "%s (safetensors)", cfg->quant_name);
    else
        snprintf(label, sizeof label, "%s (safetensors)", m->dtype ? m->dtype : "empty");
    m->quant_name = hr_model_strdup(m, label);
    m->ftype = HR_FTYPE_UNKNOWN;
    if (!quantized) {
        if (dominant == HR_TYPE_F32)
            m->ftype = HR_FTYPE_ALL_F32;
        else if (dominant == HR_TYPE_F16)
            m->ftype = HR_FTYPE_MOSTLY_F16;
        else if (dominant == HR_TYPE_BF16)
            m->ftype = HR_FTYPE_MOSTLY_BF16;
    }
}

static void model_name(hr_model *m, const st_shards *sh, const hf_config *cfg, bool have_cfg)
{
    if (have_cfg && cfg->name[0]) {
        m->name = hr_model_strdup(m, cfg->name);
        return;
    }
    char name[256];
    if (hf_name_from_dir(sh->dir, name, sizeof name))
        m->name = hr_model_strdup(m, name);
}

static int by_hf_name(const void *a, const void *b)
{
    const hr_tensor *x = *(const hr_tensor *const *)a, *y = *(const hr_tensor *const *)b;
    return strcmp(x->hf_name, y->hf_name);
}

/* A tensor named twice (a duplicate JSON key, or the same tensor in two
 * shards) would be counted twice: reject it. */
static hr_status check_unique_names(const hr_model *m, const st_shards *sh, hr_error *err)
{
    if (m->n_tensors < 2)
        return HR_OK;
    const hr_tensor **order = malloc(m->n_tensors * sizeof *order);
    if (!order)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n_tensors; i++)
        order[i] = &m->tensors[i];
    qsort(order, m->n_tensors, sizeof *order, by_hf_name);
    hr_status st = HR_OK;
    for (size_t i = 1; i < m->n_tensors; i++) {
        if (strcmp(order[i]->hf_name, order[i - 1]->hf_name) == 0) {
            const hr_tensor *a = order[i - 1], *b = order[i];
            if (a->file_index > b->file_index) {
                const hr_tensor *t = a;
                a = b;
                b = t;
            }
            st = hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%s' appears twice (also in %s)",
                              sh->files[b->file_index], b->hf_name, sh->files[a->file_index]);
            break;
        }
    }
    free(order);
    return st;
}

static int by_name(const void *a, const void *b)
{
    const hr_tensor *x = *(const hr_tensor *const *)a, *y = *(const hr_tensor *const *)b;
    return strcmp(x->name, y->name);
}

/* Two HF names mapped onto one GGUF name: sizes stay right, lookups by name
 * see only one of them, so say so. */
static void warn_name_collisions(hr_model *m)
{
    if (m->n_tensors < 2)
        return;
    const hr_tensor **order = malloc(m->n_tensors * sizeof *order);
    if (!order)
        return;
    for (size_t i = 0; i < m->n_tensors; i++)
        order[i] = &m->tensors[i];
    qsort(order, m->n_tensors, sizeof *order, by_name);
    size_t clashes = 0;
    const hr_tensor *first = NULL;
    for (size_t i = 1; i < m->n_tensors; i++)
        if (strcmp(order[i]->name, order[i - 1]->name) == 0) {
            if (!clashes)
                first = order[i];
            clashes++;
        }
    if (clashes)
        hr_model_warn(m, "%zu tensors share a GGUF name with another (first: '%s' from '%s')",
                      clashes, first->name, first->hf_name ? first->hf_name : "?");
    free(order);
}

static hr_status load_shards(const st_shards *sh, load_ctx *c, hr_error *err)
{
    for (uint32_t i = 0; i < sh->count; i++) {
        c->file_index = (uint16_t)i;
        st_header_stats stats;
        hr_status st = st_header_read(sh->files[i], push_tensor, c, &stats, err);
        if (st != HR_OK)
            return st;
        c->n_folded += stats.n_folded;
    }
    return HR_OK;
}

static hr_status build(const st_shards *sh, hr_model *m, hr_error *err)
{
    char cfg_path[HR_ST_PATH_MAX];
    hf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    bool have_cfg = hr_path_join(cfg_path, sizeof cfg_path, sh->dir, "config.json") &&
                    access(cfg_path, F_OK) == 0;
    hr_status st;
    if (have_cfg && (st = hf_config_read(cfg_path, &cfg, err)) != HR_OK)
        return st;

    load_ctx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.max_block = -1;
    c.names.arch = have_cfg ? hr_arch_from_name(cfg.arch_name) : HR_ARCH_UNKNOWN;
    c.names.n_layer = have_cfg ? cfg.n_layer : 0;
    m->path = hr_model_strdup(m, sh->files[0]);
    m->n_files = sh->count;
    if ((st = load_shards(sh, &c, err)) != HR_OK)
        goto done;
    if ((st = check_unique_names(m, sh, err)) != HR_OK)
        goto done;
    const size_t n_read = m->n_tensors;
    if (have_cfg && (st = unpack_quantized_shapes(m, &cfg, err)) != HR_OK)
        goto done;
    uint32_t stacks = 0;
    if ((st = st_stack_experts(m, &stacks, err)) != HR_OK)
        goto done;
    if (have_cfg && (st = st_split_kv_b(m, &cfg, err)) != HR_OK)
        goto done;
    if (have_cfg && (cfg.quant == HF_QUANT_MXFP4 || strcmp(cfg.arch_name, "gpt-oss") == 0) &&
        (st = st_gpt_oss_layout(m, err)) != HR_OK)
        goto done;

    if (have_cfg) {
        if ((st = hf_config_apply_hparams(&cfg, m, err)) != HR_OK)
            goto done;
        hf_config_copy_warnings(&cfg, m);
        /* what the checkpoint holds wins over the config's tie flag */
        if (m->n_tensors)
            m->tied_output = !c.has_output;
    } else {
        uint32_t n_layer = (uint32_t)(c.max_block + 1);
        if ((st = hr_model_set_layer_count(m, n_layer, err)) != HR_OK)
            goto done;
        m->arch_name = "unknown";
        infer_hparams(m);
        hr_model_warn(m, "no config.json beside %s: layers, width and vocabulary inferred from "
                         "tensor shapes, attention heads unknown",
                      sh->files[0]);
    }
    model_name(m, sh, &cfg, have_cfg);
    if (c.n_past_layers)
        hr_model_warn(m, "%llu tensors past the config's %u layers (e.g. MTP) counted with the "
                         "input tensors",
                      (unsigned long long)c.n_past_layers, cfg.n_layer);
    if (c.n_kept_hf > c.n_past_layers)
        hr_model_warn(m, "%llu tensors with unmapped names kept under their HF names",
                      (unsigned long long)(c.n_kept_hf - c.n_past_layers));
    if (c.n_folded)
        hr_model_warn(m, "%u tensors of rank > 4: leading dimensions folded into ne[3]",
                      c.n_folded);
    if (sh->index_path[0] && sh->index_entries != n_read)
        hr_model_warn(m, "index names %llu tensors, shards hold %zu: the shards are counted",
                      (unsigned long long)sh->index_entries, n_read);
    warn_name_collisions(m);
    finish_labels(m, &c, &cfg, have_cfg);
    st = hr_model_finalize(m, err);
    if (st == HR_OK && (!m->path || !m->quant_name))
        st = hr_error_set(err, HR_ERR_NOMEM, "out of memory");
done:
    hf_config_free(&cfg);
    return st;
}

/* Errors from shared model code do not know the file: name it. */
static void name_the_file(hr_error *err, const char *path, const st_shards *sh)
{
    if (!err || err->status == HR_OK || strstr(err->message, path))
        return;
    if (strcmp(sh->dir, ".") != 0 && strstr(err->message, sh->dir))
        return;
    char msg[HR_ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s", err->message);
    hr_error_set(err, err->status, "%s: %s", path, msg);
}

hr_status hr_model_open_safetensors(const char *path, hr_model **out, hr_error *err)
{
    if (!path || !out)
        return hr_error_set(err, HR_ERR_ARG, "no safetensors path given");
    *out = NULL;
    st_shards *sh = malloc(sizeof *sh);
    if (!sh)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory");
    hr_status st = st_shards_resolve(path, sh, err);
    if (st != HR_OK) {
        free(sh);
        return st;
    }
    hr_model *m = hr_model_alloc(HR_SOURCE_SAFETENSORS);
    if (!m) {
        st = hr_error_set(err, HR_ERR_NOMEM, "out of memory");
    } else {
        st = build(sh, m, err);
        if (st != HR_OK) {
            name_the_file(err, path, sh);
            hr_model_free(m);
            m = NULL;
        }
    }
    st_shards_free(sh);
    free(sh);
    *out = m;
    return st;
}
