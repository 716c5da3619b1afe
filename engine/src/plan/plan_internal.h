/* Engine-private pieces of the llama.cpp plan, shared by its files. */
#ifndef HR_PLAN_INTERNAL_H
#define HR_PLAN_INTERNAL_H

#include "headroom/plan.h"

/* GGML_PAD */
static inline uint64_t hr_pad_u64(uint64_t x, uint64_t n)
{
    return n ? (x + n - 1) / n * n : x;
}

/* Where llama.cpp puts the repeating layers (load_tensors in
 * llama-model.cpp): layers il >= i_gpu_start = n_layer + 1 - ngl go to the
 * GPUs, the "layer" il = n_layer is the output head; the GPU of a layer is
 * upper_bound(splits, (il - i_gpu_start) / ngl) over the cumulative,
 * normalised split points. */
typedef struct hr_placement {
    int n_gpus;                 /* GPUs in the plan (devices 1..n_gpus) */
    int32_t n_gpu_layers;       /* resolved 0..n_layer+1 */
    int32_t i_gpu_start;        /* first block on a GPU */
    float splits[HR_MAX_GPUS];  /* cumulative, normalised */
} hr_placement;

/* Plan device index (0 = host, 1.. = GPUs) of block il (il = n_layer: output). */
static inline int hr_place_device(const hr_placement *p, int32_t il)
{
    if (p->n_gpu_layers <= 0 || il < p->i_gpu_start)
        return 0;
    if (p->n_gpus == 1) /* the search below always ends on the only GPU */
        return 1;
    const float x = (float)(il - p->i_gpu_start) / (float)p->n_gpu_layers;
    int g = 0; /* std::upper_bound: first split point > x */
    while (g < p->n_gpus && !(x < p->splits[g]))
        g++;
    if (g >= p->n_gpus)
        g = p->n_gpus - 1;
    return 1 + g;
}

/* Fill *p; n_gpus may be 0. tensor_split all 0 -> by capacity (llama.cpp
 * uses each device's free memory; equal shares when unknown). */
void hr_place_init(hr_placement *p, const hr_model *m, const hr_settings *s,
                   const hr_budget_device *gpus, int n_gpus);

/* KV cache and recurrent state of every layer, added to bytes[device]. */
typedef struct hr_kv_result {
    uint64_t k_bytes, v_bytes, swa_k_bytes, swa_v_bytes, recurrent_bytes;
    uint32_t n_layer_kv, n_layer_swa, n_layer_recurrent;
} hr_kv_result;

typedef struct hr_kv_input {
    uint32_t cells_full;   /* all streams */
    uint32_t cells_swa;    /* all streams */
    uint32_t n_seq;        /* recurrent states (max(1, n_seq_max)) */
    bool flash_attn;       /* V stored non-transposed; else padded to max width */
    hr_type type_k, type_v;
    bool offload;
    const uint32_t *alignment; /* per plan device */
    bool layers_alike;         /* every hr_layer the same bytes (false: not known) */
} hr_kv_input;

hr_status hr_plan_kv(const hr_model *m, const hr_kv_input *in, const hr_placement *p,
                     uint64_t *dev_bytes, hr_kv_result *out, hr_error *err);

/* Encoder-only architectures (BERT, nomic-bert): no head, no KV cache. */
bool hr_plan_arch_is_encoder(const hr_model *m);
/* Whether the architecture gets no KV cache at all (encoder-only models:
 * llama.cpp's create_memory returns no memory for BERT-like archs). */
bool hr_plan_arch_has_no_memory(const hr_model *m);

/* Weights per device (tied output duplicated on a GPU output device). */
hr_status hr_plan_weights(const hr_model *m, const hr_settings *s, const hr_placement *p,
                          const hr_backend *backends, const uint32_t *alignment,
                          uint64_t *dev_bytes, hr_error *err);

/* What a run of plans over one model keeps between them (zero it first):
 *  - the weights per device, for plans whose model, budget, mode, GPU
 *    layers, split, runtime alignments and target ftype are the same (a
 *    context, batch or sequence sweep): the weights do not depend on the rest;
 *  - compute, when set: the compute buffers over a range of KV cells, for a
 *    run where the context is what changes (a miss costs about two plain
 *    estimates, so only context sweeps use it). */
typedef struct hr_plan_cache {
    bool weights_valid;
    uint64_t weights[HR_MAX_DEVICES];
    struct hr_compute_cache *compute;
    hr_planner *planner; /* set: the planner's caches serve both parts (planner.c) */
    struct hr_compute_work *work; /* room for the compute replays, kept between plans */
} hr_plan_cache;

/* hr_plan_compute, reusing what the cache holds and filling it otherwise
 * (cache NULL: plain hr_plan_compute). */
hr_status hr_plan_compute_cached(const hr_model *model, const hr_settings *settings,
                                 const hr_budget *budget, hr_plan *out, hr_plan_cache *cache,
                                 hr_error *err);

/* The planner's weights: from its cache when a plan with the same
 * placement, backends, alignments and target ftype was made, else
 * hr_plan_weights (and remembered). Added into dev_bytes like it. */
hr_status hr_planner_weights(hr_planner *planner, const hr_settings *s, const hr_placement *place,
                             const hr_backend *backends, const uint32_t *alignment, int n_devices,
                             uint64_t *dev_bytes, hr_error *err);

/* The planner's compute buffers: the last result of the same inputs, an
 * answer from linear forms when only the KV cells moved (made the second
 * time they move), else hr_compute_estimate (and remembered). */
struct hr_compute_input;
struct hr_compute_output;
hr_status hr_planner_compute(hr_planner *planner, const struct hr_compute_input *in,
                             struct hr_compute_output *out, hr_error *err);

#endif
