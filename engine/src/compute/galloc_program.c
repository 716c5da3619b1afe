/* A plain replay recorded once, then run again from its record at other
 * sizes (cgraph.h: cg_replay_record, cg_replay_program). The plain
 * instantiation of galloc_impl.h again, with its recording hooks: galloc.c
 * keeps the replay every estimate runs free of them. */
#include <stddef.h>
#include <string.h>

#include "cgraph.h"
#include "galloc_plain.h"

/* sizes: the graph's while recording (SZ_OF), the caller's while running a
 * record */
#define REPLAY_PROGRAM 1
#define PROGRAM_SZ(r, id) ((r)->prog_bytes[id])
#define REPLAY_EXTRA                                                                       \
    cg_program *rec;            /* recording into it (prog NULL) */                        \
    const cg_program *prog;     /* running from it, or NULL */                             \
    const uint64_t *prog_bytes; /* the sizes it runs with */
typedef struct replay replay;
static void record_event(replay *r, uint8_t kind, int16_t id, int16_t parent);
/* a replay here either records (every allocate_node and free_node) or
 * runs from a record (neither is called) */
#define RECORD_ALLOC(r, id) record_event((r), CG_EV_ALLOC, (id), CG_NONE)
#define RECORD_INPLACE(r, id, h) record_event((r), CG_EV_INPLACE, (id), (h))
#define RECORD_FREE(r, id) record_event((r), CG_EV_FREE, (id), CG_NONE)
#define RECORD_NODE(r, i) ((r)->rec->node_events[i] = (r)->rec->n_events)

#include "galloc_impl.h"

static void record_event(replay *r, uint8_t kind, int16_t id, int16_t parent)
{
    cg_program *p = r->rec;
    if (p->n_events >= CG_PROGRAM_EVENTS) {
        p->valid = false;
        return;
    }
    /* an in-place take-over frees the parent's spare bytes into its buffer */
    const uint8_t buffer = r->g->nodes[kind == CG_EV_INPLACE ? parent : id].buffer;
    p->events[p->n_events++] = (cg_event){id, parent, kind, buffer};
}

/* what event ev leaves allocated: its node, unless freed; an in-place
 * take-over's parent no longer (its memory is the node's now) */
static void mark_allocated(uint8_t *allocated, const cg_event *ev)
{
    allocated[ev->node] = ev->kind != CG_EV_FREE;
    if (ev->kind == CG_EV_INPLACE)
        allocated[ev->parent] = 0;
}

/* The tensors take_snapshot lists at each mark: allocated when the walk
 * reaches the mark's node, before it, neither a leaf nor an output. */
static void record_live(const cg_graph *g, cg_program *p)
{
    uint8_t allocated[CG_MAX_NODES];
    memset(allocated, 0, sizeof allocated[0] * (size_t)g->n_nodes);
    /* marks in node order (they may come out of it), by insertion */
    int order[CG_MAX_LAYER_MARKS];
    for (int x = 0; x < g->n_layer_marks; x++) {
        int k = x;
        for (; k > 0 && g->layer_start[order[k - 1]] > g->layer_start[x]; k--)
            order[k] = order[k - 1];
        order[k] = x;
    }
    int32_t at[CG_MAX_LAYER_MARKS], count[CG_MAX_LAYER_MARKS];
    int n_live = 0, e = 0;
    for (int k = 0; k < g->n_layer_marks; k++) {
        const int x = order[k];
        const int upto = g->layer_start[x] < g->n_nodes ? g->layer_start[x] : g->n_nodes;
        for (; e < p->node_events[upto]; e++)
            mark_allocated(allocated, &p->events[e]);
        at[x] = n_live;
        for (int i = 0; i < upto; i++) {
            if (!allocated[i] || (g->nodes[i].flags & (CG_FLAG_LEAF | CG_FLAG_OUTPUT)))
                continue;
            if (n_live == CG_PROGRAM_LIVE) {
                p->valid = false;
                return;
            }
            p->live[n_live++] = (int16_t)i;
        }
        count[x] = n_live - at[x];
    }
    /* laid out again in mark order: mark x's list is live[mark_live[x] ..
     * mark_live[x + 1]) */
    int16_t sorted[CG_PROGRAM_LIVE];
    int n = 0;
    for (int x = 0; x < g->n_layer_marks; x++) {
        p->mark_live[x] = n;
        memcpy(sorted + n, p->live + at[x], sizeof sorted[0] * (size_t)count[x]);
        n += count[x];
    }
    p->mark_live[g->n_layer_marks] = n;
    memcpy(p->live, sorted, sizeof sorted[0] * (size_t)n);
}

void cg_replay_record(const cg_graph *g, const uint32_t alignment[CG_MAX_BUFFERS],
                      const cg_window *windows, int n_windows, cg_alloc_result *res,
                      cg_program *prog)
{
    replay r;
    r.g = g;
    r.rec = prog;
    r.prog = NULL;
    r.prog_bytes = NULL;
    prog->valid = true;
    prog->n_events = 0;
    prog->checkpoint.at_node = 0;
    replay_result(&r, run_replay(&r, alignment, windows, n_windows, res->lag), res);
    prog->node_events[g->n_nodes] = prog->n_events;
    if (prog->valid)
        record_live(g, prog);
}

/* The first node where a step of buffer b reads a size that depends on u
 * (or an in-place take-over crosses buffers: both then depend on each
 * other), up to limit; limit where none does. */
static void first_varying(const cg_graph *g, const cg_program *p, const int64_t *slope, int limit,
                          int varies_at[CG_MAX_BUFFERS])
{
    for (int b = 0; b < CG_MAX_BUFFERS; b++)
        varies_at[b] = limit;
    int i = 0; /* the node of event e (the leafs' steps count as node 0's) */
    for (int e = 0; e < p->node_events[limit]; e++) {
        while (i < limit && p->node_events[i + 1] <= e)
            i++;
        const cg_event *ev = &p->events[e];
        const uint8_t child = g->nodes[ev->node].buffer;
        const bool cross = ev->kind == CG_EV_INPLACE && child != ev->buffer;
        if (slope[ev->node] != 0 || cross || (ev->kind == CG_EV_INPLACE && slope[ev->parent] != 0)) {
            if (i < varies_at[ev->buffer])
                varies_at[ev->buffer] = i;
            if (cross && i < varies_at[child])
                varies_at[child] = i;
        }
    }
}

/* steps of the buffers in frozen before node at */
static int frozen_steps(const cg_program *p, int at, uint32_t frozen)
{
    int n = 0;
    for (int e = 0; e < p->node_events[at]; e++)
        n += frozen >> p->events[e].buffer & 1;
    return n;
}

void cg_program_checkpoint(const cg_graph *g, cg_program *prog, const uint64_t *bytes,
                           const int64_t *slope, const uint32_t alignment[CG_MAX_BUFFERS],
                           const cg_window *windows, int n_windows, int min_steps)
{
    cg_checkpoint *c = &prog->checkpoint;
    c->at_node = 0;
    c->frozen = 0;
    c->skipped = 0;
    if (!prog->valid)
        return;
    /* no window snapshots a mark before the walk starts: the latest start
     * is the first mark any window may snapshot (each one's, as if it came
     * first) */
    int limit = g->n_nodes;
    const window_walk ww = {.win = windows, .last_mark = -1};
    for (int w = 0; w < n_windows && w < CG_MAX_WINDOWS; w++) {
        const int first = window_first_mark(g, &ww, w);
        if (first >= 0 && g->layer_start[first] < limit)
            limit = g->layer_start[first];
    }
    if (limit < 0)
        return;
    int varies_at[CG_MAX_BUFFERS];
    first_varying(g, prog, slope, limit, varies_at);
    /* the start that skips the most: limit, or where a buffer stops being frozen */
    int best_at = 0, best_steps = 0;
    uint32_t best_frozen = 0;
    for (int k = -1; k < g->n_buffers; k++) {
        const int at = k < 0 ? limit : varies_at[k];
        if (at <= 0)
            continue;
        uint32_t frozen = 0;
        for (int b = 0; b < g->n_buffers; b++)
            if (varies_at[b] >= at)
                frozen |= 1u << b;
        const int steps = frozen_steps(prog, at, frozen);
        if (steps > best_steps) {
            best_at = at;
            best_steps = steps;
            best_frozen = frozen;
        }
    }
    if (best_steps < min_steps || best_steps == 0)
        return;
    /* run the steps before it, then keep the frozen buffers' state */
    replay r;
    r.g = g;
    r.rec = NULL;
    r.prog = prog;
    r.prog_bytes = bytes;
    replay_init(&r, alignment);
    program_events(&r, 0, prog->node_events[best_at]);
    for (int b = 0; b < g->n_buffers; b++) {
        if (!(best_frozen >> b & 1))
            continue;
        const talloc *t = &r.alloc[b];
        cg_checkpoint_buffer *cb = &c->buffers[b];
        cb->n_blocks = t->n_blocks;
        for (int i = 0; i < t->n_blocks; i++) {
            cb->offset[i] = t->blocks[i].offset;
            cb->size[i] = t->blocks[i].size;
        }
        cb->max_size = t->max_size;
        cb->irregular = t->irregular;
    }
    /* the frozen buffers' tensors still allocated there, and where */
    uint8_t allocated[CG_MAX_NODES];
    memset(allocated, 0, sizeof allocated[0] * (size_t)g->n_nodes);
    for (int e = 0; e < prog->node_events[best_at]; e++)
        mark_allocated(allocated, &prog->events[e]);
    c->n_live = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (!allocated[i] || !(best_frozen >> g->nodes[i].buffer & 1))
            continue;
        if (c->n_live == CG_CHECKPOINT_LIVE)
            return; /* no checkpoint (at_node still 0) */
        c->live[c->n_live] = (int16_t)i;
        c->live_offset[c->n_live++] = r.offset[i];
    }
    c->frozen = best_frozen;
    c->skipped = best_steps;
    c->at_node = best_at;
}

void cg_replay_program(const cg_graph *g, const cg_program *prog, const uint64_t *bytes,
                       const uint32_t alignment[CG_MAX_BUFFERS], const cg_window *windows,
                       int n_windows, cg_alloc_result *res)
{
    replay r;
    r.g = g;
    r.rec = NULL;
    r.prog = prog;
    r.prog_bytes = bytes;
    replay_result(&r, run_replay(&r, alignment, windows, n_windows, res->lag), res);
}
