/* llama-quantize's choice of tensor type, ported from llama.cpp
 * src/llama-quant.cpp (tensor_allows_quantization, llama_tensor_get_type,
 * llama_tensor_get_type_impl, tensor_type_fallback) with default params:
 * no imatrix, no overrides, output tensor quantized, not pure. Also what
 * the rules say about a tensor or an ftype before any walk (its category,
 * which counters an ftype reads), which quant_facts.c keeps per model and
 * quant_walk.c reads. (tensor_type_fallback is quant_internal.h's: the
 * walks inline it.) */
#include <stdint.h>
#include <string.h>

#include "headroom/quant.h"
#include "model/model_internal.h"
#include "quant_internal.h"

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
    case HR_ROLE_SHORTCONV_CONV: /* llama-quantize skips "shortconv.conv.weight" */
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

static bool use_more_bits(int i_layer, int n_layers)
{
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 ||
           (i_layer - n_layers / 8) % 3 == 2;
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
void hr_quant_ctx_ftype(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype)
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

/* What hr_quant_ctx_type reads: quantizable and its category, or else
 * whether a converter writes it as F32. */
hr_quant_fact hr_quant_rule_fact(const hr_tensor *t, hr_role role)
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
    hr_quant_fact f = hr_quant_rule_fact(t, role);
    f.flags |= state_flags(t, role);
    return f;
}

/* type_impl on a probe (out of line: facts_build's one copy). */
__attribute__((noinline)) hr_type hr_quant_probe_rules(hr_quant_ctx *c, hr_quant_state *st,
                                                       const hr_tensor *t, category cat)
{
    return type_impl(c, st, t, cat, c->default_type);
}

/* The mix rules for a quantizable tensor (ftypes with a quantized default
 * type, BitNet's aside): one call per tensor. */
__attribute__((noinline)) hr_type hr_quant_rules_type(hr_quant_ctx *c, hr_quant_state *st,
                                                      const hr_tensor *t, category cat)
{
    return type_fallback(c, t, type_impl(c, st, t, cat, c->default_type));
}

hr_type hr_quant_tensor_type(hr_quant_state *st, const hr_model *m, const hr_tensor *t,
                             hr_ftype ftype)
{
    hr_quant_ctx c;
    hr_quant_ctx_init(&c, m, ftype);
    return hr_quant_ctx_type(&c, st, t);
}
