/* headroom — tensor element types and file types (llama_ftype).
 *
 * hr_type uses mainline ggml ids where they exist (0..42). BitNet's fork
 * reuses ids 36-39 for I2_S/I8_S/TL1/TL2; the GGUF reader remaps those to
 * HR_TYPE_BITNET_* (100+) so every id here means one layout. safetensors-only
 * dtypes with no ggml equivalent live at 200+.
 * All functions here are pure and thread-safe.
 */
#ifndef HEADROOM_TYPES_H
#define HEADROOM_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "headroom/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hr_type {
    HR_TYPE_F32 = 0, HR_TYPE_F16 = 1, HR_TYPE_Q4_0 = 2, HR_TYPE_Q4_1 = 3,
    HR_TYPE_Q5_0 = 6, HR_TYPE_Q5_1 = 7, HR_TYPE_Q8_0 = 8, HR_TYPE_Q8_1 = 9,
    HR_TYPE_Q2_K = 10, HR_TYPE_Q3_K = 11, HR_TYPE_Q4_K = 12, HR_TYPE_Q5_K = 13,
    HR_TYPE_Q6_K = 14, HR_TYPE_Q8_K = 15, HR_TYPE_IQ2_XXS = 16, HR_TYPE_IQ2_XS = 17,
    HR_TYPE_IQ3_XXS = 18, HR_TYPE_IQ1_S = 19, HR_TYPE_IQ4_NL = 20, HR_TYPE_IQ3_S = 21,
    HR_TYPE_IQ2_S = 22, HR_TYPE_IQ4_XS = 23, HR_TYPE_I8 = 24, HR_TYPE_I16 = 25,
    HR_TYPE_I32 = 26, HR_TYPE_I64 = 27, HR_TYPE_F64 = 28, HR_TYPE_IQ1_M = 29,
    HR_TYPE_BF16 = 30, HR_TYPE_Q4_0_4_4 = 31, HR_TYPE_Q4_0_4_8 = 32, HR_TYPE_Q4_0_8_8 = 33,
    HR_TYPE_TQ1_0 = 34, HR_TYPE_TQ2_0 = 35,
    HR_TYPE_MXFP4 = 39, HR_TYPE_NVFP4 = 40, HR_TYPE_Q1_0 = 41, HR_TYPE_Q2_0 = 42,
    /* BitNet fork types (file ids 36..39 when the file is a BitNet GGUF) */
    HR_TYPE_BITNET_I2_S = 100, HR_TYPE_BITNET_I8_S = 101,
    HR_TYPE_BITNET_TL1 = 102, HR_TYPE_BITNET_TL2 = 103,
    /* safetensors dtypes with no ggml type */
    HR_TYPE_ST_BOOL = 200, HR_TYPE_ST_U8 = 201, HR_TYPE_ST_U16 = 202, HR_TYPE_ST_U32 = 203,
    HR_TYPE_ST_U64 = 204, HR_TYPE_ST_F8_E5M2 = 205, HR_TYPE_ST_F8_E4M3 = 206,
    HR_TYPE_ST_F8_E8M0 = 207, HR_TYPE_ST_F8_E4M3FNUZ = 208, HR_TYPE_ST_F8_E5M2FNUZ = 209,
    HR_TYPE_ST_F4 = 210, HR_TYPE_ST_F6_E2M3 = 211, HR_TYPE_ST_F6_E3M2 = 212,
    HR_TYPE_ST_C64 = 213,
    HR_TYPE_INVALID = -1
} hr_type;

typedef struct hr_type_info {
    hr_type id;
    const char *name;      /* "Q4_K", "F16", "I2_S", "F8_E4M3" ... */
    uint32_t block_size;   /* elements per block (1 for plain types) */
    uint32_t block_bytes;  /* bytes per block */
    bool quantized;        /* block-quantized (ggml sense) */
    bool special_size;     /* size not given by the block formula (BitNet I2_S/TL1/TL2) */
} hr_type_info;

/* Table lookup; NULL for an unknown id. */
HR_API const hr_type_info *hr_type_get(hr_type type);
/* Case-insensitive name lookup ("q4_k", "bf16", "i2_s"); HR_TYPE_INVALID if unknown. */
HR_API hr_type hr_type_from_name(const char *name);
/* Number of entries and i-th entry of the table, for listings. */
HR_API int hr_type_count(void);
HR_API const hr_type_info *hr_type_at(int index);

/* Exact bytes of a tensor of this type and shape (ggml_nbytes; BitNet rules for
 * I2_S/TL1/TL2). Fails (HR_ERR_FORMAT) if ne0 is not a multiple of the block
 * size, a dim is negative, or (HR_ERR_LIMIT) the product overflows. */
HR_API hr_status hr_type_tensor_bytes(hr_type type, const int64_t ne[4], uint64_t *out_bytes,
                                      hr_error *err);

/* Bytes of one row of ne0 elements (block formula), 0 on error. */
HR_API uint64_t hr_type_row_bytes(hr_type type, int64_t ne0);

/* llama_ftype (general.file_type). BitNet's fork ftypes are remapped to 100+. */
typedef enum hr_ftype {
    HR_FTYPE_ALL_F32 = 0, HR_FTYPE_MOSTLY_F16 = 1, HR_FTYPE_MOSTLY_Q4_0 = 2,
    HR_FTYPE_MOSTLY_Q4_1 = 3, HR_FTYPE_MOSTLY_Q8_0 = 7, HR_FTYPE_MOSTLY_Q5_0 = 8,
    HR_FTYPE_MOSTLY_Q5_1 = 9, HR_FTYPE_MOSTLY_Q2_K = 10, HR_FTYPE_MOSTLY_Q3_K_S = 11,
    HR_FTYPE_MOSTLY_Q3_K_M = 12, HR_FTYPE_MOSTLY_Q3_K_L = 13, HR_FTYPE_MOSTLY_Q4_K_S = 14,
    HR_FTYPE_MOSTLY_Q4_K_M = 15, HR_FTYPE_MOSTLY_Q5_K_S = 16, HR_FTYPE_MOSTLY_Q5_K_M = 17,
    HR_FTYPE_MOSTLY_Q6_K = 18, HR_FTYPE_MOSTLY_IQ2_XXS = 19, HR_FTYPE_MOSTLY_IQ2_XS = 20,
    HR_FTYPE_MOSTLY_Q2_K_S = 21, HR_FTYPE_MOSTLY_IQ3_XS = 22, HR_FTYPE_MOSTLY_IQ3_XXS = 23,
    HR_FTYPE_MOSTLY_IQ1_S = 24, HR_FTYPE_MOSTLY_IQ4_NL = 25, HR_FTYPE_MOSTLY_IQ3_S = 26,
    HR_FTYPE_MOSTLY_IQ3_M = 27, HR_FTYPE_MOSTLY_IQ2_S = 28, HR_FTYPE_MOSTLY_IQ2_M = 29,
    HR_FTYPE_MOSTLY_IQ4_XS = 30, HR_FTYPE_MOSTLY_IQ1_M = 31, HR_FTYPE_MOSTLY_BF16 = 32,
    HR_FTYPE_MOSTLY_TQ1_0 = 36, HR_FTYPE_MOSTLY_TQ2_0 = 37, HR_FTYPE_MOSTLY_MXFP4_MOE = 38,
    HR_FTYPE_MOSTLY_NVFP4 = 39, HR_FTYPE_MOSTLY_Q1_0 = 40,
    HR_FTYPE_BITNET_TL1 = 100, HR_FTYPE_BITNET_TL2 = 101, HR_FTYPE_BITNET_I2_S = 102,
    HR_FTYPE_UNKNOWN = -1
} hr_ftype;

/* "Q4_K_M", "F16", "I2_S"...; NULL if unknown. */
HR_API const char *hr_ftype_name(hr_ftype ftype);
/* Case-insensitive; accepts "Q4_K_M", "q4_k_m", "f16", "bf16", "i2_s". */
HR_API hr_ftype hr_ftype_from_name(const char *name);
/* Default tensor type of an ftype (llama_ftype_get_default_type). */
HR_API hr_type hr_ftype_default_type(hr_ftype ftype);
/* The what-if list offered to users, highest quality first; returns count. */
HR_API int hr_ftype_whatif_list(const hr_ftype **out);

#ifdef __cplusplus
}
#endif
#endif
