/* config.json -> hr_model: the shape, the llama.cpp-style hyperparameters
 * (shared with the safetensors reader) and quantized checkpoint sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file_io.h"
#include "hf_config.h"
#include "model/model_internal.h"

void hf_config_to_shape(const hf_config *c, hr_shape *s)
{
    hr_shape_init(s);
    s->name = c->name;
    s->arch_name = c->arch_name;
    s->n_layer = c->n_layer;
    s->n_embd = c->n_embd;
    s->n_vocab = c->n_vocab;
    s->n_ctx_train = c->n_ctx_train;
    s->n_head = c->n_head;
    s->n_head_kv = c->n_head_kv;
    s->head_dim = c->head_dim;
    s->head_dim_v = c->head_dim_v;
    s->n_ff = c->n_ff;
    s->n_swa = c->n_swa;
    s->swa_pattern = c->swa_pattern;
    s->n_expert = c->n_expert;
    s->n_expert_used = c->n_expert_used;
    s->n_expert_shared = c->n_expert_shared;
    s->n_ff_exp = c->n_ff_exp;
    s->n_ff_shexp = c->n_ff_shexp;
    s->n_layer_dense_lead = c->n_layer_dense_lead;
    s->n_lora_q = c->n_lora_q;
    s->n_lora_kv = c->n_lora_kv;
    s->n_rot = c->n_rot;
    s->head_dim_qk_nope = c->head_dim_qk_nope;
    s->ssm_d_conv = c->ssm_d_conv;
    s->ssm_d_inner = c->ssm_d_inner;
    s->ssm_d_state = c->ssm_d_state;
    s->ssm_dt_rank = c->ssm_dt_rank;
    s->ssm_n_group = c->ssm_n_group;
    s->rwkv_head_size = c->rwkv_head_size;
    s->n_pos_embd = c->n_pos_embd;
    /* a class without an LM head (Qwen2Model, BertModel) has no output
     * matrix: llama.cpp then reuses token_embd, as for tied embeddings */
    s->tied_output = c->tied_output || c->embedding_only;
    s->qkv_bias = c->qkv_bias;
    s->attn_bias = c->attn_bias;
    s->ffn_bias = c->ffn_bias;
    s->causal = c->causal;
    s->embedding_only = c->embedding_only;
    s->attn_logit_softcap = c->attn_logit_softcap;
    s->final_logit_softcap = c->final_logit_softcap;
    s->rope_freqs = c->rope_freqs;
    s->layer_pattern = c->layer_pattern;
    s->expert_weights_norm = c->expert_weights_norm;
    s->expert_layer_period = c->expert_layer_period;
    s->expert_layer_offset = c->expert_layer_offset;
    s->shortconv_l_cache = c->shortconv_l_cache;
    s->ssm_no_norm = c->ssm_no_norm;
    s->expert_weights_scale = c->expert_weights_scale;
    s->embedding_scale = c->embedding_scale;
    s->residual_scale = c->residual_scale;
    s->logit_scale = c->logit_scale;
    s->no_rope = c->no_rope;
    s->ftype = HR_FTYPE_UNKNOWN;
    s->dtype = c->dtype;
}

void hf_config_copy_warnings(const hf_config *c, hr_model *m)
{
    for (int i = 0; i < c->n_warnings; i++)
        hr_model_warn(m, "%s", c->warnings[i]);
}

/* Per-layer flags the shape's "every Nth layer" rule cannot express. */
static void overlay_layers(const hf_config *c, hr_model *m)
{
    if (!c->layer_swa || c->swa_pattern != 0 || m->n_swa == 0)
        return;
    for (uint32_t il = 0; il < m->n_layer && il < c->n_layer; il++)
        m->layers[il].is_swa = c->layer_swa[il] != 0;
}

/* Hyperparameters the llama.cpp-style way, when the shape builder cannot
 * take the config (missing vocabulary, heads...): plain per-layer values. */
static void fill_generic(const hf_config *c, hr_model *m)
{
    m->n_embd = c->n_embd;
    m->n_vocab = c->n_vocab;
    m->n_ctx_train = c->n_ctx_train;
    m->n_ff = c->n_ff;
    m->n_swa = c->n_swa;
    m->swa_pattern = c->swa_pattern;
    m->causal = c->causal;
    m->embedding_only = c->embedding_only;
    m->pooling = c->embedding_only ? 1 : 0; /* sentence-transformers' default: the mean */
    m->tied_output = c->tied_output;
    m->attn_logit_softcap = c->attn_logit_softcap;
    m->final_logit_softcap = c->final_logit_softcap;
    m->n_expert = c->n_expert;
    m->n_expert_used = c->n_expert_used;
    m->n_expert_shared = c->n_expert_shared;
    m->n_ff_exp = c->n_ff_exp;
    m->n_ff_shexp = c->n_ff_shexp;
    m->n_layer_dense_lead = c->n_layer_dense_lead;
    for (uint32_t il = 0; il < m->n_layer; il++) {
        hr_layer *l = &m->layers[il];
        l->n_head = c->n_head;
        l->n_head_kv = c->n_head_kv;
        l->n_embd_head_k = c->head_dim;
        l->n_embd_head_v = c->head_dim_v;
        bool moe = hf_config_layer_is_moe(c, il);
        l->n_ff = moe ? 0 : c->n_ff;
        if (moe) {
            l->n_expert = c->n_expert;
            l->n_expert_used = c->n_expert_used;
            l->n_expert_shared = c->n_expert_shared;
            l->n_ff_exp = c->n_ff_exp;
        }
        l->is_swa = c->layer_swa && c->layer_swa[il];
        l->has_kv = c->causal && c->n_head_kv > 0;
    }
}

static void copy_hparams(hr_model *dst, const hr_model *src)
{
    dst->n_embd = src->n_embd;
    dst->n_vocab = src->n_vocab;
    dst->n_ctx_train = src->n_ctx_train;
    dst->n_head = src->n_head;
    dst->n_head_kv = src->n_head_kv;
    dst->n_embd_head_k = src->n_embd_head_k;
    dst->n_embd_head_v = src->n_embd_head_v;
    dst->n_ff = src->n_ff;
    dst->n_swa = src->n_swa;
    dst->swa_pattern = src->swa_pattern;
    dst->n_expert = src->n_expert;
    dst->n_expert_used = src->n_expert_used;
    dst->n_expert_shared = src->n_expert_shared;
    dst->n_ff_exp = src->n_ff_exp;
    dst->n_ff_shexp = src->n_ff_shexp;
    dst->n_layer_dense_lead = src->n_layer_dense_lead;
    dst->n_lora_q = src->n_lora_q;
    dst->n_lora_kv = src->n_lora_kv;
    dst->n_rot = src->n_rot;
    dst->is_mla = src->is_mla;
    dst->ssm_d_conv = src->ssm_d_conv;
    dst->ssm_d_inner = src->ssm_d_inner;
    dst->ssm_d_state = src->ssm_d_state;
    dst->ssm_dt_rank = src->ssm_dt_rank;
    dst->ssm_n_group = src->ssm_n_group;
    dst->rwkv_head_size = src->rwkv_head_size;
    dst->n_pos_embd = src->n_pos_embd;
    dst->n_shared_kv_layers = src->n_shared_kv_layers;
    dst->causal = src->causal;
    dst->embedding_only = src->embedding_only;
    dst->tied_output = src->tied_output;
    dst->has_attn_bias = src->has_attn_bias;
    dst->has_qkv_bias = src->has_qkv_bias;
    dst->has_ffn_bias = src->has_ffn_bias;
    dst->has_fused_qkv = src->has_fused_qkv;
    dst->attn_logit_softcap = src->attn_logit_softcap;
    dst->final_logit_softcap = src->final_logit_softcap;
    dst->embedding_scale = src->embedding_scale;
    dst->residual_scale = src->residual_scale;
    dst->logit_scale = src->logit_scale;
    dst->no_rope = src->no_rope;
    dst->expert_weights_norm = src->expert_weights_norm;
    dst->shortconv_l_cache = src->shortconv_l_cache;
    dst->expert_weights_scale = src->expert_weights_scale;
    memcpy(dst->layers, src->layers, (size_t)src->n_layer * sizeof *dst->layers);
}

hr_status hf_config_apply_hparams(const hf_config *c, hr_model *m, hr_error *err)
{
    hr_status st;
    if (!m->layers || m->n_layer != c->n_layer) {
        if ((st = hr_model_set_layer_count(m, c->n_layer, err)) != HR_OK)
            return st;
    }
    m->arch_name = hr_model_strdup(m, c->arch_name);
    m->arch = hr_arch_from_name(c->arch_name);
    if (!m->arch_name)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory");
    /* the shape builder knows llama.cpp's per-architecture hparams: build
     * the config's reference model and take its values */
    hr_shape shape;
    hf_config_to_shape(c, &shape);
    hr_model *ref = NULL;
    hr_error ref_err;
    if (hr_model_from_shape(&shape, &ref, &ref_err) == HR_OK &&
        hf_config_apply_layer_kinds(c, &shape, ref, &ref_err) == HR_OK) {
        copy_hparams(m, ref);
        hr_model_free(ref);
    } else {
        hr_model_free(ref);
        fill_generic(c, m);
        hr_model_warn(m, "config hyperparameters taken as written (%s)", ref_err.message);
    }
    overlay_layers(c, m);
    return HR_OK;
}

/* Roles of the linear layers that GPTQ / AWQ / bitsandbytes / FP8 replace. */
static bool is_quantized_linear(const hf_config *c, const hr_tensor *t)
{
    if (t->layer < 0 || t->ne[1] <= 1 || !hr_str_ends_with(t->name, ".weight"))
        return false;
    switch ((hr_role)t->role) {
    case HR_ROLE_FFN_GATE_EXPS: case HR_ROLE_FFN_UP_EXPS: case HR_ROLE_FFN_DOWN_EXPS:
    case HR_ROLE_FFN_GATE_UP_EXPS:
        return true;
    case HR_ROLE_ATTN_Q: case HR_ROLE_ATTN_K: case HR_ROLE_ATTN_V: case HR_ROLE_ATTN_QKV:
    case HR_ROLE_ATTN_OUTPUT: case HR_ROLE_ATTN_Q_A: case HR_ROLE_ATTN_Q_B:
    case HR_ROLE_ATTN_KV_A_MQA: case HR_ROLE_ATTN_KV_B: case HR_ROLE_ATTN_K_B:
    case HR_ROLE_ATTN_V_B: case HR_ROLE_FFN_GATE: case HR_ROLE_FFN_UP: case HR_ROLE_FFN_DOWN:
    case HR_ROLE_FFN_GATE_SHEXP: case HR_ROLE_FFN_UP_SHEXP: case HR_ROLE_FFN_DOWN_SHEXP:
        return c->quant != HF_QUANT_MXFP4; /* gpt-oss keeps attention in bf16 */
    default:
        return false;
    }
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return b ? (a + b - 1) / b : 0;
}

/* Checkpoint bytes of one quantized linear weight; ne[0] = K (input
 * features), ne[1] = N (output features), ne[2..3] = stacked matrices
 * (experts). Per matrix, with G = ceil(K / group) (G = 1 without groups):
 *   GPTQ  qweight ceil(K*bits/32)*4*N + qzeros G*ceil(N*bits/32)*4
 *         + scales G*N*2 (fp16) + g_idx K*4
 *   AWQ   qweight K*ceil(N*bits/32)*4 + qzeros G*ceil(N*bits/32)*4 + scales G*N*2
 *   bnb 4-bit  ceil(K*N/2) + absmax per 64 weights: 4 bytes (fp32), or with
 *         double quant 1 byte per block + 4 bytes per 256 blocks
 *   bnb 8-bit  K*N (int8) + N*4 (fp32 row scales)
 *   FP8   K*N + ceil(N/bn)*ceil(K/bk)*4 (fp32 scale_inv per block; one per tensor
 *         without weight_block_size)
 *   MXFP4 (experts) K*N/2 + K*N/32 (an e8m0 scale per 32 weights)
 *   BitNet ceil(K*N/4) (2-bit packed ternary) + 2 (one bf16 scale)
 * Overflow cannot occur: shape dims are capped at 2^24 and stacks at 1024. */
uint64_t hf_config_quant_weight_bytes(const hf_config *c, const int64_t ne[4])
{
    const uint64_t K = (uint64_t)ne[0], N = (uint64_t)ne[1];
    const uint64_t stack = (uint64_t)ne[2] * (uint64_t)ne[3];
    const uint64_t bits = c->quant_bits;
    const uint64_t G = c->quant_group ? ceil_div(K, c->quant_group) : 1;
    uint64_t per = 0;
    switch (c->quant) {
    case HF_QUANT_GPTQ:
        per = ceil_div(K * bits, 32) * 4 * N + G * ceil_div(N * bits, 32) * 4 + G * N * 2 + K * 4;
        break;
    case HF_QUANT_AWQ:
        per = K * ceil_div(N * bits, 32) * 4 + G * ceil_div(N * bits, 32) * 4 + G * N * 2;
        break;
    case HF_QUANT_BNB_4BIT: {
        const uint64_t blocks = ceil_div(K * N, 64);
        per = ceil_div(K * N, 2) + (c->quant_double ? blocks + ceil_div(blocks, 256) * 4
                                                    : blocks * 4);
        break;
    }
    case HF_QUANT_BNB_8BIT:
        per = K * N + N * 4;
        break;
    case HF_QUANT_FP8:
        per = K * N + (c->quant_group && c->quant_block_out
                           ? ceil_div(N, c->quant_block_out) * ceil_div(K, c->quant_group) * 4
                           : 4);
        break;
    case HF_QUANT_MXFP4:
        per = ceil_div(K * N, 2) + ceil_div(K * N, 32);
        break;
    case HF_QUANT_BITNET:
        per = ceil_div(K * N, 4) + 2;
        break;
    default:
        return 0;
    }
    return per * stack;
}

static bool quant_is_modelled(hf_quant_method q)
{
    return q != HF_QUANT_NONE && q != HF_QUANT_OTHER;
}

static hr_status apply_quant_sizes(const hf_config *c, hr_model *m, hr_error *err)
{
    if (!quant_is_modelled(c->quant))
        return HR_OK;
    for (size_t i = 0; i < m->n_tensors; i++) {
        hr_tensor *t = &m->tensors[i];
        if (!is_quantized_linear(c, t))
            continue;
        t->bytes = hf_config_quant_weight_bytes(c, t->ne);
        /* MXFP4 blocks and scales are exactly ggml's MXFP4 (17 bytes a 32) */
        uint64_t ggml_bytes;
        if (c->quant == HF_QUANT_MXFP4 &&
            hr_type_tensor_bytes(HR_TYPE_MXFP4, t->ne, &ggml_bytes, NULL) == HR_OK &&
            ggml_bytes == t->bytes)
            t->type = HR_TYPE_MXFP4;
    }
    m->ftype = HR_FTYPE_UNKNOWN; /* no single llama_ftype describes these */
    return hr_model_finalize(m, err);
}

const char *hf_config_quant_label(const hf_config *c, hr_model *m, const char *suffix)
{
    char label[128];
    if (c->quant_name[0])
        snprintf(label, sizeof label, "%s%s", c->quant_name, suffix);
    else
        snprintf(label, sizeof label, "%s%s", hr_type_get(c->dtype)->name, suffix);
    return hr_model_strdup(m, label);
}

hr_status hr_model_from_config_json(const char *json, size_t len, const char *origin,
                                    hr_model **out, hr_error *err)
{
    if (!out)
        return hr_error_set(err, HR_ERR_ARG, "no output model given");
    *out = NULL;
    if (!origin)
        origin = "config.json";
    hf_config c;
    hr_status st = hf_config_parse(json, len, origin, &c, err);
    if (st != HR_OK)
        return st;
    hr_shape shape;
    hf_config_to_shape(&c, &shape);
    hr_model *m = NULL;
    hr_error shape_err;
    st = hr_model_from_shape(&shape, &m, &shape_err);
    if (st != HR_OK) {
        hr_error_set(err, st, "%s: %s", origin, shape_err.message);
        hf_config_free(&c);
        return st;
    }
    m->source = HR_SOURCE_CONFIG;
    m->path = hr_model_strdup(m, origin);
    m->dtype = c.dtype_name[0] ? hr_model_strdup(m, c.dtype_name) : hr_type_get(c.dtype)->name;
    m->quant_name = hf_config_quant_label(&c, m, "");
    hf_config_copy_warnings(&c, m);
    hr_error inner;
    st = hf_config_apply_layer_kinds(&c, &shape, m, &inner);
    overlay_layers(&c, m);
    if (st == HR_OK)
        st = apply_quant_sizes(&c, m, &inner);
    if (st != HR_OK)
        hr_error_set(err, st, "%s: %s", origin, inner.message);
    else if (!m->path || !m->quant_name)
        st = hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", origin);
    hf_config_free(&c);
    if (st != HR_OK) {
        hr_model_free(m);
        return st;
    }
    *out = m;
    return HR_OK;
}

hr_status hr_model_open_config(const char *path, hr_model **out, hr_error *err)
{
    if (!path || !out)
        return hr_error_set(err, HR_ERR_ARG, "no config path given");
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    hr_status st = hr_read_file(path, HR_HF_CONFIG_MAX_BYTES, &text, &len, err);
    if (st != HR_OK)
        return st;
    st = hr_model_from_config_json(text, len, path, out, err);
    free(text);
    return st;
}
