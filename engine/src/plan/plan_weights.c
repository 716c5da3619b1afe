/* Weights per device: tensor bytes as ggml_backend_buft_get_alloc_size
 * gives them, aligned per tensor like ggml-alloc packs a buffer. */
#include "headroom/quant.h"
#include "plan_internal.h"
#include "../model/model_internal.h"
#include "../model/weight_pad.h"
#include "../quant/quant_internal.h"

static bool pads_rows(hr_backend b)
{
    return b == HR_BACKEND_CUDA || b == HR_BACKEND_ROCM;
}

/* device of each block, looked up once (blocks beyond the table fall back
 * to the placement function) */
#define HR_DEV_TABLE 1024
/* tensors projected per call in a what-if walk */
#define HR_WHATIF_RUN 128

/* Which devices hold at least one repeating layer: each of them gets its
 * own copy of the layer-shared tensors (rope_freqs). Without layers the
 * host keeps the one copy, so totals never lose it. */
static void mark_layer_devices(const hr_model *m, const hr_placement *p, const uint8_t *dev_of,
                               int32_t n_table, bool *holds)
{
    for (int d = 0; d <= p->n_gpus; d++)
        holds[d] = false;
    for (int32_t il = 0; il < (int32_t)m->n_layer; il++)
        holds[il < n_table ? dev_of[il] : hr_place_device(p, il)] = true;
    if (m->n_layer == 0)
        holds[0] = true;
}

/* The same sums from the model's per-layer totals (the tensors' own types,
 * alignments 32 / 128): O(n_layer). False when they are not there. */
static bool sum_by_layer(const hr_model *m, const hr_placement *p, const uint8_t *dev_of,
                         const bool *row_padding, const uint32_t *alignment, int out_dev,
                         bool dup_head, const bool *holds_layer, uint64_t *sums)
{
    hr_weight_sums ws[HR_MAX_DEVICES];
    for (int d = 0; d <= p->n_gpus; d++)
        if (!hr_model_weight_sums(m, alignment[d], row_padding[d], &ws[d]))
            return false;
    for (uint32_t il = 0; il < m->n_layer; il++) {
        const int d = dev_of[il];
        sums[d] += ws[d].layer[il];
    }
    sums[0] += ws[0].input;
    for (int d = 0; d <= p->n_gpus; d++)
        if (holds_layer[d])
            sums[d] += ws[d].layer_shared;
    sums[out_dev] += ws[out_dev].output;
    if (dup_head)
        sums[out_dev] += ws[out_dev].embd_dup;
    return true;
}

hr_status hr_plan_weights(const hr_model *m, const hr_settings *s, const hr_placement *p,
                          const hr_backend *backends, const uint32_t *alignment,
                          uint64_t *dev_bytes, hr_error *err)
{
    if (m->n_bytes > (UINT64_MAX >> 6))
        return hr_error_set(err, HR_ERR_LIMIT, "weights of %llu bytes are beyond any plan",
                            (unsigned long long)m->n_bytes);
    const bool whatif = s->target_ftype != HR_FTYPE_UNKNOWN;
    hr_quant_state st;
    hr_quant_ctx qctx; /* one per walk: default type, block sizes, the model's tensor facts */
    if (whatif) {
        hr_quant_state_init(&st, m);
        hr_quant_ctx_init(&qctx, m, s->target_ftype);
    }

    uint8_t dev_of[HR_DEV_TABLE];
    const int32_t n_table = m->n_layer < HR_DEV_TABLE ? (int32_t)m->n_layer : HR_DEV_TABLE;
    for (int32_t il = 0; il < n_table; il++)
        dev_of[il] = (uint8_t)hr_place_device(p, il);
    bool row_padding[HR_MAX_DEVICES];
    for (int d = 0; d <= p->n_gpus; d++)
        row_padding[d] = pads_rows(backends[d]);

    const int out_dev = hr_place_device(p, (int32_t)m->n_layer);
    const bool dup_head = m->tied_output && out_dev != 0;
    bool holds_layer[HR_MAX_DEVICES];
    mark_layer_devices(m, p, dev_of, n_table, holds_layer);
    uint64_t sums[HR_MAX_DEVICES] = {0};
    if (!whatif && m->n_layer <= HR_DEV_TABLE &&
        sum_by_layer(m, p, dev_of, row_padding, alignment, out_dev, dup_head, holds_layer, sums))
        goto add;
    /* what-if: the projected types and bytes of a run of tensors at a time */
    hr_type run_type[HR_WHATIF_RUN];
    uint64_t run_bytes[HR_WHATIF_RUN];
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        hr_type type = t->type;
        uint64_t bytes = t->bytes;
        if (whatif) {
            const size_t k = i % HR_WHATIF_RUN;
            if (k == 0) {
                const size_t left = m->n_tensors - i;
                const size_t run = left < HR_WHATIF_RUN ? left : HR_WHATIF_RUN;
                hr_status rc = hr_quant_ctx_walk(&qctx, &st, i, run, run_type, run_bytes, err);
                if (rc != HR_OK)
                    return rc;
            }
            type = run_type[k];
            bytes = run_bytes[k];
        }
        const int32_t layer = t->layer;
        if (hr_tensor_is_layer_shared(t)) {
            for (int d = 0; d <= p->n_gpus; d++) {
                if (!holds_layer[d])
                    continue;
                uint64_t b = bytes;
                if (row_padding[d])
                    b += hr_weight_row_pad_bytes(type, t->ne[0]);
                sums[d] += hr_weight_align_up(b, alignment[d]);
            }
            continue;
        }
        int dev;
        if (layer >= 0)
            dev = layer < n_table ? dev_of[layer] : hr_place_device(p, layer);
        else
            dev = layer == HR_LAYER_OUTPUT ? out_dev : 0; /* input stays on the CPU */
        uint64_t b = bytes;
        if (row_padding[dev])
            b += hr_weight_row_pad_bytes(type, t->ne[0]);
        /* no overflow: the model is below 2^58 bytes (checked above) and a
         * re-typed tensor grows at most ~20x */
        sums[dev] += hr_weight_align_up(b, alignment[dev]);

        /* tied output: the head reuses token_embd, created again
         * (TENSOR_DUPLICATED) in the output device's buffer when that is a GPU */
        if (dup_head && t->role == HR_ROLE_TOKEN_EMBD && layer == HR_LAYER_INPUT) {
            uint64_t d = bytes;
            if (row_padding[out_dev])
                d += hr_weight_row_pad_bytes(type, t->ne[0]);
            sums[out_dev] += hr_weight_align_up(d, alignment[out_dev]);
        }
    }
add:
    for (int d = 0; d <= p->n_gpus; d++)
        if (__builtin_add_overflow(dev_bytes[d], sums[d], &dev_bytes[d]))
            return hr_error_set(err, HR_ERR_LIMIT, "weights size overflows");
    return HR_OK;
}
