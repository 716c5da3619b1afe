/* A tiny op-level model of a ggml compute graph: just what ggml-alloc looks
 * at when it packs a graph (sizes, sources, views, in-place eligibility,
 * input / output flags, the backend buffer each node lands in).
 *
 * Weights and KV-cache tensors already have memory (they are "external"), so
 * they never enter the model: ggml-alloc skips them for allocation and for
 * in-place reuse alike, and views of them allocate nothing. */
#ifndef HR_COMPUTE_CGRAPH_H
#define HR_COMPUTE_CGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_MAX_SRC 4
/* Room for the whole graph of the largest models when their layers cannot be
 * truncated (partial offload of a 126-layer model: ~40 nodes and copies per
 * layer). The graphs are on the heap; the replay's state (~180 KiB) is on
 * the stack. */
#define CG_MAX_NODES 6144
#define CG_MAX_LAYER_MARKS 256
#define CG_MAX_BUFFERS 9 /* = HR_MAX_DEVICES */
#define CG_NONE ((int16_t)-1)
/* Tensor sizes saturate here (256 TiB): with at most CG_MAX_NODES of them no
 * sum or offset in the replay can overflow 64 bits. */
#define CG_TOO_BIG ((uint64_t)1 << 48)

/* element types of activations (bytes per element, or block layout) */
typedef enum cg_type { CG_F32 = 0, CG_F16, CG_I32, CG_I64, CG_Q8_0, CG_Q4_0 } cg_type;

enum cg_flags {
    CG_FLAG_INPUT = 1,    /* ggml_set_input: allocated before every node */
    CG_FLAG_OUTPUT = 2,   /* ggml_set_output: never freed, never reused in place */
    CG_FLAG_FREE = 8,     /* backend not fixed by the op: the scheduler's expansion
                             passes choose it (cg_assign_backends) */
    CG_FLAG_INPLACE = 4,  /* op is in ggml_op_can_inplace() */
    CG_FLAG_NOALLOC = 16, /* a node whose memory is external (set_rows into the cache) */
    CG_FLAG_LEAF = 32,    /* an input leaf (op NONE) */
    CG_FLAG_FIXED = 64,   /* size does not scale with the batch's tokens */
    CG_FLAG_EXTERNAL = 128, /* memory outside the compute buffers (a weight, the KV
                              cache): only matters when read from another backend */
    CG_FLAG_SCHED = 256    /* a node the scheduler adds when it splits the graph (a
                              split input's copy, its dependency) that a builder emits
                              itself, as a pair (the dependency, a NOALLOC reader of
                              the source, then the copy): not in the graph the backend
                              passes see; cg_split_copies moves the pair among the
                              inputs of the split that first reads the copy */
};

typedef struct cg_node {
    uint64_t bytes;            /* ggml_nbytes (0 for views) */
    uint32_t layout;           /* same-layout key for in-place reuse (type, ne, nb) */
    int16_t src[CG_MAX_SRC];   /* allocatable sources, CG_NONE-terminated (n_src of them) */
    uint16_t flags;
    uint8_t buffer;            /* index of the backend buffer it is allocated in */
    uint8_t n_src;
} cg_node;

typedef struct cg_graph {
    cg_node nodes[CG_MAX_NODES];
    int n_nodes;
    int16_t leafs[64];         /* input leafs in ggml's discovery order, which is
                                  node order (indices ascending: sub_leafs in
                                  compute.c reads it so) */
    int n_leafs;
    bool overflow;             /* ran out of room: the result is a lower bound */
    bool too_big;              /* a tensor reached CG_TOO_BIG */
    int bad_attention;         /* the first layer whose attention shape no model
                                  has (build.c: attn_in_range), -1: none */
    uint8_t cur_buffer;        /* buffer of the nodes being emitted */
    uint8_t n_buffers;         /* highest buffer index used + 1 */
    bool free_mode;            /* nodes pushed now have no fixed backend */
    bool any_free;             /* free_mode was on: cg_assign_backends has work */
    bool input_nodes;          /* may hold non-leaf nodes flagged CG_FLAG_INPUT
                                  (pipeline copies): the replay allocates them first */
    bool any_sched;            /* holds CG_FLAG_SCHED pairs (split.c places them) */
    /* emitted-layer boundaries: node index where each emitted layer begins */
    int16_t layer_start[CG_MAX_LAYER_MARKS];
    int16_t layer_index[CG_MAX_LAYER_MARKS];
    int n_layer_marks;
} cg_graph;

void cg_init(cg_graph *g);


/* An input leaf (op NONE, ggml_set_input): cg_input, with the emitters
 * below. */

/* A computed node (cg_op, defined below): inplace: op is in
 * ggml_op_can_inplace; permuted marks a non-contiguous result (no in-place
 * reuse against a contiguous parent). */

/* A view of src (reshape, view, permute, transpose). Views are not nodes
 * here: the returned handle is the root tensor with CG_VIA_VIEW set, and an
 * op reading it reads the root "through a view". ggml-alloc's rules for
 * views reduce to that: a view is never owned, so a consumer of a view never
 * takes the root over in place; the root stays alive while any consumer of
 * any of its views is pending, and counts as having views until then.
 * src may be CG_NONE (view of an external tensor): CG_NONE is returned. */
#define CG_VIA_VIEW ((int16_t)0x4000)
#define CG_ROOT(h) ((int16_t)((h) & 0x3fff))
static inline int16_t cg_view(cg_graph *g, int16_t src, cg_type type, int64_t ne0, int64_t ne1,
                              int64_t ne2, int64_t ne3, bool permuted);

/* A node writing into external memory (ggml_set_rows into the KV cache): a
 * consumer of its sources that allocates nothing. */
static inline void cg_sink(cg_graph *g, int16_t s0, int16_t s1, int16_t s2);

static inline void cg_mark_output(cg_graph *g, int16_t t);

/* A tensor with memory of its own (weights, KV cache) on a buffer: never
 * allocated here; a reader on another backend gets a copy. kind tells the
 * scheduler's first pass what the op reading it does (CG_EXT_*). */
enum { CG_EXT_KV = 0, CG_EXT_WEIGHT_HOST = 1, CG_EXT_WEIGHT_REPACKED = 2,
       CG_EXT_WEIGHT_VIEW = 3 /* a reshape of a host weight: before the graph is
                                 allocated it has no buffer, so the scheduler sees no
                                 weight in it (no placement, no new split); read from
                                 the GPU it is copied like any tensor */ };
/* the scheduler places the reader of this external by it (a weight) */
static inline bool cg_ext_is_weight(uint32_t kind)
{
    return kind == CG_EXT_WEIGHT_HOST || kind == CG_EXT_WEIGHT_REPACKED;
}
static inline int16_t cg_external(cg_graph *g, uint64_t bytes, uint8_t buffer, uint32_t kind);

/* ggml_backend_sched_split_graph's backend choice for the nodes flagged
 * CG_FLAG_FREE: a reader of a host weight moves to the first GPU (op
 * offload), of a CPU-repacked weight stays on the host; the rest follow
 * their neighbours (expand GPU down, up, then any backend down, up). */
void cg_assign_backends(cg_graph *g, uint8_t gpu_buffer);
static inline void cg_set_free_mode(cg_graph *g, bool on)
{
    g->free_mode = on;
    g->any_free = g->any_free || on;
}
static inline void cg_mark_layer(cg_graph *g, int il);

/* shape of a node as the builders need it back */
typedef struct cg_shape { int64_t ne[4]; cg_type type; } cg_shape;

/* ---- the scheduler's graph copy (ggml_backend_sched_split_graph) ----
 * Nodes run in splits: runs of consecutive nodes on one backend. A node
 * reading a tensor of another backend reads a copy in its own backend's
 * buffer, made once per (tensor, backend) and allocated at the start of the
 * split that first needs it; the source gets a dependency view that is never
 * released, so it is never freed nor reused in place. Rewrites src into dst.
 * With pipeline parallelism (n_copies 4, several GPUs holding every layer)
 * each graph input is kept in n_copies copies allocated first, and every
 * copy is an input and an output: allocated up front, never freed. */
void cg_split_copies(const cg_graph *src, cg_graph *dst, int n_copies);

/* ---- replay of ggml-alloc (ggml_gallocr_alloc_graph_impl) ---- */

/* A state check over one run of layers (compute.c says why equal states
 * make a truncated graph exact): as the replay reaches each layer mark x in
 * [lo, hi], it compares the allocator state there with the states at marks
 * x - L period for L = 1 .. max_lag (never below base; max_lag * period at
 * most CG_MAX_LOOKBACK). The first equal pair settles the window, and its L
 * is reported. Windows come in mark order, each after the one before
 * (hi < the next base); one out of order fails. */
#define CG_MAX_PERIOD 8
#define CG_MAX_LOOKBACK (2 * CG_MAX_PERIOD)
#define CG_MAX_WINDOWS 8
typedef struct cg_window {
    int16_t base, lo, hi;
    uint8_t period, max_lag;
} cg_window;

typedef struct cg_alloc_result {
    uint64_t peak[CG_MAX_BUFFERS]; /* max_size of each buffer's allocator */
    bool periodic_ok;              /* every window settled */
    uint32_t failed_checks;        /* bit w: window w found no equal pair */
    uint8_t lag[CG_MAX_WINDOWS];   /* the L that settled window w (0: none) */
} cg_alloc_result;

/* Replay the packing. alignment[b] per buffer; windows: the state checks. */
void cg_replay(const cg_graph *g, const uint32_t alignment[CG_MAX_BUFFERS],
               const cg_window *windows, int n_windows, cg_alloc_result *res);

/* A plain replay's steps, recorded once and run again at other sizes.
 * Which nodes are allocated, taken over in place and freed, and in what
 * order, depends only on the graph's structure and layout keys, never on
 * sizes: only the allocator's choice of block does. So a record of one
 * replay (its events, node by node, and the tensors live at each layer
 * mark) replays the same graph with any sizes for the same layout keys,
 * skipping the reader counts and the walk over sources. */
enum { CG_EV_ALLOC, CG_EV_INPLACE, CG_EV_FREE };
typedef struct cg_event {
    int16_t node, parent; /* parent: the source taken over in place */
    uint8_t kind, buffer; /* CG_EV_*; the buffer it allocates from or frees into */
} cg_event;
#define CG_PROGRAM_EVENTS (3 * CG_MAX_NODES)
#define CG_PROGRAM_LIVE 8192
/* A run may start its walk at a later node: the buffers whose steps before
 * it read no size that depends on u reach the same state at every u, kept
 * here (cg_program_checkpoint), and only the other buffers' steps before it
 * are run. */
#define CG_CHECKPOINT_BLOCKS 64 /* = the replay's free blocks per buffer */
#define CG_CHECKPOINT_LIVE 512
typedef struct cg_checkpoint_buffer {
    int n_blocks;
    bool irregular;
    uint64_t max_size;
    uint64_t offset[CG_CHECKPOINT_BLOCKS], size[CG_CHECKPOINT_BLOCKS];
} cg_checkpoint_buffer;
typedef struct cg_checkpoint {
    int at_node;             /* the node the walk goes on from (0: no checkpoint) */
    uint32_t frozen;         /* bit b: buffer b's state below, its steps before at_node skipped */
    int skipped;             /* those steps (for the tests) */
    cg_checkpoint_buffer buffers[CG_MAX_BUFFERS];
    int n_live;              /* the frozen buffers' tensors allocated at at_node */
    int16_t live[CG_CHECKPOINT_LIVE];
    uint64_t live_offset[CG_CHECKPOINT_LIVE];
} cg_checkpoint;
typedef struct cg_program {
    bool valid;                 /* false: recording ran out of room */
    int n_events;
    cg_event events[CG_PROGRAM_EVENTS];
    int32_t node_events[CG_MAX_NODES + 1]; /* first event of node i; before node 0: the leafs */
    int32_t mark_live[CG_MAX_LAYER_MARKS + 1]; /* the live tensors at mark x: live[mark_live[x] ..] */
    int16_t live[CG_PROGRAM_LIVE];
    cg_checkpoint checkpoint;
} cg_program;

/* cg_replay of g, recording its steps into prog (prog->valid false when
 * they do not fit). */
void cg_replay_record(const cg_graph *g, const uint32_t alignment[CG_MAX_BUFFERS],
                      const cg_window *windows, int n_windows, cg_alloc_result *res,
                      cg_program *prog);

/* The checkpoint of prog (a valid record of g) for the sizes bytes[i] +
 * slope[i] (u - u_bytes) (slope 0: the same at every u): the latest node
 * no window of windows snapshots before, among those where a buffer's
 * steps stop being the same at every u, that skips the most steps. None
 * where that skips fewer than min_steps. */
void cg_program_checkpoint(const cg_graph *g, cg_program *prog, const uint64_t *bytes,
                           const int64_t *slope, const uint32_t alignment[CG_MAX_BUFFERS],
                           const cg_window *windows, int n_windows, int min_steps);

/* cg_replay of a graph of g's structure and layout keys whose node i has
 * bytes[i] bytes, from prog (a valid record of g; from its checkpoint when
 * it has one, which must hold for these sizes and windows). */
void cg_replay_program(const cg_graph *g, const cg_program *prog, const uint64_t *bytes,
                       const uint32_t alignment[CG_MAX_BUFFERS], const cg_window *windows,
                       int n_windows, cg_alloc_result *res);

/* The same replay with sizes linear in u = KV cells / 256 (galloc_param.c):
 * g built at u_graph, g_next at u_graph + 1, otherwise the same graph.
 * Sizes are base + slope u; the replay runs at u0 (u_graph, or any other
 * point: a sweep replays one graph pair at each point its forms do not
 * cover) and the result holds, exactly, for every u in [lo, hi] (a
 * sub-range of the one given, always holding u0); valid is false when the
 * two graphs differ in more than sizes, or when u0 is not u_graph and an
 * in-place choice changed between the two graphs. */
typedef struct cg_form { int64_t a, b; } cg_form; /* a + b u */
typedef struct cg_param_result {
    bool valid;
    bool periodic_ok;
    uint32_t failed_checks; /* bit w: window w found no equal pair */
    uint8_t lag[CG_MAX_WINDOWS]; /* the L that settled window w (0: none) */
    int64_t lo, hi;
    cg_form peak[CG_MAX_BUFFERS];
    bool layout_moved; /* an in-place compare came out differently in the two graphs */
    bool narrow;       /* stopped: the range no longer held the reach (valid false) */
} cg_param_result;
/* reach_lo <= reach_hi: stop as soon as the range no longer holds [reach_lo,
 * reach_hi] (a caller that wants forms only when they cover the points it
 * will ask for next spares the rest of the replay); reach_lo > reach_hi:
 * never stop (CG_REACH_ANY). */
#define CG_REACH_ANY INT64_MAX, INT64_MIN
void cg_replay_param(const cg_graph *g, const cg_graph *g_next, int64_t u_graph, int64_t u0,
                     int64_t lo, int64_t hi, int64_t reach_lo, int64_t reach_hi,
                     const uint32_t alignment[CG_MAX_BUFFERS],
                     const cg_window *windows, int n_windows, cg_param_result *res);

/* The pair's sizes as base[i] + slope[i] u (g at u_graph, g_next a step
 * on); returns the last u before a size saturates, or -1 when the two
 * graphs differ in more than sizes. */
int64_t cg_param_sizes(const cg_graph *g, const cg_graph *g_next, int64_t u_graph, int64_t *base,
                       int64_t *slope);

/* cg_replay_param from prog, a record of g whose in-place compares come
 * out the same at every u (layout_moved false in a replay of the pair),
 * with its sizes from cg_param_sizes (hi at most the u it returned). */
void cg_replay_param_program(const cg_graph *g, const cg_program *prog, const int64_t *base,
                             const int64_t *slope, int64_t u0, int64_t lo, int64_t hi,
                             int64_t reach_lo, int64_t reach_hi,
                             const uint32_t alignment[CG_MAX_BUFFERS],
                             const cg_window *windows, int n_windows, cg_param_result *res);

/* Bytes of the tensors allocated by nodes [from, to), per buffer, added
 * into scaled[] (sizes proportional to the batch's tokens) or fixed[], and
 * their count: no packing can need more than every tensor side by side
 * (each padded to the alignment). */
void cg_sum_bytes(const cg_graph *g, int from, int to, uint64_t scaled[CG_MAX_BUFFERS],
                  uint64_t fixed[CG_MAX_BUFFERS], uint64_t count[CG_MAX_BUFFERS]);

/* A tensor whose size does not scale with the tokens (rotation matrices). */
static inline void cg_mark_fixed(cg_graph *g, int16_t t);

/* ---- emitting nodes: inline, this runs for every node of every graph ---- */

/* bytes of a tensor with this type and shape */
static inline uint64_t cg_nbytes(cg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3)
{
    if (ne0 < 0 || ne1 < 0 || ne2 < 0 || ne3 < 0)
        return CG_TOO_BIG;
    uint64_t rows, row;
    if (__builtin_mul_overflow((uint64_t)ne1, (uint64_t)ne2, &rows) ||
        __builtin_mul_overflow(rows, (uint64_t)ne3, &rows))
        return CG_TOO_BIG;
    uint64_t num = 4, den = 1; /* bytes per element as a fraction */
    switch (type) {
    case CG_F32: case CG_I32: break;
    case CG_F16: num = 2; break;
    case CG_I64: num = 8; break;
    case CG_Q8_0: num = 34; den = 32; break;
    case CG_Q4_0: num = 18; den = 32; break;
    default: break;
    }
    if (__builtin_mul_overflow((uint64_t)ne0 / den, num, &row) ||
        __builtin_mul_overflow(row, rows, &row) || row > CG_TOO_BIG)
        return CG_TOO_BIG;
    return row;
}

/* ggml_are_same_layout compares type, ne and nb: for the tensors modelled
 * here (contiguous results, or views flagged permuted) type + ne + the
 * permuted bit decide it. */
static inline uint32_t cg_layout_key(cg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                                     int64_t ne3, bool permuted)
{
    /* independent multiplies (no serial chain): this runs for every node */
    const uint64_t h = (uint64_t)ne0 * 0x9E3779B97F4A7C15ull + (uint64_t)ne1 * 0xC2B2AE3D27D4EB4Full +
                       (uint64_t)ne2 * 0x165667B19E3779F9ull + (uint64_t)ne3 * 0x85EBCA77C2B2AE63ull +
                       (uint64_t)type * 0x27D4EB2F165667C5ull + (permuted ? 0x94D049BB133111EBull : 0u);
    return (uint32_t)(h ^ (h >> 29));
}

/* every field is written by the callers: no memset (this runs per node) */
static inline cg_node *cg_push(cg_graph *g, int16_t *idx)
{
    if (g->n_nodes >= CG_MAX_NODES) {
        g->overflow = true;
        *idx = CG_NONE;
        return NULL;
    }
    *idx = (int16_t)g->n_nodes;
    cg_node *n = &g->nodes[g->n_nodes++];
    n->buffer = g->cur_buffer;
    if (g->cur_buffer >= g->n_buffers)
        g->n_buffers = (uint8_t)(g->cur_buffer + 1);
    return n;
}

static inline void cg_set_srcs(cg_node *n, int16_t s0, int16_t s1, int16_t s2, int16_t s3)
{
    /* all four cleared at once (one store), then the sources packed in */
    for (int i = 0; i < CG_MAX_SRC; i++)
        n->src[i] = CG_NONE;
    int k = 0;
    if (s0 != CG_NONE)
        n->src[k++] = s0;
    if (s1 != CG_NONE)
        n->src[k++] = s1;
    if (s2 != CG_NONE)
        n->src[k++] = s2;
    if (s3 != CG_NONE)
        n->src[k++] = s3;
    n->n_src = (uint8_t)k;
}

static inline int16_t cg_op(cg_graph *g, bool inplace, cg_type type, int64_t ne0, int64_t ne1,
                            int64_t ne2, int64_t ne3, int16_t s0, int16_t s1, int16_t s2,
                            int16_t s3)
{
    int16_t idx;
    cg_node *n = cg_push(g, &idx);
    if (!n)
        return CG_NONE;
    n->bytes = cg_nbytes(type, ne0, ne1, ne2, ne3);
    if (n->bytes >= CG_TOO_BIG)
        g->too_big = true;
    n->layout = cg_layout_key(type, ne0, ne1, ne2, ne3, false);
    n->flags = (uint16_t)((inplace ? CG_FLAG_INPLACE : 0) | (g->free_mode ? CG_FLAG_FREE : 0));
    cg_set_srcs(n, s0, s1, s2, s3);
    return idx;
}

/* An input leaf (op NONE, ggml_set_input). Leafs are allocated first, in the
 * order given here (ggml's DFS discovery order). Inline: the builders' shapes
 * are mostly constants. */
static inline int16_t cg_input(cg_graph *g, cg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                               int64_t ne3)
{
    /* a node like any op, then marked as an input leaf */
    int16_t idx = cg_op(g, false, type, ne0, ne1, ne2, ne3, CG_NONE, CG_NONE, CG_NONE, CG_NONE);
    if (idx == CG_NONE)
        return CG_NONE;
    g->nodes[idx].flags = CG_FLAG_INPUT | CG_FLAG_LEAF;
    if (g->n_leafs < (int)(sizeof g->leafs / sizeof g->leafs[0]))
        g->leafs[g->n_leafs++] = idx;
    else
        g->overflow = true;
    return idx;
}

/* (cg_view, cg_sink, cg_external and the marks: declared above, inline
 * here, after cg_push) */
static inline int16_t cg_view(cg_graph *g, int16_t src, cg_type type, int64_t ne0, int64_t ne1,
                              int64_t ne2, int64_t ne3, bool permuted)
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

static inline void cg_sink(cg_graph *g, int16_t s0, int16_t s1, int16_t s2)
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

static inline int16_t cg_external(cg_graph *g, uint64_t bytes, uint8_t buffer, uint32_t kind)
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

static inline void cg_mark_output(cg_graph *g, int16_t t)
{
    if (t != CG_NONE)
        g->nodes[CG_ROOT(t)].flags |= CG_FLAG_OUTPUT;
}

static inline void cg_mark_fixed(cg_graph *g, int16_t t)
{
    if (t != CG_NONE)
        g->nodes[CG_ROOT(t)].flags |= CG_FLAG_FIXED;
}

static inline void cg_mark_layer(cg_graph *g, int il)
{
    if (g->n_layer_marks >= (int)(sizeof g->layer_start / sizeof g->layer_start[0])) {
        g->overflow = true;
        return;
    }
    g->layer_start[g->n_layer_marks] = (int16_t)g->n_nodes;
    g->layer_index[g->n_layer_marks] = (int16_t)il;
    g->n_layer_marks++;
}

#endif
