/* Engine-private helpers of the quant module (shared with the shape builder). */
#ifndef HR_QUANT_INTERNAL_H
#define HR_QUANT_INTERNAL_H

#include <stdbool.h>

#include "headroom/model.h"

/* True when convert_hf_to_gguf.py always writes this tensor as F32 whatever
 * the output type: 1-D tensors, norms, names not ending in ".weight", expert
 * routers, position / token-type embeddings, SSM conv kernels and RWKV's
 * small mixing weights. Those tensors are never quantized afterwards either. */
bool hr_quant_source_is_f32(const char *name, uint32_t n_dims, hr_role role);

/* llama-quantize's tensor_allows_quantization (default params). */
bool hr_quant_allows(const char *name, uint32_t n_dims, hr_role role);

#endif
