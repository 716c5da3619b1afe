/* GGUF type ids: mainline ggml ids map to hr_type as-is; the BitNet fork
 * reuses 36-39 (see shared/reference/formats.md). */
#include <string.h>

#include "gguf_types.h"

#define LLAMA_FTYPE_GUESSED 1024u

static bool is_bitnet_arch(const char *arch)
{
    return arch && (strcmp(arch, "bitnet") == 0 || strcmp(arch, "bitnet-b1.58") == 0 ||
                    strcmp(arch, "bitnet-25") == 0);
}

bool gguf_is_bitnet_fork(const gguf_file *f, const char *arch, bool have_ftype, uint32_t ftype)
{
    if (is_bitnet_arch(arch))
        return true;
    if (!have_ftype)
        return false;
    ftype &= ~LLAMA_FTYPE_GUESSED;
    if (ftype < GGUF_BITNET_FTYPE_TL1 || ftype > GGUF_BITNET_FTYPE_I2_S)
        return false;
    /* Mainline removed ids 36-38, so their presence under ftype 38-40 marks
     * the fork (I2_S=36 with ftype 40, TL1=38 with ftype 38). */
    for (size_t i = 0; i < f->n_tensors; i++) {
        uint32_t id = f->tensors[i].type_id;
        if (id >= GGUF_BITNET_ID_I2_S && id <= GGUF_BITNET_ID_TL1)
            return true;
    }
    return false;
}

hr_type gguf_type_from_file(uint32_t id, bool bitnet_fork)
{
    if (bitnet_fork) {
        switch (id) {
        case GGUF_BITNET_ID_I2_S: return HR_TYPE_BITNET_I2_S;
        case GGUF_BITNET_ID_I8_S: return HR_TYPE_BITNET_I8_S;
        case GGUF_BITNET_ID_TL1: return HR_TYPE_BITNET_TL1;
        case GGUF_BITNET_ID_TL2: return HR_TYPE_BITNET_TL2;
        default: break;
        }
    }
    /* Only the ggml range: 100+ and 200+ are headroom's own ids. */
    if (id >= 100)
        return HR_TYPE_INVALID;
    return hr_type_get((hr_type)id) ? (hr_type)id : HR_TYPE_INVALID;
}

uint32_t gguf_type_to_file(hr_type type)
{
    switch (type) {
    case HR_TYPE_BITNET_I2_S: return GGUF_BITNET_ID_I2_S;
    case HR_TYPE_BITNET_I8_S: return GGUF_BITNET_ID_I8_S;
    case HR_TYPE_BITNET_TL1: return GGUF_BITNET_ID_TL1;
    case HR_TYPE_BITNET_TL2: return GGUF_BITNET_ID_TL2;
    default: return (uint32_t)type;
    }
}

hr_ftype gguf_ftype_from_file(uint32_t id, bool bitnet_fork)
{
    id &= ~LLAMA_FTYPE_GUESSED;
    if (bitnet_fork) {
        switch (id) {
        case GGUF_BITNET_FTYPE_TL1: return HR_FTYPE_BITNET_TL1;
        case GGUF_BITNET_FTYPE_TL2: return HR_FTYPE_BITNET_TL2;
        case GGUF_BITNET_FTYPE_I2_S: return HR_FTYPE_BITNET_I2_S;
        default: break;
        }
    }
    if (id >= 100)
        return HR_FTYPE_UNKNOWN;
    return hr_ftype_name((hr_ftype)id) ? (hr_ftype)id : HR_FTYPE_UNKNOWN;
}

uint32_t gguf_ftype_to_file(hr_ftype ftype)
{
    switch (ftype) {
    case HR_FTYPE_BITNET_TL1: return GGUF_BITNET_FTYPE_TL1;
    case HR_FTYPE_BITNET_TL2: return GGUF_BITNET_FTYPE_TL2;
    case HR_FTYPE_BITNET_I2_S: return GGUF_BITNET_FTYPE_I2_S;
    default: return (uint32_t)ftype;
    }
}
