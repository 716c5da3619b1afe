/* GGUF file type ids -> hr_type / hr_ftype, with BitNet fork detection. */
#ifndef HR_GGUF_TYPES_H
#define HR_GGUF_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf_reader.h"
#include "headroom/types.h"

/* File ids the BitNet fork (microsoft/BitNet's ggml) gives its types and ftypes. */
#define GGUF_BITNET_ID_I2_S 36u
#define GGUF_BITNET_ID_I8_S 37u
#define GGUF_BITNET_ID_TL1 38u
#define GGUF_BITNET_ID_TL2 39u
#define GGUF_BITNET_FTYPE_TL1 38u
#define GGUF_BITNET_FTYPE_TL2 39u
#define GGUF_BITNET_FTYPE_I2_S 40u

/* True when the file's ids 36-39 (types) and 38-40 (ftypes) follow the BitNet
 * fork: the architecture is a BitNet one, or the file carries types that only
 * the fork writes (36-38, which mainline removed) under a fork ftype. */
bool gguf_is_bitnet_fork(const gguf_file *f, const char *arch, bool have_ftype, uint32_t ftype);

/* Map a tensor type id as written; HR_TYPE_INVALID if unknown. */
hr_type gguf_type_from_file(uint32_t id, bool bitnet_fork);
/* The id a writer puts in a file for this type (fork ids for BITNET_*). */
uint32_t gguf_type_to_file(hr_type type);

/* Map general.file_type; HR_FTYPE_UNKNOWN if unknown. The top bit
 * (LLAMA_FTYPE_GUESSED, 1024) is ignored. */
hr_ftype gguf_ftype_from_file(uint32_t id, bool bitnet_fork);
uint32_t gguf_ftype_to_file(hr_ftype ftype);

#endif
