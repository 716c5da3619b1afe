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
 * Three paths make the same graph. split_general handles the limits (a
 * graph cut short: overflow); split_fast, for graphs that cannot run out of
 * room, makes two passes over each split (its inputs, then its nodes);
 * split_guessed, for graphs without external tensors (a model fully on
 * GPUs), makes one. Each faster path gives up before it could go wrong
 * (split_guessed at the first external tensor, which the host layers of a
 * partial offload hold early), and the next one starts over.
 *
 * A builder's copy pair (CG_FLAG_SCHED: the dependency and copy of a view,
 * which the scheduler copies at the view's size) is not one of the nodes
 * where it was emitted: every path moves it among the inputs of the split
 * that first reads the copy, in the order those inputs are first read, as
 * the scheduler lists a split's inputs; a pair never read is dropped. */
#include <limits.h>
#include <stddef.h>
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

/* what the paths start from: dst empty but for src's leaf list and flags,
 * nothing copied */
static void start(const cg_graph *src, cg_graph *dst, int copies, copy_list *cl, mark_cursor *mc)
{
    _Static_assert(NO_COPY == -1, "all-ones bytes are -1");
    memset(cl->head, 0xff, sizeof cl->head[0] * (size_t)src->n_nodes);
    cl->n = 0;
    cg_init(dst);
    dst->n_leafs = src->n_leafs;
    memcpy(dst->leafs, src->leafs, sizeof(src->leafs[0]) * (size_t)src->n_leafs);
    dst->overflow = src->overflow;
    dst->too_big = src->too_big;
    dst->bad_attention = src->bad_attention;
    dst->input_nodes = src->input_nodes || copies > 1; /* its copies are inputs */
    mc->mark = 0;
    mc->next = src->n_layer_marks > 0 ? src->layer_start[0] : INT_MAX;
}

/* the leaf ids of dst, moved with their nodes (a leaf left out by an
 * overflow is dropped) */
static void renumber_leafs(const cg_graph *src, cg_graph *dst, const int16_t *remap)
{
    int kept = 0;
    for (int l = 0; l < src->n_leafs; l++) {
        const int16_t to = remap[src->leafs[l]];
        if (to == CG_NONE)
            dst->overflow = true;
        else
            dst->leafs[kept++] = to;
    }
    dst->n_leafs = kept;
}

/* what the paths end with (the leaf list renumbered): the marks left, the
 * pipeline copies, the buffer count */
static void finish(const cg_graph *src, cg_graph *dst, int copies, mark_cursor *mc, uint8_t top)
{
    put_marks(src, dst, mc, INT_MAX - 1, dst->n_nodes);
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

/* ggml_backend_sched_split_graph starts a new split at a node that reads a
 * weight its backend cannot use (a host weight read by an op-offloaded
 * node) once the split has an input of its own, "so the memory of the
 * previously offloaded weights can be reused": each such weight's copy is
 * made at the start of its own split, not all at the start of one. */
static inline bool reads_foreign_weight(const cg_node *nodes, const cg_node *e, uint8_t buf)
{
    for (int j = 0; j < e->n_src; j++) {
        const cg_node *rn = &nodes[CG_ROOT(e->src[j])];
        if ((rn->flags & CG_FLAG_EXTERNAL) && cg_ext_is_weight(rn->layout) && rn->buffer != buf)
            return true;
    }
    return false;
}

/* node e gives the split an input: a source on another buffer not copied
 * to buf by an earlier split */
static inline bool adds_input(const cg_node *nodes, const cg_node *e, uint8_t buf,
                              const copy_list *cl)
{
    for (int j = 0; j < e->n_src; j++) {
        const int16_t r = CG_ROOT(e->src[j]);
        if (nodes[r].buffer != buf && find_copy(cl, r, buf) == NO_COPY)
            return true;
    }
    return false;
}

/* A builder's copy of a view (CG_FLAG_SCHED, the pair's second node), and
 * whether one read by node e is not placed yet: the scheduler makes it an
 * input of the split that first reads it. */
static inline bool is_sched_copy(const cg_node *n)
{
    return (n->flags & (CG_FLAG_SCHED | CG_FLAG_NOALLOC)) == CG_FLAG_SCHED;
}

static inline bool reads_unplaced_copy(const cg_node *nodes, const cg_node *e, const int16_t *remap)
{
    for (int j = 0; j < e->n_src; j++) {
        const int16_t r = CG_ROOT(e->src[j]);
        if (is_sched_copy(&nodes[r]) && remap[r] == CG_NONE)
            return true;
    }
    return false;
}

/* The pair of builder's copy r (its dependency, the node before it, then r)
 * at dst node `at`, among the inputs of the split being made (room for two
 * nodes checked by the caller); the dependency reads its source at
 * source_at (where the source sits in dst). Returns the next free dst
 * node. */
static int put_sched_pair(const cg_graph *src, cg_node *out, int at, int16_t r, int16_t *remap,
                          int16_t source_at, uint8_t *top)
{
    const int dep = r - 1;
    if (dep >= 0 && (src->nodes[dep].flags & (CG_FLAG_SCHED | CG_FLAG_NOALLOC)) ==
                        (CG_FLAG_SCHED | CG_FLAG_NOALLOC)) {
        cg_node *d = &out[at];
        *d = src->nodes[dep];
        if (d->n_src > 0)
            d->src[0] = (int16_t)(source_at | (d->src[0] & CG_VIA_VIEW));
        remap[dep] = (int16_t)at++;
        *top = d->buffer > *top ? d->buffer : *top;
    }
    remap[r] = (int16_t)at;
    out[at++] = src->nodes[r];
    *top = src->nodes[r].buffer > *top ? src->nodes[r].buffer : *top;
    return at;
}

/* the source the dependency of builder's copy r reads (its only one), or
 * CG_NONE */
static inline int16_t pair_source(const cg_graph *src, int16_t r)
{
    const cg_node *dep = r > 0 ? &src->nodes[r - 1] : NULL;
    return dep && (dep->flags & CG_FLAG_SCHED) && dep->n_src > 0 ? CG_ROOT(dep->src[0]) : CG_NONE;
}

/* The plain reading of the scheduler, with every limit checked. A
 * builder's copy pair (CG_FLAG_SCHED) goes among the inputs of the split
 * that first reads the copy. */
static void split_general(const cg_graph *src, cg_graph *dst, int copies, int16_t *remap,
                          copy_list *cl)
{
    _Static_assert(CG_NONE == -1, "all-ones bytes are -1");
    memset(remap, 0xff, sizeof remap[0] * (size_t)src->n_nodes);
    mark_cursor mc;
    start(src, dst, copies, cl, &mc);
    uint8_t top = 0; /* highest buffer of a node written to dst */

    /* leafs keep their place (they are allocated first anyway); nodes are
     * appended split by split */
    int i = 0;
    while (i < src->n_nodes) {
        if (src->nodes[i].flags & CG_FLAG_SCHED) { /* placed with its first reader */
            i++;
            continue;
        }
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
        bool has_inputs = false;
        for (; end < src->n_nodes; end++) {
            const cg_node *e = &src->nodes[end];
            if (e->flags & CG_FLAG_SCHED)
                continue;
            if (!(e->flags & LEAF_OR_EXTERNAL)) {
                if (e->buffer != buf || (has_inputs && reads_foreign_weight(src->nodes, e, buf)))
                    break;
                has_inputs = has_inputs || adds_input(src->nodes, e, buf, cl) ||
                             (src->any_sched && reads_unplaced_copy(src->nodes, e, remap));
            } else if (remap[end] == CG_NONE && dst->n_nodes < CG_MAX_NODES) {
                remap[end] = (int16_t)dst->n_nodes;
                dst->nodes[dst->n_nodes++] = *e;
                top = e->buffer > top ? e->buffer : top;
            }
        }
        /* its inputs from other buffers, in order of first use: copies first */
        for (int k = i; k < end; k++) {
            const cg_node *n = &src->nodes[k];
            if (n->flags & (LEAF_OR_EXTERNAL | CG_FLAG_SCHED))
                continue;
            for (int j = 0; j < n->n_src; j++) {
                const int16_t r = CG_ROOT(n->src[j]);
                const cg_node *rn = &src->nodes[r];
                if (is_sched_copy(rn) && remap[r] == CG_NONE) {
                    const int16_t from = pair_source(src, r);
                    if (dst->n_nodes + 2 > CG_MAX_NODES || (from != CG_NONE && remap[from] == CG_NONE))
                        dst->overflow = true;
                    else
                        dst->n_nodes = put_sched_pair(src, dst->nodes, dst->n_nodes, r, remap,
                                                      from != CG_NONE ? remap[from] : CG_NONE, &top);
                }
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
                if (remap[k] != CG_NONE || (src->nodes[k].flags & CG_FLAG_SCHED))
                    continue; /* (a builder's pair: placed among inputs, or never read) */
                remap[k] = (int16_t)dst->n_nodes;
                cg_node *n = &dst->nodes[dst->n_nodes++]; /* written in place */
                *n = src->nodes[k];
                if (n->flags & LEAF_OR_EXTERNAL) {
                    top = n->buffer > top ? n->buffer : top;
                    continue;
                }
                split_nodes = true; /* on buf, as every computed node of the split */
                int kept = 0;
                for (int j = 0; j < n->n_src; j++) {
                    const int16_t h = n->src[j];
                    const int16_t r = CG_ROOT(h);
                    /* a copy in buf (none for a source on buf itself) */
                    const int16_t copy = find_copy(cl, r, buf);
                    const int16_t to = copy != NO_COPY ? copy : remap[r];
                    if (to == CG_NONE && is_sched_copy(&src->nodes[r])) {
                        dst->overflow = true; /* a builder's pair left out of a graph out of room */
                        continue;
                    }
                    n->src[kept++] = (int16_t)(to | (h & CG_VIA_VIEW));
                }
                for (int j = kept; j < n->n_src; j++)
                    n->src[j] = CG_NONE;
                n->n_src = (uint8_t)kept;
            }
        }
        if (split_nodes)
            top = buf > top ? buf : top;
        i = end;
    }
    renumber_leafs(src, dst, remap);
    finish(src, dst, copies, &mc, top);
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
        if (n->flags & (LEAF_OR_EXTERNAL | CG_FLAG_SCHED)) /* (a pair: among the inputs) */
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
    const bool sched = src->any_sched;
    /* builders' pair nodes passed over and not placed yet: dst room they
     * will take that the nodes still ahead do not count */
    int pending = 0;
    memset(remap, 0xff, sizeof remap[0] * (size_t)src->n_nodes);
    mark_cursor mc;
    start(src, dst, copies, cl, &mc);
    const cg_node *nodes = src->nodes;
    const int n_nodes = src->n_nodes;
    cg_node *out = dst->nodes;
    int at = 0;      /* next dst node */
    uint8_t top = 0; /* highest buffer of a node written to dst */

    int i = 0;
    while (i < n_nodes) {
        if (nodes[i].flags & CG_FLAG_SCHED) { /* placed with its first reader */
            pending++;
            i++;
            continue;
        }
        if (nodes[i].flags & LEAF_OR_EXTERNAL) {
            remap[i] = (int16_t)at;
            out[at++] = nodes[i];
            top = nodes[i].buffer > top ? nodes[i].buffer : top;
            i++;
            continue;
        }
        /* the split, its leafs emitted first, its reads of other buffers
         * (and of builders' copies not placed yet) listed */
        const uint8_t buf = nodes[i].buffer;
        top = buf > top ? buf : top;
        int n_foreign = 0;
        int end = i;
        bool has_inputs = false;
        for (; end < n_nodes; end++) {
            const cg_node *e = &nodes[end];
            if (e->flags & CG_FLAG_SCHED) {
                pending++;
                continue;
            }
            if (e->flags & LEAF_OR_EXTERNAL) {
                remap[end] = (int16_t)at;
                out[at++] = *e;
                top = e->buffer > top ? e->buffer : top;
                continue;
            }
            if (e->buffer != buf || (has_inputs && reads_foreign_weight(nodes, e, buf)))
                break;
            has_inputs = has_inputs || adds_input(nodes, e, buf, cl) ||
                         (sched && reads_unplaced_copy(nodes, e, remap));
            for (int j = 0; j < e->n_src; j++) {
                const int16_t h = e->src[j];
                const int16_t r = CG_ROOT(h);
                if (nodes[r].buffer == buf && !(sched && is_sched_copy(&nodes[r]) && remap[r] == CG_NONE))
                    continue;
                if (n_foreign == MAX_FOREIGN)
                    return false;
                foreign[n_foreign++] = h;
            }
        }
        /* its inputs from other buffers, in order of first use: copies
         * (made once per buffer), and remap pointed at them; builders'
         * pairs moved here */
        int n_redirected = 0;
        for (int f = 0; f < n_foreign; f++) {
            const int16_t r = CG_ROOT(foreign[f]);
            const cg_node *rn = &nodes[r];
            if (sched && is_sched_copy(rn) && remap[r] == CG_NONE) {
                if (rn->buffer != buf || at + 2 > CG_MAX_NODES)
                    return false; /* another buffer's copy: split_general */
                /* its source where it sits (redirected in this split: home) */
                int16_t from = pair_source(src, r), from_at = from != CG_NONE ? remap[from] : CG_NONE;
                for (int q = 0; q < n_redirected && from != CG_NONE; q++)
                    if (redirected[q] == from)
                        from_at = home[q];
                if (from != CG_NONE && from_at == CG_NONE)
                    return false;
                const int was = at;
                at = put_sched_pair(src, out, at, r, remap, from_at, &top);
                pending -= at - was;
                continue;
            }
            if (rn->buffer == buf)
                continue; /* a pair placed already, read again */
            int16_t copy = find_copy(cl, r, buf);
            if (copy != NO_COPY && copy == remap[r])
                continue; /* redirected already */
            if (copy == NO_COPY) {
                if (cl->n >= MAX_COPIES || n_nodes + (at - i) + pending + 2 > CG_MAX_NODES)
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
    renumber_leafs(src, dst, remap);
    finish(src, dst, copies, &mc, top);
    return true;
}

/* ---- the guessed path ----
 * One pass over a split writes its leafs (from dst node `at` on) and its
 * nodes, which go after its leafs and copies (in order of first use). Where
 * they go depends on how many leafs and copy nodes the split has, which
 * only the pass finds: it starts from a guess of both counts (see guess:
 * exact for every split of a model fully on one GPU, and for most of a
 * partial offload without op offload), and the nodes are written again
 * where the guess was wrong. The copies are written after the pass.
 * External tensors (host weights, a host KV cache) make guesses fail: a
 * graph with one is left to split_fast. */

/* Where each src node went, for one load per source: its dst index minus
 * its src index (mod 2^16: a source handle plus it is the dst handle, view
 * bit kept) in the low 16 bits, its buffer above them (foreign to a split:
 * other bits than the split's there). TAB_NONE: not emitted yet. */
#define TAB_NONE 0xffffffffu
static inline uint32_t tab_entry(int to, int from, uint8_t buffer)
{
    return ((uint32_t)(to - from) & 0xffff) | (uint32_t)buffer << 16;
}
static inline int tab_to(uint32_t t, int from)
{
    return (int)(((uint32_t)from + t) & 0xffff);
}

enum { MAX_SOURCES = 512 }; /* sources of other buffers read by one split */

typedef struct guess_state {
    const cg_graph *src;
    cg_graph *dst;
    uint32_t *tab;
    copy_list *cl;
    int copies;  /* pipeline copies */
    int slots;   /* copy nodes (input_dep and copy) made so far */
    uint8_t top; /* highest buffer of a node written to dst */
    mark_cursor mc;
    int leaf_at; /* after the split's leafs */
    /* the split's sources of other buffers: tab of each points at its copy
     * while the split is written (home: its own entry); n_fresh of them
     * get a copy in the split, made after the first pass, the first read
     * of each through handle fresh_h (its view bit goes to the input_dep) */
    int n_redirected, n_fresh;
    int16_t redirected[MAX_SOURCES];
    uint32_t home[MAX_SOURCES];
    int16_t fresh[MAX_SOURCES], fresh_h[MAX_SOURCES], fresh_home[MAX_SOURCES];
    bool fresh_pair[MAX_SOURCES]; /* a builder's pair, moved here (not a copy) */
    int passed_pairs;             /* pair nodes the split's pass left out */
} guess_state;

/* The first read, through handle h, of src node r, which lives on another
 * buffer than the split's (buf): tab[r] pointed at its copy in buf, which a
 * split before made or this one will (its copy nodes after those of the
 * split's reads before, copy_at on). Returns its dst index, -1 where
 * split_fast must take over (r not made yet: tab[r] is TAB_NONE; too many
 * reads). Rare: a function of its own. */
__attribute__((noinline)) static int first_read(guess_state *st, int16_t h, uint8_t buf,
                                                int copy_at)
{
    const int16_t r = CG_ROOT(h);
    const uint32_t t = st->tab[r];
    if (st->n_redirected == MAX_SOURCES || st->n_fresh == MAX_SOURCES)
        return -1;
    if (t == TAB_NONE) {
        /* a builder's pair on buf, not placed yet: among the inputs here,
         * where it stays (no copy, nothing to restore) */
        const cg_node *nodes = st->src->nodes;
        if (!is_sched_copy(&nodes[r]) || nodes[r].buffer != buf || r == 0 ||
            (nodes[r - 1].flags & (CG_FLAG_SCHED | CG_FLAG_NOALLOC)) != (CG_FLAG_SCHED | CG_FLAG_NOALLOC))
            return -1;
        const int copy = copy_at + 2 * st->n_fresh + 1; /* after its dependency */
        st->fresh[st->n_fresh] = r;
        st->fresh_h[st->n_fresh] = h;
        st->fresh_home[st->n_fresh] = CG_NONE;
        st->fresh_pair[st->n_fresh++] = true;
        st->tab[r] = tab_entry(copy, r, buf);
        return copy;
    }
    int16_t copy = find_copy(st->cl, r, buf);
    if (copy == NO_COPY) {
        copy = (int16_t)(copy_at + 2 * st->n_fresh + 1); /* after its input_dep */
        st->fresh[st->n_fresh] = r;
        st->fresh_h[st->n_fresh] = h;
        st->fresh_pair[st->n_fresh] = false;
        st->fresh_home[st->n_fresh++] = (int16_t)tab_to(t, r);
    }
    st->redirected[st->n_redirected] = r;
    st->home[st->n_redirected++] = t;
    st->tab[r] = tab_entry(copy, r, buf);
    return copy;
}

/* One pass over the split whose first computed node is src node i: its
 * leafs written from dst node `at` on, its copies to be from copy_at on, its
 * nodes from `base` on. Where first, its sources of other buffers are met
 * (first_read); else, after a first pass, tab of each points at its copy
 * already (tab of the leafs kept). Returns the src node where the split
 * ends, -1 where split_fast must take over (an external tensor, a source
 * read before it is made, too many reads). (The node loop keeps only what
 * it uses per node in registers.) */
static inline __attribute__((always_inline)) int pass(guess_state *st, int i, int at,
                                                      int copy_at, int base, bool first)
{
    const cg_node *const nodes = st->src->nodes;
    uint32_t *const tab = st->tab;
    cg_node *const out = st->dst->nodes;
    const uint8_t buf = nodes[i].buffer;
    const uint32_t bufshift = (uint32_t)buf << 16;
    /* flags and buffer, side by side in a node: a computed node of the
     * split reads as `here` through `mask` (whatever the byte order) */
    _Static_assert(offsetof(cg_node, buffer) == offsetof(cg_node, flags) + 2 &&
                       sizeof(((cg_node *)0)->flags) == 2,
                   "flags, buffer");
    const uint8_t mask_bytes[4] = {(uint8_t)LEAF_OR_EXTERNAL,
                                   (uint8_t)((LEAF_OR_EXTERNAL | CG_FLAG_SCHED) >> 8), 0xff, 0},
                  here_bytes[4] = {0, 0, buf, 0};
    uint32_t mask, here;
    memcpy(&mask, mask_bytes, 4);
    memcpy(&here, here_bytes, 4);
    cg_node *leaf = &out[at]; /* the next leaf's place */
    cg_node *d = &out[base];  /* the next node's place */
    /* from one node to the next the dst index grows as the src index does,
     * but for a leaf (emitted before): one tab entry, delta, fits them */
    uint32_t delta = tab_entry(base, i, buf);
    const cg_node *e = &nodes[i], *const e_end = &nodes[st->src->n_nodes];
    uint32_t *tk = &tab[i];
    for (; e < e_end; e++, tk++) {
        uint32_t fb;
        memcpy(&fb, &e->flags, 4);
        if ((fb & mask) != here) {
            if (!(e->flags & (LEAF_OR_EXTERNAL | CG_FLAG_SCHED)))
                break; /* another buffer's node */
            if (e->flags & CG_FLAG_SCHED) { /* a builder's pair: an input where read */
                st->passed_pairs += first;
                delta = ((delta - 1) & 0xffff) | bufshift;
                continue;
            }
            if (first) {
                if (e->flags & CG_FLAG_EXTERNAL)
                    return -1;
                *tk = tab_entry((int)(leaf - out), (int)(tk - tab), e->buffer);
            }
            *leaf++ = *e; /* again after a wrong guess: nodes may have gone there */
            delta = ((delta - 1) & 0xffff) | bufshift;
            continue;
        }
        *d = *e;
        *tk = delta;
        /* source j: on buf at its dst handle (x < 0x10000 added: the low
         * bits), or first read of another buffer's (or not made yet) */
#define SOURCE(j)                                                                                  \
    do {                                                                                           \
        const uint32_t x = tab[CG_ROOT(e->src[j])] ^ (first ? bufshift : 0);                       \
        if (!first || x <= 0xffff) {                                                               \
            d->src[j] = (int16_t)((uint32_t)d->src[j] + x);                                        \
        } else {                                                                                   \
            const int copy = first_read(st, e->src[j], buf, copy_at);                              \
            if (copy < 0)                                                                          \
                return -1;                                                                         \
            d->src[j] = (int16_t)(copy | (e->src[j] & CG_VIA_VIEW));                               \
        }                                                                                          \
    } while (0)
        /* in order: the first read makes the copy */
        if (e->n_src == 1) {
            SOURCE(0);
        } else if (e->n_src == 2) {
            SOURCE(0);
            SOURCE(1);
        } else if (e->n_src > 2) {
            SOURCE(0);
            SOURCE(1);
            SOURCE(2);
            if (e->n_src > 3)
                SOURCE(3);
        }
#undef SOURCE
        d++;
    }
    if (first) {
        st->leaf_at = (int)(leaf - out);
        for (const cg_node *l = &out[at]; l < leaf; l++)
            st->top = l->buffer > st->top ? l->buffer : st->top;
    }
    st->top = buf > st->top ? buf : st->top;
    return (int)(tk - tab);
}

__attribute__((noinline)) static int first_pass(guess_state *st, int i, int at, int copy_at,
                                                int base)
{
    return pass(st, i, at, copy_at, base, true);
}

__attribute__((noinline)) static void write_pass(guess_state *st, int i, int at, int base)
{
    pass(st, i, at, 0, base, false);
}

/* The copies the first pass found the split needs, from dst node copy_at
 * on (tab of their sources pointed at them again where the pass assumed
 * another place, from_at): false where split_fast must take over (a limit
 * near). (Every source read was emitted before, none external: no buffer
 * of these nodes is new, each copy has an input_dep.) */
static bool make_copies(guess_state *st, uint8_t buf, int copy_at, int from_at)
{
    static const cg_node dep_node = {.src = {CG_NONE, CG_NONE, CG_NONE, CG_NONE},
                                     .flags = CG_FLAG_NOALLOC,
                                     .n_src = 1};
    static const int16_t no_src[CG_MAX_SRC] = {CG_NONE, CG_NONE, CG_NONE, CG_NONE};
    const cg_node *const nodes = st->src->nodes;
    copy_list *const cl = st->cl;
    cg_node *cp = &st->dst->nodes[copy_at];
    const uint16_t copy_flags = st->copies > 1 ? (CG_FLAG_INPUT | CG_FLAG_OUTPUT) : 0;
    /* dst ends up n_nodes + slots long */
    if (cl->n + st->n_fresh > MAX_COPIES ||
        st->src->n_nodes + st->slots + 2 * st->n_fresh > CG_MAX_NODES)
        return false;
    for (int f = 0; f < st->n_fresh; f++, cp += 2) {
        const int16_t r = st->fresh[f];
        const int16_t copy = (int16_t)(copy_at + 2 * f + 1);
        if (st->fresh_pair[f]) { /* the builder's pair itself */
            const int16_t from = pair_source(st->src, r);
            int16_t from_at = from != CG_NONE && st->tab[from] != TAB_NONE
                                  ? (int16_t)tab_to(st->tab[from], from) : CG_NONE;
            for (int q = 0; q < st->n_redirected && from != CG_NONE; q++)
                if (st->redirected[q] == from) /* read here from its copy: its own place */
                    from_at = (int16_t)tab_to(st->home[q], from);
            if (from != CG_NONE && from_at == CG_NONE)
                return false;
            cp[0] = nodes[r - 1];
            if (cp[0].n_src > 0)
                cp[0].src[0] = (int16_t)(from_at | (cp[0].src[0] & CG_VIA_VIEW));
            cp[1] = nodes[r];
            st->tab[r] = tab_entry(copy, r, buf);
            continue;
        }
        cp[0] = dep_node; /* input_dep: reads the source where it is */
        cp[0].src[0] = (int16_t)(st->fresh_home[f] | (st->fresh_h[f] & CG_VIA_VIEW));
        cp[0].buffer = nodes[r].buffer;
        cp[1].bytes = nodes[r].bytes;
        cp[1].layout = nodes[r].layout;
        memcpy(cp[1].src, no_src, sizeof no_src);
        cp[1].flags = copy_flags;
        cp[1].buffer = buf;
        cp[1].n_src = 0;
        const int c = cl->n++;
        cl->buf[c] = buf;
        cl->at[c] = copy;
        cl->next[c] = cl->head[r];
        cl->head[r] = (int16_t)c;
        if (copy_at != from_at)
            st->tab[r] = tab_entry(copy, r, buf);
    }
    st->slots += 2 * st->n_fresh;
    return true;
}

/* The guess for the split at src node i on buf: its end, the first layer
 * that starts on another buffer (or the end of the graph; or i + 1 where the
 * next node is another buffer's); its leafs, the input leafs up to there;
 * its copies, of those on another buffer, of the input leafs on another
 * buffer that the layers before read (every layer reads the same inputs:
 * positions, masks) and of the sources of its first node on another buffer.
 * mark: the first layer mark after i; leaf0: the first input leaf of the
 * layers (both lists ascend; were they not, the guess would only be worse).
 * False where that layout would not fit. */
static bool guess(const guess_state *st, int i, uint8_t buf, int mark, int leaf0, int *g_leafs,
                  int *g_slots)
{
    const cg_graph *src = st->src;
    const cg_node *nodes = src->nodes;
    const int n = src->n_nodes;
    int end = n;
    if (i + 1 < n && !(nodes[i + 1].flags & (LEAF_OR_EXTERNAL | CG_FLAG_SCHED)) && nodes[i + 1].buffer != buf) {
        end = i + 1;
    } else {
        for (int m = mark; m < src->n_layer_marks && end == n; m++) {
            int k = src->layer_start[m];
            while (k < n && (nodes[k].flags & (LEAF_OR_EXTERNAL | CG_FLAG_SCHED)))
                k++;
            if (k < n && nodes[k].buffer != buf)
                end = k;
        }
    }
    int leafs = 0, slots = 0;
    for (int l = leaf0; l < src->n_leafs && src->leafs[l] < end; l++) {
        const int16_t r = src->leafs[l];
        leafs += r >= i;
        if (nodes[r].buffer != buf && (r >= i || find_copy(st->cl, r, buf) == NO_COPY))
            slots += 2;
    }
    const int layers = leaf0 < src->n_leafs ? src->leafs[leaf0] : n;
    const cg_node *e = &nodes[i];
    for (int j = 0; j < e->n_src; j++) {
        const int16_t r = CG_ROOT(e->src[j]);
        bool again = (nodes[r].flags & CG_FLAG_LEAF) && r >= layers; /* counted above */
        for (int q = 0; q < j; q++)
            again |= CG_ROOT(e->src[q]) == r; /* read twice: one copy */
        if (r < i && nodes[r].buffer != buf && !again && find_copy(st->cl, r, buf) == NO_COPY)
            slots += 2;
    }
    if (n + st->slots + leafs + slots > CG_MAX_NODES)
        return false;
    *g_leafs = leafs;
    *g_slots = slots;
    return true;
}

/* split_fast's graph for a graph without external tensors: false (dst half
 * made) where split_fast must take over */
static bool split_guessed(const cg_graph *src, cg_graph *dst, int copies, uint32_t *tab,
                          copy_list *cl)
{
    guess_state st;
    st.src = src;
    st.dst = dst;
    st.tab = tab;
    st.cl = cl;
    st.copies = copies;
    st.slots = 0;
    st.top = 0;
    st.n_redirected = 0;
    memset(tab, 0xff, sizeof tab[0] * (size_t)src->n_nodes);
    start(src, dst, copies, cl, &st.mc);
    const cg_node *nodes = src->nodes;
    const int n = src->n_nodes;
    int at = 0;   /* next dst node */
    int mark = 0; /* first layer mark after i */
    /* the first input leaf of the layers */
    const int layers = src->n_layer_marks > 0 ? src->layer_start[0] : n;
    int leaf0 = 0;
    while (leaf0 < src->n_leafs && src->leafs[leaf0] < layers)
        leaf0++;
    int i = 0;
    while (i < n) {
        if (nodes[i].flags & CG_FLAG_SCHED) { /* placed with its first reader */
            i++;
            continue;
        }
        if (nodes[i].flags & LEAF_OR_EXTERNAL) {
            if (nodes[i].flags & CG_FLAG_EXTERNAL)
                return false;
            tab[i] = tab_entry(at, i, nodes[i].buffer);
            dst->nodes[at++] = nodes[i];
            st.top = nodes[i].buffer > st.top ? nodes[i].buffer : st.top;
            i++;
            continue;
        }
        const uint8_t buf = nodes[i].buffer;
        while (mark < src->n_layer_marks && src->layer_start[mark] <= i)
            mark++;
        int g_leafs, g_slots;
        if (!guess(&st, i, buf, mark, leaf0, &g_leafs, &g_slots))
            return false;
        st.n_fresh = 0;
        st.passed_pairs = 0;
        const int end = first_pass(&st, i, at, at + g_leafs, at + g_leafs + g_slots);
        if (end < 0)
            return false;
        const int n_leafs = st.leaf_at - at, slots = 2 * st.n_fresh;
        if (!make_copies(&st, buf, at + n_leafs, at + g_leafs))
            return false;
        const int base = at + n_leafs + slots; /* the split's first node */
        if (n_leafs != g_leafs || slots != g_slots)
            write_pass(&st, i, at, base); /* the nodes where they go, the copies made */
        /* the layer marks up to the split's end, each at the node written
         * next (the first of the split for one before it) */
        const int split_end = base + (end - i) - n_leafs - st.passed_pairs;
        while (st.mc.next < end) {
            int k = st.mc.next > i ? st.mc.next : i;
            while (k < end && (nodes[k].flags & (LEAF_OR_EXTERNAL | CG_FLAG_SCHED)))
                k++;
            put_marks(src, dst, &st.mc, st.mc.next, k < end ? tab_to(tab[k], k) : split_end);
        }
        while (st.n_redirected > 0) {
            st.n_redirected--;
            tab[st.redirected[st.n_redirected]] = st.home[st.n_redirected];
        }
        at = split_end;
        i = end;
    }
    dst->n_nodes = at;
    /* leaf ids moved with their nodes (all emitted) */
    for (int l = 0; l < dst->n_leafs; l++)
        dst->leafs[l] = (int16_t)tab_to(tab[src->leafs[l]], src->leafs[l]);
    finish(src, dst, copies, &st.mc, st.top);
    return true;
}

void cg_split_copies(const cg_graph *src, cg_graph *dst, int copies)
{
    union {
        uint32_t tab[CG_MAX_NODES];  /* split_guessed's */
        int16_t remap[CG_MAX_NODES]; /* the others'; CG_NONE: not emitted (yet, or out of room) */
    } map;
    copy_list cl;
    /* free nodes are op-offloaded host layers, which read host weights:
     * external tensors, where split_guessed would give up */
    if ((src->any_free || !split_guessed(src, dst, copies, map.tab, &cl)) &&
        !split_fast(src, dst, copies, map.remap, &cl))
        split_general(src, dst, copies, map.remap, &cl);
}
