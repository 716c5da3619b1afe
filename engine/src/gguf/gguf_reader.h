/* Engine-private GGUF file parser: one file, header + metadata + tensor infos.
 *
 * The file is mapped read-only; every read goes through a bounds-checked
 * cursor. Keys and tensor names point into the mapping (not NUL-terminated)
 * and stay valid until gguf_file_close(). Tensor types are kept as the raw
 * file ids: mapping them to hr_type needs the metadata (BitNet's fork reuses
 * ids), so that is done by gguf_types.c.
 */
#ifndef HR_GGUF_READER_H
#define HR_GGUF_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/file_io.h"
#include "headroom/error.h"

#define GGUF_DEFAULT_ALIGNMENT 32u
#define GGUF_MAX_KEY_LEN 65535u
#define GGUF_MAX_NAME_LEN 63u /* llama.cpp: name must fit GGML_MAX_NAME (64) with its NUL */
#define GGUF_MAX_DIMS 4u
#define GGUF_MAX_TENSORS (1u << 20) /* far above any real model (DeepSeek-V3: ~1.1k) */
#define GGUF_MAX_KV (1u << 16)      /* real files carry ~20-60 keys */

typedef enum gguf_vtype {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
} gguf_vtype;

typedef struct gguf_kv {
    const char *key;              /* into the mapping, key_len bytes */
    uint32_t key_len;
    uint32_t type;                /* gguf_vtype */
    uint32_t elem_type;           /* arrays: element type */
    uint64_t n;                   /* arrays: element count; scalars: 1 */
    const unsigned char *data;    /* scalar bytes, string bytes, or first array element */
    uint64_t str_len;             /* strings: byte length */
} gguf_kv;

typedef struct gguf_tensor_info {
    const char *name;             /* into the mapping, name_len bytes */
    uint32_t name_len;
    uint32_t n_dims;
    int64_t ne[4];                /* unused dims are 1 */
    uint32_t type_id;             /* raw ggml type id as written */
    uint64_t offset;              /* relative to the data section */
} gguf_tensor_info;

typedef struct gguf_file {
    const char *path;             /* for messages; owned copy when opened by path */
    char *owned_path;
    hr_mapping map;
    uint64_t size;                /* file bytes */
    uint32_t version;
    gguf_kv *kv;
    size_t n_kv;
    gguf_tensor_info *tensors;
    size_t n_tensors;
    uint32_t alignment;
    uint64_t data_start;          /* header end padded to the alignment */
    uint32_t *kv_index;           /* open-addressing hash of kv (index + 1; 0 = empty) */
    size_t kv_index_cap;          /* power of two */
} gguf_file;

/* Map and parse path. On failure *f is left closed (nothing to free). */
hr_status gguf_file_open(const char *path, gguf_file *f, hr_error *err);
void gguf_file_close(gguf_file *f);

/* Parse an already mapped buffer (path is only used in messages). */
hr_status gguf_parse(const char *path, const unsigned char *data, uint64_t size, gguf_file *f,
                     hr_error *err);

/* Lookup by key; NULL if absent. */
const gguf_kv *gguf_find(const gguf_file *f, const char *key);

/* Check that a tensor of `bytes` at its offset is aligned and lies within
 * the file's data section. */
hr_status gguf_check_extent(const gguf_file *f, const gguf_tensor_info *t, uint64_t bytes,
                            hr_error *err);

/* Size in bytes of a fixed-size value type; 0 for string/array/unknown. */
size_t gguf_vtype_size(uint32_t type);
const char *gguf_vtype_name(uint32_t type);

/* ---- typed value access (gguf_values.c) ---- */

/* Any integer or bool value, as unsigned (fails on negative). */
bool gguf_value_uint(uint32_t type, const unsigned char *p, uint64_t *out);
/* Any integer or bool value, as signed (fails on u64 > INT64_MAX). */
bool gguf_value_int(uint32_t type, const unsigned char *p, int64_t *out);
/* Any integer or float value, as double. */
bool gguf_value_float(uint32_t type, const unsigned char *p, double *out);

/* Accessors by key. Missing key: *found = false (when found is non-NULL),
 * *out unchanged, HR_OK. Present with an unusable type or out of range: an
 * error naming the file and the key. */
hr_status gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, bool *found,
                       hr_error *err);
hr_status gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out, bool *found,
                       hr_error *err);
hr_status gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, bool *found,
                       hr_error *err);
hr_status gguf_get_f32(const gguf_file *f, const char *key, float *out, bool *found,
                       hr_error *err);
hr_status gguf_get_bool(const gguf_file *f, const char *key, bool *out, bool *found,
                        hr_error *err);
/* String value: pointer into the mapping and its length. */
hr_status gguf_get_str(const gguf_file *f, const char *key, const char **s, size_t *len,
                       bool *found, hr_error *err);
/* Scalar or per-layer array of unsigned integers (llama.cpp get_key_or_arr):
 * a scalar fills all n entries; an array must have exactly n entries. */
hr_status gguf_get_u32_per_layer(const gguf_file *f, const char *key, uint32_t *out, uint32_t n,
                                 bool *found, hr_error *err);
/* Array of bools or integers (non-zero = true), exactly n entries. */
hr_status gguf_get_bool_per_layer(const gguf_file *f, const char *key, bool *out, uint32_t n,
                                  bool *found, hr_error *err);
/* Element count of an array key (0 if absent or not an array). */
uint64_t gguf_array_len(const gguf_file *f, const char *key);

#endif
