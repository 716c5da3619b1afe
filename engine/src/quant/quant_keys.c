/* A layer's run key: the outcomes of the rules' counter tests
 * (use_more_bits, the 1/16, 1/8 and 7/8 thresholds) at its counters and
 * block, in the fields its ftype reads: layers of a chain with equal keys
 * get equal projections. And the segments of a chain by key, so a walk
 * projects each distinct key once. Keys only: nothing is projected here. */
#include <stdint.h>

#include "headroom/quant.h"
#include "quant_internal.h"

static counter_limits limits_of(int n)
{
    return (counter_limits){n / 16, n / 8, 7 * n / 8};
}

/* Those of each counter's total (attn_v, ffn_down, ffn_gate, ffn_up). */
void hr_quant_key_limits(const hr_quant_state *st, counter_limits lim[4])
{
    lim[0] = limits_of(st->n_attention_wv);
    lim[1] = limits_of(st->n_ffn_down);
    lim[2] = limits_of(st->n_ffn_gate);
    lim[3] = limits_of(st->n_ffn_up);
}

/* The counter tests of the rules (use_more_bits and the thresholds of
 * type_impl) for counter x of the total lim was made from, those of
 * `want` only (the bits of a run_key field the ftype reads): equal bits,
 * equal outcomes. */
static inline bool more_bits(int x, const counter_limits *lim) /* use_more_bits */
{
    return x < lim->n8 || x >= lim->n78 || (x - lim->n8) % 3 == 2;
}

static inline uint64_t counter_bits(int x, const counter_limits *lim, uint64_t want)
{
    if (want == 32) /* (Q4_K_M, Q5_K_M: use_more_bits alone) */
        return (uint64_t)more_bits(x, lim) << 5;
    uint64_t b = 0;
    if (want & 1) b |= (uint64_t)(x < 2);
    if (want & 2) b |= (uint64_t)(x < 4) << 1;
    if (want & 4) b |= (uint64_t)(x < lim->n16) << 2;
    if (want & 8) b |= (uint64_t)(x < lim->n8) << 3;
    if (want & 16) b |= (uint64_t)(x >= lim->n78) << 4;
    if (want & 32) b |= (uint64_t)more_bits(x, lim) << 5;
    return b;
}

/* Everything a repeated layer's projected types depend on beyond its
 * tensors: the counters x it starts with and, for MoE models (layer_of),
 * its block index il. Each counted category occurs reads[f] times in the
 * layer (its counter's step over it; 0: not at all), its tensors reading
 * x[f], x[f] + 1, ...: the bits of each value the ftype's rules read, 6
 * per value (fields 0..3: the counters, 4..6: il against the ffn counters'
 * totals). One value a counter (multi false, the usual layer): each field
 * at 6 f; otherwise packed field after field (key_width: how many bits). */
static uint64_t run_key(const hr_quant_ctx *c, const counter_limits lim[4], const int x[4],
                        const int reads[4], bool multi, int32_t il)
{
    const uint64_t mask = c->run_key_mask, field = 63;
    uint64_t k = 0;
    if (!multi) {
        if (mask & field)
            k |= counter_bits(x[0], &lim[0], mask & field);
        if (mask & field << 6)
            k |= counter_bits(x[1], &lim[1], mask >> 6 & field) << 6;
        if (mask & field << 12)
            k |= counter_bits(x[2], &lim[2], mask >> 12 & field) << 12;
        if (mask & field << 18)
            k |= counter_bits(x[3], &lim[3], mask >> 18 & field) << 18;
        if (mask >> 24) { /* (MoE) */
            if (mask & field << 24)
                k |= counter_bits(il, &lim[1], mask >> 24 & field) << 24;
            if (mask & field << 30)
                k |= counter_bits(il, &lim[2], mask >> 30 & field) << 30;
            if (mask & field << 36)
                k |= counter_bits(il, &lim[3], mask >> 36 & field) << 36;
        }
        return k;
    }
    unsigned pos = 0;
    for (int f = 0; f < 4; f++) {
        const uint64_t want = mask >> (6 * f) & field;
        if (!want)
            continue;
        for (int i = 0; i < (reads[f] > 0 ? reads[f] : 1); i++, pos += 6)
            k |= counter_bits(x[f] + i, &lim[f], want) << pos;
    }
    for (int f = 4; f < 7; f++) {
        const uint64_t want = mask >> (6 * f) & field;
        if (want) {
            k |= counter_bits(il, &lim[f - 3], want) << pos;
            pos += 6;
        }
    }
    return k;
}

/* How many layers from one on, whose tensors read the values x .. x + n - 1
 * of a counter stepping by s a layer (s >= 1), give each value's bits in
 * `want` as in that layer: up to the first layer where one crosses a
 * threshold a bit tests (the layer straddling it stands alone); in the
 * middle of use_more_bits, up to its end, the bits repeating every three
 * layers (*periodic set; each layer alike when s is a multiple of 3). */
static inline uint32_t bits_span(int x, int n, int s, const counter_limits *lim, uint64_t want,
                                 bool *periodic)
{
    const int last = x + n - 1; /* (the layer's last value) */
    uint32_t d = UINT32_MAX;
#define UP_TO(t)                                                                         \
    do {                                                                                 \
        const int t_ = (t);                                                              \
        if (x < t_) {                                                                    \
            const uint32_t j_ = last >= t_ ? 1 : s == 1 ? (uint32_t)(t_ - last)          \
                                : (uint32_t)((t_ - last + s - 1) / s);                   \
            if (j_ < d)                                                                  \
                d = j_;                                                                  \
        }                                                                                \
    } while (0)
    if (want & 1) UP_TO(2);
    if (want & 2) UP_TO(4);
    if (want & 4) UP_TO(lim->n16);
    if (want & 8) UP_TO(lim->n8);
    if (want & 16) UP_TO(lim->n78);
    if (want & 32) {
        if (x < lim->n8) {
            UP_TO(lim->n8);
        } else if (x < lim->n78) {
            UP_TO(lim->n78);
            if (s % 3 != 0)
                *periodic = true;
        }
    }
#undef UP_TO
    return d;
}

/* How many layers of a chain from a layer on (x: its counters, il: its
 * block) surely have its key, or repeat the keys of their first three
 * (*period 3): the counters step by `step` a layer (the tensors of their
 * category in it: at most HR_QUANT_COUNTED_MAX) and the block index by 1,
 * each field staying on its side of the thresholds it tests. */
static uint32_t key_span(const hr_quant_ctx *c, const counter_limits lim[4], const int x[4],
                         const int step[4], int32_t il, int *period)
{
    uint32_t d = UINT32_MAX;
    bool periodic = false;
    *period = 1;
    const int n_fields = c->run_key_mask >> 24 ? 7 : 4; /* (only MoE models read il) */
    for (int f = 0; f < n_fields; f++) {
        const uint64_t want = c->run_key_mask >> (6 * f) & 63;
        if (!want)
            continue;
        /* fields 4..6: the block index against the ffn counters' totals */
        const int s = f < 4 ? step[f] : 1;
        if (s == 0)
            continue;
        if (s < 0 || s > HR_QUANT_COUNTED_MAX)
            return 1;
        const uint32_t df = f < 4 ? bits_span(x[f], s, s, &lim[f], want, &periodic)
                                  : bits_span(il, 1, 1, &lim[f - 3], want, &periodic);
        if (df < d)
            d = df;
    }
    if (periodic)
        *period = 3;
    return d;
}

/* The key segments of a chain of n_layers repeating layers from its first
 * (k->layer; counters k->x, stepping by k->step a layer; lim from the
 * totals k->n), for an ftype whose rules read counters: segments of layers
 * whose keys stay or repeat every three, a variant for each distinct key
 * in order of first appearance. Ends the chain early (k->n_layers) where a
 * key would need a fifth variant or the segments run out. Keys only: no
 * tensor is projected. */
void hr_quant_keyed_segments(const hr_quant_ctx *c, const counter_limits lim[4], bool multi,
                             uint32_t n_layers, hr_quant_keyed *k)
{
    uint64_t vkey[HR_QUANT_RUN_SLOTS];
    vkey[0] = run_key(c, lim, k->x, k->step, multi, k->layer);
    k->rep[0] = 0;
    k->n_variants = 1;
    k->n_segs = 0;
    uint32_t j = 0;
    int xj[4] = {k->x[0], k->x[1], k->x[2], k->x[3]}; /* the counters at layer j */
    while (j < n_layers) {
        if (k->n_segs == HR_QUANT_RUN_SEGS)
            break;
        int period;
        const int32_t il = k->layer + (int32_t)j;
        uint32_t span = key_span(c, lim, xj, k->step, il, &period);
        if (span > n_layers - j)
            span = n_layers - j;
        if ((uint32_t)period > span)
            period = (int)span;
        hr_quant_seg g = {j, span, (uint8_t)period, {0, 0, 0}};
        int xr[4] = {xj[0], xj[1], xj[2], xj[3]}; /* the counters at layer j + r */
        for (int r = 0; r < period; r++) {
            if (r > 0)
                for (int f = 0; f < 4; f++)
                    xr[f] += k->step[f];
            const uint64_t key =
                j + (uint32_t)r == 0 ? vkey[0] : run_key(c, lim, xr, k->step, multi, il + r);
            int v = 0;
            while (v < k->n_variants && vkey[v] != key)
                v++;
            if (v == k->n_variants) {
                if (v == HR_QUANT_RUN_SLOTS) {
                    if (r > 0) {
                        g.len = g.period = (uint8_t)r; /* (r < 3) */
                        k->seg[k->n_segs++] = g;
                    }
                    k->n_layers = j + (uint32_t)r;
                    return;
                }
                vkey[v] = key;
                k->rep[v] = j + (uint32_t)r;
                k->n_variants++;
            }
            g.variant[r] = (uint8_t)v;
        }
        if (k->n_segs > 0 && g.period == 1 && k->seg[k->n_segs - 1].period == 1 &&
            k->seg[k->n_segs - 1].variant[0] == g.variant[0])
            k->seg[k->n_segs - 1].len += span; /* (the same outcome goes on) */
        else
            k->seg[k->n_segs++] = g;
        j += span;
        for (int f = 0; f < 4; f++)
            xj[f] += k->step[f] * (int)span;
    }
    k->n_layers = j;
}
