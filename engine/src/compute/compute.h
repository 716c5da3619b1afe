/* Engine-private: compute buffer sizes from a replay of the worst-case graph.
 * Owned by the compute module; called by the plan.
 *
 * What the estimate reads (compute module notes for the plan):
 *  - settings->n_seq: sequences of the reserve ubatch (n_tokens is rounded up
 *    to a multiple of it; pooling and recurrent state rows use it);
 *    settings->mode (HR_MODE_CPU: no GPU backend at all) and
 *    settings->embeddings (pooling of encoder embeddings);
 *  - n_seq here: KV streams (1 with a unified cache), n_kv / n_kv_swa: cells
 *    per stream (n_tokens for models without a cache);
 *  - devices: [0] the host (CPU backend; in a GPU run its compute buffer is
 *    the pinned "CUDA_Host" one, returned in host_side_bytes with
 *    device_bytes[0] = 0), [1..] GPUs with layer_begin/end; output_on_gpu
 *    puts the output layer on the last GPU holding layers.
 * The graph is llama.cpp's (v0.5.0 tree) for: llama, mistral, mixtral, qwen2,
 * qwen3, qwen2moe, qwen3moe, gemma, gemma2, gemma3, phi3, command-r, cohere2,
 * deepseek2 (MLA), gpt-oss, bert, nomic-bert, mamba, mamba2, rwkv6, rwkv7
 * (build_recurrent.c); other architectures take the llama graph (recurrent
 * layers of other kinds Mamba's). */
#ifndef HR_COMPUTE_H
#define HR_COMPUTE_H

#include "cgraph.h"
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
    /* each device's compute-buffer alignment (0: its backend's default); in a
     * GPU run the host's is that of the GPU's host buffer type (CUDA_Host,
     * Vulkan_Host), which holds the CPU's compute buffer */
    uint32_t align[HR_MAX_DEVICES];
    /* true: the caller found every hr_layer of the model byte for byte the
     * same (the plan checks it once for its every part); false: not known,
     * the module looks itself */
    bool layers_alike;
    /* Added by the compute module (the plan leaves them zero):
     * replay_all_layers: replay every layer instead of a verified periodic
     * run (tests compare both; the result is the same, only slower). */
    bool replay_all_layers;
    /* Optional room for the graphs (hr_compute_work_new), reused from one
     * estimate to the next; NULL: the estimate allocates its own. Not part
     * of an estimate's key. */
    struct hr_compute_work *work;
} hr_compute_input;

/* Room for the graphs an estimate builds and replays, and a replay's record
 * (~900 KiB). A caller making many estimates (a sweep, a solver, a planner)
 * keeps one: fresh memory for every estimate costs the allocator's trims
 * and page faults, more than the replay itself on a context sweep. */
typedef struct hr_compute_work hr_compute_work;
hr_compute_work *hr_compute_work_new(void);
void hr_compute_work_free(hr_compute_work *work);

typedef struct hr_compute_output {
    uint64_t device_bytes[HR_MAX_DEVICES]; /* compute buffer of each device's backend */
    uint64_t host_side_bytes;              /* CPU-side buffer of a GPU run (CUDA_Host) */
    bool lower_bound;                      /* the graph outgrew the replay: at least this */
} hr_compute_output;

hr_status hr_compute_estimate(const hr_compute_input *in, hr_compute_output *out, hr_error *err);

/* A reserve graph's peaks (and tensor byte sums) as linear forms of
 * u = n_kv / 256, exact for every u in [lo, hi] (galloc_param.c). */
typedef struct hr_compute_forms {
    bool valid;
    int64_t lo, hi;
    cg_form peak[CG_MAX_BUFFERS], scaled[CG_MAX_BUFFERS], fixed[CG_MAX_BUFFERS];
    uint64_t count[CG_MAX_BUFFERS];
} hr_compute_forms;

/* An estimate's inputs less the KV cells: two estimates with equal keys
 * differ only in n_kv (and n_kv_swa when it follows n_kv). */
typedef struct hr_compute_key {
    bool swa_tied;             /* n_kv_swa followed n_kv */
    hr_compute_input in;       /* n_kv zeroed (and n_kv_swa when tied), settings NULL */
    hr_settings settings;      /* n_ctx and n_batch zeroed */
} hr_compute_key;

void hr_compute_key_of(const hr_compute_input *in, hr_compute_key *key);
bool hr_compute_key_equal(const hr_compute_key *a, const hr_compute_key *b);

/* What a context sweep keeps between points: the last estimate's key and
 * its result over a range of KV cells; and, while the caller's room
 * (in->work, the same one at every point) still holds them, the prompt
 * graph and its next step, which a point outside the range replays
 * without building anything (from a record of its allocator steps after
 * the first such point: compute.c, plain_at and reform_at). Zero it
 * before first use. */
typedef struct hr_compute_cache {
    bool valid;
    hr_compute_key key;
    hr_compute_forms pp, tg;   /* prompt graph; one-token graph (when needed) */
    const hr_compute_work *room; /* the room the pp pair was left in */
    uint64_t room_stamp;       /* its stamp then (0: none kept) */
    /* probes for forms (compute.c, from_kept): the ones in a row whose range
     * came out too narrow, and the misses still to answer without one */
    uint32_t narrow_probes, probe_wait;
    int64_t last_u;            /* the last point asked for (0: none) */
} hr_compute_cache;

/* hr_compute_estimate, answering from the cache when only the KV cells
 * changed and they are in the range it covers; refills it otherwise. Same
 * result as hr_compute_estimate, byte for byte. */
hr_status hr_compute_estimate_cached(const hr_compute_input *in, hr_compute_cache *cache,
                                     hr_compute_output *out, hr_error *err);

/* ---- engine-private test hooks: for tests/compute only (the plan and the
 * planner never call them) ----
 * hr_compute_test_graph: the reserve graph of every layer as an estimate
 * builds it: the prompt graph, or the one-token graph (one_token); as
 * built, its free nodes unplaced (scheduled false), or after the
 * scheduler's passes and copies (cg_assign_backends, cg_split_copies) as
 * the replay sees it. False on bad input or no memory.
 * hr_compute_test_sums: the full-graph byte sums an estimate's replay of
 * that graph leaves for tg_below_pp (truncated unless replay_all_layers);
 * false when the replay ran out of room (the sums are then partial). */
bool hr_compute_test_graph(const hr_compute_input *in, bool one_token, bool scheduled,
                           cg_graph *out);
bool hr_compute_test_sums(const hr_compute_input *in, bool one_token,
                          uint64_t scaled[CG_MAX_BUFFERS], uint64_t fixed[CG_MAX_BUFFERS],
                          uint64_t count[CG_MAX_BUFFERS]);

#endif
