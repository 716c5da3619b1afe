/* llama-quantize's choice of tensor type, ported from llama.cpp
 * src/llama-quant.cpp (tensor_allows_quantization, llama_tensor_get_type,
 * llama_tensor_get_type_impl, tensor_type_fallback) with default params:
 * no imatrix, no overrides, output tensor quantized, not pure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "headroom/quant.h"
#include "model/model_internal.h"
#include "model/weight_pad.h"
#include "quant_internal.h"

typedef enum category {
    CAT_TOKEN_EMBD, CAT_ATTN_Q, CAT_ATTN_V, CAT_ATTN_K, CAT_ATTN_QKV, CAT_ATTN_KV_B,
    CAT_ATTN_OUTPUT, CAT_FFN_UP, CAT_FFN_GATE, CAT_FFN_DOWN, CAT_OUTPUT, CAT_OTHER
} category;

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static bool contains(const char *s, const char *part) { return strstr(s, part) != NULL; }

/* RWKV's small 2-D mixing weights: the converter keeps them F32 and
 * llama-quantize leaves them alone. */
static bool is_rwkv_small(const char *name)
{
    static const char *const SMALL[] = {
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
        "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
        "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight",
        "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
        "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
    };
    for (size_t i = 0; i < sizeof SMALL / sizeof SMALL[0]; i++)
        if (contains(name, SMALL[i]))
            return true;
    return false;
}

/* Rare names llama-quantize skips; only looked for when the role says nothing. */
static bool is_other_excluded(const char *name)
{
    static const char *const SKIP[] = {
        "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
        "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
        "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
        ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
        "ssm_conv1d", "ffn_gate_inp.weight",
    };
    for (size_t i = 0; i < sizeof SKIP / sizeof SKIP[0]; i++)
        if (contains(name, SKIP[i]))
            return true;
    return is_rwkv_small(name);
}

bool hr_quant_allows(const char *name, uint32_t n_dims, hr_role role)
{
    if (n_dims < 2 || !name || !ends_with(name, "weight"))
        return false;
    switch (role) {
    case HR_ROLE_NORM:
    case HR_ROLE_OUTPUT_NORM:
        return !contains(name, "_norm.weight");
    case HR_ROLE_FFN_GATE_INP:
    case HR_ROLE_POS_EMBD:
    case HR_ROLE_TOKEN_TYPES:
    case HR_ROLE_SSM_CONV1D:
        return false;
    case HR_ROLE_TIME_MIX:
        return !is_rwkv_small(name);
    case HR_ROLE_OTHER:
        return !contains(name, "_norm.weight") && !is_other_excluded(name);
    default:
        return true;
    }
}

bool hr_quant_source_is_f32(const char *name, uint32_t n_dims, hr_role role)
{
    if (n_dims <= 1 || !name || !ends_with(name, ".weight") || ends_with(name, "_norm.weight"))
        return true;
    switch (role) {
    case HR_ROLE_FFN_GATE_INP:
    case HR_ROLE_POS_EMBD:
    case HR_ROLE_TOKEN_TYPES:
    case HR_ROLE_SSM_CONV1D:
        return true;
    case HR_ROLE_TIME_MIX:
        return is_rwkv_small(name);
    default:
        return false;
    }
}

static hr_role tensor_role(const hr_tensor *t)
{
    return t->role != HR_ROLE_OTHER ? (hr_role)t->role : hr_role_from_name(t->name);
}

/* tensor_get_category: broad categories by name (substring rules), read
 * from the role where the role already says it. */
static category tensor_category(const hr_tensor *t, hr_role role)
{
    switch (role) {
    case HR_ROLE_OUTPUT: return strcmp(t->name, "output.weight") == 0 ? CAT_OUTPUT : CAT_OTHER;
    case HR_ROLE_TOKEN_EMBD:
        return strcmp(t->name, "token_embd.weight") == 0 ? CAT_TOKEN_EMBD : CAT_OTHER;
    case HR_ROLE_ATTN_QKV: return CAT_ATTN_QKV;
    case HR_ROLE_ATTN_KV_B: return CAT_ATTN_KV_B;
    case HR_ROLE_ATTN_V: return CAT_ATTN_V;
    case HR_ROLE_ATTN_K: return CAT_ATTN_K;
    case HR_ROLE_ATTN_Q: return CAT_ATTN_Q;
    case HR_ROLE_ATTN_OUTPUT: return CAT_ATTN_OUTPUT;
    case HR_ROLE_FFN_UP: case HR_ROLE_FFN_UP_EXPS: case HR_ROLE_FFN_UP_SHEXP: return CAT_FFN_UP;
    case HR_ROLE_FFN_GATE: case HR_ROLE_FFN_GATE_EXPS: case HR_ROLE_FFN_GATE_SHEXP:
    case HR_ROLE_FFN_GATE_UP_EXPS: return CAT_FFN_GATE;
    case HR_ROLE_FFN_DOWN: case HR_ROLE_FFN_DOWN_EXPS: case HR_ROLE_FFN_DOWN_SHEXP:
        return CAT_FFN_DOWN;
    case HR_ROLE_OTHER: break;
    default: return CAT_OTHER;
    }
    const char *n = t->name;
    if (strcmp(n, "per_layer_token_embd.weight") == 0) return CAT_TOKEN_EMBD;
    if (contains(n, "attn_qkv.weight")) return CAT_ATTN_QKV;
    if (contains(n, "attn_kv_b.weight")) return CAT_ATTN_KV_B;
    if (contains(n, "attn_v.weight")) return CAT_ATTN_V;
    if (contains(n, "attn_k.weight")) return CAT_ATTN_K;
    if (contains(n, "attn_q.weight")) return CAT_ATTN_Q;
    if (contains(n, "attn_output.weight")) return CAT_ATTN_OUTPUT;
    if (contains(n, "ffn_up")) return CAT_FFN_UP;
    if (contains(n, "ffn_gate")) return CAT_FFN_GATE;
    if (contains(n, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

static bool category_is_attn_v(category c)
{
    return c == CAT_ATTN_V || c == CAT_ATTN_QKV || c == CAT_ATTN_KV_B;
}

static bool use_more_bits(int i_layer, int n_layers)
{
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 ||
           (i_layer - n_layers / 8) % 3 == 2;
}

/* Block size of a type; cached per walk for ggml ids (block_known: the
 * ids looked up so far). */
static inline int64_t block_of(hr_quant_ctx *c, hr_type type)
{
    if ((unsigned)type < HR_QUANT_TYPE_CACHE) {
        if (!(c->block_known >> type & 1)) {
            const hr_type_info *info = hr_type_get(type);
            c->block[type] = info && info->block_size && !info->special_size
                                 ? (uint16_t)info->block_size : 1;
            c->block_bytes[type] = info && !info->special_size ? (uint16_t)info->block_bytes : 0;
            if (info && info->quantized && !info->special_size)
                c->block_pads |= 1ull << type;
            else
                c->block_pads &= ~(1ull << type);
            c->block_known |= 1ull << type;
        }
        return c->block[type];
    }
    const hr_type_info *info = hr_type_get(type);
    return info && info->block_size ? info->block_size : 1;
}

static uint32_t model_n_gqa(const hr_model *m)
{
    uint32_t h = m->n_head, kv = m->n_head_kv;
    if (m->layers && m->n_layer > 0) {
        h = m->layers[0].n_head;
        kv = m->layers[0].n_head_kv;
    }
    return kv ? h / kv : 0;
}

/* layer_info: MoE models read the layer from the name (experts are not
 * consecutive in old Mixtral files); dense models use the running count. */
static int layer_of(const hr_tensor *t, const hr_model *m, int counter)
{
    if (m->n_expert > 1) {
        int32_t blk = t->layer >= 0 ? t->layer : hr_tensor_block_index(t->name);
        if (blk >= 0)
            return blk;
    }
    return counter;
}

/* llama.cpp marks an 80-layer llama with GQA as LLM_TYPE_70B. */
static bool is_llama_70b(const hr_model *m)
{
    return m->arch == HR_ARCH_LLAMA && m->n_layer == 80 && m->n_head != m->n_head_kv;
}

#define F(x) (ftype == HR_FTYPE_MOSTLY_##x)

/* The IQ1 / IQ2 ftypes, whose rules come before the categories' own. */
static bool is_iq2_family(hr_ftype ftype)
{
    return F(IQ2_XXS) || F(IQ2_XS) || F(IQ1_S) || F(IQ2_S) || F(IQ2_M) || F(IQ1_M);
}

/* llama_tensor_get_type_impl for the output tensor (or a tied token_embd). */
static hr_type output_rule(hr_quant_ctx *c, const hr_tensor *t, hr_type new_type)
{
    const hr_ftype ftype = c->ftype;
    if (F(MXFP4_MOE))
        return HR_TYPE_Q8_0;
    if (t->ne[0] % block_of(c, new_type) != 0)
        return HR_TYPE_Q8_0;
    if (F(IQ2_XXS) || F(IQ2_XS) || F(IQ3_XXS) || F(IQ1_S) || F(IQ2_S) || F(IQ2_M) || F(IQ1_M))
        return HR_TYPE_Q5_K;
    return new_type != HR_TYPE_Q8_0 ? HR_TYPE_Q6_K : new_type;
}

/* llama_tensor_get_type_impl, a category at a time: llama.cpp's chain of
 * tests (the output rule, then MXFP4_MOE, token_embd, the IQ1 / IQ2
 * ftypes, then each category's own rules) split by category, each case
 * keeping its tests in llama.cpp's order; within a case the ftypes tested
 * are distinct, so a switch over them picks the same branch. */
static inline __attribute__((always_inline)) hr_type
type_impl(hr_quant_ctx *c, hr_quant_state *qs, const hr_tensor *t, category cat, hr_type new_type)
{
    const hr_model *m = c->model;
    const hr_ftype ftype = c->ftype;
    const uint32_t n_expert_hp = m->n_expert;
    const uint32_t n_gqa = c->n_gqa;

    if (cat == CAT_OUTPUT || (cat == CAT_TOKEN_EMBD && !qs->has_output_weight))
        return output_rule(c, t, new_type);
    if (F(MXFP4_MOE))
        return t->ne[2] > 1 ? HR_TYPE_MXFP4 : HR_TYPE_Q8_0;
    const bool iq2 = c->iq2_family;
    switch (cat) {
    case CAT_TOKEN_EMBD:
        if (F(IQ2_XXS) || F(IQ2_XS) || F(IQ1_S) || F(IQ1_M))
            new_type = HR_TYPE_Q2_K;
        else if (F(IQ2_S) || F(IQ2_M) || F(IQ3_XXS))
            new_type = HR_TYPE_IQ3_S;
        else if (F(TQ1_0) || F(TQ2_0))
            new_type = HR_TYPE_Q4_K;
        return new_type;
    case CAT_ATTN_V: case CAT_ATTN_QKV: case CAT_ATTN_KV_B:
        if (iq2) {
            if (n_gqa >= 4 || n_expert_hp >= 4)
                new_type = HR_TYPE_Q4_K;
            else
                new_type = F(IQ2_S) || F(IQ2_M) ? HR_TYPE_IQ3_S : HR_TYPE_Q2_K;
            ++qs->i_attention_wv;
            return new_type;
        }
        switch (ftype) {
        case HR_FTYPE_MOSTLY_Q2_K:
            new_type = n_gqa >= 4 ? HR_TYPE_Q4_K : HR_TYPE_Q3_K;
            break;
        case HR_FTYPE_MOSTLY_Q2_K_S:
            if (n_gqa >= 4)
                new_type = HR_TYPE_Q4_K;
            break;
        case HR_FTYPE_MOSTLY_IQ3_XXS:
            new_type = n_gqa >= 4 ? HR_TYPE_Q4_K : HR_TYPE_IQ3_S; /* no imatrix */
            break;
        case HR_FTYPE_MOSTLY_IQ3_XS: case HR_FTYPE_MOSTLY_IQ3_S:
            if (n_gqa >= 4)
                new_type = HR_TYPE_Q4_K;
            break;
        case HR_FTYPE_MOSTLY_IQ3_M: new_type = HR_TYPE_Q4_K; break;
        case HR_FTYPE_MOSTLY_Q3_K_M:
            new_type = qs->i_attention_wv < 2 ? HR_TYPE_Q5_K : HR_TYPE_Q4_K;
            break;
        case HR_FTYPE_MOSTLY_Q3_K_L: new_type = HR_TYPE_Q5_K; break;
        case HR_FTYPE_MOSTLY_IQ4_NL: case HR_FTYPE_MOSTLY_IQ4_XS:
            if (n_gqa >= 4)
                new_type = HR_TYPE_Q5_K;
            break;
        case HR_FTYPE_MOSTLY_Q4_K_M: case HR_FTYPE_MOSTLY_Q5_K_M:
            if (use_more_bits(qs->i_attention_wv, qs->n_attention_wv))
                new_type = HR_TYPE_Q6_K;
            break;
        case HR_FTYPE_MOSTLY_Q4_K_S:
            if (qs->i_attention_wv < 4)
                new_type = HR_TYPE_Q5_K;
            break;
        default: break;
        }
        if (c->is_70b && (new_type == HR_TYPE_Q3_K || new_type == HR_TYPE_Q4_K))
            new_type = HR_TYPE_Q5_K; /* 8 heads share attn_v: more bits cost little */
        if (n_expert_hp == 8)
            new_type = HR_TYPE_Q8_0;
        ++qs->i_attention_wv;
        return new_type;
    case CAT_ATTN_K:
        if (iq2)
            return n_expert_hp == 8 ? HR_TYPE_Q4_K : new_type;
        if (n_expert_hp == 8)
            new_type = HR_TYPE_Q8_0;
        else if (F(IQ3_XS))
            new_type = HR_TYPE_IQ3_XXS;
        else if (F(IQ3_XXS))
            new_type = HR_TYPE_IQ2_S;
        return new_type;
    case CAT_ATTN_Q:
        if (iq2)
            return new_type;
        if (F(IQ3_XS))
            new_type = HR_TYPE_IQ3_XXS;
        else if (F(IQ3_XXS))
            new_type = HR_TYPE_IQ2_S;
        return new_type;
    case CAT_FFN_DOWN: {
        if (iq2) {
            if (qs->i_ffn_down < qs->n_ffn_down / 8)
                new_type = F(IQ2_S) || F(IQ2_M) ? HR_TYPE_IQ3_S : HR_TYPE_Q2_K;
            ++qs->i_ffn_down;
            return new_type;
        }
        const int i_layer = layer_of(t, m, qs->i_ffn_down), n_layer = qs->n_ffn_down;
        switch (ftype) {
        case HR_FTYPE_MOSTLY_Q2_K: new_type = HR_TYPE_Q3_K; break;
        case HR_FTYPE_MOSTLY_Q2_K_S:
            if (i_layer < n_layer / 8)
                new_type = HR_TYPE_Q4_K;
            break;
        case HR_FTYPE_MOSTLY_IQ3_XXS:
            new_type = i_layer < n_layer / 8 ? HR_TYPE_Q4_K : HR_TYPE_Q3_K;
            break;
        case HR_FTYPE_MOSTLY_Q3_K_M:
            new_type = i_layer < n_layer / 16 ? HR_TYPE_Q5_K : HR_TYPE_Q4_K; /* not falcon */
            break;
        case HR_FTYPE_MOSTLY_IQ3_M:
            if (i_layer < n_layer / 8 || (n_expert_hp == 8 && use_more_bits(i_layer, n_layer)))
                new_type = HR_TYPE_Q4_K;
            break;
        case HR_FTYPE_MOSTLY_Q3_K_L: new_type = HR_TYPE_Q5_K; break;
        case HR_FTYPE_MOSTLY_Q4_K_M:
            if (use_more_bits(i_layer, n_layer))
                new_type = HR_TYPE_Q6_K;
            break;
        case HR_FTYPE_MOSTLY_IQ4_NL: case HR_FTYPE_MOSTLY_IQ4_XS:
            if (i_layer < n_layer / 8)
                new_type = HR_TYPE_Q5_K;
            break;
        case HR_FTYPE_MOSTLY_Q5_K_M:
            if (use_more_bits(i_layer, n_layer))
                new_type = HR_TYPE_Q6_K;
            break;
        case HR_FTYPE_MOSTLY_Q4_K_S:
            if (i_layer < n_layer / 8)
                new_type = HR_TYPE_Q5_K;
            break;
        default: break;
        }
        ++qs->i_ffn_down;
        return new_type;
    }
    case CAT_ATTN_OUTPUT:
        if (iq2) {
            if (n_expert_hp == 8)
                new_type = HR_TYPE_Q5_K;
            else if (F(IQ1_S) || F(IQ1_M))
                new_type = HR_TYPE_IQ2_XXS;
            else if (F(IQ2_S) || F(IQ2_M))
                new_type = HR_TYPE_IQ3_S;
            return new_type;
        }
        if (n_expert_hp == 8) {
            if (F(Q2_K) || F(IQ3_XS) || F(IQ3_XXS) || F(Q3_K_S) || F(Q3_K_M) || F(IQ4_NL) ||
                F(Q4_K_S) || F(Q4_K_M) || F(IQ3_S) || F(IQ3_M) || F(IQ4_XS))
                new_type = HR_TYPE_Q5_K;
        } else {
            if (F(Q2_K)) new_type = HR_TYPE_Q3_K;
            else if (F(IQ3_XXS)) new_type = HR_TYPE_IQ3_S;
            else if (F(Q3_K_M)) new_type = HR_TYPE_Q4_K;
            else if (F(Q3_K_L)) new_type = HR_TYPE_Q5_K;
            else if (F(IQ3_M)) new_type = HR_TYPE_Q4_K;
        }
        return new_type;
    case CAT_FFN_GATE: {
        if (iq2)
            return new_type; /* (the IQ1 / IQ2 rules neither read nor step this counter) */
        const int i_layer = layer_of(t, m, qs->i_ffn_gate), n_layer = qs->n_ffn_gate;
        if (F(IQ3_XS) && i_layer >= n_layer / 8 && i_layer < 7 * n_layer / 8)
            new_type = HR_TYPE_IQ3_XXS;
        ++qs->i_ffn_gate;
        return new_type;
    }
    case CAT_FFN_UP: {
        if (iq2)
            return new_type;
        const int i_layer = layer_of(t, m, qs->i_ffn_up), n_layer = qs->n_ffn_up;
        if (F(IQ3_XS) && i_layer >= n_layer / 8 && i_layer < 7 * n_layer / 8)
            new_type = HR_TYPE_IQ3_XXS;
        ++qs->i_ffn_up;
        return new_type;
    }
    default:
        return new_type;
    }
    /* (the ATTN_QKV-only branch of llama.cpp is unreachable: attn_qkv takes
     * the attn_v branch above) */
}

#undef F

/* tensor_type_fallback: rows that do not fill whole blocks of the target. */
static hr_type type_fallback_slow(hr_quant_ctx *c, int64_t ncols, hr_type target);

static inline hr_type type_fallback(hr_quant_ctx *c, const hr_tensor *t, hr_type target)
{
    const int64_t ncols = t->ne[0];
    return ncols % block_of(c, target) == 0 ? target : type_fallback_slow(c, ncols, target);
}

static hr_type type_fallback_slow(hr_quant_ctx *c, int64_t ncols, hr_type target)
{
    hr_type ret;
    switch (target) {
    case HR_TYPE_IQ1_S: case HR_TYPE_IQ1_M: case HR_TYPE_IQ2_XXS: case HR_TYPE_IQ2_XS:
    case HR_TYPE_IQ2_S: case HR_TYPE_IQ3_XXS: case HR_TYPE_IQ3_S: case HR_TYPE_IQ4_XS:
        ret = HR_TYPE_IQ4_NL;
        break;
    case HR_TYPE_Q2_0: case HR_TYPE_Q2_K: case HR_TYPE_Q3_K: case HR_TYPE_TQ1_0:
    case HR_TYPE_TQ2_0:
        ret = HR_TYPE_Q4_0;
        break;
    case HR_TYPE_Q4_K: ret = HR_TYPE_Q5_0; break;
    case HR_TYPE_Q5_K: ret = HR_TYPE_Q5_1; break;
    case HR_TYPE_Q6_K: ret = HR_TYPE_Q8_0; break;
    default: ret = HR_TYPE_F16; break; /* llama-quantize aborts; F16 always fits */
    }
    if (ncols % block_of(c, ret) != 0)
        ret = HR_TYPE_F16;
    return ret;
}

static bool is_bitnet_ftype(hr_ftype f)
{
    return f == HR_FTYPE_BITNET_I2_S || f == HR_FTYPE_BITNET_TL1 || f == HR_FTYPE_BITNET_TL2;
}

/* ggml_n_dims: trailing dimensions of 1 do not count. */
static uint32_t n_dims_of(const hr_tensor *t)
{
    uint32_t n = 1;
    for (uint32_t d = 1; d < 4; d++)
        if (t->ne[d] > 1)
            n = d + 1;
    return n;
}

/* Which counter_bits of run_key the rules of this ftype read (type_impl:
 * the attn_v counter, ffn_down / ffn_gate / ffn_up by counter or, for MoE,
 * by block index); 0 where no rule of the ftype reads a counter. */
static uint64_t run_key_mask(hr_ftype ftype)
{
    enum { LT2 = 1, LT4 = 2, LT16TH = 4, LT8TH = 8, GE7_8TH = 16, MORE_BITS = 32 };
#define ATTN(b) ((uint64_t)(b))
#define DOWN(b) ((uint64_t)(b) << 6 | (uint64_t)(b) << 24)
#define GATE_UP(b) ((uint64_t)(b) << 12 | (uint64_t)(b) << 18 | (uint64_t)(b) << 30 | \
                    (uint64_t)(b) << 36)
    switch (ftype) {
    case HR_FTYPE_MOSTLY_IQ2_XXS: case HR_FTYPE_MOSTLY_IQ2_XS: case HR_FTYPE_MOSTLY_IQ1_S:
    case HR_FTYPE_MOSTLY_IQ2_S: case HR_FTYPE_MOSTLY_IQ2_M: case HR_FTYPE_MOSTLY_IQ1_M:
        return DOWN(LT8TH);
    case HR_FTYPE_MOSTLY_Q3_K_M: return ATTN(LT2) | DOWN(LT16TH);
    case HR_FTYPE_MOSTLY_Q4_K_M:
    case HR_FTYPE_MOSTLY_Q5_K_M: return ATTN(MORE_BITS) | DOWN(MORE_BITS);
    case HR_FTYPE_MOSTLY_Q4_K_S: return ATTN(LT4) | DOWN(LT8TH);
    case HR_FTYPE_MOSTLY_Q2_K_S: case HR_FTYPE_MOSTLY_IQ3_XXS: case HR_FTYPE_MOSTLY_IQ4_NL:
    case HR_FTYPE_MOSTLY_IQ4_XS:
        return DOWN(LT8TH);
    case HR_FTYPE_MOSTLY_IQ3_M: return DOWN(LT8TH | MORE_BITS);
    case HR_FTYPE_MOSTLY_IQ3_XS: return GATE_UP(LT8TH | GE7_8TH);
    default: return 0;
    }
#undef ATTN
#undef DOWN
#undef GATE_UP
}

/* The ftype's facts of hr_quant_ctx (those hr_quant_ftype_row keeps). */
static void ctx_ftype(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype)
{
    c->default_type = hr_ftype_default_type(ftype);
    const hr_type_info *info = hr_type_get(c->default_type);
    if (!info)
        c->default_type = HR_TYPE_INVALID;
    c->default_quantized = info && info->quantized;
    c->bitnet = is_bitnet_ftype(ftype);
    c->iq2_family = is_iq2_family(ftype);
    c->by_rules = c->default_type != HR_TYPE_INVALID && !c->bitnet && c->default_quantized;
    c->run_key_mask = run_key_mask(ftype);
    if (m->n_expert > 1) {
        /* MoE layers' ffn tensors read their block index (layer_of), not
         * the ffn counters, but for the IQ1 / IQ2 ftypes' ffn_down rule,
         * which reads its counter alone */
        const uint64_t field = 63;
        c->run_key_mask &= ~(field << 12 | field << 18);
        c->run_key_mask &= c->iq2_family ? ~(field << 24) : ~(field << 6);
    } else {
        c->run_key_mask &= (1ull << 24) - 1; /* (dense: layer_of reads the counters) */
    }
}

/* hr_quant_ctx_init with these facts (hr_quant_facts_build's, before the
 * model has them). */
static void ctx_init_facts(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype,
                           const hr_quant_facts *facts)
{
    c->block_known = 0; /* (the cache's entries are written when looked up) */
    c->block_pads = 0;
    c->model = m;
    c->facts = facts;
    c->ftype = ftype;
    c->is_70b = is_llama_70b(m);
    c->n_gqa = model_n_gqa(m);
    const int slot = hr_quant_row_slot(ftype);
    c->row = facts && facts->ftype_row && slot >= 0 ? &facts->ftype_row[slot] : NULL;
    c->keyed_next = 0;
    c->run_next = 0;
    if (!c->row) {
        ctx_ftype(c, m, ftype);
        return;
    }
    c->default_type = c->row->default_type;
    c->default_quantized = c->row->default_quantized;
    c->bitnet = c->row->bitnet;
    c->iq2_family = c->row->iq2_family;
    c->by_rules = c->row->by_rules;
    c->run_key_mask = c->row->run_key_mask;
}

void hr_quant_ctx_init(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype)
{
    ctx_init_facts(c, m, ftype, hr_model_quant_facts(m));
}

/* What hr_quant_ctx_type reads: quantizable and its category, or else
 * whether a converter writes it as F32. */
static hr_quant_fact rule_fact(const hr_tensor *t, hr_role role)
{
    hr_quant_fact f = {0, CAT_OTHER};
    const uint32_t n_dims = n_dims_of(t);
    if (hr_quant_allows(t->name, n_dims, role)) {
        f.flags = HR_QF_ALLOWS;
        f.category = (uint8_t)tensor_category(t, role);
    } else if (hr_quant_source_is_f32(t->name, n_dims, role)) {
        f.flags = HR_QF_SOURCE_F32;
    }
    return f;
}

/* init_quantize_state_counters: attn_v-like tensors are counted by name. */
static uint8_t state_flags(const hr_tensor *t, hr_role role)
{
    uint8_t flags = 0;
    if (!t->name)
        return 0;
    if ((role == HR_ROLE_ATTN_V || role == HR_ROLE_ATTN_QKV || role == HR_ROLE_ATTN_KV_B) &&
        ends_with(t->name, ".weight"))
        flags |= HR_QF_COUNTS_WV;
    if (role == HR_ROLE_OUTPUT && strcmp(t->name, "output.weight") == 0)
        flags |= HR_QF_OUTPUT_WEIGHT;
    return flags;
}

uint8_t hr_quant_state_flags(const hr_tensor *t)
{
    return state_flags(t, tensor_role(t));
}

hr_quant_fact hr_quant_fact_of(const hr_tensor *t)
{
    const hr_role role = tensor_role(t);
    hr_quant_fact f = rule_fact(t, role);
    f.flags |= state_flags(t, role);
    return f;
}

/* The bytes its type and shape give (a projection keeping the type keeps
 * t->bytes; one changing it computes them). */
static bool canonical_bytes(const hr_tensor *t)
{
    uint64_t b;
    return hr_type_tensor_bytes(t->type, t->ne, &b, NULL) == HR_OK && b == t->bytes;
}

/* Whether a projection gives tensors a and b the same type and bytes
 * whatever the ftype, counters aside: same facts and shape, and the same
 * type and bytes, or both quantizable with their types' own sizes (the
 * rules then never read the source type, for a known ftype). */
static bool same_for_rules(const hr_tensor *a, hr_quant_fact fa, const hr_tensor *b,
                           hr_quant_fact fb)
{
    const uint8_t mask = (uint8_t)~(HR_QF_LAYER_START | HR_QF_LAYER_REPEATS);
    if ((fa.flags & mask) != (fb.flags & mask) || fa.category != fb.category ||
        a->ne[0] != b->ne[0] || a->ne[1] != b->ne[1] || a->ne[2] != b->ne[2] ||
        a->ne[3] != b->ne[3])
        return false;
    if (a->type == b->type && a->bytes == b->bytes)
        return true;
    return (fa.flags & HR_QF_ALLOWS) && canonical_bytes(a) && canonical_bytes(b);
}

/* At most HR_QUANT_COUNTED_MAX tensors of each counted category
 * (attn_v-like, ffn_down, ffn_gate, ffn_up; MoE layers with shared experts
 * have two of each ffn): the k of a category read its counter's values at
 * the layer start and the k - 1 after it. */
static bool counts_few(const hr_quant_fact *f, size_t n)
{
    int seen[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const category cat = (category)f[i].category;
        if (category_is_attn_v(cat)) seen[0]++;
        else if (cat == CAT_FFN_DOWN) seen[1]++;
        else if (cat == CAT_FFN_GATE) seen[2]++;
        else if (cat == CAT_FFN_UP) seen[3]++;
    }
    for (int k = 0; k < 4; k++)
        if (seen[k] > HR_QUANT_COUNTED_MAX)
            return false;
    return true;
}

/* Mark each layer whose tensors are consecutive (HR_QF_LAYER_START) and
 * those that repeat the layer just before them (HR_QF_LAYER_REPEATS), and
 * count the repeats after each layer (after: zeroed). */
static void mark_layer_runs(const hr_model *m, hr_quant_fact *f, uint32_t *len, uint32_t *after)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].layer >= 0 && (uint32_t)m->tensors[i].layer < m->n_layer)
            len[m->tensors[i].layer]++;
    int32_t prev_layer = -1; /* the marked layer run that ended at i */
    size_t prev_start = 0;
    for (size_t i = 0; i < m->n_tensors;) {
        const int32_t il = m->tensors[i].layer;
        size_t r = 1;
        while (i + r < m->n_tensors && m->tensors[i + r].layer == il)
            r++;
        if (il < 0 || (uint32_t)il >= m->n_layer || r != len[il] || r > HR_QUANT_RUN_MAX) {
            prev_layer = -1;
            i += r;
            continue;
        }
        f[i].flags |= HR_QF_LAYER_START;
        if (prev_layer >= 0 && prev_layer == il - 1 && len[prev_layer] == r &&
            prev_start + r == i && counts_few(f + i, r)) {
            bool same = true;
            for (size_t k = 0; k < r && same; k++)
                same = same_for_rules(&m->tensors[prev_start + k], f[prev_start + k],
                                      &m->tensors[i + k], f[i + k]);
            if (same) {
                f[i].flags |= HR_QF_LAYER_REPEATS;
                after[prev_layer] = 1; /* (counted on below) */
            }
        }
        prev_layer = il;
        prev_start = i;
        i += r;
    }
    /* a layer repeated by the next one is also followed by that one's repeats */
    for (uint32_t il = m->n_layer; il-- > 1;)
        if (after[il - 1])
            after[il - 1] += after[il];
}

/* The run_key fields a category's rules read (its counter, its block). */
static uint64_t category_fields(category cat)
{
    const uint64_t field = 63;
    if (category_is_attn_v(cat)) return field;
    if (cat == CAT_FFN_DOWN) return field << 6 | field << 24;
    if (cat == CAT_FFN_GATE) return field << 12 | field << 30;
    if (cat == CAT_FFN_UP) return field << 18 | field << 36;
    return 0;
}

/* type_impl on a probe (out of line: facts_build's one copy). */
static __attribute__((noinline)) hr_type probe_rules(hr_quant_ctx *c, hr_quant_state *st,
                                                     const hr_tensor *t, category cat)
{
    return type_impl(c, st, t, cat, c->default_type);
}

static void keyed_chains(hr_model *m, const hr_quant_fact *f, const uint32_t *len,
                         const uint32_t *after, const hr_quant_state *totals,
                         const hr_quant_ctx *c, hr_quant_ftype_row *rows, int id);
static void store_walks(hr_model *m, const hr_quant_facts *qf, hr_quant_ftype_row *rows);

/* hr_quant_ftype_row of each ftype id for m (categories: those of its
 * quantizable tensors; the kept walks come after, store_walks). A
 * category's outcome is fixed where its rules read no counter or block
 * (run_key_mask: the ftype reads no field of it), nor the tensor: not the
 * output rule (its row), nor MXFP4_MOE's (its experts); token_embd's holds
 * with an output.weight (else the output rule applies), a walk checks
 * that. A probe tensor gives it and its step. Ftypes whose rules read
 * counters keep their first chains' keys (keyed_chains). */
static hr_quant_ftype_row *ftype_rows_build(hr_model *m, const hr_quant_fact *f,
                                            const uint32_t *len, const uint32_t *after,
                                            uint32_t categories, const hr_quant_state *totals)
{
    hr_quant_ftype_row *rows = hr_model_arena_alloc(m, HR_QUANT_ROW_SLOTS * sizeof *rows);
    if (!rows)
        return NULL;
    hr_quant_ctx c;
    memset(&c, 0, sizeof c); /* (no facts, no row: the rules themselves) */
    c.model = m;
    c.is_70b = is_llama_70b(m);
    c.n_gqa = model_n_gqa(m);
    hr_tensor probe;
    memset(&probe, 0, sizeof probe);
    probe.name = "blk.0.probe.weight";
    probe.layer = 0;
    probe.ne[0] = 256;
    probe.ne[1] = probe.ne[2] = probe.ne[3] = 1;
    probe.type = HR_TYPE_F32;
    for (int id = 0; id < HR_QUANT_ROW_SLOTS; id++) {
        hr_quant_ftype_row *r = &rows[id];
        c.ftype = hr_quant_slot_ftype(id);
        ctx_ftype(&c, m, c.ftype);
        r->default_type = c.default_type;
        r->default_quantized = c.default_quantized;
        r->bitnet = c.bitnet;
        r->iq2_family = c.iq2_family;
        r->by_rules = c.by_rules;
        r->run_key_mask = c.run_key_mask;
        memset(r->fixed, HR_QUANT_DYNAMIC, sizeof r->fixed);
        memset(r->step, 0, sizeof r->step);
        r->n_keyed = 0;
        r->keyed = NULL;
        r->n_runs = 0;
        r->runs = NULL;
        if (!c.by_rules || c.ftype == HR_FTYPE_MOSTLY_MXFP4_MOE)
            continue;
        if (c.run_key_mask && len)
            keyed_chains(m, f, len, after, totals, &c, rows, id);
        for (uint32_t left = categories & ~(1u << CAT_OUTPUT); left; left &= left - 1) {
            const int k = __builtin_ctz(left);
            const category cat = (category)k;
            if (c.run_key_mask & category_fields(cat))
                continue;
            hr_quant_state st = *totals;
            const hr_type type = probe_rules(&c, &st, &probe, cat);
            if ((unsigned)type >= HR_QUANT_DYNAMIC)
                continue;
            r->fixed[k] = (uint8_t)type;
            r->step[k] = st.i_attention_wv ? 1 : st.i_ffn_down ? 2 : st.i_ffn_gate ? 3
                         : st.i_ffn_up ? 4 : 0;
        }
    }
    return rows;
}

hr_quant_facts *hr_quant_facts_build(hr_model *m)
{
    hr_quant_facts *qf = hr_model_arena_alloc(m, sizeof *qf);
    hr_quant_fact *f = m->n_tensors && m->n_tensors <= SIZE_MAX / sizeof *f
                           ? hr_model_arena_alloc(m, m->n_tensors * sizeof *f) : NULL;
    /* (n_layer entries cannot overflow: m->layers has as many, larger) */
    uint32_t *len = m->n_layer ? hr_model_arena_alloc(m, m->n_layer * sizeof *len) : NULL;
    uint32_t *after = m->n_layer ? hr_model_arena_alloc(m, m->n_layer * sizeof *after) : NULL;
    if (!qf || (m->n_tensors && !f) || (m->n_layer && (!len || !after)))
        return NULL;
    qf->n_attention_wv = 0;
    qf->has_output_weight = false;
    for (size_t i = 0; i < m->n_tensors; i++) {
        f[i] = hr_quant_fact_of(&m->tensors[i]);
        if (hr_tensor_is_layer_shared(&m->tensors[i]))
            f[i].flags |= HR_QF_LAYER_SHARED;
        if (f[i].flags & HR_QF_COUNTS_WV)
            qf->n_attention_wv++;
        if (f[i].flags & HR_QF_OUTPUT_WEIGHT)
            qf->has_output_weight = true;
    }
    if (len)
        mark_layer_runs(m, f, len, after); /* arena memory is zeroed */
    uint32_t categories = 0;
    for (size_t i = 0; i < m->n_tensors; i++)
        if ((f[i].flags & HR_QF_ALLOWS) && f[i].category < HR_QUANT_CATEGORIES)
            categories |= 1u << f[i].category;
    hr_quant_state totals; /* (a probe's state: counters at 0, an output.weight) */
    memset(&totals, 0, sizeof totals);
    totals.has_output_weight = true;
    totals.n_attention_wv = qf->n_attention_wv;
    totals.n_ffn_down = totals.n_ffn_gate = totals.n_ffn_up = (int)m->n_layer;
    qf->tensor = f;
    qf->layer_len = len;
    qf->repeats_after = after;
    /* (NULL: the rules each time) */
    hr_quant_ftype_row *rows = ftype_rows_build(m, f, len, after, categories, &totals);
    qf->ftype_row = rows;
    if (rows)
        store_walks(m, qf, rows);
    return qf;
}

/* The precomputed facts when t is one of the model's own tensors (callers
 * may pass a copy, or walk before finalize); computed now otherwise. */
static hr_quant_fact fact_for(const hr_quant_ctx *c, const hr_tensor *t)
{
    if (c->facts) {
        const uintptr_t at = (uintptr_t)t, base = (uintptr_t)c->model->tensors;
        const size_t n = c->model->n_tensors;
        if (at >= base && (at - base) / sizeof *t < n && (at - base) % sizeof *t == 0)
            return c->facts->tensor[(at - base) / sizeof *t];
    }
    return rule_fact(t, tensor_role(t));
}

/* The mix rules for a quantizable tensor (ftypes with a quantized default
 * type, BitNet's aside): one call per tensor. */
static __attribute__((noinline)) hr_type rules_type(hr_quant_ctx *c, hr_quant_state *st,
                                                    const hr_tensor *t, category cat)
{
    return type_fallback(c, t, type_impl(c, st, t, cat, c->default_type));
}

/* One step of counter k - 1 (hr_quant_ftype_row's step; 0: none). */
static inline void step_counter(hr_quant_state *st, unsigned k)
{
    switch (k) {
    case 1: st->i_attention_wv++; break;
    case 2: st->i_ffn_down++; break;
    case 3: st->i_ffn_gate++; break;
    case 4: st->i_ffn_up++; break;
    default: break;
    }
}

/* walk: a projection walk's (hr_quant_ctx_walk), which reads the model's
 * ftype row where it has the outcome; hr_quant_ctx_type applies the rules
 * themselves (the reference the tests hold the walks to). */
static inline __attribute__((always_inline)) hr_type
type_of_fact(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t, hr_quant_fact f, bool walk)
{
    if (!(f.flags & HR_QF_ALLOWS)) {
        /* converted from a checkpoint: the converter wrote these as F32 */
        if (c->model->source != HR_SOURCE_GGUF && (f.flags & HR_QF_SOURCE_F32))
            return HR_TYPE_F32;
        return t->type;
    }
    const category cat = (category)f.category;
    if (c->by_rules) {
        if (walk && c->row && c->row->fixed[cat] != HR_QUANT_DYNAMIC &&
            (cat != CAT_TOKEN_EMBD || st->has_output_weight)) {
            step_counter(st, c->row->step[cat]);
            return type_fallback(c, t, (hr_type)c->row->fixed[cat]);
        }
        return rules_type(c, st, t, cat);
    }
    if (c->default_type == HR_TYPE_INVALID)
        return t->type;
    if (c->bitnet) {
        /* BitNet's llama-quantize keeps the embeddings and head in F16 */
        if (cat == CAT_TOKEN_EMBD || cat == CAT_OUTPUT)
            return HR_TYPE_F16;
        return c->default_type;
    }
    return c->default_type; /* (not quantized: F32, F16, BF16) */
}

hr_type hr_quant_ctx_type(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t)
{
    return type_of_fact(c, st, t, fact_for(c, t), false);
}

static inline hr_status ctx_bytes(hr_quant_ctx *c, hr_type type, const int64_t ne[4],
                                  uint64_t *out, hr_error *err)
{
    if ((unsigned)type < HR_QUANT_TYPE_CACHE) {
        const int64_t blk = block_of(c, type);
        const uint64_t bb = c->block_bytes[type];
        if (bb && ne[0] >= 0 && ne[0] % blk == 0 && ne[1] >= 0 && ne[2] >= 0 && ne[3] >= 0) {
            uint64_t v = (uint64_t)(ne[0] / blk);
            if (!__builtin_mul_overflow(v, bb, &v) && !__builtin_mul_overflow(v, (uint64_t)ne[1], &v) &&
                !__builtin_mul_overflow(v, (uint64_t)ne[2], &v) &&
                !__builtin_mul_overflow(v, (uint64_t)ne[3], &v)) {
                *out = v;
                return HR_OK;
            }
        }
    }
    return hr_type_tensor_bytes(type, ne, out, err); /* errors and special sizes */
}

hr_status hr_quant_ctx_bytes(hr_quant_ctx *c, hr_type type, const int64_t ne[4], uint64_t *out,
                             hr_error *err)
{
    return ctx_bytes(c, type, ne, out, err);
}

uint64_t hr_quant_ctx_row_pad(hr_quant_ctx *c, hr_type type, int64_t ne0)
{
    const int64_t r = ne0 % HR_MATRIX_ROW_PADDING;
    if (r == 0)
        return 0;
    if ((unsigned)type >= HR_QUANT_TYPE_CACHE)
        return hr_weight_row_pad_bytes(type, ne0);
    const int64_t blk = block_of(c, type);
    if (!(c->block_pads >> type & 1))
        return 0; /* (not quantized, or BitNet's own sizes) */
    /* hr_type_row_bytes of the elements up to the next 512: 0 where they
     * are no whole blocks (its error) */
    const int64_t n = HR_MATRIX_ROW_PADDING - r;
    return n % blk != 0 ? 0 : (uint64_t)(n / blk) * c->block_bytes[type];
}

/* The type and bytes of tensor t (its facts f). */
static inline hr_status project_one(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t,
                                    hr_quant_fact f, hr_type *type, uint64_t *bytes,
                                    hr_error *err)
{
    *type = type_of_fact(c, st, t, f, true);
    *bytes = t->bytes;
    return *type != t->type ? ctx_bytes(c, *type, t->ne, bytes, err) : HR_OK;
}

hr_status hr_quant_ctx_walk(hr_quant_ctx *c, hr_quant_state *st, size_t first, size_t n,
                            hr_type *types, uint64_t *bytes, hr_error *err)
{
    const hr_model *m = c->model;
    if (first > m->n_tensors || n > m->n_tensors - first)
        return hr_error_set(err, HR_ERR_ARG, "tensors %zu..%zu beyond the model's %zu", first,
                            first + n, m->n_tensors);
    const hr_quant_fact *facts = c->facts ? c->facts->tensor + first : NULL;
    for (size_t i = 0; i < n; i++) {
        const hr_tensor *t = &m->tensors[first + i];
        const hr_status s = project_one(c, st, t, facts ? facts[i] : rule_fact(t, tensor_role(t)),
                                        &types[i], &bytes[i], err);
        if (s != HR_OK)
            return s;
    }
    return HR_OK;
}

/* Whether the rules read (and step) a counter for tensors of this category. */
static bool category_is_counted(category cat)
{
    return category_is_attn_v(cat) || cat == CAT_FFN_DOWN || cat == CAT_FFN_GATE ||
           cat == CAT_FFN_UP;
}

/* The counter step of one quantizable tensor of category cat under the
 * rules (type_impl): attn_v-like, ffn_down, ffn_gate, ffn_up; the IQ1 /
 * IQ2 rules step no ffn_gate / ffn_up. */
static void count_step(category cat, bool iq2_family, int step[4])
{
    if (category_is_attn_v(cat))
        step[0]++;
    else if (cat == CAT_FFN_DOWN)
        step[1]++;
    else if (cat == CAT_FFN_GATE && !iq2_family)
        step[2]++;
    else if (cat == CAT_FFN_UP && !iq2_family)
        step[3]++;
}

/* hr_quant_ctx_walk of a layer repeating the layer of variant `from` (its
 * chain) into variant v: only its counted tensors can differ from that
 * one's (the rules read counters, and the block index, for those alone,
 * and step them there), so the others are copied. A failure is the walk's
 * (the copied tensors were sized). */
static hr_status walk_counted(hr_quant_ctx *c, hr_quant_state *st, size_t first, size_t n,
                              hr_quant_run *run, int from, int v, hr_error *err)
{
    memcpy(run->own_type[v], run->type[from], n * sizeof run->own_type[v][0]);
    memcpy(run->own_bytes[v], run->bytes[from], n * sizeof run->own_bytes[v][0]);
    run->type[v] = run->own_type[v];
    run->bytes[v] = run->own_bytes[v];
    const hr_quant_fact *f = c->facts->tensor + first;
    for (size_t i = 0; i < n; i++) {
        if (!(f[i].flags & HR_QF_ALLOWS) || !category_is_counted((category)f[i].category))
            continue;
        const hr_status s = project_one(c, st, &c->model->tensors[first + i], f[i],
                                        &run->own_type[v][i], &run->own_bytes[v][i], err);
        if (s != HR_OK)
            return s;
    }
    return HR_OK;
}

/* The thresholds of a counter's tests (use_more_bits, type_impl) for n. */
typedef struct counter_limits {
    int n16, n8, n78; /* n / 16, n / 8, 7 n / 8 */
} counter_limits;

static counter_limits limits_of(int n)
{
    return (counter_limits){n / 16, n / 8, 7 * n / 8};
}

/* Those of each counter's total (attn_v, ffn_down, ffn_gate, ffn_up). */
static void key_limits(const hr_quant_state *st, counter_limits lim[4])
{
    lim[0] = limits_of(st->n_attention_wv);
    lim[1] = limits_of(st->n_ffn_down);
    lim[2] = limits_of(st->n_ffn_gate);
    lim[3] = limits_of(st->n_ffn_up);
}

/* The counter tests of the rules (use_more_bits and the thresholds of
 * type_impl) for counter x of the total lim was made from, those of
 * `want` only (the bits of a run_key field the ftype reads): equal bits,
 * equal outcomes. */
static inline bool more_bits(int x, const counter_limits *lim) /* use_more_bits */
{
    return x < lim->n8 || x >= lim->n78 || (x - lim->n8) % 3 == 2;
}

static inline uint64_t counter_bits(int x, const counter_limits *lim, uint64_t want)
{
    if (want == 32) /* (Q4_K_M, Q5_K_M: use_more_bits alone) */
        return (uint64_t)more_bits(x, lim) << 5;
    uint64_t b = 0;
    if (want & 1) b |= (uint64_t)(x < 2);
    if (want & 2) b |= (uint64_t)(x < 4) << 1;
    if (want & 4) b |= (uint64_t)(x < lim->n16) << 2;
    if (want & 8) b |= (uint64_t)(x < lim->n8) << 3;
    if (want & 16) b |= (uint64_t)(x >= lim->n78) << 4;
    if (want & 32) b |= (uint64_t)more_bits(x, lim) << 5;
    return b;
}

/* Counter values at a layer's start: attn_v, ffn_down, ffn_gate, ffn_up. */
static void counters_of(const hr_quant_state *st, int out[4])
{
    out[0] = st->i_attention_wv;
    out[1] = st->i_ffn_down;
    out[2] = st->i_ffn_gate;
    out[3] = st->i_ffn_up;
}

static void set_counters(hr_quant_state *st, const int x[4])
{
    st->i_attention_wv = x[0];
    st->i_ffn_down = x[1];
    st->i_ffn_gate = x[2];
    st->i_ffn_up = x[3];
}

/* Everything a repeated layer's projected types depend on beyond its
 * tensors: the counters x it starts with and, for MoE models (layer_of),
 * its block index il. Each counted category occurs reads[f] times in the
 * layer (its counter's step over it; 0: not at all), its tensors reading
 * x[f], x[f] + 1, ...: the bits of each value the ftype's rules read, 6
 * per value (fields 0..3: the counters, 4..6: il against the ffn counters'
 * totals). One value a counter (multi false, the usual layer): each field
 * at 6 f; otherwise packed field after field (key_width: how many bits). */
static uint64_t run_key(const hr_quant_ctx *c, const counter_limits lim[4], const int x[4],
                        const int reads[4], bool multi, int32_t il)
{
    const uint64_t mask = c->run_key_mask, field = 63;
    uint64_t k = 0;
    if (!multi) {
        if (mask & field)
            k |= counter_bits(x[0], &lim[0], mask & field);
        if (mask & field << 6)
            k |= counter_bits(x[1], &lim[1], mask >> 6 & field) << 6;
        if (mask & field << 12)
            k |= counter_bits(x[2], &lim[2], mask >> 12 & field) << 12;
        if (mask & field << 18)
            k |= counter_bits(x[3], &lim[3], mask >> 18 & field) << 18;
        if (mask >> 24) { /* (MoE) */
            if (mask & field << 24)
                k |= counter_bits(il, &lim[1], mask >> 24 & field) << 24;
            if (mask & field << 30)
                k |= counter_bits(il, &lim[2], mask >> 30 & field) << 30;
            if (mask & field << 36)
                k |= counter_bits(il, &lim[3], mask >> 36 & field) << 36;
        }
        return k;
    }
    unsigned pos = 0;
    for (int f = 0; f < 4; f++) {
        const uint64_t want = mask >> (6 * f) & field;
        if (!want)
            continue;
        for (int i = 0; i < (reads[f] > 0 ? reads[f] : 1); i++, pos += 6)
            k |= counter_bits(x[f] + i, &lim[f], want) << pos;
    }
    for (int f = 4; f < 7; f++) {
        const uint64_t want = mask >> (6 * f) & field;
        if (want) {
            k |= counter_bits(il, &lim[f - 3], want) << pos;
            pos += 6;
        }
    }
    return k;
}

/* The bits run_key packs for these reads (at most 64 for a chain to go on). */
static unsigned key_width(const hr_quant_ctx *c, const int reads[4])
{
    unsigned w = 0;
    for (int f = 0; f < 7; f++)
        if (c->run_key_mask >> (6 * f) & 63)
            w += 6 * (unsigned)(f < 4 && reads[f] > 1 ? reads[f] : 1);
    return w;
}

/* How many layers from one on, whose tensors read the values x .. x + n - 1
 * of a counter stepping by s a layer (s >= 1), give each value's bits in
 * `want` as in that layer: up to the first layer where one crosses a
 * threshold a bit tests (the layer straddling it stands alone); in the
 * middle of use_more_bits, up to its end, the bits repeating every three
 * layers (*periodic set; each layer alike when s is a multiple of 3). */
static inline uint32_t bits_span(int x, int n, int s, const counter_limits *lim, uint64_t want,
                                 bool *periodic)
{
    const int last = x + n - 1; /* (the layer's last value) */
    uint32_t d = UINT32_MAX;
#define UP_TO(t)                                                                         \
    do {                                                                                 \
        const int t_ = (t);                                                              \
        if (x < t_) {                                                                    \
            const uint32_t j_ = last >= t_ ? 1 : s == 1 ? (uint32_t)(t_ - last)          \
                                : (uint32_t)((t_ - last + s - 1) / s);                   \
            if (j_ < d)                                                                  \
                d = j_;                                                                  \
        }                                                                                \
    } while (0)
    if (want & 1) UP_TO(2);
    if (want & 2) UP_TO(4);
    if (want & 4) UP_TO(lim->n16);
    if (want & 8) UP_TO(lim->n8);
    if (want & 16) UP_TO(lim->n78);
    if (want & 32) {
        if (x < lim->n8) {
            UP_TO(lim->n8);
        } else if (x < lim->n78) {
            UP_TO(lim->n78);
            if (s % 3 != 0)
                *periodic = true;
        }
    }
#undef UP_TO
    return d;
}

/* How many layers of a chain from a layer on (x: its counters, il: its
 * block) surely have its key, or repeat the keys of their first three
 * (*period 3): the counters step by `step` a layer (the tensors of their
 * category in it: at most HR_QUANT_COUNTED_MAX) and the block index by 1,
 * each field staying on its side of the thresholds it tests. */
static uint32_t key_span(const hr_quant_ctx *c, const counter_limits lim[4], const int x[4],
                         const int step[4], int32_t il, int *period)
{
    uint32_t d = UINT32_MAX;
    bool periodic = false;
    *period = 1;
    const int n_fields = c->run_key_mask >> 24 ? 7 : 4; /* (only MoE models read il) */
    for (int f = 0; f < n_fields; f++) {
        const uint64_t want = c->run_key_mask >> (6 * f) & 63;
        if (!want)
            continue;
        /* fields 4..6: the block index against the ffn counters' totals */
        const int s = f < 4 ? step[f] : 1;
        if (s == 0)
            continue;
        if (s < 0 || s > HR_QUANT_COUNTED_MAX)
            return 1;
        const uint32_t df = f < 4 ? bits_span(x[f], s, s, &lim[f], want, &periodic)
                                  : bits_span(il, 1, 1, &lim[f - 3], want, &periodic);
        if (df < d)
            d = df;
    }
    if (periodic)
        *period = 3;
    return d;
}

/* The counters at layer j of a chain (x: at its first layer). */
static void counters_at(const int x[4], const int step[4], uint32_t j, int out[4])
{
    for (int k = 0; k < 4; k++)
        out[k] = x[k] + step[k] * (int)j;
}

/* The key segments of a chain of n_layers repeating layers from its first
 * (k->layer; counters k->x, stepping by k->step a layer; lim from the
 * totals k->n), for an ftype whose rules read counters: segments of layers
 * whose keys stay or repeat every three, a variant for each distinct key
 * in order of first appearance. Ends the chain early (k->n_layers) where a
 * key would need a fifth variant or the segments run out. Keys only: no
 * tensor is projected. */
static void keyed_segments(const hr_quant_ctx *c, const counter_limits lim[4], bool multi,
                           uint32_t n_layers, hr_quant_keyed *k)
{
    uint64_t vkey[HR_QUANT_RUN_SLOTS];
    vkey[0] = run_key(c, lim, k->x, k->step, multi, k->layer);
    k->rep[0] = 0;
    k->n_variants = 1;
    k->n_segs = 0;
    uint32_t j = 0;
    int xj[4] = {k->x[0], k->x[1], k->x[2], k->x[3]}; /* the counters at layer j */
    while (j < n_layers) {
        if (k->n_segs == HR_QUANT_RUN_SEGS)
            break;
        int period;
        const int32_t il = k->layer + (int32_t)j;
        uint32_t span = key_span(c, lim, xj, k->step, il, &period);
        if (span > n_layers - j)
            span = n_layers - j;
        if ((uint32_t)period > span)
            period = (int)span;
        hr_quant_seg g = {j, span, (uint8_t)period, {0, 0, 0}};
        int xr[4] = {xj[0], xj[1], xj[2], xj[3]}; /* the counters at layer j + r */
        for (int r = 0; r < period; r++) {
            if (r > 0)
                for (int f = 0; f < 4; f++)
                    xr[f] += k->step[f];
            const uint64_t key =
                j + (uint32_t)r == 0 ? vkey[0] : run_key(c, lim, xr, k->step, multi, il + r);
            int v = 0;
            while (v < k->n_variants && vkey[v] != key)
                v++;
            if (v == k->n_variants) {
                if (v == HR_QUANT_RUN_SLOTS) {
                    if (r > 0) {
                        g.len = g.period = (uint8_t)r; /* (r < 3) */
                        k->seg[k->n_segs++] = g;
                    }
                    k->n_layers = j + (uint32_t)r;
                    return;
                }
                vkey[v] = key;
                k->rep[v] = j + (uint32_t)r;
                k->n_variants++;
            }
            g.variant[r] = (uint8_t)v;
        }
        if (k->n_segs > 0 && g.period == 1 && k->seg[k->n_segs - 1].period == 1 &&
            k->seg[k->n_segs - 1].variant[0] == g.variant[0])
            k->seg[k->n_segs - 1].len += span; /* (the same outcome goes on) */
        else
            k->seg[k->n_segs++] = g;
        j += span;
        for (int f = 0; f < 4; f++)
            xj[f] += k->step[f] * (int)span;
    }
    k->n_layers = j;
}

/* The chain's keys a walk meets at this layer with these counters: the
 * model's (its row's, in layer order), else computed into *own; NULL
 * where a key would be wider than 64 bits. */
static const hr_quant_keyed *chain_keys(hr_quant_ctx *c, const hr_quant_state *st, int32_t layer,
                                        const int x[4], const int step[4], uint32_t n_layers,
                                        hr_quant_keyed *own)
{
    const int n[4] = {st->n_attention_wv, st->n_ffn_down, st->n_ffn_gate, st->n_ffn_up};
    if (c->row) {
        while (c->keyed_next < c->row->n_keyed && c->row->keyed[c->keyed_next].layer < layer)
            c->keyed_next++;
        if (c->keyed_next < c->row->n_keyed) {
            const hr_quant_keyed *k = &c->row->keyed[c->keyed_next];
            if (k->layer == layer && memcmp(k->x, x, sizeof k->x) == 0 &&
                memcmp(k->step, step, sizeof k->step) == 0 &&
                memcmp(k->n, n, sizeof k->n) == 0)
                return k;
        }
    }
    const bool multi = step[0] > 1 || step[1] > 1 || step[2] > 1 || step[3] > 1;
    if (multi && key_width(c, step) > 64)
        return NULL; /* (no ftype's rules read that many bits) */
    own->layer = layer;
    memcpy(own->x, x, sizeof own->x);
    memcpy(own->step, step, sizeof own->step);
    memcpy(own->n, n, sizeof own->n);
    counter_limits lim[4]; /* (the totals stay as they are through a walk) */
    key_limits(st, lim);
    keyed_segments(c, lim, multi, n_layers, own);
    return own;
}

/* A chain's keys found for an earlier ftype id with the same key mask
 * (ftypes share masks: keyed_segments reads nothing else), or NULL. */
static const hr_quant_keyed *keyed_found(const hr_quant_ftype_row *rows, int id,
                                         const hr_quant_keyed *want, uint64_t mask)
{
    for (int i = 0; i < id; i++) {
        if (rows[i].run_key_mask != mask)
            continue;
        for (int k = 0; k < rows[i].n_keyed; k++) {
            const hr_quant_keyed *e = &rows[i].keyed[k];
            if (e->layer == want->layer && memcmp(e->x, want->x, sizeof e->x) == 0 &&
                memcmp(e->step, want->step, sizeof e->step) == 0 &&
                memcmp(e->n, want->n, sizeof e->n) == 0)
                return e;
        }
    }
    return NULL;
}

/* hr_quant_ftype_row's keyed chains for the ftype of c (whose rules read
 * counters): a walk's counters followed without projecting (each
 * quantizable attn_v-like, ffn_down, ffn_gate and ffn_up tensor steps its
 * counter, but the IQ1 / IQ2 rules step no ffn_gate / ffn_up one), the
 * keys of each chain as a walk finds them, up to HR_QUANT_KEYED_MAX
 * chains. (A walk takes them only where its counters agree.) */
static void keyed_chains(hr_model *m, const hr_quant_fact *f, const uint32_t *len,
                         const uint32_t *after, const hr_quant_state *totals,
                         const hr_quant_ctx *c, hr_quant_ftype_row *rows, int id)
{
    hr_quant_keyed found[HR_QUANT_KEYED_MAX];
    memset(found, 0, sizeof found); /* (compared whole below) */
    int n_found = 0;
    counter_limits lim[4];
    key_limits(totals, lim);
    const int n[4] = {totals->n_attention_wv, totals->n_ffn_down, totals->n_ffn_gate,
                      totals->n_ffn_up};
    int x[4] = {totals->i_attention_wv, totals->i_ffn_down, totals->i_ffn_gate,
                totals->i_ffn_up};
    for (size_t i = 0; i < m->n_tensors && n_found < HR_QUANT_KEYED_MAX;) {
        int step[4] = {0, 0, 0, 0};
        if (!(f[i].flags & HR_QF_LAYER_START)) {
            if (f[i].flags & HR_QF_ALLOWS)
                count_step((category)f[i].category, c->iq2_family, step);
            for (int k = 0; k < 4; k++)
                x[k] += step[k];
            i++;
            continue;
        }
        const int32_t layer = m->tensors[i].layer;
        const size_t n_len = len[layer];
        for (size_t t = i; t < i + n_len; t++)
            if (f[t].flags & HR_QF_ALLOWS)
                count_step((category)f[t].category, c->iq2_family, step);
        uint32_t n_layers = 1;
        const bool multi = step[0] > 1 || step[1] > 1 || step[2] > 1 || step[3] > 1;
        if (after[layer] > 0 && !(multi && key_width(c, step) > 64)) {
            hr_quant_keyed *k = &found[n_found++];
            k->layer = layer;
            memcpy(k->x, x, sizeof k->x);
            memcpy(k->step, step, sizeof k->step);
            memcpy(k->n, n, sizeof k->n);
            /* (the chain's length is the layer's: the same inputs) */
            const hr_quant_keyed *same = keyed_found(rows, id, k, c->run_key_mask);
            if (same)
                *k = *same;
            else
                keyed_segments(c, lim, multi, 1 + after[layer], k);
            n_layers = k->n_layers;
        }
        for (int k = 0; k < 4; k++)
            x[k] += step[k] * (int)n_layers;
        i += n_len * n_layers;
    }
    if (!n_found)
        return;
    /* an earlier ftype's chains when they are the same (ftypes share masks) */
    for (int i = 0; i < id; i++)
        if (rows[i].n_keyed == n_found &&
            memcmp(rows[i].keyed, found, (size_t)n_found * sizeof found[0]) == 0) {
            rows[id].keyed = rows[i].keyed;
            rows[id].n_keyed = n_found;
            return;
        }
    hr_quant_keyed *own = hr_model_arena_alloc(m, (size_t)n_found * sizeof *own);
    if (!own)
        return; /* (the walks compute them) */
    memcpy(own, found, (size_t)n_found * sizeof *own);
    rows[id].keyed = own;
    rows[id].n_keyed = n_found;
}

/* A run's layers past its first for an ftype whose rules read counters:
 * the chain's keys, and a projection of each variant past the first at the
 * layer it first comes at (its counted tensors again). A layer that cannot
 * be sized ends the run before it (the next run starts there). Returns
 * the layers the run covers. */
static uint32_t extend_keyed(hr_quant_ctx *c, const hr_quant_state *st, hr_quant_run *run,
                             const int x[4], const int step[4], uint32_t n_layers)
{
    hr_quant_keyed own;
    const hr_quant_keyed *k = chain_keys(c, st, run->layer, x, step, n_layers, &own);
    if (!k)
        return 1;
    memcpy(run->own_seg, k->seg, (size_t)k->n_segs * sizeof run->own_seg[0]);
    run->seg = run->own_seg;
    run->n_segs = k->n_segs;
    run->n_variants = 1;
    for (int v = 1; v < k->n_variants; v++) {
        const uint32_t j = k->rep[v];
        hr_quant_state at = *st;
        int xr[4];
        counters_at(x, step, j, xr);
        set_counters(&at, xr);
        if (walk_counted(c, &at, run->first + j * run->n, run->n, run, 0, v, NULL) != HR_OK) {
            /* cut before layer j: its segment keeps its first r layers */
            int sg = 0;
            while (sg < run->n_segs && run->own_seg[sg].start + run->own_seg[sg].len <= j)
                sg++;
            const uint32_t r = j - run->own_seg[sg].start; /* (< its period: first comes) */
            if (r > 0) {
                run->own_seg[sg].len = run->own_seg[sg].period = (uint8_t)r;
                sg++;
            }
            run->n_segs = sg;
            return j;
        }
        run->n_variants++;
    }
    return k->n_layers;
}

static bool same_state(const hr_quant_state *a, const hr_quant_state *b)
{
    return a->i_attention_wv == b->i_attention_wv && a->n_attention_wv == b->n_attention_wv &&
           a->i_ffn_down == b->i_ffn_down && a->n_ffn_down == b->n_ffn_down &&
           a->i_ffn_gate == b->i_ffn_gate && a->n_ffn_gate == b->n_ffn_gate &&
           a->i_ffn_up == b->i_ffn_up && a->n_ffn_up == b->n_ffn_up &&
           a->has_output_weight == b->has_output_weight;
}

/* The model's kept run at tensor `first` when the walk is where the kept
 * walk was (the same state): its projections pointed at, the counters
 * stepped over it. */
static bool kept_run(hr_quant_ctx *c, hr_quant_state *st, size_t first, hr_quant_run *run)
{
    const hr_quant_ftype_row *r = c->row;
    while (c->run_next < r->n_runs && r->runs[c->run_next].first < first)
        c->run_next++;
    if (c->run_next == r->n_runs)
        return false;
    const hr_quant_stored_run *k = &r->runs[c->run_next];
    if (k->first != first || !same_state(&k->before, st))
        return false;
    run->first = first;
    run->n = k->n;
    run->layer = k->layer;
    run->n_layers = k->n_layers;
    run->n_variants = k->n_variants;
    run->n_segs = k->n_segs;
    run->seg = k->seg;
    for (int v = 0; v < k->n_variants; v++) {
        run->type[v] = k->type + (size_t)v * k->n;
        run->bytes[v] = k->bytes + (size_t)v * k->n;
    }
    set_counters(st, k->after);
    c->run_next++;
    return true;
}

/* The tensors a walk projects at least (a chain's first layer, the other
 * tensors): the kept walks' size before any ftype's keys. */
static size_t walk_tensors(const hr_model *m, const hr_quant_facts *qf)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_tensors;) {
        if (!(qf->tensor[i].flags & HR_QF_LAYER_START)) {
            n++;
            i++;
            continue;
        }
        const int32_t layer = m->tensors[i].layer;
        n += qf->layer_len[layer];
        i += (size_t)qf->layer_len[layer] * (1 + qf->repeats_after[layer]);
    }
    return n;
}

/* Scratch of store_walks: one walk's runs, segments and projections. */
typedef struct walk_scratch {
    hr_quant_run run;
    hr_quant_stored_run kept[HR_QUANT_STORED_RUNS];
    hr_quant_seg seg[HR_QUANT_STORED_RUNS * HR_QUANT_RUN_SEGS];
    hr_type type[HR_QUANT_STORED_TENSORS];
    uint64_t bytes[HR_QUANT_STORED_TENSORS];
} walk_scratch;

/* One ftype's walk from state `start` into w; false where it does not fit
 * or a tensor cannot be sized. */
static bool walk_into(hr_quant_ctx *c, const hr_quant_state *start, walk_scratch *w,
                      int *n_runs, size_t *n_tensors, size_t *n_segs)
{
    const hr_model *m = c->model;
    hr_quant_run *run = &w->run;
    hr_quant_state st = *start;
    *n_runs = 0;
    *n_tensors = *n_segs = 0;
    run->n = run->n_layers = 0;
    for (size_t i = 0; i < m->n_tensors; i += run->n * run->n_layers) {
        if (*n_runs == HR_QUANT_STORED_RUNS)
            return false;
        hr_quant_stored_run *k = &w->kept[*n_runs];
        k->before = st;
        if (hr_quant_ctx_next_run(c, &st, i, run, NULL) != HR_OK ||
            *n_tensors + (size_t)run->n_variants * run->n > HR_QUANT_STORED_TENSORS)
            return false;
        k->first = run->first;
        k->n = run->n;
        k->layer = run->layer;
        k->n_layers = run->n_layers;
        k->n_variants = run->n_variants;
        k->n_segs = run->n_segs;
        counters_of(&st, k->after);
        /* (offsets into the scratch until the walk is kept) */
        k->type = w->type + *n_tensors;
        k->bytes = w->bytes + *n_tensors;
        k->seg = w->seg + *n_segs;
        for (int v = 0; v < run->n_variants; v++) {
            memcpy(w->type + *n_tensors, run->type[v], run->n * sizeof w->type[0]);
            memcpy(w->bytes + *n_tensors, run->bytes[v], run->n * sizeof w->bytes[0]);
            *n_tensors += run->n;
        }
        memcpy(w->seg + *n_segs, run->seg, (size_t)run->n_segs * sizeof w->seg[0]);
        *n_segs += (size_t)run->n_segs;
        ++*n_runs;
    }
    return *n_runs > 0;
}

/* The walk of each ftype from hr_quant_state_init's state, kept in its row
 * where it has at most HR_QUANT_STORED_RUNS runs and
 * HR_QUANT_STORED_TENSORS projections and sizes every tensor (models whose
 * walks project more keep none): a plan reads it instead of walking. */
static void store_walks(hr_model *m, const hr_quant_facts *qf, hr_quant_ftype_row *rows)
{
    if (walk_tensors(m, qf) > HR_QUANT_STORED_TENSORS / 4)
        return;
    walk_scratch *w = malloc(sizeof *w); /* (~17 KiB: off the stack) */
    if (!w)
        return;
    hr_quant_state start;
    memset(&start, 0, sizeof start);
    start.n_attention_wv = qf->n_attention_wv;
    start.has_output_weight = qf->has_output_weight;
    start.n_ffn_down = start.n_ffn_gate = start.n_ffn_up = (int)m->n_layer;
    for (int slot = 0; slot < HR_QUANT_ROW_SLOTS; slot++) {
        if (rows[slot].default_type == HR_TYPE_INVALID)
            continue;
        hr_quant_ctx c;
        ctx_init_facts(&c, m, hr_quant_slot_ftype(slot), qf);
        int n_runs;
        size_t n_tensors, n_segs;
        if (!walk_into(&c, &start, w, &n_runs, &n_tensors, &n_segs))
            continue;
        /* one block: runs, bytes, types, segments (each size a multiple of
         * the next one's alignment; the sizes are bounded by the scratch's) */
        const size_t runs_size = (size_t)n_runs * sizeof(hr_quant_stored_run);
        const size_t bytes_size = n_tensors * sizeof(uint64_t);
        const size_t type_size = n_tensors * sizeof(hr_type);
        unsigned char *block =
            hr_model_arena_alloc(m, runs_size + bytes_size + type_size + n_segs * sizeof *w->seg);
        if (!block)
            break;
        hr_quant_stored_run *runs = (hr_quant_stored_run *)(void *)block;
        uint64_t *bytes = (uint64_t *)(void *)(block + runs_size);
        hr_type *type = (hr_type *)(void *)(block + runs_size + bytes_size);
        hr_quant_seg *seg = (hr_quant_seg *)(void *)(block + runs_size + bytes_size + type_size);
        memcpy(type, w->type, n_tensors * sizeof *type);
        memcpy(bytes, w->bytes, n_tensors * sizeof *bytes);
        memcpy(seg, w->seg, n_segs * sizeof *seg);
        for (int k = 0; k < n_runs; k++) {
            runs[k] = w->kept[k];
            runs[k].type = type + (w->kept[k].type - w->type);
            runs[k].bytes = bytes + (w->kept[k].bytes - w->bytes);
            runs[k].seg = seg + (w->kept[k].seg - w->seg);
        }
        rows[slot].runs = runs;
        rows[slot].n_runs = n_runs;
    }
    free(w);
}

hr_status hr_quant_ctx_next_run(hr_quant_ctx *c, hr_quant_state *st, size_t first,
                                hr_quant_run *run, hr_error *err)
{
    const hr_model *m = c->model;
    const hr_quant_facts *qf = c->facts;
    if (first >= m->n_tensors)
        return hr_error_set(err, HR_ERR_ARG, "tensor %zu beyond the model's %zu", first,
                            m->n_tensors);
    if (c->row && c->row->n_runs && kept_run(c, st, first, run))
        return HR_OK;
    size_t n = 1;
    int32_t layer = -1;
    uint32_t more = 0; /* layers after this one that repeat it */
    if (qf && (qf->tensor[first].flags & HR_QF_LAYER_START)) {
        layer = m->tensors[first].layer;
        n = qf->layer_len[layer];
        /* (an unknown ftype keeps every source type: layers differ in them) */
        if (c->default_type != HR_TYPE_INVALID)
            more = qf->repeats_after[layer];
    } else {
        while (first + n < m->n_tensors && n < HR_QUANT_RUN_MAX &&
               !(qf && (qf->tensor[first + n].flags & HR_QF_LAYER_START)))
            n++;
    }
    run->first = first;
    run->n = n;
    run->layer = layer;
    run->n_layers = 1;
    run->n_variants = 1;
    run->n_segs = 1;
    run->own_seg[0] = (hr_quant_seg){0, 1, 1, {0, 0, 0}};
    run->seg = run->own_seg;
    run->type[0] = run->own_type[0];
    run->bytes[0] = run->own_bytes[0];
    int x[4];
    counters_of(st, x);
    const hr_status s =
        hr_quant_ctx_walk(c, st, first, n, run->own_type[0], run->own_bytes[0], err);
    if (s != HR_OK || more == 0)
        return s;
    int step[4];
    counters_of(st, step);
    for (int k = 0; k < 4; k++)
        step[k] -= x[k]; /* the same in every layer of a chain */
    uint32_t n_layers = 1 + more;
    if (c->run_key_mask) {
        n_layers = extend_keyed(c, st, run, x, step, n_layers);
    } else {
        run->own_seg[0].len = n_layers; /* no rule reads a counter: every layer alike */
    }
    run->n_layers = n_layers;
    int end[4];
    counters_at(x, step, n_layers, end);
    set_counters(st, end);
    return HR_OK;
}

hr_type hr_quant_tensor_type(hr_quant_state *st, const hr_model *m, const hr_tensor *t,
                             hr_ftype ftype)
{
    hr_quant_ctx c;
    hr_quant_ctx_init(&c, m, ftype);
    return hr_quant_ctx_type(&c, st, t);
}
