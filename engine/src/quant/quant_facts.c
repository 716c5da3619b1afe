/* The quant facts of a model, computed once by hr_model_finalize
 * (hr_quant_facts_build): each tensor's rule facts, its layers' runs (which
 * layers repeat the one before), and for each ftype the outcomes fixed for
 * the whole model, the keys of the first chains a walk meets and, for small
 * models, the whole walk (so a plan reads it instead of walking). */
#include <stdlib.h>
#include <string.h>

#include "headroom/quant.h"
#include "model/model_internal.h"
#include "quant_internal.h"

/* The bytes its type and shape give (a projection keeping the type keeps
 * t->bytes; one changing it computes them). */
static bool canonical_bytes(const hr_tensor *t)
{
    uint64_t b;
    return hr_type_tensor_bytes(t->type, t->ne, &b, NULL) == HR_OK && b == t->bytes;
}

/* Whether a projection gives tensors a and b the same type and bytes
 * whatever the ftype, counters aside: same facts and shape, and the same
 * type and bytes, or both quantizable with their types' own sizes (the
 * rules then never read the source type, for a known ftype). */
static bool same_for_rules(const hr_tensor *a, hr_quant_fact fa, const hr_tensor *b,
                           hr_quant_fact fb)
{
    const uint8_t mask = (uint8_t)~(HR_QF_LAYER_START | HR_QF_LAYER_REPEATS);
    if ((fa.flags & mask) != (fb.flags & mask) || fa.category != fb.category ||
        a->ne[0] != b->ne[0] || a->ne[1] != b->ne[1] || a->ne[2] != b->ne[2] ||
        a->ne[3] != b->ne[3])
        return false;
    if (a->type == b->type && a->bytes == b->bytes)
        return true;
    return (fa.flags & HR_QF_ALLOWS) && canonical_bytes(a) && canonical_bytes(b);
}

/* At most HR_QUANT_COUNTED_MAX tensors of each counted category
 * (attn_v-like, ffn_down, ffn_gate, ffn_up; MoE layers with shared experts
 * have two of each ffn): the k of a category read its counter's values at
 * the layer start and the k - 1 after it. */
static bool counts_few(const hr_quant_fact *f, size_t n)
{
    int seen[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const category cat = (category)f[i].category;
        if (category_is_attn_v(cat)) seen[0]++;
        else if (cat == CAT_FFN_DOWN) seen[1]++;
        else if (cat == CAT_FFN_GATE) seen[2]++;
        else if (cat == CAT_FFN_UP) seen[3]++;
    }
    for (int k = 0; k < 4; k++)
        if (seen[k] > HR_QUANT_COUNTED_MAX)
            return false;
    return true;
}

/* Mark each layer whose tensors are consecutive (HR_QF_LAYER_START) and
 * those that repeat the layer just before them (HR_QF_LAYER_REPEATS), and
 * count the repeats after each layer (after: zeroed). */
static void mark_layer_runs(const hr_model *m, hr_quant_fact *f, uint32_t *len, uint32_t *after)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].layer >= 0 && (uint32_t)m->tensors[i].layer < m->n_layer)
            len[m->tensors[i].layer]++;
    int32_t prev_layer = -1; /* the marked layer run that ended at i */
    size_t prev_start = 0;
    for (size_t i = 0; i < m->n_tensors;) {
        const int32_t il = m->tensors[i].layer;
        size_t r = 1;
        while (i + r < m->n_tensors && m->tensors[i + r].layer == il)
            r++;
        if (il < 0 || (uint32_t)il >= m->n_layer || r != len[il] || r > HR_QUANT_RUN_MAX) {
            prev_layer = -1;
            i += r;
            continue;
        }
        f[i].flags |= HR_QF_LAYER_START;
        if (prev_layer >= 0 && prev_layer == il - 1 && len[prev_layer] == r &&
            prev_start + r == i && counts_few(f + i, r)) {
            bool same = true;
            for (size_t k = 0; k < r && same; k++)
                same = same_for_rules(&m->tensors[prev_start + k], f[prev_start + k],
                                      &m->tensors[i + k], f[i + k]);
            if (same) {
                f[i].flags |= HR_QF_LAYER_REPEATS;
                after[prev_layer] = 1; /* (counted on below) */
            }
        }
        prev_layer = il;
        prev_start = i;
        i += r;
    }
    /* a layer repeated by the next one is also followed by that one's repeats */
    for (uint32_t il = m->n_layer; il-- > 1;)
        if (after[il - 1])
            after[il - 1] += after[il];
}

/* The run_key fields a category's rules read (its counter, its block). */
static uint64_t category_fields(category cat)
{
    const uint64_t field = 63;
    if (category_is_attn_v(cat)) return field;
    if (cat == CAT_FFN_DOWN) return field << 6 | field << 24;
    if (cat == CAT_FFN_GATE) return field << 12 | field << 30;
    if (cat == CAT_FFN_UP) return field << 18 | field << 36;
    return 0;
}

static void keyed_chains(hr_model *m, const hr_quant_fact *f, const uint32_t *len,
                         const uint32_t *after, const hr_quant_state *totals,
                         const hr_quant_ctx *c, hr_quant_ftype_row *rows, int id);
static void store_walks(hr_model *m, const hr_quant_facts *qf, hr_quant_ftype_row *rows);

/* hr_quant_ftype_row of each ftype id for m (categories: those of its
 * quantizable tensors; the kept walks come after, store_walks). A
 * category's outcome is fixed where its rules read no counter or block
 * (run_key_mask: the ftype reads no field of it), nor the tensor: not the
 * output rule (its row), nor MXFP4_MOE's (its experts); token_embd's holds
 * with an output.weight (else the output rule applies), a walk checks
 * that. A probe tensor gives it and its step. Ftypes whose rules read
 * counters keep their first chains' keys (keyed_chains). */
static hr_quant_ftype_row *ftype_rows_build(hr_model *m, const hr_quant_fact *f,
                                            const uint32_t *len, const uint32_t *after,
                                            uint32_t categories, const hr_quant_state *totals)
{
    hr_quant_ftype_row *rows = hr_model_arena_alloc(m, HR_QUANT_ROW_SLOTS * sizeof *rows);
    if (!rows)
        return NULL;
    hr_quant_ctx c;
    memset(&c, 0, sizeof c); /* (no facts, no row: the rules themselves) */
    c.model = m;
    c.is_70b = is_llama_70b(m);
    c.n_gqa = model_n_gqa(m);
    hr_tensor probe;
    memset(&probe, 0, sizeof probe);
    probe.name = "blk.0.probe.weight";
    probe.layer = 0;
    probe.ne[0] = 256;
    probe.ne[1] = probe.ne[2] = probe.ne[3] = 1;
    probe.type = HR_TYPE_F32;
    for (int id = 0; id < HR_QUANT_ROW_SLOTS; id++) {
        hr_quant_ftype_row *r = &rows[id];
        c.ftype = hr_quant_slot_ftype(id);
        hr_quant_ctx_ftype(&c, m, c.ftype);
        r->default_type = c.default_type;
        r->default_quantized = c.default_quantized;
        r->bitnet = c.bitnet;
        r->iq2_family = c.iq2_family;
        r->by_rules = c.by_rules;
        r->run_key_mask = c.run_key_mask;
        memset(r->fixed, HR_QUANT_DYNAMIC, sizeof r->fixed);
        memset(r->step, 0, sizeof r->step);
        r->n_keyed = 0;
        r->keyed = NULL;
        r->n_runs = 0;
        r->runs = NULL;
        if (!c.by_rules || c.ftype == HR_FTYPE_MOSTLY_MXFP4_MOE)
            continue;
        if (c.run_key_mask && len)
            keyed_chains(m, f, len, after, totals, &c, rows, id);
        for (uint32_t left = categories & ~(1u << CAT_OUTPUT); left; left &= left - 1) {
            const int k = __builtin_ctz(left);
            const category cat = (category)k;
            if (c.run_key_mask & category_fields(cat))
                continue;
            hr_quant_state st = *totals;
            const hr_type type = hr_quant_probe_rules(&c, &st, &probe, cat);
            if ((unsigned)type >= HR_QUANT_DYNAMIC)
                continue;
            r->fixed[k] = (uint8_t)type;
            r->step[k] = st.i_attention_wv ? 1 : st.i_ffn_down ? 2 : st.i_ffn_gate ? 3
                         : st.i_ffn_up ? 4 : 0;
        }
    }
    return rows;
}

hr_quant_facts *hr_quant_facts_build(hr_model *m)
{
    hr_quant_facts *qf = hr_model_arena_alloc(m, sizeof *qf);
    hr_quant_fact *f = m->n_tensors && m->n_tensors <= SIZE_MAX / sizeof *f
                           ? hr_model_arena_alloc(m, m->n_tensors * sizeof *f) : NULL;
    /* (n_layer entries cannot overflow: m->layers has as many, larger) */
    uint32_t *len = m->n_layer ? hr_model_arena_alloc(m, m->n_layer * sizeof *len) : NULL;
    uint32_t *after = m->n_layer ? hr_model_arena_alloc(m, m->n_layer * sizeof *after) : NULL;
    if (!qf || (m->n_tensors && !f) || (m->n_layer && (!len || !after)))
        return NULL;
    qf->n_attention_wv = 0;
    qf->has_output_weight = false;
    for (size_t i = 0; i < m->n_tensors; i++) {
        f[i] = hr_quant_fact_of(&m->tensors[i]);
        if (hr_tensor_is_layer_shared(&m->tensors[i]))
            f[i].flags |= HR_QF_LAYER_SHARED;
        if (f[i].flags & HR_QF_COUNTS_WV)
            qf->n_attention_wv++;
        if (f[i].flags & HR_QF_OUTPUT_WEIGHT)
            qf->has_output_weight = true;
    }
    if (len)
        mark_layer_runs(m, f, len, after); /* arena memory is zeroed */
    uint32_t categories = 0;
    for (size_t i = 0; i < m->n_tensors; i++)
        if ((f[i].flags & HR_QF_ALLOWS) && f[i].category < HR_QUANT_CATEGORIES)
            categories |= 1u << f[i].category;
    hr_quant_state totals; /* (a probe's state: counters at 0, an output.weight) */
    memset(&totals, 0, sizeof totals);
    totals.has_output_weight = true;
    totals.n_attention_wv = qf->n_attention_wv;
    totals.n_ffn_down = totals.n_ffn_gate = totals.n_ffn_up = (int)m->n_layer;
    qf->tensor = f;
    qf->layer_len = len;
    qf->repeats_after = after;
    /* (NULL: the rules each time) */
    hr_quant_ftype_row *rows = ftype_rows_build(m, f, len, after, categories, &totals);
    qf->ftype_row = rows;
    if (rows)
        store_walks(m, qf, rows);
    return qf;
}

/* The counter step of one quantizable tensor of category cat under the
 * rules (type_impl): attn_v-like, ffn_down, ffn_gate, ffn_up; the IQ1 /
 * IQ2 rules step no ffn_gate / ffn_up. */
static void count_step(category cat, bool iq2_family, int step[4])
{
    if (category_is_attn_v(cat))
        step[0]++;
    else if (cat == CAT_FFN_DOWN)
        step[1]++;
    else if (cat == CAT_FFN_GATE && !iq2_family)
        step[2]++;
    else if (cat == CAT_FFN_UP && !iq2_family)
        step[3]++;
}

/* A chain's keys found for an earlier ftype id with the same key mask
 * (ftypes share masks: hr_quant_keyed_segments reads nothing else), or NULL. */
static const hr_quant_keyed *keyed_found(const hr_quant_ftype_row *rows, int id,
                                         const hr_quant_keyed *want, uint64_t mask)
{
    for (int i = 0; i < id; i++) {
        if (rows[i].run_key_mask != mask)
            continue;
        for (int k = 0; k < rows[i].n_keyed; k++) {
            const hr_quant_keyed *e = &rows[i].keyed[k];
            if (e->layer == want->layer && memcmp(e->x, want->x, sizeof e->x) == 0 &&
                memcmp(e->step, want->step, sizeof e->step) == 0 &&
                memcmp(e->n, want->n, sizeof e->n) == 0)
                return e;
        }
    }
    return NULL;
}

/* hr_quant_ftype_row's keyed chains for the ftype of c (whose rules read
 * counters): a walk's counters followed without projecting (each
 * quantizable attn_v-like, ffn_down, ffn_gate and ffn_up tensor steps its
 * counter, but the IQ1 / IQ2 rules step no ffn_gate / ffn_up one), the
 * keys of each chain as a walk finds them, up to HR_QUANT_KEYED_MAX
 * chains. (A walk takes them only where its counters agree.) */
static void keyed_chains(hr_model *m, const hr_quant_fact *f, const uint32_t *len,
                         const uint32_t *after, const hr_quant_state *totals,
                         const hr_quant_ctx *c, hr_quant_ftype_row *rows, int id)
{
    hr_quant_keyed found[HR_QUANT_KEYED_MAX];
    memset(found, 0, sizeof found); /* (compared whole below) */
    int n_found = 0;
    counter_limits lim[4];
    hr_quant_key_limits(totals, lim);
    const int n[4] = {totals->n_attention_wv, totals->n_ffn_down, totals->n_ffn_gate,
                      totals->n_ffn_up};
    int x[4] = {totals->i_attention_wv, totals->i_ffn_down, totals->i_ffn_gate,
                totals->i_ffn_up};
    for (size_t i = 0; i < m->n_tensors && n_found < HR_QUANT_KEYED_MAX;) {
        int step[4] = {0, 0, 0, 0};
        if (!(f[i].flags & HR_QF_LAYER_START)) {
            if (f[i].flags & HR_QF_ALLOWS)
                count_step((category)f[i].category, c->iq2_family, step);
            for (int k = 0; k < 4; k++)
                x[k] += step[k];
            i++;
            continue;
        }
        const int32_t layer = m->tensors[i].layer;
        const size_t n_len = len[layer];
        for (size_t t = i; t < i + n_len; t++)
            if (f[t].flags & HR_QF_ALLOWS)
                count_step((category)f[t].category, c->iq2_family, step);
        uint32_t n_layers = 1;
        const bool multi = step[0] > 1 || step[1] > 1 || step[2] > 1 || step[3] > 1;
        if (after[layer] > 0 && !(multi && key_width(c, step) > 64)) {
            hr_quant_keyed *k = &found[n_found++];
            k->layer = layer;
            memcpy(k->x, x, sizeof k->x);
            memcpy(k->step, step, sizeof k->step);
            memcpy(k->n, n, sizeof k->n);
            /* (the chain's length is the layer's: the same inputs) */
            const hr_quant_keyed *same = keyed_found(rows, id, k, c->run_key_mask);
            if (same)
                *k = *same;
            else
                hr_quant_keyed_segments(c, lim, multi, 1 + after[layer], k);
            n_layers = k->n_layers;
        }
        for (int k = 0; k < 4; k++)
            x[k] += step[k] * (int)n_layers;
        i += n_len * n_layers;
    }
    if (!n_found)
        return;
    /* an earlier ftype's chains when they are the same (ftypes share masks) */
    for (int i = 0; i < id; i++)
        if (rows[i].n_keyed == n_found &&
            memcmp(rows[i].keyed, found, (size_t)n_found * sizeof found[0]) == 0) {
            rows[id].keyed = rows[i].keyed;
            rows[id].n_keyed = n_found;
            return;
        }
    hr_quant_keyed *own = hr_model_arena_alloc(m, (size_t)n_found * sizeof *own);
    if (!own)
        return; /* (the walks compute them) */
    memcpy(own, found, (size_t)n_found * sizeof *own);
    rows[id].keyed = own;
    rows[id].n_keyed = n_found;
}

/* The tensors a walk projects at least (a chain's first layer, the other
 * tensors): the kept walks' size before any ftype's keys. */
static size_t walk_tensors(const hr_model *m, const hr_quant_facts *qf)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_tensors;) {
        if (!(qf->tensor[i].flags & HR_QF_LAYER_START)) {
            n++;
            i++;
            continue;
        }
        const int32_t layer = m->tensors[i].layer;
        n += qf->layer_len[layer];
        i += (size_t)qf->layer_len[layer] * (1 + qf->repeats_after[layer]);
    }
    return n;
}

/* Scratch of store_walks: one walk's runs, segments and projections. */
typedef struct walk_scratch {
    hr_quant_run run;
    hr_quant_stored_run kept[HR_QUANT_STORED_RUNS];
    hr_quant_seg seg[HR_QUANT_STORED_RUNS * HR_QUANT_RUN_SEGS];
    hr_type type[HR_QUANT_STORED_TENSORS];
    uint64_t bytes[HR_QUANT_STORED_TENSORS];
} walk_scratch;

/* One ftype's walk from state `start` into w; false where it does not fit
 * or a tensor cannot be sized. */
static bool walk_into(hr_quant_ctx *c, const hr_quant_state *start, walk_scratch *w,
                      int *n_runs, size_t *n_tensors, size_t *n_segs)
{
    const hr_model *m = c->model;
    hr_quant_run *run = &w->run;
    hr_quant_state st = *start;
    *n_runs = 0;
    *n_tensors = *n_segs = 0;
    run->n = run->n_layers = 0;
    for (size_t i = 0; i < m->n_tensors; i += run->n * run->n_layers) {
        if (*n_runs == HR_QUANT_STORED_RUNS)
            return false;
        hr_quant_stored_run *k = &w->kept[*n_runs];
        k->before = st;
        if (hr_quant_ctx_next_run(c, &st, i, run, NULL) != HR_OK ||
            *n_tensors + (size_t)run->n_variants * run->n > HR_QUANT_STORED_TENSORS)
            return false;
        k->first = run->first;
        k->n = run->n;
        k->layer = run->layer;
        k->n_layers = run->n_layers;
        k->n_variants = run->n_variants;
        k->n_segs = run->n_segs;
        counters_of(&st, k->after);
        /* (offsets into the scratch until the walk is kept) */
        k->type = w->type + *n_tensors;
        k->bytes = w->bytes + *n_tensors;
        k->seg = w->seg + *n_segs;
        for (int v = 0; v < run->n_variants; v++) {
            memcpy(w->type + *n_tensors, run->type[v], run->n * sizeof w->type[0]);
            memcpy(w->bytes + *n_tensors, run->bytes[v], run->n * sizeof w->bytes[0]);
            *n_tensors += run->n;
        }
        memcpy(w->seg + *n_segs, run->seg, (size_t)run->n_segs * sizeof w->seg[0]);
        *n_segs += (size_t)run->n_segs;
        ++*n_runs;
    }
    return *n_runs > 0;
}

/* The walk of each ftype from hr_quant_state_init's state, kept in its row
 * where it has at most HR_QUANT_STORED_RUNS runs and
 * HR_QUANT_STORED_TENSORS projections and sizes every tensor (models whose
 * walks project more keep none): a plan reads it instead of walking. */
static void store_walks(hr_model *m, const hr_quant_facts *qf, hr_quant_ftype_row *rows)
{
    if (walk_tensors(m, qf) > HR_QUANT_STORED_TENSORS / 4)
        return;
    walk_scratch *w = malloc(sizeof *w); /* (~17 KiB: off the stack) */
    if (!w)
        return;
    hr_quant_state start;
    memset(&start, 0, sizeof start);
    start.n_attention_wv = qf->n_attention_wv;
    start.has_output_weight = qf->has_output_weight;
    start.n_ffn_down = start.n_ffn_gate = start.n_ffn_up = (int)m->n_layer;
    for (int slot = 0; slot < HR_QUANT_ROW_SLOTS; slot++) {
        if (rows[slot].default_type == HR_TYPE_INVALID)
            continue;
        hr_quant_ctx c;
        hr_quant_ctx_init_facts(&c, m, hr_quant_slot_ftype(slot), qf);
        int n_runs;
        size_t n_tensors, n_segs;
        if (!walk_into(&c, &start, w, &n_runs, &n_tensors, &n_segs))
            continue;
        /* one block: runs, bytes, types, segments (each size a multiple of
         * the next one's alignment; the sizes are bounded by the scratch's) */
        const size_t runs_size = (size_t)n_runs * sizeof(hr_quant_stored_run);
        const size_t bytes_size = n_tensors * sizeof(uint64_t);
        const size_t type_size = n_tensors * sizeof(hr_type);
        unsigned char *block =
            hr_model_arena_alloc(m, runs_size + bytes_size + type_size + n_segs * sizeof *w->seg);
        if (!block)
            break;
        hr_quant_stored_run *runs = (hr_quant_stored_run *)(void *)block;
        uint64_t *bytes = (uint64_t *)(void *)(block + runs_size);
        hr_type *type = (hr_type *)(void *)(block + runs_size + bytes_size);
        hr_quant_seg *seg = (hr_quant_seg *)(void *)(block + runs_size + bytes_size + type_size);
        memcpy(type, w->type, n_tensors * sizeof *type);
        memcpy(bytes, w->bytes, n_tensors * sizeof *bytes);
        memcpy(seg, w->seg, n_segs * sizeof *seg);
        for (int k = 0; k < n_runs; k++) {
            runs[k] = w->kept[k];
            runs[k].type = type + (w->kept[k].type - w->type);
            runs[k].bytes = bytes + (w->kept[k].bytes - w->bytes);
            runs[k].seg = seg + (w->kept[k].seg - w->seg);
        }
        rows[slot].runs = runs;
        rows[slot].n_runs = n_runs;
    }
    free(w);
}
