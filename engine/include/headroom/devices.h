/* headroom — detection of host memory and GPUs.
 *
 * Each reader takes root paths so tests can point it at fake trees. Every
 * figure carries a validity flag: an unknown value is never shown as zero.
 * Detection does I/O; call it from one thread at a time per hr_system.
 */
#ifndef HEADROOM_DEVICES_H
#define HEADROOM_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "headroom/error.h"
#include "headroom/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_reading {
    uint64_t value;
    bool valid;
} hr_reading;

typedef struct hr_host_info {
    hr_reading mem_total, mem_available, swap_total, swap_free;
    hr_reading cgroup_limit;   /* smallest limit on the path to the root */
    hr_reading cgroup_current; /* memory.current / usage_in_bytes */
    int cgroup_version;        /* 0 none found, 1, 2 */
    char cgroup_path[256];     /* where the limit was found */
    hr_reading budget;         /* min(mem_total, cgroup_limit) */
    char mem_source[96];       /* "/proc/meminfo" */
    char available_source[96]; /* "MemAvailable" or "MemFree+Buffers+Cached" */
    char cpu_model[128];
    int cpu_cores;             /* 0 unknown */
} hr_host_info;

typedef struct hr_gpu_info {
    int index;
    char name[96];
    char vendor[16];           /* "NVIDIA", "AMD" */
    hr_backend backend;
    hr_reading total, free, used;
    hr_reading gtt_total, gtt_used; /* AMD GTT */
    bool unified;              /* no dedicated memory: uses host RAM */
    char source[64];           /* "NVML v2", "NVML v1", "sysfs card0" */
} hr_gpu_info;

typedef struct hr_system {
    hr_host_info host;
    hr_gpu_info gpus[HR_MAX_GPUS];
    int n_gpus;
    char nvml_status[160];     /* "NVML not present (libnvidia-ml.so.1 not found)" */
    char amd_status[160];
} hr_system;

typedef struct hr_probe_paths {
    const char *proc_root;     /* "/proc" */
    const char *sys_root;      /* "/sys" */
    const char *cgroup_root;   /* "/sys/fs/cgroup" */
    const char *self_cgroup;   /* "/proc/self/cgroup" */
    const char *nvml_library;  /* NULL: libnvidia-ml.so.1 then libnvidia-ml.so */
    bool skip_nvml, skip_amd;
} hr_probe_paths;

/* The real system's paths. */
HR_API void hr_probe_paths_default(hr_probe_paths *p);

HR_API hr_status hr_detect_host(const hr_probe_paths *p, hr_host_info *out, hr_error *err);
HR_API hr_status hr_detect_nvidia(const hr_probe_paths *p, hr_system *sys, hr_error *err);
HR_API hr_status hr_detect_amd(const hr_probe_paths *p, hr_system *sys, hr_error *err);

/* Everything; p NULL = real paths. Missing GPUs are normal (status strings say so). */
HR_API hr_status hr_system_detect(const hr_probe_paths *p, hr_system *out, hr_error *err);

/* Host (budget or total) + GPUs (total memory) as a plan budget. */
HR_API void hr_budget_from_system(const hr_system *sys, hr_budget *out);

/* JSON of the system with the source of each figure; caller frees. */
HR_API char *hr_system_to_json(const hr_system *sys);

#ifdef __cplusplus
}
#endif
#endif
