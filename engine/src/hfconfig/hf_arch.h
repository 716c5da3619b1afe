/* Hugging Face architecture table. */
#ifndef HR_HF_ARCH_H
#define HR_HF_ARCH_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hf_arch_traits {
    const char *model_type;  /* config "model_type" */
    const char *class_stem;  /* "Qwen2" of Qwen2ForCausalLM / Qwen2Model */
    const char *arch_name;   /* GGUF architecture */
    bool encoder;            /* bidirectional encoder: non-causal, embedding-only */
    bool qkv_bias;           /* q/k/v biases by default */
    bool tied_default;       /* tie_word_embeddings when the config omits it */
    uint32_t swa_pattern;    /* llama.cpp's SWA pattern when sliding_window is set (0: no SWA) */
    uint32_t ctx_default;    /* training context when the config has none (0: none) */
} hf_arch_traits;

const hf_arch_traits *hf_arch_by_model_type(const char *model_type);
/* "Qwen2ForCausalLM", "Qwen2Model", "BertForMaskedLM" ... */
const hf_arch_traits *hf_arch_by_class(const char *architecture);
/* True for classes that carry an LM head (…ForCausalLM, …ForConditionalGeneration). */
bool hf_class_has_lm_head(const char *architecture);

#endif
