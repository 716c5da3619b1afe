/* Stack per-expert safetensors tensors into GGUF's 3-D expert tensors. */
#ifndef HR_ST_EXPERTS_H
#define HR_ST_EXPERTS_H

#include <stdint.h>

#include "headroom/model.h"

/* Merge every "blk.N.<x>_exps.E.<leaf>" group (same type and 2-D shape,
 * distinct E) into "blk.N.<x>_exps.<leaf>" with ne[2] = members and the
 * summed bytes; *stacked counts the stacks made. Call before finalize. */
hr_status st_stack_experts(hr_model *m, uint32_t *stacked, hr_error *err);

#endif
