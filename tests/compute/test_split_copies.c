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
 * nothing), the general path the ones that overflow. A graph holding builders' copy
 * pairs (CG_FLAG_SCHED: recurrent layers) is left by the guessed path; the
 * other two move each pair among the inputs of the split that first reads
 * its copy, in the order the inputs are first read, as ggml makes the copy
 * of a view. */
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
    int pairs; /* builders' copy pairs in the graphs */
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
    /* recurrent and hybrid shapes (the validation suite's): their layers
     * hold builders' copy pairs on a GPU (s_copy's views) and, op-offloaded
     * on the host, more (state views) */
    static const char *const recurrent[] = {"mamba2_130m", "mamba_130m", "rwkv7_191m",
                                            "rwkv6_finch_2l", "granite_h_tiny_8l", "qwen35_8l",
                                            "falcon_h1_6l", "lfm2_8l", "jamba_8l"};
    const int before = t.graphs, before_guessed = t.guessed, before_fast = t.fast;
    const char *root = getenv("HEADROOM_SOURCE_ROOT");
    assert_non_null(root);
    for (size_t k = 0; k < sizeof recurrent / sizeof recurrent[0]; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/validation/models/%s.yaml", root, recurrent[k]);
        hr_model *m = NULL;
        hr_error err;
        if (hr_model_open(path, &m, &err) != HR_OK)
            fail_msg("%s: %s", path, err.message);
        const int32_t n = (int32_t)m->n_layer, half = n / 2;
        const fx_layout shapes[] = {{"host half, GPU1 half", 0, half, half, n, 0, 0},
                                    {"GPU1 all", 0, 0, 0, n, 0, 0},
                                    {"GPU1 half, GPU2 half", 0, 0, 0, half, half, n}};
        for (size_t l = 0; l < sizeof shapes / sizeof shapes[0]; l++) {
            for (uint32_t seqs = 1; seqs <= 2; seqs++) {
                const fx_run run = {2048, 512, 0, seqs, true, true, l > 0, false};
                hr_settings s;
                hr_compute_input in;
                fx_input(m, &shapes[l], &run, &s, &in);
                for (int tg = 0; tg < 2; tg++) {
                    char what[160];
                    snprintf(what, sizeof what, "%s, %s, %u sequences%s", recurrent[k], shapes[l].name,
                             seqs, tg ? ", one-token graph" : "");
                    split_built(&in, tg != 0, g, what, &t);
                }
            }
        }
        hr_model_free(m);
    }
    const int n_recurrent = t.graphs - before;
    printf("# %d built graphs split (%d without an external tensor), %d by the guessed path, %d by "
           "the fast path, %d left to the general path, %d overflow, %d differ; %d of them "
           "recurrent, %d by the guessed path, %d by the fast path\n",
           t.graphs, t.no_external, t.guessed, t.fast, t.general_only, t.overflow, t.bad,
           n_recurrent, t.guessed - before_guessed, t.fast - before_fast);
    assert_true(t.no_external > 0);
    assert_int_equal(t.guessed, t.no_external);
    assert_true(t.guessed > before_guessed); /* recurrent ones among them */
    assert_int_equal(t.fast - before_fast, n_recurrent); /* every one by the fast path */
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

/* Builders' copy pairs in a random graph, as a builder makes them: some
 * computed nodes (with a computed node after them) become a pair, the
 * dependency reading one of its sources on that source's buffer, the copy
 * on the next node's buffer, which must be another: a pair copies across
 * buffers. Whoever read those two nodes reads the copy. Returns the pairs
 * made. */
static int add_pairs(cg_graph *g, uint64_t *st)
{
    int pairs = 0;
    for (int i = 1; i + 2 < g->n_nodes; i++) {
        cg_node *dep = &g->nodes[i], *cp = &g->nodes[i + 1];
        if ((dep->flags | cp->flags | g->nodes[i + 2].flags) & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL | CG_FLAG_SCHED) ||
            dep->n_src == 0 || fx_next_rand(st) % 8 != 0)
            continue;
        const cg_node *source = &g->nodes[CG_ROOT(dep->src[0])];
        if (CG_ROOT(dep->src[0]) >= i || (source->flags & CG_FLAG_SCHED) ||
            source->buffer == g->nodes[i + 2].buffer)
            continue;
        dep->buffer = source->buffer;
        cp->buffer = g->nodes[i + 2].buffer;
        dep->flags = CG_FLAG_SCHED | CG_FLAG_NOALLOC;
        dep->n_src = 1;
        for (int j = 1; j < CG_MAX_SRC; j++)
            dep->src[j] = CG_NONE;
        dep->bytes = 0;
        cp->flags = CG_FLAG_SCHED;
        cp->n_src = 0;
        for (int j = 0; j < CG_MAX_SRC; j++)
            cp->src[j] = CG_NONE;
        /* the copy is read where the pair's nodes were (never the dependency) */
        for (int k = 0; k < g->n_nodes; k++)
            for (int j = 0; j < g->nodes[k].n_src; j++)
                if (CG_ROOT(g->nodes[k].src[j]) == i)
                    g->nodes[k].src[j] = (int16_t)((i + 1) | (g->nodes[k].src[j] & CG_VIA_VIEW));
        pairs++;
        i += 2;
    }
    g->any_sched = pairs > 0;
    return pairs;
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
            /* a third with builders' pairs (copies across buffers) */
            if (k % 3 == 1)
                t.pairs += add_pairs(g, &st);
            char what[80];
            snprintf(what, sizeof what, "%srandom graph %d (%d nodes, %d buffers)",
                     plain ? "plain " : "", k, n, n_buffers);
            compare_paths(g, k % 3 == 0 ? 4 : 1, what, &t);
        }
        printf("# %d %srandom graphs split, %d by the guessed path, %d by the fast path, %d left "
               "to the general path, %d overflow, %d differ; %d builders' pairs\n",
               t.graphs, plain ? "plain " : "", t.guessed, t.fast, t.general_only, t.overflow,
               t.bad, t.pairs);
        assert_true(t.fast > 0);
        assert_true(t.overflow > 0);
        assert_true(plain ? t.guessed > t.graphs / 2 : t.guessed > 0);
        assert_true(t.pairs > 500);
        assert_int_equal(t.bad, 0);
    }
    free(g);
}

/* A builder's pair, as build_recurrent.c's view_copy emits it: the
 * dependency (a NOALLOC reader of the source, on its buffer), then the copy
 * (bytes, on buffer to). Returns the copy. */
static int16_t sched_pair(cg_graph *g, int16_t source_view, uint64_t bytes, uint8_t from, uint8_t to)
{
    g->cur_buffer = from;
    cg_sink(g, source_view, CG_NONE, CG_NONE);
    g->nodes[g->n_nodes - 1].flags |= CG_FLAG_SCHED;
    g->any_sched = true;
    g->cur_buffer = to;
    const int16_t copy = cg_op(g, false, CG_F32, 1, 1, 1, 1, CG_NONE, CG_NONE, CG_NONE, CG_NONE);
    g->nodes[copy].flags |= CG_FLAG_SCHED;
    g->nodes[copy].bytes = bytes;
    return copy;
}

/* the dst node that came from src node i (the test gives every node a size
 * of its own) */
static int dst_of(const cg_graph *dst, const cg_graph *src, int i)
{
    for (int k = 0; k < dst->n_nodes; k++)
        if (dst->nodes[k].bytes == src->nodes[i].bytes && dst->nodes[k].buffer == src->nodes[i].buffer &&
            dst->nodes[k].flags == src->nodes[i].flags)
            return k;
    return -1;
}

static void test_builders_pairs_join_their_readers_split(void **state)
{
    (void)state;
    cg_graph *g = malloc(sizeof *g), *dst = malloc(sizeof *dst), *other = malloc(sizeof *other);
    int16_t *remap = malloc(sizeof *remap * CG_MAX_NODES);
    uint32_t *tab = malloc(sizeof *tab * CG_MAX_NODES);
    copy_list *cl = malloc(sizeof *cl);
    assert_true(g && dst && other && remap && tab && cl);
    cg_init(g);
    const int16_t in0 = cg_input(g, CG_F32, 25, 1, 1, 1); /* 100 bytes, host */
    const int16_t in1 = cg_input(g, CG_F32, 50, 1, 1, 1); /* 200 bytes, host */
    const int16_t h = cg_op(g, false, CG_F32, 75, 1, 1, 1, in0, CG_NONE, CG_NONE, CG_NONE);
    /* emitted before the GPU split, read in it after a source of its own */
    const int16_t c = sched_pair(g, (int16_t)(in1 | CG_VIA_VIEW), 8, 0, 1);
    g->cur_buffer = 1;
    const int16_t g1 = cg_op(g, false, CG_F32, 100, 1, 1, 1, h, c, CG_NONE, CG_NONE);
    /* emitted in that split, first read after a host split: the next GPU
     * split's input */
    const int16_t d = sched_pair(g, (int16_t)(in1 | CG_VIA_VIEW), 4, 0, 1);
    g->cur_buffer = 0;
    const int16_t h2 = cg_op(g, false, CG_F32, 125, 1, 1, 1, h, CG_NONE, CG_NONE, CG_NONE);
    g->cur_buffer = 1;
    const int16_t g2 = cg_op(g, false, CG_F32, 150, 1, 1, 1, d, g1, CG_NONE, CG_NONE);
    /* never read: dropped */
    sched_pair(g, (int16_t)(in1 | CG_VIA_VIEW), 12, 0, 1);
    g->cur_buffer = 1;
    cg_op(g, false, CG_F32, 175, 1, 1, 1, g2, h2, CG_NONE, CG_NONE);

    /* the three paths make the same graph */
    split_general(g, dst, 1, remap, cl);
    assert_true(split_fast(g, other, 1, remap, cl));
    int at;
    assert_null(difference(dst, other, &at));
    assert_true(split_guessed(g, other, 1, tab, cl));
    assert_null(difference(dst, other, &at));
    split_copies_under_test(g, dst, 1);
    assert_null(difference(dst, other, &at));
    assert_false(dst->overflow);

    /* the leafs, H; the GPU split: H's copy (read first), C's pair, G1; the
     * host split: H2; the GPU split of G2 and the last node: D's pair, H2's
     * copy (read by the last node), G2, the last node */
    const int at_h = dst_of(dst, g, h), at_c = dst_of(dst, g, c), at_g1 = dst_of(dst, g, g1);
    const int at_d = dst_of(dst, g, d), at_h2 = dst_of(dst, g, h2), at_g2 = dst_of(dst, g, g2);
    assert_int_equal(at_h, 2);
    assert_int_equal(dst->nodes[3].flags, CG_FLAG_NOALLOC); /* H's input_dep */
    assert_int_equal(dst->nodes[4].bytes, 300);               /* H's copy, on the GPU */
    assert_int_equal(dst->nodes[4].buffer, 1);
    assert_int_equal(dst->nodes[5].flags, CG_FLAG_NOALLOC | CG_FLAG_SCHED); /* C's dependency */
    assert_int_equal(dst->nodes[5].src[0], in1 | CG_VIA_VIEW);
    assert_int_equal(at_c, 6);
    assert_int_equal(at_g1, 7);
    assert_int_equal(dst->nodes[at_g1].src[0], 4);
    assert_int_equal(dst->nodes[at_g1].src[1], at_c);
    assert_int_equal(at_h2, 8);
    assert_int_equal(dst->nodes[at_h2 + 1].flags, CG_FLAG_NOALLOC | CG_FLAG_SCHED); /* D's dependency */
    assert_int_equal(at_d, at_h2 + 2);
    assert_int_equal(dst->nodes[at_d + 2].bytes, 500); /* H2's copy */
    assert_int_equal(at_g2, at_d + 3);
    assert_int_equal(dst->nodes[at_g2].src[0], at_d);
    assert_int_equal(dst->nodes[at_g2].src[1], at_g1);
    /* 2 leafs, H, 2 + 2 inputs, G1, H2, 2 + 2 inputs, G2, the last: the
     * unread pair is gone */
    assert_int_equal(dst->n_nodes, 15);
    for (int k = 0; k < dst->n_nodes; k++)
        assert_true(dst->nodes[k].bytes != 12);
    free(g);
    free(dst);
    free(other);
    free(remap);
    free(tab);
    free(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_graphs),
        cmocka_unit_test(test_builders_pairs_join_their_readers_split),
        cmocka_unit_test(test_random_graphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
