/* headroom — the memory plan: what llama.cpp will allocate, per device.
 *
 * hr_plan_compute is a pure function of (model, settings, budget): no
 * allocation, no I/O, thread-safe, microseconds. Settings names follow
 * llama.cpp's flags.
 */
#ifndef HEADROOM_PLAN_H
#define HEADROOM_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "headroom/error.h"
#include "headroom/model.h"
#include "headroom/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HR_MAX_DEVICES 9 /* host + up to 8 GPUs */
#define HR_MAX_GPUS 8

typedef enum hr_device_kind { HR_DEVICE_HOST = 0, HR_DEVICE_GPU } hr_device_kind;

typedef enum hr_backend {
    HR_BACKEND_CPU = 0, HR_BACKEND_CUDA, HR_BACKEND_ROCM, HR_BACKEND_METAL, HR_BACKEND_VULKAN,
    HR_BACKEND_COUNT
} hr_backend;

HR_API const char *hr_backend_name(hr_backend backend);        /* "cpu", "cuda", ... */
HR_API hr_backend hr_backend_from_name(const char *name);      /* HR_BACKEND_COUNT if unknown */

/* One memory pool the plan is laid onto. devices[0] of a budget is the host. */
typedef struct hr_budget_device {
    char name[96];
    hr_device_kind kind;
    hr_backend backend;
    uint64_t capacity_bytes;
    bool capacity_known;
    bool unified;            /* shares host memory (Apple, Jetson, GH200 style) */
    double bandwidth_gbps;   /* 0 if unknown */
    char source[96];         /* "meminfo+cgroup v2", "NVML", "catalog: H100 SXM" */
} hr_budget_device;

typedef struct hr_budget {
    hr_budget_device devices[HR_MAX_DEVICES];
    int n_devices;           /* >= 1; devices[0] is the host */
    char label[128];         /* "this machine", "2x RTX 4090" */
} hr_budget;

/* A host with unknown capacity and no GPU. */
HR_API void hr_budget_init_host_only(hr_budget *budget);

/* Runtime overheads per backend (configs/runtimes.yaml). */
typedef struct hr_runtime {
    char name[32];                 /* "llama.cpp-cuda" */
    hr_backend backend;
    uint64_t host_overhead_bytes;   /* process + runtime on the host */
    uint64_t device_overhead_bytes; /* per GPU: context, cuBLAS, pools */
    uint32_t host_alignment;       /* weight buffer alignment on the host (32) */
    uint32_t device_alignment;     /* on the device (128 for CUDA) */
} hr_runtime;

/* Load runtime `name` ("cpu", "cuda", "rocm", "metal", "vulkan") from
 * runtimes.yaml (path NULL: the default config dir). */
HR_API hr_status hr_runtime_load(const char *path, const char *name, hr_runtime *out,
                                 hr_error *err);

typedef enum hr_flash_attn { HR_FA_OFF = 0, HR_FA_ON = 1, HR_FA_AUTO = 2 } hr_flash_attn;

typedef enum hr_device_mode { HR_MODE_CPU = 0, HR_MODE_GPU = 1 } hr_device_mode;

typedef struct hr_settings {
    uint32_t n_ctx;          /* -c; 0 = the model's training context */
    uint32_t n_batch;        /* -b (2048) */
    uint32_t n_ubatch;       /* -ub (512) */
    uint32_t n_seq;          /* -np (1) */
    bool kv_unified;         /* --kv-unified */
    hr_flash_attn flash_attn;/* -fa (auto: on where the backend supports it) */
    hr_type type_k, type_v;  /* -ctk / -ctv (f16) */
    int32_t n_gpu_layers;    /* -ngl; -1 = all */
    hr_device_mode mode;     /* --device cpu|gpu */
    float tensor_split[HR_MAX_GPUS]; /* -ts ratios; all 0 = by capacity */
    bool offload_kv;         /* !--no-kv-offload (true) */
    bool use_mmap;           /* !--no-mmap (true) */
    bool swa_full;           /* --swa-full */
    bool embeddings;         /* --embeddings */
    hr_ftype target_ftype;   /* what-if quantization; HR_FTYPE_UNKNOWN = as the file */
    double margin_percent;   /* of each device's planned total */
    uint64_t margin_bytes;   /* fixed per device */
    hr_runtime runtime;      /* overheads; zero overheads if not loaded */
} hr_settings;

/* llama.cpp's defaults: ctx 0 (train), batch 2048, ubatch 512, 1 seq,
 * fa auto, f16 KV, ngl all, gpu mode, offload on, mmap on, no margin. */
HR_API void hr_settings_init(hr_settings *s);

typedef enum hr_component {
    HR_COMP_WEIGHTS = 0, HR_COMP_KV, HR_COMP_OUTPUT, HR_COMP_COMPUTE, HR_COMP_OVERHEAD,
    HR_COMP_MARGIN, HR_COMP_COUNT
} hr_component;

HR_API const char *hr_component_name(hr_component c); /* "weights", "kv", ... */

typedef struct hr_plan_device {
    char name[96];
    hr_device_kind kind;
    hr_backend backend;
    uint64_t bytes[HR_COMP_COUNT];
    uint64_t total_bytes;
    uint64_t capacity_bytes;
    bool capacity_known;
    bool fits;               /* total <= capacity (true when capacity unknown) */
    int64_t headroom_bytes;  /* capacity - total (negative: overflow) */
    int32_t layer_begin, layer_end; /* repeating layers [begin, end) placed here */
    uint64_t weights_mapped_bytes;  /* part of weights that is an mmap of the file */
    uint64_t compute_host_bytes;    /* host-side compute buffer charged to this GPU's run */
} hr_plan_device;

#define HR_PLAN_MAX_NOTES 6

typedef struct hr_plan {
    hr_plan_device devices[HR_MAX_DEVICES];
    int n_devices;
    uint64_t bytes[HR_COMP_COUNT];  /* sums over devices */
    uint64_t total_bytes;
    bool fits;                      /* every device fits */

    /* what the plan resolved (as llama.cpp would print it) */
    uint32_t n_ctx;                 /* padded total context */
    uint32_t n_ctx_seq;             /* cells per sequence stream */
    uint32_t n_seq;
    uint32_t n_ubatch, n_batch;
    uint32_t n_outputs;             /* rows of the output buffer */
    uint32_t kv_cells;              /* cells of the full-attention cache (all streams) */
    uint32_t kv_cells_swa;          /* cells of the sliding-window cache (all streams) */
    uint32_t n_layer_kv, n_layer_swa, n_layer_recurrent;
    int32_t n_gpu_layers;           /* resolved 0..n_layer+1 */
    bool flash_attn;                /* resolved */
    hr_type type_k, type_v;
    hr_ftype weights_ftype;
    uint64_t kv_k_bytes, kv_v_bytes;        /* full-attention cache */
    uint64_t kv_swa_k_bytes, kv_swa_v_bytes;/* SWA cache */
    uint64_t recurrent_bytes;               /* r + s states */

    char notes[HR_PLAN_MAX_NOTES][160];
    int n_notes;
} hr_plan;

/* Compute the plan. budget NULL: host only, capacity unknown.
 * Fails with HR_ERR_ARG for nonsense settings (ubatch 0, ubatch > batch is
 * clamped like llama.cpp, quantized V without flash attention...). */
HR_API hr_status hr_plan_compute(const hr_model *model, const hr_settings *settings,
                                 const hr_budget *budget, hr_plan *out, hr_error *err);

/* A planner: hr_plan_compute for one model, remembering between calls what
 * the next plan can reuse (the weights per placement and ftype, the compute
 * buffers per setting over a range of contexts), so a session that changes
 * one setting at a time, or goes back to an earlier one, mostly replans from
 * memory. Every plan is byte-identical to hr_plan_compute's. The model must
 * outlive the planner; one planner is not for concurrent use (one per
 * thread). ~36 KiB, and ~600 KiB of room for the replays. */
typedef struct hr_planner hr_planner;
HR_API hr_planner *hr_planner_new(const hr_model *model, hr_error *err);
HR_API hr_status hr_planner_plan(hr_planner *planner, const hr_settings *settings,
                                 const hr_budget *budget, hr_plan *out, hr_error *err);
HR_API void hr_planner_free(hr_planner *planner);

/* JSON object {"memory": {...}, "devices": [...], "resolved": {...}}; caller frees. */
HR_API char *hr_plan_to_json(const hr_plan *plan);

/* ---------------- transformers-style plan (safetensors models) ---------- */
typedef struct hr_tf_settings {
    uint32_t batch;          /* sequences per forward */
    uint32_t seq_len;        /* tokens per sequence */
    hr_type dtype;           /* load dtype; HR_TYPE_INVALID = the checkpoint's */
    hr_type kv_dtype;        /* HR_TYPE_INVALID = dtype */
    bool use_kv_cache;       /* generation (true) vs encoder / embedding forward (false) */
    double margin_percent;
    uint64_t margin_bytes;
    uint64_t overhead_bytes; /* framework (CUDA context, torch allocator) */
} hr_tf_settings;

HR_API void hr_tf_settings_init(hr_tf_settings *s);

typedef struct hr_tf_plan {
    uint64_t weights_bytes, kv_bytes, activation_bytes, overhead_bytes, margin_bytes;
    uint64_t total_bytes;
} hr_tf_plan;

HR_API hr_status hr_plan_transformers(const hr_model *model, const hr_tf_settings *s,
                                      hr_tf_plan *out, hr_error *err);

#ifdef __cplusplus
}
#endif
#endif
