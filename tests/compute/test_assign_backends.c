/* cg_assign_backends against a plain reading of ggml's scheduler passes.
 *
 * cg_assign_backends runs its expansion passes over the span of free nodes
 * only, entering it with the buffer of the nearest computed node outside.
 * The reference here is the spec it shortcuts: ggml_backend_sched_split_graph
 * pass 1 (an op reading a host weight moves to the first GPU, one reading a
 * CPU-repacked weight stays on the host), then four passes over ALL nodes,
 * each starting with no backend: expand GPU down, GPU up (a host node stops
 * the expansion), then any backend down, up; nodes still unplaced go to the
 * host. Both run on the same graphs and must agree node by node: graphs
 * built as an estimate builds them (op-offloaded host layers before, between
 * and after GPU layers, two GPUs, the output on either side, a host KV
 * cache, batches above and below the op offload's 32 tokens) and random
 * graphs whose free spans sit between any two backends. */
#include <stdlib.h>

#include "test_util.h"

#include "compute_fixtures.h"

static void reference_assign(cg_graph *g, uint8_t gpu_buffer)
{
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = &g->nodes[i];
        if (!(n->flags & CG_FLAG_FREE))
            continue;
        for (int j = 0; j < n->n_src; j++) {
            const cg_node *s = &g->nodes[CG_ROOT(n->src[j])];
            if ((s->flags & CG_FLAG_EXTERNAL) && s->layout != CG_EXT_KV) {
                n->buffer = s->layout == CG_EXT_WEIGHT_REPACKED ? 0 : gpu_buffer;
                n->flags &= (uint16_t)~CG_FLAG_FREE;
                break;
            }
        }
    }
    for (int pass = 0; pass < 4; pass++) {
        const bool gpu_only = pass < 2, down = pass % 2 == 0;
        int cur = -1;
        for (int k = 0; k < g->n_nodes; k++) {
            cg_node *n = &g->nodes[down ? k : g->n_nodes - 1 - k];
            if (n->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL))
                continue; /* not in ggml's node list */
            if (!(n->flags & CG_FLAG_FREE)) {
                cur = gpu_only && n->buffer == 0 ? -1 : n->buffer;
            } else if (cur >= 0) {
                n->buffer = (uint8_t)cur;
                n->flags &= (uint16_t)~CG_FLAG_FREE;
            }
        }
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].flags & CG_FLAG_FREE) {
            g->nodes[i].buffer = 0;
            g->nodes[i].flags &= (uint16_t)~CG_FLAG_FREE;
        }
}

/* Both assignments of one graph: the nodes placed differently (the first
 * printed); free_nodes counts the graph's free nodes. */
static int compare_on(const cg_graph *g, const char *what, int *free_nodes)
{
    cg_graph *a = malloc(sizeof *a), *r = malloc(sizeof *r);
    assert_non_null(a);
    assert_non_null(r);
    memcpy(a, g, sizeof *a);
    memcpy(r, g, sizeof *r);
    cg_assign_backends(a, 1);
    reference_assign(r, 1);
    int bad = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].flags & CG_FLAG_FREE)
            (*free_nodes)++;
        if (a->nodes[i].buffer != r->nodes[i].buffer || a->nodes[i].flags != r->nodes[i].flags) {
            if (bad == 0)
                printf("# %s: node %d of %d on buffer %u, the passes over all nodes say %u\n",
                       what, i, g->n_nodes, a->nodes[i].buffer, r->nodes[i].buffer);
            bad++;
        }
    }
    free(a);
    free(r);
    return bad;
}

static const fx_layout layouts[] = {
    {"host 0-5, GPU1 6-11", 0, 6, 6, 12, 0, 0},
    {"GPU1 0-3, host 4-7, GPU2 8-11", 4, 8, 0, 4, 8, 12},
    {"GPU1 0-5, GPU2 6-11", 0, 0, 0, 6, 6, 12},
    {"host 0-3, GPU1 4-7, GPU2 8-11", 0, 4, 4, 8, 8, 12},
    {"GPU1 0-11", 0, 0, 0, 12, 0, 0},
    {"host 0-11", 0, 12, 0, 0, 0, 0},
    {"GPU2 0-5, host 6-8, GPU1 9-11", 6, 9, 9, 12, 0, 6},
};

typedef struct built_tally {
    cg_graph *g;
    int graphs, free_nodes, bad;
} built_tally;

static void check_built(const hr_compute_input *in, bool one_token, const char *what, void *ctx)
{
    built_tally *t = ctx;
    assert_true(hr_compute_test_graph(in, one_token, false, t->g));
    t->bad += compare_on(t->g, what, &t->free_nodes);
    t->graphs++;
}

static void test_built_graphs(void **state)
{
    (void)state;
    static const char *const archs[] = {"llama", "qwen3moe", "gemma2", "phi3"};
    static const hr_ftype ftypes[] = {HR_FTYPE_MOSTLY_Q4_K_M, HR_FTYPE_MOSTLY_F16, HR_FTYPE_MOSTLY_Q4_0};
    static const uint32_t ubatch[] = {512, 64, 31, 16};
    const fx_grid grid = {archs, sizeof archs / sizeof archs[0], ftypes,
                          sizeof ftypes / sizeof ftypes[0], layouts,
                          sizeof layouts / sizeof layouts[0], ubatch, sizeof ubatch / sizeof ubatch[0]};
    built_tally t = {malloc(sizeof(cg_graph)), 0, 0, 0};
    assert_non_null(t.g);
    assert_true(fx_each_input(&grid, check_built, &t));
    printf("# %d built graphs, %d free nodes, %d placed differently\n", t.graphs, t.free_nodes,
           t.bad);
    assert_true(t.free_nodes > 0);
    assert_int_equal(t.bad, 0);
    free(t.g);
}

/* random graphs: free runs between nodes of any buffer, weights of every
 * kind, leafs and external tensors inside the runs */
static void random_graph(cg_graph *g, uint64_t *st)
{
    cg_init(g);
    const int n = 8 + (int)(fx_next_rand(st) % 120);
    const int n_buf = 1 + (int)(fx_next_rand(st) % 3);
    const int free_lo = (int)(fx_next_rand(st) % (uint32_t)n), free_hi = free_lo + (int)(fx_next_rand(st) % 40);
    for (int i = 0; i < n; i++) {
        cg_node *nd = &g->nodes[g->n_nodes];
        memset(nd, 0, sizeof *nd);
        for (int j = 0; j < CG_MAX_SRC; j++)
            nd->src[j] = CG_NONE;
        const uint32_t r = fx_next_rand(st) % 100;
        nd->buffer = (uint8_t)(fx_next_rand(st) % (uint32_t)n_buf);
        nd->bytes = 64;
        if (r < 8) {
            nd->flags = CG_FLAG_LEAF | CG_FLAG_INPUT;
        } else if (r < 25) {
            nd->flags = CG_FLAG_EXTERNAL;
            nd->layout = fx_next_rand(st) % 3;
        } else {
            const bool in_span = i >= free_lo && i <= free_hi;
            if (in_span && fx_next_rand(st) % 4 != 0)
                nd->flags = CG_FLAG_FREE;
            const int k = i > 0 ? (int)(fx_next_rand(st) % 4) : 0;
            for (int j = 0; j < k; j++)
                nd->src[nd->n_src++] = (int16_t)(fx_next_rand(st) % (uint32_t)i);
        }
        g->n_nodes++;
    }
    g->n_buffers = (uint8_t)n_buf;
}

static void test_random_graphs(void **state)
{
    (void)state;
    cg_graph *g = malloc(sizeof *g);
    assert_non_null(g);
    uint64_t st = 12345;
    int free_nodes = 0, bad = 0;
    for (int t = 0; t < 4000; t++) {
        random_graph(g, &st);
        char what[48];
        snprintf(what, sizeof what, "random graph %d", t);
        bad += compare_on(g, what, &free_nodes);
    }
    printf("# 4000 random graphs, %d free nodes, %d placed differently\n", free_nodes, bad);
    assert_int_equal(bad, 0);
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
