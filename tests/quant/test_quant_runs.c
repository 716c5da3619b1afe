/* The what-if walk the plan uses (hr_quant_ctx_next_run: precomputed facts,
 * repeated layers taken over from the layer before) against the plain
 * tensor-by-tensor walk on tensor copies (facts computed on the spot), for
 * every ftype on every preset and some requantized variants. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#include "headroom/model.h"
#include "headroom/quant.h"
#include "model/model_internal.h"
#include "model/weight_pad.h"
#include "quant/quant_internal.h"

static const char *const PRESETS[] = {
    "bitnet-b1.58-2b-4t", "deepseek-v2-lite", "gemma-2-9b", "llama-3.1-70b", "llama-3.1-8b",
    "llama-3.2-1b", "mistral-7b", "mixtral-8x7b", "phi-3-mini", "qwen2.5-0.5b", "qwen2.5-7b",
    "stella_en_1.5b_v5", "stella_en_400m_v5",
};

/* Types and bytes tensor by tensor; returns how many tensors were sized
 * before an error (all of them when none). */
static size_t reference_walk(const hr_model *m, hr_ftype ftype, hr_type *types, uint64_t *bytes)
{
    hr_quant_state st;
    hr_quant_state_init(&st, m);
    for (size_t i = 0; i < m->n_tensors; i++) {
        hr_tensor copy = m->tensors[i]; /* not the model's: no precomputed facts */
        types[i] = hr_quant_tensor_type(&st, m, &copy, ftype);
        bytes[i] = copy.bytes;
        if (types[i] != copy.type && hr_type_tensor_bytes(types[i], copy.ne, &bytes[i], NULL) != HR_OK)
            return i;
    }
    return m->n_tensors;
}

/* hr_quant_project (runs, variants by segments) against the reference's sums. */
static void check_project(const hr_model *m, const char *label, hr_ftype ftype, size_t n_ok,
                          const uint64_t *ref_bytes)
{
    static uint64_t layers[1024], want_layers[1024];
    assert_true(m->n_layer <= 1024);
    uint64_t total = 0, in = 0, out = 0;
    hr_error err = {0};
    const hr_status s = hr_quant_project(m, ftype, &total, &in, &out, layers, &err);
    if (!hr_ftype_name(ftype) || n_ok < m->n_tensors) {
        if (s == HR_OK)
            fail_msg("%s %d: projected although the reference fails", label, (int)ftype);
        return;
    }
    if (s != HR_OK)
        fail_msg("%s %s: %s", label, hr_ftype_name(ftype), err.message);
    uint64_t want = 0, want_in = 0, want_out = 0;
    memset(want_layers, 0, sizeof want_layers);
    for (size_t i = 0; i < m->n_tensors; i++) {
        want += ref_bytes[i];
        const int32_t layer = m->tensors[i].layer;
        if (layer >= 0)
            want_layers[layer] += ref_bytes[i];
        else if (layer == HR_LAYER_OUTPUT)
            want_out += ref_bytes[i];
        else
            want_in += ref_bytes[i];
    }
    assert_int_equal(total, want);
    assert_int_equal(in, want_in);
    assert_int_equal(out, want_out);
    for (uint32_t il = 0; il < m->n_layer; il++)
        if (layers[il] != want_layers[il])
            fail_msg("%s %s: layer %u: %llu, reference %llu", label, hr_ftype_name(ftype), il,
                     (unsigned long long)layers[il], (unsigned long long)want_layers[il]);
}

/* the most layers one run of compare_walks covered since reset */
static uint32_t longest_run;

/* Compares the run walk with the reference; returns the number of layers
 * taken over from the previous one. */
/* The same walk with the model's ftype row (fixed outcomes, keyed chains
 * kept by the model) and without (the rules and the keys computed on the
 * way): run by run the same runs, segments and projections. */
static void compare_rows_from(const hr_model *m, const char *label, hr_ftype ftype,
                              int shift)
{
    static hr_quant_run a, b;
    hr_quant_state sa, sb;
    hr_quant_state_init(&sa, m);
    sa.i_attention_wv += shift;
    sa.i_ffn_down += shift;
    sb = sa;
    hr_quant_ctx ca, cb;
    hr_quant_ctx_init(&ca, m, ftype);
    hr_quant_ctx_init(&cb, m, ftype);
    cb.row = NULL;
    a.n = a.n_layers = b.n = b.n_layers = 0;
    for (size_t i = 0; i < m->n_tensors; i += a.n * a.n_layers) {
        const hr_status ra = hr_quant_ctx_next_run(&ca, &sa, i, &a, NULL);
        const hr_status rb = hr_quant_ctx_next_run(&cb, &sb, i, &b, NULL);
        assert_int_equal(ra, rb);
        if (ra != HR_OK)
            return;
        if (a.n != b.n || a.n_layers != b.n_layers || a.n_variants != b.n_variants ||
            a.n_segs != b.n_segs || memcmp(a.seg, b.seg, (size_t)a.n_segs * sizeof a.seg[0]))
            fail_msg("%s %s: run at %zu: %u layers, %d variants, %d segments; without the "
                     "row %u, %d, %d", label, hr_ftype_name(ftype), i, a.n_layers,
                     a.n_variants, a.n_segs, b.n_layers, b.n_variants, b.n_segs);
        for (int v = 0; v < a.n_variants; v++) {
            assert_memory_equal(a.type[v], b.type[v], a.n * sizeof a.type[v][0]);
            assert_memory_equal(a.bytes[v], b.bytes[v], a.n * sizeof a.bytes[v][0]);
        }
        assert_memory_equal(&sa, &sb, sizeof sa);
    }
}

/* ... from hr_quant_state_init's state (the model's kept walk then serves
 * the walk with the row), and from counters moved on (it does not: the
 * kept keys and runs are passed over) */
static void compare_rows(const hr_model *m, const char *label, hr_ftype ftype)
{
    compare_rows_from(m, label, ftype, 0);
    compare_rows_from(m, label, ftype, 1);
}

static int compare_walks(const hr_model *m, const char *label, hr_ftype ftype)
{
    static hr_type ref_type[4096];
    static uint64_t ref_bytes[4096];
    assert_true(m->n_tensors <= 4096);
    const size_t n_ok = reference_walk(m, ftype, ref_type, ref_bytes);
    check_project(m, label, ftype, n_ok, ref_bytes);
    compare_rows(m, label, ftype);

    hr_quant_state st;
    hr_quant_state_init(&st, m);
    hr_quant_ctx c;
    hr_quant_ctx_init(&c, m, ftype);
    hr_quant_run run;
    run.n = 0;
    run.n_layers = 0;
    int repeats = 0;
    for (size_t i = 0; i < m->n_tensors; i += run.n * run.n_layers) {
        hr_error err = {0};
        hr_status s = hr_quant_ctx_next_run(&c, &st, i, &run, &err);
        if (s != HR_OK) {
            /* the first tensor that cannot be sized is in this run */
            if (!(n_ok >= i && n_ok < i + run.n))
                fail_msg("%s %s: run at %zu fails (%s), reference at %zu", label,
                         hr_ftype_name(ftype), i, err.message, n_ok);
            return repeats;
        }
        assert_int_equal(run.first, i);
        assert_true(run.n > 0);
        assert_true(run.n_layers >= 1);
        assert_true(run.n_variants >= 1 && run.n_variants <= HR_QUANT_RUN_SLOTS);
        if (run.n_layers > longest_run)
            longest_run = run.n_layers;
        /* layers taken over: all but one per variant */
        repeats += (int)run.n_layers - run.n_variants;
        /* the segments cover the run's layers in order */
        assert_true(run.n_segs >= 1 && run.n_segs <= HR_QUANT_RUN_SEGS);
        uint32_t covered = 0;
        for (int sg = 0; sg < run.n_segs; sg++) {
            const hr_quant_seg *g = &run.seg[sg];
            assert_int_equal(g->start, covered);
            assert_true(g->period >= 1 && g->period <= 3 && g->period <= g->len);
            for (int r = 0; r < g->period; r++)
                assert_true(g->variant[r] < run.n_variants);
            covered += g->len;
        }
        assert_int_equal(covered, run.n_layers);
        assert_int_equal(hr_quant_run_variant(&run, 0), 0);
        for (uint32_t l = 0; l < run.n_layers; l++) {
            if (run.n_layers > 1 || run.layer >= 0)
                assert_int_equal(m->tensors[i + l * run.n].layer, run.layer + (int32_t)l);
            for (size_t k = 0; k < run.n; k++) {
                const size_t t = i + l * run.n + k;
                if (t >= n_ok)
                    fail_msg("%s %s: tensor %zu sized by the runs, not by the reference", label,
                             hr_ftype_name(ftype), t);
                const int v = hr_quant_run_variant(&run, l);
                const hr_type type = run.type[v][k];
                const uint64_t bytes = run.bytes[v][k];
                if (type != ref_type[t] || bytes != ref_bytes[t])
                    fail_msg("%s %s: %s: type %d bytes %llu, reference %d %llu (run of layer "
                             "%d + %u of %u, variant %d)",
                             label, hr_ftype_name(ftype), m->tensors[t].name, type,
                             (unsigned long long)bytes, ref_type[t],
                             (unsigned long long)ref_bytes[t], run.layer, l, run.n_layers, v);
            }
        }
    }
    assert_int_equal(n_ok, m->n_tensors);
    /* the walk counters end where the reference's do */
    hr_quant_state ref;
    hr_quant_state_init(&ref, m);
    for (size_t i = 0; i < m->n_tensors; i++) {
        hr_tensor copy = m->tensors[i];
        (void)hr_quant_tensor_type(&ref, m, &copy, ftype);
    }
    assert_memory_equal(&ref, &st, sizeof ref);
    return repeats;
}

static int compare_all_ftypes(const hr_model *m, const char *label)
{
    int repeats = 0;
    for (int f = -1; f < 128; f++)
        if (hr_ftype_name((hr_ftype)f) || f == 5)
            repeats += compare_walks(m, label, (hr_ftype)f);
    return repeats;
}

static void test_runs_match_tensor_walk(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++) {
        hr_model *m = NULL;
        hr_error err = {0};
        if (hr_model_open(PRESETS[i], &m, &err) != HR_OK)
            fail_msg("%s: %s", PRESETS[i], err.message);
        compare_all_ftypes(m, PRESETS[i]);
        /* the same tensors typed by another mix (layers then differ in
         * source type: the repeats must not depend on it) */
        const hr_ftype MIXES[] = {HR_FTYPE_MOSTLY_Q4_K_M, HR_FTYPE_MOSTLY_IQ2_XS,
                                  HR_FTYPE_MOSTLY_Q3_K_M};
        for (size_t k = 0; k < sizeof MIXES / sizeof MIXES[0]; k++) {
            hr_model *q = NULL;
            if (hr_model_requantize(m, MIXES[k], &q, &err) != HR_OK)
                continue; /* (a shape the mix cannot size) */
            char label[96];
            snprintf(label, sizeof label, "%s as %s", PRESETS[i], hr_ftype_name(MIXES[k]));
            compare_all_ftypes(q, label);
            q->source = HR_SOURCE_GGUF; /* the never-quantized tensors keep their type */
            compare_all_ftypes(q, label);
            hr_model_free(q);
        }
        hr_model_free(m);
    }
}

/* The shortcut is taken where it should be: a dense model's layers repeat
 * wherever the ftype's rules do not tell them apart. */
static void test_runs_repeat_layers(void **state)
{
    (void)state;
    hr_model *m = NULL, *q = NULL;
    hr_error err = {0};
    assert_int_equal(hr_model_open("llama-3.1-8b", &m, &err), HR_OK);
    assert_int_equal(hr_model_requantize(m, HR_FTYPE_MOSTLY_Q4_K_M, &q, &err), HR_OK);
    /* Q8_0: no rule reads a counter, every layer after the first repeats */
    assert_int_equal(compare_walks(q, "llama-3.1-8b", HR_FTYPE_MOSTLY_Q8_0), (int)m->n_layer - 1);
    /* Q4_K_M: use_more_bits tells layers apart, some still repeat */
    const int r = compare_walks(q, "llama-3.1-8b", HR_FTYPE_MOSTLY_Q4_K_M);
    assert_true(r > 0 && r < (int)m->n_layer - 1);
    /* the model keeps the chain's keys for it (a walk takes them) */
    const hr_quant_facts *qf = hr_model_quant_facts(q);
    assert_non_null(qf);
    assert_non_null(qf->ftype_row);
    const hr_quant_ftype_row *row = &qf->ftype_row[HR_FTYPE_MOSTLY_Q4_K_M];
    assert_int_equal(row->n_keyed, 1);
    assert_int_equal(row->keyed[0].layer, 0);
    assert_int_equal(row->keyed[0].n_layers, m->n_layer);
    assert_int_equal(row->keyed[0].n_variants, 2);
    assert_int_equal(qf->ftype_row[HR_FTYPE_MOSTLY_Q8_0].n_keyed, 0);
    /* ... and its walks: the tensors before the layers, the chain, those after */
    assert_int_equal(row->n_runs, 3);
    assert_int_equal(qf->ftype_row[HR_FTYPE_MOSTLY_Q8_0].n_runs, 3);
    assert_int_equal(row->runs[1].n_layers, m->n_layer);
    hr_model_free(q);
    hr_model_free(m);
    /* MoE layers with shared experts (two ffn_down / gate / up each) repeat
     * too: DeepSeek-V2-Lite's dense layer 0 stands alone, layers 1.. chain */
    assert_int_equal(hr_model_open("deepseek-v2-lite", &m, &err), HR_OK);
    assert_int_equal(compare_walks(m, "deepseek-v2-lite", HR_FTYPE_MOSTLY_Q8_0),
                     (int)m->n_layer - 2);
    /* IQ2_XS reads the ffn_down counter, two values a layer */
    const int r2 = compare_walks(m, "deepseek-v2-lite", HR_FTYPE_MOSTLY_IQ2_XS);
    assert_true(r2 > 0 && r2 < (int)m->n_layer - 2);
    hr_model_free(m);
}

/* A copy of src without the tensors named *stem* in layers [from, to) (the
 * tensors borrow src's names): the walk counters then part ways, and from
 * the block index MoE rules read. */
static hr_model *without(const hr_model *src, const char *stem, int32_t from, int32_t to)
{
    hr_model *m = NULL;
    hr_error err = {0};
    assert_int_equal(hr_model_copy_shell(src, &m, &err), HR_OK);
    for (size_t i = 0; i < src->n_tensors; i++) {
        const hr_tensor *t = &src->tensors[i];
        if (t->layer >= from && t->layer < to && strstr(t->name, stem))
            continue;
        hr_tensor *copy = hr_model_push_tensor(m, &err);
        assert_non_null(copy);
        *copy = *t;
    }
    assert_int_equal(hr_model_finalize(m, &err), HR_OK);
    return m;
}

/* Models whose attn_v counter and ffn counters differ (no attn_v, or no
 * ffn_down / gate / up, past some layer): the rules' counters one by one;
 * DeepSeek-V2-Lite's layers step the ffn counters by two, so a layer's two
 * values then straddle the rules' thresholds. */
static void test_runs_with_uneven_counters(void **state)
{
    (void)state;
    const char *const MODELS[] = {"llama-3.1-8b", "mixtral-8x7b", "qwen2.5-0.5b",
                                  "deepseek-v2-lite"};
    const char *const STEMS[] = {"attn_v.", "ffn_down", "ffn_gate", "ffn_up"};
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++) {
        hr_model *m = NULL;
        hr_error err = {0};
        assert_int_equal(hr_model_open(MODELS[i], &m, &err), HR_OK);
        for (size_t k = 0; k < sizeof STEMS / sizeof STEMS[0]; k++) {
            for (int32_t from = 1; from < 12; from += 5) {
                const int32_t n = (int32_t)m->n_layer;
                hr_model *cut = without(m, STEMS[k], from, n);
                char label[96];
                snprintf(label, sizeof label, "%s without %s in layers %d..", MODELS[i],
                         STEMS[k], from);
                assert_true(compare_all_ftypes(cut, label) > 0);
                hr_model_free(cut);
                cut = without(m, STEMS[k], 0, from);
                snprintf(label, sizeof label, "%s without %s in layers 0..%d", MODELS[i],
                         STEMS[k], from - 1);
                assert_true(compare_all_ftypes(cut, label) > 0);
                hr_model_free(cut);
            }
        }
        hr_model_free(m);
    }
}

/* src's layer 0 repeated n_layer times (renamed blk.N.), between its other tensors. */
static hr_model *deepened(const hr_model *src, uint32_t n_layer)
{
    hr_model *m = NULL;
    hr_error err = {0};
    assert_int_equal(hr_model_copy_shell(src, &m, &err), HR_OK);
    assert_int_equal(hr_model_set_layer_count(m, n_layer, &err), HR_OK);
    for (uint32_t il = 0; il < n_layer; il++)
        m->layers[il] = src->layers[0];
    bool layers_done = false;
    for (size_t i = 0; i < src->n_tensors; i++) {
        const hr_tensor *t = &src->tensors[i];
        if (t->layer >= 0 && layers_done)
            continue;
        if (t->layer < 0) {
            hr_tensor *copy = hr_model_push_tensor(m, &err);
            assert_non_null(copy);
            *copy = *t;
            continue;
        }
        layers_done = true;
        for (uint32_t il = 0; il < n_layer; il++)
            for (size_t k = 0; k < src->n_tensors; k++) {
                const hr_tensor *l0 = &src->tensors[k];
                if (l0->layer != 0)
                    continue;
                hr_tensor *copy = hr_model_push_tensor(m, &err);
                assert_non_null(copy);
                *copy = *l0;
                char name[128];
                snprintf(name, sizeof name, "blk.%u.%s", il, strchr(l0->name + 4, '.') + 1);
                copy->name = hr_model_strdup(m, name);
                copy->hf_name = NULL;
                assert_non_null(copy->name);
            }
    }
    assert_int_equal(hr_model_finalize(m, &err), HR_OK);
    return m;
}

/* Deep chains of repeating layers: one run takes each (a few segments
 * whatever the depth). */
static void test_runs_of_deep_models(void **state)
{
    (void)state;
    const char *const MODELS[] = {"llama-3.2-1b", "qwen2.5-0.5b", "mixtral-8x7b"};
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++) {
        hr_model *m = NULL;
        hr_error err = {0};
        assert_int_equal(hr_model_open(MODELS[i], &m, &err), HR_OK);
        const uint32_t n_layer = 300;
        hr_model *deep = deepened(m, n_layer);
        assert_int_equal(deep->n_layer, n_layer);
        char label[96];
        snprintf(label, sizeof label, "%s with %u layers", MODELS[i], n_layer);
        longest_run = 0;
        assert_int_equal(compare_walks(deep, label, HR_FTYPE_MOSTLY_Q8_0), (int)n_layer - 1);
        assert_int_equal(longest_run, n_layer);
        compare_all_ftypes(deep, label);
        hr_model_free(deep);
        hr_model_free(m);
    }
}

/* The walk's cached row padding against hr_weight_row_pad_bytes, for every
 * type id and rows around the 512-element padding. */
static void test_row_pads_match(void **state)
{
    (void)state;
    hr_model *m = NULL;
    hr_error err = {0};
    assert_int_equal(hr_model_open("llama-3.2-1b", &m, &err), HR_OK);
    const int64_t NE0[] = {0, 1, 31, 32, 64, 96, 128, 256, 300, 511, 512, 513, 640, 768,
                           896, 1000, 1024, 1536, 2048, 4096, 14336, -1, -32, -512};
    for (int f = 0; f < 8; f++) {
        hr_quant_ctx c;
        hr_quant_ctx_init(&c, m, (hr_ftype)(f * 5)); /* (the cache does not depend on it) */
        for (int type = -1; type < 260; type++)
            for (size_t k = 0; k < sizeof NE0 / sizeof NE0[0]; k++) {
                const uint64_t want = hr_weight_row_pad_bytes((hr_type)type, NE0[k]);
                const uint64_t got = hr_quant_ctx_row_pad(&c, (hr_type)type, NE0[k]);
                if (got != want)
                    fail_msg("type %d, row of %lld: %llu, hr_weight_row_pad_bytes %llu", type,
                             (long long)NE0[k], (unsigned long long)got,
                             (unsigned long long)want);
            }
    }
    hr_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_match_tensor_walk),
        cmocka_unit_test(test_runs_repeat_layers),
        cmocka_unit_test(test_runs_with_uneven_counters),
        cmocka_unit_test(test_runs_of_deep_models),
        cmocka_unit_test(test_row_pads_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
