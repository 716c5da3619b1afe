/* DeepSeek2 MLA tensor layout for safetensors checkpoints. */
#ifndef HR_ST_MLA_H
#define HR_ST_MLA_H

#include "headroom/model.h"
#include "hfconfig/hf_config.h"

/* Replace each float "blk.N.attn_kv_b.weight" by attn_k_b {nope, rank, heads}
 * and attn_v_b {rank, v, heads} (bytes split in proportion); no-op for
 * configs without MLA or tensors of another shape. Call before finalize. */
hr_status st_split_kv_b(hr_model *m, const hf_config *cfg, hr_error *err);

#endif
