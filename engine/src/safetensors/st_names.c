/* Name mapping tables, after llama.cpp's gguf-py tensor_mapping.py (abridged
 * to the families headroom plans for). */
#include <stdio.h>
#include <string.h>

#include "st_names.h"

typedef struct name_pair {
    const char *hf;   /* module path inside a block / at the top level */
    const char *gguf; /* GGUF stem (may carry its own leaf, e.g. "ffn_gate_up_exps.blocks") */
} name_pair;

/* Prefixes in front of the text model, longest first. */
static const char *const MODEL_PREFIXES[] = {
    "model.language_model.", "language_model.model.", "language_model.", "model.",
    "transformer.", "backbone.", "rwkv.", "bert.", "roberta.", "new.",
};

/* Containers of the numbered blocks. */
static const char *const BLOCK_CONTAINERS[] = {
    "encoder.layers.", "encoder.layer.", "layers.", "layer.", "blocks.", "h.",
};

static const name_pair BLOCK_NAMES[] = {
    /* attention (llama family, qwen, gemma, phi3, cohere, gpt-oss) */
    {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"}, {"self_attn.o_proj", "attn_output"},
    {"self_attn.qkv_proj", "attn_qkv"}, {"self_attn.query_key_value", "attn_qkv"},
    {"self_attn.dense", "attn_output"}, {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"}, {"self_attn.sinks", "attn_sinks"},
    {"self_attn.attn_sub_norm", "attn_sub_norm"}, {"mlp.ffn_sub_norm", "ffn_sub_norm"}, /* BitNet */
    /* MLA (deepseek2) */
    {"self_attn.q_a_proj", "attn_q_a"}, {"self_attn.q_a_layernorm", "attn_q_a_norm"},
    {"self_attn.q_b_proj", "attn_q_b"}, {"self_attn.kv_a_proj_with_mqa", "attn_kv_a_mqa"},
    {"self_attn.kv_a_layernorm", "attn_kv_a_norm"}, {"self_attn.kv_b_proj", "attn_kv_b"},
    /* dense FFN */
    {"mlp.gate_proj", "ffn_gate"}, {"mlp.up_proj", "ffn_up"}, {"mlp.down_proj", "ffn_down"},
    {"mlp.gate_up_proj", "ffn_up"}, {"mlp.fc1", "ffn_up"}, {"mlp.fc2", "ffn_down"},
    /* MoE: routers, experts (the expert index is lifted out first), shared experts */
    {"mlp.gate", "ffn_gate_inp"}, {"mlp.router", "ffn_gate_inp"},
    {"mlp.gate.e_score_correction_bias", "exp_probs_b.bias"}, /* DeepSeek-V3 */
    {"block_sparse_moe.gate", "ffn_gate_inp"}, {"mlp.shared_expert_gate", "ffn_gate_inp_shexp"},
    {"mlp.experts.gate_proj", "ffn_gate_exps"}, {"mlp.experts.up_proj", "ffn_up_exps"},
    {"mlp.experts.down_proj", "ffn_down_exps"}, {"mlp.experts.gate_up_proj", "ffn_gate_up_exps"},
    {"mlp.experts.gate_up_proj_bias", "ffn_gate_up_exps.bias"},
    {"mlp.experts.gate_up_proj_blocks", "ffn_gate_up_exps.blocks"},
    {"mlp.experts.gate_up_proj_scales", "ffn_gate_up_exps.scales"},
    {"mlp.experts.down_proj_bias", "ffn_down_exps.bias"},
    {"mlp.experts.down_proj_blocks", "ffn_down_exps.blocks"},
    {"mlp.experts.down_proj_scales", "ffn_down_exps.scales"},
    {"block_sparse_moe.experts.w1", "ffn_gate_exps"}, {"block_sparse_moe.experts.w3", "ffn_up_exps"},
    {"block_sparse_moe.experts.w2", "ffn_down_exps"},
    {"mlp.shared_expert.gate_proj", "ffn_gate_shexp"}, {"mlp.shared_expert.up_proj", "ffn_up_shexp"},
    {"mlp.shared_expert.down_proj", "ffn_down_shexp"},
    {"mlp.shared_experts.gate_proj", "ffn_gate_shexp"},
    {"mlp.shared_experts.up_proj", "ffn_up_shexp"},
    {"mlp.shared_experts.down_proj", "ffn_down_shexp"},
    /* norms (gemma2/3 post_attention_layernorm handled in code) */
    {"input_layernorm", "attn_norm"}, {"post_attention_layernorm", "ffn_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"}, {"post_feedforward_layernorm", "post_ffw_norm"},
    /* BERT */
    {"attention.self.query", "attn_q"}, {"attention.self.key", "attn_k"},
    {"attention.self.value", "attn_v"}, {"attention.output.dense", "attn_output"},
    {"attention.output.LayerNorm", "attn_output_norm"}, {"intermediate.dense", "ffn_up"},
    {"output.dense", "ffn_down"}, {"output.LayerNorm", "layer_output_norm"},
    /* NewModel (gte / stella_en_400M_v5) */
    {"attention.qkv_proj", "attn_qkv"}, {"attention.o_proj", "attn_output"},
    {"attn_ln", "attn_output_norm"}, {"mlp.up_gate_proj", "ffn_up"},
    {"mlp_ln", "layer_output_norm"},
    /* nomic-bert */
    {"attn.Wqkv", "attn_qkv"}, {"attn.out_proj", "attn_output"}, {"mlp.fc11", "ffn_up"},
    {"mlp.fc12", "ffn_gate"}, {"norm1", "attn_output_norm"}, {"norm2", "layer_output_norm"},
    /* Mamba / Mamba2 */
    {"mixer.in_proj", "ssm_in"}, {"mixer.conv1d", "ssm_conv1d"}, {"mixer.x_proj", "ssm_x"},
    {"mixer.dt_proj", "ssm_dt"}, {"mixer.A_log", "ssm_a"}, {"mixer.D", "ssm_d"},
    {"mixer.out_proj", "ssm_out"}, {"mixer.norm", "ssm_norm"}, {"mixer.dt_bias", "ssm_dt.bias"},
    {"norm", "attn_norm"},
    /* Granite-4.0-H (GraniteMoeHybrid): Mamba-2 mixers, stacked experts with
     * gate and up in one tensor, the shared MLP likewise */
    {"mamba.in_proj", "ssm_in"}, {"mamba.conv1d", "ssm_conv1d"}, {"mamba.A_log", "ssm_a"},
    {"mamba.D", "ssm_d"}, {"mamba.out_proj", "ssm_out"}, {"mamba.norm", "ssm_norm"},
    {"mamba.dt_bias", "ssm_dt.bias"}, {"block_sparse_moe.router.layer", "ffn_gate_inp"},
    {"block_sparse_moe.input_linear", "ffn_gate_up_exps"},
    {"block_sparse_moe.output_linear", "ffn_down_exps"},
    {"shared_mlp.input_linear", "ffn_up_shexp"}, {"shared_mlp.output_linear", "ffn_down_shexp"},
    /* LFM2: short convolutions, attention with q/k layernorms */
    {"conv.in_proj", "shortconv.in_proj"}, {"conv.conv", "shortconv.conv"},
    {"conv.out_proj", "shortconv.out_proj"}, {"self_attn.q_layernorm", "attn_q_norm"},
    {"self_attn.k_layernorm", "attn_k_norm"}, {"self_attn.out_proj", "attn_output"},
    {"operator_norm", "attn_norm"}, {"feed_forward.gate", "ffn_gate_inp"}, /* LFM2-MoE */
    {"feed_forward.experts.w1", "ffn_gate_exps"}, {"feed_forward.experts.w3", "ffn_up_exps"},
    {"feed_forward.experts.w2", "ffn_down_exps"}, {"feed_forward.expert_bias", "exp_probs_b.bias"},
    /* Jamba: Mamba mixers with dt/B/C norms, a router and per-expert MLPs */
    {"mamba.x_proj", "ssm_x"}, {"mamba.dt_proj", "ssm_dt"}, {"mamba.dt_layernorm", "ssm_dt_norm"},
    {"mamba.b_layernorm", "ssm_b_norm"}, {"mamba.c_layernorm", "ssm_c_norm"},
    {"feed_forward.router", "ffn_gate_inp"}, {"feed_forward.experts.gate_proj", "ffn_gate_exps"},
    {"feed_forward.experts.up_proj", "ffn_up_exps"},
    {"feed_forward.experts.down_proj", "ffn_down_exps"},
    /* Falcon-H1's FFN and its norm */
    {"pre_ff_layernorm", "ffn_norm"}, {"feed_forward.gate_proj", "ffn_gate"},
    {"feed_forward.up_proj", "ffn_up"}, {"feed_forward.down_proj", "ffn_down"},
    /* Mistral's native consolidated.safetensors */
    {"attention.wq", "attn_q"}, {"attention.wk", "attn_k"}, {"attention.wv", "attn_v"},
    {"attention.wo", "attn_output"}, {"feed_forward.w1", "ffn_gate"},
    {"feed_forward.w2", "ffn_down"}, {"feed_forward.w3", "ffn_up"},
    {"attention_norm", "attn_norm"}, {"ffn_norm", "ffn_norm"},
    /* RWKV block norms (attention.* / feed_forward.* handled in code) */
    {"ln1", "attn_norm"}, {"ln2", "attn_norm_2"},
};

static const name_pair TOP_NAMES[] = {
    {"embed_tokens", "token_embd"}, {"embeddings.word_embeddings", "token_embd"},
    {"embeddings.position_embeddings", "position_embd"},
    {"embeddings.token_type_embeddings", "token_types"},
    {"embeddings.LayerNorm", "token_embd_norm"}, {"emb_ln", "token_embd_norm"},
    {"embeddings", "token_embd"}, {"wte", "token_embd"}, {"word_embeddings", "token_embd"},
    {"norm", "output_norm"}, {"final_layernorm", "output_norm"}, {"norm_f", "output_norm"},
    {"ln_f", "output_norm"}, {"ln_out", "output_norm"},
    {"lm_head", "output"}, {"embed_out", "output"}, {"head", "output"},
    {"tok_embeddings", "token_embd"}, {"output", "output"},
    {"embedding_norm", "token_embd_norm"}, /* LFM2's output norm, as llama.cpp names it */
};

/* s starts with module and is followed by '.' (a leaf) or the end. */
static const char *match_module(const char *s, const char *module)
{
    size_t n = strlen(module);
    if (strncmp(s, module, n) != 0)
        return NULL;
    if (s[n] == '\0')
        return s + n;
    if (s[n] == '.')
        return s + n + 1;
    return NULL;
}

static const char *lookup(const name_pair *table, size_t count, const char *s, const char **leaf)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < count; i++) {
        const char *rest = match_module(s, table[i].hf);
        size_t len = strlen(table[i].hf);
        if (rest && len > best_len) {
            best = table[i].gguf;
            best_len = len;
            *leaf = rest;
        }
    }
    return best;
}

/* "123." at s: parse the number, return the text after the dot. */
static const char *parse_index(const char *s, int64_t *out)
{
    int64_t v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        if (++digits > 9)
            return NULL;
        v = v * 10 + (*s - '0');
        s++;
    }
    if (digits == 0 || *s != '.')
        return NULL;
    *out = v;
    return s + 1;
}

static bool emit(char *buf, size_t buf_len, const char *fmt_stem, const char *leaf, int32_t block,
                 int64_t expert)
{
    int n;
    char head[32] = "";
    if (block >= 0)
        snprintf(head, sizeof head, "blk.%d.", (int)block);
    if (expert >= 0)
        n = snprintf(buf, buf_len, "%s%s.%lld%s%s", head, fmt_stem, (long long)expert,
                     *leaf ? "." : "", leaf);
    else
        n = snprintf(buf, buf_len, "%s%s%s%s", head, fmt_stem, *leaf ? "." : "", leaf);
    return n >= 0 && (size_t)n < buf_len;
}

static bool keep_hf(const char *hf, char *buf, size_t buf_len, st_name_result *res)
{
    res->block = -1;
    res->known = false;
    int n = snprintf(buf, buf_len, "%s", hf);
    return n >= 0 && (size_t)n < buf_len;
}

/* Map the part of a name after "blk.N." */
static bool map_block(const char *body, int32_t block, bool rwkv_style, const st_name_ctx *ctx,
                      char *buf, size_t buf_len, st_name_result *res)
{
    res->block = block;
    const char *original = body;
    /* lift "experts.E." out so per-expert tensors share their role's stem */
    char without_expert[512];
    int64_t expert = -1;
    const char *ex = strstr(body, "experts.");
    if (ex) {
        int64_t e;
        const char *after = parse_index(ex + 8, &e);
        size_t head = (size_t)(ex + 8 - body);
        if (after && head + strlen(after) < sizeof without_expert) {
            memcpy(without_expert, body, head);
            strcpy(without_expert + head, after);
            body = without_expert;
            expert = e;
        }
    }
    const char *leaf = "";
    const char *stem = lookup(BLOCK_NAMES, sizeof BLOCK_NAMES / sizeof BLOCK_NAMES[0], body, &leaf);
    /* gemma2/3 and gpt-oss norm after attention, not before the FFN */
    bool gemma_norms = ctx && (ctx->arch == HR_ARCH_GEMMA2 || ctx->arch == HR_ARCH_GEMMA3 ||
                               ctx->arch == HR_ARCH_GPT_OSS);
    if (stem && gemma_norms && strcmp(stem, "ffn_norm") == 0 &&
        strncmp(body, "post_attention_layernorm", 24) == 0)
        stem = "post_attention_norm";
    if (stem) {
        res->known = true;
        /* bare nn.Parameters (gpt-oss experts, sinks) are weights in GGUF */
        size_t sl = strlen(stem);
        if (!*leaf && ((sl > 5 && strcmp(stem + sl - 5, "_exps") == 0) ||
                       strcmp(stem, "attn_sinks") == 0))
            leaf = "weight";
        return emit(buf, buf_len, stem, leaf, block, expert);
    }
    /* RWKV: attention.* is the time mix, feed_forward.* the channel mix */
    if (ctx && (ctx->arch == HR_ARCH_RWKV6 || ctx->arch == HR_ARCH_RWKV7))
        rwkv_style = true;
    if (rwkv_style && strncmp(body, "attention.", 10) == 0) {
        res->known = true;
        int n = snprintf(buf, buf_len, "blk.%d.time_mix_%s", (int)block, body + 10);
        return n >= 0 && (size_t)n < buf_len;
    }
    if (strncmp(body, "feed_forward.", 13) == 0) {
        res->known = true;
        int n = snprintf(buf, buf_len, "blk.%d.channel_mix_%s", (int)block, body + 13);
        return n >= 0 && (size_t)n < buf_len;
    }
    /* unknown but inside a block: keep the HF text under the block prefix */
    res->known = false;
    int n = snprintf(buf, buf_len, "blk.%d.%s", (int)block, original);
    return n >= 0 && (size_t)n < buf_len;
}

bool st_map_name(const char *hf, const st_name_ctx *ctx, char *buf, size_t buf_len,
                 st_name_result *res)
{
    res->block = -1;
    res->known = false;
    res->past_layers = false;
    const char *s = hf;
    if (strncmp(s, "lm_head.", 8) == 0 || strncmp(s, "embed_out.", 10) == 0)
        goto top_level; /* outside the "model." prefix by design */
    for (size_t i = 0; i < sizeof MODEL_PREFIXES / sizeof MODEL_PREFIXES[0]; i++) {
        size_t n = strlen(MODEL_PREFIXES[i]);
        if (strncmp(s, MODEL_PREFIXES[i], n) == 0) {
            s += n;
            break;
        }
    }
    for (size_t i = 0; i < sizeof BLOCK_CONTAINERS / sizeof BLOCK_CONTAINERS[0]; i++) {
        size_t n = strlen(BLOCK_CONTAINERS[i]);
        if (strncmp(s, BLOCK_CONTAINERS[i], n) != 0)
            continue;
        int64_t block;
        const char *body = parse_index(s + n, &block);
        if (!body)
            break;
        if (ctx && ctx->n_layer && block >= (int64_t)ctx->n_layer) {
            bool ok = keep_hf(hf, buf, buf_len, res); /* e.g. a DeepSeek MTP layer */
            res->past_layers = true;
            return ok;
        }
        if (block == 0 && strcmp(body, "pre_ln.weight") == 0) {
            /* RWKV's input norm lives in block 0 but is the model's input norm */
            res->known = true;
            int w = snprintf(buf, buf_len, "token_embd_norm.weight");
            return w >= 0 && (size_t)w < buf_len;
        }
        if (block == 0 && strcmp(body, "pre_ln.bias") == 0) {
            res->known = true;
            int w = snprintf(buf, buf_len, "token_embd_norm.bias");
            return w >= 0 && (size_t)w < buf_len;
        }
        bool rwkv_style = strcmp(BLOCK_CONTAINERS[i], "blocks.") == 0;
        return map_block(body, (int32_t)block, rwkv_style, ctx, buf, buf_len, res);
    }
top_level:;
    const char *leaf = "";
    const char *stem = lookup(TOP_NAMES, sizeof TOP_NAMES / sizeof TOP_NAMES[0], s, &leaf);
    if (!stem)
        return keep_hf(hf, buf, buf_len, res);
    res->known = true;
    return emit(buf, buf_len, stem, leaf, -1, -1);
}
