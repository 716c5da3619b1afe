/* headroom — what-if quantization (llama-quantize's mix rules).
 *
 * Pure functions of the model; thread-safe.
 */
#ifndef HEADROOM_QUANT_H
#define HEADROOM_QUANT_H

#include "headroom/model.h"
#include "headroom/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Context llama-quantize keeps while walking tensors (counts of attn_v /
 * ffn_down seen so far decide use_more_bits). */
typedef struct hr_quant_state {
    int i_attention_wv, n_attention_wv;
    int i_ffn_down, n_ffn_down;
    int i_ffn_gate, n_ffn_gate;
    int i_ffn_up, n_ffn_up;
    /* appended: llama-quantize assumes tied embeddings until it sees
     * output.weight; tied token_embd then takes the output rule */
    bool has_output_weight;
} hr_quant_state;

/* Start a walk over model's tensors for ftype. */
HR_API void hr_quant_state_init(hr_quant_state *st, const hr_model *model);

/* The type llama-quantize would give tensor t of model at ftype (shape
 * fallbacks included). Tensors that are never quantized keep their type (or
 * F32 for norms / 1-D). Call in tensor order; updates st. */
HR_API hr_type hr_quant_tensor_type(hr_quant_state *st, const hr_model *model,
                                    const hr_tensor *t, hr_ftype ftype);

/* New model whose tensors are re-typed for ftype (bytes, totals, quant name
 * updated). Caller frees with hr_model_free. */
HR_API hr_status hr_model_requantize(const hr_model *model, hr_ftype ftype, hr_model **out,
                                     hr_error *err);

/* Weights only: total bytes and per-layer bytes at ftype without building a
 * model. layer_bytes may be NULL (else n_layer entries). */
HR_API hr_status hr_quant_project(const hr_model *model, hr_ftype ftype, uint64_t *total_bytes,
                                  uint64_t *input_bytes, uint64_t *output_bytes,
                                  uint64_t *layer_bytes, hr_error *err);

#ifdef __cplusplus
}
#endif
#endif
