/* The scheduler's graph copy: its fast paths against its general path.
 *
 * cg_split_copies (split.c) makes the graph with split_guessed where it can
 * (one pass per split from a guess of its layout, written again where the
 * guess was wrong; it gives up at an external tensor), else with
 * split_fast, which leaves every limit to split_general: each gives up
 * before it could go wrong, and the next path starts over. All must make
 * the same graph, node by node (size, layout, sources, flags, buffer), with
 * the same leaf list, layer marks, buffer count and overflow, for every
 * input: graphs built as an estimate builds them (op-offloaded host layers,
 * two GPUs, pipeline copies, the whole graph of a deep model), and raw
 * random graphs (splits of any length on up to 9 buffers, leafs and
 * external tensors inside the splits, reads through views, sources read
 * before they are made, graphs that run out of nodes or copies; and graphs
 * split_guessed takes, with neither external tensors nor sources read
 * before they are made, whose guesses mostly fail). The guessed path must
 * take every built graph without an external tensor (the plans of models
 * fully on GPUs), the fast path the others (else either would be tested on
 * nothing), the general path the ones that overflow. */
#include <stdlib.h>

#include "test_util.h"

#include "compute_fixtures.h"

/* split.c itself, for its three paths (static); its entry point renamed so
 * that the engine's own stays the one the estimates call */
#define cg_split_copies split_copies_under_test
#include "compute/split.c"
#undef cg_split_copies

typedef struct split_tally {
    int graphs, guessed, fast, general_only, overflow, bad;
    int no_external; /* graphs without an external tensor that fit (no overflow) */
} split_tally;

/* the first difference of two split graphs (NULL: none) */
static const char *difference(const cg_graph *a, const cg_graph *b, int *at)
{
    *at = -1;
    if (a->n_nodes != b->n_nodes)
        return "node count";
    for (int i = 0; i < a->n_nodes; i++) {
        const cg_node *x = &a->nodes[i], *y = &b->nodes[i];
        *at = i;
        if (x->bytes != y->bytes || x->layout != y->layout)
            return "node size or layout";
        if (x->flags != y->flags || x->buffer != y->buffer || x->n_src != y->n_src)
            return "node flags, buffer or source count";
        for (int j = 0; j < CG_MAX_SRC; j++)
            if (x->src[j] != y->src[j])
                return "node source";
    }
    *at = -1;
    if (a->n_leafs != b->n_leafs ||
        memcmp(a->leafs, b->leafs, sizeof a->leafs[0] * (size_t)a->n_leafs) != 0)
        return "leaf list";
    if (a->n_layer_marks != b->n_layer_marks ||
        memcmp(a->layer_start, b->layer_start, sizeof a->layer_start[0] * (size_t)a->n_layer_marks) ||
        memcmp(a->layer_index, b->layer_index, sizeof a->layer_index[0] * (size_t)a->n_layer_marks))
        return "layer marks";
    if (a->overflow != b->overflow || a->too_big != b->too_big || a->n_buffers != b->n_buffers ||
        a->input_nodes != b->input_nodes || a->cur_buffer != b->cur_buffer ||
        a->free_mode != b->free_mode || a->any_free != b->any_free)
        return "graph flags";
    return NULL;
}

/* g split by each path and by cg_split_copies, with `copies` copies */
static void compare_paths(const cg_graph *g, int copies, const char *what, split_tally *t)
{
    cg_graph *general = malloc(sizeof *general), *fast = malloc(sizeof *fast),
             *guessed = malloc(sizeof *guessed), *chosen = malloc(sizeof *chosen);
    int16_t *remap = malloc(sizeof *remap * CG_MAX_NODES);
    uint32_t *tab = malloc(sizeof *tab * CG_MAX_NODES);
    copy_list *cl = malloc(sizeof *cl);
    assert_true(general && fast && guessed && chosen && remap && tab && cl);
    split_general(g, general, copies, remap, cl);
    const bool took_fast = split_fast(g, fast, copies, remap, cl);
    const bool took_guessed = split_guessed(g, guessed, copies, tab, cl);
    split_copies_under_test(g, chosen, copies);
    bool external = false;
    for (int i = 0; i < g->n_nodes; i++)
        external |= (g->nodes[i].flags & CG_FLAG_EXTERNAL) != 0;
    t->graphs++;
    t->guessed += took_guessed;
    t->fast += took_fast;
    t->general_only += !took_fast && !took_guessed;
    t->overflow += general->overflow && !g->overflow;
    t->no_external += !external && !general->overflow;
    int at;
    const char *path = "guessed";
    const char *diff = took_guessed ? difference(general, guessed, &at) : NULL;
    if (!diff && took_fast) {
        path = "fast";
        diff = difference(general, fast, &at);
    }
    if (!diff) {
        path = "chosen";
        diff = difference(general, chosen, &at);
    }
    if (diff) {
        if (t->bad == 0)
            printf("# %s, %d copies: the %s path's graph differs in its %s (node %d)\n", what,
                   copies, path, diff, at);
        t->bad++;
    }
    free(general);
    free(fast);
    free(guessed);
    free(chosen);
    free(remap);
    free(tab);
    free(cl);
}

static const fx_layout layouts[] = {
    {"host 0-5, GPU1 6-11", 0, 6, 6, 12, 0, 0},
    {"GPU1 0-3, host 4-7, GPU2 8-11", 4, 8, 0, 4, 8, 12},
    {"GPU1 0-5, GPU2 6-11", 0, 0, 0, 6, 6, 12},
    {"host 0-3, GPU1 4-7, GPU2 8-11", 0, 4, 4, 8, 8, 12},
    {"GPU1 0-11", 0, 0, 0, 12, 0, 0},
    {"GPU2 0-5, host 6-8, GPU1 9-11", 6, 9, 9, 12, 0, 6},
};

/* the built graph of in, its free nodes placed as the estimate places them */
static void split_built(const hr_compute_input *in, bool one_token, cg_graph *g, const char *what,
                        split_tally *t)
{
    assert_true(hr_compute_test_graph(in, one_token, false, g));
    if (g->any_free)
        cg_assign_backends(g, 1);
    compare_paths(g, 1, what, t);
    compare_paths(g, 4, what, t); /* pipeline parallelism */
}

typedef struct grid_ctx {
    cg_graph *g;
    split_tally *t;
} grid_ctx;

static void split_grid_case(const hr_compute_input *in, bool one_token, const char *what, void *ctx)
{
    grid_ctx *c = ctx;
    split_built(in, one_token, c->g, what, c->t);
}

static void test_built_graphs(void **state)
{
    (void)state;
    static const char *const archs[] = {"llama", "qwen3moe", "gemma2", "phi3"};
    static const hr_ftype ftypes[] = {HR_FTYPE_MOSTLY_Q4_K_M, HR_FTYPE_MOSTLY_F16};
    static const uint32_t ubatch[] = {512, 31, 16};
    const fx_grid grid = {archs, sizeof archs / sizeof archs[0], ftypes,
                          sizeof ftypes / sizeof ftypes[0], layouts,
                          sizeof layouts / sizeof layouts[0], ubatch, sizeof ubatch / sizeof ubatch[0]};
    cg_graph *g = malloc(sizeof *g);
    assert_non_null(g);
    split_tally t = {0};
    grid_ctx c = {g, &t};
    assert_true(fx_each_input(&grid, split_grid_case, &c));
    /* the whole graph of deep models, host and GPU layers taking turns
     * (op offload: copies in every layer), up to more nodes than fit */
    static const uint32_t depths[] = {64, 126, 200};
    for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
        hr_model *m = fx_model("llama", depths[d], HR_FTYPE_MOSTLY_Q4_K_M);
        assert_non_null(m);
        const int32_t half = (int32_t)depths[d] / 2;
        const fx_layout deep = {"host first half, GPU1 the rest", 0, half, half, (int32_t)depths[d], 0, 0};
        const fx_run run = {4096, 512, 0, 1, false, true, true, false};
        hr_settings s;
        hr_compute_input in;
        fx_input(m, &deep, &run, &s, &in);
        char what[160];
        snprintf(what, sizeof what, "llama, %u layers, half on the host", depths[d]);
        split_built(&in, false, g, what, &t);
        hr_model_free(m);
    }
    printf("# %d built graphs split (%d without an external tensor), %d by the guessed path, %d by "
           "the fast path, %d left to the general path, %d overflow, %d differ\n",
           t.graphs, t.no_external, t.guessed, t.fast, t.general_only, t.overflow, t.bad);
    assert_true(t.no_external > 0);
    assert_int_equal(t.guessed, t.no_external);
    assert_true(t.fast > t.guessed);
    assert_int_equal(t.bad, 0);
    free(g);
}

/* A raw graph of n nodes: runs of computed nodes on one of n_buffers
 * buffers, leafs and external tensors anywhere, each computed node reading
 * up to 4 sources (mostly recent ones, some far back, a few not made yet),
 * some through views; layer marks at random places; the leaf list in node
 * order. plain: no external tensor, every source made before, and in one
 * graph of four some leafs left out of the list (the guessed path then
 * finds more leafs than it guessed). */
static void random_graph(cg_graph *g, int n, int n_buffers, bool plain, uint64_t *st)
{
    cg_init(g);
    const bool unlisted = plain && fx_next_rand(st) % 4 == 0;
    uint8_t buf = 0;
    for (int i = 0; i < n; i++) {
        cg_node *x = &g->nodes[i];
        const uint32_t kind = fx_next_rand(st) % 16;
        if (fx_next_rand(st) % 8 == 0)
            buf = (uint8_t)(fx_next_rand(st) % (uint32_t)n_buffers);
        x->bytes = fx_next_rand(st) % 4096;
        x->layout = fx_next_rand(st) % 8;
        x->n_src = 0;
        for (int j = 0; j < CG_MAX_SRC; j++)
            x->src[j] = CG_NONE;
        if (kind < 2 || i == 0) {
            x->flags = CG_FLAG_LEAF | CG_FLAG_INPUT;
            x->buffer = (uint8_t)(fx_next_rand(st) % (uint32_t)n_buffers);
            if (g->n_leafs < (int)(sizeof g->leafs / sizeof g->leafs[0]) &&
                !(unlisted && fx_next_rand(st) % 2 == 0))
                g->leafs[g->n_leafs++] = (int16_t)i;
            continue;
        }
        if (kind < 4 && !plain) {
            x->flags = CG_FLAG_EXTERNAL;
            x->buffer = (uint8_t)(fx_next_rand(st) % (uint32_t)n_buffers);
            continue;
        }
        x->flags = (uint16_t)(fx_next_rand(st) % 2 ? CG_FLAG_INPLACE : 0) |
                   (uint8_t)(fx_next_rand(st) % 16 == 0 ? CG_FLAG_NOALLOC : 0) |
                   (uint8_t)(fx_next_rand(st) % 32 == 0 ? CG_FLAG_OUTPUT : 0);
        x->buffer = buf;
        x->n_src = (uint8_t)(fx_next_rand(st) % (CG_MAX_SRC + 1));
        for (int j = 0; j < x->n_src; j++) {
            const uint32_t how = fx_next_rand(st) % 64;
            int r;
            if (how == 0 && !plain)
                r = (int)(fx_next_rand(st) % (uint32_t)n); /* maybe not made yet */
            else if (how < 8)
                r = (int)(fx_next_rand(st) % (uint32_t)i); /* far back */
            else
                r = i - 1 - (int)(fx_next_rand(st) % (uint32_t)(i < 6 ? i : 6));
            x->src[j] = (int16_t)(r | (fx_next_rand(st) % 4 == 0 ? CG_VIA_VIEW : 0));
        }
    }
    g->n_nodes = n;
    g->n_buffers = (uint8_t)n_buffers;
    const int marks = (int)(fx_next_rand(st) % 40);
    int pos = 0;
    for (int k = 0; k < marks && pos < n; k++) {
        pos += (int)(fx_next_rand(st) % (uint32_t)(2 * n / (marks + 1) + 1));
        g->layer_start[g->n_layer_marks] = (int16_t)(pos < n ? pos : n);
        g->layer_index[g->n_layer_marks++] = (int16_t)k;
    }
    g->overflow = fx_next_rand(st) % 16 == 0;
    g->too_big = fx_next_rand(st) % 16 == 0;
    g->input_nodes = fx_next_rand(st) % 8 == 0;
}

static void test_random_graphs(void **state)
{
    (void)state;
    cg_graph *g = malloc(sizeof *g);
    assert_non_null(g);
    uint64_t st = 2026;
    for (int plain = 0; plain < 2; plain++) {
        split_tally t = {0};
        for (int k = 0; k < 3000; k++) {
            /* mostly small graphs; some near the node limit, whose copies
             * overflow the graph or the copy list */
            const int n = k % 50 == 49 ? CG_MAX_NODES - (int)(fx_next_rand(&st) % 2500)
                                       : 1 + (int)(fx_next_rand(&st) % 400);
            const int n_buffers = 1 + (int)(fx_next_rand(&st) % CG_MAX_BUFFERS);
            random_graph(g, n, n_buffers, plain, &st);
            char what[80];
            snprintf(what, sizeof what, "%srandom graph %d (%d nodes, %d buffers)",
                     plain ? "plain " : "", k, n, n_buffers);
            compare_paths(g, k % 3 == 0 ? 4 : 1, what, &t);
        }
        printf("# %d %srandom graphs split, %d by the guessed path, %d by the fast path, %d left "
               "to the general path, %d overflow, %d differ\n",
               t.graphs, plain ? "plain " : "", t.guessed, t.fast, t.general_only, t.overflow,
               t.bad);
        assert_true(t.fast > 0);
        assert_true(t.overflow > 0);
        assert_true(plain ? t.guessed > t.graphs / 2 : t.guessed > 0);
        assert_int_equal(t.bad, 0);
    }
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_graphs),
        cmocka_unit_test(test_random_graphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
