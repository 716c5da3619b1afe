/* The full graph's byte sums, as a truncated replay leaves them, against a
 * count over the whole graph.
 *
 * An estimate replays a graph with the repeating layers cut short
 * (compute.c) but needs, for tg_below_pp (does the one-token graph need a
 * replay of its own?), the bytes of every tensor of the full graph: the
 * emitted ones plus each skipped period. The truth here is independent of
 * that arithmetic: the graph of every layer, as the scheduler leaves it
 * (hr_compute_test_graph), its allocated tensors counted one by one. The
 * sums must equal it in every buffer, for the prompt graph and the
 * one-token graph, on CPU and GPU runs; so must the sweep cache's linear
 * forms of them at the cells they were built for and one step further. */
#include <stdlib.h>

#include "test_util.h"

#include "compute_fixtures.h"

typedef struct sums {
    uint64_t scaled[CG_MAX_BUFFERS], fixed[CG_MAX_BUFFERS], count[CG_MAX_BUFFERS];
} sums;

/* every allocated tensor of the whole graph (not a view, a sink or an
 * external weight / cache tensor), by buffer */
static void count_whole_graph(const hr_compute_input *in, bool one_token, cg_graph *g, sums *t)
{
    memset(t, 0, sizeof *t);
    assert_true(hr_compute_test_graph(in, one_token, true, g));
    assert_false(g->overflow);
    for (int l = 1; l < g->n_leafs; l++) /* node order, as the sums read the list */
        assert_true(g->leafs[l - 1] < g->leafs[l]);
    for (int i = 0; i < g->n_nodes; i++) {
        const cg_node *n = &g->nodes[i];
        if (n->flags & (CG_FLAG_NOALLOC | CG_FLAG_EXTERNAL))
            continue;
        assert_true(n->buffer < CG_MAX_BUFFERS);
        if (n->flags & CG_FLAG_FIXED)
            t->fixed[n->buffer] += n->bytes;
        else
            t->scaled[n->buffer] += n->bytes;
        t->count[n->buffer]++;
    }
}

static int differences(const sums *got, const sums *truth, const char *what)
{
    int bad = 0;
    for (int b = 0; b < CG_MAX_BUFFERS; b++) {
        if (got->scaled[b] == truth->scaled[b] && got->fixed[b] == truth->fixed[b] &&
            got->count[b] == truth->count[b])
            continue;
        if (bad == 0)
            printf("# %s, buffer %d: %llu + %llu bytes in %llu tensors, the whole graph has %llu + %llu in %llu\n",
                   what, b, (unsigned long long)got->scaled[b], (unsigned long long)got->fixed[b],
                   (unsigned long long)got->count[b], (unsigned long long)truth->scaled[b],
                   (unsigned long long)truth->fixed[b], (unsigned long long)truth->count[b]);
        bad++;
    }
    return bad;
}

static void form_sums(const hr_compute_forms *f, int64_t u, sums *s)
{
    for (int b = 0; b < CG_MAX_BUFFERS; b++) {
        s->scaled[b] = (uint64_t)(f->scaled[b].a + f->scaled[b].b * u);
        s->fixed[b] = (uint64_t)(f->fixed[b].a + f->fixed[b].b * u);
        s->count[b] = f->count[b];
    }
}

static const fx_layout layouts[] = {
    {"CPU", 0, 24, 0, 0, 0, 0},
    {"GPU1 0-23", 0, 0, 0, 24, 0, 0},
    {"host 0-9, GPU1 10-23", 0, 10, 10, 24, 0, 0},
    {"GPU1 0-10, GPU2 11-23", 0, 0, 0, 11, 11, 24},
    {"GPU1 0-7, host 8-15, GPU2 16-23", 8, 16, 0, 8, 16, 24},
    {"host 0-19, GPU1 20-23", 0, 20, 20, 24, 0, 0},
};

static void test_sums_equal_the_whole_graph(void **state)
{
    (void)state;
    static const char *const archs[] = {"llama", "qwen3moe", "gemma2", "phi3"};
    static const uint32_t ubatch[] = {512, 2048, 64, 16};
    cg_graph *g = malloc(sizeof *g);
    assert_non_null(g);
    int checked = 0, forms = 0, bad = 0;
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        hr_model *m = fx_model(archs[a], 24, HR_FTYPE_MOSTLY_Q4_K_M);
        assert_non_null(m);
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            for (size_t u = 0; u < sizeof ubatch / sizeof ubatch[0]; u++) {
                for (int v = 0; v < 4; v++) {
                    const fx_run run = {8192, ubatch[u], 0, 1 + (v & 1), (v & 2) != 0,
                                        v != 3 || l == 0, l != 2 && l != 5, l == 0};
                    hr_settings s;
                    hr_compute_input in;
                    fx_input(m, &layouts[l], &run, &s, &in);
                    char what[160];
                    for (int tg = 0; tg < 2; tg++) {
                        sums truth, got;
                        count_whole_graph(&in, tg, g, &truth);
                        assert_true(hr_compute_test_sums(&in, tg, got.scaled, got.fixed, got.count));
                        snprintf(what, sizeof what, "%s, %s, ubatch %u, variant %d, %s graph", archs[a],
                                 layouts[l].name, ubatch[u], v, tg ? "one-token" : "prompt");
                        bad += differences(&got, &truth, what);
                        checked++;
                    }
                    /* the sweep cache's forms, at u and one step of 256 cells on */
                    hr_compute_cache *cache = calloc(1, sizeof *cache);
                    assert_non_null(cache);
                    hr_compute_output out;
                    hr_error err;
                    assert_int_equal(hr_compute_estimate_cached(&in, cache, &out, &err), HR_OK);
                    const int64_t u0 = in.n_kv / 256;
                    for (int tg = 0; tg < 2; tg++) {
                        const hr_compute_forms *f = tg ? &cache->tg : &cache->pp;
                        if (!cache->valid || !f->valid)
                            continue;
                        for (int64_t du = 0; du < 2 && u0 + du <= f->hi; du++) {
                            hr_compute_input at = in;
                            at.n_kv = (uint32_t)((u0 + du) * 256);
                            at.n_kv_swa = at.n_kv;
                            sums truth, got;
                            count_whole_graph(&at, tg, g, &truth);
                            form_sums(f, u0 + du, &got);
                            snprintf(what, sizeof what, "%s, %s, ubatch %u, variant %d, %s forms at %lld",
                                     archs[a], layouts[l].name, ubatch[u], v,
                                     tg ? "one-token" : "prompt", (long long)(u0 + du));
                            bad += differences(&got, &truth, what);
                            forms++;
                        }
                    }
                    free(cache);
                }
            }
        }
        hr_model_free(m);
    }
    printf("# %d graphs' sums and %d forms checked against the whole graph, %d buffers differ\n",
           checked, forms, bad);
    assert_true(forms > 0);
    assert_int_equal(bad, 0);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_equal_the_whole_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
