/* Engine-private helpers of the quant module (shared with the shape builder). */
#ifndef HR_QUANT_INTERNAL_H
#define HR_QUANT_INTERNAL_H

#include <stdbool.h>

#include "headroom/model.h"
#include "headroom/quant.h"

/* True when convert_hf_to_gguf.py always writes this tensor as F32 whatever
 * the output type: 1-D tensors, norms, names not ending in ".weight", expert
 * routers, position / token-type embeddings, SSM conv kernels and RWKV's
 * small mixing weights. Those tensors are never quantized afterwards either. */
bool hr_quant_source_is_f32(const char *name, uint32_t n_dims, hr_role role);

/* llama-quantize's tensor_allows_quantization (default params). */
bool hr_quant_allows(const char *name, uint32_t n_dims, hr_role role);

/* What the mix rules need to know about one tensor that depends only on
 * its name, role and shape (not the ftype): computed by hr_model_finalize
 * for every tensor, so a projection reads them instead of matching names. */
enum {
    HR_QF_ALLOWS = 1,      /* hr_quant_allows */
    HR_QF_SOURCE_F32 = 2,  /* hr_quant_source_is_f32 (only read, and set, when not ALLOWS) */
    HR_QF_COUNTS_WV = 4,   /* counted in n_attention_wv */
    HR_QF_OUTPUT_WEIGHT = 8, /* "output.weight" (has_output_weight) */
    /* first tensor of a layer whose tensors are consecutive, at most
     * HR_QUANT_RUN_MAX of them (a projection walk takes it as one run) */
    HR_QF_LAYER_START = 16,
    /* ... and that layer repeats the one just before it: the same facts,
     * shapes, types and bytes tensor by tensor, and at most
     * HR_QUANT_COUNTED_MAX tensors of each category the walk counts
     * (attn_v-like, ffn_down, ffn_gate, ffn_up), so its projected types can
     * differ from the previous layer's only through the counters at its
     * start (and a MoE layer's block index) */
    HR_QF_LAYER_REPEATS = 32,
    /* hr_tensor_is_layer_shared (rope_freqs...: a copy on each device
     * holding layers) */
    HR_QF_LAYER_SHARED = 64,
};
#define HR_QUANT_RUN_MAX 128
#define HR_QUANT_COUNTED_MAX 3
typedef struct hr_quant_fact {
    uint8_t flags;    /* HR_QF_* */
    uint8_t category; /* the rules' tensor category (category, below) */
} hr_quant_fact;

/* Layers [start, start + len) of a run: layer start + j has the types
 * and bytes of variant[j % period] (period 1, or 2 or 3 where the rules
 * read use_more_bits, whose outcome repeats every three layers). */
typedef struct hr_quant_seg {
    uint32_t start, len;
    uint8_t period;
    uint8_t variant[3];
} hr_quant_seg;
#define HR_QUANT_RUN_SEGS 16
/* distinct projections of one run's layers (a chain takes 1 to 3 distinct
 * outcomes in llama-quantize's rules) */
#define HR_QUANT_RUN_SLOTS 4

/* Which layers of a chain of repeating layers share projections, for an
 * ftype whose rules read counters (or a MoE block index): as the keys of
 * its layers fall, from the counters x at its first layer (with the walk
 * totals n) stepping by `step` a layer. Variant v first comes at layer
 * layer + rep[v] (rep[0] = 0). */
typedef struct hr_quant_keyed {
    int32_t layer;
    uint32_t n_layers;
    int x[4], step[4], n[4]; /* attn_v, ffn_down, ffn_gate, ffn_up */
    int n_variants, n_segs;
    uint32_t rep[HR_QUANT_RUN_SLOTS];
    hr_quant_seg seg[HR_QUANT_RUN_SEGS];
} hr_quant_keyed;
#define HR_QUANT_KEYED_MAX 4 /* kept per ftype and model (the chains a walk meets first) */

/* One run of the projection walk of a model at one ftype from the start
 * (hr_quant_ctx_next_run's, from hr_quant_state_init's state), kept by the
 * model: the walk state before it and the counters after it, its segments
 * and its projections (n_variants x n types and bytes). */
typedef struct hr_quant_stored_run {
    size_t first, n;
    int32_t layer;
    uint32_t n_layers;
    int n_variants, n_segs;
    hr_quant_state before;
    int after[4]; /* attn_v, ffn_down, ffn_gate, ffn_up */
    const hr_quant_seg *seg;
    const hr_type *type;
    const uint64_t *bytes;
} hr_quant_stored_run;
/* kept where a walk has at most this many runs and projected tensors */
#define HR_QUANT_STORED_RUNS 32
#define HR_QUANT_STORED_TENSORS 512

/* What the mix rules of one ftype give a quantizable tensor of each
 * category of a model where that depends on nothing else (not on its row,
 * its shape, the counters or its block): its type before the row fallback
 * and the counter it steps; and the ftype's own facts (hr_quant_ctx). */
#define HR_QUANT_FTYPE_ROWS 48 /* ftype ids below this (llama.cpp's: 0..40; BitNet's 100+) */
#define HR_QUANT_CATEGORIES 12
#define HR_QUANT_DYNAMIC 0xff  /* the rules read more: type_impl decides */
typedef struct hr_quant_ftype_row {
    hr_type default_type;       /* HR_TYPE_INVALID for an unknown ftype */
    bool default_quantized, bitnet, iq2_family, by_rules;
    uint64_t run_key_mask;      /* (refined for the model, as hr_quant_ctx's) */
    uint8_t fixed[HR_QUANT_CATEGORIES]; /* type id, or HR_QUANT_DYNAMIC */
    /* 0, or 1 + the counter the category steps (attn_v, ffn_down, gate, up) */
    uint8_t step[HR_QUANT_CATEGORIES];
    /* the key segments of the first chains a walk of the model meets, in
     * layer order (a walk checks their counters) */
    int n_keyed;
    const hr_quant_keyed *keyed;
    /* the whole walk's runs (0: not kept: too many, or a tensor that
     * cannot be sized) */
    int n_runs;
    const hr_quant_stored_run *runs;
} hr_quant_ftype_row;

/* The row of an ftype id: ids below HR_QUANT_FTYPE_ROWS, then BitNet's
 * (HR_FTYPE_BITNET_TL1..I2_S); -1 for none. */
#define HR_QUANT_ROW_SLOTS (HR_QUANT_FTYPE_ROWS + 3)
static inline int hr_quant_row_slot(hr_ftype ftype)
{
    if ((unsigned)ftype < HR_QUANT_FTYPE_ROWS)
        return (int)ftype;
    if (ftype >= HR_FTYPE_BITNET_TL1 && ftype <= HR_FTYPE_BITNET_I2_S)
        return HR_QUANT_FTYPE_ROWS + (int)(ftype - HR_FTYPE_BITNET_TL1);
    return -1;
}
static inline hr_ftype hr_quant_slot_ftype(int slot)
{
    if (slot < HR_QUANT_FTYPE_ROWS)
        return (hr_ftype)slot;
    return (hr_ftype)(HR_FTYPE_BITNET_TL1 + (slot - HR_QUANT_FTYPE_ROWS));
}

/* Facts of every tensor of a finalized model, and the walk counters they give. */
typedef struct hr_quant_facts {
    const hr_quant_fact *tensor; /* n_tensors entries, in tensor order */
    const uint32_t *layer_len;   /* tensors of each layer (n_layer entries) */
    /* layers right after each layer that repeat the one before them, each
     * (n_layer entries; 0 where the next one does not) */
    const uint32_t *repeats_after;
    int n_attention_wv;
    bool has_output_weight;
    const hr_quant_ftype_row *ftype_row; /* HR_QUANT_ROW_SLOTS entries (hr_quant_row_slot) */
} hr_quant_facts;

hr_quant_fact hr_quant_fact_of(const hr_tensor *t);
/* Its HR_QF_COUNTS_WV / HR_QF_OUTPUT_WEIGHT flags alone. */
uint8_t hr_quant_state_flags(const hr_tensor *t);
/* Arena-allocated facts of m's tensors (NULL when out of memory). */
hr_quant_facts *hr_quant_facts_build(hr_model *m);

/* Per-walk facts computed once (so a projection costs a few table reads
 * per tensor): the ftype's default type, GQA ratio, and a lazily filled
 * cache of block sizes for ggml type ids below 64 (each entry written
 * when first looked up: hr_quant_ctx_init clears no table). */
#define HR_QUANT_TYPE_CACHE 64
typedef struct hr_quant_ctx {
    const hr_model *model;
    const hr_quant_facts *facts; /* the model's precomputed facts, or NULL */
    hr_ftype ftype;
    hr_type default_type;   /* HR_TYPE_INVALID for an unknown ftype */
    bool default_quantized;
    bool bitnet;            /* BitNet fork ftype (I2_S / TL1 / TL2) */
    bool iq2_family;        /* IQ1_S / IQ1_M / IQ2_* (rules of their own first) */
    bool by_rules;          /* quantizable tensors take the mix rules (not BitNet's) */
    bool is_70b;            /* llama.cpp's LLM_TYPE_70B */
    uint32_t n_gqa;
    uint64_t block_known;   /* bit t: block[t] / block_bytes[t] looked up */
    uint64_t block_pads;    /* bit t: t is quantized with the block formula */
    uint16_t block[HR_QUANT_TYPE_CACHE];
    uint16_t block_bytes[HR_QUANT_TYPE_CACHE];
    uint64_t run_key_mask;  /* the bits of a layer's key the ftype's rules read */
    /* the walks' shortcut: the model's row for this ftype (NULL: none),
     * and the next of its keyed chains a walk may meet */
    const hr_quant_ftype_row *row;
    int keyed_next;
    int run_next; /* the next of its kept runs a walk may meet */
} hr_quant_ctx;

void hr_quant_ctx_init(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype);
hr_type hr_quant_ctx_type(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t);
/* Bytes of a tensor of this type (block formula from the cache, the type
 * table's rules otherwise). */
hr_status hr_quant_ctx_bytes(hr_quant_ctx *c, hr_type type, const int64_t ne[4], uint64_t *out,
                             hr_error *err);
/* hr_weight_row_pad_bytes (CUDA / ROCm row padding) from the cache. */
uint64_t hr_quant_ctx_row_pad(hr_quant_ctx *c, hr_type type, int64_t ne0);
/* hr_quant_ctx_type and the bytes of the model's tensors [first, first + n),
 * in tensor order (a walk calls it for consecutive ranges from 0): one call
 * per run of tensors instead of two per tensor. */
hr_status hr_quant_ctx_walk(hr_quant_ctx *c, hr_quant_state *st, size_t first, size_t n,
                            hr_type *types, uint64_t *bytes, hr_error *err);

/* One step of a projection walk: tensors [first, first + n), and when
 * they are a layer (layer >= 0), the n_layers - 1 layers after it that
 * repeat it (a chain, n tensors each): each takes one of the n_variants
 * projections type[v] / bytes[v] of the layer's tensors, as the segments
 * say (variant 0: the first layer's). Other tensors: one layer, variant 0.
 * seg / type / bytes point into own_* or at the model's kept run. Pass the same
 * run and state to each call; the next run starts at first + n * n_layers. */
typedef struct hr_quant_run {
    size_t first, n;
    int32_t layer;      /* the (first) layer of this run, or -1 for other tensors */
    uint32_t n_layers;  /* layers it covers (1 for other tensors) */
    int n_variants, n_segs;
    const hr_quant_seg *seg; /* in layer order, covering [0, n_layers) */
    const hr_type *type[HR_QUANT_RUN_SLOTS];
    const uint64_t *bytes[HR_QUANT_RUN_SLOTS];
    hr_quant_seg own_seg[HR_QUANT_RUN_SEGS];
    hr_type own_type[HR_QUANT_RUN_SLOTS][HR_QUANT_RUN_MAX];
    uint64_t own_bytes[HR_QUANT_RUN_SLOTS][HR_QUANT_RUN_MAX];
} hr_quant_run;

/* The variant of layer run->layer + l (l < n_layers). */
static inline int hr_quant_run_variant(const hr_quant_run *run, uint32_t l)
{
    for (int s = 0; s < run->n_segs; s++) {
        const hr_quant_seg *g = &run->seg[s];
        if (l - g->start < g->len)
            return g->variant[(l - g->start) % g->period];
    }
    return 0;
}

/* The run starting at tensor `first` (walk from 0, consecutive runs). */
hr_status hr_quant_ctx_next_run(hr_quant_ctx *c, hr_quant_state *st, size_t first,
                                hr_quant_run *run, hr_error *err);

/* ---- Shared by the quant module's own files (quant_rules.c: the mix
 * rules; quant_facts.c: a model's facts; quant_keys.c: layer keys;
 * quant_walk.c: the projection walk); not for other modules. The small
 * helpers the walks call per tensor are static inline here so they stay
 * inlined in each file. ---- */

/* the rules' tensor categories (tensor_get_category) */
typedef enum category {
    CAT_TOKEN_EMBD, CAT_ATTN_Q, CAT_ATTN_V, CAT_ATTN_K, CAT_ATTN_QKV, CAT_ATTN_KV_B,
    CAT_ATTN_OUTPUT, CAT_FFN_UP, CAT_FFN_GATE, CAT_FFN_DOWN, CAT_OUTPUT, CAT_OTHER
} category;

/* The role, or where it is HR_ROLE_OTHER the one the name gives. */
static inline hr_role tensor_role(const hr_tensor *t)
{
    return t->role != HR_ROLE_OTHER ? (hr_role)t->role : hr_role_from_name(t->name);
}

static inline bool category_is_attn_v(category c)
{
    return c == CAT_ATTN_V || c == CAT_ATTN_QKV || c == CAT_ATTN_KV_B;
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

/* llama.cpp's n_gqa (heads per KV head, from the first layer). */
static inline uint32_t model_n_gqa(const hr_model *m)
{
    uint32_t h = m->n_head, kv = m->n_head_kv;
    if (m->layers && m->n_layer > 0) {
        h = m->layers[0].n_head;
        kv = m->layers[0].n_head_kv;
    }
    return kv ? h / kv : 0;
}

/* llama.cpp marks an 80-layer llama with GQA as LLM_TYPE_70B. */
static inline bool is_llama_70b(const hr_model *m)
{
    return m->arch == HR_ARCH_LLAMA && m->n_layer == 80 && m->n_head != m->n_head_kv;
}

/* tensor_type_fallback: rows that do not fill whole blocks of the target. */
static inline hr_type type_fallback_slow(hr_quant_ctx *c, int64_t ncols, hr_type target);

static inline hr_type type_fallback(hr_quant_ctx *c, const hr_tensor *t, hr_type target)
{
    const int64_t ncols = t->ne[0];
    return ncols % block_of(c, target) == 0 ? target : type_fallback_slow(c, ncols, target);
}

static inline hr_type type_fallback_slow(hr_quant_ctx *c, int64_t ncols, hr_type target)
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

/* The thresholds of a counter's tests (use_more_bits, type_impl) for n. */
typedef struct counter_limits {
    int n16, n8, n78; /* n / 16, n / 8, 7 n / 8 */
} counter_limits;

/* Counter values at a layer's start: attn_v, ffn_down, ffn_gate, ffn_up. */
static inline void counters_of(const hr_quant_state *st, int out[4])
{
    out[0] = st->i_attention_wv;
    out[1] = st->i_ffn_down;
    out[2] = st->i_ffn_gate;
    out[3] = st->i_ffn_up;
}

/* The bits run_key packs for these reads (at most 64 for a chain to go on). */
static inline unsigned key_width(const hr_quant_ctx *c, const int reads[4])
{
    unsigned w = 0;
    for (int f = 0; f < 7; f++)
        if (c->run_key_mask >> (6 * f) & 63)
            w += 6 * (unsigned)(f < 4 && reads[f] > 1 ? reads[f] : 1);
    return w;
}

/* quant_rules.c */
/* hr_quant_fact_of without the state flags: quantizable and its category,
 * or else whether a converter writes it as F32 (role: tensor_role's). */
hr_quant_fact hr_quant_rule_fact(const hr_tensor *t, hr_role role);
/* The ftype's facts of hr_quant_ctx (those hr_quant_ftype_row keeps). */
void hr_quant_ctx_ftype(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype);
/* The mix rules' type of a quantizable tensor of category cat, row
 * fallback included (steps the counter the rules step). */
hr_type hr_quant_rules_type(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t,
                            category cat);
/* The same before the row fallback, for hr_quant_facts_build's probes. */
hr_type hr_quant_probe_rules(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t,
                             category cat);

/* quant_keys.c */
/* The counter_limits of each counter's total (attn_v, ffn_down, ffn_gate,
 * ffn_up). */
void hr_quant_key_limits(const hr_quant_state *st, counter_limits lim[4]);
/* k's variants and segments (keys only) for a chain of n_layers layers
 * (k->layer, x, step and n: the caller's); k->n_layers: the layers they
 * cover, fewer where a fifth variant or more segments would be needed. */
void hr_quant_keyed_segments(const hr_quant_ctx *c, const counter_limits lim[4], bool multi,
                             uint32_t n_layers, hr_quant_keyed *k);

/* quant_walk.c */
/* hr_quant_ctx_init with these facts (NULL: the rules each time). */
void hr_quant_ctx_init_facts(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype,
                             const hr_quant_facts *facts);

#endif
