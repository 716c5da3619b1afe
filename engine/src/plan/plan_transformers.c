/* hr_plan_transformers: a Hugging Face transformers-style forward (one
 * device, weights loaded in a dtype, dynamic KV cache, eager activations).
 *
 * Formulas (T = batch * seq tokens, a = bytes of the dtype):
 *  - weights: every floating tensor re-typed to the load dtype (integer or
 *    already-quantized tensors keep their bytes);
 *  - KV cache: per attention layer 2 (K, V) * batch * tokens * n_head_kv *
 *    head_dim * kv bytes, tokens = min(seq, window) on sliding-window layers
 *    (transformers' sliding-window caches hold at most the window); MLA
 *    models cache decompressed K and V per head; recurrent layers keep their
 *    conv + ssm state per sequence;
 *  - activations: the peak of one decoder layer, which is the residual
 *    stream plus the larger of (a) Q, K, V and eager attention scores
 *    batch * n_head * seq * seq (the worst case: SDPA kernels that avoid the
 *    scores are not always chosen) and (b) the FFN's gate and up
 *    projections T * n_ff * 2; plus the logits T * vocab * 4 (transformers
 *    upcasts logits to f32) for causal LMs; embedding models have no logits;
 *  - overhead (framework) and margin (percent of the rest + fixed).
 */
#include "headroom/plan.h"

static bool is_float_type(hr_type t)
{
    return t == HR_TYPE_F32 || t == HR_TYPE_F16 || t == HR_TYPE_BF16 || t == HR_TYPE_F64 ||
           t == HR_TYPE_ST_F8_E4M3 || t == HR_TYPE_ST_F8_E5M2;
}

static uint64_t dtype_bytes(hr_type t)
{
    const hr_type_info *ti = hr_type_get(t);
    return ti && ti->block_size == 1 ? ti->block_bytes : 0;
}

/* a*b*c*... with overflow detection */
static bool mul(uint64_t *acc, uint64_t v)
{
    return !__builtin_mul_overflow(*acc, v, acc);
}

static bool add(uint64_t *acc, uint64_t v)
{
    return !__builtin_add_overflow(*acc, v, acc);
}

static hr_type model_dtype(const hr_model *m)
{
    /* the type of the most bytes among floating tensors */
    uint64_t by[3] = {0};
    const hr_type ts[3] = {HR_TYPE_F32, HR_TYPE_F16, HR_TYPE_BF16};
    for (size_t i = 0; i < m->n_tensors; i++)
        for (int k = 0; k < 3; k++)
            if (m->tensors[i].type == ts[k])
                by[k] += m->tensors[i].bytes;
    int best = 1;
    for (int k = 0; k < 3; k++)
        if (by[k] > by[best])
            best = k;
    return ts[best];
}

hr_status hr_plan_transformers(const hr_model *m, const hr_tf_settings *s, hr_tf_plan *out,
                               hr_error *err)
{
    if (!m || !s || !out)
        return hr_error_set(err, HR_ERR_ARG, "transformers plan: model, settings and output are required");
    *out = (hr_tf_plan){0};
    const hr_type dtype = s->dtype != HR_TYPE_INVALID ? s->dtype : model_dtype(m);
    const hr_type kv_dtype = s->kv_dtype != HR_TYPE_INVALID ? s->kv_dtype : dtype;
    const uint64_t a = dtype_bytes(dtype), kva = dtype_bytes(kv_dtype);
    if (!a || !kva)
        return hr_error_set(err, HR_ERR_ARG, "transformers plan: dtype must be a plain type");
    if (!(s->margin_percent >= 0.0 && s->margin_percent <= 1000.0))
        return hr_error_set(err, HR_ERR_ARG, "transformers plan: margin percent out of range");
    const uint64_t batch = s->batch ? s->batch : 1;
    const uint64_t seq = s->seq_len ? s->seq_len : m->n_ctx_train;
    if (seq == 0)
        return hr_error_set(err, HR_ERR_ARG, "transformers plan: set a sequence length");
    const hr_status overflow = HR_ERR_LIMIT;

    /* weights */
    uint64_t w = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        uint64_t b = t->bytes;
        if (s->dtype != HR_TYPE_INVALID && is_float_type(t->type)) {
            b = a;
            for (int k = 0; k < 4; k++)
                if (!mul(&b, (uint64_t)(t->ne[k] > 0 ? t->ne[k] : 1)))
                    return hr_error_set(err, overflow, "transformers plan: size overflows");
        }
        if (!add(&w, b))
            return hr_error_set(err, overflow, "transformers plan: size overflows");
    }
    out->weights_bytes = w;

    /* KV cache */
    if (s->use_kv_cache && m->layers) {
        for (uint32_t il = 0; il < m->n_layer; il++) {
            const hr_layer *L = &m->layers[il];
            uint64_t b;
            if (L->is_recurrent) {
                /* LFM2's cache keeps each layer's l_cache columns (no SSM state) */
                const uint64_t conv = m->shortconv_l_cache
                                          ? (uint64_t)m->shortconv_l_cache * m->n_embd
                                          : (uint64_t)(m->ssm_d_conv ? m->ssm_d_conv : 1) *
                                                ((uint64_t)m->ssm_d_inner +
                                                 2ull * m->ssm_n_group * m->ssm_d_state);
                const uint64_t ssm = m->rwkv_head_size
                                         ? (uint64_t)m->n_embd * m->rwkv_head_size
                                         : (uint64_t)m->ssm_d_state * m->ssm_d_inner;
                b = (conv + ssm) * batch;
                if (!mul(&b, kva))
                    return hr_error_set(err, overflow, "transformers plan: size overflows");
            } else {
                b = 0;
            }
            if (L->has_kv) { /* (Falcon-H1: beside the state) */
                const uint64_t heads = m->is_mla ? L->n_head : L->n_head_kv;
                const uint64_t tokens = L->is_swa && m->n_swa && m->n_swa < seq ? m->n_swa : seq;
                uint64_t kvb = heads * ((uint64_t)L->n_embd_head_k + L->n_embd_head_v);
                if (!mul(&kvb, batch) || !mul(&kvb, tokens) || !mul(&kvb, kva) || !add(&b, kvb))
                    return hr_error_set(err, overflow, "transformers plan: size overflows");
            }
            if (!add(&out->kv_bytes, b))
                return hr_error_set(err, overflow, "transformers plan: size overflows");
        }
    }

    /* activations of the widest layer */
    uint64_t T = batch * seq;
    uint64_t residual = 2 * (uint64_t)m->n_embd;
    if (!mul(&residual, T) || !mul(&residual, a))
        return hr_error_set(err, overflow, "transformers plan: size overflows");
    uint64_t peak_layer = 0;
    for (uint32_t il = 0; m->layers && il < m->n_layer; il++) {
        const hr_layer *L = &m->layers[il];
        uint64_t attn = (uint64_t)L->n_head * L->n_embd_head_k +
                        (uint64_t)L->n_head_kv * (L->n_embd_head_k + L->n_embd_head_v);
        uint64_t scores = (uint64_t)L->n_head * batch;
        if (!mul(&attn, T) || !mul(&attn, a) || !mul(&scores, seq) || !mul(&scores, seq) ||
            !mul(&scores, a) || !add(&attn, scores))
            return hr_error_set(err, overflow, "transformers plan: size overflows");
        uint64_t ff = L->n_expert ? (uint64_t)L->n_ff_exp * L->n_expert_used : L->n_ff;
        if (!mul(&ff, 2 * T) || !mul(&ff, a))
            return hr_error_set(err, overflow, "transformers plan: size overflows");
        const uint64_t layer = attn > ff ? attn : ff;
        if (layer > peak_layer)
            peak_layer = layer;
    }
    uint64_t act = residual;
    if (!add(&act, peak_layer))
        return hr_error_set(err, overflow, "transformers plan: size overflows");
    if (!m->embedding_only && m->causal) {
        uint64_t logits = (uint64_t)m->n_vocab * 4;
        if (!mul(&logits, T) || !add(&act, logits))
            return hr_error_set(err, overflow, "transformers plan: size overflows");
    }
    out->activation_bytes = act;
    out->overhead_bytes = s->overhead_bytes;

    uint64_t total = 0;
    if (!add(&total, out->weights_bytes) || !add(&total, out->kv_bytes) ||
        !add(&total, out->activation_bytes) || !add(&total, out->overhead_bytes))
        return hr_error_set(err, overflow, "transformers plan: size overflows");
    const double pct = s->margin_percent > 0 ? (double)total * s->margin_percent / 100.0 : 0.0;
    out->margin_bytes = (uint64_t)pct + s->margin_bytes;
    if (!add(&total, out->margin_bytes))
        return hr_error_set(err, overflow, "transformers plan: size overflows");
    out->total_bytes = total;
    return HR_OK;
}
