/* gpt-oss expert tensors in the GGUF layout. */
#ifndef HR_ST_GPT_OSS_H
#define HR_ST_GPT_OSS_H

#include "headroom/model.h"

/* Merge MXFP4 blocks+scales into MXFP4 ".weight" tensors, transpose bf16
 * experts stored input-major, split fused gate_up experts into gate and up.
 * Call before finalize, on gpt-oss or MXFP4 checkpoints. */
hr_status st_gpt_oss_layout(hr_model *m, hr_error *err);

#endif
