/* How a weight tensor is padded in a backend buffer: shared by the plan's
 * per-tensor loop and the per-layer sums the model precomputes. */
#ifndef HR_MODEL_WEIGHT_PAD_H
#define HR_MODEL_WEIGHT_PAD_H

#include <stdbool.h>
#include <stdint.h>

#include "headroom/types.h"

/* CUDA / ROCm pad quantized rows so kernels can read whole 512-element
 * blocks past the end (MATRIX_ROW_PADDING in ggml-cuda). */
#define HR_MATRIX_ROW_PADDING 512

/* Row padding of ggml_backend_cuda_buffer_type_get_alloc_size (rare:
 * quantized tensors whose rows are not a multiple of 512 elements). */
static inline uint64_t hr_weight_row_pad_bytes(hr_type type, int64_t ne0)
{
    if (ne0 % HR_MATRIX_ROW_PADDING == 0)
        return 0;
    const hr_type_info *ti = hr_type_get(type);
    if (!ti || !ti->quantized || ti->special_size)
        return 0;
    return hr_type_row_bytes(type, HR_MATRIX_ROW_PADDING - ne0 % HR_MATRIX_ROW_PADDING);
}

/* the allocator's alignment: a power of two in every ggml backend; any
 * other value is rounded generically */
static inline uint64_t hr_weight_align_up(uint64_t bytes, uint32_t align)
{
    if ((align & (align - 1)) == 0)
        return (bytes + align - 1) & ~(uint64_t)(align - 1);
    return align ? (bytes + align - 1) / align * align : bytes; /* GGML_PAD */
}

#endif
