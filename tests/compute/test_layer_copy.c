/* Layers emitted as copies of an earlier layer (build.c) against the same
 * graphs emitted op by op (cg_build.no_layer_copy).
 *
 * cg_build_graph copies a layer's nodes from the latest emitted layer of the
 * same shape and placement: the inputs that one created are not emitted
 * again, the sources move to the new nodes, and the last layer copies all
 * but its get_rows (its FFN only when it keeps every row). The graph must be
 * the one the op by op emission gives, node for node, for every preset and
 * a few more architectures (MoE, sliding-window kinds alternating, fused
 * QKV, parallel FFN, rows taken after the last layer), with one output row
 * or all of them, the layers on the host, on one or two GPUs or
 * op-offloaded, with and without flash attention, a quantized cache (the
 * Hadamard rotations), a host cache, several sequences, batches of one and
 * of 512 tokens, every layer or a truncated run of them. */
#include <stdlib.h>

#include "test_util.h"

#include "compute/build.h"
#include "model/model_internal.h"
#include "compute_fixtures.h"

/* what compute.c's init_build sets, for this input */
static void setup(cg_build *b, cg_graph *g, cg_roles *roles, const hr_compute_input *in,
                  bool one_token)
{
    memset(b, 0, sizeof *b);
    memset(roles, 0, sizeof *roles);
    cg_init(g);
    b->g = g;
    b->in = in;
    b->m = in->model;
    b->n_tokens = one_token ? 1 : in->n_tokens;
    b->n_outputs = one_token ? 1 : in->n_outputs;
    b->roles = roles;
    b->n_stream = in->n_seq ? in->n_seq : 1;
    b->n_stream_all = in->settings->n_seq ? in->settings->n_seq : b->n_stream;
    b->n_kv = in->n_kv ? in->n_kv : b->n_tokens;
    b->n_kv_swa = in->n_kv_swa ? in->n_kv_swa : b->n_kv;
    b->fa = in->flash_attn;
    b->buf_output = in->output_on_gpu ? (uint8_t)(in->n_devices - 1) : 0;
    b->op_offload = in->n_devices > 1;
    b->kv_on_host = b->op_offload && !in->offload_kv;
}

/* the first node (or graph field) where the two graphs differ, or -1;
 * with any_weight_size, a host weight's bytes may differ (its place and
 * readers may not) */
static int first_difference_but(const cg_graph *a, const cg_graph *c, bool any_weight_size);
static int first_difference(const cg_graph *a, const cg_graph *c)
{
    return first_difference_but(a, c, false);
}
static int first_difference_but(const cg_graph *a, const cg_graph *c, bool any_weight_size)
{
    if (a->n_nodes != c->n_nodes || a->n_leafs != c->n_leafs || a->overflow != c->overflow ||
        a->too_big != c->too_big || a->n_buffers != c->n_buffers || a->any_free != c->any_free ||
        a->n_layer_marks != c->n_layer_marks)
        return a->n_nodes < c->n_nodes ? a->n_nodes : c->n_nodes;
    for (int i = 0; i < a->n_leafs; i++)
        if (a->leafs[i] != c->leafs[i])
            return a->leafs[i];
    for (int i = 0; i < a->n_layer_marks; i++)
        if (a->layer_start[i] != c->layer_start[i] || a->layer_index[i] != c->layer_index[i])
            return a->layer_start[i];
    for (int i = 0; i < a->n_nodes; i++) {
        const cg_node *x = &a->nodes[i], *y = &c->nodes[i];
        const bool weight = (x->flags & CG_FLAG_EXTERNAL) && x->layout != CG_EXT_KV;
        if ((x->bytes != y->bytes && !(any_weight_size && weight)) || x->layout != y->layout || x->flags != y->flags ||
            x->buffer != y->buffer || x->n_src != y->n_src ||
            memcmp(x->src, y->src, sizeof x->src) != 0)
            return i;
    }
    return -1;
}

typedef struct graphs { cg_graph copied, plain; } graphs;

/* every host weight of the graph's op-offloaded blocks (between its layer
 * marks: matmul weights, norms, biases) has the bytes of a tensor of that
 * block, or of one outside the blocks (the output's, read by the logits) */
static bool weights_are_blocks(const cg_graph *g, const hr_model *m, const int32_t *layers, int n)
{
    for (int k = 0; k < g->n_layer_marks && k < n; k++) {
        const int from = g->layer_start[k];
        const int to = k + 1 < g->n_layer_marks ? g->layer_start[k + 1] : g->n_nodes;
        for (int i = from; i < to; i++) {
            const cg_node *x = &g->nodes[i];
            if (!(x->flags & CG_FLAG_EXTERNAL) || x->layout == CG_EXT_KV)
                continue;
            bool found = false;
            for (size_t t = 0; t < m->n_tensors && !found; t++)
                found = m->tensors[t].bytes == x->bytes &&
                        (m->tensors[t].layer == layers[k] || m->tensors[t].layer < 0);
            if (!found)
                return false;
        }
    }
    return true;
}

/* one input's graphs both ways, for every layer and for a truncated run;
 * returns the graphs that differ (each printed) */
static int compare_input(graphs *w, const hr_compute_input *in, const char *what)
{
    const hr_model *m = in->model;
    const int n = (int)m->n_layer;
    int32_t every[CG_MAX_LAYER_MARKS], run[8];
    int n_every = 0, n_run = 0;
    for (int il = 0; il < n && n_every < CG_MAX_LAYER_MARKS; il++)
        every[n_every++] = il;
    const int32_t picks[] = {0, 1, 2, n / 2 - 1, n / 2, n - 2, n - 1};
    for (size_t i = 0; i < sizeof picks / sizeof picks[0]; i++)
        if (picks[i] >= 0 && picks[i] < n && (n_run == 0 || picks[i] > run[n_run - 1]))
            run[n_run++] = picks[i];
    int bad = 0;
    for (int tok = 0; tok < 2; tok++) {
        for (int list = 0; list < 2; list++) {
            cg_build b;
            cg_roles roles;
            setup(&b, &w->copied, &roles, in, tok == 1);
            assert_true(cg_build_graph(&b, list ? run : every, list ? n_run : n_every));
            setup(&b, &w->plain, &roles, in, tok == 1);
            b.no_layer_copy = true;
            assert_true(cg_build_graph(&b, list ? run : every, list ? n_run : n_every));
            const int at = first_difference(&w->copied, &w->plain);
            if (at >= 0) {
                printf("# %s, %s, %s: graphs differ at node %d (%d / %d nodes)\n", what,
                       tok ? "one token" : "prompt", list ? "truncated run" : "every layer", at,
                       w->copied.n_nodes, w->plain.n_nodes);
                bad++;
            }
        }
    }
    return bad;
}

static int compare_model(graphs *w, const hr_model *m)
{
    const int32_t n = (int32_t)m->n_layer, h = n / 3;
    const fx_layout layouts[] = {
        {"CPU", 0, n, 0, 0, 0, 0},
        {"GPU1 all", 0, 0, 0, n, 0, 0},
        {"host first third, GPU1", 0, h, h, n, 0, 0},
        {"GPU1 half, GPU2 half", 0, 0, 0, n / 2, n / 2, n},
        {"GPU1, host third, GPU2", h, 2 * h, 0, h, 2 * h, n},
        {"GPU1 first third, host", h, n, 0, h, 0, 0},
    };
    const fx_run runs[] = {
        {4096, 512, 0, 1, false, true, false, false},
        {4096, 512, 0, 1, true, true, true, false},
        {4096, 512, 0, 1, true, false, false, false}, /* cache on the host */
        {8192, 512, 1, 2, false, true, true, false},  /* 2 sequences, one output */
        {4096, 16, 0, 1, true, true, false, false},   /* below the op offload's batch */
    };
    int bad = 0;
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
        for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
            fx_run run = runs[r];
            run.cpu_only = l == 0;
            for (int quant = 0; quant < 2; quant++) {
                hr_settings s;
                hr_compute_input in;
                fx_input(m, &layouts[l], &run, &s, &in);
                if (quant) { /* a quantized cache: rotations (V needs flash attention) */
                    in.type_k = HR_TYPE_Q8_0;
                    in.type_v = run.fa ? HR_TYPE_Q4_0 : HR_TYPE_F16;
                }
                char what[160];
                snprintf(what, sizeof what, "%s, %s, run %zu%s", m->name, layouts[l].name, r,
                         quant ? ", quantized cache" : "");
                bad += compare_input(w, &in, what);
            }
        }
    }
    return bad;
}

static void test_presets_copy_equals_op_by_op(void **state)
{
    (void)state;
    static const char *const presets[] = {
        "llama-3.1-8b", "llama-3.2-1b", "mistral-7b", "mixtral-8x7b", "qwen2.5-0.5b",
        "qwen2.5-7b", "phi-3-mini", "gemma-2-9b", "deepseek-v2-lite", "bitnet-b1.58-2b-4t",
        "stella_en_400m_v5", "stella_en_1.5b_v5",
    };
    graphs *w = malloc(sizeof *w);
    assert_non_null(w);
    int bad = 0;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        hr_model *m = NULL;
        hr_error err;
        if (hr_model_open(presets[i], &m, &err) != HR_OK)
            fail_msg("preset %s: %s", presets[i], err.message);
        bad += compare_model(w, m);
        hr_model_free(m);
    }
    free(w);
    assert_int_equal(bad, 0);
}

static void test_shapes_copy_equals_op_by_op(void **state)
{
    (void)state;
    static const char *const archs[] = {"qwen3moe", "qwen3", "gemma3", "command-r", "cohere2",
                                        "gpt-oss", "qwen2moe"};
    graphs *w = malloc(sizeof *w);
    assert_non_null(w);
    int bad = 0;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        hr_shape s;
        fx_shape(&s, archs[i], 12, 1024, 16, 4, 2816, 32000, HR_FTYPE_MOSTLY_Q4_K_M);
        if (strstr(archs[i], "moe") || strcmp(archs[i], "gpt-oss") == 0) {
            s.n_expert = 8;
            s.n_expert_used = 2;
            s.n_ff_exp = 512;
        }
        hr_model *m = fx_shape_model(&s);
        assert_non_null(m);
        bad += compare_model(w, m);
        hr_model_free(m);
    }
    free(w);
    assert_int_equal(bad, 0);
}

/* cg_build_graph reads the first layer alone for the cache kinds when the
 * caller found every layer alike (hr_compute_input.layers_alike, as the
 * plan does): the same graphs as reading every layer, for models of alike
 * layers without a sliding window and with one on every layer (the iSWA
 * cache), and a model whose layers differ (gemma-2) read layer by layer. */
static void test_layers_alike_equals_every_layer(void **state)
{
    (void)state;
    graphs *w = malloc(sizeof *w);
    assert_non_null(w);
    hr_model *models[3] = {NULL, NULL, NULL};
    hr_error err;
    assert_int_equal(hr_model_open("llama-3.1-8b", &models[0], &err), HR_OK);
    assert_int_equal(hr_model_open("gemma-2-9b", &models[1], &err), HR_OK);
    hr_shape sh;
    fx_shape(&sh, "mistral", 12, 1024, 16, 4, 2816, 32000, HR_FTYPE_MOSTLY_Q4_K_M);
    sh.n_swa = 4096; /* swa_pattern 0: every layer slides */
    models[2] = fx_shape_model(&sh);
    assert_non_null(models[2]);
    int bad = 0, swa_alike = 0;
    for (int k = 0; k < 3; k++) {
        const hr_model *m = models[k];
        const bool alike = memcmp(&m->layers[1], &m->layers[0],
                                  (size_t)(m->n_layer - 1) * sizeof *m->layers) == 0;
        swa_alike += alike && m->layers[0].is_swa;
        const int32_t n = (int32_t)m->n_layer;
        const fx_layout layout = {"GPU1 all", 0, 0, 0, n, 0, 0};
        const fx_run run = {16384, 512, 0, 1, true, true, true, false};
        hr_settings s;
        hr_compute_input in;
        fx_input(m, &layout, &run, &s, &in);
        in.n_kv_swa = 4096 + 512; /* the window's cells differ from the full cache's */
        int32_t layers[3] = {0, 1, n - 1};
        cg_build b;
        cg_roles roles;
        in.layers_alike = alike;
        setup(&b, &w->copied, &roles, &in, false);
        assert_true(cg_build_graph(&b, layers, 3));
        in.layers_alike = false;
        setup(&b, &w->plain, &roles, &in, false);
        assert_true(cg_build_graph(&b, layers, 3));
        const int at = first_difference(&w->copied, &w->plain);
        if (at >= 0) {
            printf("# %s: graphs differ at node %d\n", m->name, at);
            bad++;
        }
    }
    for (int k = 0; k < 3; k++)
        hr_model_free(models[k]);
    free(w);
    assert_int_equal(swa_alike, 1);
    assert_int_equal(bad, 0);
}

/* An op-offloaded layer reads the KV cache as external tensors sized
 * without the type table for the usual cache types: the sizes of
 * hr_type_row_bytes, for f32 / f16 / bf16 and a quantized K. */
static void test_cache_views_sized_as_row_bytes(void **state)
{
    (void)state;
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open("llama-3.1-8b", &m, &err), HR_OK);
    graphs *w = malloc(sizeof *w);
    assert_non_null(w);
    static const hr_type types[] = {HR_TYPE_F32, HR_TYPE_F16, HR_TYPE_BF16, HR_TYPE_Q8_0};
    const int32_t n = (int32_t)m->n_layer, h = n / 3;
    const fx_layout layout = {"host first third, GPU1", 0, h, h, n, 0, 0};
    const fx_run run = {8192, 512, 0, 1, true, true, false, false};
    int seen = 0;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        hr_settings s;
        hr_compute_input in;
        fx_input(m, &layout, &run, &s, &in);
        in.type_k = types[t];
        in.type_v = types[t] == HR_TYPE_Q8_0 ? HR_TYPE_F16 : types[t];
        cg_build b;
        cg_roles roles;
        setup(&b, &w->plain, &roles, &in, false);
        int32_t layers[1] = {0};
        assert_true(cg_build_graph(&b, layers, 1));
        const hr_layer *L = &m->layers[0];
        const uint64_t k = hr_type_row_bytes(in.type_k, (int64_t)L->n_embd_head_k * L->n_head_kv) * in.n_kv;
        const uint64_t v = hr_type_row_bytes(in.type_v, (int64_t)L->n_embd_head_v * L->n_head_kv) * in.n_kv;
        int views = 0;
        for (int i = 0; i < w->plain.n_nodes; i++) {
            const cg_node *x = &w->plain.nodes[i];
            if (!(x->flags & CG_FLAG_EXTERNAL) || x->layout != CG_EXT_KV)
                continue;
            assert_int_equal(x->bytes, views == 0 ? k : v);
            views++;
        }
        assert_int_equal(views, 2);
        seen++;
    }
    assert_int_equal(seen, 4);
    free(w);
    hr_model_free(m);
}

/* The role maxima an op-offloaded layer reads come from the model's
 * precomputation (hr_model_role_max) or, when the tensor list is not the
 * one finalized, from a pass over the tensors: the same roles (bytes and
 * repacked), for presets in several quantizations (repacked and not, mixes
 * whose widest block differs in type). The graphs are the same where every
 * block has the same weights; with a mix, the precomputed model's blocks
 * copy in their own weights (hr_model_layer_roles) where the pass over the
 * tensors has only the maxima: the same graph but for those sizes, and
 * each of its host weights one of its block's tensors. */
static void test_precomputed_roles_equal_scan(void **state)
{
    (void)state;
    static const char *const presets[] = {"llama-3.1-8b", "mixtral-8x7b", "qwen2.5-0.5b",
                                          "gemma-2-9b", "deepseek-v2-lite", "phi-3-mini"};
    static const hr_ftype ftypes[] = {HR_FTYPE_UNKNOWN, HR_FTYPE_MOSTLY_Q4_0,
                                      HR_FTYPE_MOSTLY_Q8_0, HR_FTYPE_MOSTLY_Q4_K_S,
                                      HR_FTYPE_MOSTLY_Q3_K_M, HR_FTYPE_MOSTLY_IQ4_NL};
    graphs *w = malloc(sizeof *w);
    assert_non_null(w);
    int bad = 0, checked = 0;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        hr_model *base = NULL;
        hr_error err;
        if (hr_model_open(presets[i], &base, &err) != HR_OK)
            fail_msg("preset %s: %s", presets[i], err.message);
        for (size_t f = 0; f < sizeof ftypes / sizeof ftypes[0]; f++) {
            hr_model *m = base;
            if (ftypes[f] != HR_FTYPE_UNKNOWN &&
                hr_model_requantize(base, ftypes[f], &m, &err) != HR_OK)
                fail_msg("preset %s ftype %d: %s", presets[i], (int)ftypes[f], err.message);
            assert_non_null(hr_model_role_max(m));
            /* the same model with a tensor list of its own: no precomputation */
            hr_model scan = *m;
            hr_tensor *copy = malloc(sizeof *copy * (m->n_tensors ? m->n_tensors : 1));
            assert_non_null(copy);
            memcpy(copy, m->tensors, sizeof *copy * m->n_tensors);
            scan.tensors = copy;
            assert_null(hr_model_role_max(&scan));
            const int32_t n = (int32_t)m->n_layer, h = n / 3;
            const fx_layout layout = {"host first third, GPU1", 0, h, h, n, 0, 0};
            const fx_run run = {4096, 512, 0, 1, true, true, false, false};
            hr_settings st, ss;
            hr_compute_input in, is;
            fx_input(m, &layout, &run, &st, &in);
            fx_input(&scan, &layout, &run, &ss, &is);
            cg_build b;
            cg_roles rp, rs;
            setup(&b, &w->copied, &rp, &in, false);
            int32_t layers[3] = {0, h > 1 ? h - 1 : 0, n - 1};
            assert_true(cg_build_graph(&b, layers, h > 1 ? 3 : 1));
            setup(&b, &w->plain, &rs, &is, false);
            assert_true(cg_build_graph(&b, layers, h > 1 ? 3 : 1));
            assert_true(rp.scanned && rs.scanned);
            hr_layer_roles lr;
            assert_true(hr_model_layer_roles(m, &lr));
            hr_layer_roles none;
            assert_false(hr_model_layer_roles(&scan, &none));
            const bool mixed = lr.n_sig > 1;
            const int at = first_difference_but(&w->copied, &w->plain, mixed);
            if (mixed && !weights_are_blocks(&w->copied, m, layers, h > 1 ? 3 : 1)) {
                printf("# %s ftype %d: a host weight that is not its block's\n", presets[i], (int)ftypes[f]);
                bad++;
            }
            if (at >= 0 || memcmp(rp.bytes, rs.bytes, sizeof rp.bytes) != 0 ||
                memcmp(rp.repacked, rs.repacked, sizeof rp.repacked) != 0) {
                printf("# %s ftype %d: roles or graphs differ (node %d)\n", presets[i],
                       (int)ftypes[f], at);
                bad++;
            }
            checked++;
            free(copy);
            if (m != base)
                hr_model_free(m);
        }
        hr_model_free(base);
    }
    free(w);
    assert_int_equal(checked, 36);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_copy_equals_op_by_op),
        cmocka_unit_test(test_shapes_copy_equals_op_by_op),
        cmocka_unit_test(test_precomputed_roles_equal_scan),
        cmocka_unit_test(test_layers_alike_equals_every_layer),
        cmocka_unit_test(test_cache_views_sized_as_row_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
