/* Hyperparameters from GGUF metadata, following llama.cpp's load_hparams:
 * "<arch>.<key>" names, scalar-or-per-layer arrays, and the per-architecture
 * defaults llama.cpp hard-codes (sliding-window patterns, gemma2's window). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_hparams.h"
#include "model/model_internal.h"

/* llama.cpp's default window for gemma2 files written without the key. */
#define GEMMA2_DEFAULT_SWA 4096u
#define GGUF_MAX_LAYERS 512u /* LLAMA_MAX_LAYERS */

typedef struct hp {
    const gguf_file *f;
    hr_model *m;
    hr_error *err;
    char key[320];
    /* per-layer scratch */
    uint32_t *head, *head_kv, *ff;
    bool *swa, *moe;
    bool found_head_kv_array;
    uint32_t full_attention_interval; /* qwen35: every Nth layer attends (default 4) */
    bool *recurrent;                  /* qwen35: attention.recurrent_layers, or NULL */
} hp;

static const char *akey(hp *c, const char *suffix)
{
    int n = snprintf(c->key, sizeof c->key, "%s.%s", c->m->arch_name, suffix);
    if (n < 0 || (size_t)n >= sizeof c->key)
        c->key[0] = '\0'; /* an absurdly long arch name: no key matches */
    return c->key;
}

static hr_status get_u32(hp *c, const char *suffix, uint32_t *out, bool *found)
{
    return gguf_get_u32(c->f, akey(c, suffix), out, found, c->err);
}

static const hr_tensor *find_tensor(const hr_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

static bool is_arch(const hr_model *m, hr_arch a)
{
    return m->arch == a;
}

static bool is_recurrent_arch(const hr_model *m)
{
    return is_arch(m, HR_ARCH_MAMBA) || is_arch(m, HR_ARCH_MAMBA2) || is_arch(m, HR_ARCH_RWKV6) ||
           is_arch(m, HR_ARCH_RWKV7);
}

/* Encoders llama.cpp runs without a KV cache (create_memory returns none). */
static bool is_encoder_arch(const hr_model *m)
{
    return is_arch(m, HR_ARCH_BERT) || is_arch(m, HR_ARCH_NOMIC_BERT);
}

static hr_status read_basics(hp *c)
{
    hr_model *m = c->m;
    hr_status st;
    bool found;
    if ((st = get_u32(c, "context_length", &m->n_ctx_train, NULL)) != HR_OK ||
        (st = get_u32(c, "embedding_length", &m->n_embd, NULL)) != HR_OK ||
        (st = get_u32(c, "block_count", &m->n_layer, &found)) != HR_OK)
        return st;
    if (!found)
        hr_model_warn(m, "%s: no %s key: the model has no layers", c->f->path, c->key);
    /* llama.cpp sizes its per-layer arrays by LLAMA_MAX_LAYERS and refuses more;
     * without this a few-KB file could claim 10^5 layers and cost 100+ MB */
    if (m->n_layer > GGUF_MAX_LAYERS)
        return hr_error_set(c->err, HR_ERR_LIMIT, "%s: %s %u is over llama.cpp's %u layers",
                            c->f->path, c->key, m->n_layer, GGUF_MAX_LAYERS);
    return hr_model_set_layer_count(m, m->n_layer, c->err);
}

/* llama.cpp sizes logits by the tokenizer's token count: prefer it, then
 * ARCH.vocab_size (vocab-less files), then token_embd's rows. */
static hr_status read_vocab(hp *c)
{
    hr_model *m = c->m;
    uint64_t n = gguf_array_len(c->f, "tokenizer.ggml.tokens");
    if (n > UINT32_MAX)
        return hr_error_set(c->err, HR_ERR_FORMAT, "%s: %llu tokens is implausible", c->f->path,
                            (unsigned long long)n);
    if (n > 0) {
        m->n_vocab = (uint32_t)n;
        return HR_OK;
    }
    bool found;
    hr_status st = get_u32(c, "vocab_size", &m->n_vocab, &found);
    if (st != HR_OK || found)
        return st;
    const hr_tensor *embd = find_tensor(m, "token_embd.weight");
    if (embd && embd->n_dims >= 2 && embd->ne[1] <= UINT32_MAX)
        m->n_vocab = (uint32_t)embd->ne[1];
    return HR_OK;
}

/* Heads, FFN lengths, head dims: scalar or per-layer arrays. */
static hr_status read_attention(hp *c)
{
    hr_model *m = c->m;
    uint32_t n = m->n_layer;
    bool found;
    hr_status st;
    if ((st = gguf_get_u32_per_layer(c->f, akey(c, "attention.head_count"), c->head, n, NULL,
                                     c->err)) != HR_OK ||
        (st = gguf_get_u32_per_layer(c->f, akey(c, "attention.head_count_kv"), c->head_kv, n,
                                     &found, c->err)) != HR_OK)
        return st;
    c->found_head_kv_array = found && gguf_array_len(c->f, c->key) > 0;
    if (!found)
        memcpy(c->head_kv, c->head, n * sizeof *c->head);
    if ((st = gguf_get_u32_per_layer(c->f, akey(c, "feed_forward_length"), c->ff, n, NULL,
                                     c->err)) != HR_OK)
        return st;
    uint32_t n_head0 = 0; /* first attention layer's heads (hybrids may start without) */
    for (uint32_t il = 0; il < n && !n_head0; il++)
        n_head0 = c->head[il];
    m->n_embd_head_k = m->n_embd_head_v = n_head0 ? m->n_embd / n_head0 : 0;
    if ((st = get_u32(c, "attention.key_length", &m->n_embd_head_k, NULL)) != HR_OK ||
        (st = get_u32(c, "attention.value_length", &m->n_embd_head_v, NULL)) != HR_OK)
        return st;
    m->n_rot = m->n_embd_head_k;
    if ((st = get_u32(c, "rope.dimension_count", &m->n_rot, NULL)) != HR_OK ||
        (st = get_u32(c, "attention.kv_lora_rank", &m->n_lora_kv, NULL)) != HR_OK ||
        (st = get_u32(c, "attention.q_lora_rank", &m->n_lora_q, NULL)) != HR_OK)
        return st;
    uint32_t k_mla = 0, v_mla = 0;
    bool has_k_mla;
    if ((st = get_u32(c, "attention.key_length_mla", &k_mla, &has_k_mla)) != HR_OK ||
        (st = get_u32(c, "attention.value_length_mla", &v_mla, NULL)) != HR_OK)
        return st;
    (void)v_mla;
    m->is_mla = is_arch(m, HR_ARCH_DEEPSEEK2) && (has_k_mla || m->n_lora_kv > 0);
    return HR_OK;
}

static hr_status read_experts(hp *c)
{
    hr_model *m = c->m;
    hr_status st;
    bool has_ff_exp, has_ff_shexp;
    if ((st = get_u32(c, "expert_count", &m->n_expert, NULL)) != HR_OK ||
        (st = get_u32(c, "expert_used_count", &m->n_expert_used, NULL)) != HR_OK ||
        (st = get_u32(c, "expert_shared_count", &m->n_expert_shared, NULL)) != HR_OK ||
        (st = get_u32(c, "expert_feed_forward_length", &m->n_ff_exp, &has_ff_exp)) != HR_OK ||
        (st = get_u32(c, "expert_shared_feed_forward_length", &m->n_ff_shexp, &has_ff_shexp)) !=
            HR_OK ||
        (st = get_u32(c, "leading_dense_block_count", &m->n_layer_dense_lead, NULL)) != HR_OK)
        return st;
    if (m->n_expert == 0)
        return HR_OK;
    /* Mixtral-style files (llama arch) give the expert size as feed_forward_length. */
    if (!has_ff_exp && m->n_layer)
        m->n_ff_exp = c->ff[m->n_layer_dense_lead < m->n_layer ? m->n_layer_dense_lead : 0];
    /* DeepSeek's shared experts are n_expert_shared experts of n_ff_exp each. */
    if (!has_ff_shexp && m->n_expert_shared)
        m->n_ff_shexp = m->n_ff_exp * m->n_expert_shared;

    /* Which layers are MoE: the router tensor decides when the file has any;
     * otherwise the leading dense blocks are dense and the rest MoE. */
    bool any_router = false;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const char *name = m->tensors[i].name;
        int32_t blk = hr_tensor_block_index(name);
        if (blk < 0 || (uint32_t)blk >= m->n_layer)
            continue;
        const char *dot = strchr(name + 4, '.'); /* "blk.N." is guaranteed by blk >= 0 */
        if (dot &&
            strncmp(dot + 1, "ffn_gate_inp.", 13) == 0) {
            c->moe[blk] = true;
            any_router = true;
        }
    }
    if (!any_router)
        for (uint32_t il = 0; il < m->n_layer; il++)
            c->moe[il] = il >= m->n_layer_dense_lead;
    return HR_OK;
}

/* llama.cpp's set_swa_pattern(n): layer il uses the window unless it is the
 * n-th (il % n == n - 1); n == 1 would make every layer global. */
static void apply_pattern(bool *swa, uint32_t n_layer, uint32_t pattern)
{
    for (uint32_t il = 0; il < n_layer; il++)
        swa[il] = pattern > 0 && il % pattern < pattern - 1;
}

static hr_status read_sliding_window(hp *c)
{
    hr_model *m = c->m;
    hr_status st;
    bool has_swa;
    if ((st = get_u32(c, "attention.sliding_window", &m->n_swa, &has_swa)) != HR_OK)
        return st;
    if (!has_swa && is_arch(m, HR_ARCH_GEMMA2))
        m->n_swa = GEMMA2_DEFAULT_SWA;

    uint32_t pattern = 0;
    if (is_arch(m, HR_ARCH_GEMMA2) || is_arch(m, HR_ARCH_GPT_OSS))
        pattern = 2;
    else if (is_arch(m, HR_ARCH_GEMMA3))
        pattern = strcmp(m->arch_name, "gemma3n") == 0 ? 5 : 6; /* 4 local, 1 global in 3n */
    else if (is_arch(m, HR_ARCH_COHERE2))
        pattern = 4;

    const gguf_kv *kv = gguf_find(c->f, akey(c, "attention.sliding_window_pattern"));
    if (kv && kv->type == GGUF_TYPE_ARRAY) {
        if ((st = gguf_get_bool_per_layer(c->f, c->key, c->swa, m->n_layer, NULL, c->err)) !=
            HR_OK)
            return st;
        pattern = 0;
    } else {
        if (kv && (st = gguf_get_u32(c->f, c->key, &pattern, NULL, c->err)) != HR_OK)
            return st;
        apply_pattern(c->swa, m->n_layer, pattern);
    }
    if (m->n_swa == 0) {
        for (uint32_t il = 0; il < m->n_layer; il++)
            c->swa[il] = false;
        pattern = 0;
    }
    m->swa_pattern = pattern;
    return HR_OK;
}

static hr_status read_other(hp *c)
{
    hr_model *m = c->m;
    hr_status st;
    uint32_t pooling = 0;
    bool has_pooling;
    m->causal = !is_encoder_arch(m);
    if ((st = get_u32(c, "ssm.conv_kernel", &m->ssm_d_conv, NULL)) != HR_OK ||
        (st = get_u32(c, "ssm.inner_size", &m->ssm_d_inner, NULL)) != HR_OK ||
        (st = get_u32(c, "ssm.state_size", &m->ssm_d_state, NULL)) != HR_OK ||
        (st = get_u32(c, "ssm.time_step_rank", &m->ssm_dt_rank, NULL)) != HR_OK ||
        (st = get_u32(c, "ssm.group_count", &m->ssm_n_group, NULL)) != HR_OK ||
        (st = get_u32(c, "wkv.head_size", &m->rwkv_head_size, NULL)) != HR_OK ||
        (st = get_u32(c, "shortconv.l_cache", &m->shortconv_l_cache, NULL)) != HR_OK ||
        (st = get_u32(c, "attention.shared_kv_layers", &m->n_shared_kv_layers, NULL)) != HR_OK ||
        (st = gguf_get_bool(c->f, akey(c, "attention.causal"), &m->causal, NULL, c->err)) !=
            HR_OK ||
        (st = get_u32(c, "pooling_type", &pooling, &has_pooling)) != HR_OK ||
        (st = gguf_get_f32(c->f, akey(c, "attn_logit_softcapping"), &m->attn_logit_softcap, NULL,
                           c->err)) != HR_OK ||
        (st = gguf_get_f32(c->f, akey(c, "final_logit_softcapping"), &m->final_logit_softcap,
                           NULL, c->err)) != HR_OK)
        return st;
    /* Granite's multipliers and its rope switch (llama.cpp reads them only
     * for Granite; each present multiplier is a scale op in the graph) */
    if (is_arch(m, HR_ARCH_GRANITE_HYBRID)) {
        bool rope = true;
        if ((st = gguf_get_f32(c->f, akey(c, "embedding_scale"), &m->embedding_scale, NULL,
                               c->err)) != HR_OK ||
            (st = gguf_get_f32(c->f, akey(c, "residual_scale"), &m->residual_scale, NULL,
                               c->err)) != HR_OK ||
            (st = gguf_get_f32(c->f, akey(c, "logit_scale"), &m->logit_scale, NULL, c->err)) !=
                HR_OK ||
            (st = gguf_get_bool(c->f, akey(c, "rope.scaling.finetuned"), &rope, NULL, c->err)) !=
                HR_OK)
            return st;
        m->no_rope = !rope;
    }
    /* Qwen3.5: attention in every full_attention_interval-th layer, gated
     * delta nets in the others */
    c->full_attention_interval = 4;
    if (is_arch(m, HR_ARCH_QWEN35) || is_arch(m, HR_ARCH_QWEN35MOE) ||
        is_arch(m, HR_ARCH_QWEN3NEXT)) {
        if ((st = get_u32(c, "full_attention_interval", &c->full_attention_interval, NULL)) !=
            HR_OK)
            return st;
        /* the converter's per-layer list, when it had layer_types */
        bool found = false;
        c->recurrent = calloc(m->n_layer ? m->n_layer : 1, sizeof *c->recurrent);
        if (!c->recurrent)
            return hr_error_set(c->err, HR_ERR_NOMEM, "out of memory");
        if ((st = gguf_get_bool_per_layer(c->f, akey(c, "attention.recurrent_layers"), c->recurrent,
                                          m->n_layer, &found, c->err)) != HR_OK)
            return st;
        if (!found) {
            free(c->recurrent);
            c->recurrent = NULL;
        }
    }
    /* Nemotron-H MoE, LFM2-MoE, DeepSeek: whether and how the experts'
     * weights are normalised and scaled (ops of the graph) */
    if ((is_arch(m, HR_ARCH_NEMOTRON_H_MOE) || is_arch(m, HR_ARCH_LFM2MOE) ||
         is_arch(m, HR_ARCH_DEEPSEEK2)) &&
        ((st = gguf_get_bool(c->f, akey(c, "expert_weights_norm"), &m->expert_weights_norm, NULL,
                             c->err)) != HR_OK ||
         (st = gguf_get_f32(c->f, akey(c, "expert_weights_scale"), &m->expert_weights_scale, NULL,
                            c->err)) != HR_OK))
        return st;
    /* pooling_type 0 is NONE (token outputs); any other value pools embeddings. */
    m->embedding_only = is_encoder_arch(m) || (has_pooling && pooling > 0);
    /* (an encoder without the key pools by the mean) */
    m->pooling = !m->embedding_only ? 0 : has_pooling && pooling > 0 && pooling <= 4 ? (uint8_t)pooling : 1;
    if (m->n_shared_kv_layers > m->n_layer)
        return hr_error_set(c->err, HR_ERR_FORMAT, "%s: %u shared-KV layers but only %u layers",
                            c->f->path, m->n_shared_kv_layers, m->n_layer);
    return HR_OK;
}

/* Tensors whose presence decides a shape fact, found in one pass over the
 * names (a 70B file has ~700 tensors; one scan per fact was most of the cost). */
typedef struct tensor_facts {
    bool output, q_bias, qkv_bias, qkv_weight, attn_out_bias, ffn_up_bias, ffn_down_bias;
    bool ssm_in; /* Qwen3-Next: its legacy fused q/k/v/z projection */
    const hr_tensor *pos;
} tensor_facts;

static void scan_tensor_facts(const hr_model *m, tensor_facts *tf)
{
    static const char blk0[] = "blk.0.";
    for (size_t i = 0; i < m->n_tensors; i++) {
        const char *name = m->tensors[i].name;
        if (strncmp(name, blk0, sizeof blk0 - 1) == 0) {
            const char *rest = name + sizeof blk0 - 1;
            if (rest[0] == 's') {
                tf->ssm_in |= strcmp(rest, "ssm_in.weight") == 0;
                continue;
            }
            if (rest[0] != 'a' && rest[0] != 'f')
                continue;
            tf->q_bias |= strcmp(rest, "attn_q.bias") == 0;
            tf->qkv_bias |= strcmp(rest, "attn_qkv.bias") == 0;
            tf->qkv_weight |= strcmp(rest, "attn_qkv.weight") == 0;
            tf->attn_out_bias |= strcmp(rest, "attn_output.bias") == 0;
            tf->ffn_up_bias |= strcmp(rest, "ffn_up.bias") == 0;
            tf->ffn_down_bias |= strcmp(rest, "ffn_down.bias") == 0;
        } else if (name[0] == 'o') {
            tf->output |= strcmp(name, "output.weight") == 0;
        } else if (name[0] == 'p' && !tf->pos && strcmp(name, "position_embd.weight") == 0) {
            tf->pos = &m->tensors[i];
        }
    }
}

static void read_tensor_facts(hp *c)
{
    hr_model *m = c->m;
    tensor_facts tf = {0};
    scan_tensor_facts(m, &tf);
    m->tied_output = !tf.output;
    m->has_qkv_bias = tf.q_bias || tf.qkv_bias;
    m->has_fused_qkv = tf.qkv_weight;
    m->has_fused_qkvz = is_arch(m, HR_ARCH_QWEN3NEXT) && tf.ssm_in;
    m->has_attn_bias = tf.attn_out_bias;
    m->has_ffn_bias = tf.ffn_up_bias || tf.ffn_down_bias;
    if (tf.pos && tf.pos->n_dims >= 2 && tf.pos->ne[1] <= UINT32_MAX)
        m->n_pos_embd = (uint32_t)tf.pos->ne[1];
}

/* Hybrid models mark their recurrent layers with head_count_kv 0. */
static bool layer_is_recurrent(const hp *c, uint32_t il)
{
    const hr_model *m = c->m;
    if (is_recurrent_arch(m))
        return true;
    bool has_ssm = m->ssm_d_state > 0 || m->ssm_d_inner > 0 || m->rwkv_head_size > 0 ||
                   m->shortconv_l_cache > 0;
    /* Nemotron-H's FFN layers have no KV heads either, but an FFN (and its
     * KV head count may be one 0 when no layer has attention) */
    if (is_arch(m, HR_ARCH_NEMOTRON_H) || is_arch(m, HR_ARCH_NEMOTRON_H_MOE))
        return has_ssm && c->head_kv[il] == 0 && c->ff[il] == 0;
    if (is_arch(m, HR_ARCH_FALCON_H1)) /* a Mamba-2 mixer in every layer, beside attention */
        return true;
    if (is_arch(m, HR_ARCH_QWEN35) || is_arch(m, HR_ARCH_QWEN35MOE) ||
        is_arch(m, HR_ARCH_QWEN3NEXT))
        return has_ssm && (c->recurrent ? c->recurrent[il]
                                        : c->full_attention_interval == 0 ||
                                              (il + 1) % c->full_attention_interval != 0);
    if (is_arch(m, HR_ARCH_LFM2) || is_arch(m, HR_ARCH_LFM2MOE)) /* (one 0 when no layer attends) */
        return m->shortconv_l_cache > 1 && c->head_kv[il] == 0; /* llama.cpp: l_cache > 1 */
    return has_ssm && c->found_head_kv_array && c->head_kv[il] == 0;
}

static void fill_layers(hp *c)
{
    hr_model *m = c->m;
    uint32_t first_shared = m->n_layer - m->n_shared_kv_layers;
    for (uint32_t il = 0; il < m->n_layer; il++) {
        hr_layer *l = &m->layers[il];
        l->n_head = c->head[il];
        l->n_head_kv = c->head_kv[il];
        l->n_embd_head_k = m->n_embd_head_k;
        l->n_embd_head_v = m->n_embd_head_v;
        if (m->is_mla) {
            /* The cache keeps the compressed latent plus the rope part, shared by all heads. */
            l->n_head_kv = 1;
            l->n_embd_head_k = m->n_lora_kv + m->n_rot;
            l->n_embd_head_v = m->n_lora_kv;
        }
        bool moe = m->n_expert > 0 && c->moe[il];
        l->n_ff = moe ? 0 : c->ff[il];
        if (moe) {
            l->n_expert = m->n_expert;
            l->n_expert_used = m->n_expert_used;
            l->n_expert_shared = m->n_expert_shared;
            l->n_ff_exp = m->n_ff_exp;
        }
        l->is_recurrent = layer_is_recurrent(c, il);
        const bool attends = !l->is_recurrent || is_arch(m, HR_ARCH_FALCON_H1);
        if (!attends)
            l->n_head_kv = 0;
        l->is_swa = attends && c->swa[il];
        l->has_kv = attends && l->n_head_kv > 0 && !is_encoder_arch(m) && m->causal &&
                    il < first_shared;
    }
    if (m->is_mla) {
        m->n_embd_head_k = m->n_layer ? m->layers[0].n_embd_head_k : m->n_lora_kv + m->n_rot;
        m->n_embd_head_v = m->n_lora_kv;
    }
}

static hr_status alloc_scratch(hp *c, uint32_t n)
{
    size_t count = n ? n : 1;
    c->head = calloc(count, sizeof *c->head);
    c->head_kv = calloc(count, sizeof *c->head_kv);
    c->ff = calloc(count, sizeof *c->ff);
    c->swa = calloc(count, sizeof *c->swa);
    c->moe = calloc(count, sizeof *c->moe);
    if (!c->head || !c->head_kv || !c->ff || !c->swa || !c->moe)
        return hr_error_set(c->err, HR_ERR_NOMEM, "%s: out of memory for %u layers", c->f->path,
                            n);
    return HR_OK;
}

static void free_scratch(hp *c)
{
    free(c->head);
    free(c->head_kv);
    free(c->ff);
    free(c->swa);
    free(c->moe);
    free(c->recurrent);
}

hr_status gguf_fill_hparams(const gguf_file *f, hr_model *m, hr_error *err)
{
    hp c = {.f = f, .m = m, .err = err};
    if (m->arch == HR_ARCH_UNKNOWN)
        m->arch = hr_arch_from_name(m->arch_name);
    if (m->arch == HR_ARCH_UNKNOWN)
        hr_model_warn(m, "unknown architecture '%s': generic shape keys used", m->arch_name);
    hr_status st = read_basics(&c);
    if (st == HR_OK)
        st = alloc_scratch(&c, m->n_layer);
    if (st == HR_OK)
        st = read_vocab(&c);
    if (st == HR_OK)
        st = read_attention(&c);
    if (st == HR_OK)
        st = read_experts(&c);
    if (st == HR_OK)
        st = read_sliding_window(&c);
    if (st == HR_OK)
        st = read_other(&c);
    if (st == HR_OK) {
        read_tensor_facts(&c);
        fill_layers(&c);
    }
    free_scratch(&c);
    return st;
}
