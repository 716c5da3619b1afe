/* ggml / safetensors type table, byte sizes, and llama_ftype names. */
#include <stddef.h>
#include <stdlib.h>
#include <strings.h>

#include "headroom/types.h"

static const hr_type_info TYPE_TABLE[] = {
    {HR_TYPE_F32, "F32", 1, 4, false, false},
    {HR_TYPE_F16, "F16", 1, 2, false, false},
    {HR_TYPE_Q4_0, "Q4_0", 32, 18, true, false},
    {HR_TYPE_Q4_1, "Q4_1", 32, 20, true, false},
    {HR_TYPE_Q5_0, "Q5_0", 32, 22, true, false},
    {HR_TYPE_Q5_1, "Q5_1", 32, 24, true, false},
    {HR_TYPE_Q8_0, "Q8_0", 32, 34, true, false},
    {HR_TYPE_Q8_1, "Q8_1", 32, 36, true, false},
    {HR_TYPE_Q2_K, "Q2_K", 256, 84, true, false},
    {HR_TYPE_Q3_K, "Q3_K", 256, 110, true, false},
    {HR_TYPE_Q4_K, "Q4_K", 256, 144, true, false},
    {HR_TYPE_Q5_K, "Q5_K", 256, 176, true, false},
    {HR_TYPE_Q6_K, "Q6_K", 256, 210, true, false},
    {HR_TYPE_Q8_K, "Q8_K", 256, 292, true, false},
    {HR_TYPE_IQ2_XXS, "IQ2_XXS", 256, 66, true, false},
    {HR_TYPE_IQ2_XS, "IQ2_XS", 256, 74, true, false},
    {HR_TYPE_IQ3_XXS, "IQ3_XXS", 256, 98, true, false},
    {HR_TYPE_IQ1_S, "IQ1_S", 256, 50, true, false},
    {HR_TYPE_IQ4_NL, "IQ4_NL", 32, 18, true, false},
    {HR_TYPE_IQ3_S, "IQ3_S", 256, 110, true, false},
    {HR_TYPE_IQ2_S, "IQ2_S", 256, 82, true, false},
    {HR_TYPE_IQ4_XS, "IQ4_XS", 256, 136, true, false},
    {HR_TYPE_I8, "I8", 1, 1, false, false},
    {HR_TYPE_I16, "I16", 1, 2, false, false},
    {HR_TYPE_I32, "I32", 1, 4, false, false},
    {HR_TYPE_I64, "I64", 1, 8, false, false},
    {HR_TYPE_F64, "F64", 1, 8, false, false},
    {HR_TYPE_IQ1_M, "IQ1_M", 256, 56, true, false},
    {HR_TYPE_BF16, "BF16", 1, 2, false, false},
    {HR_TYPE_Q4_0_4_4, "Q4_0_4_4", 32, 18, true, false},
    {HR_TYPE_Q4_0_4_8, "Q4_0_4_8", 32, 18, true, false},
    {HR_TYPE_Q4_0_8_8, "Q4_0_8_8", 32, 18, true, false},
    {HR_TYPE_TQ1_0, "TQ1_0", 256, 54, true, false},
    {HR_TYPE_TQ2_0, "TQ2_0", 256, 66, true, false},
    {HR_TYPE_MXFP4, "MXFP4", 32, 17, true, false},
    {HR_TYPE_NVFP4, "NVFP4", 64, 36, true, false},
    {HR_TYPE_Q1_0, "Q1_0", 128, 18, true, false},
    {HR_TYPE_Q2_0, "Q2_0", 64, 18, true, false},
    {HR_TYPE_BITNET_I2_S, "I2_S", 1, 1, true, true},
    {HR_TYPE_BITNET_I8_S, "I8_S", 1, 1, false, false},
    {HR_TYPE_BITNET_TL1, "TL1", 1, 1, true, true},
    {HR_TYPE_BITNET_TL2, "TL2", 1, 1, true, true},
    {HR_TYPE_ST_BOOL, "BOOL", 1, 1, false, false},
    {HR_TYPE_ST_U8, "U8", 1, 1, false, false},
    {HR_TYPE_ST_U16, "U16", 1, 2, false, false},
    {HR_TYPE_ST_U32, "U32", 1, 4, false, false},
    {HR_TYPE_ST_U64, "U64", 1, 8, false, false},
    {HR_TYPE_ST_F8_E5M2, "F8_E5M2", 1, 1, false, false},
    {HR_TYPE_ST_F8_E4M3, "F8_E4M3", 1, 1, false, false},
    {HR_TYPE_ST_F8_E8M0, "F8_E8M0", 1, 1, false, false},
    {HR_TYPE_ST_F8_E4M3FNUZ, "F8_E4M3FNUZ", 1, 1, false, false},
    {HR_TYPE_ST_F8_E5M2FNUZ, "F8_E5M2FNUZ", 1, 1, false, false},
    {HR_TYPE_ST_F4, "F4", 2, 1, false, false},
    {HR_TYPE_ST_F6_E2M3, "F6_E2M3", 4, 3, false, false},
    {HR_TYPE_ST_F6_E3M2, "F6_E3M2", 4, 3, false, false},
    {HR_TYPE_ST_C64, "C64", 1, 8, false, false},
};

#define N_TYPES ((int)(sizeof TYPE_TABLE / sizeof TYPE_TABLE[0]))

/* The table is sorted by id (tests/quant/test_types.c checks it): the
 * lookup below relies on it, since the planner sizes tensors by type on
 * every plan. */
const hr_type_info *hr_type_get(hr_type type)
{
    /* ids ascend and are distinct, so an id's entry sits at an index no
     * greater than the id: walk down from there (ggml's ids have few gaps:
     * one to three steps for them) */
    if ((int)type < 0)
        return NULL;
    int i = (int)type < N_TYPES - 1 ? (int)type : N_TYPES - 1;
    while (i > 0 && TYPE_TABLE[i].id > type)
        i--;
    return TYPE_TABLE[i].id == type ? &TYPE_TABLE[i] : NULL;
}

hr_type hr_type_from_name(const char *name)
{
    if (!name)
        return HR_TYPE_INVALID;
    for (int i = 0; i < N_TYPES; i++)
        if (strcasecmp(TYPE_TABLE[i].name, name) == 0)
            return TYPE_TABLE[i].id;
    return HR_TYPE_INVALID;
}

int hr_type_count(void) { return N_TYPES; }

const hr_type_info *hr_type_at(int index)
{
    return (index >= 0 && index < N_TYPES) ? &TYPE_TABLE[index] : NULL;
}

static bool mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* BitNet fork sizes (not the block formula): see shared/reference/formats.md. */
static hr_status bitnet_bytes(hr_type type, const int64_t ne[4], uint64_t n_elements,
                              uint64_t *out, hr_error *err)
{
    if (type == HR_TYPE_BITNET_TL2) {
        uint64_t ne0 = (uint64_t)ne[0], ne1 = (uint64_t)ne[1] * (uint64_t)ne[2] * (uint64_t)ne[3];
        if (ne0 < 256)
            return hr_error_set(err, HR_ERR_FORMAT, "TL2 tensor row of %llu < 256 elements",
                                (unsigned long long)ne0);
        uint64_t a, b;
        if (!mul_u64(ne0 - 256, ne1, &a) || !mul_u64(256, ne1, &b))
            return hr_error_set(err, HR_ERR_LIMIT, "TL2 tensor size overflows");
        uint64_t bytes = a / 3 * 5 / 8 + b / 2 * 4 / 8;
        bytes = (bytes + 31) / 32 * 32 + 32;
        *out = bytes;
        return HR_OK;
    }
    if (type == HR_TYPE_BITNET_I8_S) {
        *out = n_elements;
        return HR_OK;
    }
    *out = n_elements / 4 + 32; /* I2_S and TL1: 2 bits a weight + 32-byte scale tail */
    return HR_OK;
}

hr_status hr_type_tensor_bytes(hr_type type, const int64_t ne[4], uint64_t *out_bytes,
                               hr_error *err)
{
    const hr_type_info *ti = hr_type_get(type);
    if (!ti)
        return hr_error_set(err, HR_ERR_FORMAT, "unknown tensor type %d", (int)type);
    uint64_t n = 1;
    for (int i = 0; i < 4; i++) {
        if (ne[i] < 0)
            return hr_error_set(err, HR_ERR_FORMAT, "negative tensor dimension %lld",
                                (long long)ne[i]);
        if (!mul_u64(n, (uint64_t)ne[i], &n))
            return hr_error_set(err, HR_ERR_LIMIT, "tensor element count overflows");
    }
    if (ti->special_size || type == HR_TYPE_BITNET_I8_S)
        return bitnet_bytes(type, ne, n, out_bytes, err);
    if ((uint64_t)ne[0] % ti->block_size != 0)
        return hr_error_set(err, HR_ERR_FORMAT, "row of %lld elements is not a multiple of %s's block of %u",
                            (long long)ne[0], ti->name, ti->block_size);
    uint64_t bytes = (uint64_t)ne[0] / ti->block_size;
    if (!mul_u64(bytes, ti->block_bytes, &bytes))
        return hr_error_set(err, HR_ERR_LIMIT, "tensor byte size overflows");
    for (int i = 1; i < 4; i++)
        if (!mul_u64(bytes, (uint64_t)ne[i], &bytes))
            return hr_error_set(err, HR_ERR_LIMIT, "tensor byte size overflows");
    *out_bytes = bytes;
    return HR_OK;
}

uint64_t hr_type_row_bytes(hr_type type, int64_t ne0)
{
    int64_t ne[4] = {ne0, 1, 1, 1};
    uint64_t b = 0;
    if (hr_type_tensor_bytes(type, ne, &b, NULL) != HR_OK)
        return 0;
    return b;
}

typedef struct ftype_entry {
    hr_ftype id;
    const char *name;
    hr_type default_type;
} ftype_entry;

static const ftype_entry FTYPE_TABLE[] = {
    {HR_FTYPE_ALL_F32, "F32", HR_TYPE_F32},
    {HR_FTYPE_MOSTLY_F16, "F16", HR_TYPE_F16},
    {HR_FTYPE_MOSTLY_Q4_0, "Q4_0", HR_TYPE_Q4_0},
    {HR_FTYPE_MOSTLY_Q4_1, "Q4_1", HR_TYPE_Q4_1},
    {HR_FTYPE_MOSTLY_Q8_0, "Q8_0", HR_TYPE_Q8_0},
    {HR_FTYPE_MOSTLY_Q5_0, "Q5_0", HR_TYPE_Q5_0},
    {HR_FTYPE_MOSTLY_Q5_1, "Q5_1", HR_TYPE_Q5_1},
    {HR_FTYPE_MOSTLY_Q2_K, "Q2_K", HR_TYPE_Q2_K},
    {HR_FTYPE_MOSTLY_Q3_K_S, "Q3_K_S", HR_TYPE_Q3_K},
    {HR_FTYPE_MOSTLY_Q3_K_M, "Q3_K_M", HR_TYPE_Q3_K},
    {HR_FTYPE_MOSTLY_Q3_K_L, "Q3_K_L", HR_TYPE_Q3_K},
    {HR_FTYPE_MOSTLY_Q4_K_S, "Q4_K_S", HR_TYPE_Q4_K},
    {HR_FTYPE_MOSTLY_Q4_K_M, "Q4_K_M", HR_TYPE_Q4_K},
    {HR_FTYPE_MOSTLY_Q5_K_S, "Q5_K_S", HR_TYPE_Q5_K},
    {HR_FTYPE_MOSTLY_Q5_K_M, "Q5_K_M", HR_TYPE_Q5_K},
    {HR_FTYPE_MOSTLY_Q6_K, "Q6_K", HR_TYPE_Q6_K},
    {HR_FTYPE_MOSTLY_IQ2_XXS, "IQ2_XXS", HR_TYPE_IQ2_XXS},
    {HR_FTYPE_MOSTLY_IQ2_XS, "IQ2_XS", HR_TYPE_IQ2_XS},
    {HR_FTYPE_MOSTLY_Q2_K_S, "Q2_K_S", HR_TYPE_Q2_K},
    {HR_FTYPE_MOSTLY_IQ3_XS, "IQ3_XS", HR_TYPE_IQ3_S},
    {HR_FTYPE_MOSTLY_IQ3_XXS, "IQ3_XXS", HR_TYPE_IQ3_XXS},
    {HR_FTYPE_MOSTLY_IQ1_S, "IQ1_S", HR_TYPE_IQ1_S},
    {HR_FTYPE_MOSTLY_IQ4_NL, "IQ4_NL", HR_TYPE_IQ4_NL},
    {HR_FTYPE_MOSTLY_IQ3_S, "IQ3_S", HR_TYPE_IQ3_S},
    {HR_FTYPE_MOSTLY_IQ3_M, "IQ3_M", HR_TYPE_IQ3_S},
    {HR_FTYPE_MOSTLY_IQ2_S, "IQ2_S", HR_TYPE_IQ2_XS},
    {HR_FTYPE_MOSTLY_IQ2_M, "IQ2_M", HR_TYPE_IQ2_S},
    {HR_FTYPE_MOSTLY_IQ4_XS, "IQ4_XS", HR_TYPE_IQ4_XS},
    {HR_FTYPE_MOSTLY_IQ1_M, "IQ1_M", HR_TYPE_IQ1_M},
    {HR_FTYPE_MOSTLY_BF16, "BF16", HR_TYPE_BF16},
    {HR_FTYPE_MOSTLY_TQ1_0, "TQ1_0", HR_TYPE_TQ1_0},
    {HR_FTYPE_MOSTLY_TQ2_0, "TQ2_0", HR_TYPE_TQ2_0},
    {HR_FTYPE_MOSTLY_MXFP4_MOE, "MXFP4_MOE", HR_TYPE_MXFP4},
    {HR_FTYPE_MOSTLY_NVFP4, "NVFP4", HR_TYPE_NVFP4},
    {HR_FTYPE_MOSTLY_Q1_0, "Q1_0", HR_TYPE_Q1_0},
    {HR_FTYPE_BITNET_TL1, "TL1", HR_TYPE_BITNET_TL1},
    {HR_FTYPE_BITNET_TL2, "TL2", HR_TYPE_BITNET_TL2},
    {HR_FTYPE_BITNET_I2_S, "I2_S", HR_TYPE_BITNET_I2_S},
};

#define N_FTYPES ((int)(sizeof FTYPE_TABLE / sizeof FTYPE_TABLE[0]))

static int compare_ftype_id(const void *key, const void *entry)
{
    const hr_ftype id = *(const hr_ftype *)key, other = ((const ftype_entry *)entry)->id;
    return (id > other) - (id < other);
}

/* Sorted by id as well (checked by the same test). */
static const ftype_entry *ftype_get(hr_ftype ftype)
{
    return bsearch(&ftype, FTYPE_TABLE, (size_t)N_FTYPES, sizeof FTYPE_TABLE[0], compare_ftype_id);
}

const char *hr_ftype_name(hr_ftype ftype)
{
    const ftype_entry *e = ftype_get(ftype);
    return e ? e->name : NULL;
}

hr_ftype hr_ftype_from_name(const char *name)
{
    if (!name)
        return HR_FTYPE_UNKNOWN;
    for (int i = 0; i < N_FTYPES; i++)
        if (strcasecmp(FTYPE_TABLE[i].name, name) == 0)
            return FTYPE_TABLE[i].id;
    return HR_FTYPE_UNKNOWN;
}

hr_type hr_ftype_default_type(hr_ftype ftype)
{
    const ftype_entry *e = ftype_get(ftype);
    return e ? e->default_type : HR_TYPE_INVALID;
}

/* The what-if list of the plan issue, highest quality first. */
static const hr_ftype WHATIF[] = {
    HR_FTYPE_ALL_F32,      HR_FTYPE_MOSTLY_BF16,   HR_FTYPE_MOSTLY_F16,    HR_FTYPE_MOSTLY_Q8_0,
    HR_FTYPE_MOSTLY_Q6_K,  HR_FTYPE_MOSTLY_Q5_K_M, HR_FTYPE_MOSTLY_Q4_K_M, HR_FTYPE_MOSTLY_Q4_K_S,
    HR_FTYPE_MOSTLY_IQ4_XS, HR_FTYPE_MOSTLY_Q3_K_M, HR_FTYPE_MOSTLY_IQ3_M,  HR_FTYPE_MOSTLY_Q2_K,
    HR_FTYPE_MOSTLY_IQ2_XS, HR_FTYPE_MOSTLY_TQ2_0,  HR_FTYPE_BITNET_I2_S,   HR_FTYPE_MOSTLY_TQ1_0,
};

int hr_ftype_whatif_list(const hr_ftype **out)
{
    if (out)
        *out = WHATIF;
    return (int)(sizeof WHATIF / sizeof WHATIF[0]);
}
