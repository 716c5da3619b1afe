/* hr_compute_estimate: llama.cpp's compute buffers, from a replay of the
 * worst-case reserve graph through ggml-alloc's packing.
 *
 * llama.cpp (llama_context::sched_reserve) reserves a prompt graph of
 * n_tokens = min(n_ctx, n_ubatch) tokens (rounded up to a multiple of the
 * sequences), every output row, all sequences and full-size KV views, then a
 * one-token-per-sequence graph, then the prompt graph again; each buffer
 * keeps the largest size any reserve asked for. We build both graphs
 * (build.c) and replay ggml-alloc (galloc.c).
 *
 * Speed: repeating layers of the same kind drive the allocator through the
 * same steps. If the allocator state (free blocks and the live tensors'
 * places) at the start of layer P equals the state at the start of layer
 * P-d, where the layer kinds repeat with period d from P-d on, then every
 * later run of d layers starts from that same state, takes the same steps
 * and reaches the same peak. So layers P .. P+S-1 (S a multiple of d) can be
 * left out: the replay of the truncated graph reaches the same peak as the
 * full graph. The inputs shared by all layers (positions, masks, indices)
 * are freed only after their last user, in the last layer, which is always
 * emitted; their child counts differ in the truncated graph but only their
 * reaching zero matters. The state check is done during the replay; when it
 * fails, more layers are kept, up to the whole graph.
 *
 * GPU runs (split.c): nodes run where their layer sits; inputs live on the
 * host (the pinned CUDA_Host buffer); a node reading another backend's
 * tensor reads a copy made at the start of its split. A host layer's ops
 * with weights move to the first GPU once the batch reaches 32 tokens (op
 * offload), their weights and KV views copied in, each weight at the start
 * of a split of its own; with a CUDA, ROCm or Vulkan GPU the host weights sit
 * in its host buffer (or are mapped), never repacked; with Metal only,
 * weights repacked for the CPU (Q4_0, Q4_K, IQ4_NL, MXFP4 on an AVX2 host)
 * are not in a host buffer and keep their op on the CPU; the other ops
 * follow the scheduler's expansion passes (cg_assign_backends). A block
 * copies in its own weights (hr_model_layer_roles), so op-offloaded blocks of
 * a quantization mix are of different kinds. Recurrent blocks op-offload
 * alike, their state cache's ops (clearing, row gathers, writes) staying on
 * the host and Mamba's scan too (build_recurrent.c). Known approximations:
 * the repack rule assumes an AVX2-class host; a model without per-block
 * tables copies the largest block of each role, RWKV the first block's
 * matrix of each name; a strided view read from another
 * backend is copied at its root's size (the scheduler copies the view)
 * except where the builders emit the copy themselves, flagged
 * CG_FLAG_SCHED, which split.c places among their split's inputs: the
 * recurrent state views, s_copy's two views, and a fused projection's V
 * written into a host cache; pipeline parallelism keeps 4 copies of the inputs;
 * buffers are one chunk (no maximum allocation size). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "model/model_internal.h"
#include "compute.h"

#define MAX_PERIOD 8

static int layer_device(const hr_compute_input *in, int il)
{
    for (int d = 0; d < in->n_devices && d < HR_MAX_DEVICES; d++)
        if (il >= in->layer_begin[d] && il < in->layer_end[d])
            return d;
    return 0;
}

/* device of each layer, looked up once per estimate (layers beyond the
 * table fall back to layer_device) */
#define DEV_TABLE 1024
typedef struct dev_table {
    uint8_t dev[DEV_TABLE];
    int n;
} dev_table;

static void fill_dev_table(const hr_compute_input *in, int n_layer, dev_table *t)
{
    t->n = n_layer < DEV_TABLE ? (n_layer > 0 ? n_layer : 0) : DEV_TABLE;
    memset(t->dev, 0, (size_t)t->n);
    /* the first device whose range holds a layer wins: fill the last first */
    const int n_dev = in->n_devices < HR_MAX_DEVICES ? in->n_devices : HR_MAX_DEVICES;
    for (int d = n_dev - 1; d >= 0; d--) {
        const int lo = in->layer_begin[d] > 0 ? in->layer_begin[d] : 0;
        const int hi = in->layer_end[d] < t->n ? in->layer_end[d] : t->n;
        for (int il = lo; il < hi; il++)
            t->dev[il] = (uint8_t)d;
    }
}

static int table_device(const hr_compute_input *in, const dev_table *t, int il)
{
    return il < t->n ? t->dev[il] : layer_device(in, il);
}

/* The model's per-block weight tables when the prompt graph op-offloads
 * host blocks, whose weights are copied in (a block of another table builds
 * other sizes); NULL otherwise (gpu_run: a GPU takes part, not in CPU
 * mode), or when every block has the same table. */
static const uint16_t *offload_sigs(const hr_compute_input *in, bool gpu_run)
{
    if (!gpu_run || in->n_tokens < 32 ||
        (in->n_devices >= 1 && in->layer_end[0] <= in->layer_begin[0]))
        return NULL;
    hr_layer_roles lr;
    return hr_model_layer_roles(in->model, &lr) && lr.n_sig > 1 ? lr.sig : NULL;
}

/* layer il's weight table where it matters (an op-offloaded host block) */
static uint16_t eff_sig(const hr_compute_input *in, const dev_table *t, const uint16_t *sigs, int il)
{
    return sigs && il < (int)in->model->n_layer && table_device(in, t, il) == 0 ? sigs[il] : CG_NO_SIG;
}

/* two layers build the same ops with the same sizes (their fields and,
 * op-offloaded, their weights) */
static bool same_fields(const hr_compute_input *in, const dev_table *t, const uint16_t *sigs, int i, int j)
{
    return cg_same_layer(&in->model->layers[i], &in->model->layers[j]) &&
           eff_sig(in, t, sigs, i) == eff_sig(in, t, sigs, j);
}

/* two layers build the same ops with the same sizes on the same device */
static bool same_kind(const hr_compute_input *in, const dev_table *t, const uint16_t *sigs, int i, int j)
{
    return same_fields(in, t, sigs, i, j) && table_device(in, t, i) == table_device(in, t, j);
}

/* every op-offloaded block has the same weight table */
static bool one_sig(const hr_compute_input *in, const dev_table *t, const uint16_t *sigs)
{
    for (int il = 1; sigs && il < t->n; il++)
        if (eff_sig(in, t, sigs, il) != CG_NO_SIG && eff_sig(in, t, sigs, il) != eff_sig(in, t, sigs, 0))
            return false;
    return true;
}

/* The repeating layers [0, n_layer - 1) (the last one differs anyway:
 * out_ids) cut into runs, each periodic in layer kind: greedily from the
 * front, the period (up to MAX_PERIOD) that carries furthest; layers where
 * no period repeats make runs of period 0 (emitted whole). */
#define MAX_SEGMENTS 8
_Static_assert(MAX_SEGMENTS <= CG_MAX_WINDOWS && MAX_PERIOD <= CG_MAX_PERIOD,
               "one state-check window per run");
typedef struct segment { int start, end, period; } segment;

/* Each layer's kind as a small number: equal numbers mean same_kind (an
 * equivalence): the layer's fields, numbered against one layer of each
 * field set seen (the previous layer first: runs repeat it), times the
 * devices, plus its device. NO_KIND when the field sets outnumber the list. */
#define MAX_KINDS 28 /* 28 * HR_MAX_DEVICES (9) + 8 < NO_KIND */
#define NO_KIND 0xff
_Static_assert(MAX_KINDS * HR_MAX_DEVICES <= NO_KIND, "kind numbers fit a byte");
static void kind_ids(const hr_compute_input *in, const dev_table *devs, const uint16_t *sigs,
                     uint8_t *kind)
{
    const hr_layer *L = in->model->layers;
    /* most models: every layer the same bytes (so the same fields), told by
     * one compare of the array with itself one layer on; padding that
     * differs only sends it the long way */
    if (devs->n > 1 &&
        (in->layers_alike || memcmp(&L[1], &L[0], (size_t)(devs->n - 1) * sizeof *L) == 0) &&
        one_sig(in, devs, sigs)) {
        for (int il = 0; il < devs->n; il++)
            kind[il] = devs->dev[il]; /* field set 0 */
        return;
    }
    int rep[MAX_KINDS], n_kinds = 0, prev = -1;
    for (int il = 0; il < devs->n; il++) {
        int fk = -1;
        if (prev >= 0 && same_fields(in, devs, sigs, il, il - 1)) {
            fk = prev;
        } else {
            for (int k = n_kinds - 1; k >= 0 && fk < 0; k--)
                if (same_fields(in, devs, sigs, il, rep[k]))
                    fk = k;
            if (fk < 0 && n_kinds < MAX_KINDS) {
                rep[n_kinds] = il;
                fk = n_kinds++;
            }
        }
        prev = fk;
        kind[il] = fk < 0 ? NO_KIND : (uint8_t)(fk * HR_MAX_DEVICES + devs->dev[il]);
    }
}

static int find_segments(const hr_compute_input *in, bool gpu_run, segment *seg)
{
    const int limit = (int)in->model->n_layer - 1;
    dev_table devs;
    fill_dev_table(in, limit, &devs);
    uint8_t kind[DEV_TABLE];
    const int n_ids = devs.n;
    const uint16_t *sigs = offload_sigs(in, gpu_run);
    kind_ids(in, &devs, sigs, kind);
    int n_seg = 0, i = 0;
    while (i < limit) {
        int best_end = i + 1, best_d = 0; /* 0: no period repeats from i */
        for (int d = 1; d <= MAX_PERIOD && i + d <= limit && best_end < limit; d++) {
            int j = i + d;
            /* eight kinds at a time while they match and none is NO_KIND */
            for (; j + 8 <= n_ids; j += 8) {
                uint64_t x, y;
                memcpy(&x, kind + j, sizeof x);
                memcpy(&y, kind + j - d, sizeof y);
                const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
                if (x != y || ((~x - ones) & x & highs)) /* unequal, or a 0xff byte */
                    break;
            }
            while (j < n_ids && kind[j] != NO_KIND && kind[j] == kind[j - d])
                j++;
            while (j < limit && (j < n_ids && kind[j] != NO_KIND && kind[j - d] != NO_KIND
                                     ? kind[j] == kind[j - d]
                                     : same_kind(in, &devs, sigs, j, j - d)))
                j++;
            /* a period counts when it repeats: one period alone skips
             * nothing, and would swallow the layers of a run after it */
            if (j > best_end && j >= i + 2 * d) {
                best_end = j;
                best_d = d;
            }
        }
        if (best_d == 0 && n_seg > 0 && seg[n_seg - 1].period == 0 && seg[n_seg - 1].end == i) {
            seg[n_seg - 1].end = best_end; /* with the unrepeated layers before it */
            i = best_end;
            continue;
        }
        if (n_seg == MAX_SEGMENTS) { /* out of room: the rest as one run, unchecked */
            seg[n_seg - 1].end = limit;
            seg[n_seg - 1].period = 0;
            break;
        }
        seg[n_seg].start = i;
        seg[n_seg].end = best_end;
        seg[n_seg].period = best_d;
        n_seg++;
        i = best_end;
    }
    return n_seg;
}

/* the period after run s (its kinds) follows it in the model; sigs and
 * devs as offload_sigs and fill_dev_table give them (devs read only where
 * sigs is set) */
static bool kinds_follow(const hr_compute_input *in, const dev_table *devs, const uint16_t *sigs,
                         const segment *s)
{
    const int d = s->period;
    if (d < 1 || s->end - d < s->start || s->end + d > (int)in->model->n_layer)
        return false;
    for (int j = 0; j < d; j++)
        if (!same_fields(in, devs, sigs, s->end + j, s->end - d + j))
            return false;
    return true;
}

typedef struct run_cfg {
    int64_t n_tokens, n_outputs;
    cg_roles *roles; /* the estimate's weight roles, scanned once */
} run_cfg;

static void init_build(cg_build *b, cg_graph *g, const hr_compute_input *in, const run_cfg *rc,
                       uint8_t buf_output)
{
    memset(b, 0, sizeof *b);
    b->g = g;
    b->in = in;
    b->m = in->model;
    b->n_tokens = rc->n_tokens;
    b->n_outputs = rc->n_outputs;
    b->roles = rc->roles;
    b->n_stream = in->n_seq ? in->n_seq : 1;
    b->n_stream_all = in->settings && in->settings->n_seq ? in->settings->n_seq : b->n_stream;
    b->n_kv = in->n_kv ? in->n_kv : rc->n_tokens;
    b->n_kv_swa = in->n_kv_swa ? in->n_kv_swa : b->n_kv;
    b->fa = in->flash_attn;
    b->buf_input = 0;
    b->buf_output = buf_output;
    b->op_offload = false;
    b->wsig = CG_NO_SIG;
    b->host_repack = true;
    for (int i = 1; i < in->n_devices && i < HR_MAX_DEVICES; i++) {
        if (in->backends[i] != HR_BACKEND_CPU)
            b->op_offload = !(in->settings && in->settings->mode == HR_MODE_CPU);
        /* llama.cpp's CPU weight list puts the first GPU's host buffer type
         * (CUDA_Host, ROCm_Host, Vulkan_Host) ahead of CPU_REPACK, or with
         * mmap the plain CPU buffer instead of it: no repack either way */
        if (in->backends[i] == HR_BACKEND_CUDA || in->backends[i] == HR_BACKEND_ROCM ||
            in->backends[i] == HR_BACKEND_VULKAN)
            b->host_repack = false;
    }
    b->kv_on_host = b->op_offload && !in->offload_kv;
}

/* Which layers to emit: in each run [s, e) of period d, the first
 * P = s + reps * d, then the last e - P - S (S skipped, a multiple of d),
 * and a state check between the marks of layers P - d and P. Each run has
 * its own reps: it starts small (often the state entering a run's second
 * layer already equals the one entering its first) and grows, for the runs
 * whose check failed, until every check holds. The last layer is always
 * emitted.
 *
 * A grown run checks every mark x of its layers up to P against x - L d
 * for L = 1 .. 4 (while 4d reaches no further back than the replay keeps):
 * equal states at marks a and a + L d (a + L d <= P) make every later run of
 * L periods repeat from a on, so if S is a multiple of L d the layers
 * [P, P + S) repeat [P - L d, P), already replayed, and leave the state as
 * they found it. A run grown after a failed check skips a multiple of 2d
 * (L = 1, 2 and 4 fit), one started grown a multiple of d; a run settled by
 * an L that does not divide its S is planned again with S a multiple of L d
 * (the same layers before P: the same states, the same pair). L > 1 catches runs whose
 * tensors take turns between two or three places (a ping-pong: op-offloaded
 * host layers); checking every mark catches a run that settles after a few
 * layers of its own (the first layers after a split, or after op-offloaded
 * host layers). */
typedef struct layer_plan {
    int32_t layers[CG_MAX_LAYER_MARKS];
    int n;
    cg_window windows[CG_MAX_WINDOWS]; /* the state checks, one per truncated run */
    int window_seg[CG_MAX_WINDOWS];    /* the run each window is for */
    int n_windows;
    int skipped[MAX_SEGMENTS];         /* S of each run (0: emitted whole) */
    int sum_marks[MAX_SEGMENTS][2];    /* marks of layers P - d and P: the period the skip repeats */
    bool complete;                     /* every run emitted whole: nothing to check */
    bool cut;                          /* the array's room cut layers: a lower bound */
} layer_plan;

/* The windows settled by L periods that do not divide their run's skip
 * (bit w), which the caller counts as failed. */
static uint32_t lags_off(const layer_plan *lp, const segment *seg, const uint8_t *lag)
{
    uint32_t off = 0;
    for (int v = 0; v < lp->n_windows; v++) {
        const int k = lp->window_seg[v], L = lag[v];
        if (L > 0 && lp->skipped[k] % (L * seg[k].period) != 0)
            off |= 1u << v;
    }
    return off;
}

/* runs whose window settled */
static uint32_t settled_runs(const layer_plan *lp, uint32_t failed_checks)
{
    uint32_t settled = 0;
    for (int w = 0; w < lp->n_windows; w++)
        if (!(failed_checks & (1u << w)))
            settled |= 1u << lp->window_seg[w];
    return settled;
}

static bool all_settled(const layer_plan *lp, int n_seg, uint32_t failed_checks)
{
    const uint32_t settled = settled_runs(lp, failed_checks);
    for (int k = 0; k < n_seg; k++)
        if (lp->skipped[k] && !(settled & (1u << k)))
            return false;
    return true;
}

/* How a run is emitted: reps periods before the skip, S a multiple of
 * step periods, every mark checked (grown) or only P against P - d; tail:
 * one period kept after the skip (see plan_layers). */
typedef struct run_plan { int reps, step; bool grown, tail; } run_plan;

static void plan_layers(int n, const segment *seg, int n_seg, const run_plan *rp, layer_plan *lp)
{
    const int cap = (int)(sizeof lp->layers / sizeof lp->layers[0]);
    lp->n = 0;
    lp->n_windows = 0;
    lp->complete = true;
    lp->cut = false;
    for (int k = 0; k < n_seg; k++) {
        const int s0 = seg[k].start, e = seg[k].end, d = seg[k].period;
        const int P = d > 0 && rp[k].reps < e - s0 ? s0 + rp[k].reps * d : e;
        const int step = rp[k].step * d; /* S is a multiple of it */
        lp->skipped[k] = 0;
        if (d > 0 && P < e) {
            const int tail = rp[k].tail ? d : 0;
            const int S = e - P - tail > 0 ? (e - P - tail) / step * step : 0;
            if (S > 0 && lp->n_windows < CG_MAX_WINDOWS) {
                const int base = lp->n, hi = lp->n + (P - s0);
                cg_window *v = &lp->windows[lp->n_windows];
                v->base = (int16_t)base;
                v->hi = (int16_t)hi;
                v->lo = (int16_t)(rp[k].grown ? base + d : hi);
                v->period = (uint8_t)d;
                v->max_lag = (uint8_t)(rp[k].grown ? (CG_MAX_LOOKBACK / d < 4 ? CG_MAX_LOOKBACK / d : 4) : 1);
                lp->window_seg[lp->n_windows++] = k;
                lp->sum_marks[k][0] = hi - d;
                lp->sum_marks[k][1] = hi;
                lp->skipped[k] = S;
                lp->complete = false;
            }
        }
        /* [s0, e) less the skipped [P, P + S) */
        const int skip_from = lp->skipped[k] ? P : e, skip_to = lp->skipped[k] ? P + lp->skipped[k] : e;
        for (int i = s0 == skip_from ? skip_to : s0; i < e; i = i + 1 == skip_from ? skip_to : i + 1) {
            if (lp->n < cap - 1)
                lp->layers[lp->n++] = i;
            else
                lp->cut = true;
        }
    }
    lp->layers[lp->n++] = n - 1;
}

/* What a replay leaves for the caller: the peaks and, for the bound on the
 * other graph, the bytes of every tensor of the full graph. */
typedef struct graph_result {
    bool too_big;
    bool bad_attention; /* a layer's attention shape no model has: bad_layer */
    int bad_layer;
    bool lower_bound; /* the graph did not fit the replay's room */
    uint64_t peak[CG_MAX_BUFFERS];
    uint64_t scaled[CG_MAX_BUFFERS], fixed[CG_MAX_BUFFERS], count[CG_MAX_BUFFERS];
} graph_result;

/* llama_context: pipeline parallelism with more than one GPU holding every
 * layer and the output, KV offloaded: the scheduler keeps 4 copies. */
static int pipeline_copies(const hr_compute_input *in)
{
    int gpus = 0;
    for (int d = 1; d < in->n_devices && d < HR_MAX_DEVICES; d++)
        if (in->backends[d] != HR_BACKEND_CPU && in->layer_end[d] > in->layer_begin[d])
            gpus++;
    const bool all_layers = in->layer_end[0] <= in->layer_begin[0];
    return gpus > 1 && all_layers && in->output_on_gpu && in->offload_kv ? 4 : 1;
}

/* The input leafs among nodes [from, to), taken off the sums `times`
 * times: an input is made once, at its first use (a CPU run's window is
 * its first period), so a skipped period is the window less its leafs.
 * The leaf list is in node order: read from its end down to `from`. */
static void sub_leafs(const cg_graph *g, int from, int to, uint64_t times, graph_result *gr)
{
    for (int l = g->n_leafs - 1; l >= 0 && g->leafs[l] >= from; l--) {
        const int i = g->leafs[l];
        if (i >= to || i >= g->n_nodes)
            continue;
        const cg_node *n = &g->nodes[i];
        if (n->flags & CG_FLAG_FIXED)
            gr->fixed[n->buffer] -= n->bytes * times;
        else
            gr->scaled[n->buffer] -= n->bytes * times;
        gr->count[n->buffer] -= times;
    }
}

/* The bytes of every tensor of the full graph: the emitted ones plus, for
 * each run, the skipped periods, each a copy of the d layers before the
 * check less the input leafs made there. */
static void sum_full_graph(const cg_graph *g, const layer_plan *lp, const segment *seg, int n_seg,
                           graph_result *gr)
{
    /* One walk when the windows come in node order and apart (always: runs
     * follow each other): the pieces between them into the totals, each
     * window on its own, then added once for itself and once per skipped
     * period, less its leafs. Two walks otherwise (the graph, then each
     * window). */
    bool in_order = true;
    int pos = 0;
    for (int k = 0; k < n_seg; k++) {
        if (!lp->skipped[k])
            continue;
        const int ma = lp->sum_marks[k][0], mb = lp->sum_marks[k][1];
        if (ma < g->n_layer_marks && mb < g->n_layer_marks) {
            const int a = g->layer_start[ma], b = g->layer_start[mb];
            if (a < pos || b < a)
                in_order = false;
            pos = b;
        }
    }
    if (!in_order)
        cg_sum_bytes(g, 0, g->n_nodes, gr->scaled, gr->fixed, gr->count);
    pos = 0;
    for (int k = 0; k < n_seg; k++) {
        if (!lp->skipped[k])
            continue;
        /* (only the graph's buffers are summed, cleared and added) */
        uint64_t ps[CG_MAX_BUFFERS], pf[CG_MAX_BUFFERS], pc[CG_MAX_BUFFERS];
        for (int i = 0; i < g->n_buffers; i++)
            ps[i] = pf[i] = pc[i] = 0;
        const int ma = lp->sum_marks[k][0], mb = lp->sum_marks[k][1];
        const uint64_t times = (uint64_t)(lp->skipped[k] / seg[k].period);
        uint64_t times_added = times;
        int a = 0, b = 0;
        if (ma < g->n_layer_marks && mb < g->n_layer_marks) {
            a = g->layer_start[ma];
            b = g->layer_start[mb];
            if (in_order) {
                cg_sum_bytes(g, pos, a, gr->scaled, gr->fixed, gr->count);
                pos = b;
                times_added++; /* the window itself is part of the graph */
            }
            cg_sum_bytes(g, a, b, ps, pf, pc);
        }
        for (int i = 0; i < g->n_buffers; i++) {
            gr->scaled[i] += ps[i] * times_added;
            gr->fixed[i] += pf[i] * times_added;
            gr->count[i] += pc[i] * times_added;
        }
        sub_leafs(g, a, b, times, gr);
    }
    if (in_order)
        cg_sum_bytes(g, pos, g->n_nodes, gr->scaled, gr->fixed, gr->count);
}

/* Build the graph of the layers in lp, with the scheduler's passes and
 * copies when it spans several backends (unless schedule is false: the
 * test hook); returns the graph to replay (built or split). */
static const cg_graph *build_for_replay(const hr_compute_input *in, const run_cfg *rc,
                                        uint8_t buf_output, const layer_plan *lp,
                                        cg_graph *built, cg_graph *split, bool schedule)
{
    cg_build b;
    cg_init(built);
    init_build(&b, built, in, rc, buf_output);
    cg_build_graph(&b, lp->layers, lp->n);
    if (lp->cut)
        built->overflow = true;
    if (built->n_buffers > 1 && schedule) {
        if (built->any_free) /* no free node: nothing to place */
            cg_assign_backends(built, 1);
        cg_split_copies(built, split, pipeline_copies(in));
        return split;
    }
    return built;
}

typedef hr_compute_forms graph_forms;

/* a graph as built and its scheduler copy: ~300 KiB together, so on the
 * heap rather than a (maybe small) thread stack */
typedef struct graph_pair { cg_graph built, split; } graph_pair;

/* What the last forms left in the room: the graph pair they were replayed
 * on (at u_graph and one step further) and how its layers were cut, so that
 * a point the forms do not cover is one replay of the same pair away. */
typedef struct kept_graphs {
    uint64_t stamp; /* the room's stamp when kept */
    const cg_graph *g, *g_next;
    int64_t u_graph;
    layer_plan lp;
    segment seg[MAX_SEGMENTS];
    int n_seg;
    uint32_t align[CG_MAX_BUFFERS];
    bool layouts_fixed; /* every in-place compare came out the same in both graphs,
                           so at every u: a plain replay at u may use g's keys */
    bool recorded;      /* the room's program is g's (valid or not) */
    run_plan rp[MAX_SEGMENTS]; /* the run plans that made lp */
    int attempts;              /* the replay_graph attempts they took */
} kept_graphs;

/* the plain replay's pair and the one a step further (forms); stamp counts
 * the replays that rebuilt them */
struct hr_compute_work {
    graph_pair pair[2];
    uint64_t stamp;
    kept_graphs kept;
    cg_program program;            /* the kept graph's plain replay, recorded */
    uint64_t bytes[CG_MAX_NODES];  /* its sizes at the point plain_at runs it */
    int64_t base[CG_MAX_NODES], slope[CG_MAX_NODES]; /* its sizes as forms (when recorded) */
    int64_t u_limit;               /* the last u they hold for (-1: none) */
    int16_t varying[CG_MAX_NODES]; /* the nodes whose size depends on u */
    int n_varying;
};

/* a checkpoint must skip at least this many steps to pay for its restore */
#define CHECKPOINT_MIN_STEPS 64

/* The kept pair's sizes as forms, for its record's runs: bytes holds every
 * size that does not depend on u from now on; and the record's checkpoint
 * (the buffers whose first steps are the same at every u). */
static void keep_sizes(hr_compute_work *work)
{
    const kept_graphs *k = &work->kept;
    work->u_limit = cg_param_sizes(k->g, k->g_next, k->u_graph, work->base, work->slope);
    work->n_varying = 0;
    if (work->u_limit < 0)
        return;
    for (int i = 0; i < k->g->n_nodes; i++) {
        if (work->slope[i] != 0)
            work->varying[work->n_varying++] = (int16_t)i;
        work->bytes[i] = k->g->nodes[i].bytes; /* at u_graph */
    }
    cg_program_checkpoint(k->g, &work->program, work->bytes, work->slope, k->align, k->lp.windows,
                          k->lp.n_windows, CHECKPOINT_MIN_STEPS);
}

hr_compute_work *hr_compute_work_new(void)
{
    hr_compute_work *work = malloc(sizeof(hr_compute_work));
    if (work) {
        work->stamp = 1;
        work->kept.stamp = 0; /* nothing kept */
    }
    return work;
}

void hr_compute_work_free(hr_compute_work *work)
{
    free(work);
}

/* The estimate's room: the caller's, else its own (freed by room_close). */
static hr_compute_work *room_open(const hr_compute_input *in)
{
    return in->work ? in->work : hr_compute_work_new();
}

static void room_close(const hr_compute_input *in, hr_compute_work *work)
{
    if (work != in->work)
        hr_compute_work_free(work);
}

#define U_MAX ((int64_t)1 << 24) /* n_kv fits 32 bits */

/* Every in-place compare a replay may make (a node that may run in place
 * against each source it reads directly) comes out the same in both graphs:
 * then at every u (each dimension is linear in u). */
static bool inplace_layouts_fixed(const cg_graph *g, const cg_graph *g_next)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const cg_node *n = &g->nodes[i];
        if (!(n->flags & CG_FLAG_INPLACE))
            continue;
        for (int j = 0; j < n->n_src; j++) {
            const int16_t h = n->src[j];
            if (h & CG_VIA_VIEW)
                continue;
            if ((g->nodes[h].layout == n->layout) != (g_next->nodes[h].layout == g_next->nodes[i].layout))
                return false;
        }
    }
    return true;
}

/* Forms are worth their replay (the parametric one costs about six plain
 * ones) when they cover the points the caller asks for next: a probe stops
 * as soon as its range no longer reaches PROBE_POINTS steps of the caller's
 * last move on (the range it must hold: probe_reach), and the point is
 * replayed plainly. A context sweep where the allocator's choices change at
 * nearly every step (partial offload below ~32k cells) pays a few nodes of
 * the parametric replay per point; one where they hold over long ranges
 * gets them at the price of one replay. Before any move the range must
 * reach PROBE_FIRST_REACH points up. */
#define PROBE_POINTS 6
#define PROBE_FIRST_REACH 15

static void probe_reach(int64_t u, int64_t step, int64_t *reach_lo, int64_t *reach_hi)
{
    *reach_lo = step < 0 ? u + PROBE_POINTS * step : u;
    *reach_hi = step > 0 ? u + PROBE_POINTS * step : step < 0 ? u : u + PROBE_FIRST_REACH;
}

/* The same graph one step of 256 cells further, replayed with linear sizes
 * (probe), or only built (the peaks' forms then hold at u0 alone, from the
 * plain replay's result `at`, as they do when the probe's range does not
 * reach PROBE_FIRST_REACH points up); the pair is kept in the room for
 * later points (kept_graphs). */
static void replay_forms(const hr_compute_input *in, const run_cfg *rc, uint8_t buf_output,
                         const uint32_t align[CG_MAX_BUFFERS], const segment *seg, int n_seg,
                         const layer_plan *lp, const cg_graph *g, const graph_result *gr,
                         bool probe, const cg_alloc_result *at, hr_compute_work *work,
                         graph_forms *gf)
{
    graph_pair *w = &work->pair[1];
    gf->valid = false;
    hr_compute_input next = *in;
    const bool swa_tied = in->n_kv_swa == in->n_kv;
    next.n_kv += 256;
    if (swa_tied)
        next.n_kv_swa = next.n_kv;
    const cg_graph *g_next = build_for_replay(&next, rc, buf_output, lp, &w->built, &w->split, true);
    cg_param_result pr;
    const int64_t u0 = in->n_kv / 256;
    if (probe)
        cg_replay_param(g, g_next, u0, u0, 1, U_MAX, u0, u0 + PROBE_FIRST_REACH, align,
                        lp->windows, lp->n_windows, &pr);
    if (!probe || pr.narrow) {
        memset(&pr, 0, sizeof pr);
        pr.valid = g->n_nodes == g_next->n_nodes;
        pr.layout_moved = !pr.valid || !inplace_layouts_fixed(g, g_next);
        pr.failed_checks = at->failed_checks;
        memcpy(pr.lag, at->lag, sizeof pr.lag);
        for (int i = 0; i < CG_MAX_BUFFERS; i++)
            pr.peak[i] = (cg_form){(int64_t)at->peak[i], 0};
        pr.lo = pr.hi = u0;
    }
    graph_result gr_next;
    memset(&gr_next, 0, sizeof gr_next);
    if (pr.valid)
        sum_full_graph(g_next, lp, seg, n_seg, &gr_next);
    if (!pr.valid ||
        (!lp->complete && !all_settled(lp, n_seg, pr.failed_checks | lags_off(lp, seg, pr.lag))))
        return;
    for (int i = 0; i < CG_MAX_BUFFERS; i++) {
        /* the forms must give back what the plain replay found at u0 */
        if (pr.peak[i].a + pr.peak[i].b * u0 != (int64_t)gr->peak[i] ||
            gr_next.count[i] != gr->count[i] || gr_next.scaled[i] < gr->scaled[i] ||
            gr_next.fixed[i] < gr->fixed[i])
            return;
        gf->peak[i] = pr.peak[i];
        const int64_t ds = (int64_t)(gr_next.scaled[i] - gr->scaled[i]);
        const int64_t df = (int64_t)(gr_next.fixed[i] - gr->fixed[i]);
        gf->scaled[i] = (cg_form){(int64_t)gr->scaled[i] - ds * u0, ds};
        gf->fixed[i] = (cg_form){(int64_t)gr->fixed[i] - df * u0, df};
        gf->count[i] = gr->count[i];
    }
    gf->lo = pr.lo;
    gf->hi = pr.hi;
    gf->valid = true;
    kept_graphs *k = &work->kept;
    k->stamp = work->stamp;
    k->g = g;
    k->g_next = g_next;
    k->u_graph = u0;
    k->lp = *lp;
    memcpy(k->seg, seg, sizeof k->seg[0] * (size_t)n_seg);
    k->n_seg = n_seg;
    memcpy(k->align, align, sizeof k->align);
    k->layouts_fixed = !pr.layout_moved;
    k->recorded = false;
}

/* After a replay of the layers lp planned, with the windows' outcomes in
 * res: the next run plans (replay_graph says how runs grow). A window
 * settled by L periods that do not divide its skip counts as failed (it
 * is added to res->failed_checks), and its run is planned again with a
 * skip of L periods' multiples. False: the cut holds (or can grow no
 * further), rp is the one that made lp. */
static bool grow_runs(run_plan *rp, const layer_plan *lp, const segment *seg, int n_seg, int n,
                      int attempt, bool overflow, cg_alloc_result *res)
{
    const uint32_t off = lags_off(lp, seg, res->lag);
    uint32_t replan = 0;
    for (int v = 0; v < lp->n_windows; v++) {
        if (off & (1u << v)) {
            const int k = lp->window_seg[v];
            rp[k].step = res->lag[v];
            replan |= 1u << k;
        }
    }
    res->failed_checks |= off;
    if (lp->complete || (all_settled(lp, n_seg, res->failed_checks) && !overflow))
        return false;
    const uint32_t settled = settled_runs(lp, res->failed_checks);
    bool grown = false;
    for (int k = 0; k < n_seg; k++) {
        if (!lp->skipped[k] || (!overflow && (settled & (1u << k))))
            continue;
        grown = true;
        if ((replan & (1u << k)) && !overflow && attempt < 16)
            continue; /* planned again as it is, with its new step */
        /* a run that doubled would skip less than half of itself: whole at
         * once (the doubled graph costs most of it anyway); so is every run
         * still unsettled after many attempts */
        const int len = seg[k].end - seg[k].start;
        const bool short_run = 2 * (2 * rp[k].reps + 1) * seg[k].period >= len;
        rp[k].reps = short_run || attempt >= 16 ? n + 1 : rp[k].reps * 2;
        rp[k].step = 2;
        rp[k].grown = true;
    }
    return grown;
}

/* The run plans a point whose kept cut failed starts from: the kept ones,
 * grown as a failed attempt grows them (the replay that failed at the
 * point was that attempt). */
typedef struct again_plan {
    run_plan rp[MAX_SEGMENTS];
    int attempts; /* the attempts the kept plans stand for */
} again_plan;

/* A kept cut that failed at a point (checks in res): every truncated run on
 * a device holding a failed one counts as failed too. One run whose state
 * stops repeating as the context grows says the allocator's choices on
 * that buffer are moving: its neighbours' tend to follow a few points on,
 * and each would cost a replay from scratch then. */
static void fail_device_runs(const hr_compute_input *in, const kept_graphs *k, cg_alloc_result *res)
{
    uint32_t devices = 0;
    for (int v = 0; v < k->lp.n_windows; v++)
        if (res->failed_checks >> v & 1)
            devices |= 1u << layer_device(in, k->seg[k->lp.window_seg[v]].start);
    for (int v = 0; v < k->lp.n_windows; v++)
        if (devices >> layer_device(in, k->seg[k->lp.window_seg[v]].start) & 1)
            res->failed_checks |= 1u << v;
}

/* Replay one reserve graph; with forms, also its result as linear forms of
 * the KV cells. again: the run plans of the kept pair a sweep's point found
 * cut too short (the same key): they are where the replay starts, its
 * forms hold at this point alone, and the replay is recorded (the points
 * after it replay this pair). */
static void replay_graph(const hr_compute_input *in, const run_cfg *rc, uint8_t buf_output,
                         const uint32_t align[CG_MAX_BUFFERS], const segment *seg, int n_seg,
                         hr_compute_work *work, graph_result *gr, graph_forms *forms,
                         const again_plan *again)
{
    const int n = (int)in->model->n_layer;
    graph_pair *w = &work->pair[0];
    work->stamp++; /* both pairs are rebuilt: what was kept is gone */
    const cg_graph *gp = &w->built;
    layer_plan lp;
    cg_alloc_result res;
    memset(&res, 0, sizeof res);
    bool gpu_any = false;
    for (int d = 1; d < in->n_devices && d < HR_MAX_DEVICES; d++)
        if (in->backends[d] != HR_BACKEND_CPU && !(in->settings && in->settings->mode == HR_MODE_CPU))
            gpu_any = true;
    /* splits inside the layers make the scheduler look ahead across layer
     * boundaries: host layers whose ops with weights move to a GPU (their
     * other ops are placed by the expansion passes), and every layer when
     * the KV cache stays on the host */
    const bool host_layers = in->n_devices < 1 || in->layer_end[0] > in->layer_begin[0];
    const bool ops_move = gpu_any && host_layers && rc->n_tokens >= 32;
    const bool kv_on_host = gpu_any && !in->offload_kv;

    /* a GPU run's first layer reads copies made before it: its state rarely
     * equals the next one's, so start from two periods; a run that follows
     * another device's layers settles after up to three, so it starts from
     * three with every mark checked. A run whose state has not settled
     * doubles its periods and checks every mark of them. A graph that
     * outgrew its room grows every truncated run the same way. */
    const int first_reps = gpu_any ? 2 : 1;
    /* A run keeps one period after its skip when the layers before the skip
     * must see the neighbours they have in the whole graph: where the
     * scheduler looks ahead (above; a GPU's layers hold no op it places);
     * when the run ends where another device's layers begin, the copies
     * made at the start of their split sit before their first layer's mark,
     * so the period before the skip (the one the skipped ones repeat, for
     * the checks and the sums) would take them in; and when the layers after
     * the run are not its kinds, an input only its layers read (a sliding
     * window's mask) is freed after its last period: keep that period. */
    run_plan rp[MAX_SEGMENTS];
    /* the weight tables matter only where host layers op-offload: the
     * device table is filled only then */
    const uint16_t *sigs = offload_sigs(in, gpu_any);
    dev_table devs;
    if (sigs)
        fill_dev_table(in, (int)in->model->n_layer, &devs);
    for (int k = 0; k < n_seg; k++) {
        const int dev = layer_device(in, seg[k].start);
        const bool tail = kv_on_host || (ops_move && dev == 0) ||
                          dev != layer_device(in, seg[k].end) || !kinds_follow(in, &devs, sigs, &seg[k]);
        const int s0 = seg[k].start, d = seg[k].period;
        const bool after_change = s0 > 0 && gpu_any && dev != layer_device(in, s0 - 1);
        /* the layer before the run, on its device, is of the kind its first
         * period ends with: the run's period reaches one layer back, so the
         * state entering its second period is likely the one entering its
         * first (a quantization mix's op-offloaded host layers after their
         * first eighth) */
        const bool reaches_back = s0 > 0 && d > 1 && !after_change && s0 - 1 + d < seg[k].end &&
                                  same_fields(in, &devs, sigs, s0 - 1, s0 - 1 + d);
        rp[k] = after_change && d == 1 ? (run_plan){3, 1, true, tail}
                                       : (run_plan){reaches_back ? 1 : first_reps, 1, false, tail};
    }
    int again_attempt = 0;
    if (again) {
        memcpy(rp, again->rp, sizeof rp[0] * (size_t)n_seg);
        again_attempt = again->attempts;
    }
    const bool record = forms && again;
    int last_attempt = again_attempt + 1;
    for (int attempt = again_attempt + 1;; attempt++) {
        plan_layers(n, seg, n_seg, rp, &lp);
        gp = build_for_replay(in, rc, buf_output, &lp, &w->built, &w->split, true);
        if (record)
            cg_replay_record(gp, align, lp.windows, lp.n_windows, &res, &work->program);
        else
            cg_replay(gp, align, lp.windows, lp.n_windows, &res);
        if (!grow_runs(rp, &lp, seg, n_seg, n, attempt, gp->overflow, &res)) {
            last_attempt = attempt;
            break;
        }
    }
    memset(gr, 0, sizeof *gr);
    gr->too_big = gp->too_big;
    gr->bad_attention = gp->bad_attention >= 0;
    gr->bad_layer = gp->bad_attention;
    gr->lower_bound = gp->overflow;
    for (int i = 0; i < CG_MAX_BUFFERS; i++)
        gr->peak[i] = res.peak[i];
    sum_full_graph(gp, &lp, seg, n_seg, gr);
    if (forms) {
        replay_forms(in, rc, buf_output, align, seg, n_seg, &lp, gp, gr, !again, &res, work, forms);
        kept_graphs *k = &work->kept;
        if (k->stamp == work->stamp && k->g == gp) {
            memcpy(k->rp, rp, sizeof rp[0] * (size_t)n_seg);
            k->attempts = last_attempt;
            if (record) {
                k->recorded = true;
                keep_sizes(work);
            }
        }
    }
}

static hr_status nomem_error(hr_error *err)
{
    return hr_error_set(err, HR_ERR_NOMEM, "compute: out of memory for the reserve graph");
}

/* Does the one-token-per-sequence graph provably stay under the prompt
 * graph's peaks? Every tensor of it is the prompt graph's tensor with
 * n_tokens (or n_outputs) scaled down, except the fixed ones; a packing never
 * needs more than all tensors side by side, each padded. */
static bool tg_below_pp(const graph_result *pp, const run_cfg *rpp, const run_cfg *rtg,
                        const uint32_t align[CG_MAX_BUFFERS])
{
    for (int i = 0; i < CG_MAX_BUFFERS; i++) {
        if (pp->count[i] == 0)
            continue;
        /* ratio as a fraction num/den, the larger of the two */
        uint64_t num = (uint64_t)rtg->n_tokens, den = (uint64_t)rpp->n_tokens;
        if ((uint64_t)rtg->n_outputs * den > num * (uint64_t)rpp->n_outputs) {
            num = (uint64_t)rtg->n_outputs;
            den = (uint64_t)rpp->n_outputs;
        }
        if (den == 0)
            return false;
        const uint64_t scaled = pp->scaled[i] / den * num + (pp->scaled[i] % den) * num / den + 1;
        const uint64_t bound = scaled + pp->fixed[i] + pp->count[i] * (uint64_t)align[i];
        if (bound > pp->peak[i])
            return false;
    }
    return true;
}

static uint32_t backend_alignment(hr_backend be)
{
    switch (be) {
    case HR_BACKEND_CUDA: case HR_BACKEND_ROCM: return 128;
    case HR_BACKEND_VULKAN: return 128;
    default: return 32;
    }
}

/* What both reserve graphs share: alignments, the output's buffer, the two
 * batches and the layer runs. */
typedef struct estimate_setup {
    uint32_t align[CG_MAX_BUFFERS];
    int n_dev;
    uint8_t buf_output;
    run_cfg pp, tg;
    segment seg[MAX_SEGMENTS];
    int n_seg;
    bool gpu_run;
    cg_roles roles; /* pp and tg point here */
} estimate_setup;

static void setup_estimate(const hr_compute_input *in, estimate_setup *e)
{
    const uint32_t n_seq_all = in->settings && in->settings->n_seq ? in->settings->n_seq : 1;
    for (int i = 0; i < CG_MAX_BUFFERS; i++)
        e->align[i] = 32;
    e->n_dev = in->n_devices > 0 ? (in->n_devices < CG_MAX_BUFFERS ? in->n_devices : CG_MAX_BUFFERS) : 1;
    for (int i = 1; i < e->n_dev; i++)
        e->align[i] = backend_alignment(in->backends[i]);
    /* the caller's (a runtime's) alignments, powers of two as ggml's are */
    for (int i = 0; i < e->n_dev && i < HR_MAX_DEVICES; i++)
        if (in->align[i] && (in->align[i] & (in->align[i] - 1)) == 0 && in->align[i] <= 4096)
            e->align[i] = in->align[i];

    /* the output layer sits on the last GPU holding layers when offloaded */
    e->buf_output = 0;
    if (in->output_on_gpu) {
        for (int i = e->n_dev - 1; i >= 1; i--) {
            if (in->layer_end[i] > in->layer_begin[i]) {
                e->buf_output = (uint8_t)i;
                break;
            }
        }
        if (e->buf_output == 0 && e->n_dev > 1)
            e->buf_output = (uint8_t)(e->n_dev - 1);
    }

    /* prompt graph: n_tokens rounded up to a multiple of the sequences */
    e->pp.n_tokens = ((int64_t)in->n_tokens + n_seq_all - 1) / n_seq_all * n_seq_all;
    e->pp.n_outputs = in->n_outputs ? in->n_outputs : in->n_tokens;
    if (e->pp.n_outputs > e->pp.n_tokens)
        e->pp.n_outputs = e->pp.n_tokens;
    e->tg.n_tokens = n_seq_all;
    e->tg.n_outputs = n_seq_all;
    e->roles.scanned = false;
    e->roles.rw_scanned = false;
    e->pp.roles = e->tg.roles = &e->roles;

    e->n_seg = -1; /* found when a graph is replayed (need_segments) */

    e->gpu_run = false;
    for (int i = 1; i < e->n_dev; i++)
        if (in->backends[i] != HR_BACKEND_CPU)
            e->gpu_run = true;
    if (in->settings && in->settings->mode == HR_MODE_CPU)
        e->gpu_run = false;
}

/* The layer runs: only a replay needs them (a sweep answered from the
 * cache does not). */
static void need_segments(const hr_compute_input *in, estimate_setup *e)
{
    if (e->n_seg >= 0)
        return;
    e->n_seg = find_segments(in, e->gpu_run, e->seg);
    if (in->replay_all_layers) { /* one run emitted whole */
        e->n_seg = in->model->n_layer > 1 ? 1 : 0;
        e->seg[0].start = 0;
        e->seg[0].end = (int)in->model->n_layer - 1;
        e->seg[0].period = 0;
    }
}

static hr_status check_input(const hr_compute_input *in, hr_compute_output *out, hr_error *err)
{
    if (!in || !out || !in->model || !in->model->layers || in->model->n_layer == 0)
        return hr_error_set(err, HR_ERR_ARG, "compute: no model");
    if (in->n_tokens == 0)
        return hr_error_set(err, HR_ERR_ARG, "compute: zero tokens in the reserve batch");
    memset(out, 0, sizeof *out);
    return HR_OK;
}

static void fill_output(const estimate_setup *e, const graph_result *pp, const graph_result *tg,
                        hr_compute_output *out)
{
    const uint64_t *peak_pp = pp->peak, *peak_tg = tg->peak;
    out->lower_bound = pp->lower_bound || tg->lower_bound;
    for (int i = 0; i < e->n_dev; i++) {
        const uint64_t v = peak_pp[i] > peak_tg[i] ? peak_pp[i] : peak_tg[i];
        if (i == 0 && e->gpu_run)
            out->host_side_bytes = v;
        else
            out->device_bytes[i] = v;
    }
}

/* A graph that cannot stand for the model: a layer's attention out of
 * range (a damaged file; its figures as the file gives them), or a tensor
 * past CG_TOO_BIG (settings too large). HR_OK otherwise. */
static hr_status graph_error(const hr_compute_input *in, const graph_result *gr, hr_error *err)
{
    if (gr->bad_attention) {
        const hr_model *m = in->model;
        const hr_layer *L = &m->layers[gr->bad_layer];
        return hr_error_set(err, HR_ERR_FORMAT,
                            "compute: model '%s': layer %d's attention is out of range (%u heads, "
                            "%u KV heads, head sizes %u / %u)",
                            m->name ? m->name : "?", gr->bad_layer, L->n_head ? L->n_head : m->n_head,
                            L->n_head_kv, L->n_embd_head_k, L->n_embd_head_v);
    }
    if (gr->too_big)
        return hr_error_set(err, HR_ERR_LIMIT, "compute: a tensor of the reserve graph exceeds "
                                               "256 TiB (settings too large)");
    return HR_OK;
}

hr_status hr_compute_estimate(const hr_compute_input *in, hr_compute_output *out, hr_error *err)
{
    hr_status rc = check_input(in, out, err);
    if (rc != HR_OK)
        return rc;
    hr_compute_work *work = room_open(in);
    if (!work)
        return nomem_error(err);
    estimate_setup e;
    setup_estimate(in, &e);
    need_segments(in, &e);
    graph_result gpp, gtg;
    replay_graph(in, &e.pp, e.buf_output, e.align, e.seg, e.n_seg, work, &gpp, NULL, NULL);
    if (tg_below_pp(&gpp, &e.pp, &e.tg, e.align))
        memset(&gtg, 0, sizeof gtg);
    else
        replay_graph(in, &e.tg, e.buf_output, e.align, e.seg, e.n_seg, work, &gtg, NULL, NULL);
    room_close(in, work);
    if ((rc = graph_error(in, &gpp, err)) != HR_OK || (rc = graph_error(in, &gtg, err)) != HR_OK)
        return rc;
    fill_output(&e, &gpp, &gtg, out);
    return HR_OK;
}

/* ---- the sweep cache ----
 *
 * A point the forms miss is answered from the graph pair they came from
 * (kept_graphs), never built again: the first miss replays it plainly at
 * the point and records the allocator's steps (galloc_program.c); later
 * misses run that record, plainly (plain_at) or with linear sizes for new
 * forms (reform_at, a probe). A probe stops as soon as its range no longer
 * reaches the points the caller will ask for next (probe_reach) and the
 * point goes plain; narrow probes in a row make the next ones wait. When a
 * point finds the kept cut too short (a state check fails there), the new
 * estimate starts from the kept run plans grown as that failure says, with
 * the other runs on its device and every skip a pair of periods, and its
 * replay is recorded at once. */

static uint64_t form_value(cg_form f, int64_t u)
{
    return (uint64_t)(f.a + f.b * u);
}

/* the forms of a graph at u, as the plain replay would have left them */
static void forms_at(const graph_forms *f, int64_t u, graph_result *gr)
{
    memset(gr, 0, sizeof *gr);
    for (int i = 0; i < CG_MAX_BUFFERS; i++) {
        gr->peak[i] = form_value(f->peak[i], u);
        gr->scaled[i] = form_value(f->scaled[i], u);
        gr->fixed[i] = form_value(f->fixed[i], u);
        gr->count[i] = f->count[i];
    }
}

static bool forms_cover(const graph_forms *f, int64_t u)
{
    return f->valid && u >= f->lo && u <= f->hi;
}

/* The pair kept in the room when it is still the one the caller's forms
 * (gf, with the room's stamp then) came from; else NULL. */
static const kept_graphs *kept_for(const hr_compute_work *work, uint64_t stamp, const graph_forms *gf)
{
    const kept_graphs *k = &work->kept;
    return gf->valid && stamp != 0 && k->stamp == stamp && work->stamp == stamp ? k : NULL;
}

/* A kept pair whose record runs at u: recorded, its in-place choices the
 * same at every u, and u below where its sizes stop being linear. */
static bool program_holds(const hr_compute_work *work, const kept_graphs *k, int64_t u)
{
    return k->recorded && work->program.valid && k->layouts_fixed && u <= work->u_limit;
}

/* The cut holds at u: every truncated run settled, with a skip its lag divides. */
static bool cut_holds(const kept_graphs *k, uint32_t failed_checks, const uint8_t lag[CG_MAX_WINDOWS])
{
    return k->lp.complete || all_settled(&k->lp, k->n_seg, failed_checks | lags_off(&k->lp, k->seg, lag));
}

/* The forms at u from the kept pair: one replay at u, no graph built (run
 * from the pair's record when it has one). The byte sums are linear
 * everywhere and stay; the peaks get new forms and range. REFORM_NARROW:
 * the range no longer held [reach_lo, reach_hi] (the replay stopped there);
 * REFORM_NONE: nothing is kept, or the kept cut does not hold at u (a state
 * check failed there): the caller replays from scratch. */
typedef enum reform_result { REFORM_OK, REFORM_NARROW, REFORM_NONE } reform_result;
static reform_result reform_at(hr_compute_work *work, uint64_t stamp, int64_t u, int64_t reach_lo,
                               int64_t reach_hi, graph_forms *gf, cg_alloc_result *cut_failed)
{
    const kept_graphs *k = kept_for(work, stamp, gf);
    if (!k)
        return REFORM_NONE;
    cg_param_result pr;
    if (program_holds(work, k, u))
        cg_replay_param_program(k->g, &work->program, work->base, work->slope, u, 1, work->u_limit,
                                reach_lo, reach_hi, k->align, k->lp.windows, k->lp.n_windows, &pr);
    else
        cg_replay_param(k->g, k->g_next, k->u_graph, u, 1, U_MAX, reach_lo, reach_hi, k->align,
                        k->lp.windows, k->lp.n_windows, &pr);
    if (pr.narrow)
        return REFORM_NARROW;
    if (!pr.valid)
        return REFORM_NONE;
    if (!cut_holds(k, pr.failed_checks, pr.lag)) {
        cut_failed->failed_checks = pr.failed_checks;
        memcpy(cut_failed->lag, pr.lag, sizeof pr.lag);
        cut_failed->periodic_ok = false;
        return REFORM_NONE;
    }
    memcpy(gf->peak, pr.peak, sizeof gf->peak);
    gf->lo = pr.lo;
    gf->hi = pr.hi;
    return REFORM_OK;
}

/* The peaks at u alone from a plain replay of the kept graph with its sizes
 * taken to u (each linear: x + (x_next - x)(u - u_graph)), and the sums
 * from the forms. The first one records the replay (cg_replay_record) in
 * the room; the later ones run the record (cg_replay_program), a few times
 * cheaper than reform_at. PLAIN_NONE as reform_at's, or when the in-place
 * choices may depend on u or a size leaves the range the forms hold in;
 * PLAIN_CUT_FAILS when the replay found the kept cut does not hold at u. */
typedef enum plain_result { PLAIN_OK, PLAIN_NONE, PLAIN_CUT_FAILS } plain_result;
static plain_result plain_at(hr_compute_work *work, uint64_t stamp, int64_t u, const graph_forms *gf,
                             graph_result *gr, cg_alloc_result *cut_failed)
{
    const kept_graphs *k = kept_for(work, stamp, gf);
    if (!k || !k->layouts_fixed)
        return PLAIN_NONE;
    graph_pair *p = &work->pair[0];
    const cg_graph *g = k->g, *gn = k->g_next;
    if (g->n_nodes != gn->n_nodes || (k->g != &p->split && k->g != &p->built))
        return PLAIN_NONE;
    cg_alloc_result res;
    uint64_t *bytes = work->bytes;
    if (program_holds(work, k, u)) {
        for (int j = 0; j < work->n_varying; j++) {
            const int i = work->varying[j];
            const int64_t v = work->base[i] + work->slope[i] * u; /* below CG_TOO_BIG: u_limit */
            if (v < 0)
                return PLAIN_NONE;
            bytes[i] = (uint64_t)v;
        }
        cg_replay_program(g, &work->program, bytes, k->align, k->lp.windows, k->lp.n_windows, &res);
    } else {
        const int64_t du = u - k->u_graph;
        for (int i = 0; i < g->n_nodes; i++) {
            const int64_t x = (int64_t)g->nodes[i].bytes, step = (int64_t)gn->nodes[i].bytes - x;
            int64_t v = x;
            if (step != 0 && (step < 0 || __builtin_mul_overflow(step, du, &v) ||
                              __builtin_add_overflow(v, x, &v) || v < 0 || (uint64_t)v >= CG_TOO_BIG))
                return PLAIN_NONE;
            bytes[i] = (uint64_t)v;
        }
        /* the graph with the sizes at u, in the pair's other graph (the
         * pre-split one, no longer needed); its replay recorded the first time */
        cg_graph *at = k->g == &p->split ? &p->built : &p->split;
        const size_t head = offsetof(cg_graph, n_nodes);
        memcpy((char *)at + head, (const char *)g + head, sizeof *at - head);
        for (int i = 0; i < g->n_nodes; i++) {
            at->nodes[i] = g->nodes[i];
            at->nodes[i].bytes = bytes[i];
        }
        if (k->recorded) {
            cg_replay(at, k->align, k->lp.windows, k->lp.n_windows, &res);
        } else {
            cg_replay_record(at, k->align, k->lp.windows, k->lp.n_windows, &res, &work->program);
            work->kept.recorded = true;
            keep_sizes(work);
        }
    }
    if (!cut_holds(k, res.failed_checks, res.lag)) {
        *cut_failed = res;
        cut_failed->periodic_ok = false;
        return PLAIN_CUT_FAILS;
    }
    forms_at(gf, u, gr);
    for (int i = 0; i < CG_MAX_BUFFERS; i++)
        gr->peak[i] = res.peak[i];
    return PLAIN_OK;
}

/* Probes in a row that came out narrow make the next one wait this many
 * points at most: a narrow probe costs up to a plain replay (its range may
 * stay wide until late in the graph), and below ~32k cells in partial
 * offload nearly every one is narrow. */
#define PROBE_WAIT_MAX 4

/* A point the forms miss, answered from the kept pair: new forms around u
 * (a probe) when they reach PROBE_POINTS steps on (step: the caller's last
 * move), else the plain replay at u (the pair's first one records it);
 * after narrow probes, the next few points go plain (PROBE_WAIT_MAX).
 * False: replay from scratch; when the kept cut failed at u, cut_failed has
 * the checks (periodic_ok false). */
static bool from_kept(hr_compute_work *work, hr_compute_cache *c, int64_t u, int64_t step,
                      graph_result *gr, cg_alloc_result *cut_failed)
{
    const kept_graphs *k = kept_for(work, c->room_stamp, &c->pp);
    if (!k)
        return false;
    if (c->probe_wait > 0) {
        c->probe_wait--;
        const plain_result pr = plain_at(work, c->room_stamp, u, &c->pp, gr, cut_failed);
        if (pr != PLAIN_NONE)
            return pr == PLAIN_OK; /* a cut that fails here fails a probe too */
    }
    int64_t reach_lo, reach_hi;
    probe_reach(u, step, &reach_lo, &reach_hi);
    const reform_result rr = reform_at(work, c->room_stamp, u, reach_lo, reach_hi, &c->pp, cut_failed);
    if (rr == REFORM_NARROW) {
        /* 1, 2, 4, 4, ... plain points before the next probe */
        c->probe_wait = c->narrow_probes < 2 ? 1u << c->narrow_probes : PROBE_WAIT_MAX;
        c->narrow_probes += c->narrow_probes < 2;
    } else {
        c->narrow_probes = 0;
    }
    switch (rr) {
    case REFORM_OK:
        forms_at(&c->pp, u, gr);
        return true;
    case REFORM_NARROW:
        return plain_at(work, c->room_stamp, u, &c->pp, gr, cut_failed) == PLAIN_OK;
    default:
        return false;
    }
}

void hr_compute_key_of(const hr_compute_input *in, hr_compute_key *key)
{
    memset(key, 0, sizeof *key); /* padding compares equal */
    key->swa_tied = in->n_kv_swa == in->n_kv;
    key->in = *in;
    key->in.n_kv = 0;
    if (key->swa_tied)
        key->in.n_kv_swa = 0;
    key->in.settings = NULL;
    key->in.work = NULL;
    if (in->settings)
        key->settings = *in->settings;
    key->settings.n_ctx = 0;
    /* no graph reads it (their batch is n_tokens), and the plan clamps it to
     * the context: a sweep's first points would differ in it */
    key->settings.n_batch = 0;
}

bool hr_compute_key_equal(const hr_compute_key *a, const hr_compute_key *b)
{
    return a->swa_tied == b->swa_tied && memcmp(&a->in, &b->in, sizeof a->in) == 0 &&
           memcmp(&a->settings, &b->settings, sizeof a->settings) == 0;
}

hr_status hr_compute_estimate_cached(const hr_compute_input *in, hr_compute_cache *cache,
                                     hr_compute_output *out, hr_error *err)
{
    if (!cache || !in || in->n_kv == 0 || in->n_kv % 256 != 0)
        return hr_compute_estimate(in, out, err);
    hr_status rc = check_input(in, out, err);
    if (rc != HR_OK)
        return rc;
    hr_compute_key key;
    hr_compute_key_of(in, &key);
    const int64_t u = in->n_kv / 256;
    estimate_setup e;
    setup_estimate(in, &e);

    graph_result gpp, gtg;
    hr_compute_work *work = NULL; /* opened by the first replay */
    cg_alloc_result cut_failed = {.periodic_ok = true}; /* from_kept: the kept cut failed at u */
    const bool same_key = cache->valid && hr_compute_key_equal(&cache->key, &key);
    /* the caller's last move in u (0: none yet with this key) */
    const int64_t step = same_key && cache->last_u > 0 ? u - cache->last_u : 0;
    cache->last_u = u;
    if (same_key && forms_cover(&cache->pp, u)) {
        forms_at(&cache->pp, u, &gpp);
    } else if (same_key && in->work && in->work == cache->room &&
               from_kept(in->work, cache, u, step, &gpp, &cut_failed)) {
        /* (answered) */
    } else {
        /* a point whose kept cut failed: the kept run plans, grown as that
         * failed replay says, with the other runs on its devices (before
         * the new replay overwrites them) */
        const kept_graphs *k = same_key && in->work && in->work == cache->room
                                   ? kept_for(in->work, cache->room_stamp, &cache->pp)
                                   : NULL;
        again_plan again;
        if (k) {
            memcpy(again.rp, k->rp, sizeof again.rp);
            again.attempts = k->attempts;
            if (!cut_failed.periodic_ok)
                fail_device_runs(in, k, &cut_failed);
            /* every run skips whole pairs of periods: a state that takes
             * turns between two places at a later point keeps the cut */
            for (int q = 0; q < k->n_seg; q++)
                if (again.rp[q].step < 2)
                    again.rp[q].step = 2;
            if (!cut_failed.periodic_ok &&
                grow_runs(again.rp, &k->lp, k->seg, k->n_seg, (int)in->model->n_layer,
                          k->attempts + 1, false, &cut_failed))
                again.attempts++;
        }
        if (!same_key)
            cache->narrow_probes = cache->probe_wait = 0;
        cache->valid = false;
        cache->room_stamp = 0;
        need_segments(in, &e);
        if (!(work = room_open(in)))
            return nomem_error(err);
        replay_graph(in, &e.pp, e.buf_output, e.align, e.seg, e.n_seg, work, &gpp, &cache->pp,
                     k ? &again : NULL);
        cache->tg.valid = false;
        if ((rc = graph_error(in, &gpp, err)) != HR_OK) {
            room_close(in, work);
            return rc;
        }
        cache->key = key;
        cache->valid = cache->pp.valid;
        /* the pair stays in a caller's room until its next replay */
        cache->room = in->work;
        cache->room_stamp = in->work && cache->valid ? in->work->stamp : 0;
    }
    if (tg_below_pp(&gpp, &e.pp, &e.tg, e.align)) {
        memset(&gtg, 0, sizeof gtg);
    } else if (cache->valid && forms_cover(&cache->tg, u)) {
        forms_at(&cache->tg, u, &gtg);
    } else {
        need_segments(in, &e);
        if (!work && !(work = room_open(in)))
            return nomem_error(err);
        replay_graph(in, &e.tg, e.buf_output, e.align, e.seg, e.n_seg, work, &gtg,
                     cache->valid ? &cache->tg : NULL, NULL);
    }
    if (work)
        room_close(in, work);
    if ((rc = graph_error(in, &gtg, err)) != HR_OK)
        return rc;
    fill_output(&e, &gpp, &gtg, out);
    return HR_OK;
}

/* ---- engine-private test hooks (tests/compute only; nothing else calls
 * them): what an estimate builds and sums, observable on their own ---- */

bool hr_compute_test_graph(const hr_compute_input *in, bool one_token, bool scheduled,
                           cg_graph *out)
{
    hr_compute_output unused;
    if (!out || check_input(in, &unused, NULL) != HR_OK)
        return false;
    estimate_setup e;
    setup_estimate(in, &e);
    /* every layer (the room allowing) */
    layer_plan lp;
    memset(&lp, 0, sizeof lp);
    const int cap = (int)(sizeof lp.layers / sizeof lp.layers[0]);
    for (int il = 0; il < (int)in->model->n_layer; il++) {
        if (lp.n < cap)
            lp.layers[lp.n++] = il;
        else
            lp.cut = true;
    }
    graph_pair *w = malloc(sizeof *w);
    if (!w)
        return false;
    const cg_graph *g = build_for_replay(in, one_token ? &e.tg : &e.pp, e.buf_output, &lp,
                                         &w->built, &w->split, scheduled);
    memcpy(out, g, sizeof *out);
    free(w);
    return true;
}

bool hr_compute_test_sums(const hr_compute_input *in, bool one_token,
                          uint64_t scaled[CG_MAX_BUFFERS], uint64_t fixed[CG_MAX_BUFFERS],
                          uint64_t count[CG_MAX_BUFFERS])
{
    hr_compute_output unused;
    if (check_input(in, &unused, NULL) != HR_OK)
        return false;
    estimate_setup e;
    setup_estimate(in, &e);
    need_segments(in, &e);
    graph_result gr;
    hr_compute_work *work = room_open(in);
    if (!work)
        return false;
    replay_graph(in, one_token ? &e.tg : &e.pp, e.buf_output, e.align, e.seg, e.n_seg, work, &gr,
                 NULL, NULL);
    room_close(in, work);
    for (int i = 0; i < CG_MAX_BUFFERS; i++) {
        scaled[i] = gr.scaled[i];
        fixed[i] = gr.fixed[i];
        count[i] = gr.count[i];
    }
    return !gr.lower_bound;
}
