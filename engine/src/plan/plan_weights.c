/* Weights per device: tensor bytes as ggml_backend_buft_get_alloc_size
 * gives them, aligned per tensor like ggml-alloc packs a buffer. */
#include <string.h>

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

/* The device of each block in the table (dev_of[il] = hr_place_device
 * for il < n_table), the end of each device's blocks (dev_end[d]: the
 * block after the last of d's; hr_place_device never decreases with the
 * block, so each device holds one range of them), and which devices hold
 * at least one repeating layer: each of them gets its own copy of the
 * layer-shared tensors (rope_freqs). Without layers the host keeps the one
 * copy, so totals never lose it. Without GPU layers every block is on the
 * host, and with one GPU the blocks from i_gpu_start on are on it
 * (hr_place_device): ranges then. */
static void place_layers(const hr_model *m, const hr_placement *p, int32_t n_table,
                         uint8_t *dev_of, int32_t *dev_end, bool *holds)
{
    const int32_t n_layer = (int32_t)m->n_layer;
    for (int d = 0; d <= p->n_gpus; d++) {
        holds[d] = false;
        dev_end[d] = n_layer;
    }
    if (p->n_gpu_layers <= 0 || p->n_gpus == 1) {
        /* blocks below gpu_start on the host, the rest on GPU 1 */
        const int32_t gpu_start = p->n_gpu_layers <= 0 ? n_layer
                                  : p->i_gpu_start < 0 ? 0
                                  : p->i_gpu_start < n_layer ? p->i_gpu_start : n_layer;
        const int32_t host_end = gpu_start < n_table ? gpu_start : n_table;
        memset(dev_of, 0, (size_t)host_end);
        memset(dev_of + host_end, 1, (size_t)(n_table - host_end));
        dev_end[0] = gpu_start;
        holds[0] = gpu_start > 0 || n_layer == 0;
        if (gpu_start < n_layer)
            holds[1] = true;
        return;
    }
    for (int32_t il = 0; il < n_table; il++)
        dev_of[il] = (uint8_t)hr_place_device(p, il);
    int prev = 0;
    bool rising = true;
    for (int32_t il = 0; il < n_layer; il++) {
        const int d = il < n_table ? dev_of[il] : hr_place_device(p, il);
        holds[d] = true;
        rising = rising && d >= prev;
        if (d != prev)
            dev_end[prev] = il;
        prev = d;
    }
    if (!rising) /* (not from hr_place_device as it is: a block at a time then) */
        for (int d = 0; d <= p->n_gpus; d++)
            dev_end[d] = 0;
    if (n_layer == 0)
        holds[0] = true;
}

/* The same sums from the model's per-layer totals (the tensors' own types,
 * alignments 32 / 128): O(n_layer). False when they are not there. */
static bool sum_by_layer(const hr_model *m, const hr_placement *p, const uint8_t *dev_of,
                         const int32_t *dev_end, const bool *row_padding,
                         const uint32_t *alignment, int out_dev, bool dup_head,
                         const bool *holds_layer, uint64_t *sums)
{
    hr_weight_sums ws[HR_MAX_DEVICES];
    if (!hr_model_weight_sums(m, alignment[0], row_padding[0], &ws[0]))
        return false;
    for (int d = 1; d <= p->n_gpus; d++)
        if (!hr_model_weight_sums(m, alignment[d], row_padding[d], &ws[d]))
            return false;
    /* a device's range of layers at a time (place_layers' ends; at least
     * the layer itself) */
    const int32_t n_layer = (int32_t)m->n_layer; /* (<= HR_DEV_TABLE: the caller checks) */
    for (int32_t a = 0; a < n_layer;) {
        const int d = dev_of[a];
        const int32_t b = dev_end[d] <= a ? a + 1 : dev_end[d] < n_layer ? dev_end[d] : n_layer;
        uint64_t sum = 0;
        for (int32_t il = a; il < b; il++)
            sum += ws[d].layer[il];
        sums[d] += sum;
        a = b;
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

/* Where the tensors go and how each device pads them. */
typedef struct weight_walk {
    const hr_placement *p;
    const uint8_t *dev_of;
    int32_t n_table;
    bool row_padding[HR_MAX_DEVICES];
    const uint32_t *alignment;
    int32_t dev_end[HR_MAX_DEVICES]; /* (place_layers; at most the block: one at a time) */
    int out_dev;
    bool dup_head;
    bool holds_layer[HR_MAX_DEVICES];
    uint64_t sums[HR_MAX_DEVICES];
    hr_quant_ctx *qc; /* a what-if walk's (its type cache), or NULL */
} weight_walk;

/* hr_weight_row_pad_bytes, from the what-if walk's type cache if any */
static inline uint64_t row_pad(weight_walk *w, hr_type type, int64_t ne0)
{
    if (ne0 % HR_MATRIX_ROW_PADDING == 0)
        return 0; /* (the usual row) */
    return w->qc ? hr_quant_ctx_row_pad(w->qc, type, ne0) : hr_weight_row_pad_bytes(type, ne0);
}

static int layer_device(const weight_walk *w, int32_t layer)
{
    return layer < w->n_table ? w->dev_of[layer] : hr_place_device(w->p, layer);
}

/* One tensor of this type and size into its device's (or devices') sum;
 * shared: hr_tensor_is_layer_shared. */
static void add_tensor(weight_walk *w, const hr_tensor *t, bool shared, hr_type type,
                       uint64_t bytes)
{
    const int32_t layer = t->layer;
    if (shared) {
        for (int d = 0; d <= w->p->n_gpus; d++) {
            if (!w->holds_layer[d])
                continue;
            uint64_t b = bytes;
            if (w->row_padding[d])
                b += row_pad(w, type, t->ne[0]);
            w->sums[d] += hr_weight_align_up(b, w->alignment[d]);
        }
        return;
    }
    int dev;
    if (layer >= 0)
        dev = layer_device(w, layer);
    else
        dev = layer == HR_LAYER_OUTPUT ? w->out_dev : 0; /* input stays on the CPU */
    uint64_t b = bytes;
    if (w->row_padding[dev])
        b += row_pad(w, type, t->ne[0]);
    /* no overflow: the model is below 2^58 bytes (checked by the caller)
     * and a re-typed tensor grows at most ~20x */
    w->sums[dev] += hr_weight_align_up(b, w->alignment[dev]);

    /* tied output: the head reuses token_embd, created again
     * (TENSOR_DUPLICATED) in the output device's buffer when that is a GPU */
    if (w->dup_head && t->role == HR_ROLE_TOKEN_EMBD && layer == HR_LAYER_INPUT) {
        uint64_t d = bytes;
        if (w->row_padding[w->out_dev])
            d += row_pad(w, type, t->ne[0]);
        w->sums[w->out_dev] += hr_weight_align_up(d, w->alignment[w->out_dev]);
    }
}

/* Padded sum of one layer's projected tensors on device dev. */
static uint64_t layer_sum(weight_walk *w, const hr_tensor *tensors, size_t n,
                          const hr_type *type, const uint64_t *bytes, int dev)
{
    uint64_t sum = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t b = bytes[k];
        if (w->row_padding[dev])
            b += row_pad(w, type[k], tensors[k].ne[0]);
        sum += hr_weight_align_up(b, w->alignment[dev]);
    }
    return sum;
}

/* Layers j in [lo, hi) with j % period == r (lo, hi >= 0, r < period). */
static uint32_t count_residue(uint32_t lo, uint32_t hi, uint32_t r, uint32_t period)
{
    return (hi + period - 1 - r) / period - (lo + period - 1 - r) / period;
}

/* What-if: the tensors projected to target, a run at a time. The layers of
 * a run add their variant's padded sum times their count on each device
 * (by segments and device ranges); a variant's sum is summed again only
 * for a device that pads otherwise. */
static hr_status add_projected(weight_walk *w, const hr_model *m, hr_ftype target, hr_error *err)
{
    hr_quant_state st;
    hr_quant_state_init(&st, m);
    hr_quant_ctx qctx; /* one per walk: default type, block sizes, the model's tensor facts */
    hr_quant_ctx_init(&qctx, m, target);
    w->qc = &qctx;
    hr_quant_run run;
    run.n = 0;
    run.n_layers = 0;
    for (size_t i = 0; i < m->n_tensors; i += run.n * run.n_layers) {
        hr_status rc = hr_quant_ctx_next_run(&qctx, &st, i, &run, err);
        if (rc != HR_OK) {
            w->qc = NULL;
            return rc;
        }
        if (run.layer < 0) {
            const hr_type *type = run.type[0];
            const uint64_t *bytes = run.bytes[0];
            const hr_quant_fact *f = qctx.facts ? qctx.facts->tensor + run.first : NULL;
            for (size_t k = 0; k < run.n; k++) {
                const hr_tensor *t = &m->tensors[run.first + k];
                add_tensor(w, t, f ? (f[k].flags & HR_QF_LAYER_SHARED) != 0
                                   : hr_tensor_is_layer_shared(t), type[k], bytes[k]);
            }
            continue;
        }
        /* padded sum of each variant's layer, and the device it was summed
         * for (-1: none; devices that pad alike share it) */
        uint64_t var_sum[HR_QUANT_RUN_SLOTS];
        int var_dev[HR_QUANT_RUN_SLOTS];
        for (int v = 0; v < run.n_variants; v++)
            var_dev[v] = -1;
        /* layers: every tensor of one on one device (none is layer-shared) */
        for (int sg = 0; sg < run.n_segs; sg++) {
            const hr_quant_seg *g = &run.seg[sg];
            const int32_t base = run.layer + (int32_t)g->start, end = base + (int32_t)g->len;
            for (int32_t a = base; a < end;) {
                const int dev = layer_device(w, a);
                const int32_t b = w->dev_end[dev] <= a ? a + 1
                                  : w->dev_end[dev] < end ? w->dev_end[dev] : end;
                for (int r = 0; r < g->period; r++) {
                    const uint32_t count =
                        g->period == 1 ? (uint32_t)(b - a)
                                       : count_residue((uint32_t)(a - base), (uint32_t)(b - base),
                                                       (uint32_t)r, g->period);
                    const int v = g->variant[r];
                    if (count == 0)
                        continue;
                    if (var_dev[v] != dev &&
                        (var_dev[v] < 0 || w->alignment[var_dev[v]] != w->alignment[dev] ||
                         w->row_padding[var_dev[v]] != w->row_padding[dev]))
                        var_sum[v] = layer_sum(w, &m->tensors[run.first], run.n, run.type[v],
                                               run.bytes[v], dev);
                    var_dev[v] = dev;
                    w->sums[dev] += var_sum[v] * count; /* (as add_tensor: no overflow) */
                }
                a = b;
            }
        }
    }
    w->qc = NULL; /* (qctx ends here) */
    return HR_OK;
}

hr_status hr_plan_weights(const hr_model *m, const hr_settings *s, const hr_placement *p,
                          const hr_backend *backends, const uint32_t *alignment,
                          uint64_t *dev_bytes, hr_error *err)
{
    if (m->n_bytes > (UINT64_MAX >> 6))
        return hr_error_set(err, HR_ERR_LIMIT, "weights of %llu bytes are beyond any plan",
                            (unsigned long long)m->n_bytes);
    const bool whatif = s->target_ftype != HR_FTYPE_UNKNOWN;

    uint8_t dev_of[HR_DEV_TABLE];
    weight_walk w; /* (sums, flags: only entries 0..n_gpus are read) */
    w.p = p;
    w.dev_of = dev_of;
    w.alignment = alignment;
    w.n_table = m->n_layer < HR_DEV_TABLE ? (int32_t)m->n_layer : HR_DEV_TABLE;
    place_layers(m, p, w.n_table, dev_of, w.dev_end, w.holds_layer);
    for (int d = 0; d <= p->n_gpus; d++) {
        w.row_padding[d] = pads_rows(backends[d]);
        w.sums[d] = 0;
    }

    w.out_dev = hr_place_device(p, (int32_t)m->n_layer);
    /* (an encoder has no head: nothing reuses its token_embd) */
    w.dup_head = m->tied_output && w.out_dev != 0 && !hr_plan_arch_is_encoder(m);
    w.qc = NULL;
    if (whatif) {
        hr_status rc = add_projected(&w, m, s->target_ftype, err);
        if (rc != HR_OK)
            return rc;
    } else if (m->n_layer > HR_DEV_TABLE ||
               !sum_by_layer(m, p, dev_of, w.dev_end, w.row_padding, alignment, w.out_dev,
                             w.dup_head, w.holds_layer, w.sums)) {
        for (size_t i = 0; i < m->n_tensors; i++)
            add_tensor(&w, &m->tensors[i], hr_tensor_is_layer_shared(&m->tensors[i]),
                       m->tensors[i].type, m->tensors[i].bytes);
    }
    for (int d = 0; d <= p->n_gpus; d++)
        if (__builtin_add_overflow(dev_bytes[d], w.sums[d], &dev_bytes[d]))
            return hr_error_set(err, HR_ERR_LIMIT, "weights size overflows");
    return HR_OK;
}
