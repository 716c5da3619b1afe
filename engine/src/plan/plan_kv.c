/* KV cache and recurrent state per layer (llama-kv-cache.cpp,
 * llama-kv-cache-iswa.cpp, llama-memory-recurrent.cpp). */
#include <string.h>

#include "plan_internal.h"

bool hr_plan_arch_is_encoder(const hr_model *m)
{
    return m->arch == HR_ARCH_BERT || m->arch == HR_ARCH_NOMIC_BERT;
}

bool hr_plan_arch_has_no_memory(const hr_model *m)
{
    /* llama_model::create_memory returns nullptr for encoder-only archs */
    return hr_plan_arch_is_encoder(m);
}

/* Row bytes of one cell of width n for type t, 0 if the width does not fit
 * the type's blocks. The usual cache types without the type table's
 * look-up (a third of the uniform path's cost). */
static uint64_t cell_bytes(hr_type t, uint32_t n)
{
    if (t == HR_TYPE_F16 || t == HR_TYPE_BF16)
        return 2ull * n;
    if (t == HR_TYPE_F32)
        return 4ull * n;
    return n ? hr_type_row_bytes(t, (int64_t)n) : 0;
}

static bool add_to(uint64_t *acc, uint64_t v)
{
    return !__builtin_add_overflow(*acc, v, acc);
}

static bool tensor_bytes(uint64_t row, uint32_t cells, uint32_t align, uint64_t *out)
{
    uint64_t b;
    if (__builtin_mul_overflow(row, (uint64_t)cells, &b))
        return false;
    *out = hr_pad_u64(b, align);
    return true;
}

/* The KV cache of a model whose layers are all the same attention layer
 * (byte for byte, padding included, else false: the per-layer walk), no
 * layer sharing another's cache: per device, one row size times its layers.
 * Same sums, in the same fields, as the walk. */
static bool kv_uniform_fast(const hr_model *m, const hr_kv_input *in, const hr_placement *p,
                            uint32_t first_shared, uint32_t v_width_max, uint64_t *dev_bytes,
                            hr_kv_result *out, hr_error *err, hr_status *rc)
{
    const uint32_t n_layer = m->n_layer;
    const hr_layer *L = &m->layers[0];
    if (n_layer < 2 || first_shared != n_layer || m->is_mla || L->is_recurrent || !L->has_kv ||
        L->n_head_kv == 0 ||
        (!in->layers_alike &&
         memcmp(&m->layers[0], &m->layers[1], (size_t)(n_layer - 1) * sizeof *L) != 0))
        return false;
    const uint32_t k_width = L->n_embd_head_k * L->n_head_kv;
    const uint32_t v_width = in->flash_attn ? L->n_embd_head_v * L->n_head_kv : v_width_max;
    const uint64_t k_row = cell_bytes(in->type_k, k_width);
    const uint64_t v_row = cell_bytes(in->type_v, v_width);
    if ((k_width && !k_row) || (v_width && !v_row))
        return false; /* the walk words the error */
    const bool swa = L->is_swa && m->n_swa > 0;
    const uint32_t cells = swa ? in->cells_swa : in->cells_full;
    uint32_t layers_on[HR_MAX_DEVICES] = {0};
    if (!in->offload || p->n_gpu_layers <= 0) {
        layers_on[0] = n_layer;
    } else if (p->n_gpus == 1) { /* layers from i_gpu_start on the GPU */
        layers_on[0] = (uint32_t)p->i_gpu_start < n_layer ? (uint32_t)p->i_gpu_start : n_layer;
        layers_on[1] = n_layer - layers_on[0];
    } else {
        for (uint32_t il = 0; il < n_layer; il++)
            layers_on[hr_place_device(p, (int32_t)il)]++;
    }
    *rc = HR_OK;
    for (int d = 0; d <= p->n_gpus && d < HR_MAX_DEVICES; d++) { /* hr_place_device's range */
        if (!layers_on[d])
            continue;
        uint64_t kb, vb;
        if (!tensor_bytes(k_row, cells, in->alignment[d], &kb) ||
            !tensor_bytes(v_row, cells, in->alignment[d], &vb) ||
            __builtin_mul_overflow(kb, (uint64_t)layers_on[d], &kb) ||
            __builtin_mul_overflow(vb, (uint64_t)layers_on[d], &vb) ||
            !add_to(swa ? &out->swa_k_bytes : &out->k_bytes, kb) ||
            !add_to(swa ? &out->swa_v_bytes : &out->v_bytes, vb) ||
            !add_to(&dev_bytes[d], kb) || !add_to(&dev_bytes[d], vb)) {
            *rc = hr_error_set(err, HR_ERR_LIMIT, "KV cache size overflows");
            return true;
        }
    }
    if (swa)
        out->n_layer_swa = n_layer;
    else
        out->n_layer_kv = n_layer;
    return true;
}

hr_status hr_plan_kv(const hr_model *m, const hr_kv_input *in, const hr_placement *p,
                     uint64_t *dev_bytes, hr_kv_result *out, hr_error *err)
{
    *out = (hr_kv_result){0};
    if (hr_plan_arch_has_no_memory(m) || !m->layers)
        return HR_OK;

    const uint32_t n_layer = m->n_layer;
    hr_status rc_fast;
    const uint32_t first_shared =
        m->n_shared_kv_layers < n_layer ? n_layer - m->n_shared_kv_layers : n_layer;

    /* without flash attention V is stored transposed and every layer's V is
     * padded to the widest one ([TAG_V_CACHE_VARIABLE]) */
    uint32_t v_width_max = 0;
    if (!in->flash_attn)
        for (uint32_t il = 0; il < n_layer; il++) {
            const uint32_t w = m->layers[il].n_embd_head_v * m->layers[il].n_head_kv;
            if (w > v_width_max)
                v_width_max = w;
        }

    /* recurrent state widths (llama_hparams::n_embd_r / n_embd_s); f32 */
    uint64_t r_width, s_width;
    if (m->shortconv_l_cache) { /* LFM2: the convolutions' last l_cache - 1 columns */
        r_width = (uint64_t)m->n_embd * (m->shortconv_l_cache - 1);
        s_width = 0;
    } else if (m->rwkv_head_size) {
        r_width = 2ull * m->n_embd; /* token_shift_count defaults to 2 */
        s_width = (uint64_t)m->n_embd * m->rwkv_head_size;
    } else {
        r_width = (uint64_t)(m->ssm_d_conv ? m->ssm_d_conv - 1 : 0) *
                  ((uint64_t)m->ssm_d_inner + 2ull * m->ssm_n_group * m->ssm_d_state);
        s_width = (uint64_t)m->ssm_d_state * m->ssm_d_inner;
    }

    /* most models repeat one attention layer: the layers then split only
     * where the device changes (placement is monotone in il) */
    if (kv_uniform_fast(m, in, p, first_shared, v_width_max, dev_bytes, out, err, &rc_fast))
        return rc_fast;

    uint32_t last_k_width = 0, last_v_width = 0;
    uint64_t k_row = 0, v_row = 0;
    /* a run of attention layers like the first of it, on one device: added
     * once, times its length (most models repeat one layer shape) */
    const hr_layer *run = NULL;
    int run_dev = -1;
    bool run_swa = false;
    uint64_t run_kb = 0, run_vb = 0, run_len = 0;
    for (uint32_t il = 0; il <= n_layer; il++) {
        const hr_layer *L = il < n_layer ? &m->layers[il] : NULL;
        const int dev = L && in->offload ? hr_place_device(p, (int32_t)il) : 0;
        if (run && L && dev == run_dev && il < first_shared && L->has_kv && !L->is_recurrent &&
            L->is_swa == run->is_swa && L->n_head_kv == run->n_head_kv &&
            L->n_embd_head_k == run->n_embd_head_k && L->n_embd_head_v == run->n_embd_head_v) {
            run_len++;
            continue;
        }
        if (run) { /* close the run */
            uint64_t kb, vb;
            if (__builtin_mul_overflow(run_kb, run_len, &kb) ||
                __builtin_mul_overflow(run_vb, run_len, &vb))
                return hr_error_set(err, HR_ERR_LIMIT, "KV cache size overflows");
            if (run_swa) {
                out->n_layer_swa += (uint32_t)run_len;
                if (!add_to(&out->swa_k_bytes, kb) || !add_to(&out->swa_v_bytes, vb))
                    return hr_error_set(err, HR_ERR_LIMIT, "KV cache size overflows");
            } else {
                out->n_layer_kv += (uint32_t)run_len;
                if (!add_to(&out->k_bytes, kb) || !add_to(&out->v_bytes, vb))
                    return hr_error_set(err, HR_ERR_LIMIT, "KV cache size overflows");
            }
            if (!add_to(&dev_bytes[run_dev], kb) || !add_to(&dev_bytes[run_dev], vb))
                return hr_error_set(err, HR_ERR_LIMIT, "KV cache size overflows");
            run = NULL;
        }
        if (!L)
            break;
        const uint32_t align = in->alignment[dev];

        if (L->is_recurrent) {
            uint64_t r = 0, s = 0;
            if (__builtin_mul_overflow(r_width * 4u, (uint64_t)in->n_seq, &r) ||
                __builtin_mul_overflow(s_width * 4u, (uint64_t)in->n_seq, &s))
                return hr_error_set(err, HR_ERR_LIMIT, "recurrent state size overflows");
            r = hr_pad_u64(r, align);
            s = hr_pad_u64(s, align);
            if (!add_to(&out->recurrent_bytes, r + s) || !add_to(&dev_bytes[dev], r + s))
                return hr_error_set(err, HR_ERR_LIMIT, "recurrent state size overflows");
            out->n_layer_recurrent++;
            if (!L->has_kv) /* Falcon-H1's layers also cache their attention */
                continue;
        }
        if (!L->has_kv || L->n_head_kv == 0 || il >= first_shared)
            continue;

        uint32_t k_width, v_width;
        if (m->is_mla) {
            /* MLA caches the compressed latent and the rope part in K only
             * (llama_kv_cache: has_v = !is_mla) */
            k_width = m->n_lora_kv + m->n_rot;
            v_width = 0;
        } else {
            k_width = L->n_embd_head_k * L->n_head_kv;
            v_width = in->flash_attn ? L->n_embd_head_v * L->n_head_kv : v_width_max;
        }
        if (k_width != last_k_width) {
            k_row = cell_bytes(in->type_k, k_width);
            last_k_width = k_width;
            if (k_width && !k_row)
                return hr_error_set(err, HR_ERR_ARG,
                                    "K cache type %s does not fit rows of %u (layer %u)",
                                    hr_type_get(in->type_k) ? hr_type_get(in->type_k)->name : "?",
                                    k_width, il);
        }
        if (v_width != last_v_width) {
            v_row = cell_bytes(in->type_v, v_width);
            last_v_width = v_width;
            if (v_width && !v_row)
                return hr_error_set(err, HR_ERR_ARG,
                                    "V cache type %s does not fit rows of %u (layer %u)",
                                    hr_type_get(in->type_v) ? hr_type_get(in->type_v)->name : "?",
                                    v_width, il);
        }

        const bool swa = L->is_swa && m->n_swa > 0;
        const uint32_t cells = swa ? in->cells_swa : in->cells_full;
        if (!tensor_bytes(k_row, cells, align, &run_kb) || !tensor_bytes(v_row, cells, align, &run_vb))
            return hr_error_set(err, HR_ERR_LIMIT, "KV cache size overflows");
        run = L;
        run_dev = dev;
        run_swa = swa;
        run_len = 1;
    }
    return HR_OK;
}
