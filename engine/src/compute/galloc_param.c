/* The ggml-alloc replay with sizes linear in the KV cells: one replay gives
 * the compute buffers for a whole range of context sizes.
 *
 * Between two graphs that differ only in the KV cells per stream
 * (n_kv = 256 u), every tensor size is a + b u: n_kv enters a shape as one
 * factor, and n_kv is a multiple of 256 so quantized blocks divide evenly.
 * The allocator only adds, subtracts, aligns and compares sizes. So replay
 * at u0 with every size kept as a pair (a, b), and at each comparison the
 * allocator makes, narrow [lo, hi] to the u for which that comparison comes
 * out the same as at u0. Every u left in [lo, hi] takes exactly the same
 * steps, so its peaks are the same linear forms evaluated at u: exact, not
 * interpolated. Alignment keeps a form linear when its slope is a multiple
 * of the alignment; otherwise the range shrinks to u0 alone.
 *
 * Layout equality (in-place reuse) is judged at u0 and u0 + 1: the ops that
 * may run in place are element-wise on their first source, so a shape that
 * depends on u never meets a fixed one; equal at both points means equal
 * for every u (each dimension is linear in u), different at both never
 * equal, and a change between them keeps u0 alone. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cgraph.h"

typedef cg_form SZ;

typedef struct replay replay;
static int64_t form_at(const replay *r, cg_form f);
static void narrow_ge0(replay *r, cg_form d);
static bool form_eq(replay *r, cg_form x, cg_form y);
static cg_form form_align(replay *r, cg_form x, uint64_t a);

static inline cg_form form_add(cg_form x, cg_form y)
{
    return (cg_form){x.a + y.a, x.b + y.b};
}

static inline cg_form form_sub(cg_form x, cg_form y)
{
    return (cg_form){x.a - y.a, x.b - y.b};
}

/* x >= y at u0, keeping only the u where that stays so */
static inline bool form_ge(replay *r, cg_form x, cg_form y)
{
    const cg_form d = form_sub(x, y);
    const bool ge = form_at(r, d) >= 0;
    if (d.b != 0)
        narrow_ge0(r, d);
    return ge;
}

#define SZ_OF(r, id) ((cg_form){(r)->base[id], (r)->slope[id]})
#define SZ_ZERO ((cg_form){0, 0})
#define SZ_CONST(v) ((cg_form){(int64_t)(v), 0})
#define SZ_SEPARATOR ((cg_form){INT64_MIN, 0})
#define SZ_ADD(x, y) form_add((x), (y))
#define SZ_SUB(x, y) form_sub((x), (y))
#define SZ_ALIGN(r, x, a) form_align((r), (x), (a))
#define SZ_EQ(r, x, y) form_eq((r), (x), (y))
#define SZ_GE(r, x, y) form_ge((r), (x), (y))
#define SZ_LT(r, x, y) (!form_ge((r), (x), (y)))
#define SZ_LE(r, x, y) form_ge((r), (y), (x))
#define SZ_GT(r, x, y) (!form_ge((r), (y), (x)))
#define SAME_SNAPSHOT(r, a, b) same_snapshot((r), (a), (b))
#define LAYOUT_EQ(r, a, b) layout_eq((r), (a), (b))
#define REPLAY_EXTRA                                                                       \
    const int64_t *base, *slope; /* size of node i: base[i] + slope[i] u */                \
    const uint32_t *layout_next; /* layout keys of the graph at u_graph + 1 */             \
    int64_t u0, lo, hi; /* u0: the point replayed */                                       \
    int64_t reach_lo, reach_hi; /* stop when [lo, hi] no longer holds them */            \
    const cg_program *prog; /* running from a record of g (cg_replay_param_program) */    \
    bool stopped;                                                                          \
    bool layout_off;    /* a layout compare changed between the graphs, replayed elsewhere */

#define REPLAY_STOP(r) \
    ((r)->lo > (r)->reach_lo || (r)->hi < (r)->reach_hi ? ((r)->stopped = true) : false)
#define REPLAY_PROGRAM 1

typedef struct snapshot snapshot;
static bool same_snapshot(replay *r, const snapshot *a, const snapshot *b);
static bool layout_eq(replay *r, int16_t a, int16_t b);

#include "galloc_impl.h"

static int64_t form_at(const replay *r, cg_form f)
{
    return f.a + f.b * r->u0;
}

static int64_t floor_div(int64_t n, int64_t d) /* d > 0 */
{
    const int64_t q = n / d;
    return (n % d != 0 && n < 0) ? q - 1 : q;
}

static int64_t ceil_div(int64_t n, int64_t d) /* d > 0 */
{
    return -floor_div(-n, d);
}

static void keep_point(replay *r)
{
    r->lo = r->hi = r->u0;
}

/* d's sign at lo and at hi (false: it does not fit 64 bits there) */
static bool sign_at_ends(const replay *r, cg_form d, int64_t *at_lo, int64_t *at_hi)
{
    int64_t lo, hi;
    if (__builtin_mul_overflow(d.b, r->lo, &lo) || __builtin_add_overflow(lo, d.a, &lo) ||
        __builtin_mul_overflow(d.b, r->hi, &hi) || __builtin_add_overflow(hi, d.a, &hi))
        return false;
    *at_lo = lo;
    *at_hi = hi;
    return true;
}

/* Keep the u where a + b u >= 0 has the truth value it has at u0 (b != 0).
 * Most calls change nothing: the range is one point already (a sweep's
 * replays narrow it early), or d keeps its sign over it (linear: its value
 * at both ends says so); the divisions only run when it does narrow. */
static void narrow_ge0(replay *r, cg_form d)
{
    if (r->lo == r->hi)
        return;
    const bool ge = form_at(r, d) >= 0;
    int64_t at_lo, at_hi;
    if (sign_at_ends(r, d, &at_lo, &at_hi) && (at_lo >= 0) == ge && (at_hi >= 0) == ge)
        return;
    if (d.b > 0) {
        const int64_t first = ceil_div(-d.a, d.b); /* smallest u with d >= 0 */
        if (ge) {
            if (first > r->lo)
                r->lo = first;
        } else if (first - 1 < r->hi) {
            r->hi = first - 1;
        }
    } else {
        const int64_t last = floor_div(d.a, -d.b); /* largest u with d >= 0 */
        if (ge) {
            if (last < r->hi)
                r->hi = last;
        } else if (last + 1 > r->lo) {
            r->lo = last + 1;
        }
    }
}

static bool form_eq(replay *r, cg_form x, cg_form y)
{
    const cg_form d = form_sub(x, y);
    const int64_t v = form_at(r, d);
    if (d.b == 0)
        return v == 0;
    if (v == 0) { /* equal at u0 only */
        keep_point(r);
        return true;
    }
    int64_t at_lo, at_hi;
    if (r->lo == r->hi ||
        (sign_at_ends(r, d, &at_lo, &at_hi) && (at_lo > 0) == (v > 0) && (at_hi > 0) == (v > 0) &&
         at_lo != 0 && at_hi != 0))
        return false; /* no root in the range */
    /* unequal except at the root, if it is a whole u: keep u0's side of it */
    const int64_t step = d.b > 0 ? d.b : -d.b;
    const int64_t num = d.b > 0 ? -d.a : d.a;
    if (num % step == 0) {
        const int64_t root = num / step;
        if (root > r->u0 && root - 1 < r->hi)
            r->hi = root - 1;
        if (root < r->u0 && root + 1 > r->lo)
            r->lo = root + 1;
    }
    return false;
}

static cg_form form_align(replay *r, cg_form x, uint64_t a)
{
    const int64_t al = (int64_t)a;
    if ((a & (a - 1)) == 0) { /* a power of two, as ggml's are: masks, no division */
        if ((x.b & (al - 1)) == 0)
            return (cg_form){(x.a + al - 1) & ~(al - 1), x.b};
        keep_point(r);
        return (cg_form){(form_at(r, x) + al - 1) & ~(al - 1), 0};
    }
    if (x.b % al == 0) /* b u is a multiple of the alignment for every u */
        return (cg_form){ceil_div(x.a, al) * al, x.b};
    keep_point(r);
    return (cg_form){ceil_div(form_at(r, x), al) * al, 0};
}

static bool same_snapshot(replay *r, const snapshot *a, const snapshot *b)
{
    bool forms_equal = true;
    for (int i = 0; i < a->n; i++) {
        if (a->words[i].a == b->words[i].a && a->words[i].b == b->words[i].b)
            continue;
        forms_equal = false;
        if (form_at(r, a->words[i]) != form_at(r, b->words[i]))
            return false;
    }
    if (!forms_equal) /* the states match at u0 only */
        keep_point(r);
    return true;
}

static bool layout_eq(replay *r, int16_t a, int16_t b)
{
    const bool now = r->g->nodes[a].layout == r->g->nodes[b].layout;
    const bool next = r->layout_next[a] == r->layout_next[b];
    if (now != next) {
        keep_point(r);
        r->layout_off = true; /* known at the graph's u only */
    }
    return now;
}

int64_t cg_param_sizes(const cg_graph *g, const cg_graph *g_next, int64_t u_graph, int64_t *base,
                       int64_t *slope)
{
    static const int64_t too_big = (int64_t)CG_TOO_BIG;
    /* the two graphs must be the same but for sizes */
    if (g->n_nodes != g_next->n_nodes || g->n_leafs != g_next->n_leafs ||
        g->n_layer_marks != g_next->n_layer_marks || g->n_buffers != g_next->n_buffers ||
        g->overflow || g_next->overflow || g->too_big || g_next->too_big ||
        g->bad_attention >= 0 || g_next->bad_attention >= 0)
        return -1;
    if (memcmp(g->leafs, g_next->leafs, sizeof g->leafs[0] * (size_t)g->n_leafs) != 0 ||
        memcmp(g->layer_start, g_next->layer_start,
               sizeof g->layer_start[0] * (size_t)g->n_layer_marks) != 0)
        return -1;
    int64_t hi = INT64_MAX;
    for (int i = 0; i < g->n_nodes; i++) {
        const cg_node *x = &g->nodes[i], *y = &g_next->nodes[i];
        if (x->flags != y->flags || x->buffer != y->buffer || x->n_src != y->n_src ||
            memcmp(x->src, y->src, sizeof x->src) != 0)
            return -1;
        const int64_t b0 = (int64_t)x->bytes, b1 = (int64_t)y->bytes;
        if (b1 < b0) /* sizes only grow with the cells */
            return -1;
        slope[i] = b1 - b0;
        base[i] = b0 - slope[i] * u_graph;
        /* stay below the size where tensors saturate (the forms would stop holding) */
        if (slope[i] > 0) {
            const int64_t last = floor_div(too_big - 1 - base[i], slope[i]);
            if (last < hi)
                hi = last;
        }
    }
    return hi;
}

/* run_replay over r (its g, sizes and prog set) at u0 in [lo, hi] */
static void param_run(replay *r, int64_t u0, int64_t lo, int64_t hi, int64_t reach_lo, int64_t reach_hi,
                      const uint32_t alignment[CG_MAX_BUFFERS], const cg_window *windows,
                      int n_windows, cg_param_result *res)
{
    r->u0 = u0;
    r->lo = lo;
    r->hi = hi;
    r->layout_off = false;
    /* never stop: a reach no range misses */
    r->reach_lo = reach_lo <= reach_hi ? reach_lo : INT64_MAX;
    r->reach_hi = reach_lo <= reach_hi ? reach_hi : INT64_MIN;
    r->stopped = false;
    res->failed_checks = run_replay(r, alignment, windows, n_windows, res->lag);
    res->layout_moved = r->layout_off;
    res->narrow = r->stopped;
    if (r->stopped)
        return;
    res->periodic_ok = res->failed_checks == 0;
    for (int b = 0; b < CG_MAX_BUFFERS && b < r->g->n_buffers; b++)
        res->peak[b] = r->alloc[b].max_size;
    res->lo = r->lo;
    res->hi = r->hi;
    res->valid = true;
}

void cg_replay_param(const cg_graph *g, const cg_graph *g_next, int64_t u_graph, int64_t u0,
                     int64_t lo, int64_t hi, int64_t reach_lo, int64_t reach_hi,
                     const uint32_t alignment[CG_MAX_BUFFERS],
                     const cg_window *windows, int n_windows, cg_param_result *res)
{
    memset(res, 0, sizeof *res);
    res->lo = res->hi = u0;
    /* on the heap: this state is twice the plain replay's */
    struct work {
        replay r;
        int64_t base[CG_MAX_NODES], slope[CG_MAX_NODES];
        uint32_t layout_next[CG_MAX_NODES];
    } *w = malloc(sizeof *w);
    if (!w)
        return;
    const int64_t limit = cg_param_sizes(g, g_next, u_graph, w->base, w->slope);
    if (limit < hi)
        hi = limit;
    if (limit >= 0 && lo <= u0 && u0 <= hi) {
        for (int i = 0; i < g->n_nodes; i++)
            w->layout_next[i] = g_next->nodes[i].layout;
        replay *r = &w->r;
        r->g = g;
        r->base = w->base;
        r->slope = w->slope;
        r->layout_next = w->layout_next;
        r->prog = NULL;
        param_run(r, u0, lo, hi, reach_lo, reach_hi, alignment, windows, n_windows, res);
        if (r->layout_off && u0 != u_graph)
            res->valid = false; /* the in-place choices at u0 are not known */
    }
    free(w);
}

void cg_replay_param_program(const cg_graph *g, const cg_program *prog, const int64_t *base,
                             const int64_t *slope, int64_t u0, int64_t lo, int64_t hi,
                             int64_t reach_lo, int64_t reach_hi,
                             const uint32_t alignment[CG_MAX_BUFFERS],
                             const cg_window *windows, int n_windows, cg_param_result *res)
{
    memset(res, 0, sizeof *res);
    res->lo = res->hi = u0;
    if (lo > u0 || u0 > hi)
        return;
    replay *r = malloc(sizeof *r); /* ~200 KiB: not on a (maybe small) thread stack */
    if (!r)
        return;
    r->g = g;
    r->base = base;
    r->slope = slope;
    r->layout_next = NULL; /* no in-place compare: the record made them */
    r->prog = prog;
    param_run(r, u0, lo, hi, reach_lo, reach_hi, alignment, windows, n_windows, res);
    free(r);
}
