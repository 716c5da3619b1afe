/* Engine-private helpers for building an hr_model (used by every reader). */
#ifndef HR_MODEL_INTERNAL_H
#define HR_MODEL_INTERNAL_H

#include <stdarg.h>

#include "headroom/model.h"

/* Allocate an empty model owning an arena for strings and arrays. */
hr_model *hr_model_alloc(hr_source source);

/* A new model with src's hyperparameters, layers, warnings and strings (its
 * own copies) but no tensors, not finalized: the start of a model derived
 * from src (a requantized copy, a test's variant). */
hr_status hr_model_copy_shell(const hr_model *src, hr_model **out, hr_error *err);

/* Arena copies; freed with the model. NULL on allocation failure. */
const char *hr_model_strdup(hr_model *m, const char *s);
const char *hr_model_strndup(hr_model *m, const char *s, size_t n);
void *hr_model_arena_alloc(hr_model *m, size_t bytes); /* zeroed, 16-aligned */

/* Append a zeroed tensor (ne = 1,1,1,1; layer = INPUT); NULL on failure.
 * The returned pointer is valid until the next push. */
hr_tensor *hr_model_push_tensor(hr_model *m, hr_error *err);

/* Allocate m->layers and m->layer_bytes for n_layer layers (zeroed). */
hr_status hr_model_set_layer_count(hr_model *m, uint32_t n_layer, hr_error *err);

/* Record a non-fatal warning (kept up to HR_MODEL_MAX_WARNINGS). */
void hr_model_warn(hr_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Derive what readers need not fill: each tensor's layer (from "blk.N."),
 * role (from its name), totals, per-layer bytes, bits per weight, quant name
 * (from ftype when NULL), arch enum (from arch_name when UNKNOWN), and
 * layer-0 summaries from layers[]. Rejects tensors whose block index is
 * >= n_layer. */
hr_status hr_model_finalize(hr_model *m, hr_error *err);

/* Parse "blk.N." prefix; returns N or -1. */
int32_t hr_tensor_block_index(const char *name);

/* Whether every repeating layer references this tensor although its name
 * has no block: rope_freqs (llama-3.x scaling) and Phi-3's
 * rope_factors_long / _short. llama.cpp's load_tensors creates it for each
 * layer i with layer i's buffer type (TENSOR_DUPLICATED for i != 0), and a
 * duplicate is reused only inside the same buffer type's context: one copy
 * in each device buffer that holds a layer, none on the host when every
 * layer is offloaded. Its t->layer stays HR_LAYER_INPUT. */
bool hr_tensor_is_layer_shared(const hr_tensor *t);

/* Weight bytes per layer as one backend buffer packs them, precomputed by
 * hr_model_finalize for the common alignments (32, 128), with or without
 * CUDA-style row padding: layer[il] for the repeating layers, then the
 * input tensors (layer < 0, not the output, not layer-shared), the output
 * tensors, the token_embd tensors a tied output duplicates, and the
 * layer-shared tensors (one copy). NULL when not precomputed for this
 * alignment, or the tensor list changed since finalize. */
typedef struct hr_weight_sums {
    const uint64_t *layer; /* n_layer entries */
    uint64_t input, output, embd_dup, layer_shared;
} hr_weight_sums;
bool hr_model_weight_sums(const hr_model *m, uint32_t alignment, bool row_padding,
                          hr_weight_sums *out);

/* The largest tensor of each role (bytes, and the type and ne[1] of the
 * first tensor of that size), over the tensors of the blocks and, for
 * HR_ROLE_OUTPUT and HR_ROLE_TOKEN_EMBD, outside them too; bytes 0 where
 * the role has none. Built by hr_model_finalize: the compute graph's op
 * offload reads it for every estimate. NULL when the tensor list changed
 * since finalize (or a model that never was finalized). */
typedef struct hr_role_max {
    uint64_t bytes;
    hr_type type;
    int64_t ne1;
} hr_role_max;
const hr_role_max *hr_model_role_max(const hr_model *m); /* HR_ROLE_COUNT entries */

/* The same per block: block il's largest tensor of each role is
 * table[sig[il] * HR_ROLE_COUNT + role]; blocks whose tables are equal
 * share one (a quantization mix gives a few). What an op-offloaded block
 * copies in is its own weights. Built by hr_model_finalize; false when
 * absent (out of memory) or the tensor list changed since. */
typedef struct hr_layer_roles {
    const uint16_t *sig;      /* n_layer entries */
    const hr_role_max *table; /* n_sig * HR_ROLE_COUNT entries */
    uint32_t n_sig;
} hr_layer_roles;
bool hr_model_layer_roles(const hr_model *m, hr_layer_roles *out);

/* The quant rules' per-tensor facts (quant/quant_internal.h), built by
 * hr_model_finalize; NULL when absent (out of memory) or the tensor list
 * changed since finalize. */
struct hr_quant_facts;
const struct hr_quant_facts *hr_model_quant_facts(const hr_model *m);

/* Run fn(ptr) when the model is freed (unmapping files, etc). */
hr_status hr_model_on_free(hr_model *m, void (*fn)(void *), void *ptr, hr_error *err);

#endif
