/* Replay of ggml-alloc's graph allocator (ggml/src/ggml-alloc.c):
 * ggml_gallocr_alloc_graph_impl over our node model, with the dynamic
 * tensor allocator's best-fit free-block list (ggml_dyn_tallocr_*).
 *
 * Facts reproduced:
 *  - leafs (the inputs) are allocated first, in discovery order; then every
 *    node in graph order; each buffer type has its own allocator;
 *  - sizes are padded to the buffer's alignment;
 *  - best fit among the free blocks except the last; otherwise the last
 *    block (the open end of the chunk), which grows max_size;
 *  - in place: an op in ggml_op_can_inplace takes over the memory of the
 *    first source that the allocator owns, is not an output, has the same
 *    layout, and has this node as its only child and no views. A view is
 *    never "owned" (the allocator never marks views allocated), so a view
 *    source is never reused;
 *  - a tensor is freed when its last child has run and no view of it
 *    remains; outputs are never freed;
 *  - freed blocks merge with their neighbours; the list stays sorted.
 * Everything lives in fixed arrays: no heap. */
#include <stddef.h>
#include <string.h>

#include "cgraph.h"

#define MAX_FREE_BLOCKS 64 /* ggml: 256; these graphs keep a handful */
#define HUGE_BLOCK ((uint64_t)1 << 62)

typedef struct fblock { uint64_t offset, size; } fblock;

typedef struct talloc {
    fblock blocks[MAX_FREE_BLOCKS];
    int n_blocks;
    uint64_t max_size;
    uint64_t alignment;
} talloc;

typedef struct tstate {
    uint64_t offset;
    int32_t n_children;
    int32_t n_views;
    bool allocated;
} tstate;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

static void remove_block(talloc *t, int idx)
{
    for (int i = idx; i < t->n_blocks - 1; i++)
        t->blocks[i] = t->blocks[i + 1];
    t->n_blocks--;
}

static void insert_block(talloc *t, uint64_t offset, uint64_t size)
{
    if (t->n_blocks >= MAX_FREE_BLOCKS)
        return; /* ggml aborts here; a graph of this model never gets near it */
    int pos = 0;
    while (pos < t->n_blocks && t->blocks[pos].offset < offset)
        pos++;
    for (int i = t->n_blocks; i > pos; i--)
        t->blocks[i] = t->blocks[i - 1];
    t->blocks[pos].offset = offset;
    t->blocks[pos].size = size;
    t->n_blocks++;
}

static uint64_t talloc_alloc(talloc *t, uint64_t size)
{
    size = align_up(size, t->alignment);
    int best = -1;
    uint64_t best_size = UINT64_MAX;
    for (int i = 0; i < t->n_blocks - 1; i++) {
        if (t->blocks[i].size >= size && t->blocks[i].size <= best_size) {
            best = i;
            best_size = t->blocks[i].size;
        }
    }
    if (best < 0)
        best = t->n_blocks - 1; /* the open end: always large enough */
    fblock *b = &t->blocks[best];
    uint64_t addr = b->offset;
    b->offset += size;
    b->size -= size;
    if (b->size == 0)
        remove_block(t, best);
    if (addr + size > t->max_size)
        t->max_size = addr + size;
    return addr;
}

static void talloc_free(talloc *t, uint64_t offset, uint64_t size)
{
    size = align_up(size, t->alignment);
    for (int i = 0; i < t->n_blocks; i++) {
        fblock *b = &t->blocks[i];
        if (b->offset + b->size == offset) {
            b->size += size;
            if (i < t->n_blocks - 1 && b->offset + b->size == t->blocks[i + 1].offset) {
                b->size += t->blocks[i + 1].size;
                remove_block(t, i + 1);
            }
            return;
        }
        if (offset + size == b->offset) {
            b->offset = offset;
            b->size += size;
            if (i > 0 && t->blocks[i - 1].offset + t->blocks[i - 1].size == b->offset) {
                t->blocks[i - 1].size += b->size;
                remove_block(t, i);
            }
            return;
        }
    }
    insert_block(t, offset, size);
}

typedef struct replay {
    const cg_graph *g;
    talloc alloc[CG_MAX_BUFFERS];
    tstate st[CG_MAX_NODES];
} replay;

/* ggml_gallocr_allocate_node for a node that is not yet allocated and owns
 * memory (callers check both); inlined: it runs for most nodes */
static inline __attribute__((always_inline)) void allocate_node(replay *r, int16_t id)
{
    const cg_node *n = &r->g->nodes[id];
    tstate *s = &r->st[id];
    s->allocated = true;
    if (n->flags & CG_FLAG_INPLACE) {
        for (int i = 0; i < n->n_src; i++) {
            const int16_t h = n->src[i];
            if (h & CG_VIA_VIEW) /* a view is never owned */
                continue;
            const cg_node *pn = &r->g->nodes[h];
            tstate *ps = &r->st[h];
            if (!ps->allocated)
                continue;
            if (pn->flags & CG_FLAG_OUTPUT)
                continue;
            if (pn->layout != n->layout)
                continue;
            if (ps->n_children == 1 && ps->n_views == 0) {
                s->offset = ps->offset;
                ps->allocated = false; /* the node owns the memory now */
                const uint64_t a = r->alloc[pn->buffer].alignment;
                const uint64_t psz = align_up(pn->bytes, a), nsz = align_up(n->bytes, a);
                if (psz > nsz)
                    talloc_free(&r->alloc[pn->buffer], ps->offset + nsz, psz - nsz);
                return;
            }
        }
    }
    s->offset = talloc_alloc(&r->alloc[n->buffer], n->bytes);
}

static void free_node(replay *r, int16_t id)
{
    const cg_node *n = &r->g->nodes[id];
    if (n->flags & CG_FLAG_OUTPUT)
        return;
    talloc_free(&r->alloc[n->buffer], r->st[id].offset, n->bytes);
    r->st[id].allocated = false;
}

/* The allocator state that decides everything after a layer boundary:
 * each buffer's free blocks and where the live non-input tensors sit.
 * (max_size is left out: with a single chunk it never steers a choice.) */
typedef struct snapshot {
    uint64_t words[2 * MAX_FREE_BLOCKS + 64];
    int n;
} snapshot;

static void take_snapshot(const replay *r, int upto, snapshot *sn)
{
    sn->n = 0;
    const int cap = (int)(sizeof sn->words / sizeof sn->words[0]);
    for (int b = 0; b < r->g->n_buffers; b++) {
        const talloc *t = &r->alloc[b];
        for (int i = 0; i < t->n_blocks && sn->n + 2 < cap; i++) {
            sn->words[sn->n++] = t->blocks[i].offset;
            sn->words[sn->n++] = t->blocks[i].size;
        }
        if (sn->n < cap)
            sn->words[sn->n++] = UINT64_MAX; /* buffer separator */
    }
    for (int i = 0; i < upto && sn->n < cap; i++) {
        const cg_node *n = &r->g->nodes[i];
        if (r->st[i].allocated && !(n->flags & CG_FLAG_LEAF) && !(n->flags & CG_FLAG_OUTPUT))
            sn->words[sn->n++] = r->st[i].offset ^ ((uint64_t)n->bytes << 1);
    }
}

static bool same_snapshot(const snapshot *a, const snapshot *b)
{
    return a->n == b->n && memcmp(a->words, b->words, (size_t)a->n * sizeof a->words[0]) == 0;
}

void cg_replay(const cg_graph *g, const uint32_t alignment[CG_MAX_BUFFERS], const int *checks,
               int n_checks, cg_alloc_result *res)
{
    replay r;
    r.g = g;
    for (int b = 0; b < g->n_buffers; b++) {
        r.alloc[b].n_blocks = 1;
        r.alloc[b].blocks[0].offset = 0;
        r.alloc[b].blocks[0].size = HUGE_BLOCK;
        r.alloc[b].max_size = 0;
        r.alloc[b].alignment = alignment[b] ? alignment[b] : 32u;
    }
    memset(r.st, 0, sizeof(tstate) * (size_t)g->n_nodes);

    /* leafs first */
    for (int i = 0; i < g->n_leafs; i++)
        if (!r.st[g->leafs[i]].allocated)
            allocate_node(&r, g->leafs[i]);

    /* count children and views (a consumer through a view counts as a view);
     * graph inputs that are nodes (pipeline copies) are allocated here */
    for (int i = 0; i < g->n_nodes; i++) {
        const cg_node *n = &g->nodes[i];
        if ((n->flags & (CG_FLAG_INPUT | CG_FLAG_LEAF)) == CG_FLAG_INPUT && !r.st[i].allocated)
            allocate_node(&r, (int16_t)i);
        for (int j = 0; j < n->n_src; j++) {
            const int16_t h = n->src[j];
            if (h & CG_VIA_VIEW)
                r.st[CG_ROOT(h)].n_views++;
            else
                r.st[h].n_children++;
        }
    }

    /* state checks: pairs of layer marks, in node order of their first mark */
    if (n_checks > CG_MAX_CHECKS)
        n_checks = CG_MAX_CHECKS;
    int at[2 * CG_MAX_CHECKS];
    snapshot snaps[2 * CG_MAX_CHECKS];
    bool ok = true;
    for (int c = 0; c < 2 * n_checks; c++) {
        const int mk = checks[c];
        at[c] = mk >= 0 && mk < g->n_layer_marks ? g->layer_start[mk] : -1;
        snaps[c].n = -1;
        if (at[c] < 0)
            ok = false;
    }

    /* the next node index where a snapshot is due (none: past the end) */
    int next_at = g->n_nodes + 1;
    for (int c = 0; c < 2 * n_checks; c++)
        if (at[c] >= 0 && at[c] < next_at)
            next_at = at[c];
    for (int i = 0; i <= g->n_nodes; i++) {
        if (i == next_at) {
            next_at = g->n_nodes + 1;
            for (int c = 0; c < 2 * n_checks; c++) {
                if (at[c] == i)
                    take_snapshot(&r, i, &snaps[c]);
                else if (at[c] > i && at[c] < next_at)
                    next_at = at[c];
            }
        }
        if (i == g->n_nodes)
            break;
        const cg_node *n = &g->nodes[i];
        if (n->flags & (CG_FLAG_LEAF | CG_FLAG_NOALLOC | CG_FLAG_EXTERNAL)) {
            if (n->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL))
                continue;
        } else if (!r.st[i].allocated) {
            allocate_node(&r, (int16_t)i);
        }
        for (int j = 0; j < n->n_src; j++) {
            const int16_t h = n->src[j];
            const int16_t p = CG_ROOT(h);
            tstate *ps = &r.st[p];
            int children_left, views_left; /* kept in registers: no reload */
            if (h & CG_VIA_VIEW) {
                views_left = --ps->n_views;
                children_left = ps->n_children;
            } else {
                children_left = --ps->n_children;
                views_left = ps->n_views;
            }
            if (children_left == 0 && views_left == 0 && ps->allocated)
                free_node(&r, p);
        }
    }
    for (int b = 0; b < CG_MAX_BUFFERS; b++)
        res->peak[b] = b < g->n_buffers ? r.alloc[b].max_size : 0;
    for (int c = 0; c < n_checks && ok; c++)
        if (snaps[2 * c].n < 0 || snaps[2 * c + 1].n < 0 || !same_snapshot(&snaps[2 * c], &snaps[2 * c + 1]))
            ok = false;
    res->periodic_ok = ok;
}
