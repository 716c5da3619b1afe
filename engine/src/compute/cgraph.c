/* Building the op-level graph model (see cgraph.h). */
#include "cgraph.h"

#include <string.h>

void cg_init(cg_graph *g)
{
    g->n_nodes = 0;
    g->n_leafs = 0;
    g->overflow = false;
    g->too_big = false;
    g->bad_attention = -1;
    g->free_mode = false;
    g->any_free = false;
    g->input_nodes = false;
    g->any_sched = false;
    g->cur_buffer = 0;
    g->n_buffers = 1;
    g->n_layer_marks = 0;
}

/* one node into the sums (cg_sum_bytes): the fixed or the scaled bytes of
 * its buffer by a select, not a branch */
static inline void sum_node(const cg_node *n, uint64_t *scaled, uint64_t *fixed, uint64_t *count)
{
    const uint16_t f = n->flags;
    if (f & (CG_FLAG_NOALLOC | CG_FLAG_EXTERNAL))
        return;
    uint64_t *to = (f & CG_FLAG_FIXED) ? fixed : scaled;
    to[n->buffer] += n->bytes;
    count[n->buffer]++;
}

void cg_sum_bytes(const cg_graph *g, int from, int to, uint64_t scaled[CG_MAX_BUFFERS],
                  uint64_t fixed[CG_MAX_BUFFERS], uint64_t count[CG_MAX_BUFFERS])
{
    const int end = to < g->n_nodes ? to : g->n_nodes; /* one bound per node, not two */
    if (from >= end)
        return;
    const cg_node *n = &g->nodes[from];
    for (int pairs = (end - from) / 2; pairs > 0; pairs--, n += 2) { /* half the loop tests */
        sum_node(&n[0], scaled, fixed, count);
        sum_node(&n[1], scaled, fixed, count);
    }
    if ((end - from) % 2)
        sum_node(n, scaled, fixed, count);
}

/* pass 1 of the scheduler for one free node: an op reading a weight goes
 * where the weight is used from (the first GPU; the host for a CPU-repacked
 * one). True when it placed the node. */
static bool place_weight_reader(cg_graph *g, cg_node *n, uint8_t gpu_buffer)
{
    for (int j = 0; j < n->n_src; j++) {
        const cg_node *s = &g->nodes[CG_ROOT(n->src[j])];
        if (!(s->flags & CG_FLAG_EXTERNAL) || !cg_ext_is_weight(s->layout))
            continue;
        n->buffer = s->layout == CG_EXT_WEIGHT_REPACKED ? 0 : gpu_buffer;
        n->flags &= (uint16_t)~CG_FLAG_FREE;
        return true;
    }
    return false;
}

void cg_assign_backends(cg_graph *g, uint8_t gpu_buffer)
{
    /* Pass 1 places the free nodes reading a weight (place_weight_reader);
     * pass 2 expands GPU down, GPU up, then any backend down, up. The free
     * nodes left come in runs (consecutive computed nodes, leafs and
     * external tensors aside) between two computed nodes that are not free,
     * and every pass gives a whole run the buffer it enters with: the
     * neighbour before it (down) or after it (up), or nothing (none; a host
     * neighbour in the GPU passes). A run placed by a pass never becomes
     * another run's neighbour, so the four passes come to: the neighbour
     * before when on a GPU, else the one after when on a GPU, else the host
     * (the only buffer left). Pass 1 only turns free nodes into neighbours,
     * so one walk does both: it skips to the next free node, places it if it
     * reads a weight, else takes the run from it up to the next computed
     * node that is not free (placing weight readers on the way: such a one
     * ends the run) and places the run. */
    cg_node *const nodes = g->nodes;
    const int n = g->n_nodes;
    const uint16_t skip = CG_FLAG_LEAF | CG_FLAG_EXTERNAL | CG_FLAG_SCHED;
    int i = 0;
    for (;;) {
        /* most nodes are not free (GPU layers): eight flags at a time */
        while (i + 8 <= n &&
               !((nodes[i].flags | nodes[i + 1].flags | nodes[i + 2].flags | nodes[i + 3].flags |
                  nodes[i + 4].flags | nodes[i + 5].flags | nodes[i + 6].flags |
                  nodes[i + 7].flags) & CG_FLAG_FREE))
            i += 8;
        while (i < n && !(nodes[i].flags & CG_FLAG_FREE))
            i++;
        if (i >= n)
            return;
        if (place_weight_reader(g, &nodes[i], gpu_buffer)) {
            i++;
            continue;
        }
        /* a run from i: the computed node before it (none: the host) */
        int prev = i - 1;
        while (prev >= 0 && (nodes[prev].flags & skip))
            prev--;
        /* on a GPU it gives the run its buffer as the run is walked */
        const uint8_t pb = prev >= 0 ? nodes[prev].buffer : 0;
        const uint16_t keep = pb > 0 ? (uint16_t)~CG_FLAG_FREE : 0xffff;
        nodes[i].buffer = pb;
        nodes[i].flags &= keep;
        int end = i + 1; /* the run's end: the next computed node not free, or n */
        for (; end < n; end++) {
            cg_node *x = &nodes[end];
            if (x->flags & CG_FLAG_FREE) {
                if (place_weight_reader(g, x, gpu_buffer))
                    break;
                x->buffer = pb;
                x->flags &= keep;
            } else if (!(x->flags & skip)) {
                break;
            }
        }
        if (pb == 0) { /* the neighbour after it, else the host */
            const uint8_t nb = end < n ? nodes[end].buffer : 0;
            for (int k = i; k < end; k++)
                if (nodes[k].flags & CG_FLAG_FREE) {
                    nodes[k].buffer = nb;
                    nodes[k].flags &= (uint16_t)~CG_FLAG_FREE;
                }
        }
        i = end;
    }
}
