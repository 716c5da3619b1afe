/* Hugging Face tensor names -> GGUF / llama.cpp names. */
#ifndef HR_ST_NAMES_H
#define HR_ST_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headroom/model.h"

typedef struct st_name_ctx {
    hr_arch arch;      /* picks arch-specific names (gemma2 post norms, rwkv); UNKNOWN ok */
    uint32_t n_layer;  /* blocks at or past this keep their HF name; 0 = no limit */
} st_name_ctx;

typedef struct st_name_result {
    int32_t block;     /* block index, or -1 for a non-block tensor */
    bool known;        /* mapped through the name table (false: HF name kept) */
    bool past_layers;  /* a block index at or past ctx->n_layer (HF name kept) */
} st_name_result;

/* Map hf into buf ("model.layers.3.self_attn.q_proj.weight" ->
 * "blk.3.attn_q.weight"). An unknown name inside a recognised text block
 * becomes "blk.N.<rest of the HF name>" so it still counts in its layer;
 * anything else keeps the HF name. Returns false only if buf is too small. */
bool st_map_name(const char *hf, const st_name_ctx *ctx, char *buf, size_t buf_len,
                 st_name_result *res);

#endif
