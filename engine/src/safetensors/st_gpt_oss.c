/* gpt-oss checkpoints in the GGUF layout (convert_hf_to_gguf.py GptOssModel):
 *  - MXFP4 experts: "<x>.blocks" (uint8, 16 bytes per 32 values) and
 *    "<x>.scales" (one e8m0 byte per 32 values) become one MXFP4 tensor
 *    "<x>.weight", whose ggml size (17 bytes per 32) is their sum;
 *  - bf16 experts are stored input-major ([E, in, out]): ne[0]/ne[1] swap;
 *  - the fused gate_up expert tensors split into ffn_gate_exps and
 *    ffn_up_exps (weights and biases) of half the rows each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file_io.h"
#include "model/model_internal.h"
#include "st_gpt_oss.h"

static int by_name(const void *a, const void *b)
{
    const hr_tensor *x = *(const hr_tensor *const *)a, *y = *(const hr_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static hr_tensor *lookup(hr_tensor **sorted, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sorted[mid]->name, name);
        if (c == 0)
            return sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool is_expert_stem(const char *name, const char *leaf)
{
    return hr_tensor_block_index(name) >= 0 && strstr(name, "_exps.") &&
           hr_str_ends_with(name, leaf);
}

/* blocks + scales -> one MXFP4 ".weight"; the scales tensor is dropped. */
static hr_status merge_mxfp4(hr_model *m, bool *drop, hr_error *err)
{
    hr_tensor **sorted = malloc(m->n_tensors * sizeof *sorted);
    if (!sorted)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n_tensors; i++)
        sorted[i] = &m->tensors[i];
    qsort(sorted, m->n_tensors, sizeof *sorted, by_name);
    hr_status st = HR_OK;
    for (size_t i = 0; i < m->n_tensors && st == HR_OK; i++) {
        hr_tensor *b = &m->tensors[i];
        if (b->type != HR_TYPE_ST_U8 || b->n_dims != 4 || !is_expert_stem(b->name, ".blocks"))
            continue;
        size_t stem = strlen(b->name) - strlen(".blocks");
        char name[256];
        if (stem + 16 > sizeof name)
            continue;
        snprintf(name, sizeof name, "%.*s.scales", (int)stem, b->name);
        hr_tensor *s = lookup(sorted, m->n_tensors, name);
        /* blocks {16, K/32, N, E}, scales {K/32, N, E} */
        if (!s || s->type != HR_TYPE_ST_U8 || b->ne[0] != 16 || s->ne[0] != b->ne[1] ||
            s->ne[1] != b->ne[2] || s->ne[2] != b->ne[3])
            continue;
        snprintf(name, sizeof name, "%.*s.weight", (int)stem, b->name);
        const char *merged = hr_model_strdup(m, name);
        if (!merged) {
            st = hr_error_set(err, HR_ERR_NOMEM, "out of memory");
            break;
        }
        const int64_t ne[4] = {b->ne[1] * 32, b->ne[2], b->ne[3], 1};
        uint64_t bytes;
        if (hr_type_tensor_bytes(HR_TYPE_MXFP4, ne, &bytes, NULL) != HR_OK ||
            bytes != b->bytes + s->bytes)
            continue;
        b->name = merged;
        b->type = HR_TYPE_MXFP4;
        memcpy(b->ne, ne, sizeof ne);
        b->n_dims = 3;
        b->bytes = bytes;
        b->role = HR_ROLE_OTHER; /* re-derived */
        drop[s - m->tensors] = true;
    }
    free(sorted);
    return st;
}

/* Split "<blk>.ffn_gate_up_exps.<leaf>" in two along ne[1] (weights) or
 * ne[0] (biases). */
static hr_status split_gate_up(hr_model *m, hr_error *err)
{
    const size_t n = m->n_tensors;
    for (size_t i = 0; i < n; i++) {
        hr_tensor *t = &m->tensors[i];
        const char *at = strstr(t->name, ".ffn_gate_up_exps.");
        if (!at || hr_tensor_block_index(t->name) < 0)
            continue;
        const bool bias = hr_str_ends_with(t->name, ".bias");
        const int dim = bias ? 0 : 1;
        const hr_type_info *info = hr_type_get(t->type);
        if (!info || t->ne[dim] % 2 != 0 || t->bytes % 2 != 0 ||
            (dim == 0 && (t->ne[0] / 2) % info->block_size != 0))
            continue;
        const char *leaf = at + strlen(".ffn_gate_up_exps.");
        char gate[256], up[256];
        int prefix = (int)(at - t->name);
        int a = snprintf(gate, sizeof gate, "%.*s.ffn_gate_exps.%s", prefix, t->name, leaf);
        int b = snprintf(up, sizeof up, "%.*s.ffn_up_exps.%s", prefix, t->name, leaf);
        if (a < 0 || b < 0 || (size_t)a >= sizeof gate || (size_t)b >= sizeof up)
            continue;
        const char *gn = hr_model_strdup(m, gate), *un = hr_model_strdup(m, up);
        if (!gn || !un)
            return hr_error_set(err, HR_ERR_NOMEM, "out of memory");
        hr_tensor half = *t;
        half.ne[dim] /= 2;
        half.bytes /= 2;
        half.role = HR_ROLE_OTHER;
        hr_tensor *u = hr_model_push_tensor(m, err); /* may move the array */
        if (!u)
            return HR_ERR_NOMEM;
        *u = half;
        u->name = un;
        m->tensors[i] = half;
        m->tensors[i].name = gn;
    }
    return HR_OK;
}

hr_status st_gpt_oss_layout(hr_model *m, hr_error *err)
{
    bool *drop = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *drop);
    if (!drop)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory");
    hr_status st = merge_mxfp4(m, drop, err);
    if (st == HR_OK) {
        size_t w = 0;
        for (size_t i = 0; i < m->n_tensors; i++)
            if (!drop[i])
                m->tensors[w++] = m->tensors[i];
        m->n_tensors = w;
        /* bf16 experts, stored [E, in, out] by transformers' GptOssExperts */
        for (size_t i = 0; i < m->n_tensors; i++) {
            hr_tensor *t = &m->tensors[i];
            if (t->type != HR_TYPE_MXFP4 && t->n_dims == 3 && t->hf_name &&
                is_expert_stem(t->name, ".weight") &&
                (hr_str_ends_with(t->hf_name, "experts.gate_up_proj") ||
                 hr_str_ends_with(t->hf_name, "experts.down_proj"))) {
                int64_t x = t->ne[0];
                t->ne[0] = t->ne[1];
                t->ne[1] = x;
            }
        }
        st = split_gate_up(m, err);
    }
    free(drop);
    return st;
}
