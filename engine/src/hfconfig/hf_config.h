/* Hugging Face config.json: parsed hyperparameters, shared by the
 * config-only reader and the safetensors reader. */
#ifndef HR_HF_CONFIG_H
#define HR_HF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headroom/model.h"

/* config.json files are small; anything bigger is not a config. */
#define HR_HF_CONFIG_MAX_BYTES (16u * 1024u * 1024u)

typedef enum hf_quant_method {
    HF_QUANT_NONE = 0, HF_QUANT_GPTQ, HF_QUANT_AWQ, HF_QUANT_BNB_4BIT, HF_QUANT_BNB_8BIT,
    HF_QUANT_FP8, HF_QUANT_MXFP4, HF_QUANT_BITNET, HF_QUANT_OTHER
} hf_quant_method;

typedef struct hf_config {
    char architecture[96];  /* architectures[0] ("LlamaForCausalLM") or "" */
    char model_type[64];    /* "llama" ... or "" */
    char name[128];         /* _name_or_path or "" */
    char arch_name[32];     /* GGUF architecture ("llama", "qwen2", ...) */
    bool arch_known;        /* false: generic keys on an unknown type */
    bool text_config;       /* hyperparameters were read from "text_config" */

    uint32_t n_layer, n_embd, n_vocab, n_ctx_train;
    uint32_t n_head, n_head_kv, head_dim, head_dim_v, n_ff;
    uint32_t n_swa, swa_pattern;  /* llama.cpp sense: every Nth layer global */
    uint8_t *layer_swa;           /* n_layer flags from layer_types (malloc'd) or NULL */
    uint32_t n_expert, n_expert_used, n_expert_shared, n_ff_exp, n_ff_shexp;
    uint32_t n_layer_dense_lead;
    /* n_layer flags, 1 where a dense MLP (intermediate_size) stands in for the
     * experts by Qwen-MoE's mlp_only_layers / decoder_sparse_step (malloc'd),
     * or NULL when only n_layer_dense_lead decides */
    uint8_t *layer_dense;
    bool exp_probs_b;       /* routed experts' score-correction bias (DeepSeek-V3 noaux_tc) */
    uint32_t n_lora_q, n_lora_kv, n_rot, head_dim_qk_nope;
    uint32_t ssm_d_conv, ssm_d_inner, ssm_d_state, ssm_dt_rank, ssm_n_group;
    uint32_t rwkv_head_size;
    uint32_t n_pos_embd;
    bool tied_output, qkv_bias, attn_bias, ffn_bias;
    bool causal, embedding_only;
    bool rope_freqs;        /* rope_scaling llama3: rope_freqs.weight */
    /* hybrids' layer kinds as hr_shape's layer_pattern (Granite-4.0-H's and
     * LFM2's layer_types, Nemotron-H's hybrid_override_pattern; malloc'd) or
     * NULL; Granite's multipliers and its position embeddings */
    char *layer_pattern;
    uint32_t shortconv_l_cache; /* LFM2: conv_L_cache */
    bool ssm_no_norm;           /* Falcon-H1: mamba_rms_norm false */
    uint32_t expert_layer_period, expert_layer_offset; /* Jamba: its MoE layers */
    bool expert_weights_norm;   /* Nemotron-H MoE: norm_topk_prob */
    float expert_weights_scale; /* Nemotron-H MoE: routed_scaling_factor */
    float embedding_scale, residual_scale, logit_scale;
    bool no_rope;
    float attn_logit_softcap, final_logit_softcap;

    hr_type dtype;          /* torch_dtype as an hr_type (F32 when absent) */
    char dtype_name[16];    /* "bfloat16" as written, or "" */

    hf_quant_method quant;
    uint32_t quant_bits;
    uint32_t quant_group;       /* gptq/awq group along K (0: one group per column);
                                 * fp8: scale block along K (0: one scale per tensor) */
    uint32_t quant_block_out;   /* fp8: scale block along N */
    bool quant_double;                  /* bitsandbytes nested (double) quantization */
    char quant_name[64];                /* "GPTQ 4-bit g128", "bitsandbytes NF4", ... */

    char warnings[4][160];
    int n_warnings;
} hf_config;

/* Parse config.json text. origin names the file in errors. On success the
 * caller releases it with hf_config_free. */
hr_status hf_config_parse(const char *json, size_t len, const char *origin, hf_config *out,
                          hr_error *err);
/* Read and parse a config.json file (size-limited). */
hr_status hf_config_read(const char *path, hf_config *out, hr_error *err);
void hf_config_free(hf_config *c);

/* The hr_shape that lays the config's tensors out (dtype tensors, no ftype). */
void hf_config_to_shape(const hf_config *c, hr_shape *shape);

/* Fill a model's hyperparameters and layers[] from the config (the same
 * values for the config-only and the safetensors paths). Sets n_layer and
 * allocates layers[] when the model has none. */
hr_status hf_config_apply_hparams(const hf_config *c, hr_model *m, hr_error *err);

/* Bytes a quantized linear weight of ne (ggml order) occupies in the
 * checkpoint under the config's quantization (see the formula in the .c). */
uint64_t hf_config_quant_weight_bytes(const hf_config *c, const int64_t ne[4]);

/* "GPTQ 4-bit g128" / "BF16" plus suffix, in the model's arena. */
const char *hf_config_quant_label(const hf_config *c, hr_model *m, const char *suffix);

/* A display name from a checkpoint directory: "org/name" from a Hugging Face
 * cache path (models--org--name/snapshots/<hash>), else the last component.
 * False when nothing usable ("." or empty). */
bool hf_name_from_dir(const char *dir, char *out, size_t cap);

/* Whether layer il routes through experts (else it has the dense FFN). */
bool hf_config_layer_is_moe(const hf_config *c, uint32_t il);

/* What the shape's uniform layers cannot express: the dense layers Qwen-MoE's
 * mlp_only_layers / decoder_sparse_step ask for (tensors and layers[] as a
 * dense model's), and DeepSeek-V3's exp_probs_b on every MoE layer. shape is
 * the one m was built from; m is finalized again when anything changed. */
hr_status hf_config_apply_layer_kinds(const hf_config *c, const hr_shape *shape, hr_model *m,
                                      hr_error *err);

/* Copy the config's warnings onto the model. */
void hf_config_copy_warnings(const hf_config *c, hr_model *m);

#endif
