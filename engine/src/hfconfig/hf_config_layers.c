/* Per-layer FFN kinds a uniform hr_shape cannot express: Qwen-MoE's dense
 * layers (mlp_only_layers / decoder_sparse_step) and DeepSeek-V3's expert
 * score-correction bias. The shape builds every layer alike; this pass
 * rewrites the layers that differ, keeping the tensor order of the blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"
#include "model/model_internal.h"

static bool layer_dense(const hf_config *c, uint32_t il)
{
    return c->layer_dense && il < c->n_layer && c->layer_dense[il];
}

bool hf_config_layer_is_moe(const hf_config *c, uint32_t il)
{
    return c->n_expert > 0 && il >= c->n_layer_dense_lead && !layer_dense(c, il);
}

/* Layers the shape made MoE that the config wants dense. */
static bool layer_turns_dense(const hf_config *c, uint32_t il)
{
    return c->n_expert > 0 && il >= c->n_layer_dense_lead && layer_dense(c, il);
}

static bool any_layer_turns_dense(const hf_config *c, uint32_t n_layer)
{
    for (uint32_t il = 0; il < n_layer; il++)
        if (layer_turns_dense(c, il))
            return true;
    return false;
}

static bool has_tensor_named(const hr_model *m, const char *fragment)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strstr(m->tensors[i].name, fragment))
            return true;
    return false;
}

/* "blk.N.<stem>" with that exact stem. */
static bool is_block_tensor(const char *name, const char *stem)
{
    const char *dot = strncmp(name, "blk.", 4) == 0 ? strchr(name + 4, '.') : NULL;
    return dot && strcmp(dot + 1, stem) == 0;
}

/* The same model without experts: its blocks are what a dense layer holds
 * (attention identical, FFN of intermediate_size as the shape lays it out). */
static hr_status build_dense_twin(const hr_shape *shape, hr_model **twin, hr_error *err)
{
    hr_shape d = *shape;
    d.n_expert = d.n_expert_used = d.n_expert_shared = 0;
    d.n_ff_exp = d.n_ff_shexp = d.n_layer_dense_lead = 0;
    return hr_model_from_shape(&d, twin, err);
}

/* Append a copy of src; its name is copied into m's arena unless m owns it. */
static hr_status push_copy(hr_model *m, const hr_tensor *src, bool name_owned, hr_error *err)
{
    const char *name = name_owned ? src->name : hr_model_strdup(m, src->name);
    if (!name)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory for tensor names");
    hr_tensor *t = hr_model_push_tensor(m, err);
    if (!t)
        return HR_ERR_NOMEM;
    *t = *src;
    t->name = name;
    return HR_OK;
}

static hr_status push_block(hr_model *m, const hr_model *twin, int32_t il, hr_error *err)
{
    for (size_t i = 0; i < twin->n_tensors; i++) {
        if (twin->tensors[i].layer != il)
            continue;
        hr_status st = push_copy(m, &twin->tensors[i], false, err);
        if (st != HR_OK)
            return st;
    }
    return HR_OK;
}

/* llama.cpp's deepseek2 loader: exp_probs_b.bias {n_expert} right after
 * ffn_gate_inp; the checkpoint and the converter keep it in float32. */
static hr_status push_probs_bias(hr_model *m, int32_t il, uint32_t n_expert, hr_error *err)
{
    char name[48];
    snprintf(name, sizeof name, "blk.%d.exp_probs_b.bias", (int)il);
    const char *owned = hr_model_strdup(m, name);
    if (!owned)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory for tensor names");
    hr_tensor *t = hr_model_push_tensor(m, err);
    if (!t)
        return HR_ERR_NOMEM;
    t->name = owned;
    t->type = HR_TYPE_F32;
    t->n_dims = 1;
    t->ne[0] = n_expert;
    t->layer = il;
    t->role = (uint16_t)hr_role_from_name(owned);
    return hr_type_tensor_bytes(t->type, t->ne, &t->bytes, err);
}

static hr_status rebuild_tensors(const hf_config *c, hr_model *m, const hr_model *twin,
                                 bool probs_bias, hr_error *err)
{
    const size_t n_old = m->n_tensors;
    hr_tensor *old = malloc((n_old ? n_old : 1) * sizeof *old);
    if (!old)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory for %zu tensors", n_old);
    memcpy(old, m->tensors, n_old * sizeof *old);
    m->n_tensors = 0;
    hr_status st = HR_OK;
    int32_t emitted = -1; /* the dense block last copied from the twin */
    for (size_t i = 0; i < n_old && st == HR_OK; i++) {
        const hr_tensor *t = &old[i];
        const int32_t il = hr_tensor_block_index(t->name);
        if (twin && il >= 0 && (uint32_t)il < m->n_layer && layer_turns_dense(c, (uint32_t)il)) {
            if (il != emitted)
                st = push_block(m, twin, il, err);
            emitted = il;
            continue;
        }
        st = push_copy(m, t, true, err);
        if (st == HR_OK && probs_bias && is_block_tensor(t->name, "ffn_gate_inp.weight"))
            st = push_probs_bias(m, il, c->n_expert, err);
    }
    free(old);
    return st;
}

hr_status hf_config_apply_layer_kinds(const hf_config *c, const hr_shape *shape, hr_model *m,
                                      hr_error *err)
{
    const bool dense = any_layer_turns_dense(c, m->n_layer);
    /* the shape builder may learn the bias one day: never add it twice */
    const bool probs_bias = c->exp_probs_b && c->n_expert > 0 &&
                            !has_tensor_named(m, "exp_probs_b");
    if (!dense && !probs_bias)
        return HR_OK;
    hr_model *twin = NULL;
    hr_status st;
    if (dense && (st = build_dense_twin(shape, &twin, err)) != HR_OK)
        return st;
    st = rebuild_tensors(c, m, twin, probs_bias, err);
    if (st == HR_OK && twin) {
        for (uint32_t il = 0; il < m->n_layer && il < twin->n_layer; il++)
            if (layer_turns_dense(c, il))
                m->layers[il] = twin->layers[il];
    }
    hr_model_free(twin);
    return st == HR_OK ? hr_model_finalize(m, err) : st;
}
