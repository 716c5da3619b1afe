/* Engine-private: compute buffer sizes from a replay of the worst-case graph.
 * Owned by the compute module; called by the plan. */
#ifndef HR_COMPUTE_H
#define HR_COMPUTE_H

#include "headroom/plan.h"

typedef struct hr_compute_input {
    const hr_model *model;
    const hr_settings *settings;
    uint32_t n_tokens;     /* tokens of the reserve ubatch: min(n_ctx, n_ubatch) */
    uint32_t n_outputs;    /* rows of logits in the reserve graph */
    uint32_t n_seq;        /* sequences (streams) */
    uint32_t n_kv;         /* cells attention sees in full-attention layers */
    uint32_t n_kv_swa;     /* cells attention sees in sliding-window layers */
    bool flash_attn;
    hr_type type_k, type_v;
    int32_t n_gpu_layers;  /* resolved 0..n_layer+1 */
    int n_devices;         /* as in the plan: [0] host, [1..] GPUs */
    hr_backend backends[HR_MAX_DEVICES];
    int32_t layer_begin[HR_MAX_DEVICES], layer_end[HR_MAX_DEVICES];
    bool output_on_gpu;    /* output layer on the last GPU */
    bool offload_kv;
    /* Added by the compute module (the plan leaves them zero):
     * replay_all_layers: replay every layer instead of a verified periodic
     * run (tests compare both; the result is the same, only slower). */
    bool replay_all_layers;
} hr_compute_input;

typedef struct hr_compute_output {
    uint64_t device_bytes[HR_MAX_DEVICES]; /* compute buffer of each device's backend */
    uint64_t host_side_bytes;              /* CPU-side buffer of a GPU run (CUDA_Host) */
} hr_compute_output;

hr_status hr_compute_estimate(const hr_compute_input *in, hr_compute_output *out, hr_error *err);

#endif
