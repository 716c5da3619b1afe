/* config.json -> hf_config (cJSON). Keys follow transformers' config classes;
 * text_config (multimodal wrappers) is read first when present. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/file_io.h"
#include "hf_arch.h"
#include "hf_config.h"

/* Sanity caps: a config asking for more is corrupt, not a model. */
#define MAX_LAYERS 10000u
#define MAX_DIM (1u << 30)

typedef struct parse_ctx {
    const cJSON *text; /* text_config or root */
    const cJSON *root;
    const char *origin;
    hf_config *c;
    hr_error *err;
    hr_status status;
} parse_ctx;

static void cfg_warn(hf_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cfg_warn(hf_config *c, const char *fmt, ...)
{
    if (c->n_warnings >= (int)(sizeof c->warnings / sizeof c->warnings[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->warnings[c->n_warnings], sizeof c->warnings[0], fmt, ap);
    va_end(ap);
    c->n_warnings++;
}

static const cJSON *find(const parse_ctx *p, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->text, key);
    if ((!v || cJSON_IsNull(v)) && p->text != p->root)
        v = cJSON_GetObjectItemCaseSensitive(p->root, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* First present key of a NULL-terminated list as a bounded whole number.
 * Returns true when found; a present but bad value records an error. */
static bool get_uint(parse_ctx *p, uint32_t max, uint32_t *out, ...)
{
    va_list ap;
    va_start(ap, out);
    const char *key;
    bool found = false;
    while (!found && (key = va_arg(ap, const char *)) != NULL) {
        const cJSON *v = find(p, key);
        if (!v)
            continue;
        found = true;
        double d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
        if (!cJSON_IsNumber(v) || !isfinite(d) || d < 0.0 || floor(d) != d || d > (double)max) {
            if (p->status == HR_OK)
                p->status = hr_error_set(p->err, HR_ERR_FORMAT,
                                         "%s: '%s' is not a whole number in [0, %u]", p->origin,
                                         key, max);
            found = false;
            break;
        }
        *out = (uint32_t)d;
    }
    va_end(ap);
    return found;
}

static bool get_bool(parse_ctx *p, const char *key, bool *out)
{
    const cJSON *v = find(p, key);
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

static float get_float(parse_ctx *p, const char *key)
{
    const cJSON *v = find(p, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? (float)v->valuedouble : 0.0f;
}

static void copy_str(char *dst, size_t cap, const cJSON *v)
{
    if (cJSON_IsString(v) && v->valuestring)
        snprintf(dst, cap, "%s", v->valuestring);
}

static hr_type dtype_from_torch(const char *name)
{
    if (strncmp(name, "torch.", 6) == 0)
        name += 6;
    if (strcmp(name, "float32") == 0 || strcmp(name, "float") == 0)
        return HR_TYPE_F32;
    if (strcmp(name, "float16") == 0 || strcmp(name, "half") == 0)
        return HR_TYPE_F16;
    if (strcmp(name, "bfloat16") == 0)
        return HR_TYPE_BF16;
    if (strcmp(name, "float64") == 0)
        return HR_TYPE_F64;
    return HR_TYPE_INVALID;
}

static void parse_dtype(parse_ctx *p)
{
    hf_config *c = p->c;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->root, "torch_dtype");
    if (!cJSON_IsString(v))
        v = cJSON_GetObjectItemCaseSensitive(p->root, "dtype");
    if (!cJSON_IsString(v))
        v = find(p, "torch_dtype");
    if (!cJSON_IsString(v))
        v = find(p, "dtype");
    c->dtype = HR_TYPE_F32;
    if (!cJSON_IsString(v)) {
        cfg_warn(c, "no torch_dtype in config: float32 weights assumed");
        return;
    }
    copy_str(c->dtype_name, sizeof c->dtype_name, v);
    hr_type t = dtype_from_torch(v->valuestring);
    if (t == HR_TYPE_INVALID)
        cfg_warn(c, "torch_dtype '%.32s' not understood: float32 weights assumed",
                 v->valuestring);
    else
        c->dtype = t;
}

static void parse_quant(parse_ctx *p)
{
    hf_config *c = p->c;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(p->root, "quantization_config");
    if (!cJSON_IsObject(q))
        return;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(q, "quant_method");
    const char *m = cJSON_IsString(method) ? method->valuestring : "";
    parse_ctx sub = *p;
    sub.text = sub.root = q;
    uint32_t bits = 0, group = 0;
    if (strcasecmp(m, "gptq") == 0 || strcasecmp(m, "awq") == 0) {
        bool gptq = strcasecmp(m, "gptq") == 0;
        c->quant = gptq ? HF_QUANT_GPTQ : HF_QUANT_AWQ;
        if (!get_uint(&sub, 64, &bits, "bits", "w_bit", (const char *)NULL))
            bits = 4;
        /* group_size -1 means one group spanning each column */
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(q, "group_size");
        if (!g)
            g = cJSON_GetObjectItemCaseSensitive(q, "q_group_size");
        if (cJSON_IsNumber(g) && g->valuedouble >= 1.0 && g->valuedouble <= (double)MAX_DIM)
            group = (uint32_t)g->valuedouble;
        if (bits == 0 || bits > 16)
            bits = 4;
        c->quant_bits = bits;
        c->quant_group = group;
        if (group)
            snprintf(c->quant_name, sizeof c->quant_name, "%s %u-bit g%u", gptq ? "GPTQ" : "AWQ",
                     bits, group);
        else
            snprintf(c->quant_name, sizeof c->quant_name, "%s %u-bit", gptq ? "GPTQ" : "AWQ",
                     bits);
    } else if (strcasecmp(m, "bitsandbytes") == 0 || strcasecmp(m, "bitsandbytes_4bit") == 0 ||
               strcasecmp(m, "bitsandbytes_8bit") == 0 || !*m) {
        bool four = false, eight = false;
        get_bool(&sub, "load_in_4bit", &four);
        get_bool(&sub, "load_in_8bit", &eight);
        if (strcasecmp(m, "bitsandbytes_4bit") == 0)
            four = true;
        if (strcasecmp(m, "bitsandbytes_8bit") == 0)
            eight = true;
        if (four) {
            c->quant = HF_QUANT_BNB_4BIT;
            c->quant_bits = 4;
            get_bool(&sub, "bnb_4bit_use_double_quant", &c->quant_double);
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(q, "bnb_4bit_quant_type");
            bool fp4 = cJSON_IsString(t) && strcasecmp(t->valuestring, "fp4") == 0;
            snprintf(c->quant_name, sizeof c->quant_name, "bitsandbytes %s%s",
                     fp4 ? "FP4" : "NF4", c->quant_double ? " (double quant)" : "");
        } else if (eight) {
            c->quant = HF_QUANT_BNB_8BIT;
            c->quant_bits = 8;
            snprintf(c->quant_name, sizeof c->quant_name, "bitsandbytes 8-bit");
        } else if (*m) {
            c->quant = HF_QUANT_OTHER;
            snprintf(c->quant_name, sizeof c->quant_name, "bitsandbytes");
        }
    } else if (strcasecmp(m, "fp8") == 0) {
        c->quant = HF_QUANT_FP8;
        c->quant_bits = 8;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(q, "weight_block_size");
        if (cJSON_IsArray(b) && cJSON_GetArraySize(b) == 2) {
            const cJSON *b0 = cJSON_GetArrayItem(b, 0), *b1 = cJSON_GetArrayItem(b, 1);
            if (cJSON_IsNumber(b0) && cJSON_IsNumber(b1) && b0->valuedouble >= 1 &&
                b1->valuedouble >= 1 && b0->valuedouble <= MAX_DIM && b1->valuedouble <= MAX_DIM) {
                c->quant_block_out = (uint32_t)b0->valuedouble;
                c->quant_group = (uint32_t)b1->valuedouble;
            }
        }
        if (c->quant_group)
            snprintf(c->quant_name, sizeof c->quant_name, "FP8 block %ux%u", c->quant_block_out,
                     c->quant_group);
        else
            snprintf(c->quant_name, sizeof c->quant_name, "FP8");
    } else if (strcasecmp(m, "mxfp4") == 0) {
        c->quant = HF_QUANT_MXFP4;
        c->quant_bits = 4;
        snprintf(c->quant_name, sizeof c->quant_name, "MXFP4 (experts)");
    } else if (strcasecmp(m, "bitnet") == 0) {
        c->quant = HF_QUANT_BITNET;
        c->quant_bits = 2;
        snprintf(c->quant_name, sizeof c->quant_name, "BitNet ternary (packed 2-bit)");
    } else {
        c->quant = HF_QUANT_OTHER;
        snprintf(c->quant_name, sizeof c->quant_name, "%.40s", m);
        cfg_warn(c, "quantization '%.40s' not modelled: weights sized at torch_dtype", m);
    }
}

/* Which layers slide: layer_types when given, else the arch's pattern. */
static void parse_swa(parse_ctx *p, const hf_arch_traits *traits)
{
    hf_config *c = p->c;
    uint32_t window = 0;
    get_uint(p, UINT32_MAX, &window, "sliding_window", (const char *)NULL);
    const cJSON *types = find(p, "layer_types");
    bool llama_cpp_swa = traits && traits->swa_pattern > 0;
    uint32_t n_sliding = 0;
    if (cJSON_IsArray(types)) {
        if ((uint32_t)cJSON_GetArraySize(types) != c->n_layer) {
            cfg_warn(c, "layer_types has %d entries for %u layers: ignored",
                     cJSON_GetArraySize(types), c->n_layer);
        } else {
            c->layer_swa = calloc(c->n_layer ? c->n_layer : 1, 1);
            if (!c->layer_swa) {
                p->status = hr_error_set(p->err, HR_ERR_NOMEM, "%s: out of memory", p->origin);
                return;
            }
            uint32_t i = 0;
            const cJSON *t;
            cJSON_ArrayForEach(t, types) {
                const char *s = cJSON_IsString(t) ? t->valuestring : "";
                if (strcmp(s, "sliding_attention") == 0 || strcmp(s, "sliding_window") == 0 ||
                    strcmp(s, "local_attention") == 0 || strcmp(s, "sliding") == 0) {
                    c->layer_swa[i] = 1;
                    n_sliding++;
                } else if (strcmp(s, "full_attention") != 0 && strcmp(s, "global_attention") != 0 &&
                           strcmp(s, "full") != 0 && !c->layer_pattern) {
                    /* (a hybrid's "mamba" / "attention" list: parse_granite_hybrid) */
                    cfg_warn(c, "layer type '%.40s' (layer %u) not modelled: treated as attention",
                             s, i);
                }
                i++;
            }
        }
    }
    if (n_sliding && !llama_cpp_swa) {
        cfg_warn(c, "sliding-window layers ignored: llama.cpp runs '%s' with full attention",
                 c->arch_name);
        free(c->layer_swa);
        c->layer_swa = NULL;
        return;
    }
    if (!llama_cpp_swa || window == 0) {
        free(c->layer_swa);
        c->layer_swa = NULL;
        return;
    }
    c->n_swa = window;
    if (c->layer_swa) {
        if (n_sliding == 0) {
            c->n_swa = 0;
            free(c->layer_swa);
            c->layer_swa = NULL;
            return;
        }
        /* recover llama.cpp's "every Nth layer global" when the list is periodic */
        uint32_t first_full = 0;
        while (first_full < c->n_layer && c->layer_swa[first_full])
            first_full++;
        uint32_t period = first_full + 1;
        bool periodic = first_full < c->n_layer;
        for (uint32_t i = 0; periodic && i < c->n_layer; i++)
            periodic = c->layer_swa[i] == (i % period < period - 1);
        c->swa_pattern = periodic ? period : 0;
        return;
    }
    uint32_t pattern = traits->swa_pattern;
    get_uint(p, MAX_LAYERS, &pattern, "sliding_window_pattern", (const char *)NULL);
    c->swa_pattern = pattern;
    c->layer_swa = calloc(c->n_layer ? c->n_layer : 1, 1);
    if (!c->layer_swa) {
        p->status = hr_error_set(p->err, HR_ERR_NOMEM, "%s: out of memory", p->origin);
        return;
    }
    for (uint32_t i = 0; i < c->n_layer; i++)
        c->layer_swa[i] = pattern == 0 || (i % pattern < pattern - 1);
}

/* Qwen2-MoE / Qwen3-MoE (transformers' Qwen2MoeDecoderLayer): layer i is
 * sparse iff i is not in mlp_only_layers and (i + 1) % decoder_sparse_step
 * == 0; the other layers carry a dense MLP of intermediate_size. */
static void parse_sparse_layers(parse_ctx *p)
{
    hf_config *c = p->c;
    uint32_t step = 1;
    get_uint(p, MAX_LAYERS, &step, "decoder_sparse_step", (const char *)NULL);
    if (step == 0) { /* transformers would divide by zero */
        cfg_warn(c, "decoder_sparse_step 0 is not valid: taken as 1 (every layer sparse)");
        step = 1;
    }
    const cJSON *only = find(p, "mlp_only_layers");
    if (only && !cJSON_IsArray(only)) {
        cfg_warn(c, "mlp_only_layers is not a list: ignored");
        only = NULL;
    }
    if (step == 1 && cJSON_GetArraySize(only) == 0)
        return;
    c->layer_dense = calloc(c->n_layer ? c->n_layer : 1, 1);
    if (!c->layer_dense) {
        p->status = hr_error_set(p->err, HR_ERR_NOMEM, "%s: out of memory", p->origin);
        return;
    }
    for (uint32_t i = 0; i < c->n_layer; i++)
        c->layer_dense[i] = (i + 1) % step != 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, only) {
        double d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
        if (!isfinite(d) || d < 0.0 || floor(d) != d || d > (double)MAX_LAYERS) {
            if (p->status == HR_OK)
                p->status = hr_error_set(p->err, HR_ERR_FORMAT,
                                         "%s: 'mlp_only_layers' holds something other than a "
                                         "layer index", p->origin);
            return;
        }
        if ((uint32_t)d < c->n_layer) /* transformers ignores indices past the end */
            c->layer_dense[(uint32_t)d] = 1;
    }
    uint32_t n_dense = 0;
    for (uint32_t i = 0; i < c->n_layer; i++)
        n_dense += c->layer_dense[i];
    if (n_dense == 0) {
        free(c->layer_dense);
        c->layer_dense = NULL;
        return;
    }
    if (c->n_ff == 0 && p->status == HR_OK) {
        p->status = hr_error_set(p->err, HR_ERR_FORMAT,
                                 "%s: %u dense MLP layers (mlp_only_layers / decoder_sparse_step)"
                                 " but no intermediate_size", p->origin, n_dense);
        return;
    }
    /* llama.cpp's qwen2moe / qwen3moe loaders require ffn_gate_inp and the
     * expert tensors in every block */
    if (strcmp(c->arch_name, "qwen2moe") == 0 || strcmp(c->arch_name, "qwen3moe") == 0)
        cfg_warn(c, "%u of %u layers use a dense MLP (mlp_only_layers / decoder_sparse_step): "
                 "llama.cpp's %s loader expects experts in every layer and cannot load it",
                 n_dense, c->n_layer, c->arch_name);
}

/* DeepSeek-V3's noaux_tc routing adds a learned bias to the expert scores
 * (mlp.gate.e_score_correction_bias -> blk.N.exp_probs_b.bias); DeepSeek-V2's
 * greedy routing has none. transformers' DeepseekV3 always carries it.
 * Both may normalise (norm_topk_prob) and scale (routed_scaling_factor) the
 * chosen weights. */
static void parse_router_bias(parse_ctx *p)
{
    hf_config *c = p->c;
    if (strcmp(c->arch_name, "deepseek2") != 0)
        return;
    const cJSON *topk = find(p, "topk_method");
    if (cJSON_IsString(topk))
        c->exp_probs_b = strcmp(topk->valuestring, "noaux_tc") == 0;
    else
        c->exp_probs_b = strcmp(c->model_type, "deepseek_v3") == 0;
    /* the chosen experts' weights normalised and scaled: graph ops */
    get_bool(p, "norm_topk_prob", &c->expert_weights_norm);
    c->expert_weights_scale = get_float(p, "routed_scaling_factor");
}

static void parse_moe(parse_ctx *p)
{
    hf_config *c = p->c;
    get_uint(p, MAX_DIM, &c->n_expert, "num_local_experts", "n_routed_experts", "num_experts",
             (const char *)NULL);
    get_uint(p, MAX_DIM, &c->n_expert_used, "num_experts_per_tok", "experts_per_token",
             "num_experts_per_token", "moe_top_k", (const char *)NULL);
    if (c->n_expert <= 1) {
        c->n_expert = c->n_expert_used = 0;
        return;
    }
    if (!get_uint(p, MAX_DIM, &c->n_ff_exp, "moe_intermediate_size", (const char *)NULL))
        c->n_ff_exp = c->n_ff; /* Mixtral, gpt-oss: intermediate_size is per expert */
    uint32_t shared = 0, shared_ff = 0;
    get_uint(p, MAX_DIM, &shared, "n_shared_experts", "num_shared_experts", (const char *)NULL);
    get_uint(p, MAX_DIM, &shared_ff, "shared_expert_intermediate_size", (const char *)NULL);
    if (shared_ff) {
        c->n_expert_shared = shared ? shared : 1;
        c->n_ff_shexp = shared_ff;
    } else if (shared) {
        c->n_expert_shared = shared;
        c->n_ff_shexp = shared * c->n_ff_exp; /* DeepSeek: shared experts fused into one FFN */
    }
    get_uint(p, MAX_LAYERS, &c->n_layer_dense_lead, "first_k_dense_replace", (const char *)NULL);
    if (c->n_layer_dense_lead > c->n_layer)
        c->n_layer_dense_lead = c->n_layer;
    parse_sparse_layers(p);
    parse_router_bias(p);
}

/* layer_types as hr_shape's layer_pattern: kind for the layers named
 * `name`, '*' (attention) for the others; a warning when it is not a list
 * of n_layer (every layer then attention). */
static void layer_types_pattern(parse_ctx *p, const char *name, char kind)
{
    hf_config *c = p->c;
    const cJSON *types = find(p, "layer_types");
    if (!cJSON_IsArray(types) || (uint32_t)cJSON_GetArraySize(types) != c->n_layer) {
        cfg_warn(c, "layer_types is not a list of %u layers: every layer taken as attention",
                 c->n_layer);
        return;
    }
    c->layer_pattern = malloc(c->n_layer + 1);
    if (!c->layer_pattern) {
        p->status = hr_error_set(p->err, HR_ERR_NOMEM, "%s: out of memory", p->origin);
        return;
    }
    uint32_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, types) {
        c->layer_pattern[i++] = cJSON_IsString(v) && strcmp(v->valuestring, name) == 0 ? kind : '*';
    }
    c->layer_pattern[i] = '\0';
}

/* GraniteMoeHybrid (convert_hf_to_gguf's GraniteHybridModel): Mamba-2
 * mixers where layer_types says "mamba", a shared MLP that is the dense FFN
 * when there are no experts, Granite's multipliers, NoPE unless "rope". */
static void parse_granite_hybrid(parse_ctx *p)
{
    hf_config *c = p->c;
    get_uint(p, MAX_DIM, &c->ssm_d_state, "mamba_d_state", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_d_conv, "mamba_d_conv", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_n_group, "mamba_n_groups", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_dt_rank, "mamba_n_heads", (const char *)NULL);
    uint32_t expand = 2, head = 0;
    get_uint(p, 1024, &expand, "mamba_expand", (const char *)NULL);
    get_uint(p, MAX_DIM, &head, "mamba_d_head", (const char *)NULL);
    const uint64_t inner = head && c->ssm_dt_rank ? (uint64_t)head * c->ssm_dt_rank
                                                  : (uint64_t)expand * c->n_embd;
    if (inner > MAX_DIM && p->status == HR_OK)
        p->status = hr_error_set(p->err, HR_ERR_FORMAT, "%s: Mamba inner size %llu too large",
                                 p->origin, (unsigned long long)inner);
    c->ssm_d_inner = inner > MAX_DIM ? 0 : (uint32_t)inner;
    c->embedding_scale = get_float(p, "embedding_multiplier");
    c->residual_scale = get_float(p, "residual_multiplier");
    c->logit_scale = get_float(p, "logits_scaling");
    const cJSON *pos = find(p, "position_embedding_type");
    c->no_rope = !(cJSON_IsString(pos) && strcmp(pos->valuestring, "rope") == 0);
    uint32_t shared = 0;
    get_uint(p, MAX_DIM, &shared, "shared_intermediate_size", (const char *)NULL);
    if (c->n_expert) {
        c->n_ff_shexp = shared;
        c->n_expert_shared = shared ? 1 : 0;
    } else if (shared) {
        c->n_ff = shared;
    }
    if (find(p, "layer_types"))
        layer_types_pattern(p, "mamba", 'M');
}

/* NemotronH (convert_hf_to_gguf's NemotronHModel): hybrid_override_pattern
 * names each layer (M Mamba-2, * attention, - FFN, E MoE FFN); Mamba-2 of
 * mamba_num_heads heads of mamba_head_dim. With experts it is llama.cpp's
 * nemotron_h_moe: relu^2 experts of moe_intermediate_size, a shared expert,
 * the chosen weights normalised (norm_topk_prob) and scaled
 * (routed_scaling_factor). */
static void parse_nemotron_h(parse_ctx *p)
{
    hf_config *c = p->c;
    if (c->n_expert) {
        snprintf(c->arch_name, sizeof c->arch_name, "nemotron_h_moe");
        uint32_t shared_ff = 0, groups = 1, latent = 0;
        get_uint(p, MAX_DIM, &shared_ff, "moe_shared_expert_intermediate_size", (const char *)NULL);
        c->n_ff_shexp = shared_ff;
        get_bool(p, "norm_topk_prob", &c->expert_weights_norm);
        c->expert_weights_scale = get_float(p, "routed_scaling_factor");
        get_uint(p, MAX_DIM, &groups, "n_group", (const char *)NULL);
        get_uint(p, MAX_DIM, &latent, "moe_latent_size", (const char *)NULL);
        if (groups > 1)
            cfg_warn(c, "expert groups (n_group %u) not modelled: selection over all experts",
                     groups);
        if (latent)
            cfg_warn(c, "MoE latent projections (moe_latent_size %u) not modelled", latent);
    }
    uint32_t heads = 0, head = 0;
    get_uint(p, MAX_DIM, &heads, "mamba_num_heads", (const char *)NULL);
    get_uint(p, MAX_DIM, &head, "mamba_head_dim", (const char *)NULL);
    const uint64_t inner = (uint64_t)heads * head;
    if (inner > MAX_DIM && p->status == HR_OK)
        p->status = hr_error_set(p->err, HR_ERR_FORMAT, "%s: Mamba inner size %llu too large",
                                 p->origin, (unsigned long long)inner);
    c->ssm_d_inner = inner > MAX_DIM ? 0 : (uint32_t)inner;
    c->ssm_dt_rank = heads;
    c->ssm_d_state = 128;
    c->ssm_d_conv = 4;
    c->ssm_n_group = 1;
    get_uint(p, MAX_DIM, &c->ssm_d_state, "ssm_state_size", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_d_conv, "conv_kernel", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_n_group, "n_groups", (const char *)NULL);
    const cJSON *pat = find(p, "hybrid_override_pattern");
    if (!cJSON_IsString(pat) || strlen(pat->valuestring) != c->n_layer) {
        cfg_warn(c, "hybrid_override_pattern is not a string of %u layers", c->n_layer);
        return;
    }
    c->layer_pattern = malloc(c->n_layer + 1);
    if (!c->layer_pattern) {
        p->status = hr_error_set(p->err, HR_ERR_NOMEM, "%s: out of memory", p->origin);
        return;
    }
    memcpy(c->layer_pattern, pat->valuestring, c->n_layer + 1);
}

/* Lfm2 (convert_hf_to_gguf's LFM2Model): layer_types' conv layers are short
 * convolutions of conv_L_cache; the FFN is block_ff_dim, by default cut to
 * two thirds, times block_ffn_dim_multiplier, rounded up to block_multiple_of;
 * tie_embedding ties the output. */
static void parse_lfm2(parse_ctx *p)
{
    hf_config *c = p->c;
    c->shortconv_l_cache = 3;
    get_uint(p, 1024, &c->shortconv_l_cache, "conv_L_cache", (const char *)NULL);
    if (c->shortconv_l_cache < 2 && p->status == HR_OK)
        p->status = hr_error_set(p->err, HR_ERR_FORMAT, "%s: conv_L_cache must be at least 2",
                                 p->origin);
    get_bool(p, "tie_embedding", &c->tied_output);
    /* LFM2-MoE: its leading dense layers (the converter's leading_dense_block_count) */
    if (get_uint(p, MAX_LAYERS, &c->n_layer_dense_lead, "num_dense_layers", (const char *)NULL) &&
        c->n_layer_dense_lead > c->n_layer)
        c->n_layer_dense_lead = c->n_layer;
    uint32_t ff = 0, multiple_of = 256;
    if (get_uint(p, MAX_DIM, &ff, "block_ff_dim", (const char *)NULL)) {
        bool adjust = false;
        get_bool(p, "block_auto_adjust_ff_dim", &adjust);
        get_uint(p, 1u << 20, &multiple_of, "block_multiple_of", (const char *)NULL);
        if (adjust) {
            double d = (double)(uint32_t)(2.0 * ff / 3.0);
            const float mult = get_float(p, "block_ffn_dim_multiplier");
            if (mult > 0.0f)
                d = (double)(uint64_t)(mult * d);
            const uint64_t mo = multiple_of ? multiple_of : 1;
            const uint64_t r = mo * (((uint64_t)d + mo - 1) / mo);
            ff = r > MAX_DIM ? 0 : (uint32_t)r;
        }
        c->n_ff = ff;
    }
    layer_types_pattern(p, "conv", 'C');
}

/* FalconH1 (convert_hf_to_gguf's FalconH1Model): Mamba-2 of mamba_d_ssm in
 * mamba_n_heads heads, mamba_* sizes; the mixer's grouped norm only with
 * mamba_rms_norm (transformers' default: none). */
static void parse_falcon_h1(parse_ctx *p)
{
    hf_config *c = p->c;
    uint32_t expand = 2;
    get_uint(p, 1024, &expand, "mamba_expand", (const char *)NULL);
    if (!get_uint(p, MAX_DIM, &c->ssm_d_inner, "mamba_d_ssm", (const char *)NULL)) {
        const uint64_t inner = (uint64_t)expand * c->n_embd;
        c->ssm_d_inner = inner > MAX_DIM ? 0 : (uint32_t)inner;
    }
    c->ssm_d_state = 256;
    c->ssm_d_conv = 4;
    c->ssm_n_group = 1;
    get_uint(p, MAX_DIM, &c->ssm_d_state, "mamba_d_state", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_d_conv, "mamba_d_conv", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_n_group, "mamba_n_groups", (const char *)NULL);
    uint32_t head = 64;
    get_uint(p, MAX_DIM, &head, "mamba_d_head", (const char *)NULL);
    if (!get_uint(p, MAX_DIM, &c->ssm_dt_rank, "mamba_n_heads", (const char *)NULL))
        c->ssm_dt_rank = head ? c->ssm_d_inner / head : 0;
    bool norm = false;
    get_bool(p, "mamba_rms_norm", &norm);
    c->ssm_no_norm = !norm;
}

/* Jamba (convert_hf_to_gguf's JambaModel): Mamba mixers (with dt, B and C
 * norms) except in the layers il % attn_layer_period == attn_layer_offset,
 * MoE FFNs in the layers il % expert_layer_period == expert_layer_offset. */
static void parse_jamba(parse_ctx *p)
{
    hf_config *c = p->c;
    uint32_t expand = 2, period = 8, offset = 4;
    c->ssm_d_state = 16;
    c->ssm_d_conv = 4;
    get_uint(p, MAX_DIM, &c->ssm_d_state, "mamba_d_state", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_d_conv, "mamba_d_conv", (const char *)NULL);
    get_uint(p, 1024, &expand, "mamba_expand", (const char *)NULL);
    const uint64_t inner = (uint64_t)expand * c->n_embd;
    c->ssm_d_inner = inner > MAX_DIM ? 0 : (uint32_t)inner;
    c->ssm_dt_rank = (c->n_embd + 15) / 16; /* "auto" */
    get_uint(p, MAX_DIM, &c->ssm_dt_rank, "mamba_dt_rank", (const char *)NULL);
    get_uint(p, MAX_LAYERS, &period, "attn_layer_period", (const char *)NULL);
    get_uint(p, MAX_LAYERS, &offset, "attn_layer_offset", (const char *)NULL);
    if (c->n_expert) {
        c->expert_layer_period = 2;
        c->expert_layer_offset = 1;
        get_uint(p, MAX_LAYERS, &c->expert_layer_period, "expert_layer_period", (const char *)NULL);
        get_uint(p, MAX_LAYERS, &c->expert_layer_offset, "expert_layer_offset", (const char *)NULL);
        c->n_ff_exp = c->n_ff;
    }
    c->layer_pattern = malloc(c->n_layer + 1);
    if (!c->layer_pattern) {
        p->status = hr_error_set(p->err, HR_ERR_NOMEM, "%s: out of memory", p->origin);
        return;
    }
    for (uint32_t i = 0; i < c->n_layer; i++)
        c->layer_pattern[i] = period && i % period == offset ? '*' : 'M';
    c->layer_pattern[c->n_layer] = '\0';
}

/* Qwen3.5 (convert_hf_to_gguf's Qwen3_5TextModel): gated delta nets of
 * linear_num_key_heads key heads and linear_num_value_heads value heads,
 * in the layers layer_types calls linear_attention (else all but every
 * full_attention_interval-th); the pattern writes them M, attention *. */
static void parse_qwen35(parse_ctx *p)
{
    hf_config *c = p->c;
    uint32_t vdim = 128, vheads = 32, interval = 4;
    c->ssm_d_state = 128;
    c->ssm_n_group = 16;
    c->ssm_d_conv = 4;
    get_uint(p, MAX_DIM, &c->ssm_d_state, "linear_key_head_dim", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_n_group, "linear_num_key_heads", (const char *)NULL);
    get_uint(p, MAX_DIM, &vheads, "linear_num_value_heads", (const char *)NULL);
    get_uint(p, MAX_DIM, &vdim, "linear_value_head_dim", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_d_conv, "linear_conv_kernel_dim", (const char *)NULL);
    const uint64_t inner = (uint64_t)vdim * vheads;
    c->ssm_d_inner = inner > MAX_DIM ? 0 : (uint32_t)inner;
    c->ssm_dt_rank = vheads;
    if (find(p, "layer_types")) {
        layer_types_pattern(p, "linear_attention", 'M');
        return;
    }
    get_uint(p, MAX_LAYERS, &interval, "full_attention_interval", (const char *)NULL);
    c->layer_pattern = malloc(c->n_layer + 1);
    if (!c->layer_pattern) {
        p->status = hr_error_set(p->err, HR_ERR_NOMEM, "%s: out of memory", p->origin);
        return;
    }
    for (uint32_t i = 0; i < c->n_layer; i++)
        c->layer_pattern[i] = interval && (i + 1) % interval == 0 ? '*' : 'M';
    c->layer_pattern[c->n_layer] = '\0';
}

static void parse_ssm(parse_ctx *p, bool mamba2)
{
    hf_config *c = p->c;
    get_uint(p, MAX_DIM, &c->ssm_d_state, "state_size", "d_state", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->ssm_d_conv, "conv_kernel", "d_conv", (const char *)NULL);
    uint32_t expand = 2;
    get_uint(p, 1024, &expand, "expand", (const char *)NULL);
    if (!get_uint(p, MAX_DIM, &c->ssm_d_inner, "intermediate_size", "d_inner", (const char *)NULL))
        c->ssm_d_inner = expand * c->n_embd;
    if (mamba2) {
        get_uint(p, MAX_DIM, &c->ssm_n_group, "n_groups", "ngroups", (const char *)NULL);
        /* Mamba2's dt has one entry per SSM head */
        if (!get_uint(p, MAX_DIM, &c->ssm_dt_rank, "num_heads", (const char *)NULL)) {
            uint32_t ssm_head = 64;
            get_uint(p, MAX_DIM, &ssm_head, "head_dim", (const char *)NULL);
            c->ssm_dt_rank = ssm_head ? c->ssm_d_inner / ssm_head : 0;
        }
    } else {
        const cJSON *r = find(p, "time_step_rank");
        if (!r)
            r = find(p, "dt_rank");
        if (cJSON_IsNumber(r))
            get_uint(p, MAX_DIM, &c->ssm_dt_rank, "time_step_rank", "dt_rank", (const char *)NULL);
        else /* "auto" */
            c->ssm_dt_rank = (c->n_embd + 15) / 16;
    }
    c->n_ff = 0;
    c->n_head = c->n_head_kv = 0;
    c->head_dim = c->head_dim_v = 0;
}

bool hf_name_from_dir(const char *dir, char *out, size_t cap)
{
    /* Hugging Face cache: .../models--org--name/snapshots/<hash> -> "org/name" */
    const char *repo = strstr(dir, "models--");
    const char *snap = repo ? strstr(repo, "/snapshots/") : NULL;
    if (repo && snap && snap > repo + 8) {
        size_t n = 0;
        for (const char *s = repo + 8; s < snap && n + 1 < cap; s++) {
            if (s[0] == '-' && s[1] == '-' && s + 1 < snap) {
                out[n++] = '/';
                s++;
            } else {
                out[n++] = *s;
            }
        }
        out[n] = '\0';
        return n > 0;
    }
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    size_t n = len - start;
    if (n == 0 || (n == 1 && dir[start] == '.') || (n == 2 && dir[start] == '.' && dir[start + 1] == '.'))
        return false;
    snprintf(out, cap, "%.*s", (int)n, dir + start);
    return true;
}

static void pick_name(parse_ctx *p)
{
    hf_config *c = p->c;
    copy_str(c->name, sizeof c->name, cJSON_GetObjectItemCaseSensitive(p->root, "_name_or_path"));
    if (c->name[0] && strcmp(c->name, ".") != 0 && strcmp(c->name, "./") != 0) {
        /* keep the last path component of a local path */
        const char *slash = strrchr(c->name, '/');
        if (c->name[0] == '/' && slash && slash[1])
            memmove(c->name, slash + 1, strlen(slash + 1) + 1);
        return;
    }
    c->name[0] = '\0';
    if (p->origin) {
        char dir[1024];
        hr_path_dirname(p->origin, dir, sizeof dir);
        if (hf_name_from_dir(dir, c->name, sizeof c->name))
            return;
    }
    snprintf(c->name, sizeof c->name, "%s",
             c->architecture[0] ? c->architecture : c->model_type[0] ? c->model_type : "model");
}

static void parse_shape_keys(parse_ctx *p, const hf_arch_traits *traits)
{
    hf_config *c = p->c;
    if (!get_uint(p, MAX_LAYERS, &c->n_layer, "num_hidden_layers", "n_layer", "num_layers",
                  "n_layers", (const char *)NULL) &&
        p->status == HR_OK)
        p->status = hr_error_set(p->err, HR_ERR_FORMAT, "%s: no num_hidden_layers", p->origin);
    if (!get_uint(p, MAX_DIM, &c->n_embd, "hidden_size", "d_model", "n_embd", "dim",
                  (const char *)NULL) &&
        p->status == HR_OK)
        p->status = hr_error_set(p->err, HR_ERR_FORMAT, "%s: no hidden_size", p->origin);
    if (p->status == HR_OK && (c->n_layer == 0 || c->n_embd == 0))
        p->status = hr_error_set(p->err, HR_ERR_FORMAT,
                                 "%s: %u layers of width %u is not a model", p->origin,
                                 c->n_layer, c->n_embd);
    get_uint(p, MAX_DIM, &c->n_vocab, "vocab_size", "n_vocab", (const char *)NULL);
    if (!get_uint(p, UINT32_MAX, &c->n_ctx_train, "max_position_embeddings", "n_positions",
                  "max_seq_len", "seq_length", (const char *)NULL))
        c->n_ctx_train = traits ? traits->ctx_default : 0;
    get_uint(p, MAX_DIM, &c->n_head, "num_attention_heads", "n_head", "n_heads",
             (const char *)NULL);
    if (!get_uint(p, MAX_DIM, &c->n_head_kv, "num_key_value_heads", "n_head_kv",
                  "multi_query_group_num", (const char *)NULL))
        c->n_head_kv = c->n_head;
    if (!get_uint(p, MAX_DIM, &c->head_dim, "head_dim", (const char *)NULL))
        c->head_dim = c->n_head ? c->n_embd / c->n_head : 0;
    c->head_dim_v = c->head_dim;
    get_uint(p, MAX_DIM, &c->n_ff, "intermediate_size", "ffn_hidden_size", "n_inner",
             "ffn_dim", (const char *)NULL);
    if (c->n_vocab == 0)
        cfg_warn(c, "no vocab_size in config: embedding and output sized at 0");
    if (c->n_head && c->n_head_kv && c->n_head % c->n_head_kv != 0 && p->status == HR_OK)
        p->status = hr_error_set(p->err, HR_ERR_FORMAT,
                                 "%s: %u attention heads are not a multiple of %u KV heads",
                                 p->origin, c->n_head, c->n_head_kv);
}

static void parse_mla(parse_ctx *p)
{
    hf_config *c = p->c;
    if (!get_uint(p, MAX_DIM, &c->n_lora_kv, "kv_lora_rank", (const char *)NULL))
        return;
    get_uint(p, MAX_DIM, &c->n_lora_q, "q_lora_rank", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->n_rot, "qk_rope_head_dim", (const char *)NULL);
    get_uint(p, MAX_DIM, &c->head_dim_qk_nope, "qk_nope_head_dim", (const char *)NULL);
    if (!get_uint(p, MAX_DIM, &c->head_dim_v, "v_head_dim", (const char *)NULL))
        c->head_dim_v = c->head_dim_qk_nope;
    c->head_dim = c->head_dim_qk_nope + c->n_rot;
    c->n_head_kv = c->n_head; /* MLA: every head reads the shared latent */
}

hr_status hf_config_parse(const char *json, size_t len, const char *origin, hf_config *out,
                          hr_error *err)
{
    memset(out, 0, sizeof *out);
    if (!origin)
        origin = "config.json";
    if (!json || len > HR_HF_CONFIG_MAX_BYTES)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: config is over the %u-byte limit", origin,
                            HR_HF_CONFIG_MAX_BYTES);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: not valid JSON", origin);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return hr_error_set(err, HR_ERR_FORMAT, "%s: not a JSON object", origin);
    }
    hf_config *c = out;
    parse_ctx p = {root, root, origin, c, err, HR_OK};
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    if (cJSON_IsObject(text)) {
        p.text = text;
        c->text_config = true;
    }
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    if (cJSON_IsArray(archs))
        copy_str(c->architecture, sizeof c->architecture, cJSON_GetArrayItem(archs, 0));
    copy_str(c->model_type, sizeof c->model_type, find(&p, "model_type"));
    if (c->text_config && !c->model_type[0])
        copy_str(c->model_type, sizeof c->model_type,
                 cJSON_GetObjectItemCaseSensitive(root, "model_type"));

    const hf_arch_traits *traits = hf_arch_by_model_type(c->model_type);
    if (!traits)
        traits = hf_arch_by_class(c->architecture);
    if (traits) {
        snprintf(c->arch_name, sizeof c->arch_name, "%s", traits->arch_name);
        c->arch_known = true;
    } else {
        /* generic decoder keys; keep the model_type as the arch name */
        snprintf(c->arch_name, sizeof c->arch_name, "%.31s",
                 c->model_type[0] ? c->model_type : "unknown");
        cfg_warn(c, "unknown architecture '%.60s': generic config keys used",
                 c->architecture[0] ? c->architecture : c->model_type);
    }
    pick_name(&p);
    parse_shape_keys(&p, traits);
    c->causal = !(traits && traits->encoder);
    c->embedding_only = (traits && traits->encoder) || !hf_class_has_lm_head(c->architecture);
    bool is_causal;
    if (get_bool(&p, "is_causal", &is_causal) && !is_causal)
        c->causal = false;
    c->tied_output = traits ? traits->tied_default : false;
    get_bool(&p, "tie_word_embeddings", &c->tied_output);
    /* Llama 3.x frequency scaling: the converter writes rope_freqs.weight */
    const cJSON *scaling = find(&p, "rope_scaling");
    if (cJSON_IsObject(scaling)) {
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(scaling, "rope_type");
        if (!cJSON_IsString(rt))
            rt = cJSON_GetObjectItemCaseSensitive(scaling, "type");
        c->rope_freqs = cJSON_IsString(rt) && strcmp(rt->valuestring, "llama3") == 0;
    }
    c->qkv_bias = traits && traits->qkv_bias;
    if (get_bool(&p, "attention_bias", &c->attn_bias) && c->attn_bias)
        c->qkv_bias = true;
    get_bool(&p, "qkv_bias", &c->qkv_bias);
    get_bool(&p, "mlp_bias", &c->ffn_bias);
    if (traits && traits->encoder) {
        c->attn_bias = c->ffn_bias = c->qkv_bias;
        /* learned absolute positions unless the encoder uses rope */
        const cJSON *pos = find(&p, "position_embedding_type");
        bool rope = cJSON_IsString(pos) && strstr(pos->valuestring, "rope");
        if (strcmp(c->model_type, "new") == 0 || strcmp(c->model_type, "nomic_bert") == 0)
            rope = true;
        c->n_pos_embd = rope ? 0 : c->n_ctx_train;
    }
    c->attn_logit_softcap = get_float(&p, "attn_logit_softcapping");
    c->final_logit_softcap = get_float(&p, "final_logit_softcapping");

    const char *a = c->arch_name;
    if (strcmp(a, "mamba") == 0 || strcmp(a, "mamba2") == 0)
        parse_ssm(&p, strcmp(a, "mamba2") == 0);
    if (strcmp(a, "rwkv6") == 0 || strcmp(a, "rwkv7") == 0) {
        if (!get_uint(&p, MAX_DIM, &c->rwkv_head_size, "head_size", "head_dim",
                      (const char *)NULL))
            c->rwkv_head_size = 64;
        c->n_head = c->rwkv_head_size ? c->n_embd / c->rwkv_head_size : 0;
        c->n_head_kv = 0;
        if (c->n_ff == 0) /* transformers' Rwkv6 default */
            c->n_ff = (uint32_t)((uint64_t)c->n_embd * 7 / 2 / 32 * 32);
    }
    parse_mla(&p);
    parse_moe(&p);
    if (strcmp(a, "granitehybrid") == 0)
        parse_granite_hybrid(&p);
    if (strcmp(a, "nemotron_h") == 0)
        parse_nemotron_h(&p);
    if (strcmp(a, "lfm2") == 0 || strcmp(a, "lfm2moe") == 0)
        parse_lfm2(&p);
    if (strcmp(a, "falcon-h1") == 0)
        parse_falcon_h1(&p);
    if (strcmp(a, "qwen35") == 0 || strcmp(a, "qwen35moe") == 0 || strcmp(a, "qwen3next") == 0)
        parse_qwen35(&p);
    if (strcmp(a, "jamba") == 0)
        parse_jamba(&p);
    parse_swa(&p, traits);
    parse_dtype(&p);
    parse_quant(&p);
    if (c->text_config && cJSON_GetObjectItemCaseSensitive(root, "vision_config"))
        cfg_warn(c, "vision tower in config.json not counted");
    cJSON_Delete(root);
    if (p.status != HR_OK) {
        hf_config_free(c);
        return p.status;
    }
    return HR_OK;
}

hr_status hf_config_read(const char *path, hf_config *out, hr_error *err)
{
    char *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    hr_status st = hr_read_file(path, HR_HF_CONFIG_MAX_BYTES, &text, &len, err);
    if (st != HR_OK)
        return st;
    st = hf_config_parse(text, len, path, out, err);
    free(text);
    return st;
}

void hf_config_free(hf_config *c)
{
    if (!c)
        return;
    free(c->layer_swa);
    c->layer_swa = NULL;
    free(c->layer_dense);
    c->layer_dense = NULL;
    free(c->layer_pattern);
    c->layer_pattern = NULL;
}
