/* The body of the ggml-alloc replay (see galloc.c for the facts it
 * reproduces), written once over a size type SZ: galloc.c instantiates it
 * with plain byte counts, galloc_param.c with sizes linear in the KV cells
 * (see there). The includer defines SZ, SZ_OF(r, node), SZ_ZERO,
 * SZ_CONST(v), SZ_SEPARATOR, SZ_ADD, SZ_SUB, SZ_ALIGN(r, x, a), the
 * comparisons SZ_EQ / SZ_LT / SZ_LE / SZ_GT / SZ_GE (r, x, y), SAME_SNAPSHOT,
 * LAYOUT_EQ(r, node, node) and REPLAY_EXTRA (its own fields of the replay
 * state); SZ_PLAIN when sizes are plain numbers (comparisons free of side
 * effects, so a search may stop early). Optional: REPLAY_PROGRAM, a
 * replay run from a record of its steps when r->prog is set (cg_program;
 * REPLAY_EXTRA then holds `const cg_program *prog`); RECORD_ALLOC,
 * RECORD_INPLACE, RECORD_FREE, RECORD_NODE to make such a record
 * (galloc_program.c); REPLAY_STOP(r), true to give up before the next step
 * (galloc_param.c). */
#ifndef RECORD_ALLOC
#define RECORD_ALLOC(r, id) ((void)0)
#define RECORD_INPLACE(r, id, h) ((void)0)
#define RECORD_FREE(r, id) ((void)0)
#define RECORD_NODE(r, i) ((void)0)
#endif
#ifndef REPLAY_STOP
#define REPLAY_STOP(r) false
#endif
#ifdef REPLAY_PROGRAM
typedef struct snapshot snapshot;
typedef struct replay replay;
static void program_snapshot(replay *r, int x, snapshot *sn);
#define TAKE_SNAPSHOT(r, x, sn) \
    ((r)->prog ? program_snapshot((r), (x), (sn)) : take_snapshot((r), (r)->g->layer_start[x], (sn)))
#else
#define TAKE_SNAPSHOT(r, x, sn) take_snapshot((r), (r)->g->layer_start[x], (sn))
#endif
#define MAX_FREE_BLOCKS 64 /* ggml: 256; these graphs keep a handful */
_Static_assert(MAX_FREE_BLOCKS == CG_CHECKPOINT_BLOCKS, "a checkpoint holds every block");
#define HUGE_BLOCK ((uint64_t)1 << 62)

typedef struct fblock { SZ offset, size; } fblock;

typedef struct replay replay;

typedef struct talloc {
    fblock blocks[MAX_FREE_BLOCKS];
    int n_blocks;
    SZ max_size;
    uint64_t alignment;
    replay *r; /* for the comparisons of the parametric replay */
    /* the blocks may overlap or be empty, and then fall out of offset
     * order: freeing zero bytes, or memory another buffer gave (a node in
     * place over a source of another buffer), can put a block inside
     * another. ggml's searches do not care; the plain replay's shortcut in
     * talloc_free needs the list sorted and disjoint. */
    bool irregular;
} talloc;

/* Each node's pending readers and whether it holds memory, in one word so
 * that "last reader gone and still allocated" is a single compare. Bits
 * 0-15 count every reader, bits 16-30 those through a view, bit 31 is
 * ggml's "allocated": so "no children and no views" is 0 in both fields,
 * and "one child, no views" (in-place reuse) is 1 in the low field and 0
 * in the high one. A node has at most CG_MAX_SRC slots in each of
 * CG_MAX_NODES readers, so neither count can carry into the next field.
 * The offset lives apart (read only while allocated): the words are all
 * that is cleared per replay. */
#define ST_CHILD 1u
#define ST_VIEW ((1u << 16) | 1u)
#define ST_ALLOCATED (1u << 31)
_Static_assert(CG_MAX_SRC * CG_MAX_NODES < (1 << 15), "reader counts fit their fields");
_Static_assert(CG_VIA_VIEW == (1 << 14), "st_unit moves bit 14 of a handle to bit 16");

/* what a reader through handle h adds to its root's word: ST_VIEW through a
 * view, ST_CHILD otherwise (branch-free) */
static inline uint32_t st_unit(int16_t h)
{
    return (((uint32_t)h & (uint32_t)CG_VIA_VIEW) << 2) | ST_CHILD;
}

/* The shifts move a handful of blocks: the empty asm hides the index from
 * the compiler, which would otherwise make each shift a library memmove
 * call costing more than the copy. */
static void remove_block(talloc *t, int idx)
{
    for (int i = idx; i < t->n_blocks - 1; i++) {
        __asm__("" : "+r"(i));
        t->blocks[i] = t->blocks[i + 1];
    }
    t->n_blocks--;
}

static void insert_at(talloc *t, int pos, SZ offset, SZ size)
{
    if (t->n_blocks >= MAX_FREE_BLOCKS)
        return; /* ggml aborts here; a graph of this model never gets near it */
    for (int i = t->n_blocks; i > pos; i--) {
        __asm__("" : "+r"(i));
        t->blocks[i] = t->blocks[i - 1];
    }
    t->blocks[pos].offset = offset;
    t->blocks[pos].size = size;
    t->n_blocks++;
}

/* the first block that does not start before offset */
static int block_at_or_after(talloc *t, SZ offset)
{
    int pos = 0;
    while (pos < t->n_blocks && SZ_LT(t->r, t->blocks[pos].offset, offset))
        pos++;
    return pos;
}

static SZ talloc_alloc(talloc *t, SZ size)
{
    replay *r = t->r;
    (void)r;
    size = SZ_ALIGN(r, size, t->alignment);
    int best = -1;
    for (int i = 0; i < t->n_blocks - 1; i++) {
        if (SZ_GE(r, t->blocks[i].size, size) &&
            (best < 0 || SZ_LE(r, t->blocks[i].size, t->blocks[best].size)))
            best = i;
    }
    if (best < 0)
        best = t->n_blocks - 1; /* the open end: always large enough */
    fblock *b = &t->blocks[best];
    SZ addr = b->offset;
    b->offset = SZ_ADD(b->offset, size);
    b->size = SZ_SUB(b->size, size);
    if (SZ_EQ(r, b->size, SZ_ZERO))
        remove_block(t, best);
    const SZ end = SZ_ADD(addr, size);
    if (SZ_GT(r, end, t->max_size))
        t->max_size = end;
    return addr;
}

static void talloc_free(talloc *t, SZ offset, SZ size)
{
    replay *r = t->r;
    (void)r;
    size = SZ_ALIGN(r, size, t->alignment);
    t->irregular |= SZ_EQ(r, size, SZ_ZERO);
    if (!t->irregular) {
        /* sorted and disjoint: no block starts at offset, every block before
         * the one before the freed range ends before it, every one after the
         * one after starts past its end. So ggml's first match is the block
         * before (ending at offset), else the one after (starting at the
         * end; the one before does not end at offset), else none: insert.
         * With sizes linear in u the same holds at every u of the range:
         * each u's list is a regular one, its pos the same (the compares
         * that found it narrowed the range), so only those two blocks'
         * compares can steer the step and only they need to narrow it. */
        const int pos = block_at_or_after(t, offset);
        if (pos > 0 && SZ_EQ(r, SZ_ADD(t->blocks[pos - 1].offset, t->blocks[pos - 1].size), offset)) {
            fblock *b = &t->blocks[pos - 1];
            b->size = SZ_ADD(b->size, size);
            if (pos < t->n_blocks && SZ_EQ(r, SZ_ADD(b->offset, b->size), t->blocks[pos].offset)) {
                b->size = SZ_ADD(b->size, t->blocks[pos].size);
                remove_block(t, pos);
            }
        } else if (pos < t->n_blocks && SZ_EQ(r, SZ_ADD(offset, size), t->blocks[pos].offset)) {
            t->blocks[pos].offset = offset;
            t->blocks[pos].size = SZ_ADD(t->blocks[pos].size, size);
        } else {
            insert_at(t, pos, offset, size);
        }
        return;
    }
    for (int i = 0; i < t->n_blocks; i++) {
        fblock *b = &t->blocks[i];
        if (SZ_EQ(r, SZ_ADD(b->offset, b->size), offset)) {
            b->size = SZ_ADD(b->size, size);
            if (i < t->n_blocks - 1 &&
                SZ_EQ(r, SZ_ADD(b->offset, b->size), t->blocks[i + 1].offset)) {
                b->size = SZ_ADD(b->size, t->blocks[i + 1].size);
                remove_block(t, i + 1);
            }
            return;
        }
        if (SZ_EQ(r, SZ_ADD(offset, size), b->offset)) {
            b->offset = offset;
            b->size = SZ_ADD(b->size, size);
            if (i > 0 && SZ_EQ(r, SZ_ADD(t->blocks[i - 1].offset, t->blocks[i - 1].size), b->offset)) {
                t->blocks[i - 1].size = SZ_ADD(t->blocks[i - 1].size, b->size);
                remove_block(t, i);
            }
            return;
        }
    }
    insert_at(t, block_at_or_after(t, offset), offset, size);
}

struct replay {
    const cg_graph *g;
    talloc alloc[CG_MAX_BUFFERS];
    uint32_t st[CG_MAX_NODES]; /* ST_* word of each node */
    SZ offset[CG_MAX_NODES];   /* where each allocated node sits */
    /* the live tensors a snapshot listed, in node order, and its mark
     * (live_ok false: none kept, the next one looks at every node) */
    int16_t live[128];
    int n_live, live_upto;
    bool live_ok;
    REPLAY_EXTRA
};

/* ggml_gallocr_allocate_node for a node that is not yet allocated and owns
 * memory (callers check both); inlined: it runs for most nodes */
static inline __attribute__((always_inline)) void allocate_node(replay *r, int16_t id)
{
    const cg_node *n = &r->g->nodes[id];
    r->st[id] |= ST_ALLOCATED;
    if (n->flags & CG_FLAG_INPLACE) {
        for (int i = 0; i < n->n_src; i++) {
            const int16_t h = n->src[i];
            if (h & CG_VIA_VIEW) /* a view is never owned */
                continue;
            const cg_node *pn = &r->g->nodes[h];
            const uint32_t ps = r->st[h];
            if (!(ps & ST_ALLOCATED))
                continue;
            if (pn->flags & CG_FLAG_OUTPUT)
                continue;
            if (!LAYOUT_EQ(r, h, id))
                continue;
            if (ps == (ST_ALLOCATED | ST_CHILD)) { /* one reader (this node), not a view */
                RECORD_INPLACE(r, id, h);
                r->offset[id] = r->offset[h];
                if (pn->buffer != n->buffer) /* freed later into its own buffer */
                    r->alloc[n->buffer].irregular = true;
                r->st[h] = ps & ~ST_ALLOCATED; /* the node owns the memory now */
                const uint64_t a = r->alloc[pn->buffer].alignment;
                const SZ psz = SZ_ALIGN(r, SZ_OF(r, h), a), nsz = SZ_ALIGN(r, SZ_OF(r, id), a);
                if (SZ_GT(r, psz, nsz))
                    talloc_free(&r->alloc[pn->buffer], SZ_ADD(r->offset[h], nsz), SZ_SUB(psz, nsz));
                return;
            }
        }
    }
    RECORD_ALLOC(r, id);
    r->offset[id] = talloc_alloc(&r->alloc[n->buffer], SZ_OF(r, id));
}

static void free_node(replay *r, int16_t id)
{
    const cg_node *n = &r->g->nodes[id];
    if (n->flags & CG_FLAG_OUTPUT)
        return;
    RECORD_FREE(r, id);
    talloc_free(&r->alloc[n->buffer], r->offset[id], SZ_OF(r, id));
    r->st[id] &= ~ST_ALLOCATED;
}

/* The allocator state that decides everything after a layer boundary:
 * each buffer's free blocks and where the live non-input tensors sit.
 * (max_size is left out: with a single chunk it never steers a choice.) */
typedef struct snapshot {
    SZ words[2 * MAX_FREE_BLOCKS + 128];
    int n; /* -1: not taken; -2: did not fit (never equal to anything) */
} snapshot;

#define SNAPSHOT_WORDS ((int)(sizeof((snapshot *)0)->words / sizeof((snapshot *)0)->words[0]))

/* a snapshot's first part: every buffer's free blocks (false: no room,
 * sn->n is -2) */
static bool snapshot_blocks(const replay *r, snapshot *sn)
{
    sn->n = 0;
    for (int b = 0; b < r->g->n_buffers; b++) {
        const talloc *t = &r->alloc[b];
        if (sn->n + 2 * t->n_blocks + 1 > SNAPSHOT_WORDS) {
            sn->n = -2;
            return false;
        }
        for (int i = 0; i < t->n_blocks; i++) {
            sn->words[sn->n++] = t->blocks[i].offset;
            sn->words[sn->n++] = t->blocks[i].size;
        }
        sn->words[sn->n++] = SZ_SEPARATOR;
    }
    return true;
}

static void take_snapshot(replay *r, int upto, snapshot *sn)
{
    if (!snapshot_blocks(r, sn))
        return;
    const int cap = SNAPSHOT_WORDS;
    /* a live tensor (allocated, neither leaf nor output), in node order:
     * where it sits and how big it is. Those before the previous snapshot's
     * mark were live at it (the walk allocates only the node it is at: a
     * walked node that was not live then never is again), so they are the
     * ones it listed that are still allocated; then the nodes walked since. */
    _Static_assert(sizeof r->live / sizeof r->live[0] * 2 >= sizeof sn->words / sizeof sn->words[0],
                   "more live tensors than the list holds never fit a snapshot");
    const int room = (int)(sizeof r->live / sizeof r->live[0]);
    int kept = 0;
    for (int j = 0; r->live_ok && j < r->n_live; j++)
        if (r->st[r->live[j]] & ST_ALLOCATED)
            r->live[kept++] = r->live[j];
    for (int i = r->live_ok ? r->live_upto : 0; i < upto; i++) {
        const cg_node *n = &r->g->nodes[i];
        if ((r->st[i] & ST_ALLOCATED) && !(n->flags & CG_FLAG_LEAF) && !(n->flags & CG_FLAG_OUTPUT)) {
            if (kept == room) {
                r->live_ok = false;
                sn->n = -2;
                return;
            }
            r->live[kept++] = (int16_t)i;
        }
    }
    r->n_live = kept;
    r->live_upto = upto;
    r->live_ok = true;
    if (sn->n + 2 * kept > cap) {
        sn->n = -2;
        return;
    }
    for (int j = 0; j < kept; j++) {
        sn->words[sn->n++] = r->offset[r->live[j]];
        sn->words[sn->n++] = SZ_OF(r, r->live[j]);
    }
}

/* One node of the graph walk: allocate it, then release the sources it
 * was the last reader of. */
static inline __attribute__((always_inline)) void replay_node(replay *r, int i)
{
    const cg_node *n = &r->g->nodes[i];
    if (n->flags & (CG_FLAG_LEAF | CG_FLAG_NOALLOC | CG_FLAG_EXTERNAL)) {
        if (n->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL))
            return;
    } else if (!(r->st[i] & ST_ALLOCATED)) {
        allocate_node(r, (int16_t)i);
    }
    for (int j = 0; j < n->n_src; j++) {
        const int16_t h = n->src[j];
        const int16_t p = CG_ROOT(h);
        /* the last reader of an allocated source: no reader of either kind left */
        if ((r->st[p] -= st_unit(h)) == ST_ALLOCATED)
            free_node(r, p);
    }
}

/* Where the replay is in its windows (cg_window): the window it checks
 * now and the next mark to snapshot. Snapshots sit in a ring indexed by
 * mark: a compare reaches back at most CG_MAX_LOOKBACK marks. */
#define SNAP_RING (CG_MAX_LOOKBACK + 1)
typedef struct window_walk {
    const cg_window *win;
    int n_win, w;    /* windows, the current one */
    int x;           /* the next mark to snapshot (-1: no window left) */
    int last_mark;   /* the last mark snapshotted (windows must come after it) */
    int ring_mark[SNAP_RING];
    uint32_t failed;
    uint8_t *lag;    /* the L that settled each window */
} window_walk;

/* the first mark window w needs, or -1 when it cannot be checked (bad or
 * out of order: it stays failed) */
static int window_first_mark(const cg_graph *g, const window_walk *ww, int w)
{
    const cg_window *v = &ww->win[w];
    const int back = v->max_lag * v->period;
    if (v->period < 1 || v->max_lag < 1 || back > CG_MAX_LOOKBACK || v->base < 0 ||
        v->lo < v->base || v->hi < v->lo || v->hi >= g->n_layer_marks)
        return -1;
    const int first = v->lo - back > v->base ? v->lo - back : v->base;
    return first > ww->last_mark ? first : -1;
}

/* move to the first checkable window from w on */
static void window_next(const cg_graph *g, window_walk *ww, int w)
{
    ww->x = -1;
    for (ww->w = w; ww->w < ww->n_win; ww->w++) {
        const int first = window_first_mark(g, ww, ww->w);
        if (first >= 0) {
            ww->x = first;
            return;
        }
    }
}

static bool same_state(replay *r, const snapshot *a, const snapshot *b)
{
    (void)r;
    return a->n >= 0 && b->n >= 0 && a->n == b->n && SAME_SNAPSHOT(r, a, b);
}

/* at mark ww->x: snapshot, compare, advance */
static void window_mark(replay *r, window_walk *ww, snapshot *ring)
{
    const cg_window *v = &ww->win[ww->w];
    const int x = ww->x, slot = x % SNAP_RING;
    TAKE_SNAPSHOT(r, x, &ring[slot]);
    ww->ring_mark[slot] = x;
    ww->last_mark = x;
    int settled = 0;
    for (int lag = 1; x >= v->lo && lag <= v->max_lag && !settled; lag++) {
        const int y = x - lag * v->period, ys = y % SNAP_RING;
        if (y >= v->base && ww->ring_mark[ys] == y && same_state(r, &ring[ys], &ring[slot]))
            settled = lag;
    }
    if (settled) {
        ww->failed &= ~(1u << ww->w);
        ww->lag[ww->w] = (uint8_t)settled;
    }
    if (settled || x == v->hi)
        window_next(r->g, ww, ww->w + 1);
    else
        ww->x = x + 1;
}

#ifdef REPLAY_PROGRAM
#ifndef PROGRAM_SZ
#define PROGRAM_SZ(r, id) SZ_OF(r, id) /* a run's sizes */
#endif
/* One event of r->prog: allocate_node's or free_node's step as recorded,
 * with this replay's sizes. */
static inline __attribute__((always_inline)) void program_event(replay *r, const cg_event *ev)
{
    const int16_t id = ev->node;
    talloc *t = &r->alloc[ev->buffer];
    if (ev->kind == CG_EV_ALLOC) {
        r->offset[id] = talloc_alloc(t, PROGRAM_SZ(r, id));
    } else if (ev->kind == CG_EV_FREE) {
        talloc_free(t, r->offset[id], PROGRAM_SZ(r, id));
    } else { /* allocate_node's in-place branch, over parent h in buffer t */
        const int16_t h = ev->parent;
        const uint8_t buf = r->g->nodes[id].buffer;
        r->offset[id] = r->offset[h];
        if (buf != ev->buffer)
            r->alloc[buf].irregular = true;
        const SZ psz = SZ_ALIGN(r, PROGRAM_SZ(r, h), t->alignment);
        const SZ nsz = SZ_ALIGN(r, PROGRAM_SZ(r, id), t->alignment);
        if (SZ_GT(r, psz, nsz))
            talloc_free(t, SZ_ADD(r->offset[h], nsz), SZ_SUB(psz, nsz));
    }
}

/* Events [from, to) of r->prog. True: REPLAY_STOP gave up. */
static bool program_events(replay *r, int from, int to)
{
    const cg_event *ev = r->prog->events;
    for (int e = from; e < to; e++) {
        if (REPLAY_STOP(r))
            return true;
        program_event(r, &ev[e]);
    }
    return false;
}

/* The start of a run from r->prog: the leafs' steps, or with a checkpoint
 * the frozen buffers' state there and the other buffers' steps before it.
 * Returns the node the walk goes on from. */
static int program_start(replay *r)
{
    const cg_program *p = r->prog;
    const cg_checkpoint *c = &p->checkpoint;
    if (c->at_node <= 0) {
        program_events(r, 0, p->node_events[0]);
        return 0;
    }
    for (int b = 0; b < r->g->n_buffers; b++) {
        if (!(c->frozen >> b & 1))
            continue;
        talloc *t = &r->alloc[b];
        const cg_checkpoint_buffer *cb = &c->buffers[b];
        t->n_blocks = cb->n_blocks;
        for (int i = 0; i < cb->n_blocks; i++) {
            t->blocks[i].offset = SZ_CONST(cb->offset[i]);
            t->blocks[i].size = SZ_CONST(cb->size[i]);
        }
        t->max_size = SZ_CONST(cb->max_size);
        t->irregular = cb->irregular;
    }
    for (int j = 0; j < c->n_live; j++)
        r->offset[c->live[j]] = SZ_CONST(c->live_offset[j]);
    const cg_event *ev = p->events;
    for (int e = 0; e < p->node_events[c->at_node]; e++) {
        if (c->frozen >> ev[e].buffer & 1)
            continue;
        if (REPLAY_STOP(r))
            break; /* the walk's first step stops too */
        program_event(r, &ev[e]);
    }
    return c->at_node;
}

/* take_snapshot at mark x from the record's live list */
static void program_snapshot(replay *r, int x, snapshot *sn)
{
    if (!snapshot_blocks(r, sn))
        return;
    const cg_program *p = r->prog;
    const int from = p->mark_live[x], to = p->mark_live[x + 1];
    const int room = (int)(sizeof r->live / sizeof r->live[0]); /* as take_snapshot's */
    if (to - from > room || sn->n + 2 * (to - from) > SNAPSHOT_WORDS) {
        sn->n = -2;
        return;
    }
    for (int j = from; j < to; j++) {
        sn->words[sn->n++] = r->offset[p->live[j]];
        sn->words[sn->n++] = PROGRAM_SZ(r, p->live[j]);
    }
}
#endif

#ifdef SZ_PLAIN
/* a plain replay's result: the windows' outcome (run_replay's) and peaks */
static void replay_result(const replay *r, uint32_t failed_checks, cg_alloc_result *res)
{
    res->failed_checks = failed_checks;
    res->periodic_ok = failed_checks == 0;
    for (int b = 0; b < CG_MAX_BUFFERS; b++)
        res->peak[b] = b < r->g->n_buffers ? r->alloc[b].max_size : 0;
}
#endif

/* Every buffer empty: one open block */
static void replay_init(replay *r, const uint32_t alignment[CG_MAX_BUFFERS])
{
    for (int b = 0; b < r->g->n_buffers; b++) {
        r->alloc[b].n_blocks = 1;
        r->alloc[b].blocks[0].offset = SZ_ZERO;
        r->alloc[b].blocks[0].size = SZ_CONST(HUGE_BLOCK);
        r->alloc[b].max_size = SZ_ZERO;
        r->alloc[b].alignment = alignment[b] ? alignment[b] : 32u;
        r->alloc[b].r = r;
        r->alloc[b].irregular = false;
    }
    r->n_live = 0;
    r->live_upto = 0;
    r->live_ok = true;
}

/* Leafs first (in discovery order), then every reader counted (a consumer
 * through a view counts as a view); graph inputs that are nodes (pipeline
 * copies) are allocated on the way; a graph without them skips the test. */
static void replay_prologue(replay *r)
{
    const cg_graph *g = r->g;
    memset(r->st, 0, sizeof r->st[0] * (size_t)g->n_nodes);
    for (int i = 0; i < g->n_leafs; i++)
        if (!(r->st[g->leafs[i]] & ST_ALLOCATED))
            allocate_node(r, g->leafs[i]);
    const bool input_nodes = g->input_nodes;
    for (int i = 0; i < g->n_nodes; i++) {
        const cg_node *n = &g->nodes[i];
        if (input_nodes && (n->flags & (CG_FLAG_INPUT | CG_FLAG_LEAF)) == CG_FLAG_INPUT &&
            !(r->st[i] & ST_ALLOCATED))
            allocate_node(r, (int16_t)i);
        for (int j = 0; j < n->n_src; j++)
            r->st[CG_ROOT(n->src[j])] += st_unit(n->src[j]);
    }
}

/* The replay itself; r->g and the REPLAY_EXTRA fields are set by the caller.
 * Returns the windows that found no equal pair, bit w for window w (0:
 * every one settled), and in lag[w] the L that settled window w; peaks in
 * r->alloc[b].max_size. */
static uint32_t run_replay(replay *r, const uint32_t alignment[CG_MAX_BUFFERS],
                           const cg_window *windows, int n_windows, uint8_t lag[CG_MAX_WINDOWS])
{
    const cg_graph *g = r->g;
    replay_init(r, alignment);
    int start = 0;
#ifdef REPLAY_PROGRAM
    if (r->prog)
        start = program_start(r);
    else
#endif
        replay_prologue(r);

    window_walk ww;
    snapshot ring[SNAP_RING];
    if (n_windows > CG_MAX_WINDOWS)
        n_windows = CG_MAX_WINDOWS;
    ww.win = windows;
    ww.n_win = n_windows > 0 ? n_windows : 0;
    ww.failed = n_windows > 0 ? (uint32_t)((1ull << n_windows) - 1) : 0;
    ww.last_mark = -1;
    ww.lag = lag;
    memset(lag, 0, CG_MAX_WINDOWS);
    for (int k = 0; k < SNAP_RING; k++)
        ww.ring_mark[k] = -1;
    window_next(g, &ww, 0);

    for (int i = start;;) {
        /* the marks due here (several when a layer emitted nothing) */
        while (ww.x >= 0 && g->layer_start[ww.x] <= i) {
            if (g->layer_start[ww.x] < i) /* marks out of node order: unchecked */
                window_next(g, &ww, ww.w + 1);
            else
                window_mark(r, &ww, ring);
        }
        if (i >= g->n_nodes)
            break;
        /* the nodes up to the next snapshot (or the end) */
        const int stop = ww.x >= 0 && g->layer_start[ww.x] < g->n_nodes ? g->layer_start[ww.x]
                                                                           : g->n_nodes;
#ifdef REPLAY_PROGRAM
        if (r->prog) {
            if (program_events(r, r->prog->node_events[i], r->prog->node_events[stop]))
                return ww.failed;
            i = stop;
            continue;
        }
#endif
        for (; i < stop; i++) {
            if (REPLAY_STOP(r))
                return ww.failed;
            RECORD_NODE(r, i);
            replay_node(r, i);
        }
    }
    return ww.failed;
}
