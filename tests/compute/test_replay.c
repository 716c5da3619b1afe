/* cg_replay and cg_replay_param against a plain reading of ggml-alloc.
 *
 * The replay (galloc_impl.h) packs each node's state in one word, scans for
 * live tensors from where the previous snapshot found the first one, and
 * stops its free-list searches early. The reference here keeps ggml's
 * structure as written in ggml/src/ggml-alloc.c: a struct per tensor with
 * n_children, n_views and allocated; leafs allocated first, then graph
 * inputs that are nodes, in node order while the readers are counted; a
 * best-fit free list searched in full. Its snapshot at a layer mark looks
 * at every node before the mark. Both run on random graphs (views, in-place
 * ops, outputs, sinks, external tensors, zero-size tensors, several buffers,
 * alignments that are not powers of two) and on their scheduler copies
 * (pipeline copies make input nodes), layered so that some state checks
 * hold and some fail, and must give the same peaks, the same failed checks
 * and the same lags. The reference snapshots every mark and compares the
 * windows' pairs in their order (mark x, then L) after the replay. The parametric replay must give, at every u of its range, the
 * plain replay of the graph built at that u. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "compute/cgraph.h"
#include "compute_fixtures.h"

/* ---- the reference ---- */

typedef struct ref_tensor {
    uint64_t offset;
    int n_children, n_views;
    bool allocated;
} ref_tensor;

typedef struct ref_block { uint64_t offset, size; } ref_block;

typedef struct ref_alloc {
    ref_block blocks[CG_MAX_NODES + 1];
    int n;
    uint64_t alignment, max_size;
} ref_alloc;

typedef struct ref_state {
    const cg_graph *g;
    ref_tensor t[CG_MAX_NODES];
    ref_alloc a[CG_MAX_BUFFERS];
} ref_state;

static uint64_t ref_pad(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

/* ggml_dyn_tallocr_alloc: best fit among the blocks but the last, ties to
 * the later block; otherwise the last one */
static uint64_t ref_talloc(ref_alloc *al, uint64_t size)
{
    size = ref_pad(size, al->alignment);
    int best = -1;
    uint64_t best_size = 0;
    for (int i = 0; i < al->n - 1; i++)
        if (al->blocks[i].size >= size && (best < 0 || al->blocks[i].size <= best_size)) {
            best = i;
            best_size = al->blocks[i].size;
        }
    if (best < 0)
        best = al->n - 1;
    const uint64_t addr = al->blocks[best].offset;
    al->blocks[best].offset += size;
    al->blocks[best].size -= size;
    if (al->blocks[best].size == 0) {
        memmove(&al->blocks[best], &al->blocks[best + 1], sizeof al->blocks[0] * (size_t)(al->n - best - 1));
        al->n--;
    }
    if (addr + size > al->max_size)
        al->max_size = addr + size;
    return addr;
}

/* ggml_dyn_tallocr_free_tensor: merge with a block ending or starting at
 * the freed range (the first one met), else insert in offset order */
static void ref_tfree(ref_alloc *al, uint64_t offset, uint64_t size)
{
    size = ref_pad(size, al->alignment);
    for (int i = 0; i < al->n; i++) {
        ref_block *b = &al->blocks[i];
        if (b->offset + b->size == offset) {
            b->size += size;
            if (i < al->n - 1 && b->offset + b->size == al->blocks[i + 1].offset) {
                b->size += al->blocks[i + 1].size;
                memmove(&al->blocks[i + 1], &al->blocks[i + 2], sizeof al->blocks[0] * (size_t)(al->n - i - 2));
                al->n--;
            }
            return;
        }
        if (offset + size == b->offset) {
            b->offset = offset;
            b->size += size;
            if (i > 0 && al->blocks[i - 1].offset + al->blocks[i - 1].size == b->offset) {
                al->blocks[i - 1].size += b->size;
                memmove(&al->blocks[i], &al->blocks[i + 1], sizeof al->blocks[0] * (size_t)(al->n - i - 1));
                al->n--;
            }
            return;
        }
    }
    int pos = 0;
    while (pos < al->n && al->blocks[pos].offset < offset)
        pos++;
    memmove(&al->blocks[pos + 1], &al->blocks[pos], sizeof al->blocks[0] * (size_t)(al->n - pos));
    al->blocks[pos].offset = offset;
    al->blocks[pos].size = size;
    al->n++;
}

/* ggml_gallocr_allocate_node */
static void ref_allocate(ref_state *s, int id)
{
    const cg_node *n = &s->g->nodes[id];
    ref_tensor *t = &s->t[id];
    t->allocated = true;
    if (n->flags & CG_FLAG_INPLACE) {
        for (int i = 0; i < n->n_src; i++) {
            if (n->src[i] & CG_VIA_VIEW)
                continue; /* a view is never owned */
            const int p = n->src[i];
            ref_tensor *pt = &s->t[p];
            const cg_node *pn = &s->g->nodes[p];
            if (!pt->allocated || (pn->flags & CG_FLAG_OUTPUT) || pn->layout != n->layout)
                continue;
            if (pt->n_children == 1 && pt->n_views == 0) {
                t->offset = pt->offset;
                pt->allocated = false;
                const uint64_t al = s->a[pn->buffer].alignment;
                const uint64_t psz = ref_pad(pn->bytes, al), nsz = ref_pad(n->bytes, al);
                if (psz > nsz)
                    ref_tfree(&s->a[pn->buffer], pt->offset + nsz, psz - nsz);
                return;
            }
        }
    }
    t->offset = ref_talloc(&s->a[n->buffer], n->bytes);
}

/* the state a check compares: free blocks per buffer, then every live
 * tensor before the mark that is neither a leaf nor an output */
typedef struct ref_snap { uint64_t w[4 * CG_MAX_NODES]; int n; } ref_snap;

static void ref_snapshot(const ref_state *s, int upto, ref_snap *sn)
{
    sn->n = 0;
    for (int b = 0; b < s->g->n_buffers; b++) {
        for (int i = 0; i < s->a[b].n; i++) {
            sn->w[sn->n++] = s->a[b].blocks[i].offset;
            sn->w[sn->n++] = s->a[b].blocks[i].size;
        }
        sn->w[sn->n++] = UINT64_MAX;
    }
    for (int i = 0; i < upto; i++) {
        const cg_node *n = &s->g->nodes[i];
        if (s->t[i].allocated && !(n->flags & (CG_FLAG_LEAF | CG_FLAG_OUTPUT))) {
            sn->w[sn->n++] = s->t[i].offset;
            sn->w[sn->n++] = n->bytes;
        }
    }
}

/* the replay's snapshot room: larger states count as not matching */
enum { SNAP_ROOM = 2 * 64 + 128 };

static bool ref_same(const ref_snap *x, const ref_snap *y)
{
    return x->n >= 0 && y->n >= 0 && x->n <= SNAP_ROOM && y->n <= SNAP_ROOM && x->n == y->n &&
           memcmp(x->w, y->w, sizeof x->w[0] * (size_t)x->n) == 0;
}

/* cg_window's rules as written in cgraph.h: windows in mark order, each
 * starting after the last mark the one before looked at */
static void ref_windows(const cg_graph *g, const ref_snap *snaps, const cg_window *win, int n_win,
                        cg_alloc_result *res)
{
    int last = -1;
    for (int w = 0; w < n_win; w++) {
        res->failed_checks |= 1u << w;
        const cg_window *v = &win[w];
        const int back = v->max_lag * v->period;
        if (v->period < 1 || v->max_lag < 1 || back > CG_MAX_LOOKBACK || v->base < 0 ||
            v->lo < v->base || v->hi < v->lo || v->hi >= g->n_layer_marks)
            continue;
        const int first = v->lo - back > v->base ? v->lo - back : v->base;
        if (first <= last)
            continue;
        last = v->hi;
        for (int x = v->lo; x <= v->hi && !res->lag[w]; x++)
            for (int L = 1; L <= v->max_lag && !res->lag[w]; L++) {
                const int y = x - L * v->period;
                if (y >= v->base && ref_same(&snaps[y], &snaps[x])) {
                    res->failed_checks &= ~(1u << w);
                    res->lag[w] = (uint8_t)L;
                    last = x;
                }
            }
    }
}

static void ref_replay(const cg_graph *g, const uint32_t align[CG_MAX_BUFFERS],
                       const cg_window *win, int n_win, cg_alloc_result *res)
{
    ref_state *s = calloc(1, sizeof *s);
    ref_snap *snaps = malloc(sizeof *snaps * (size_t)(g->n_layer_marks + 1));
    assert_non_null(s);
    assert_non_null(snaps);
    s->g = g;
    for (int b = 0; b < CG_MAX_BUFFERS; b++) {
        s->a[b].n = 1;
        s->a[b].blocks[0].offset = 0;
        s->a[b].blocks[0].size = (uint64_t)1 << 62;
        s->a[b].alignment = align[b] ? align[b] : 32;
    }
    for (int i = 0; i < g->n_leafs; i++)
        if (!s->t[g->leafs[i]].allocated)
            ref_allocate(s, g->leafs[i]);
    for (int i = 0; i < g->n_nodes; i++) {
        const cg_node *n = &g->nodes[i];
        if ((n->flags & CG_FLAG_INPUT) && !(n->flags & CG_FLAG_LEAF) && !s->t[i].allocated)
            ref_allocate(s, i);
        for (int j = 0; j < n->n_src; j++) {
            if (n->src[j] & CG_VIA_VIEW)
                s->t[CG_ROOT(n->src[j])].n_views++;
            else
                s->t[n->src[j]].n_children++;
        }
    }
    for (int m = 0; m < g->n_layer_marks; m++)
        snaps[m].n = -1;
    for (int i = 0; i <= g->n_nodes; i++) {
        for (int m = 0; m < g->n_layer_marks; m++)
            if (g->layer_start[m] == i)
                ref_snapshot(s, i, &snaps[m]);
        if (i == g->n_nodes)
            break;
        const cg_node *n = &g->nodes[i];
        if (n->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL))
            continue;
        if (!(n->flags & CG_FLAG_NOALLOC) && !s->t[i].allocated)
            ref_allocate(s, i);
        for (int j = 0; j < n->n_src; j++) {
            const int p = CG_ROOT(n->src[j]);
            ref_tensor *pt = &s->t[p];
            if (n->src[j] & CG_VIA_VIEW)
                pt->n_views--;
            else
                pt->n_children--;
            if (pt->n_children == 0 && pt->n_views == 0 && pt->allocated &&
                !(g->nodes[p].flags & CG_FLAG_OUTPUT)) {
                ref_tfree(&s->a[g->nodes[p].buffer], pt->offset, g->nodes[p].bytes);
                pt->allocated = false;
            }
        }
    }
    memset(res, 0, sizeof *res);
    ref_windows(g, snaps, win, n_win, res);
    res->periodic_ok = res->failed_checks == 0;
    for (int b = 0; b < g->n_buffers; b++)
        res->peak[b] = s->a[b].max_size;
    free(snaps);
    free(s);
}

/* ---- random layered graphs ---- */

/* A graph of n_layers layers; every layer draws its ops from a generator
 * seeded with its template (the same template: the same layer), reading the
 * inputs, the layer's residual and its own tensors. u scales the tensors
 * whose size depends on it (KV cells / 256 for the parametric replay). */
typedef struct graph_spec {
    uint64_t seed;
    int n_layers, n_buffers, periodic_from;
    bool zero_sizes;
} graph_spec;

static void random_graph(cg_graph *g, const graph_spec *sp, int64_t u)
{
    uint64_t rng = sp->seed;
    cg_init(g);
    int16_t inputs[3];
    const int n_inputs = 1 + (int)(fx_next_rand(&rng) % 3);
    for (int k = 0; k < n_inputs; k++)
        inputs[k] = cg_input(g, CG_F32, 64, 1 + (int64_t)(fx_next_rand(&rng) % 3), 1, 1);
    const int16_t weight = cg_external(g, 4096, 0, CG_EXT_WEIGHT_HOST);
    int16_t residual = cg_op(g, false, CG_F32, 64, 2, 1, 1, inputs[0], CG_NONE, CG_NONE, CG_NONE);
    for (int il = 0; il < sp->n_layers; il++) {
        /* layers from periodic_from on repeat one template; earlier ones differ */
        uint64_t lr = il >= sp->periodic_from ? sp->seed ^ 0x9E3779B97F4A7C15ull
                                                : sp->seed + (uint64_t)il * 7919u;
        cg_mark_layer(g, il);
        int16_t pool[32];
        int n_pool = 0;
        pool[n_pool++] = residual;
        for (int k = 0; k < n_inputs; k++)
            pool[n_pool++] = inputs[k];
        const int n_ops = 3 + (int)(fx_next_rand(&lr) % 8);
        for (int k = 0; k < n_ops && n_pool < 32; k++) {
            g->cur_buffer = (uint8_t)(fx_next_rand(&lr) % (uint32_t)sp->n_buffers);
            const uint32_t kind = fx_next_rand(&lr) % 10;
            const int16_t a = pool[fx_next_rand(&lr) % (uint32_t)n_pool];
            const int16_t b = pool[fx_next_rand(&lr) % (uint32_t)n_pool];
            if (kind == 0) { /* a view read later */
                pool[n_pool++] = cg_view(g, a, CG_F32, 64, 2, 1, 1, fx_next_rand(&lr) % 2);
                continue;
            }
            if (kind == 1) { /* a write into the cache */
                cg_sink(g, a, b, CG_NONE);
                continue;
            }
            static const int64_t widths[] = {32, 64, 64, 96, 128};
            int64_t ne0 = widths[fx_next_rand(&lr) % 5];
            int64_t ne1 = 1 + (int64_t)(fx_next_rand(&lr) % 3);
            if (fx_next_rand(&lr) % 3 == 0)
                ne1 *= 4 * u; /* a size that grows with the cells */
            if (sp->zero_sizes && fx_next_rand(&lr) % 7 == 0)
                ne0 = 0;
            const bool inplace = fx_next_rand(&lr) % 2;
            const int16_t c = kind == 2 ? weight : CG_NONE;
            const int16_t t = cg_op(g, inplace, kind == 3 ? CG_F16 : CG_F32, ne0, ne1, 1, 1, a,
                                    fx_next_rand(&lr) % 2 ? b : CG_NONE, c, CG_NONE);
            if (fx_next_rand(&lr) % 13 == 0 && il < sp->periodic_from)
                cg_mark_output(g, t); /* kept for good: no two later states alike */
            pool[n_pool++] = t;
        }
        g->cur_buffer = (uint8_t)(fx_next_rand(&lr) % (uint32_t)sp->n_buffers);
        residual = cg_op(g, true, CG_F32, 64, 2, 1, 1, residual, pool[n_pool - 1], CG_NONE, CG_NONE);
    }
    g->cur_buffer = 0;
    cg_mark_output(g, cg_op(g, false, CG_F32, 32, 2, 1, 1, residual, CG_NONE, CG_NONE, CG_NONE));
}

static void random_spec(graph_spec *sp, uint64_t *rng)
{
    sp->seed = (uint64_t)fx_next_rand(rng) << 32 | fx_next_rand(rng);
    sp->n_layers = 2 + (int)(fx_next_rand(rng) % 7);
    sp->n_buffers = 1 + (int)(fx_next_rand(rng) % 3);
    sp->periodic_from = (int)(fx_next_rand(rng) % 4);
    sp->zero_sizes = fx_next_rand(rng) % 4 == 0;
}

/* Windows in mark order, most inside the repeating layers (where the
 * states may match) with random periods and lags, some anywhere; now and
 * then one out of order, or reaching past the graph's marks. */
static int random_windows(const cg_graph *g, const graph_spec *sp, uint64_t *rng, cg_window *win)
{
    const int n_win = 1 + (int)(fx_next_rand(rng) % 2);
    const int n_marks = g->n_layer_marks;
    const int steady = sp->periodic_from + 1 < n_marks - 2 ? sp->periodic_from + 1 : n_marks - 2;
    int at = fx_next_rand(rng) % 3 == 0 || steady < 0 ? 0 : steady;
    for (int w = 0; w < n_win; w++) {
        cg_window *v = &win[w];
        v->period = (uint8_t)(1 + (fx_next_rand(rng) % 4 == 0) + (fx_next_rand(rng) % 8 == 0));
        v->max_lag = (uint8_t)(1 + fx_next_rand(rng) % 4);
        if (fx_next_rand(rng) % 16 == 0) /* at and past the room for look-backs */
            v->max_lag = (uint8_t)(CG_MAX_LOOKBACK / v->period + (fx_next_rand(rng) % 3 == 0));
        if (fx_next_rand(rng) % 8 == 0) /* anywhere, maybe out of order or out of the graph */
            at = (int)(fx_next_rand(rng) % (uint32_t)(n_marks + 2));
        v->base = (int16_t)at;
        v->lo = (int16_t)(at + v->period * (fx_next_rand(rng) % 4 != 0) + (int)(fx_next_rand(rng) % 2));
        v->hi = (int16_t)(v->lo + (int)(fx_next_rand(rng) % 5));
        if (v->hi >= n_marks && fx_next_rand(rng) % 8 != 0) /* mostly inside the graph */
            v->hi = (int16_t)(n_marks - 1);
        if (v->hi < v->lo || fx_next_rand(rng) % 4 == 0)
            v->lo = v->hi; /* a plan's first try: only the last mark */
        at = v->hi + 1 + (int)(fx_next_rand(rng) % 2);
    }
    return n_win;
}

static void random_alignment(uint32_t align[CG_MAX_BUFFERS], uint64_t *rng)
{
    static const uint32_t choices[] = {32, 128, 256, 48, 0};
    for (int b = 0; b < CG_MAX_BUFFERS; b++)
        align[b] = choices[fx_next_rand(rng) % 5];
}

static bool same_result(const cg_alloc_result *a, const cg_alloc_result *b, int n_buffers)
{
    if (a->failed_checks != b->failed_checks || a->periodic_ok != b->periodic_ok ||
        memcmp(a->lag, b->lag, sizeof a->lag) != 0)
        return false;
    for (int k = 0; k < n_buffers; k++)
        if (a->peak[k] != b->peak[k])
            return false;
    return true;
}

/* The graph of variant v from g, into out: the graph itself (0), the
 * scheduler's copy with 1 and 4 copies (1, 2: input nodes), and the graph
 * with computed nodes made inputs or leafs (3: allocated before the walk, an
 * input while ggml counts the readers before it), the same flags for the
 * same seed. */
static const cg_graph *graph_variant(const cg_graph *g, cg_graph *out, int v, uint64_t seed)
{
    if (v == 1 || v == 2) {
        cg_split_copies(g, out, v == 1 ? 1 : 4);
        return out;
    }
    if (v == 0)
        return g;
    memcpy(out, g, sizeof *out);
    for (int i = 0; i < out->n_nodes; i++) {
        cg_node *n = &out->nodes[i];
        const uint32_t pick = fx_next_rand(&seed) % 16;
        if (n->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL | CG_FLAG_NOALLOC) || pick > 1)
            continue;
        n->flags |= CG_FLAG_INPUT;
        if (pick == 1 && out->n_leafs < (int)(sizeof out->leafs / sizeof out->leafs[0])) {
            n->flags |= CG_FLAG_LEAF;
            out->leafs[out->n_leafs++] = (int16_t)i;
        }
    }
    out->input_nodes = true;
    return out;
}

static void test_replay_equals_reference(void **state)
{
    (void)state;
    cg_graph *g = malloc(sizeof *g), *split = malloc(sizeof *split);
    assert_non_null(g);
    assert_non_null(split);
    uint64_t rng = 2026;
    int bad = 0, held = 0, failed = 0, runs = 0, lag_over_1 = 0;
    for (int trial = 0; trial < 3000; trial++) {
        graph_spec sp;
        random_spec(&sp, &rng);
        random_graph(g, &sp, 1 + (int64_t)(fx_next_rand(&rng) % 4));
        uint32_t align[CG_MAX_BUFFERS];
        random_alignment(align, &rng);
        cg_window win[CG_MAX_WINDOWS];
        const int n_win = random_windows(g, &sp, &rng, win);
        for (int variant = 0; variant < 4; variant++) {
            const uint64_t seed = variant == 3 ? fx_next_rand(&rng) : 0;
            const cg_graph *run = graph_variant(g, split, variant, seed);
            cg_alloc_result got, want;
            cg_replay(run, align, win, n_win, &got);
            ref_replay(run, align, win, n_win, &want);
            runs++;
            if (!same_result(&got, &want, run->n_buffers)) {
                if (bad == 0)
                    print_message("# trial %d variant %d: peak0 %llu vs %llu, failed %x vs %x\n", trial,
                                  variant, (unsigned long long)got.peak[0],
                                  (unsigned long long)want.peak[0], got.failed_checks,
                                  want.failed_checks);
                bad++;
            }
            for (int w = 0; w < n_win; w++) {
                held += !(want.failed_checks >> w & 1);
                failed += want.failed_checks >> w & 1;
                lag_over_1 += want.lag[w] > 1;
            }
        }
    }
    print_message("# %d replays: %d windows settled (%d by a lag over 1), %d failed\n", runs, held,
                  lag_over_1, failed);
    assert_int_equal(bad, 0);
    /* both outcomes were reached, and lags over one period */
    assert_true(held > runs / 20);
    assert_true(failed > runs / 4);
    assert_true(lag_over_1 > 0);
    free(split);
    free(g);
}

/* Many tensors alive across the marks: around the room a snapshot has for
 * them (when a state does not fit, its check fails), with marks while they
 * pile up and while they are read back. */
static void test_many_live_tensors(void **state)
{
    (void)state;
    cg_graph *g = malloc(sizeof *g);
    cg_program *prog = malloc(sizeof *prog);
    uint64_t *bytes = malloc(sizeof *bytes * CG_MAX_NODES);
    assert_non_null(g);
    assert_non_null(prog);
    assert_non_null(bytes);
    static const int counts[] = {60, 120, 126, 127, 128, 129, 140, 250};
    const uint32_t align[CG_MAX_BUFFERS] = {32};
    int bad = 0;
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        cg_init(g);
        const int16_t in = cg_input(g, CG_F32, 64, 1, 1, 1);
        int16_t kept[256];
        for (int i = 0; i < counts[k]; i++) {
            if (i % 16 == 0)
                cg_mark_layer(g, i / 16);
            kept[i] = cg_op(g, false, CG_F32, 32 + 32 * (i % 3), 1, 1, 1, in, CG_NONE, CG_NONE, CG_NONE);
        }
        int16_t acc = cg_op(g, false, CG_F32, 64, 1, 1, 1, in, CG_NONE, CG_NONE, CG_NONE);
        for (int i = 0; i < counts[k]; i++) {
            if (i % 16 == 0)
                cg_mark_layer(g, 100 + i / 16);
            acc = cg_op(g, true, CG_F32, 64, 1, 1, 1, acc, kept[i], CG_NONE, CG_NONE);
        }
        cg_mark_output(g, acc);
        for (int a = 0; a + 1 < g->n_layer_marks; a++) {
            /* every mark from a + 1 on against up to four before it */
            const cg_window win = {(int16_t)a, (int16_t)(a + 1), (int16_t)(g->n_layer_marks - 1), 1, 4};
            cg_alloc_result got, want, from_record;
            cg_replay(g, align, &win, 1, &got);
            ref_replay(g, align, &win, 1, &want);
            /* run from its record, with snapshots past their room too */
            cg_replay_record(g, align, &win, 1, &from_record, prog);
            for (int i = 0; i < g->n_nodes; i++)
                bytes[i] = g->nodes[i].bytes;
            cg_replay_program(g, prog, bytes, align, &win, 1, &from_record);
            if (!same_result(&got, &want, g->n_buffers) ||
                !same_result(&from_record, &want, g->n_buffers)) {
                if (bad == 0)
                    print_message("# %d kept, checks from mark %d: failed %x vs %x\n", counts[k], a,
                                  got.failed_checks, want.failed_checks);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
    free(bytes);
    free(prog);
    free(g);
}

/* Layers whose one new tensor each lives two or three layers: its places
 * take turns, so states repeat every few layers, never every one. A window
 * finds the pair with the lag of that cycle (the same as the reference's),
 * and with a shorter lag allowed finds none. */
static void test_windows_find_cycles(void **state)
{
    (void)state;
    cg_graph *g = malloc(sizeof *g);
    assert_non_null(g);
    const uint32_t align[CG_MAX_BUFFERS] = {32};
    for (int keep = 1; keep <= 2; keep++) {
        cg_init(g);
        int16_t prev[3];
        prev[0] = cg_input(g, CG_F32, 64, 1, 1, 1);
        prev[1] = prev[2] = CG_NONE;
        for (int il = 0; il < 12; il++) {
            cg_mark_layer(g, il);
            /* a new tensor from the last ones: each lives keep + 1 layers */
            const int16_t t = cg_op(g, false, CG_F32, 64, 1, 1, 1, prev[0], prev[keep], CG_NONE, CG_NONE);
            prev[2] = prev[1];
            prev[1] = prev[0];
            prev[0] = t;
        }
        cg_mark_layer(g, 12);
        cg_mark_output(g, cg_op(g, false, CG_F32, 64, 1, 1, 1, prev[0], CG_NONE, CG_NONE, CG_NONE));
        cg_window win = {0, 1, 11, 1, 4};
        cg_alloc_result got, want;
        cg_replay(g, align, &win, 1, &got);
        ref_replay(g, align, &win, 1, &want);
        print_message("# tensors living %d layers: states repeat every %d\n", keep + 1, got.lag[0]);
        assert_true(same_result(&got, &want, g->n_buffers));
        assert_int_equal(got.failed_checks, 0);
        assert_true(got.lag[0] > 1);
        /* with a lag short of the cycle, nothing settles */
        win.max_lag = (uint8_t)(got.lag[0] - 1);
        cg_replay(g, align, &win, 1, &got);
        assert_int_equal(got.failed_checks, 1);
        assert_int_equal(got.lag[0], 0);
    }
    free(g);
}

/* The in-place compares a replay may make (a node against each source it
 * reads directly) come out the same in both graphs: a record of one then
 * holds for the other. */
static bool same_inplace_layouts(const cg_graph *a, const cg_graph *b)
{
    if (a->n_nodes != b->n_nodes)
        return false;
    for (int i = 0; i < a->n_nodes; i++)
        for (int j = 0; j < a->nodes[i].n_src; j++) {
            const int16_t h = CG_ROOT(a->nodes[i].src[j]);
            if ((a->nodes[h].layout == a->nodes[i].layout) != (b->nodes[h].layout == b->nodes[i].layout))
                return false;
        }
    return true;
}

/* A replay recorded at one size and run from its record at others equals
 * the plain replay at each (peaks, and the windows' outcomes and lags). */
static void test_program_equals_replay(void **state)
{
    (void)state;
    cg_graph *g0 = malloc(sizeof *g0), *gu = malloc(sizeof *gu);
    cg_graph *v0 = malloc(sizeof *v0), *vu = malloc(sizeof *vu);
    cg_program *prog = malloc(sizeof *prog);
    uint64_t *bytes = malloc(sizeof *bytes * CG_MAX_NODES);
    int64_t *base = malloc(sizeof *base * CG_MAX_NODES), *slope = malloc(sizeof *slope * CG_MAX_NODES);
    assert_non_null(g0);
    assert_non_null(gu);
    assert_non_null(v0);
    assert_non_null(vu);
    assert_non_null(prog);
    assert_non_null(bytes);
    assert_non_null(base);
    assert_non_null(slope);
    uint64_t rng = 4242;
    int bad = 0, runs = 0, skipped = 0, failed = 0, held = 0, checkpoints = 0, deep = 0;
    for (int trial = 0; trial < 1500; trial++) {
        graph_spec sp;
        random_spec(&sp, &rng);
        const int64_t u0 = 1 + (int64_t)(fx_next_rand(&rng) % 6);
        random_graph(g0, &sp, u0);
        uint32_t align[CG_MAX_BUFFERS];
        random_alignment(align, &rng);
        cg_window win[CG_MAX_WINDOWS];
        /* every other trial without windows: its checkpoint may sit anywhere */
        const int n_win = random_windows(g0, &sp, &rng, win) * (trial / 4 % 2);
        const int v = trial % 4;
        const uint64_t seed = (uint64_t)fx_next_rand(&rng);
        const cg_graph *r0 = graph_variant(g0, v0, v, seed);
        cg_alloc_result rec, want, got;
        cg_replay_record(r0, align, win, n_win, &rec, prog);
        cg_replay(r0, align, win, n_win, &want);
        assert_true(prog->valid);
        assert_true(same_result(&rec, &want, r0->n_buffers)); /* recording changes nothing */
        /* two trials in three run from a checkpoint, where one is found */
        if (trial % 3 != 0) {
            random_graph(gu, &sp, u0 + 1);
            if (cg_param_sizes(r0, graph_variant(gu, vu, v, seed), u0, base, slope) >= 0) {
                for (int i = 0; i < r0->n_nodes; i++)
                    bytes[i] = r0->nodes[i].bytes;
                cg_program_checkpoint(r0, prog, bytes, slope, align, win, n_win, 1);
                checkpoints += prog->checkpoint.at_node > 0;
                deep += prog->checkpoint.at_node > r0->n_nodes / 2;
            }
        }
        for (int64_t u = 1; u <= 12; u++) {
            random_graph(gu, &sp, u);
            const cg_graph *ru = graph_variant(gu, vu, v, seed);
            if (!same_inplace_layouts(r0, ru)) {
                skipped++;
                continue;
            }
            for (int i = 0; i < ru->n_nodes; i++)
                bytes[i] = ru->nodes[i].bytes;
            cg_replay_program(r0, prog, bytes, align, win, n_win, &got);
            cg_replay(ru, align, win, n_win, &want);
            runs++;
            failed += want.failed_checks != 0;
            held += n_win > 0 && want.failed_checks == 0;
            if (!same_result(&got, &want, ru->n_buffers)) {
                if (bad == 0)
                    print_message("# trial %d variant %d, recorded at u %lld, run at %lld: peak0 "
                                  "%llu vs %llu, failed %x vs %x\n",
                                  trial, v, (long long)u0, (long long)u,
                                  (unsigned long long)got.peak[0], (unsigned long long)want.peak[0],
                                  got.failed_checks, want.failed_checks);
                bad++;
            }
        }
    }
    print_message("# %d runs from records (%d with a window failed, %d with all settled), %d "
                  "points skipped (in-place layouts changed); %d records with a checkpoint (%d "
                  "past half their graph)\n",
                  runs, failed, held, skipped, checkpoints, deep);
    assert_int_equal(bad, 0);
    /* both outcomes were reached */
    assert_true(failed > runs / 10);
    assert_true(held > runs / 100);
    assert_true(checkpoints > 100 && deep > 20);
    free(slope);
    free(base);
    free(bytes);
    free(prog);
    free(vu);
    free(v0);
    free(gu);
    free(g0);
}

/* A random graph pair for the parametric replays: g0 at the returned u0
 * (1..6), g1 one step on (no zero sizes), with alignments and windows. */
static int64_t random_pair(uint64_t *rng, graph_spec *sp, cg_graph *g0, cg_graph *g1,
                           uint32_t align[CG_MAX_BUFFERS], cg_window win[CG_MAX_WINDOWS],
                           int *n_win)
{
    random_spec(sp, rng);
    sp->zero_sizes = false;
    const int64_t u0 = 1 + (int64_t)(fx_next_rand(rng) % 6);
    random_graph(g0, sp, u0);
    random_graph(g1, sp, u0 + 1);
    random_alignment(align, rng);
    *n_win = random_windows(g0, sp, rng, win);
    return u0;
}

/* The parametric replay of the pair (g0 at u_graph, g1 one step on) at
 * u_eval against plain replays at every u of the range it returns: the
 * mismatches (0 when it is invalid); points and wide count what was
 * checked. */
static int param_mismatches(cg_graph *g0, cg_graph *g1, cg_graph *gu, const graph_spec *sp,
                            int64_t u_graph, int64_t u_eval, const uint32_t align[CG_MAX_BUFFERS],
                            const cg_window *win, int n_win, int *points, int *wide)
{
    cg_param_result pr;
    cg_replay_param(g0, g1, u_graph, u_eval, 1, 40, CG_REACH_ANY, align, win, n_win, &pr);
    if (!pr.valid)
        return 0;
    *wide += pr.hi > pr.lo;
    int bad = 0;
    for (int64_t u = pr.lo; u <= pr.hi; u++) {
        random_graph(gu, sp, u);
        cg_alloc_result got;
        cg_replay(gu, align, win, n_win, &got);
        (*points)++;
        bool same = got.failed_checks == pr.failed_checks && got.periodic_ok == pr.periodic_ok &&
                    memcmp(got.lag, pr.lag, sizeof got.lag) == 0;
        for (int b = 0; b < gu->n_buffers; b++)
            same = same && got.peak[b] == (uint64_t)(pr.peak[b].a + pr.peak[b].b * u);
        if (!same) {
            if (bad == 0)
                print_message("# graph at u %lld, replayed at %lld: u %lld in [%lld, %lld]: the "
                              "forms differ from the replay\n",
                              (long long)u_graph, (long long)u_eval, (long long)u,
                              (long long)pr.lo, (long long)pr.hi);
            bad++;
        }
    }
    return bad;
}

/* Replayed at the point the pair was built for, and at another (a sweep
 * replays a kept pair at the points its forms miss). */
static void test_param_equals_plain(void **state)
{
    (void)state;
    cg_graph *g0 = malloc(sizeof *g0), *g1 = malloc(sizeof *g1), *gu = malloc(sizeof *gu);
    assert_non_null(g0);
    assert_non_null(g1);
    assert_non_null(gu);
    uint64_t rng = 77;
    int bad = 0, points = 0, wide = 0, points_elsewhere = 0, wide_elsewhere = 0;
    for (int trial = 0; trial < 400; trial++) {
        graph_spec sp;
        uint32_t align[CG_MAX_BUFFERS];
        cg_window win[CG_MAX_WINDOWS];
        int n_win;
        const int64_t u0 = random_pair(&rng, &sp, g0, g1, align, win, &n_win);
        const int64_t u_else = 1 + (int64_t)(fx_next_rand(&rng) % 40);
        bad += param_mismatches(g0, g1, gu, &sp, u0, u_else, align, win, n_win, &points_elsewhere,
                                &wide_elsewhere);
        bad += param_mismatches(g0, g1, gu, &sp, u0, u0, align, win, n_win, &points, &wide);
    }
    print_message("# %d points checked, %d ranges wider than one point; replayed elsewhere: %d "
                  "points, %d wide ranges\n", points, wide, points_elsewhere, wide_elsewhere);
    assert_int_equal(bad, 0);
    assert_true(wide > 40);
    assert_true(points_elsewhere > 400 && wide_elsewhere > 40);
    free(gu);
    free(g1);
    free(g0);
}

static bool same_param(const cg_param_result *a, const cg_param_result *b, int n_buffers)
{
    if (a->valid != b->valid || a->narrow != b->narrow)
        return false;
    if (!a->valid)
        return true;
    if (a->lo != b->lo || a->hi != b->hi || a->failed_checks != b->failed_checks ||
        memcmp(a->lag, b->lag, sizeof a->lag) != 0)
        return false;
    for (int k = 0; k < n_buffers; k++)
        if (a->peak[k].a != b->peak[k].a || a->peak[k].b != b->peak[k].b)
            return false;
    return true;
}

/* The parametric replay run from a record of the pair's graph gives what
 * the replay of the pair gives (forms, range, checks), stopping where it
 * stops for a reach; and a stop means the whole range misses the reach. */
static void test_param_program_equals_param(void **state)
{
    (void)state;
    cg_graph *g0 = malloc(sizeof *g0), *g1 = malloc(sizeof *g1);
    cg_program *prog = malloc(sizeof *prog);
    int64_t *base = malloc(sizeof *base * CG_MAX_NODES), *slope = malloc(sizeof *slope * CG_MAX_NODES);
    uint64_t *bytes = malloc(sizeof *bytes * CG_MAX_NODES);
    assert_non_null(g0);
    assert_non_null(g1);
    assert_non_null(prog);
    assert_non_null(base);
    assert_non_null(slope);
    assert_non_null(bytes);
    uint64_t rng = 31337;
    int bad = 0, runs = 0, narrow = 0, wide = 0, checkpoints = 0;
    for (int trial = 0; trial < 600; trial++) {
        graph_spec sp;
        uint32_t align[CG_MAX_BUFFERS];
        cg_window win[CG_MAX_WINDOWS];
        int n_win;
        const int64_t u0 = random_pair(&rng, &sp, g0, g1, align, win, &n_win);
        cg_param_result full;
        cg_replay_param(g0, g1, u0, u0, 1, 40, CG_REACH_ANY, align, win, n_win, &full);
        if (!full.valid || full.layout_moved)
            continue; /* a record holds only where the in-place choices stay */
        cg_alloc_result rec;
        cg_replay_record(g0, align, win, n_win, &rec, prog);
        const int64_t limit = cg_param_sizes(g0, g1, u0, base, slope);
        assert_true(prog->valid);
        assert_true(limit >= 40);
        if (trial % 2) { /* from a checkpoint, where one is found */
            for (int i = 0; i < g0->n_nodes; i++)
                bytes[i] = g0->nodes[i].bytes;
            cg_program_checkpoint(g0, prog, bytes, slope, align, win, n_win, 1);
            checkpoints += prog->checkpoint.at_node > 0;
        }
        for (int k = 0; k < 3; k++) {
            const int64_t u = k == 0 ? u0 : 1 + (int64_t)(fx_next_rand(&rng) % 40);
            /* k 2: a reach of a few points on either side (k 0, 1: none) */
            int64_t reach_lo = INT64_MAX, reach_hi = INT64_MIN;
            if (k == 2) {
                reach_lo = u - (int64_t)(fx_next_rand(&rng) % 6);
                reach_hi = u + (int64_t)(fx_next_rand(&rng) % 6);
            }
            cg_param_result want, got;
            cg_replay_param(g0, g1, u0, u, 1, 40, reach_lo, reach_hi, align, win, n_win, &want);
            cg_replay_param_program(g0, prog, base, slope, u, 1, 40, reach_lo, reach_hi, align, win,
                                    n_win, &got);
            runs++;
            narrow += got.narrow;
            wide += got.valid && got.hi > got.lo;
            bool ok = same_param(&got, &want, g0->n_buffers);
            if (got.narrow) { /* stopped only when the whole replay's range misses the reach */
                cg_param_result all;
                cg_replay_param(g0, g1, u0, u, 1, 40, CG_REACH_ANY, align, win, n_win, &all);
                ok = ok && all.valid && (all.lo > reach_lo || all.hi < reach_hi);
            }
            if (!ok) {
                if (bad == 0)
                    print_message("# trial %d, u %lld, reach [%lld, %lld]: valid %d/%d narrow %d/%d "
                                  "range [%lld, %lld] vs [%lld, %lld]\n",
                                  trial, (long long)u, (long long)reach_lo, (long long)reach_hi,
                                  got.valid, want.valid,
                                  got.narrow, want.narrow, (long long)got.lo, (long long)got.hi,
                                  (long long)want.lo, (long long)want.hi);
                bad++;
            }
        }
    }
    print_message("# %d parametric runs from records: %d stopped narrow, %d wide ranges; %d "
                  "records with a checkpoint\n", runs, narrow, wide, checkpoints);
    assert_int_equal(bad, 0);
    assert_true(runs > 600 && narrow > 20 && wide > 40 && checkpoints > 20);
    free(bytes);
    free(slope);
    free(base);
    free(prog);
    free(g1);
    free(g0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_equals_reference),
        cmocka_unit_test(test_program_equals_replay),
        cmocka_unit_test(test_many_live_tensors),
        cmocka_unit_test(test_windows_find_cycles),
        cmocka_unit_test(test_param_equals_plain),
        cmocka_unit_test(test_param_program_equals_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
