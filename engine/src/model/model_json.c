/* hr_model_to_json: the full model description as JSON (cJSON). */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "headroom/model.h"

static const char *const role_names[HR_ROLE_COUNT] = {
    [HR_ROLE_OTHER] = "other",
    [HR_ROLE_TOKEN_EMBD] = "token_embd",
    [HR_ROLE_POS_EMBD] = "pos_embd",
    [HR_ROLE_TOKEN_TYPES] = "token_types",
    [HR_ROLE_OUTPUT] = "output",
    [HR_ROLE_OUTPUT_NORM] = "output_norm",
    [HR_ROLE_NORM] = "norm",
    [HR_ROLE_ATTN_Q] = "attn_q",
    [HR_ROLE_ATTN_K] = "attn_k",
    [HR_ROLE_ATTN_V] = "attn_v",
    [HR_ROLE_ATTN_QKV] = "attn_qkv",
    [HR_ROLE_ATTN_OUTPUT] = "attn_output",
    [HR_ROLE_ATTN_Q_A] = "attn_q_a",
    [HR_ROLE_ATTN_Q_B] = "attn_q_b",
    [HR_ROLE_ATTN_KV_A_MQA] = "attn_kv_a_mqa",
    [HR_ROLE_ATTN_KV_B] = "attn_kv_b",
    [HR_ROLE_ATTN_K_B] = "attn_k_b",
    [HR_ROLE_ATTN_V_B] = "attn_v_b",
    [HR_ROLE_FFN_GATE] = "ffn_gate",
    [HR_ROLE_FFN_UP] = "ffn_up",
    [HR_ROLE_FFN_DOWN] = "ffn_down",
    [HR_ROLE_FFN_GATE_EXPS] = "ffn_gate_exps",
    [HR_ROLE_FFN_UP_EXPS] = "ffn_up_exps",
    [HR_ROLE_FFN_DOWN_EXPS] = "ffn_down_exps",
    [HR_ROLE_FFN_GATE_UP_EXPS] = "ffn_gate_up_exps",
    [HR_ROLE_FFN_GATE_SHEXP] = "ffn_gate_shexp",
    [HR_ROLE_FFN_UP_SHEXP] = "ffn_up_shexp",
    [HR_ROLE_FFN_DOWN_SHEXP] = "ffn_down_shexp",
    [HR_ROLE_FFN_GATE_INP] = "ffn_gate_inp",
    [HR_ROLE_BIAS] = "bias",
    [HR_ROLE_SSM_IN] = "ssm_in",
    [HR_ROLE_SSM_CONV1D] = "ssm_conv1d",
    [HR_ROLE_SSM_X] = "ssm_x",
    [HR_ROLE_SSM_DT] = "ssm_dt",
    [HR_ROLE_SSM_A] = "ssm_a",
    [HR_ROLE_SSM_D] = "ssm_d",
    [HR_ROLE_SSM_OUT] = "ssm_out",
    [HR_ROLE_TIME_MIX] = "time_mix",
    [HR_ROLE_CHANNEL_MIX] = "channel_mix",
    [HR_ROLE_ATTN_GATE] = "attn_gate",
    [HR_ROLE_SSM_ALPHA] = "ssm_alpha",
    [HR_ROLE_SSM_BETA] = "ssm_beta",
    [HR_ROLE_SSM_BA] = "ssm_ba",
    [HR_ROLE_SHORTCONV_IN] = "shortconv_in",
    [HR_ROLE_SHORTCONV_OUT] = "shortconv_out",
    [HR_ROLE_SHORTCONV_CONV] = "shortconv_conv",
};

static const char *role_name(unsigned role)
{
    return role < HR_ROLE_COUNT && role_names[role] ? role_names[role] : "other";
}

static const char *type_name(hr_type t)
{
    const hr_type_info *ti = hr_type_get(t);
    return ti ? ti->name : "unknown";
}

/* JSON numbers are doubles: byte counts above 2^53 would lose digits, but no
 * real model is near that (8 PiB). */
static void add_u64(cJSON *o, const char *key, uint64_t v)
{
    cJSON_AddNumberToObject(o, key, (double)v);
}

static void add_str(cJSON *o, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, key, s);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_layer_name(cJSON *o, const char *key, int32_t layer)
{
    if (layer == HR_LAYER_INPUT)
        cJSON_AddStringToObject(o, key, "input");
    else if (layer == HR_LAYER_OUTPUT)
        cJSON_AddStringToObject(o, key, "output");
    else
        cJSON_AddNumberToObject(o, key, layer);
}

static void add_hparams(cJSON *root, const hr_model *m)
{
    cJSON *h = cJSON_AddObjectToObject(root, "hparams");
    add_u64(h, "n_layer", m->n_layer);
    add_u64(h, "n_embd", m->n_embd);
    add_u64(h, "n_vocab", m->n_vocab);
    add_u64(h, "n_ctx_train", m->n_ctx_train);
    add_u64(h, "n_head", m->n_head);
    add_u64(h, "n_head_kv", m->n_head_kv);
    add_u64(h, "n_embd_head_k", m->n_embd_head_k);
    add_u64(h, "n_embd_head_v", m->n_embd_head_v);
    add_u64(h, "n_ff", m->n_ff);
    add_u64(h, "n_swa", m->n_swa);
    add_u64(h, "swa_pattern", m->swa_pattern);
    add_u64(h, "n_expert", m->n_expert);
    add_u64(h, "n_expert_used", m->n_expert_used);
    add_u64(h, "n_expert_shared", m->n_expert_shared);
    add_u64(h, "n_ff_exp", m->n_ff_exp);
    add_u64(h, "n_ff_shexp", m->n_ff_shexp);
    add_u64(h, "n_layer_dense_lead", m->n_layer_dense_lead);
    add_u64(h, "n_lora_q", m->n_lora_q);
    add_u64(h, "n_lora_kv", m->n_lora_kv);
    add_u64(h, "n_rot", m->n_rot);
    cJSON_AddBoolToObject(h, "is_mla", m->is_mla);
    add_u64(h, "ssm_d_conv", m->ssm_d_conv);
    add_u64(h, "ssm_d_inner", m->ssm_d_inner);
    add_u64(h, "ssm_d_state", m->ssm_d_state);
    add_u64(h, "ssm_dt_rank", m->ssm_dt_rank);
    add_u64(h, "ssm_n_group", m->ssm_n_group);
    add_u64(h, "rwkv_head_size", m->rwkv_head_size);
    add_u64(h, "n_pos_embd", m->n_pos_embd);
    add_u64(h, "n_shared_kv_layers", m->n_shared_kv_layers);
    cJSON_AddBoolToObject(h, "causal", m->causal);
    cJSON_AddBoolToObject(h, "embedding_only", m->embedding_only);
    cJSON_AddBoolToObject(h, "tied_output", m->tied_output);
    cJSON_AddBoolToObject(h, "has_attn_bias", m->has_attn_bias);
    cJSON_AddBoolToObject(h, "has_qkv_bias", m->has_qkv_bias);
    cJSON_AddBoolToObject(h, "has_ffn_bias", m->has_ffn_bias);
    cJSON_AddBoolToObject(h, "has_fused_qkv", m->has_fused_qkv);
    cJSON_AddNumberToObject(h, "attn_logit_softcap", m->attn_logit_softcap);
    cJSON_AddNumberToObject(h, "final_logit_softcap", m->final_logit_softcap);
}

static void add_layers(cJSON *root, const hr_model *m)
{
    cJSON *arr = cJSON_AddArrayToObject(root, "layers");
    for (uint32_t i = 0; m->layers && i < m->n_layer; i++) {
        const hr_layer *l = &m->layers[i];
        cJSON *o = cJSON_CreateObject();
        add_u64(o, "index", i);
        add_u64(o, "n_head", l->n_head);
        add_u64(o, "n_head_kv", l->n_head_kv);
        add_u64(o, "n_embd_head_k", l->n_embd_head_k);
        add_u64(o, "n_embd_head_v", l->n_embd_head_v);
        add_u64(o, "n_ff", l->n_ff);
        add_u64(o, "n_expert", l->n_expert);
        add_u64(o, "n_expert_used", l->n_expert_used);
        add_u64(o, "n_expert_shared", l->n_expert_shared);
        add_u64(o, "n_ff_exp", l->n_ff_exp);
        cJSON_AddBoolToObject(o, "is_swa", l->is_swa);
        cJSON_AddBoolToObject(o, "is_recurrent", l->is_recurrent);
        cJSON_AddBoolToObject(o, "has_kv", l->has_kv);
        add_u64(o, "bytes", m->layer_bytes ? m->layer_bytes[i] : 0);
        cJSON_AddItemToArray(arr, o);
    }
}

static void add_tensor_types(cJSON *root, const hr_model *m)
{
    hr_type types[64];
    uint32_t counts[64];
    int n = hr_model_type_histogram(m, types, counts, 64);
    cJSON *obj = cJSON_AddObjectToObject(root, "tensor_types");
    for (int i = 0; i < n; i++)
        add_u64(obj, type_name(types[i]), counts[i]);
}

static void add_tensors(cJSON *root, const hr_model *m)
{
    cJSON *arr = cJSON_AddArrayToObject(root, "tensors");
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        cJSON *o = cJSON_CreateObject();
        add_str(o, "name", t->name);
        if (t->hf_name)
            add_str(o, "hf_name", t->hf_name);
        add_str(o, "type", type_name(t->type));
        cJSON *dims = cJSON_AddArrayToObject(o, "dims");
        uint32_t nd = t->n_dims > 4 ? 4 : t->n_dims;
        for (uint32_t d = 0; d < nd; d++)
            cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)t->ne[d]));
        add_u64(o, "bytes", t->bytes);
        add_u64(o, "offset", t->offset);
        add_layer_name(o, "layer", t->layer);
        add_u64(o, "file_index", t->file_index);
        add_str(o, "role", role_name(t->role));
        cJSON_AddItemToArray(arr, o);
    }
}

char *hr_model_to_json(const hr_model *m, bool include_tensors)
{
    if (!m)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    add_str(root, "source", hr_source_name(m->source));
    add_str(root, "path", m->path);
    add_str(root, "name", m->name);
    add_str(root, "arch", m->arch_name ? m->arch_name : hr_arch_name(m->arch));
    add_str(root, "arch_family", hr_arch_name(m->arch));
    if (m->ftype == HR_FTYPE_UNKNOWN)
        cJSON_AddNullToObject(root, "ftype");
    else
        add_str(root, "ftype", hr_ftype_name(m->ftype));
    add_str(root, "quant", m->quant_name);
    add_str(root, "dtype", m->dtype);

    cJSON *file = cJSON_AddObjectToObject(root, "file");
    add_u64(file, "gguf_version", m->gguf_version);
    add_u64(file, "alignment", m->alignment);
    add_u64(file, "n_files", m->n_files);
    cJSON_AddBoolToObject(file, "bitnet_fork", m->is_bitnet_fork);

    add_hparams(root, m);
    add_layers(root, m);

    cJSON *totals = cJSON_AddObjectToObject(root, "totals");
    add_u64(totals, "n_params", m->n_params);
    add_u64(totals, "bytes", m->n_bytes);
    cJSON_AddNumberToObject(totals, "bits_per_weight", m->bits_per_weight);
    add_u64(totals, "input_bytes", m->input_bytes);
    add_u64(totals, "output_bytes", m->output_bytes);
    add_u64(totals, "n_tensors", m->n_tensors);
    add_tensor_types(root, m);

    if (include_tensors)
        add_tensors(root, m);

    cJSON *warnings = cJSON_AddArrayToObject(root, "warnings");
    for (int i = 0; i < m->n_warnings && i < HR_MODEL_MAX_WARNINGS; i++)
        if (m->warnings[i])
            cJSON_AddItemToArray(warnings, cJSON_CreateString(m->warnings[i]));

    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    return out;
}
