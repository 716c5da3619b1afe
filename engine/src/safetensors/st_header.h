/* safetensors file header: validated tensor entries of one file. */
#ifndef HR_ST_HEADER_H
#define HR_ST_HEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "headroom/error.h"
#include "headroom/types.h"

/* The format's own cap on the JSON header (safetensors MAX_HEADER_SIZE). */
#define HR_ST_MAX_HEADER_BYTES 100000000ull
/* Tensors of rank above this are rejected (no real checkpoint comes close). */
#define HR_ST_MAX_RANK 64

typedef struct st_tensor_info {
    const char *name;       /* valid during the callback only */
    const char *dtype_name; /* "BF16", "F8_E4M3", ... (static) */
    hr_type type;
    uint32_t rank;          /* as written, may exceed 4 */
    int64_t ne[4];          /* ggml order: ne[0] = last dim; dims past the 4th folded into ne[3] */
    uint64_t n_elements;
    uint64_t begin, end;    /* data_offsets, relative to the data section */
} st_tensor_info;

/* Called once per tensor, in header order; a non-OK status stops the scan. */
typedef hr_status (*st_tensor_fn)(void *user, const st_tensor_info *tensor, hr_error *err);

typedef struct st_header_stats {
    uint64_t file_size;
    uint64_t header_bytes;  /* N */
    uint64_t data_bytes;    /* file_size - 8 - N */
    uint64_t n_tensors;
    uint64_t tensor_bytes;  /* sum of the tensors' extents (<= data_bytes) */
    uint32_t n_folded;      /* tensors of rank > 4 */
} st_header_stats;

/* Read and validate the header of the safetensors file at path, calling fn
 * for each tensor. Errors name the file and the tensor. */
hr_status st_header_read(const char *path, st_tensor_fn fn, void *user, st_header_stats *stats,
                         hr_error *err);

/* dtype name -> hr_type and its width in bits; false if unknown. */
bool st_dtype_lookup(const char *name, hr_type *type, uint32_t *bits, const char **canonical);

#endif
