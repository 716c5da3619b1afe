/* headroom — the embedding API for loaders and servers.
 *
 * Two calls replace the hard-coded memory guesses model loaders and
 * inference servers ship:
 *  - hr_requirement_for(): "how much memory will this model need on this
 *    device with these settings?", in the shape loaders already use
 *    (total, GPU part, CPU part, KV cache, activations, headroom);
 *  - the governor: a memory budget that admits and releases model
 *    instances, so a server stops spawning workers before the machine
 *    runs out of memory.
 * Both are computed by the same plan as the CLI (hr_plan_compute).
 *
 * Ownership: hr_governor is created and destroyed by the caller; all other
 * structs are caller-owned plain data. Thread safety: hr_requirement_for is
 * reentrant; one hr_governor may be used from several threads at once (its
 * calls are serialised internally).
 */
#ifndef HEADROOM_LOADER_H
#define HEADROOM_LOADER_H

#include <stdint.h>

#include "headroom/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a loader asks for. Zero / NULL fields take the defaults noted. */
typedef struct hr_request {
    const char *model;       /* path or preset id (used by hr_requirement_for) */
    const char *device;      /* "cpu" or "gpu" (NULL: "cpu") */
    uint32_t batch;          /* sequences processed together (0: 1) */
    uint32_t seq_len;        /* tokens per sequence (0: 512) */
    const char *quant;       /* what-if ftype name ("Q4_K_M"); NULL: as the file */
    double margin_percent;   /* headroom on top, percent of the requirement */
    uint64_t margin_bytes;   /* fixed headroom in bytes */
    const char *runtimes_file; /* runtimes.yaml; NULL: the default config dir */
} hr_request;

/* The answer, in bytes and MiB (MiB = bytes / 1048576). */
typedef struct hr_requirement {
    uint64_t total_bytes;    /* everything, margin included */
    uint64_t gpu_bytes;      /* part on GPUs */
    uint64_t cpu_bytes;      /* part in host RAM */
    uint64_t weights_bytes;
    uint64_t kv_bytes;       /* KV cache (and recurrent state) */
    uint64_t compute_bytes;  /* activations: compute + output buffers */
    uint64_t overhead_bytes; /* runtime overhead */
    uint64_t margin_bytes;   /* headroom */
    double total_mib, gpu_mib, cpu_mib, weights_mib, kv_mib, compute_mib, overhead_mib,
        margin_mib;
    /* per device, index 0 = host, 1.. = GPUs (as in hr_plan.devices) */
    uint64_t device_bytes[HR_MAX_DEVICES];
    hr_device_kind device_kind[HR_MAX_DEVICES];
    int n_devices;
} hr_requirement;

/* Open request->model, plan it, and fill *out. */
HR_API hr_status hr_requirement_for(const hr_request *request, hr_requirement *out,
                                    hr_error *err);

/* Same for a model already open (request->model is ignored). */
HR_API hr_status hr_requirement_for_model(const hr_model *model, const hr_request *request,
                                          hr_requirement *out, hr_error *err);

/* The plan settings a request maps to (for callers that want the full plan). */
HR_API hr_status hr_request_to_settings(const hr_model *model, const hr_request *request,
                                        hr_settings *out, hr_error *err);

/* ---------------- governor ---------------- */
typedef struct hr_governor hr_governor;

/* Admission tokens are > 0; 0 is never a valid token. */
typedef uint64_t hr_admission;

/* A governor over budget (NULL: detect this machine's memory now). */
HR_API hr_status hr_governor_create(const hr_budget *budget, hr_governor **out, hr_error *err);
HR_API void hr_governor_destroy(hr_governor *gov);

/* Reserve req's per-device bytes. On success *token identifies the
 * reservation. If any device would exceed its capacity, nothing is reserved
 * and HR_ERR_NO_FIT is returned ("does not fit"). Devices of unknown
 * capacity never limit admission. */
HR_API hr_status hr_governor_admit(hr_governor *gov, const hr_requirement *req,
                                   hr_admission *token, hr_error *err);

/* Give a reservation back. HR_ERR_ARG for an unknown or released token. */
HR_API hr_status hr_governor_release(hr_governor *gov, hr_admission token, hr_error *err);

/* How many more instances of req would be admitted now (0 if none;
 * UINT32_MAX if no device of req has a known capacity). */
HR_API uint32_t hr_governor_how_many_more(hr_governor *gov, const hr_requirement *req);

/* Bytes reserved / capacity on device index d (0 = host). */
HR_API uint64_t hr_governor_reserved_bytes(hr_governor *gov, int d);
HR_API uint64_t hr_governor_capacity_bytes(hr_governor *gov, int d);
/* Instances currently admitted. */
HR_API uint32_t hr_governor_active(hr_governor *gov);

#ifdef __cplusplus
}
#endif
#endif
