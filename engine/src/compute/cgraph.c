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
