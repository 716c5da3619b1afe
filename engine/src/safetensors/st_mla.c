/* DeepSeek2 MLA: split kv_b_proj into attn_k_b / attn_v_b as the current
 * convert_hf_to_gguf.py does, so a checkpoint reads in the GGUF layout that
 * hr_model_from_shape lays out for the same config. */
#include <stdio.h>
#include <string.h>

#include "core/file_io.h"
#include "model/model_internal.h"
#include "st_mla.h"

hr_status st_split_kv_b(hr_model *m, const hf_config *cfg, hr_error *err)
{
    if (cfg->n_lora_kv == 0 || cfg->head_dim_qk_nope == 0 || cfg->n_head == 0)
        return HR_OK;
    const int64_t rank = cfg->n_lora_kv, nope = cfg->head_dim_qk_nope, v = cfg->head_dim_v,
                  heads = cfg->n_head;
    const size_t n = m->n_tensors;
    for (size_t i = 0; i < n; i++) {
        hr_tensor *t = &m->tensors[i];
        int32_t blk = hr_tensor_block_index(t->name);
        if (blk < 0 || !hr_str_ends_with(t->name, ".attn_kv_b.weight"))
            continue;
        const hr_type_info *info = hr_type_get(t->type);
        /* kv_b_proj is [heads * (nope + v), rank]: ne = {rank, heads * (nope + v)} */
        if (!info || info->block_size != 1 || t->ne[0] != rank ||
            t->ne[1] != heads * (nope + v) || t->ne[2] != 1 || t->ne[3] != 1)
            continue;
        const uint64_t k_bytes = (uint64_t)(nope * rank * heads) * info->block_bytes;
        if (k_bytes > t->bytes)
            continue;
        char k_name[64], v_name[64];
        snprintf(k_name, sizeof k_name, "blk.%d.attn_k_b.weight", (int)blk);
        snprintf(v_name, sizeof v_name, "blk.%d.attn_v_b.weight", (int)blk);
        const char *kn = hr_model_strdup(m, k_name), *vn = hr_model_strdup(m, v_name);
        if (!kn || !vn)
            return hr_error_set(err, HR_ERR_NOMEM, "out of memory splitting attn_kv_b");
        hr_tensor kv = *t;
        hr_tensor *vt = hr_model_push_tensor(m, err); /* may move the array */
        if (!vt)
            return HR_ERR_NOMEM;
        *vt = kv;
        vt->name = vn;
        vt->ne[0] = rank;
        vt->ne[1] = v;
        vt->ne[2] = heads;
        vt->n_dims = 3;
        vt->bytes = kv.bytes - k_bytes;
        vt->role = HR_ROLE_ATTN_V_B;
        t = &m->tensors[i];
        t->name = kn;
        t->ne[0] = nope;
        t->ne[1] = rank;
        t->ne[2] = heads;
        t->n_dims = 3;
        t->bytes = k_bytes;
        t->role = HR_ROLE_ATTN_K_B;
    }
    return HR_OK;
}
