/* The what-if projection walk a plan runs: a walk's context
 * (hr_quant_ctx_init), each tensor's projected type and bytes (the model's
 * fixed outcomes where its facts have them, the rules otherwise), and runs
 * of tensors (hr_quant_ctx_next_run): a layer and the layers repeating it,
 * projected once per distinct key (quant_keys.c), or a run the model kept
 * (quant_facts.c). */
#include <string.h>

#include "headroom/quant.h"
#include "model/model_internal.h"
#include "model/weight_pad.h"
#include "quant_internal.h"

/* hr_quant_ctx_init with these facts (hr_quant_facts_build's, before the
 * model has them). */
void hr_quant_ctx_init_facts(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype,
                             const hr_quant_facts *facts)
{
    c->block_known = 0; /* (the cache's entries are written when looked up) */
    c->block_pads = 0;
    c->model = m;
    c->facts = facts;
    c->ftype = ftype;
    c->is_70b = is_llama_70b(m);
    c->n_gqa = model_n_gqa(m);
    const int slot = hr_quant_row_slot(ftype);
    c->row = facts && facts->ftype_row && slot >= 0 ? &facts->ftype_row[slot] : NULL;
    c->keyed_next = 0;
    c->run_next = 0;
    if (!c->row) {
        hr_quant_ctx_ftype(c, m, ftype);
        return;
    }
    c->default_type = c->row->default_type;
    c->default_quantized = c->row->default_quantized;
    c->bitnet = c->row->bitnet;
    c->iq2_family = c->row->iq2_family;
    c->by_rules = c->row->by_rules;
    c->run_key_mask = c->row->run_key_mask;
}

void hr_quant_ctx_init(hr_quant_ctx *c, const hr_model *m, hr_ftype ftype)
{
    hr_quant_ctx_init_facts(c, m, ftype, hr_model_quant_facts(m));
}

/* The precomputed facts when t is one of the model's own tensors (callers
 * may pass a copy, or walk before finalize); computed now otherwise. */
static hr_quant_fact fact_for(const hr_quant_ctx *c, const hr_tensor *t)
{
    if (c->facts) {
        const uintptr_t at = (uintptr_t)t, base = (uintptr_t)c->model->tensors;
        const size_t n = c->model->n_tensors;
        if (at >= base && (at - base) / sizeof *t < n && (at - base) % sizeof *t == 0)
            return c->facts->tensor[(at - base) / sizeof *t];
    }
    return hr_quant_rule_fact(t, tensor_role(t));
}

/* One step of counter k - 1 (hr_quant_ftype_row's step; 0: none). */
static inline void step_counter(hr_quant_state *st, unsigned k)
{
    switch (k) {
    case 1: st->i_attention_wv++; break;
    case 2: st->i_ffn_down++; break;
    case 3: st->i_ffn_gate++; break;
    case 4: st->i_ffn_up++; break;
    default: break;
    }
}

/* walk: a projection walk's (hr_quant_ctx_walk), which reads the model's
 * ftype row where it has the outcome; hr_quant_ctx_type applies the rules
 * themselves (the reference the tests hold the walks to). */
static inline __attribute__((always_inline)) hr_type
type_of_fact(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t, hr_quant_fact f, bool walk)
{
    if (!(f.flags & HR_QF_ALLOWS)) {
        /* converted from a checkpoint: the converter wrote these as F32 */
        if (c->model->source != HR_SOURCE_GGUF && (f.flags & HR_QF_SOURCE_F32))
            return HR_TYPE_F32;
        return t->type;
    }
    const category cat = (category)f.category;
    if (c->by_rules) {
        if (walk && c->row && c->row->fixed[cat] != HR_QUANT_DYNAMIC &&
            (cat != CAT_TOKEN_EMBD || st->has_output_weight)) {
            step_counter(st, c->row->step[cat]);
            return type_fallback(c, t, (hr_type)c->row->fixed[cat]);
        }
        return hr_quant_rules_type(c, st, t, cat);
    }
    if (c->default_type == HR_TYPE_INVALID)
        return t->type;
    if (c->bitnet) {
        /* BitNet's llama-quantize keeps the embeddings and head in F16 */
        if (cat == CAT_TOKEN_EMBD || cat == CAT_OUTPUT)
            return HR_TYPE_F16;
        return c->default_type;
    }
    return c->default_type; /* (not quantized: F32, F16, BF16) */
}

hr_type hr_quant_ctx_type(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t)
{
    return type_of_fact(c, st, t, fact_for(c, t), false);
}

static inline hr_status ctx_bytes(hr_quant_ctx *c, hr_type type, const int64_t ne[4],
                                  uint64_t *out, hr_error *err)
{
    if ((unsigned)type < HR_QUANT_TYPE_CACHE) {
        const int64_t blk = block_of(c, type);
        const uint64_t bb = c->block_bytes[type];
        if (bb && ne[0] >= 0 && ne[0] % blk == 0 && ne[1] >= 0 && ne[2] >= 0 && ne[3] >= 0) {
            uint64_t v = (uint64_t)(ne[0] / blk);
            if (!__builtin_mul_overflow(v, bb, &v) && !__builtin_mul_overflow(v, (uint64_t)ne[1], &v) &&
                !__builtin_mul_overflow(v, (uint64_t)ne[2], &v) &&
                !__builtin_mul_overflow(v, (uint64_t)ne[3], &v)) {
                *out = v;
                return HR_OK;
            }
        }
    }
    return hr_type_tensor_bytes(type, ne, out, err); /* errors and special sizes */
}

hr_status hr_quant_ctx_bytes(hr_quant_ctx *c, hr_type type, const int64_t ne[4], uint64_t *out,
                             hr_error *err)
{
    return ctx_bytes(c, type, ne, out, err);
}

uint64_t hr_quant_ctx_row_pad(hr_quant_ctx *c, hr_type type, int64_t ne0)
{
    const int64_t r = ne0 % HR_MATRIX_ROW_PADDING;
    if (r == 0)
        return 0;
    if ((unsigned)type >= HR_QUANT_TYPE_CACHE)
        return hr_weight_row_pad_bytes(type, ne0);
    const int64_t blk = block_of(c, type);
    if (!(c->block_pads >> type & 1))
        return 0; /* (not quantized, or BitNet's own sizes) */
    /* hr_type_row_bytes of the elements up to the next 512: 0 where they
     * are no whole blocks (its error) */
    const int64_t n = HR_MATRIX_ROW_PADDING - r;
    return n % blk != 0 ? 0 : (uint64_t)(n / blk) * c->block_bytes[type];
}

/* The type and bytes of tensor t (its facts f). */
static inline hr_status project_one(hr_quant_ctx *c, hr_quant_state *st, const hr_tensor *t,
                                    hr_quant_fact f, hr_type *type, uint64_t *bytes,
                                    hr_error *err)
{
    *type = type_of_fact(c, st, t, f, true);
    *bytes = t->bytes;
    return *type != t->type ? ctx_bytes(c, *type, t->ne, bytes, err) : HR_OK;
}

hr_status hr_quant_ctx_walk(hr_quant_ctx *c, hr_quant_state *st, size_t first, size_t n,
                            hr_type *types, uint64_t *bytes, hr_error *err)
{
    const hr_model *m = c->model;
    if (first > m->n_tensors || n > m->n_tensors - first)
        return hr_error_set(err, HR_ERR_ARG, "tensors %zu..%zu beyond the model's %zu", first,
                            first + n, m->n_tensors);
    const hr_quant_fact *facts = c->facts ? c->facts->tensor + first : NULL;
    for (size_t i = 0; i < n; i++) {
        const hr_tensor *t = &m->tensors[first + i];
        const hr_status s =
            project_one(c, st, t, facts ? facts[i] : hr_quant_rule_fact(t, tensor_role(t)),
                        &types[i], &bytes[i], err);
        if (s != HR_OK)
            return s;
    }
    return HR_OK;
}

/* Whether the rules read (and step) a counter for tensors of this category. */
static bool category_is_counted(category cat)
{
    return category_is_attn_v(cat) || cat == CAT_FFN_DOWN || cat == CAT_FFN_GATE ||
           cat == CAT_FFN_UP;
}

/* hr_quant_ctx_walk of a layer repeating the layer of variant `from` (its
 * chain) into variant v: only its counted tensors can differ from that
 * one's (the rules read counters, and the block index, for those alone,
 * and step them there), so the others are copied. A failure is the walk's
 * (the copied tensors were sized). */
static hr_status walk_counted(hr_quant_ctx *c, hr_quant_state *st, size_t first, size_t n,
                              hr_quant_run *run, int from, int v, hr_error *err)
{
    memcpy(run->own_type[v], run->type[from], n * sizeof run->own_type[v][0]);
    memcpy(run->own_bytes[v], run->bytes[from], n * sizeof run->own_bytes[v][0]);
    run->type[v] = run->own_type[v];
    run->bytes[v] = run->own_bytes[v];
    const hr_quant_fact *f = c->facts->tensor + first;
    for (size_t i = 0; i < n; i++) {
        if (!(f[i].flags & HR_QF_ALLOWS) || !category_is_counted((category)f[i].category))
            continue;
        const hr_status s = project_one(c, st, &c->model->tensors[first + i], f[i],
                                        &run->own_type[v][i], &run->own_bytes[v][i], err);
        if (s != HR_OK)
            return s;
    }
    return HR_OK;
}

static void set_counters(hr_quant_state *st, const int x[4])
{
    st->i_attention_wv = x[0];
    st->i_ffn_down = x[1];
    st->i_ffn_gate = x[2];
    st->i_ffn_up = x[3];
}

/* The counters at layer j of a chain (x: at its first layer). */
static void counters_at(const int x[4], const int step[4], uint32_t j, int out[4])
{
    for (int k = 0; k < 4; k++)
        out[k] = x[k] + step[k] * (int)j;
}

/* The chain's keys a walk meets at this layer with these counters: the
 * model's (its row's, in layer order), else computed into *own; NULL
 * where a key would be wider than 64 bits. */
static const hr_quant_keyed *chain_keys(hr_quant_ctx *c, const hr_quant_state *st, int32_t layer,
                                        const int x[4], const int step[4], uint32_t n_layers,
                                        hr_quant_keyed *own)
{
    const int n[4] = {st->n_attention_wv, st->n_ffn_down, st->n_ffn_gate, st->n_ffn_up};
    if (c->row) {
        while (c->keyed_next < c->row->n_keyed && c->row->keyed[c->keyed_next].layer < layer)
            c->keyed_next++;
        if (c->keyed_next < c->row->n_keyed) {
            const hr_quant_keyed *k = &c->row->keyed[c->keyed_next];
            if (k->layer == layer && memcmp(k->x, x, sizeof k->x) == 0 &&
                memcmp(k->step, step, sizeof k->step) == 0 &&
                memcmp(k->n, n, sizeof k->n) == 0)
                return k;
        }
    }
    const bool multi = step[0] > 1 || step[1] > 1 || step[2] > 1 || step[3] > 1;
    if (multi && key_width(c, step) > 64)
        return NULL; /* (no ftype's rules read that many bits) */
    own->layer = layer;
    memcpy(own->x, x, sizeof own->x);
    memcpy(own->step, step, sizeof own->step);
    memcpy(own->n, n, sizeof own->n);
    counter_limits lim[4]; /* (the totals stay as they are through a walk) */
    hr_quant_key_limits(st, lim);
    hr_quant_keyed_segments(c, lim, multi, n_layers, own);
    return own;
}

/* A run's layers past its first for an ftype whose rules read counters:
 * the chain's keys, and a projection of each variant past the first at the
 * layer it first comes at (its counted tensors again). A layer that cannot
 * be sized ends the run before it (the next run starts there). Returns
 * the layers the run covers. */
static uint32_t extend_keyed(hr_quant_ctx *c, const hr_quant_state *st, hr_quant_run *run,
                             const int x[4], const int step[4], uint32_t n_layers)
{
    hr_quant_keyed own;
    const hr_quant_keyed *k = chain_keys(c, st, run->layer, x, step, n_layers, &own);
    if (!k)
        return 1;
    memcpy(run->own_seg, k->seg, (size_t)k->n_segs * sizeof run->own_seg[0]);
    run->seg = run->own_seg;
    run->n_segs = k->n_segs;
    run->n_variants = 1;
    for (int v = 1; v < k->n_variants; v++) {
        const uint32_t j = k->rep[v];
        hr_quant_state at = *st;
        int xr[4];
        counters_at(x, step, j, xr);
        set_counters(&at, xr);
        if (walk_counted(c, &at, run->first + j * run->n, run->n, run, 0, v, NULL) != HR_OK) {
            /* cut before layer j: its segment keeps its first r layers */
            int sg = 0;
            while (sg < run->n_segs && run->own_seg[sg].start + run->own_seg[sg].len <= j)
                sg++;
            const uint32_t r = j - run->own_seg[sg].start; /* (< its period: first comes) */
            if (r > 0) {
                run->own_seg[sg].len = run->own_seg[sg].period = (uint8_t)r;
                sg++;
            }
            run->n_segs = sg;
            return j;
        }
        run->n_variants++;
    }
    return k->n_layers;
}

static bool same_state(const hr_quant_state *a, const hr_quant_state *b)
{
    return a->i_attention_wv == b->i_attention_wv && a->n_attention_wv == b->n_attention_wv &&
           a->i_ffn_down == b->i_ffn_down && a->n_ffn_down == b->n_ffn_down &&
           a->i_ffn_gate == b->i_ffn_gate && a->n_ffn_gate == b->n_ffn_gate &&
           a->i_ffn_up == b->i_ffn_up && a->n_ffn_up == b->n_ffn_up &&
           a->has_output_weight == b->has_output_weight;
}

/* The model's kept run at tensor `first` when the walk is where the kept
 * walk was (the same state): its projections pointed at, the counters
 * stepped over it. */
static bool kept_run(hr_quant_ctx *c, hr_quant_state *st, size_t first, hr_quant_run *run)
{
    const hr_quant_ftype_row *r = c->row;
    while (c->run_next < r->n_runs && r->runs[c->run_next].first < first)
        c->run_next++;
    if (c->run_next == r->n_runs)
        return false;
    const hr_quant_stored_run *k = &r->runs[c->run_next];
    if (k->first != first || !same_state(&k->before, st))
        return false;
    run->first = first;
    run->n = k->n;
    run->layer = k->layer;
    run->n_layers = k->n_layers;
    run->n_variants = k->n_variants;
    run->n_segs = k->n_segs;
    run->seg = k->seg;
    for (int v = 0; v < k->n_variants; v++) {
        run->type[v] = k->type + (size_t)v * k->n;
        run->bytes[v] = k->bytes + (size_t)v * k->n;
    }
    set_counters(st, k->after);
    c->run_next++;
    return true;
}

hr_status hr_quant_ctx_next_run(hr_quant_ctx *c, hr_quant_state *st, size_t first,
                                hr_quant_run *run, hr_error *err)
{
    const hr_model *m = c->model;
    const hr_quant_facts *qf = c->facts;
    if (first >= m->n_tensors)
        return hr_error_set(err, HR_ERR_ARG, "tensor %zu beyond the model's %zu", first,
                            m->n_tensors);
    if (c->row && c->row->n_runs && kept_run(c, st, first, run))
        return HR_OK;
    size_t n = 1;
    int32_t layer = -1;
    uint32_t more = 0; /* layers after this one that repeat it */
    if (qf && (qf->tensor[first].flags & HR_QF_LAYER_START)) {
        layer = m->tensors[first].layer;
        n = qf->layer_len[layer];
        /* (an unknown ftype keeps every source type: layers differ in them) */
        if (c->default_type != HR_TYPE_INVALID)
            more = qf->repeats_after[layer];
    } else {
        while (first + n < m->n_tensors && n < HR_QUANT_RUN_MAX &&
               !(qf && (qf->tensor[first + n].flags & HR_QF_LAYER_START)))
            n++;
    }
    run->first = first;
    run->n = n;
    run->layer = layer;
    run->n_layers = 1;
    run->n_variants = 1;
    run->n_segs = 1;
    run->own_seg[0] = (hr_quant_seg){0, 1, 1, {0, 0, 0}};
    run->seg = run->own_seg;
    run->type[0] = run->own_type[0];
    run->bytes[0] = run->own_bytes[0];
    int x[4];
    counters_of(st, x);
    const hr_status s =
        hr_quant_ctx_walk(c, st, first, n, run->own_type[0], run->own_bytes[0], err);
    if (s != HR_OK || more == 0)
        return s;
    int step[4];
    counters_of(st, step);
    for (int k = 0; k < 4; k++)
        step[k] -= x[k]; /* the same in every layer of a chain */
    uint32_t n_layers = 1 + more;
    if (c->run_key_mask) {
        n_layers = extend_keyed(c, st, run, x, step, n_layers);
    } else {
        run->own_seg[0].len = n_layers; /* no rule reads a counter: every layer alike */
    }
    run->n_layers = n_layers;
    int end[4];
    counters_at(x, step, n_layers, end);
    set_counters(st, end);
    return HR_OK;
}
