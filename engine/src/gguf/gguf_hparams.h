/* Model description from GGUF metadata (llama.cpp's llama_model::load_hparams). */
#ifndef HR_GGUF_HPARAMS_H
#define HR_GGUF_HPARAMS_H

#include "gguf_reader.h"
#include "headroom/model.h"

/* Fill m's shape fields and m->layers from f's metadata (f = first shard).
 * m->arch_name and m->tensors must already be set: tensor presence decides
 * tied output, biases, fused QKV and which layers are MoE. */
hr_status gguf_fill_hparams(const gguf_file *f, hr_model *m, hr_error *err);

#endif
