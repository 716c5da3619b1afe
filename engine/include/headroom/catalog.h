/* headroom — hardware catalog (configs/hardware.yaml).
 *
 * A catalog is immutable after loading; read it from any thread.
 */
#ifndef HEADROOM_CATALOG_H
#define HEADROOM_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "headroom/error.h"
#include "headroom/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_hw_entry {
    char id[64];              /* "h100-sxm-80gb" */
    char name[96];            /* "NVIDIA H100 80GB SXM" */
    char vendor[32];
    hr_device_kind kind;      /* GPU, or HOST for CPU-only servers */
    hr_backend backend;
    uint64_t memory_bytes;    /* per device */
    double bandwidth_gbps;
    double price_usd;         /* per device; 0 with price_known false */
    bool price_known;
    bool unified;             /* memory shared with the host (Apple, Jetson) */
    uint64_t host_memory_bytes; /* RAM of the host it usually sits in; 0 unknown */
} hr_hw_entry;

typedef struct hr_catalog {
    hr_hw_entry *entries;
    int n_entries;
} hr_catalog;

/* path NULL: the default config dir's hardware.yaml. */
HR_API hr_status hr_catalog_load(const char *path, hr_catalog **out, hr_error *err);
/* Parse YAML from memory. */
HR_API hr_status hr_catalog_parse(const char *yaml, size_t len, const char *origin,
                                  hr_catalog **out, hr_error *err);
HR_API void hr_catalog_free(hr_catalog *cat);

/* Find "RTX 4090", "rtx-4090", "2x RTX 4090" (count parsed into *count). */
HR_API const hr_hw_entry *hr_catalog_find(const hr_catalog *cat, const char *spec, int *count);

/* A budget of `count` devices of this entry (plus a host: entry's host memory,
 * or the device itself for unified / CPU entries). */
HR_API void hr_budget_from_entry(const hr_hw_entry *e, int count, hr_budget *out);

/* Add the entries of `from` to `into` (before `into` is shared): an entry
 * whose id or name equals one of an entry of `into`, compared as
 * hr_catalog_find compares names (case, spaces and dashes ignored), replaces
 * it; the others are appended. Errors name origin (from's file); on error
 * `into` is unchanged. */
HR_API hr_status hr_catalog_merge(hr_catalog *into, const hr_catalog *from, const char *origin,
                                  hr_error *err);
/* The shipped catalog with the user's file merged over it (hr_catalog_merge).
 * user_path NULL or "": the shipped catalog alone; where none is installed,
 * the user's file alone. */
HR_API hr_status hr_catalog_load_merged(const char *user_path, hr_catalog **out,
                                        hr_error *err);

#ifdef __cplusplus
}
#endif
#endif
