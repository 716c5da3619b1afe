/* GGUF fixture writer for tests.
 *
 * Builds a GGUF file in memory and writes it with the tensor data left as a
 * sparse hole (the file is extended with ftruncate): only shapes matter to
 * headroom, so a "70B" fixture costs a few kilobytes of disk.
 *
 *   gguf_writer *w = gguf_writer_new(3);
 *   gguf_writer_add_string(w, "general.architecture", "llama");
 *   gguf_writer_add_u32(w, "llama.block_count", 2);
 *   int64_t ne[2] = {4096, 4096};
 *   gguf_writer_add_tensor(w, "blk.0.attn_q.weight", HR_TYPE_Q4_K, 2, ne);
 *   gguf_writer_write(w, path);
 *   gguf_writer_free(w);
 *
 * Layout follows the spec: header, KVs, tensor infos, padding to the
 * alignment, then each tensor at an aligned offset in the order added.
 * Version 1 writes counts, string lengths, array lengths and dims as u32;
 * versions 2 and 3 as u64.
 *
 * Corrupt fixtures: the "raw" calls below write header fields with arbitrary
 * values (claimed counts, byte-swapped order, undecodable values, offsets,
 * a cut file) so readers can be tested on files no sane writer produces.
 *
 * Errors (bad arguments, out of memory) are sticky: the writer remembers the
 * first one and gguf_writer_write() returns -1. Not thread-safe per writer.
 */
#ifndef HR_GGUF_WRITER_H
#define HR_GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headroom/model.h"
#include "headroom/types.h"

/* GGUF metadata value types (numbers as in the spec). */
typedef enum gguf_writer_vtype {
    GW_UINT8 = 0, GW_INT8 = 1, GW_UINT16 = 2, GW_INT16 = 3, GW_UINT32 = 4, GW_INT32 = 5,
    GW_FLOAT32 = 6, GW_BOOL = 7, GW_STRING = 8, GW_ARRAY = 9, GW_UINT64 = 10, GW_INT64 = 11,
    GW_FLOAT64 = 12
} gguf_writer_vtype;

typedef struct gguf_writer gguf_writer;

/* A new writer for GGUF version 1, 2 or 3 (other values are written as-is:
 * useful for "unsupported version" fixtures). NULL on out of memory. */
gguf_writer *gguf_writer_new(uint32_t version);
void gguf_writer_free(gguf_writer *w);

/* Add general.alignment (u32) and lay tensors out on it. A value that is not
 * a power of two is still written (for corrupt fixtures) but the layout then
 * uses the default 32. */
void gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment);

/* ---- metadata: one call per value type; keys are copied ---- */
void gguf_writer_add_u8(gguf_writer *w, const char *key, uint8_t v);
void gguf_writer_add_i8(gguf_writer *w, const char *key, int8_t v);
void gguf_writer_add_u16(gguf_writer *w, const char *key, uint16_t v);
void gguf_writer_add_i16(gguf_writer *w, const char *key, int16_t v);
void gguf_writer_add_u32(gguf_writer *w, const char *key, uint32_t v);
void gguf_writer_add_i32(gguf_writer *w, const char *key, int32_t v);
void gguf_writer_add_f32(gguf_writer *w, const char *key, float v);
void gguf_writer_add_bool(gguf_writer *w, const char *key, bool v);
void gguf_writer_add_string(gguf_writer *w, const char *key, const char *v);
void gguf_writer_add_u64(gguf_writer *w, const char *key, uint64_t v);
void gguf_writer_add_i64(gguf_writer *w, const char *key, int64_t v);
void gguf_writer_add_f64(gguf_writer *w, const char *key, double v);

/* Array of n scalars of elem_type. `values` is a C array of the matching
 * type: uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
 * uint64_t, int64_t or double. elem_type GW_STRING / GW_ARRAY: use the calls
 * below. */
void gguf_writer_add_array(gguf_writer *w, const char *key, gguf_writer_vtype elem_type,
                           const void *values, uint64_t n);
void gguf_writer_add_string_array(gguf_writer *w, const char *key, const char *const *values,
                                  uint64_t n);
/* tokenizer.ggml.tokens with n short distinct strings ("t0", "t1", ...). */
void gguf_writer_add_dummy_tokens(gguf_writer *w, uint32_t n);
/* A stand-in SentencePiece vocabulary a real llama.cpp accepts:
 * tokenizer.ggml.model "llama", n tokens ("<unk>", "<s>", "</s>", the 256 byte
 * tokens "<0x00>".."<0xFF>", "<|endoftext|>", "<mask>", then "t261", ...), scores
 * (all 0) and token types. */
void gguf_writer_add_dummy_vocab(gguf_writer *w, uint32_t n);

/* Remove every KV with this key (e.g. to drop one that gguf_writer_new_from_model
 * wrote); returns how many were removed. */
int gguf_writer_remove_key(gguf_writer *w, const char *key);

/* ---- tensors (names are copied; ne[0] is the row length) ---- */

/* Add a tensor of an hr_type; BitNet types are written with the fork's file
 * ids (36-39). Its data size comes from hr_type_tensor_bytes. Returns the
 * tensor index, or -1 (sticky error) if the shape is invalid for the type or
 * the type has no GGUF id (safetensors-only dtypes, 200+). */
int gguf_writer_add_tensor(gguf_writer *w, const char *name, hr_type type, uint32_t n_dims,
                           const int64_t *ne);
/* Add a tensor with a raw ggml type id and an explicit data size (used for
 * layout only). n_dims may exceed 4 (dims then needs that many entries). */
int gguf_writer_add_tensor_raw(gguf_writer *w, const char *name, uint32_t type_id,
                               uint32_t n_dims, const uint64_t *dims, uint64_t data_bytes);

/* ---- raw mode for corrupt fixtures ---- */

#define GGUF_WRITER_ACTUAL UINT64_MAX

/* Magic bytes and version field exactly as written (default "GGUF", version). */
void gguf_writer_set_header(gguf_writer *w, const char magic[4], uint32_t version_field);
/* Counts written in the header instead of the real ones (GGUF_WRITER_ACTUAL
 * keeps the real count). */
void gguf_writer_claim_counts(gguf_writer *w, uint64_t n_tensors, uint64_t n_kv);
/* Write every multi-byte field big-endian (magic stays "GGUF", as gguf-py's
 * big-endian writer does). */
void gguf_writer_set_big_endian(gguf_writer *w, bool big_endian);
/* A KV with a normal key, the given type field, and `len` verbatim value bytes
 * (e.g. GW_STRING followed by a length of 2^40 and three characters). */
void gguf_writer_add_kv_raw(gguf_writer *w, const char *key, uint32_t type_field,
                            const void *value_bytes, size_t len);
/* Override the data offset written for tensor `index`. */
void gguf_writer_set_tensor_offset(gguf_writer *w, int index, uint64_t offset);
/* Final file size instead of the laid-out one (smaller cuts the file, even
 * inside the header; larger adds a hole). */
void gguf_writer_set_file_size(gguf_writer *w, uint64_t size);

/* Byte positions of the serialised file (from the current contents). */
typedef struct gguf_writer_layout {
    uint64_t kv_start;          /* first KV (after magic, version, counts) */
    uint64_t tensor_info_start; /* first tensor info */
    uint64_t header_end;        /* end of the tensor infos, before padding */
    uint64_t data_start;        /* header_end padded to the alignment */
    uint64_t data_bytes;        /* data section size (tensors padded) */
    uint64_t file_size;         /* what gguf_writer_write makes */
} gguf_writer_layout;

/* Serialise the header (up to data_start) into a malloc'd buffer. 0 on success. */
int gguf_writer_serialize(gguf_writer *w, unsigned char **out, size_t *len,
                          gguf_writer_layout *layout);

/* Write the file: the header bytes, then extend to the final size. 0 on success. */
int gguf_writer_write(gguf_writer *w, const char *path);

/* ---- from a model description ---- */

/* A writer (version 3) carrying the model's hyperparameters as the keys
 * llama.cpp reads (general.architecture, general.name, general.file_type,
 * ARCH.context_length/embedding_length/block_count/feed_forward_length,
 * attention.head_count/head_count_kv (per-layer arrays where layers differ),
 * key/value lengths, rope dim, MLA ranks, sliding window with a per-layer
 * bool pattern, experts, SSM / RWKV sizes, causal, pooling, soft-caps,
 * ARCH.vocab_size and a dummy vocabulary, see gguf_writer_add_dummy_vocab) and every tensor of the model
 * (types and shapes), plus neutral values for keys llama.cpp requires but
 * headroom does not model (norm epsilons, logit_scale, expert_weights_scale),
 * so a real llama.cpp loads the file. Add, remove or change anything, then
 * write it. NULL on error (e.g. a tensor of a safetensors-only dtype). */
gguf_writer *gguf_writer_new_from_model(const hr_model *model);
/* Same, written straight to path. 0 on success. */
int gguf_writer_from_model(const hr_model *model, const char *path);

#endif
