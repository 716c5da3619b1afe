/* headroom — the model description.
 *
 * One structure whatever the source (GGUF, safetensors + config.json,
 * config.json alone, or a built-in YAML preset). The engine allocates it;
 * the caller frees it with hr_model_free(). A model is immutable after it is
 * returned and may be read from several threads at once.
 *
 * Tensor names follow GGUF / llama.cpp naming ("blk.3.attn_v.weight") for
 * every source: safetensors names are kept in hf_name and mapped.
 */
#ifndef HEADROOM_MODEL_H
#define HEADROOM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headroom/error.h"
#include "headroom/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hr_source {
    HR_SOURCE_GGUF = 0,
    HR_SOURCE_SAFETENSORS,
    HR_SOURCE_CONFIG,   /* config.json alone: weights computed from dtype */
    HR_SOURCE_PRESET,   /* YAML under configs/models */
    HR_SOURCE_SHAPE     /* built in memory from an hr_shape */
} hr_source;

/* "gguf", "safetensors", "config", "preset", "shape" (the JSON spelling). */
HR_API const char *hr_source_name(hr_source source);

/* Architecture families: the graph shape the plan must build. */
typedef enum hr_arch {
    HR_ARCH_UNKNOWN = 0,
    HR_ARCH_LLAMA, HR_ARCH_MISTRAL, HR_ARCH_QWEN2, HR_ARCH_QWEN3, HR_ARCH_QWEN2MOE,
    HR_ARCH_QWEN3MOE, HR_ARCH_GEMMA, HR_ARCH_GEMMA2, HR_ARCH_GEMMA3, HR_ARCH_PHI3,
    HR_ARCH_COMMAND_R, HR_ARCH_COHERE2, HR_ARCH_DEEPSEEK2, HR_ARCH_MAMBA, HR_ARCH_MAMBA2,
    HR_ARCH_RWKV6, HR_ARCH_RWKV7, HR_ARCH_BERT, HR_ARCH_NOMIC_BERT, HR_ARCH_BITNET,
    HR_ARCH_GPT_OSS, HR_ARCH_MIXTRAL /* llama with experts, kept for naming */,
    HR_ARCH_GRANITE_HYBRID /* Granite 4.0-H: Mamba-2 and attention layers, each with an FFN */,
    HR_ARCH_NEMOTRON_H /* Nemotron-H: each layer Mamba-2, attention or a (relu^2) FFN */,
    HR_ARCH_NEMOTRON_H_MOE /* Nemotron-H with MoE FFN layers (Nemotron 3 Nano) */,
    HR_ARCH_LFM2 /* Liquid LFM2: short convolutions and attention layers, each with an FFN */,
    HR_ARCH_FALCON_H1 /* Falcon-H1: attention beside a Mamba-2 mixer in every layer, an FFN */,
    HR_ARCH_LFM2MOE /* LFM2 with MoE FFNs after leading dense layers (LFM2-8B-A1B) */,
    HR_ARCH_QWEN35 /* Qwen3.5: gated delta net layers and gated attention every Nth */,
    HR_ARCH_QWEN35MOE /* Qwen3.5 with MoE FFNs and a gated shared expert */,
    HR_ARCH_QWEN3NEXT /* Qwen3-Next: Qwen3.5-MoE's layers with a fused beta/alpha projection */,
    HR_ARCH_JAMBA /* Jamba: Mamba (with dt/B/C norms) and attention layers, MoE in some */,
    HR_ARCH_COUNT
} hr_arch;

HR_API const char *hr_arch_name(hr_arch arch);           /* "llama", "gemma2", ... */
HR_API hr_arch hr_arch_from_name(const char *gguf_arch); /* HR_ARCH_UNKNOWN if unknown */

/* Which block a tensor belongs to. */
#define HR_LAYER_INPUT (-1)  /* token_embd, position / token-type embeddings */
#define HR_LAYER_OUTPUT (-2) /* output_norm, output, final heads */

/* What a tensor is for: drives quantization mix rules and the compute graph. */
typedef enum hr_role {
    HR_ROLE_OTHER = 0,
    HR_ROLE_TOKEN_EMBD, HR_ROLE_POS_EMBD, HR_ROLE_TOKEN_TYPES, HR_ROLE_OUTPUT,
    HR_ROLE_OUTPUT_NORM, HR_ROLE_NORM,
    HR_ROLE_ATTN_Q, HR_ROLE_ATTN_K, HR_ROLE_ATTN_V, HR_ROLE_ATTN_QKV, HR_ROLE_ATTN_OUTPUT,
    HR_ROLE_ATTN_Q_A, HR_ROLE_ATTN_Q_B, HR_ROLE_ATTN_KV_A_MQA, HR_ROLE_ATTN_KV_B,
    HR_ROLE_ATTN_K_B, HR_ROLE_ATTN_V_B,
    HR_ROLE_FFN_GATE, HR_ROLE_FFN_UP, HR_ROLE_FFN_DOWN,
    HR_ROLE_FFN_GATE_EXPS, HR_ROLE_FFN_UP_EXPS, HR_ROLE_FFN_DOWN_EXPS, HR_ROLE_FFN_GATE_UP_EXPS,
    HR_ROLE_FFN_GATE_SHEXP, HR_ROLE_FFN_UP_SHEXP, HR_ROLE_FFN_DOWN_SHEXP,
    HR_ROLE_FFN_GATE_INP, HR_ROLE_BIAS,
    HR_ROLE_SSM_IN, HR_ROLE_SSM_CONV1D, HR_ROLE_SSM_X, HR_ROLE_SSM_DT, HR_ROLE_SSM_A,
    HR_ROLE_SSM_D, HR_ROLE_SSM_OUT,
    HR_ROLE_TIME_MIX, HR_ROLE_CHANNEL_MIX,
    /* gated delta nets (Qwen3.5, Qwen3-Next): the output gate, the decay
     * (alpha) and beta projections, and Qwen3-Next's fused beta-alpha */
    HR_ROLE_ATTN_GATE, HR_ROLE_SSM_ALPHA, HR_ROLE_SSM_BETA, HR_ROLE_SSM_BA,
    /* LFM2's short convolutions: in and out projections, the conv kernel */
    HR_ROLE_SHORTCONV_IN, HR_ROLE_SHORTCONV_OUT, HR_ROLE_SHORTCONV_CONV,
    HR_ROLE_COUNT
} hr_role;

/* Classify a GGUF-style tensor name (pure; used by every reader). */
HR_API hr_role hr_role_from_name(const char *gguf_name);

typedef struct hr_tensor {
    const char *name;    /* GGUF-style name, owned by the model */
    const char *hf_name; /* original safetensors name, or NULL */
    hr_type type;
    uint32_t n_dims;
    int64_t ne[4];       /* ne[0] = row length; unused dims are 1 */
    uint64_t bytes;      /* exact bytes (ggml_nbytes / safetensors extent) */
    uint64_t offset;     /* offset within its file's data section */
    int32_t layer;       /* HR_LAYER_INPUT, HR_LAYER_OUTPUT or block index */
    uint16_t file_index; /* shard index for split models */
    uint16_t role;       /* hr_role */
} hr_tensor;

/* Per-layer hyperparameters (per-layer arrays in GGUF are honoured). */
typedef struct hr_layer {
    uint32_t n_head;
    uint32_t n_head_kv;      /* 0 for layers without attention */
    uint32_t n_embd_head_k;  /* key length per head */
    uint32_t n_embd_head_v;  /* value length per head */
    uint32_t n_ff;           /* dense FFN length, 0 if the layer is MoE only */
    uint32_t n_expert;       /* 0 for dense layers */
    uint32_t n_expert_used;
    uint32_t n_expert_shared;
    uint32_t n_ff_exp;       /* per-expert FFN length */
    bool is_swa;             /* sliding-window attention layer */
    bool is_recurrent;       /* SSM / RWKV layer (no KV cache) */
    bool has_kv;             /* owns KV cache cells */
} hr_layer;

#define HR_MODEL_MAX_WARNINGS 8
#define HR_MODEL_MAX_FILES 256

typedef struct hr_model {
    hr_source source;
    const char *path;         /* file opened (first shard), or preset name */
    const char *name;         /* general.name / preset name / directory name */
    const char *arch_name;    /* general.architecture as written */
    hr_arch arch;

    /* file facts */
    uint32_t gguf_version;    /* 0 if not GGUF */
    uint32_t alignment;       /* GGUF data alignment */
    uint32_t n_files;         /* shards read */
    hr_ftype ftype;           /* general.file_type or inferred; HR_FTYPE_UNKNOWN */
    const char *quant_name;   /* "Q4_K_M", "F16", "BF16 (safetensors)", "GPTQ 4-bit" ... */
    const char *dtype;        /* safetensors torch_dtype, or NULL */
    bool is_bitnet_fork;      /* BitNet fork ids were remapped */

    /* shape */
    uint32_t n_layer;
    uint32_t n_embd;
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_head, n_head_kv;             /* of layer 0 (see layers[] for per-layer) */
    uint32_t n_embd_head_k, n_embd_head_v;  /* of layer 0 */
    uint32_t n_ff;                          /* of the first dense layer */
    uint32_t n_swa;                         /* sliding window (0 = none) */
    uint32_t swa_pattern;                   /* every Nth layer is global (0 = n/a) */
    uint32_t n_expert, n_expert_used, n_expert_shared, n_ff_exp, n_ff_shexp;
    uint32_t n_layer_dense_lead;            /* leading dense layers of MoE models */
    uint32_t n_lora_q, n_lora_kv, n_rot;    /* MLA ranks and rope dim */
    bool is_mla;                            /* KV cache stores compressed latents */
    uint32_t ssm_d_conv, ssm_d_inner, ssm_d_state, ssm_dt_rank, ssm_n_group;
    uint32_t rwkv_head_size;                /* wkv head size (RWKV) */
    uint32_t shortconv_l_cache;             /* LFM2: short convolution length (its state
                                               keeps l_cache - 1 columns) */
    uint32_t n_pos_embd;                    /* learned positions (BERT) */
    uint32_t n_shared_kv_layers;            /* trailing layers reusing KV (gemma3n style) */
    bool causal;                            /* false for BERT-like encoders */
    bool embedding_only;                    /* no LM head used (embedding model) */
    uint8_t pooling;                        /* an embedding model's pooling, llama.cpp's
                                               pooling_type: 1 mean, 2 cls, 3 last, 4 rank */
    bool tied_output;                       /* output reuses token_embd */
    bool has_attn_bias, has_qkv_bias, has_ffn_bias;
    bool has_fused_qkv;
    bool has_fused_qkvz;                    /* Qwen3-Next's legacy ssm_in (q, k, v, z) */
    float attn_logit_softcap, final_logit_softcap;
    /* Granite's multipliers (0: none; each present one is a scale op) */
    float embedding_scale, residual_scale, logit_scale;
    bool no_rope;                           /* Granite: rope.scaling.finetuned false */
    /* Nemotron-H MoE: the chosen experts' weights normalised, then scaled
     * (each a few ops in the graph; other archs fix these by family) */
    bool expert_weights_norm;
    float expert_weights_scale;
    hr_layer *layers;                       /* n_layer entries */

    /* tensors */
    hr_tensor *tensors;
    size_t n_tensors;

    /* totals (computed once when the model is built) */
    uint64_t n_params;
    uint64_t n_bytes;          /* sum of tensor bytes */
    double bits_per_weight;    /* 8 * n_bytes / n_params */
    uint64_t input_bytes;      /* tensors of HR_LAYER_INPUT */
    uint64_t output_bytes;     /* tensors of HR_LAYER_OUTPUT */
    uint64_t *layer_bytes;     /* n_layer entries */

    /* non-fatal findings ("unknown architecture 'foo': generic shape keys used") */
    const char *warnings[HR_MODEL_MAX_WARNINGS];
    int n_warnings;

    void *internal_;           /* engine-private (arena, mappings); do not touch */
} hr_model;

/* Open any model file or directory:
 *  - *.gguf (any shard of a split set opens the whole set),
 *  - *.safetensors / model.safetensors.index.json / a directory holding them
 *    (with config.json beside),
 *  - config.json alone,
 *  - a preset name ("llama-3.1-8b") or a preset YAML path.
 * Files are opened read-only and every read is bounds-checked. */
HR_API hr_status hr_model_open(const char *path_or_preset, hr_model **out, hr_error *err);

/* Format-specific entry points (hr_model_open dispatches to these). */
HR_API hr_status hr_model_open_gguf(const char *path, hr_model **out, hr_error *err);
HR_API hr_status hr_model_open_safetensors(const char *path, hr_model **out, hr_error *err);
HR_API hr_status hr_model_open_config(const char *config_json_path, hr_model **out, hr_error *err);
/* Parse a config.json already in memory (len bytes). */
HR_API hr_status hr_model_from_config_json(const char *json, size_t len, const char *origin,
                                           hr_model **out, hr_error *err);

HR_API void hr_model_free(hr_model *model);

/* Serialise the full description as JSON (malloc'd string, caller frees). */
HR_API char *hr_model_to_json(const hr_model *model, bool include_tensors);

/* Count tensors per type: fills counts[i]/types[i] for up to max entries; returns entries. */
HR_API int hr_model_type_histogram(const hr_model *model, hr_type *types, uint32_t *counts,
                                   int max);

/* ------------------------------------------------------------------------
 * Shapes: a model described by its hyperparameters (presets, config.json,
 * what-if). hr_model_from_shape lays the tensors out as llama.cpp's converter
 * and llama-quantize would (GGUF names, mix rules for the ftype).
 */
typedef struct hr_shape {
    const char *name;
    const char *arch_name;      /* GGUF architecture name: "llama", "qwen2", ... */
    uint32_t n_layer, n_embd, n_vocab, n_ctx_train;
    uint32_t n_head, n_head_kv; /* n_head_kv 0 means n_head */
    uint32_t head_dim;          /* 0: n_embd / n_head */
    uint32_t head_dim_v;        /* 0: head_dim */
    uint32_t n_ff;
    uint32_t n_swa, swa_pattern;            /* window and "every Nth global" */
    uint32_t n_expert, n_expert_used, n_expert_shared, n_ff_exp, n_ff_shexp;
    uint32_t n_layer_dense_lead;
    uint32_t n_lora_q, n_lora_kv, n_rot, head_dim_qk_nope; /* MLA */
    uint32_t ssm_d_conv, ssm_d_inner, ssm_d_state, ssm_dt_rank, ssm_n_group;
    uint32_t rwkv_head_size;
    uint32_t n_pos_embd;        /* learned positions (BERT), 0 if rope */
    bool tied_output;
    bool qkv_bias, attn_bias, ffn_bias;
    bool causal;                /* default true: set false for encoders */
    bool embedding_only;
    float attn_logit_softcap, final_logit_softcap;
    hr_ftype ftype;             /* GGUF-style quantization of the tensors */
    hr_type dtype;              /* used when ftype is HR_FTYPE_UNKNOWN: every tensor this type */
    bool rope_freqs;            /* llama-3.x rope scaling: rope_freqs.weight (n_rot/2 floats) */
    /* hybrids: attention in layers il % period == offset, the rest Mamba-2
     * (HF's attn_layer_period / attn_layer_offset) */
    uint32_t attn_layer_period, attn_layer_offset;
    /* Jamba: MoE FFNs in layers il % period == offset (HF's expert_layer_*) */
    uint32_t expert_layer_period, expert_layer_offset;
    /* or one character per layer: M Mamba-2, * attention (Granite-4.0-H);
     * also - FFN, E MoE FFN (Nemotron-H's hybrid_override_pattern); C short
     * convolution, * attention (LFM2) */
    const char *layer_pattern;
    uint32_t shortconv_l_cache; /* LFM2: the short convolutions' length (C layers) */
    bool ssm_no_norm;           /* Mamba-2 mixers without their grouped norm (Falcon-H1's
                                   mamba_rms_norm false) */
    bool expert_weights_norm;   /* Nemotron-H MoE: norm_topk_prob */
    float expert_weights_scale; /* Nemotron-H MoE: routed_scaling_factor */
    float embedding_scale, residual_scale, logit_scale; /* Granite's multipliers */
    bool no_rope;               /* Granite 4.0-H: no position embeddings */
    uint32_t pooling;           /* embedding models: llama.cpp's pooling_type (0: mean) */
    bool ssm_fused_qkvz;        /* Qwen3-Next as its first GGUFs hold it: one ssm_in
                                   projection for q, k, v and z */
} hr_shape;

/* Fill *shape with neutral defaults (causal, ftype F16, dtype invalid). */
HR_API void hr_shape_init(hr_shape *shape);
HR_API hr_status hr_model_from_shape(const hr_shape *shape, hr_model **out, hr_error *err);

#ifdef __cplusplus
}
#endif
#endif
