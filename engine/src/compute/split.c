/* The scheduler's graph copy with split inputs (see cgraph.h). From
 * ggml/src/ggml-backend.cpp, ggml_backend_sched_split_graph: inputs of a
 * split that live on another backend get a copy (tensor_id_copy) in the
 * split's backend; graph_copy lists, for each split, [input_dep, input_cpy]
 * for each new input and then the split's nodes. input_dep is a
 * ggml_view_tensor of the source (op NONE, so ggml-alloc counts it as a
 * plain reader, not as a view): the source lives until the split starts.
 * With one copy (no pipeline parallelism) the copy is an ordinary tensor:
 * freed after its last reader.
 *
 * Two paths make the same graph: split_fast, for graphs that cannot run out
 * of room (every plan's), and split_general, which also handles the limits
 * (a graph cut short: overflow). split_fast gives up, before it could reach
 * a limit, and the general path then starts over. */
#include <limits.h>
#include <string.h>

#include "cgraph.h"

#define NO_COPY ((int16_t)-1)
#define LEAF_OR_EXTERNAL (CG_FLAG_LEAF | CG_FLAG_EXTERNAL)

/* copy_of[node][buffer] would be large; a node is copied to few buffers,
 * so keep a small list of (node, buffer, copy) */
enum { MAX_COPIES = 2048 };
typedef struct copy_list {
    int n;
    uint8_t buf[MAX_COPIES];
    int16_t at[MAX_COPIES];     /* the copy's index in dst */
    int16_t next[MAX_COPIES];   /* next copy of the same source */
    int16_t head[CG_MAX_NODES]; /* first copy of each source, NO_COPY: none */
} copy_list;

/* the copy of src node r in buf (NO_COPY: none yet) */
static inline int16_t find_copy(const copy_list *cl, int16_t r, uint8_t buf)
{
    for (int c = cl->head[r]; c >= 0; c = cl->next[c])
        if (cl->buf[c] == buf)
            return cl->at[c]; /* one copy per (source, buffer) */
    return NO_COPY;
}

/* The copy of src node r (rn) in buf at dst node `at`, after its input_dep
 * (one more reader of the source, here; none for an external source) that
 * reads dep_src; the copy is listed. Returns the next free dst node. */
static inline int put_copy(cg_graph *dst, int at, const cg_node *rn, int16_t r, int16_t dep_src,
                           uint8_t buf, int copies, copy_list *cl, uint8_t *top)
{
    if (!(rn->flags & CG_FLAG_EXTERNAL)) {
        cg_node *dep = &dst->nodes[at++];
        dep->bytes = 0;
        dep->layout = 0;
        dep->flags = CG_FLAG_NOALLOC;
        dep->buffer = rn->buffer;
        *top = rn->buffer > *top ? rn->buffer : *top;
        dep->n_src = 1;
        dep->src[0] = dep_src;
        for (int q = 1; q < CG_MAX_SRC; q++)
            dep->src[q] = CG_NONE;
    }
    cg_node *cp = &dst->nodes[at];
    cp->bytes = rn->bytes;
    cp->layout = rn->layout;
    cp->flags = copies > 1 ? (CG_FLAG_INPUT | CG_FLAG_OUTPUT) : 0;
    cp->buffer = buf;
    *top = buf > *top ? buf : *top;
    cp->n_src = 0;
    for (int s = 0; s < CG_MAX_SRC; s++)
        cp->src[s] = CG_NONE;
    cl->buf[cl->n] = buf;
    cl->at[cl->n] = (int16_t)at;
    cl->next[cl->n] = cl->head[r];
    cl->head[r] = (int16_t)cl->n;
    cl->n++;
    return at + 1;
}

/* the src layer marks still to place: the next one falls at src node `next`
 * (none left: INT_MAX) */
typedef struct mark_cursor { int mark, next; } mark_cursor;

/* the marks that fall at src nodes <= k, at dst node `at` */
static inline void put_marks(const cg_graph *src, cg_graph *dst, mark_cursor *mc, int k, int at)
{
    while (k >= mc->next) {
        if (dst->n_layer_marks < CG_MAX_LAYER_MARKS) {
            dst->layer_start[dst->n_layer_marks] = (int16_t)at;
            dst->layer_index[dst->n_layer_marks] = src->layer_index[mc->mark];
            dst->n_layer_marks++;
        }
        mc->mark++;
        mc->next = mc->mark < src->n_layer_marks ? src->layer_start[mc->mark] : INT_MAX;
    }
}

/* what both paths start from: dst empty but for src's leaf list and flags,
 * nothing emitted, nothing copied */
static void start(const cg_graph *src, cg_graph *dst, int copies, int16_t *remap, copy_list *cl,
                  mark_cursor *mc)
{
    _Static_assert(CG_NONE == -1 && NO_COPY == -1, "all-ones bytes are -1");
    memset(cl->head, 0xff, sizeof cl->head[0] * (size_t)src->n_nodes);
    memset(remap, 0xff, sizeof remap[0] * (size_t)src->n_nodes);
    cl->n = 0;
    cg_init(dst);
    dst->n_leafs = src->n_leafs;
    memcpy(dst->leafs, src->leafs, sizeof(src->leafs[0]) * (size_t)src->n_leafs);
    dst->overflow = src->overflow;
    dst->too_big = src->too_big;
    dst->input_nodes = src->input_nodes || copies > 1; /* its copies are inputs */
    mc->mark = 0;
    mc->next = src->n_layer_marks > 0 ? src->layer_start[0] : INT_MAX;
}

/* what both paths end with: the marks left, the leaf list renumbered, the
 * pipeline copies, the buffer count */
static void finish(const cg_graph *src, cg_graph *dst, int copies, const int16_t *remap,
                   mark_cursor *mc, uint8_t top)
{
    put_marks(src, dst, mc, INT_MAX - 1, dst->n_nodes);
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

/* The plain reading of the scheduler, with every limit checked. */
static void split_general(const cg_graph *src, cg_graph *dst, int copies, int16_t *remap,
                          copy_list *cl)
{
    mark_cursor mc;
    start(src, dst, copies, remap, cl, &mc);
    uint8_t top = 0; /* highest buffer of a node written to dst */

    /* leafs keep their place (they are allocated first anyway); nodes are
     * appended split by split */
    int i = 0;
    while (i < src->n_nodes) {
        /* leafs and external tensors pass through unchanged */
        if (src->nodes[i].flags & LEAF_OR_EXTERNAL) {
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
            if (!(e->flags & LEAF_OR_EXTERNAL)) {
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
            if (n->flags & LEAF_OR_EXTERNAL)
                continue;
            for (int j = 0; j < n->n_src; j++) {
                const int16_t r = CG_ROOT(n->src[j]);
                const cg_node *rn = &src->nodes[r];
                if (rn->buffer == buf || find_copy(cl, r, buf) != NO_COPY)
                    continue;
                if (cl->n >= MAX_COPIES || dst->n_nodes + 1 >= CG_MAX_NODES) {
                    dst->overflow = true;
                    continue;
                }
                dst->n_nodes = put_copy(dst, dst->n_nodes, rn, r,
                                        (int16_t)(remap[r] | (n->src[j] & CG_VIA_VIEW)), buf,
                                        copies, cl, &top);
            }
        }
        /* the split's nodes, reading the copies: in pieces between layer
         * marks, with one room check per piece when it fits */
        bool split_nodes = false, full = false;
        for (int k = i; k < end && !full;) {
            put_marks(src, dst, &mc, k, dst->n_nodes);
            const int stop = end < mc.next ? end : mc.next;
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
                if (n->flags & LEAF_OR_EXTERNAL) {
                    top = n->buffer > top ? n->buffer : top;
                    continue;
                }
                split_nodes = true; /* on buf, as every computed node of the split */
                for (int j = 0; j < n->n_src; j++) {
                    const int16_t h = n->src[j];
                    const int16_t r = CG_ROOT(h);
                    /* a copy in buf (none for a source on buf itself) */
                    const int16_t copy = find_copy(cl, r, buf);
                    const int16_t to = copy != NO_COPY ? copy : remap[r];
                    n->src[j] = (int16_t)(to | (h & CG_VIA_VIEW));
                }
            }
        }
        if (split_nodes)
            top = buf > top ? buf : top;
        i = end;
    }
    finish(src, dst, copies, remap, &mc, top);
}

/* Src nodes [k, stop) of a split, all but its leafs (emitted first), from
 * dst node `at` on, their sources read through remap. Returns the next
 * free dst node. (A function of its own: fewer live values, a tighter
 * loop.) */
__attribute__((noinline)) static int put_nodes(const cg_node *nodes, int k, int stop,
                                               int16_t *remap, cg_node *out, int at)
{
    for (; k < stop; k++) {
        const cg_node *n = &nodes[k];
        if (n->flags & LEAF_OR_EXTERNAL)
            continue;
        remap[k] = (int16_t)at;
        cg_node *d = &out[at++];
        *d = *n;
        const int n_src = n->n_src;
        for (int j = 0; j < n_src; j++) {
            const int16_t h = n->src[j];
            d->src[j] = (int16_t)(remap[CG_ROOT(h)] | (h & CG_VIA_VIEW));
        }
    }
    return at;
}

/* The general path's graph when no limit is near: false (dst half made)
 * where one could be reached. Every src node is emitted, so a copy is the
 * only room check. A split's nodes read its inputs' copies through remap
 * itself: remap[r] of each input r points at its copy in the split's
 * buffer while the split's nodes are written (the old index kept in home),
 * then goes back. */
static bool split_fast(const cg_graph *src, cg_graph *dst, int copies, int16_t *remap,
                       copy_list *cl)
{
    enum { MAX_FOREIGN = 512 }; /* reads of other buffers in one split */
    int16_t foreign[MAX_FOREIGN], redirected[MAX_FOREIGN], home[MAX_FOREIGN];
    mark_cursor mc;
    start(src, dst, copies, remap, cl, &mc);
    const cg_node *nodes = src->nodes;
    const int n_nodes = src->n_nodes;
    cg_node *out = dst->nodes;
    int at = 0;      /* next dst node */
    uint8_t top = 0; /* highest buffer of a node written to dst */

    int i = 0;
    while (i < n_nodes) {
        if (nodes[i].flags & LEAF_OR_EXTERNAL) {
            remap[i] = (int16_t)at;
            out[at++] = nodes[i];
            top = nodes[i].buffer > top ? nodes[i].buffer : top;
            i++;
            continue;
        }
        /* the split, its leafs emitted first, its reads of other buffers
         * listed */
        const uint8_t buf = nodes[i].buffer;
        top = buf > top ? buf : top;
        int n_foreign = 0;
        int end = i;
        for (; end < n_nodes; end++) {
            const cg_node *e = &nodes[end];
            if (e->flags & LEAF_OR_EXTERNAL) {
                remap[end] = (int16_t)at;
                out[at++] = *e;
                top = e->buffer > top ? e->buffer : top;
                continue;
            }
            if (e->buffer != buf)
                break;
            for (int j = 0; j < e->n_src; j++) {
                const int16_t h = e->src[j];
                if (nodes[CG_ROOT(h)].buffer == buf)
                    continue;
                if (n_foreign == MAX_FOREIGN)
                    return false;
                foreign[n_foreign++] = h;
            }
        }
        /* its inputs from other buffers, in order of first use: copies
         * (made once per buffer), and remap pointed at them */
        int n_redirected = 0;
        for (int f = 0; f < n_foreign; f++) {
            const int16_t r = CG_ROOT(foreign[f]);
            const cg_node *rn = &nodes[r];
            int16_t copy = find_copy(cl, r, buf);
            if (copy != NO_COPY && copy == remap[r])
                continue; /* redirected already */
            if (copy == NO_COPY) {
                if (cl->n >= MAX_COPIES || n_nodes + (at - i) + 2 > CG_MAX_NODES)
                    return false; /* at - i: the copies made so far, and more */
                copy = (int16_t)(rn->flags & CG_FLAG_EXTERNAL ? at : at + 1);
                at = put_copy(dst, at, rn, r, (int16_t)(remap[r] | (foreign[f] & CG_VIA_VIEW)),
                              buf, copies, cl, &top);
            }
            redirected[n_redirected] = r;
            home[n_redirected++] = remap[r];
            remap[r] = copy;
        }
        /* the split's nodes, in pieces between layer marks */
        for (int k = i; k < end;) {
            put_marks(src, dst, &mc, k, at);
            const int stop = end < mc.next ? end : mc.next;
            at = put_nodes(nodes, k, stop, remap, out, at);
            k = stop;
        }
        while (n_redirected > 0) {
            n_redirected--;
            remap[redirected[n_redirected]] = home[n_redirected];
        }
        i = end;
    }
    dst->n_nodes = at;
    finish(src, dst, copies, remap, &mc, top);
    return true;
}

void cg_split_copies(const cg_graph *src, cg_graph *dst, int copies)
{
    int16_t remap[CG_MAX_NODES]; /* CG_NONE: not emitted (yet, or out of room) */
    copy_list cl;
    if (!split_fast(src, dst, copies, remap, &cl))
        split_general(src, dst, copies, remap, &cl);
}
