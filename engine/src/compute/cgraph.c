/* Building the op-level graph model (see cgraph.h). */
#include "cgraph.h"

#include <string.h>

void cg_init(cg_graph *g)
{
    g->n_nodes = 0;
    g->n_leafs = 0;
    g->overflow = false;
    g->too_big = false;
    g->free_mode = false;
    g->any_free = false;
    g->input_nodes = false;
    g->cur_buffer = 0;
    g->n_buffers = 1;
    g->n_layer_marks = 0;
}

int16_t cg_view(cg_graph *g, int16_t src, cg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                int64_t ne3, bool permuted)
{
    (void)g;
    (void)type;
    (void)ne0;
    (void)ne1;
    (void)ne2;
    (void)ne3;
    (void)permuted;
    if (src == CG_NONE)
        return CG_NONE;
    return (int16_t)(CG_ROOT(src) | CG_VIA_VIEW);
}

void cg_sink(cg_graph *g, int16_t s0, int16_t s1, int16_t s2)
{
    int16_t idx;
    cg_node *n = cg_push(g, &idx);
    if (!n)
        return;
    n->bytes = 0;
    n->layout = 0;
    n->flags = CG_FLAG_NOALLOC;
    cg_set_srcs(n, s0, s1, s2, CG_NONE);
}

int16_t cg_external(cg_graph *g, uint64_t bytes, uint8_t buffer, uint32_t kind)
{
    const uint8_t saved = g->cur_buffer;
    g->cur_buffer = buffer;
    int16_t idx;
    cg_node *n = cg_push(g, &idx);
    g->cur_buffer = saved;
    if (!n)
        return CG_NONE;
    n->bytes = bytes < CG_TOO_BIG ? bytes : CG_TOO_BIG;
    n->layout = kind;
    n->flags = CG_FLAG_EXTERNAL;
    n->n_src = 0;
    for (int i = 0; i < CG_MAX_SRC; i++)
        n->src[i] = CG_NONE;
    return idx;
}

void cg_mark_output(cg_graph *g, int16_t t)
{
    if (t != CG_NONE)
        g->nodes[CG_ROOT(t)].flags |= CG_FLAG_OUTPUT;
}

void cg_mark_layer(cg_graph *g, int il)
{
    if (g->n_layer_marks >= (int)(sizeof g->layer_start / sizeof g->layer_start[0])) {
        g->overflow = true;
        return;
    }
    g->layer_start[g->n_layer_marks] = (int16_t)g->n_nodes;
    g->layer_index[g->n_layer_marks] = (int16_t)il;
    g->n_layer_marks++;
}

void cg_sum_bytes(const cg_graph *g, int from, int to, uint64_t scaled[CG_MAX_BUFFERS],
                  uint64_t fixed[CG_MAX_BUFFERS], uint64_t count[CG_MAX_BUFFERS])
{
    const int end = to < g->n_nodes ? to : g->n_nodes; /* one bound per node, not two */
    for (int i = from; i < end; i++) {
        const cg_node *n = &g->nodes[i];
        if (n->flags & (CG_FLAG_NOALLOC | CG_FLAG_EXTERNAL))
            continue;
        if (n->flags & CG_FLAG_FIXED)
            fixed[n->buffer] += n->bytes;
        else
            scaled[n->buffer] += n->bytes;
        count[n->buffer]++;
    }
}

void cg_mark_fixed(cg_graph *g, int16_t t)
{
    if (t != CG_NONE)
        g->nodes[CG_ROOT(t)].flags |= CG_FLAG_FIXED;
}

void cg_assign_backends(cg_graph *g, uint8_t gpu_buffer)
{
    /* pass 1: ops reading a weight; [lo, hi] spans the free nodes */
    int lo = -1, hi = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = &g->nodes[i];
        if (!(n->flags & CG_FLAG_FREE))
            continue;
        if (lo < 0)
            lo = i;
        hi = i;
        for (int j = 0; j < n->n_src; j++) {
            const cg_node *s = &g->nodes[CG_ROOT(n->src[j])];
            if (!(s->flags & CG_FLAG_EXTERNAL) || s->layout == CG_EXT_KV)
                continue;
            n->buffer = s->layout == CG_EXT_WEIGHT_REPACKED ? 0 : gpu_buffer;
            n->flags &= (uint8_t)~CG_FLAG_FREE;
            break;
        }
    }
    if (lo < 0)
        return;
    /* pass 2: expand GPU down, GPU up, then any backend down, up. Outside
     * [lo, hi] no node is free. The free nodes come in runs (consecutive
     * computed nodes, leafs and external tensors aside) between two
     * computed nodes that are not free, and every pass gives a whole run the
     * buffer it enters with: the neighbour before it (down) or after it
     * (up), or nothing (none; a host neighbour in the GPU passes). A run
     * placed by a pass never becomes another run's neighbour, so the four
     * passes come to: the neighbour before when on a GPU, else the one after
     * when on a GPU, else the host (the only buffer left). One walk finds
     * each run and its neighbours, then places it. */
    int before = -1, after = -1;
    for (int i = lo - 1; i >= 0 && before < 0; i--)
        if (!(g->nodes[i].flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL)))
            before = i;
    for (int i = hi + 1; i < g->n_nodes && after < 0; i++)
        if (!(g->nodes[i].flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL)))
            after = i;
    int prev = before, run = -1; /* run: the first node of the open run */
    for (int i = lo; i <= hi + 1; i++) {
        const bool end = i > hi;
        if (!end && (g->nodes[i].flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL)))
            continue;
        if (!end && (g->nodes[i].flags & CG_FLAG_FREE)) {
            if (run < 0)
                run = i;
            continue;
        }
        const int next = end ? after : i;
        if (run >= 0) {
            const int pb = prev >= 0 ? g->nodes[prev].buffer : 0;
            const int nb = next >= 0 ? g->nodes[next].buffer : 0;
            const uint8_t to = (uint8_t)(pb > 0 ? pb : nb);
            for (int k = run; k < i; k++)
                if (g->nodes[k].flags & CG_FLAG_FREE) {
                    g->nodes[k].buffer = to;
                    g->nodes[k].flags &= (uint8_t)~CG_FLAG_FREE;
                }
            run = -1;
        }
        prev = i;
    }
}
