/* The scheduler's graph copy with split inputs (see cgraph.h). From
 * ggml/src/ggml-backend.cpp, ggml_backend_sched_split_graph: inputs of a
 * split that live on another backend get a copy (tensor_id_copy) in the
 * split's backend; graph_copy lists, for each split, [input_dep, input_cpy]
 * for each new input and then the split's nodes. input_dep is a
 * ggml_view_tensor of the source (op NONE, so ggml-alloc counts it as a
 * plain reader, not as a view): the source lives until the split starts.
 * With one copy (no pipeline parallelism) the copy is an ordinary tensor:
 * freed after its last reader. */
#include <limits.h>
#include <string.h>

#include "cgraph.h"

#define NO_COPY ((int16_t)-1)

void cg_split_copies(const cg_graph *src, cg_graph *dst, int copies)
{
    /* copy_of[node][buffer] would be large; a node is copied to few buffers,
     * so keep a small list of (node, buffer, copy) */
    enum { MAX_COPIES = 2048 };
    uint8_t c_buf[MAX_COPIES];
    int16_t c_new[MAX_COPIES];
    int16_t c_next[MAX_COPIES];      /* next copy of the same source */
    int16_t copy_head[CG_MAX_NODES]; /* first copy of each source, -1: none */
    int n_copies = 0;
    int16_t remap[CG_MAX_NODES]; /* CG_NONE: not emitted (yet, or out of room) */
    _Static_assert(CG_NONE == -1 && NO_COPY == -1, "all-ones bytes are -1");
    memset(copy_head, 0xff, sizeof copy_head[0] * (size_t)src->n_nodes);
    memset(remap, 0xff, sizeof remap[0] * (size_t)src->n_nodes);
    uint8_t top = 0; /* highest buffer of a node written to dst */

    cg_init(dst);
    dst->n_leafs = src->n_leafs;
    memcpy(dst->leafs, src->leafs, sizeof(src->leafs[0]) * (size_t)src->n_leafs);
    dst->overflow = src->overflow;
    dst->too_big = src->too_big;
    dst->input_nodes = src->input_nodes || copies > 1; /* its copies are inputs */

    /* leafs keep their place (they are allocated first anyway); nodes are
     * appended split by split */
    int mark = 0;
    /* node index where the next layer mark falls (none left: INT_MAX) */
    int next_mark = src->n_layer_marks > 0 ? src->layer_start[0] : INT_MAX;
    int i = 0;
    while (i < src->n_nodes) {
        /* leafs and external tensors pass through unchanged */
        if (src->nodes[i].flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL)) {
            if (remap[i] == CG_NONE) {
                remap[i] = (int16_t)dst->n_nodes;
                dst->nodes[dst->n_nodes++] = src->nodes[i];
                top = src->nodes[i].buffer > top ? src->nodes[i].buffer : top;
            }
            i++;
            continue;
        }
        /* the split: consecutive non-leaf nodes on one buffer; the leafs
         * created inside it go first, as they are met (their place among
         * nodes does not matter: leafs are allocated before every node) */
        const uint8_t buf = src->nodes[i].buffer;
        int end = i;
        for (; end < src->n_nodes; end++) {
            const cg_node *e = &src->nodes[end];
            if (!(e->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL))) {
                if (e->buffer != buf)
                    break;
            } else if (remap[end] == CG_NONE && dst->n_nodes < CG_MAX_NODES) {
                remap[end] = (int16_t)dst->n_nodes;
                dst->nodes[dst->n_nodes++] = *e;
                top = e->buffer > top ? e->buffer : top;
            }
        }
        /* its inputs from other buffers, in order of first use: copies first */
        for (int k = i; k < end; k++) {
            const cg_node *n = &src->nodes[k];
            if (n->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL))
                continue;
            for (int j = 0; j < n->n_src; j++) {
                const int16_t r = CG_ROOT(n->src[j]);
                const cg_node *rn = &src->nodes[r];
                if (rn->buffer == buf)
                    continue;
                bool have = false;
                for (int c = copy_head[r]; c >= 0; c = c_next[c])
                    if (c_buf[c] == buf)
                        have = true;
                if (have)
                    continue;
                if (n_copies >= MAX_COPIES || dst->n_nodes + 1 >= CG_MAX_NODES) {
                    dst->overflow = true;
                    continue;
                }
                if (!(rn->flags & CG_FLAG_EXTERNAL)) {
                    /* input_dep: one more reader of the source, here */
                    cg_node *dep = &dst->nodes[dst->n_nodes++];
                    dep->bytes = 0;
                    dep->layout = 0;
                    dep->flags = CG_FLAG_NOALLOC;
                    dep->buffer = rn->buffer;
                    top = rn->buffer > top ? rn->buffer : top;
                    dep->n_src = 1;
                    dep->src[0] = (int16_t)(remap[r] | (n->src[j] & CG_VIA_VIEW));
                    for (int q = 1; q < CG_MAX_SRC; q++)
                        dep->src[q] = CG_NONE;
                }
                cg_node *cp = &dst->nodes[dst->n_nodes];
                cp->bytes = rn->bytes;
                cp->layout = rn->layout;
                cp->flags = copies > 1 ? (CG_FLAG_INPUT | CG_FLAG_OUTPUT) : 0;
                cp->buffer = buf;
                top = buf > top ? buf : top;
                cp->n_src = 0;
                for (int s = 0; s < CG_MAX_SRC; s++)
                    cp->src[s] = CG_NONE;
                c_buf[n_copies] = buf;
                c_new[n_copies] = (int16_t)dst->n_nodes;
                c_next[n_copies] = copy_head[r];
                copy_head[r] = (int16_t)n_copies;
                n_copies++;
                dst->n_nodes++;
            }
        }
        /* the split's nodes, reading the copies: in pieces between layer
         * marks, with one room check per piece when it fits */
        bool split_nodes = false, full = false;
        for (int k = i; k < end && !full;) {
            while (k >= next_mark) {
                if (dst->n_layer_marks < (int)(sizeof dst->layer_start / sizeof dst->layer_start[0])) {
                    dst->layer_start[dst->n_layer_marks] = (int16_t)dst->n_nodes;
                    dst->layer_index[dst->n_layer_marks] = src->layer_index[mark];
                    dst->n_layer_marks++;
                }
                mark++;
                next_mark = mark < src->n_layer_marks ? src->layer_start[mark] : INT_MAX;
            }
            const int stop = end < next_mark ? end : next_mark;
            const bool room = dst->n_nodes + (stop - k) <= CG_MAX_NODES;
            for (; k < stop; k++) {
                if (!room && dst->n_nodes >= CG_MAX_NODES) {
                    dst->overflow = true;
                    full = true;
                    break;
                }
                if (remap[k] != CG_NONE)
                    continue;
                remap[k] = (int16_t)dst->n_nodes;
                cg_node *n = &dst->nodes[dst->n_nodes++]; /* written in place */
                *n = src->nodes[k];
                if (n->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL)) {
                    top = n->buffer > top ? n->buffer : top;
                    continue;
                }
                split_nodes = true; /* on buf, as every computed node of the split */
                for (int j = 0; j < n->n_src; j++) {
                    const int16_t h = n->src[j];
                    const int16_t r = CG_ROOT(h);
                    const int16_t via = (int16_t)(h & CG_VIA_VIEW);
                    int16_t to = remap[r];
                    /* a copy in buf (none for a source on buf itself) */
                    for (int c = copy_head[r]; c >= 0; c = c_next[c])
                        if (c_buf[c] == buf)
                            to = c_new[c];
                    n->src[j] = (int16_t)(to | via);
                }
            }
        }
        if (split_nodes)
            top = buf > top ? buf : top;
        i = end;
    }
    while (mark < src->n_layer_marks) {
        if (dst->n_layer_marks < (int)(sizeof dst->layer_start / sizeof dst->layer_start[0])) {
            dst->layer_start[dst->n_layer_marks] = (int16_t)dst->n_nodes;
            dst->layer_index[dst->n_layer_marks] = src->layer_index[mark];
            dst->n_layer_marks++;
        }
        mark++;
    }
    /* leaf ids moved with their nodes (a leaf left out by an overflow is dropped) */
    int kept = 0;
    for (int l = 0; l < src->n_leafs; l++) {
        const int16_t to = remap[src->leafs[l]];
        if (to == CG_NONE)
            dst->overflow = true;
        else
            dst->leafs[kept++] = to;
    }
    dst->n_leafs = kept;
    /* pipeline parallelism: every graph input in `copies` copies, kept */
    if (copies > 1) {
        const int n_leafs = dst->n_leafs;
        for (int l = 0; l < n_leafs; l++) {
            const int16_t id = dst->leafs[l];
            dst->nodes[id].flags |= CG_FLAG_OUTPUT;
            for (int c = 1; c < copies; c++) {
                if (dst->n_nodes >= CG_MAX_NODES ||
                    dst->n_leafs >= (int)(sizeof dst->leafs / sizeof dst->leafs[0])) {
                    dst->overflow = true;
                    break;
                }
                dst->nodes[dst->n_nodes] = dst->nodes[id];
                dst->leafs[dst->n_leafs++] = (int16_t)dst->n_nodes;
                dst->n_nodes++;
            }
        }
    }
    /* pipeline copies repeat leafs: no new buffer */
    if (top + 1 > dst->n_buffers)
        dst->n_buffers = (uint8_t)(top + 1);
}
