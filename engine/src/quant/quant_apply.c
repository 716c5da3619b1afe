/* Walk state, what-if projection and re-typed model copies. */
#include <stdlib.h>
#include <string.h>

#include "headroom/quant.h"
#include "model/model_internal.h"
#include "quant_internal.h"

/* init_quantize_state_counters: attn_v-like tensors are counted by name;
 * the ffn counters use the layer count. */
void hr_quant_state_init(hr_quant_state *st, const hr_model *model)
{
    memset(st, 0, sizeof *st);
    if (!model)
        return;
    const hr_quant_facts *facts = hr_model_quant_facts(model);
    if (facts) {
        st->n_attention_wv = facts->n_attention_wv;
        st->has_output_weight = facts->has_output_weight;
    } else {
        for (size_t i = 0; i < model->n_tensors; i++) {
            const uint8_t flags = hr_quant_state_flags(&model->tensors[i]);
            if (flags & HR_QF_COUNTS_WV)
                st->n_attention_wv++;
            if (flags & HR_QF_OUTPUT_WEIGHT)
                st->has_output_weight = true;
        }
    }
    st->n_ffn_down = st->n_ffn_gate = st->n_ffn_up = (int)model->n_layer;
}

hr_status hr_quant_project(const hr_model *model, hr_ftype ftype, uint64_t *total_bytes,
                           uint64_t *input_bytes, uint64_t *output_bytes, uint64_t *layer_bytes,
                           hr_error *err)
{
    if (!model)
        return hr_error_set(err, HR_ERR_ARG, "no model to project");
    if (hr_ftype_default_type(ftype) == HR_TYPE_INVALID)
        return hr_error_set(err, HR_ERR_ARG, "%s: unknown quantization type %d",
                            model->name ? model->name : "model", (int)ftype);
    hr_quant_state st;
    hr_quant_state_init(&st, model);
    hr_quant_ctx ctx;
    hr_quant_ctx_init(&ctx, model, ftype);
    uint64_t total = 0, in = 0, out = 0;
    if (layer_bytes)
        for (uint32_t i = 0; i < model->n_layer; i++)
            layer_bytes[i] = 0;
    /* a run at a time (each layer of a run adds its variant's sum); from a
     * run that fails on, tensor by tensor, so the first failure in tensor
     * order is the one reported */
    hr_quant_run runs; /* (~6 KiB on the stack, as in a plan's what-if walk) */
    hr_quant_run *run = &runs;
    run->n = 0;
    run->n_layers = 0;
    size_t i = 0;
    while (i < model->n_tensors) {
        const hr_quant_state at_start = st;
        if (hr_quant_ctx_next_run(&ctx, &st, i, run, NULL) != HR_OK) {
            st = at_start;
            break;
        }
        uint64_t var_sum[HR_QUANT_RUN_SLOTS];
        for (int v = 0; v < run->n_variants; v++) {
            const uint64_t *bytes = run->bytes[v];
            uint64_t sum = 0;
            for (size_t k = 0; k < run->n && sum != UINT64_MAX; k++)
                if (__builtin_add_overflow(sum, bytes[k], &sum))
                    sum = UINT64_MAX; /* overflows the total below as well */
            var_sum[v] = sum;
        }
        if (run->layer < 0) {
            const uint64_t *bytes = run->bytes[0];
            if (var_sum[0] == UINT64_MAX || __builtin_add_overflow(total, var_sum[0], &total)) {
                st = at_start;
                break; /* (the loop below reports it) */
            }
            for (size_t k = 0; k < run->n; k++) {
                const int32_t layer = model->tensors[i + k].layer;
                if (layer >= 0) {
                    if (layer_bytes && (uint32_t)layer < model->n_layer)
                        layer_bytes[layer] += bytes[k];
                } else if (layer == HR_LAYER_OUTPUT) {
                    out += bytes[k];
                } else {
                    in += bytes[k];
                }
            }
        } else {
            /* each segment's layers: their count times their variant's sum */
            uint64_t next = total;
            bool overflows = false;
            for (int sg = 0; sg < run->n_segs && !overflows; sg++) {
                const hr_quant_seg *g = &run->seg[sg];
                for (uint32_t r = 0; r < g->period && !overflows; r++) {
                    const uint64_t sum = var_sum[g->variant[r]];
                    const uint64_t count = (g->len + g->period - 1 - r) / g->period;
                    uint64_t add;
                    overflows = sum == UINT64_MAX || __builtin_mul_overflow(sum, count, &add) ||
                                __builtin_add_overflow(next, add, &next);
                }
            }
            if (overflows) {
                st = at_start;
                break; /* (the loop below reports it) */
            }
            total = next;
            if (layer_bytes)
                for (int sg = 0; sg < run->n_segs; sg++) {
                    const hr_quant_seg *g = &run->seg[sg];
                    for (uint32_t j = 0; j < g->len; j++)
                        layer_bytes[run->layer + (int32_t)(g->start + j)] +=
                            var_sum[g->variant[j % g->period]];
                }
        }
        i += run->n * run->n_layers;
    }
    for (; i < model->n_tensors; i++) {
        const hr_tensor *t = &model->tensors[i];
        hr_type type = hr_quant_ctx_type(&ctx, &st, t);
        uint64_t bytes = t->bytes;
        if (type != t->type) {
            hr_status s = hr_quant_ctx_bytes(&ctx, type, t->ne, &bytes, err);
            if (s != HR_OK)
                return s;
        }
        if (__builtin_add_overflow(total, bytes, &total))
            return hr_error_set(err, HR_ERR_LIMIT, "projected size overflows");
        if (t->layer >= 0) {
            if (layer_bytes && (uint32_t)t->layer < model->n_layer)
                layer_bytes[t->layer] += bytes;
        } else if (t->layer == HR_LAYER_OUTPUT) {
            out += bytes;
        } else {
            in += bytes;
        }
    }
    if (total_bytes) *total_bytes = total;
    if (input_bytes) *input_bytes = in;
    if (output_bytes) *output_bytes = out;
    return HR_OK;
}

hr_status hr_model_requantize(const hr_model *src, hr_ftype ftype, hr_model **out, hr_error *err)
{
    if (!src || !out)
        return hr_error_set(err, HR_ERR_ARG, "no model to requantize");
    *out = NULL;
    if (hr_ftype_default_type(ftype) == HR_TYPE_INVALID)
        return hr_error_set(err, HR_ERR_ARG, "%s: unknown quantization type %d",
                            src->name ? src->name : "model", (int)ftype);
    hr_model *m = NULL;
    hr_status s = hr_model_copy_shell(src, &m, err);
    if (s != HR_OK)
        return s;
    m->ftype = ftype;
    m->quant_name = NULL;

    hr_quant_state st;
    hr_quant_state_init(&st, src);
    hr_quant_ctx ctx;
    hr_quant_ctx_init(&ctx, src, ftype);
    for (size_t i = 0; i < src->n_tensors; i++) {
        const hr_tensor *from = &src->tensors[i];
        hr_type type = hr_quant_ctx_type(&ctx, &st, from);
        hr_tensor *t = hr_model_push_tensor(m, err);
        if (!t) {
            s = HR_ERR_NOMEM;
            goto fail;
        }
        *t = *from;
        t->name = hr_model_strdup(m, from->name);
        t->hf_name = from->hf_name ? hr_model_strdup(m, from->hf_name) : NULL;
        if (!t->name || (from->hf_name && !t->hf_name)) {
            s = hr_error_set(err, HR_ERR_NOMEM, "out of memory copying the model");
            goto fail;
        }
        t->type = type;
        if (type != from->type && (s = hr_type_tensor_bytes(type, t->ne, &t->bytes, err)) != HR_OK)
            goto fail;
    }
    if ((s = hr_model_finalize(m, err)) != HR_OK)
        goto fail;
    *out = m;
    return HR_OK;
fail:
    hr_model_free(m);
    return s;
}
