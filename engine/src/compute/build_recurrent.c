/* Worst-case reserve graphs of llama.cpp's recurrent layers, emitted in
 * ggml's node order: Mamba and Mamba-2 (src/models/mamba-base.cpp), RWKV-6
 * (rwkv6.cpp, rwkv6-base.cpp), RWKV-7 (rwkv7.cpp, rwkv7-base.cpp), with
 * llm_graph_context::build_rs and the RWKV token-shift load and store
 * (src/llama-graph.cpp).
 *
 * The order: a layer's nodes enter the graph through its
 * ggml_build_forward_expand calls: first build_rs's get_rows of the state
 * rows (before anything else of the layer, even before its input is
 * computed), then the copies of the new states, whose DFS pulls in
 * everything they read. What comes after the last copy (Mamba's gate and
 * output projection, RWKV's channel mix, the residual adds) is reached only
 * when the next layer's DFS reads its input, or the output's DFS the last
 * layer: the layer leaves it in cg_build.tail and the reader emits it. The
 * embeddings' norm of RWKV waits the same way for the first layer.
 *
 * ggml facts the sizes and the reuse follow (see build.c's conventions):
 * NORM, L2_NORM, CONCAT, REPEAT, GET_ROWS, CONT, GLU, SUM_ROWS, SSM_CONV,
 * SSM_SCAN, RWKV_WKV6/7 and MUL_MAT make new tensors; ADD, SUB, MUL, SCALE,
 * SQR, RMS_NORM and the unary ops may run in place, but never over a
 * reshape or a view (a view is never owned): an element-wise op reading its
 * input through ggml_reshape_* allocates. SSM_SCAN and RWKV_WKV* have more
 * sources than a node holds here: the rest are read by a sink right after
 * the op (it allocates nothing, and ggml frees sources in source order
 * after the op's own allocation). build_rs's get_rows of the extra rows
 * (none in a reserve: n_rs = n_seqs) makes a zero-size tensor: a sink
 * reading s_copy. ggml_repeat keeps only its first source (RWKV-7's
 * shape-only tensor is not in the graph). */
#include <string.h>

#include "build.h"

/* The emitters are inlined: most shapes are constants. */
#define EMITTER static inline __attribute__((always_inline))

/* sizes from the model's fields (each below 2^32) and the batch:
 * products and sums saturate, and cg_op turns what is too big into
 * CG_TOO_BIG */
static inline int64_t smul(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

static inline int64_t sadd(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

/* x read through a reshape or view */
EMITTER int16_t V(cg_build *b, int16_t x)
{
    return cg_view(b->g, x, CG_F32, 1, 1, 1, 1, false);
}

/* an op that may run in place (ggml_op_can_inplace) */
EMITTER int16_t ip(cg_build *b, int16_t x, int16_t y, int64_t ne0, int64_t ne1, int64_t ne2,
                   int64_t ne3)
{
    return cg_op(b->g, true, CG_F32, ne0, ne1, ne2, ne3, x, y, CG_NONE, CG_NONE);
}

/* an op that makes a new f32 tensor */
EMITTER int16_t nw(cg_build *b, int16_t x, int16_t y, int64_t ne0, int64_t ne1, int64_t ne2,
                   int64_t ne3)
{
    return cg_op(b->g, false, CG_F32, ne0, ne1, ne2, ne3, x, y, CG_NONE, CG_NONE);
}

/* a matmul with the layer's weight of a role: in an op-offloaded layer the
 * weight is its first source (ggml_mul_mat(w, x)), which moves it to the GPU */
EMITTER int16_t mmw(cg_build *b, hr_role role, int16_t x, int64_t rows, int64_t ne1, int64_t ne2,
                    int64_t ne3)
{
    return nw(b, cg_weight(b, role), x, rows, ne1, ne2, ne3);
}

/* ---- the recurrent cache in an op-offloaded layer (ggml_backend_sched's
 * view of it: the cache lives in a host buffer the GPU cannot read) ----
 * An op whose result is a view of the cache (build_rs's clearing SCALE, the
 * CPYs of new states into it) runs where the cache is: on the host. The
 * state rows' GET_ROWS follow those neighbours there. */

/* Nodes pinned to one buffer (not placed by the backend passes), between
 * pin and unpin, which restores the emission state */
typedef struct pinned { bool free_mode; uint8_t buffer; } pinned;

static pinned pin(cg_build *b, uint8_t buffer)
{
    const pinned was = {b->g->free_mode, b->g->cur_buffer};
    b->g->free_mode = false;
    b->g->cur_buffer = buffer;
    return was;
}

static void unpin(cg_build *b, pinned was)
{
    b->g->free_mode = was.free_mode;
    b->g->cur_buffer = was.buffer;
}

/* a node that allocates nothing and runs on the host (an op into the cache) */
static void host_cache_op(cg_build *b, int16_t src)
{
    const pinned was = pin(b, 0);
    cg_sink(b->g, src, CG_NONE, CG_NONE);
    unpin(b, was);
}

/* The scheduler's copy of a view of x (view_bytes of it) from buffer
 * `from` (x's) to buffer `to`: the scheduler copies the view itself, at its
 * own size (ggml_nbytes of the view, not of x), at the start of its
 * reader's split, and x lives until then (input_dep, a reader on x's side).
 * Emitted here as that pair, since the split (split.c) copies whole roots;
 * split.c moves it among the inputs of the split that first reads the copy,
 * in the order they are first read. Returns the copy, for a reader on `to`.
 * x is the handle as its reader reads it (through a view or not); layout is
 * the view's, for in-place reuse of the copy. */
int16_t cg_view_copy(cg_build *b, int16_t x, uint64_t view_bytes, uint8_t from, uint8_t to,
                     bool fixed, uint32_t layout)
{
    cg_graph *g = b->g;
    const pinned was = pin(b, from);
    cg_sink(g, x, CG_NONE, CG_NONE);
    if (!g->overflow) { /* the backend passes never see the pair */
        g->nodes[g->n_nodes - 1].flags |= CG_FLAG_SCHED;
        g->any_sched = true;
    }
    g->cur_buffer = to;
    const int16_t copy = cg_op(g, false, CG_F32, 1, 1, 1, 1, CG_NONE, CG_NONE, CG_NONE, CG_NONE);
    if (copy != CG_NONE) {
        g->nodes[copy].flags |= CG_FLAG_SCHED;
        /* the view's layout (ggml_dup_tensor_layout): an op may run in place
         * over the copy */
        g->nodes[copy].layout = layout;
        g->nodes[copy].bytes = view_bytes < CG_TOO_BIG ? view_bytes : CG_TOO_BIG;
        g->too_big |= view_bytes >= CG_TOO_BIG;
        if (fixed)
            cg_mark_fixed(g, copy);
    }
    unpin(b, was);
    return copy;
}

/* The write of a view of x (view_bytes of it) into the cache: on the host,
 * from a copy of the view where the layer op-offloads (x on the GPU) */
static void cache_write(cg_build *b, int16_t x, uint64_t view_bytes, bool fixed)
{
    if (!b->offloading) {
        cg_sink(b->g, V(b, x), CG_NONE, CG_NONE);
        return;
    }
    host_cache_op(b, cg_view_copy(b, V(b, x), view_bytes, b->g->cur_buffer, 0, fixed, 0));
}

/* bytes of a [ne0, ne1, ne2] f32 view of a contiguous root whose rows are
 * nb1 bytes apart (ggml_nbytes: the first row whole, then a stride for
 * every further row) */
static uint64_t strided_view_bytes(int64_t ne0, int64_t ne1, int64_t ne2, int64_t nb1)
{
    const int64_t rows = smul(ne1, ne2);
    return (uint64_t)sadd(smul(ne0, 4), smul(rows > 0 ? rows - 1 : 0, nb1));
}

/* build_norm LLM_NORM with weight and bias: NORM, MUL, ADD */
EMITTER int16_t lnorm(cg_build *b, int16_t x, int64_t ne0, int64_t ne1, int64_t ne2,
                      int64_t ne3)
{
    int16_t t = nw(b, x, CG_NONE, ne0, ne1, ne2, ne3);
    t = ip(b, t, cg_row_weight(b, ne0), ne0, ne1, ne2, ne3);
    return ip(b, t, cg_row_weight(b, ne0), ne0, ne1, ne2, ne3);
}

/* RWKV's matrix k of block 0 (or of the first block that has it: their
 * types do not vary across blocks), looked up once per estimate, at the
 * first op-offloaded block that reads one */
static const hr_tensor *rw_tensor(cg_build *b, int k)
{
    cg_roles *ro = b->roles;
    if (!ro->rw_scanned) {
        ro->rw_scanned = true;
        static const char *const RW_NAMES[CG_RW_COUNT] = {
            [CG_RW_RECEPTANCE] = "time_mix_receptance.weight", [CG_RW_KEY] = "time_mix_key.weight",
            [CG_RW_VALUE] = "time_mix_value.weight", [CG_RW_OUTPUT] = "time_mix_output.weight",
            [CG_RW_GATE] = "time_mix_gate.weight", [CG_RW_W1] = "time_mix_w1.weight",
            [CG_RW_W2] = "time_mix_w2.weight", [CG_RW_A1] = "time_mix_a1.weight",
            [CG_RW_A2] = "time_mix_a2.weight", [CG_RW_V1] = "time_mix_v1.weight",
            [CG_RW_V2] = "time_mix_v2.weight", [CG_RW_G1] = "time_mix_g1.weight",
            [CG_RW_G2] = "time_mix_g2.weight", [CG_RW_DECAY_W1] = "time_mix_decay_w1.weight",
            [CG_RW_DECAY_W2] = "time_mix_decay_w2.weight", [CG_RW_FIRST] = "time_mix_first.weight",
            [CG_RW_CM_KEY] = "channel_mix_key.weight", [CG_RW_CM_VALUE] = "channel_mix_value.weight",
            [CG_RW_CM_RECEPTANCE] = "channel_mix_receptance.weight",
        };
        memset(ro->rw, 0, sizeof ro->rw);
        int left = CG_RW_COUNT;
        const hr_model *m = b->m;
        for (size_t i = 0; i < m->n_tensors && left; i++) {
            const hr_tensor *t = &m->tensors[i];
            if (t->layer < 0 || !t->name || strncmp(t->name, "blk.", 4) != 0)
                continue;
            const char *s = strchr(t->name + 4, '.');
            if (!s || (strncmp(s + 1, "time_mix_", 9) != 0 && strncmp(s + 1, "channel_mix_", 12) != 0))
                continue;
            s++;
            /* block 0's v1 and v2 are not used: a later block's */
            if (t->layer == 0 && (strcmp(s, "time_mix_v1.weight") == 0 || strcmp(s, "time_mix_v2.weight") == 0))
                continue;
            for (int r = 0; r < CG_RW_COUNT; r++)
                if (!ro->rw[r] && strcmp(s, RW_NAMES[r]) == 0) {
                    ro->rw[r] = t;
                    left--;
                    break;
                }
        }
    }
    return ro->rw[k];
}

/* a matmul with RWKV's matrix k (cg_rec_dims.rw) */
EMITTER int16_t mmr(cg_build *b, int k, int16_t x, int64_t rows, int64_t ne1, int64_t ne2,
                    int64_t ne3)
{
    return nw(b, b->offloading ? cg_tensor_weight(b, rw_tensor(b, k)) : CG_NONE, x, rows, ne1, ne2,
              ne3);
}

/* an input leaf, made at its first use (ggml's discovery order) on the
 * inputs' buffer */
static int16_t rec_input(cg_build *b, int16_t *slot, int64_t ne0)
{
    if (*slot == CG_NONE) {
        const uint8_t saved = b->g->cur_buffer;
        b->g->cur_buffer = b->buf_input;
        *slot = cg_input(b->g, CG_I32, ne0, 1, 1, 1);
        b->g->cur_buffer = saved;
    }
    return *slot;
}

/* sequences of the ubatch (llama.cpp reserves n_seq_max of them; the
 * recurrent memory holds as many rows: s_copy is that long) */
static int64_t seqs(const cg_build *b)
{
    return b->n_stream_all > 0 ? b->n_stream_all : 1;
}

/* A view of s_copy as the layer's ops read it: s_copy_main (the ubatch's
 * sequences) or s_copy_extra (the rows between them and the memory's,
 * none in a reserve graph). The input lives on the host; a GPU's splits
 * read the scheduler's copy of each view, made once per GPU, at its own
 * size (8 bytes for two sequences, and 0), among the inputs of the first
 * split that reads it: a copy of the whole input instead packs otherwise. */
static int16_t s_copy_view(cg_build *b, bool extra)
{
    const int64_t ns = seqs(b);
    const int16_t whole = V(b, rec_input(b, &b->inp_s_copy, ns));
    const uint8_t buf = b->g->cur_buffer;
    if (b->offloading || buf == b->buf_input || buf >= CG_MAX_BUFFERS || whole == CG_NONE)
        return whole; /* (an op-offloaded layer reads it on the host) */
    int16_t *slot = &b->s_copy_on[buf][extra];
    if (*slot == CG_NONE)
        *slot = cg_view_copy(b, whole, extra ? 0 : (uint64_t)smul(ns, 4), b->buf_input, buf, true, 0);
    return *slot;
}

/* build_rs: the ubatch's state rows ([row, n_seqs], get_rows through
 * s_copy_main; their size does not follow the tokens), then the extra
 * rows' zero-size get_rows */
static int16_t state_rows(cg_build *b, int64_t row)
{
    if (b->offloading) /* the SCALE clearing the cache's unused rows */
        host_cache_op(b, CG_NONE);
    const int16_t s = nw(b, s_copy_view(b, false), CG_NONE, row, seqs(b), 1, 1);
    cg_mark_fixed(b->g, s);
    if (b->offloading) { /* the extra rows' GET_ROWS and their CPY back */
        host_cache_op(b, s_copy_view(b, true));
        host_cache_op(b, CG_NONE);
    } else {
        cg_sink(b->g, s_copy_view(b, true), CG_NONE, CG_NONE);
    }
    return s;
}

/* A recurrent layer's state rows (row values wide) and its input, in
 * ggml's order: the rows first, then the layer before's pending tail,
 * unless that tail ends in an MoE FFN: build_moe_ffn expands its experts'
 * sum, which reaches the tail up to it before these rows (ffn_moe emits the
 * rows right there, cg_rec_early_rows) */
static int16_t rows_and_input(cg_build *b, int16_t cur, int64_t row, int16_t *inpL)
{
    const cg_rec_tail *t = &b->tail;
    const bool moe_tail = t->kind != CG_TAIL_NONE && t->kind != CG_TAIL_EMBD_NORM &&
                          b->m->layers[t->layer].n_expert > 0 &&
                          b->m->layers[t->layer].n_expert_used > 0;
    if (moe_tail) {
        if (b->early_layer != b->cur_layer)
            b->early_after_moe = b->cur_layer;
        *inpL = cg_rec_flush(b, cur);
    }
    const int16_t rows = b->early_layer == b->cur_layer ? b->early_rows : state_rows(b, row);
    b->early_layer = -1;
    if (!moe_tail)
        *inpL = cg_rec_flush(b, cur);
    return rows;
}

/* the out_ids leaf */
static int16_t out_ids(cg_build *b)
{
    return rec_input(b, &b->out_ids, b->n_outputs);
}

static void set_tail(cg_build *b, uint8_t kind, bool last, int16_t h0, int16_t h1, int16_t h2,
                     int16_t h3)
{
    cg_rec_tail *t = &b->tail;
    t->kind = kind;
    t->buffer = b->g->cur_buffer;
    t->last = last;
    t->layer = b->cur_layer;
    t->offloading = b->offloading;
    t->wsig = b->wsig;
    t->h[0] = h0;
    t->h[1] = h1;
    t->h[2] = h2;
    t->h[3] = h3;
}

/* the scan's or wkv's result (y for every token, then the new states:
 * its size is mostly fixed, marked so for the one-token graph's bound),
 * its sources past the fourth read by a sink */
static int16_t wide_op(cg_build *b, int64_t ne0, int64_t ne1, const int16_t *src, int n_src)
{
    const int16_t y = cg_op(b->g, false, CG_F32, ne0, ne1, 1, 1, src[0], src[1], src[2], src[3]);
    cg_mark_fixed(b->g, y);
    if (n_src > 4)
        cg_sink(b->g, src[4], n_src > 5 ? src[5] : CG_NONE, n_src > 6 ? src[6] : CG_NONE);
    return y;
}

/* ---- sizes the model does not carry: from the tensors of its layers ---- */

static void scan_dims(cg_build *b)
{
    const hr_model *m = b->m;
    cg_rec_dims *d = &b->rdims;
    /* the converter's defaults (RWKV-6 Finch, RWKV-7 Goose 0.1B) when a
     * tensor is missing */
    d->mix_extra = 32;
    d->decay_extra = 64;
    d->lora_w = d->lora_a = d->lora_v = 64;
    d->lora_g = 128;
    d->lerp_fused = false;
    d->ssm_norm = false;
    enum { W1 = 1, DECAY = 2, FUSED = 4, A1 = 8, V1 = 16, G1 = 32, NORM = 64 };
    unsigned want = 0;
    if (m->arch == HR_ARCH_RWKV6)
        want = W1 | DECAY | FUSED;
    else if (m->arch == HR_ARCH_RWKV7)
        want = W1 | A1 | G1 | (m->n_layer > 1 ? V1 : 0);
    else if (m->arch == HR_ARCH_MAMBA2 || m->ssm_n_group > 0)
        want = NORM;
    for (size_t i = 0; i < m->n_tensors && want; i++) {
        const hr_tensor *t = &m->tensors[i];
        if (t->layer < 0 || !t->name || strncmp(t->name, "blk.", 4) != 0)
            continue;
        const char *s = strchr(t->name + 4, '.');
        if (!s)
            continue;
        s++;
        if ((want & W1) && strcmp(s, "time_mix_w1.weight") == 0) {
            if (m->arch == HR_ARCH_RWKV6)
                d->mix_extra = t->ne[1] / 5;
            else
                d->lora_w = t->ne[1];
            want &= ~(unsigned)W1;
        } else if ((want & DECAY) && strcmp(s, "time_mix_decay_w1.weight") == 0) {
            d->decay_extra = t->ne[1];
            want &= ~(unsigned)DECAY;
        } else if ((want & FUSED) && strcmp(s, "time_mix_lerp_fused.weight") == 0) {
            d->lerp_fused = true;
            want &= ~(unsigned)FUSED;
        } else if ((want & A1) && strcmp(s, "time_mix_a1.weight") == 0) {
            d->lora_a = t->ne[1];
            want &= ~(unsigned)A1;
        } else if ((want & V1) && t->layer >= 1 && strcmp(s, "time_mix_v1.weight") == 0) {
            d->lora_v = t->ne[1]; /* layer 0's is not used */
            want &= ~(unsigned)V1;
        } else if ((want & G1) && strcmp(s, "time_mix_g1.weight") == 0) {
            d->lora_g = t->ne[1];
            want &= ~(unsigned)G1;
        } else if ((want & NORM) && strcmp(s, "ssm_norm.weight") == 0) {
            d->ssm_norm = true;
            want &= ~(unsigned)NORM;
        }
    }
}

static int64_t head_size(const hr_model *m)
{
    return m->rwkv_head_size ? m->rwkv_head_size : 64;
}

static int64_t ffn_len(const hr_model *m, int il)
{
    const uint32_t f = il >= 0 && (uint32_t)il < m->n_layer ? m->layers[il].n_ff : 0;
    return f ? f : (m->n_ff ? m->n_ff : 4 * (int64_t)m->n_embd);
}

/* ---- Mamba / Mamba-2 (build_mamba_layer, build_mamba2_layer) ---- */

typedef struct ssm_dims {
    bool v2;
    int64_t d_conv, d_inner, d_state, dt_rank, ng, n_head, conv_ch;
} ssm_dims;

static ssm_dims ssm_of(const hr_model *m)
{
    ssm_dims s;
    const int64_t E = m->n_embd;
    /* Mamba-2: its own models and the hybrids' (their group count) */
    s.v2 = m->arch == HR_ARCH_MAMBA2 || (m->arch != HR_ARCH_MAMBA && m->ssm_n_group > 0);
    s.d_conv = m->ssm_d_conv ? m->ssm_d_conv : 4;
    s.d_inner = m->ssm_d_inner ? m->ssm_d_inner : 2 * E;
    s.d_state = m->ssm_d_state ? m->ssm_d_state : 16;
    s.dt_rank = m->ssm_dt_rank ? m->ssm_dt_rank : (E + 15) / 16;
    s.ng = m->ssm_n_group ? m->ssm_n_group : 1;
    s.n_head = s.v2 ? s.dt_rank : s.d_inner;
    if (s.n_head <= 0)
        s.n_head = 1;
    s.conv_ch = s.v2 ? sadd(s.d_inner, smul(2 * s.ng, s.d_state)) : s.d_inner;
    return s;
}

static void mamba_layer(cg_build *b, int16_t cur, bool last)
{
    const ssm_dims s = ssm_of(b->m);
    const int64_t E = b->m->n_embd, T = b->n_tokens, ns = seqs(b), nst = T / ns;
    /* the DFS from the copy of the last conv columns */
    int16_t inpL;
    const int16_t conv = rows_and_input(b, cur, smul(s.d_conv - 1, s.conv_ch), &inpL);
    int16_t x = ip(b, inpL, CG_NONE, E, T, 1, 1); /* rms_norm (the residual reads inpL too) */
    x = ip(b, x, b->mixer_norm_w != CG_NONE ? b->mixer_norm_w : cg_row_weight(b, E), E, T, 1,
           1); /* * attn_norm */
    /* in_proj: of the 2-d input (Mamba-2), of a 3-d reshape (Mamba) */
    const int64_t in_w = s.v2 ? sadd(sadd(s.conv_ch, s.d_inner), s.n_head) : 2 * s.d_inner;
    const int16_t xz = s.v2 ? mmw(b, HR_ROLE_SSM_IN, x, in_w, T, 1, 1)
                            : mmw(b, HR_ROLE_SSM_IN, V(b, x), in_w, nst, ns, 1);
    const int16_t conv_x = nw(b, V(b, conv), V(b, xz), s.d_conv - 1 + nst, s.conv_ch, ns, 1);
    /* last conv columns to the cache */
    cache_write(b, conv_x, strided_view_bytes(s.d_conv - 1, s.conv_ch, ns, smul(s.d_conv - 1 + nst, 4)),
                false);
    if (b->offloading) /* build_rs's clearing SCALE of the scan's states */
        host_cache_op(b, CG_NONE);
    /* the DFS from the scan: conv, then dt */
    x = nw(b, conv_x, cg_weight(b, HR_ROLE_SSM_CONV1D), s.conv_ch, nst, ns, 1); /* ssm_conv */
    x = ip(b, x, cg_row_weight(b, s.conv_ch), s.conv_ch, nst, ns, 1);           /* + conv1d_b */
    x = ip(b, x, CG_NONE, s.conv_ch, nst, ns, 1);                               /* silu */
    int16_t dt, B, C;           /* the scan's dt, B and C */
    int16_t xdb = CG_NONE;      /* Mamba: x's projection to dt, B and C */
    if (s.v2) {
        dt = nw(b, V(b, xz), CG_NONE, s.n_head, nst, ns, 1);          /* cont */
        dt = ip(b, dt, cg_row_weight(b, s.n_head), s.n_head, nst, ns, 1); /* + dt_b */
        B = C = V(b, x);
    } else {
        /* Jamba: dt, B and C each through an RMS norm (of a view: a new
         * tensor) and its weight; else dt's view copied */
        const bool norms = b->m->arch == HR_ARCH_JAMBA;
        xdb = mmw(b, HR_ROLE_SSM_X, x, s.dt_rank + 2 * s.d_state, nst, ns, 1);
        dt = nw(b, V(b, xdb), CG_NONE, s.dt_rank, nst, ns, 1); /* cont, or rms_norm */
        if (norms)
            dt = ip(b, dt, cg_row_weight(b, s.dt_rank), s.dt_rank, nst, ns, 1);
        dt = mmw(b, HR_ROLE_SSM_DT, dt, s.d_inner, nst, ns, 1);
        dt = ip(b, dt, cg_row_weight(b, s.d_inner), s.d_inner, nst, ns, 1); /* + dt_b */
        B = C = V(b, xdb);
        if (norms) {
            B = ip(b, nw(b, B, CG_NONE, s.d_state, 1, nst, ns), cg_row_weight(b, s.d_state), s.d_state,
                   1, nst, ns);
            C = ip(b, nw(b, C, CG_NONE, s.d_state, 1, nst, ns), cg_row_weight(b, s.d_state), s.d_state,
                   1, nst, ns);
        }
    }
    /* ssm_scan(s, x, dt, A, B, C, ids): y then the new states */
    const int16_t copy = s_copy_view(b, false);
    int16_t src[5] = {V(b, x), dt, B, C, copy};
    const int64_t y_len = sadd(smul(s.d_inner, T), smul(smul(s.d_state, s.d_inner), ns));
    if (b->offloading) {
        /* The scan reads A, a host weight, and its result is one row: no
         * backend offloads it (batch size = rows), so it runs on the host
         * with copies of its GPU sources, x, B and C being three views of
         * the convolution's output (three copies) */
        cg_graph *g = b->g;
        const uint8_t gpu = g->cur_buffer;
        const int64_t row = smul(s.conv_ch, 4);
        /* (the scan runs in place over none of them: no layouts) */
        if (s.v2) {
            src[0] = cg_view_copy(b, V(b, x), strided_view_bytes(s.d_inner, nst, ns, row), gpu, 0, false, 0);
            src[2] = cg_view_copy(b, V(b, x), strided_view_bytes(smul(s.d_state, s.ng), nst, ns, row), gpu,
                                  0, false, 0);
            src[3] = cg_view_copy(b, V(b, x), strided_view_bytes(smul(s.d_state, s.ng), nst, ns, row), gpu,
                                  0, false, 0);
        } else { /* Mamba: x whole; B and C views of xdb (Jamba: their norms) */
            const int64_t xdb_row = smul(s.dt_rank + 2 * s.d_state, 4);
            src[0] = cg_view_copy(b, V(b, x), g->nodes[CG_ROOT(x)].bytes, gpu, 0, false, 0);
            for (int k = 2; k <= 3; k++) {
                const int16_t h = k == 2 ? B : C;
                const uint64_t sz = CG_ROOT(h) == CG_ROOT(xdb)
                                        ? strided_view_bytes(s.d_state, nst, ns, xdb_row)
                                        : g->nodes[CG_ROOT(h)].bytes;
                src[k] = cg_view_copy(b, h, sz, gpu, 0, false, 0);
            }
        }
        src[1] = cg_view_copy(b, dt, g->nodes[CG_ROOT(dt)].bytes, gpu, 0, false, 0);
        const pinned was = pin(b, 0);
        const int16_t y = wide_op(b, y_len, 1, src, 5);
        cg_sink(g, s_copy_view(b, true), CG_NONE, CG_NONE); /* build_rs: the extra rows */
        cg_sink(g, CG_NONE, CG_NONE, CG_NONE); /* their CPY back */
        cg_sink(g, V(b, y), CG_NONE, CG_NONE); /* the new states to the cache */
        unpin(b, was);
        set_tail(b, CG_TAIL_MAMBA, last, y, x, xz, inpL);
        return;
    }
    const int16_t y = wide_op(b, y_len, 1, src, 5);
    cg_sink(b->g, s_copy_view(b, true), CG_NONE, CG_NONE); /* build_rs: the extra rows */
    cg_sink(b->g, V(b, y), CG_NONE, CG_NONE);      /* the new states to the cache */
    set_tail(b, CG_TAIL_MAMBA, last, y, x, xz, inpL);
}

/* y + x * D, the gate, (Mamba-2) the grouped norm, out_proj */
int16_t cg_rec_mamba_out(cg_build *b, const cg_rec_tail *t)
{
    const ssm_dims s = ssm_of(b->m);
    const int64_t E = b->m->n_embd, T = b->n_tokens, ns = seqs(b), nst = T / ns;
    const int16_t y_ssm = t->h[0], x = t->h[1], xz = t->h[2];
    /* shapes: Mamba's [d_inner, tokens, seqs] (x * D runs in place over the
     * conv's output), Mamba-2's [head_dim, heads, tokens, seqs] (over a view) */
    int64_t ne[4] = {s.d_inner, nst, ns, 1};
    if (s.v2) {
        ne[0] = s.d_inner / s.n_head;
        ne[1] = s.n_head;
        ne[2] = nst;
        ne[3] = ns;
    }
    /* an op-offloaded layer's scan ran on the host: its y (a view) is
     * copied back, first in the split */
    const int16_t y_in =
        b->offloading ? cg_view_copy(b, V(b, y_ssm), (uint64_t)smul(smul(s.d_inner, T), 4), 0,
                                     b->g->cur_buffer, false,
                                     cg_layout_key(CG_F32, ne[0], ne[1], ne[2], ne[3], false))
                      : V(b, y_ssm);
    /* swiglu_split(cont(z), y): z first */
    const int16_t z = nw(b, V(b, xz), CG_NONE, ne[0], ne[1], ne[2], ne[3]);
    int16_t y = ip(b, s.v2 ? V(b, x) : x, cg_row_weight(b, s.n_head), ne[0], ne[1], ne[2],
                   ne[3]); /* x * D */
    y = ip(b, y_in, y, ne[0], ne[1], ne[2], ne[3]);
    y = nw(b, z, y, ne[0], ne[1], ne[2], ne[3]); /* swiglu */
    int16_t out;
    if (s.v2) {
        if (b->rdims.ssm_norm) { /* rms_norm of a reshape: a new tensor */
            y = ip(b, V(b, y), CG_NONE, s.d_inner / s.ng, s.ng, nst, ns);
            y = ip(b, y, cg_row_weight(b, s.d_inner / s.ng), s.d_inner / s.ng, s.ng, nst, ns);
        }
        out = mmw(b, HR_ROLE_SSM_OUT, V(b, y), E, T, 1, 1);
    } else {
        out = V(b, mmw(b, HR_ROLE_SSM_OUT, y, E, nst, ns, 1)); /* reshaped to 2-d */
    }
    return out;
}

/* the output projection, then the residual (Granite-4.0-H: and the FFN) */
static int16_t mamba_tail(cg_build *b, const cg_rec_tail *t)
{
    const int64_t E = b->m->n_embd, T = b->n_tokens;
    const int16_t inpL = t->h[3];
    const int64_t R = b->n_outputs;
    /* the last layer keeps the out_ids rows of both; Jamba's add(inpL rows,
     * cur rows) reaches the residual's before the mixer's output, which
     * nothing expanded */
    const bool resid_first = t->last && b->m->arch == HR_ARCH_JAMBA;
    int16_t r = resid_first ? nw(b, inpL, out_ids(b), E, R, 1, 1) : inpL;
    const int16_t out = cg_rec_mamba_out(b, t);
    /* Granite-4.0-H's and Jamba's layers carry an FFN after the mixer */
    const bool ffn = b->m->arch == HR_ARCH_GRANITE_HYBRID || b->m->arch == HR_ARCH_JAMBA;
    if (!t->last)
        return ffn ? cg_layer_ffn(b, t->layer, out, inpL, T) : ip(b, out, inpL, E, T, 1, 1);
    const int16_t c = nw(b, out, out_ids(b), E, R, 1, 1);
    if (!resid_first)
        r = nw(b, inpL, out_ids(b), E, R, 1, 1);
    return ffn ? cg_layer_ffn(b, t->layer, c, r, R) : ip(b, c, r, E, R, 1, 1);
}

/* ---- LFM2's short convolution (llama_model_lfm2's build_shortconv_block) ---- */

/* in_proj to B, C, x; B * x after the conv state's columns (the copy of
 * the last ones is the expand); the conv, C *, out_proj and the FFN wait */
static void shortconv_layer(cg_build *b, int16_t cur, bool last)
{
    const int64_t E = b->m->n_embd, T = b->n_tokens, ns = seqs(b), nst = T / ns;
    const int64_t d_conv = b->m->shortconv_l_cache > 1 ? (int64_t)b->m->shortconv_l_cache - 1 : 0;
    int16_t inpL;
    const int16_t conv = rows_and_input(b, cur, smul(d_conv, E), &inpL);
    int16_t x = ip(b, inpL, CG_NONE, E, T, 1, 1);  /* rms_norm (the residual reads inpL too) */
    x = ip(b, x, cg_row_weight(b, E), E, T, 1, 1); /* * attn_norm */
    const int16_t bcx = mmw(b, HR_ROLE_SHORTCONV_IN, V(b, x), 3 * E, nst, ns, 1);
    const int16_t bx = nw(b, V(b, bcx), V(b, bcx), E, nst, ns, 1); /* B * x of two views */
    const int16_t conv_x = nw(b, V(b, conv), V(b, bx), d_conv + nst, E, ns, 1); /* concat */
    /* last columns to the state */
    cache_write(b, conv_x, strided_view_bytes(d_conv, E, ns, smul(d_conv + nst, 4)), false);
    set_tail(b, CG_TAIL_SHORTCONV, last, conv_x, bcx, inpL, CG_NONE);
}

static int16_t shortconv_tail(cg_build *b, const cg_rec_tail *t)
{
    const int64_t E = b->m->n_embd, T = b->n_tokens, ns = seqs(b), nst = T / ns;
    const int16_t conv_x = t->h[0], bcx = t->h[1], inpL = t->h[2];
    /* the last layer adds (prev_cur rows, cur rows): the residual's rows
     * come before the convolution, which nothing expanded */
    const int16_t oid = t->last ? out_ids(b) : CG_NONE;
    const int16_t resid = t->last ? nw(b, inpL, oid, E, b->n_outputs, 1, 1) : inpL;
    int16_t y = nw(b, conv_x, cg_weight(b, HR_ROLE_SHORTCONV_CONV), E, nst, ns, 1); /* ssm_conv */
    y = ip(b, V(b, bcx), y, E, nst, ns, 1);            /* C * (over the conv's output) */
    y = V(b, mmw(b, HR_ROLE_SHORTCONV_OUT, y, E, nst, ns, 1)); /* out_proj, reshaped to 2-d */
    if (!t->last)
        return cg_layer_ffn(b, t->layer, y, inpL, T);
    const int64_t R = b->n_outputs;
    return cg_layer_ffn(b, t->layer, nw(b, y, oid, E, R, 1, 1), resid, R);
}

/* ---- Qwen3.5's gated delta net (qwen35.cpp's build_layer_attn_linear,
 * delta-net-base.cpp's build_conv_state and the fused GATED_DELTA_NET op
 * llama.cpp picks on CPU) ---- */

int16_t cg_rec_delta_net(cg_build *b, int il, int16_t inpL)
{
    const hr_model *m = b->m;
    const int64_t E = m->n_embd, T = b->n_tokens, ns = seqs(b), nst = T / ns;
    const int64_t Sk = m->ssm_d_state, Hk = m->ssm_n_group, Hv = m->ssm_dt_rank;
    const int64_t vdim = m->ssm_d_inner, Sv = Hv ? vdim / Hv : vdim;
    const int64_t conv_ch = sadd(vdim, smul(2 * Hk, Sk));
    const int64_t d_conv = m->ssm_d_conv > 1 ? (int64_t)m->ssm_d_conv - 1 : 0;
    b->cur_layer = il;
    /* the input norm (expanded first) */
    int16_t x = ip(b, inpL, CG_NONE, E, T, 1, 1);
    x = ip(b, x, cg_row_weight(b, E), E, T, 1, 1);
    /* the conv state's copy: its rows, then qkv (transposed into the concat) */
    const int16_t conv = state_rows(b, smul(d_conv, conv_ch));
    int16_t qkv, qkvz = CG_NONE;
    if (m->has_fused_qkvz) { /* Qwen3-Next's legacy ssm_in: q, k, v copied out and concatenated */
        qkvz = mmw(b, HR_ROLE_SSM_IN, x, sadd(conv_ch, vdim), T, 1, 1);
        const int16_t qf = nw(b, V(b, qkvz), CG_NONE, smul(Sk, Hk), nst, ns, 1);
        const int16_t kf = nw(b, V(b, qkvz), CG_NONE, smul(Sk, Hk), nst, ns, 1);
        const int16_t qk = nw(b, qf, kf, smul(2 * Sk, Hk), nst, ns, 1);
        const int16_t vf = nw(b, V(b, qkvz), CG_NONE, vdim, nst, ns, 1);
        qkv = nw(b, qk, vf, conv_ch, nst, ns, 1);
    } else {
        qkv = mmw(b, HR_ROLE_ATTN_QKV, x, conv_ch, T, 1, 1);
    }
    const int16_t cx = nw(b, V(b, conv), V(b, qkv), d_conv + nst, conv_ch, ns, 1);
    /* its last d_conv columns to the cache */
    cache_write(b, cx, strided_view_bytes(d_conv, conv_ch, ns, smul(d_conv + nst, 4)), false);
    /* build_rs expands the state's rows at once, before the convolution */
    const int16_t state = state_rows(b, smul(Sk, vdim));
    /* the fused op's sources in order: q, k (conv, silu, l2 norms), v, g, beta, state */
    int16_t co = nw(b, cx, cg_weight(b, HR_ROLE_SSM_CONV1D), conv_ch, nst, ns, 1); /* ssm_conv */
    co = ip(b, co, CG_NONE, conv_ch, nst, ns, 1);         /* silu */
    /* Qwen3-Next repeats q and k to the value heads (Qwen3.5 broadcasts in
     * the fused op) and projects beta and alpha together */
    const bool next = m->arch == HR_ARCH_QWEN3NEXT;
    const bool repeat = next && Hk != Hv && Hk > 0;
    int16_t q = ip(b, V(b, co), CG_NONE, Sk, Hk, nst, ns); /* l2 norm: rms_norm of a view */
    q = ip(b, q, CG_NONE, Sk, Hk, nst, ns);                /* and a scale */
    if (repeat)
        q = nw(b, V(b, q), CG_NONE, Sk, Hv / Hk, Hk, T);
    int16_t k = ip(b, V(b, co), CG_NONE, Sk, Hk, nst, ns);
    k = ip(b, k, CG_NONE, Sk, Hk, nst, ns);
    if (repeat)
        k = nw(b, V(b, k), CG_NONE, Sk, Hv / Hk, Hk, T);
    const int16_t ba = next ? mmw(b, HR_ROLE_SSM_BA, x, 2 * Hv, T, 1, 1) : CG_NONE;
    int16_t g = next ? nw(b, V(b, ba), CG_NONE, Hv, nst, ns, 1) /* cont_3d of alpha's view */
                     : mmw(b, HR_ROLE_SSM_ALPHA, x, Hv, T, 1, 1); /* alpha */
    g = ip(b, next ? g : V(b, g), cg_row_weight(b, Hv), Hv, nst, ns, 1); /* + dt bias */
    g = ip(b, g, CG_NONE, Hv, nst, ns, 1);                   /* softplus */
    g = ip(b, g, cg_row_weight(b, Hv), Hv, nst, ns, 1);      /* * a */
    int16_t beta;
    if (next) { /* cont of beta's view, sigmoid */
        beta = nw(b, V(b, ba), CG_NONE, Hk ? Hv / Hk : Hv, Hk ? Hk : 1, nst, ns);
        beta = ip(b, beta, CG_NONE, Hk ? Hv / Hk : Hv, Hk ? Hk : 1, nst, ns);
    } else {
        beta = mmw(b, HR_ROLE_SSM_BETA, x, Hv, T, 1, 1);
        beta = ip(b, V(b, beta), CG_NONE, 1, Hv, nst, ns); /* sigmoid, over its reshape */
    }
    const int16_t src[6] = {q, k, V(b, co), V(b, g), beta, V(b, state)};
    /* output [Sv, Hv, T] then the new state [Sv, Sv, Hv, seqs] */
    const int16_t y = wide_op(b, sadd(smul(smul(Sv, Hv), T), smul(smul(smul(Sv, Sv), Hv), ns)), 1,
                              src, 6);
    /* the new state to the cache */
    cache_write(b, y, (uint64_t)smul(smul(smul(Sv, Sv), Hv), smul(ns, 4)), true);
    /* the gated norm: rms_norm(output) * ssm_norm * silu(z), then out_proj */
    int16_t o = ip(b, V(b, y), CG_NONE, Sv, Hv, nst, ns);
    o = ip(b, o, cg_row_weight(b, Sv), Sv, Hv, nst, ns);
    int16_t z = qkvz != CG_NONE ? nw(b, V(b, qkvz), CG_NONE, vdim, nst, ns, 1) /* cont of z's view */
                                : mmw(b, HR_ROLE_ATTN_GATE, x, vdim, T, 1, 1);
    z = ip(b, V(b, z), CG_NONE, Sv, Hv, nst, ns); /* silu over z's reshape */
    o = ip(b, o, z, Sv, Hv, nst, ns);
    const int16_t out = mmw(b, HR_ROLE_SSM_OUT, V(b, o), E, T, 1, 1);
    return cg_layer_ffn(b, il, V(b, out), inpL, T); /* reshaped to 2-d: the residual add
                                                       runs in place over inpL */
}

/* ---- RWKV-6 (Finch) and RWKV-7 (Goose) ---- */

/* The end of a time mix (o: its output projection): the residual, the FFN's
 * norm and the token-shift store of both norms' last rows; the channel mix
 * waits as the layer's tail (rwkv_tail). */
static void rwkv_time_mix_end(cg_build *b, uint8_t kind, bool last, int16_t o, int16_t inpL,
                              int16_t att, int16_t ts)
{
    const int64_t E = b->m->n_embd, ns = seqs(b), nst = b->n_tokens / ns;
    const int16_t ffn_inp = ip(b, V(b, o), V(b, inpL), E, nst, ns, 1);
    const int16_t ffn_norm = lnorm(b, ffn_inp, E, nst, ns, 1);
    const int16_t shift = nw(b, V(b, att), V(b, ffn_norm), E, 2, ns, 1); /* concat */
    cache_write(b, shift, (uint64_t)smul(smul(2 * E, ns), 4), false);
    set_tail(b, kind, last, ts, ffn_norm, ffn_inp, CG_NONE);
}

/* The time mix's or the channel mix's half of the token-shift rows ts
 * (views of them), as the concat reads it: in an op-offloaded layer a copy
 * of that view alone (the rows sit on the host) */
static int16_t token_shift(cg_build *b, int16_t ts)
{
    if (!b->offloading)
        return V(b, ts);
    const uint64_t half = (uint64_t)smul(smul(b->m->n_embd, seqs(b)), 4);
    return cg_view_copy(b, V(b, ts), half, 0, b->g->cur_buffer, true, 0);
}

/* one of the five token-shift mixes (w, k, v, r, g): a view of the fused
 * block, or (files without lerp_fused) its view + lerp_i, * sx, + cur */
static int16_t rwkv6_mix(cg_build *b, int16_t xx, int16_t sx, int16_t att, int64_t E, int64_t T)
{
    if (b->rdims.lerp_fused)
        return V(b, xx);
    int16_t x = ip(b, V(b, xx), cg_row_weight(b, E), E, T, 1, 1); /* + lerp_i */
    x = ip(b, x, V(b, sx), E, T, 1, 1);
    return ip(b, x, V(b, att), E, T, 1, 1);
}

static void rwkv6_layer(cg_build *b, int16_t cur, bool last)
{
    const cg_rec_dims *d = &b->rdims;
    const int64_t E = b->m->n_embd, T = b->n_tokens, ns = seqs(b), nst = T / ns;
    const int64_t hs = head_size(b->m), H = E / hs, X = d->mix_extra;
    /* build_rs: token-shift rows, then (build_rwkv6_time_mix) the wkv
     * state rows */
    const int16_t ts = state_rows(b, 2 * E);
    const int16_t ws = state_rows(b, smul(E, hs));
    /* the DFS from the new wkv state: k first, which needs att_norm */
    const int16_t inpL = cg_rec_flush(b, cur);
    const int16_t att = lnorm(b, V(b, inpL), E, nst, ns, 1);
    int16_t sx = nw(b, token_shift(b, ts), V(b, att), E, nst, ns, 1); /* x_prev: concat */
    sx = ip(b, sx, att, E, nst, ns, 1);                      /* x_prev - att_norm */
    int16_t xx = ip(b, V(b, sx), cg_row_weight(b, E), E, T, 1, 1); /* * lerp_x (over a reshape) */
    xx = ip(b, xx, V(b, att), E, T, 1, 1);                   /* + cur */
    xx = mmr(b, CG_RW_W1, xx, 5 * X, T, 1, 1);               /* time_mix_w1 */
    xx = ip(b, xx, CG_NONE, 5 * X, T, 1, 1);                 /* tanh */
    xx = nw(b, V(b, xx), CG_NONE, X, 1, T, 5);               /* cont(permute) */
    /* time_mix_w2, read through a reshape */
    xx = nw(b, b->offloading ? cg_tensor_weight_view(b, rw_tensor(b, CG_RW_W2)) : CG_NONE, xx, E, 1,
            T, 5);
    if (d->lerp_fused) {
        xx = ip(b, xx, cg_row_weight(b, 5 * E), E, 1, T, 5); /* + lerp_fused */
        xx = ip(b, xx, V(b, sx), E, 1, T, 5);  /* * sx */
        xx = ip(b, xx, V(b, att), E, 1, T, 5); /* + cur */
    }
    /* rwkv_wkv6(k, v, r, time_first, w, state) */
    const int16_t k = mmr(b, CG_RW_KEY, rwkv6_mix(b, xx, sx, att, E, T), E, T, 1, 1);
    const int16_t v = mmr(b, CG_RW_VALUE, rwkv6_mix(b, xx, sx, att, E, T), E, T, 1, 1);
    const int16_t r = mmr(b, CG_RW_RECEPTANCE, rwkv6_mix(b, xx, sx, att, E, T), E, T, 1, 1);
    int16_t w = mmr(b, CG_RW_DECAY_W1, rwkv6_mix(b, xx, sx, att, E, T), d->decay_extra, T, 1, 1);
    w = ip(b, w, CG_NONE, d->decay_extra, T, 1, 1); /* tanh */
    w = mmr(b, CG_RW_DECAY_W2, w, E, T, 1, 1);      /* decay_w2 */
    w = ip(b, w, cg_row_weight(b, E), E, T, 1, 1);  /* + time_mix_decay */
    w = ip(b, w, CG_NONE, E, T, 1, 1);              /* exp */
    w = ip(b, w, CG_NONE, E, T, 1, 1);              /* neg */
    w = ip(b, w, CG_NONE, E, T, 1, 1);              /* exp */
    /* rwkv_wkv6(k, v, r, time_first, w, state): time_first a host weight */
    const int16_t tf = b->offloading ? cg_tensor_weight(b, rw_tensor(b, CG_RW_FIRST)) : CG_NONE;
    int16_t src[6] = {V(b, k), V(b, v), V(b, r), tf, V(b, w), ws};
    int n_src = 6;
    if (tf == CG_NONE) { /* not op-offloaded: the weight plays no part */
        src[3] = src[4];
        src[4] = ws;
        n_src = 5;
    }
    const int16_t wkv = wide_op(b, E, sadd(T, smul(hs, ns)), src, n_src);
    /* the new state to the cache */
    cache_write(b, wkv, (uint64_t)smul(smul(smul(E, hs), ns), 4), true);
    /* the rest of the time mix, reached from the token-shift store */
    int16_t o = nw(b, V(b, wkv), CG_NONE, hs, H, T, 1);  /* group norm */
    o = ip(b, V(b, o), cg_row_weight(b, E), E, T, 1, 1); /* * ln (over a reshape) */
    o = ip(b, o, cg_row_weight(b, E), E, T, 1, 1);       /* + ln_b */
    int16_t g = mmr(b, CG_RW_GATE, rwkv6_mix(b, xx, sx, att, E, T), E, T, 1, 1);
    g = ip(b, g, CG_NONE, E, T, 1, 1); /* silu */
    o = ip(b, o, g, E, T, 1, 1);
    o = mmr(b, CG_RW_OUTPUT, o, E, T, 1, 1); /* time_mix_output */
    rwkv_time_mix_end(b, CG_TAIL_RWKV6, last, o, inpL, att, ts);
}

/* the channel mix (RWKV-6 with receptance, RWKV-7 without) and the
 * residual; the last layer first keeps the out_ids rows of x_prev,
 * ffn_norm and (at its use) ffn_inp */
static int16_t rwkv_tail(cg_build *b, const cg_rec_tail *t, int il, bool v6)
{
    const int64_t E = b->m->n_embd, T = b->n_tokens, ns = seqs(b), nst = T / ns;
    const int64_t F = ffn_len(b->m, il);
    const int16_t ts = t->h[0], ffn_norm = t->h[1], ffn_inp = t->h[2];
    const int16_t x_prev = nw(b, token_shift(b, ts), V(b, ffn_norm), E, nst, ns, 1); /* concat */
    int64_t R = T;
    int16_t fn = V(b, ffn_norm), oid = CG_NONE, sx;
    if (t->last) {
        oid = out_ids(b);
        R = b->n_outputs;
        const int16_t xp = nw(b, V(b, x_prev), oid, E, R, 1, 1);
        fn = nw(b, fn, oid, E, R, 1, 1);
        sx = ip(b, xp, fn, E, R, 1, 1);
    } else {
        sx = ip(b, V(b, x_prev), fn, E, R, 1, 1); /* both reshaped: a new tensor */
    }
    int16_t r = CG_NONE;
    if (v6) {
        r = ip(b, sx, cg_row_weight(b, E), E, R, 1, 1); /* * lerp_r */
        r = ip(b, r, fn, E, R, 1, 1);
        r = mmr(b, CG_RW_CM_RECEPTANCE, r, E, R, 1, 1); /* receptance */
        r = ip(b, r, CG_NONE, E, R, 1, 1);              /* sigmoid */
    }
    int16_t k = ip(b, sx, cg_row_weight(b, E), E, R, 1, 1); /* * lerp_k */
    k = ip(b, k, fn, E, R, 1, 1);
    k = mmr(b, CG_RW_CM_KEY, k, F, R, 1, 1);
    k = ip(b, k, CG_NONE, F, R, 1, 1); /* relu */
    k = ip(b, k, CG_NONE, F, R, 1, 1); /* sqr */
    int16_t out = mmr(b, CG_RW_CM_VALUE, k, E, R, 1, 1);
    if (v6)
        out = ip(b, r, out, E, R, 1, 1);
    const int16_t fi = t->last ? nw(b, V(b, ffn_inp), oid, E, R, 1, 1) : V(b, ffn_inp);
    return ip(b, out, fi, E, R, 1, 1);
}

/* ---- RWKV-7 (Goose) ---- */

static void rwkv7_layer(cg_build *b, int16_t cur, bool last)
{
    const cg_rec_dims *d = &b->rdims;
    const int64_t E = b->m->n_embd, T = b->n_tokens, ns = seqs(b), nst = T / ns;
    const int64_t hs = head_size(b->m), H = E / hs;
    const int16_t ts = state_rows(b, 2 * E);
    const int16_t ws = state_rows(b, smul(E, hs));
    /* the DFS from the new wkv state: r first */
    const int16_t inpL = cg_rec_flush(b, cur);
    const int16_t att = lnorm(b, V(b, inpL), E, nst, ns, 1);
    int16_t xx = nw(b, token_shift(b, ts), V(b, att), E, nst, ns, 1); /* x_prev: concat */
    xx = ip(b, xx, att, E, nst, ns, 1);                      /* sx = x_prev - att_norm */
    xx = nw(b, xx, CG_NONE, E, nst, ns, 6);                  /* repeat: 6 mixes */
    xx = ip(b, xx, cg_row_weight(b, 6 * E), E, nst, ns, 6);  /* * lerp_fused */
    xx = ip(b, xx, att, E, nst, ns, 6);                      /* + cur */
    const int16_t mix = V(b, xx);                            /* xr, xw, xk, xv, xa, xg */
    const int16_t r = mmr(b, CG_RW_RECEPTANCE, mix, E, T, 1, 1);
    int16_t w = mmr(b, CG_RW_W1, mix, d->lora_w, T, 1, 1);
    w = ip(b, w, CG_NONE, d->lora_w, T, 1, 1); /* tanh */
    w = mmr(b, CG_RW_W2, w, E, T, 1, 1);
    w = ip(b, w, cg_row_weight(b, E), E, T, 1, 1); /* + w0 */
    w = ip(b, w, CG_NONE, E, T, 1, 1); /* sigmoid */
    w = ip(b, w, CG_NONE, E, T, 1, 1); /* scale */
    w = ip(b, w, CG_NONE, E, T, 1, 1); /* exp */
    /* k = k + (a * ka - ka), ka = k * k_a */
    const int16_t k = mmr(b, CG_RW_KEY, mix, E, T, 1, 1);
    int16_t a = mmr(b, CG_RW_A1, mix, d->lora_a, T, 1, 1);
    a = mmr(b, CG_RW_A2, a, E, T, 1, 1);
    a = ip(b, a, cg_row_weight(b, E), E, T, 1, 1); /* + a0 */
    a = ip(b, a, CG_NONE, E, T, 1, 1); /* sigmoid */
    const int16_t ka = ip(b, k, cg_row_weight(b, E), E, T, 1, 1); /* * k_a */
    int16_t kf = ip(b, a, ka, E, T, 1, 1);
    kf = ip(b, kf, ka, E, T, 1, 1);
    kf = ip(b, k, kf, E, T, 1, 1);
    /* v, mixed with the first layer's v after the first layer */
    int16_t v = mmr(b, CG_RW_VALUE, mix, E, T, 1, 1);
    if (b->v_first == CG_NONE) {
        b->v_first = v;
    } else {
        int16_t dv = ip(b, b->v_first, v, E, T, 1, 1); /* v_first - v */
        int16_t s = mmr(b, CG_RW_V1, mix, d->lora_v, T, 1, 1);
        s = mmr(b, CG_RW_V2, s, E, T, 1, 1);
        s = ip(b, s, cg_row_weight(b, E), E, T, 1, 1); /* + v0 */
        s = ip(b, s, CG_NONE, E, T, 1, 1); /* sigmoid */
        dv = ip(b, dv, s, E, T, 1, 1);
        v = ip(b, v, dv, E, T, 1, 1);
    }
    /* kk = l2_norm(k * k_k); wkv7's a = -kk, b = kk * a */
    int16_t kk = ip(b, k, cg_row_weight(b, E), E, T, 1, 1); /* * k_k */
    kk = nw(b, V(b, kk), CG_NONE, hs, H, T, 1);
    const int16_t nkk = ip(b, kk, CG_NONE, hs, H, T, 1);
    const int16_t kka = ip(b, kk, V(b, a), hs, H, T, 1);
    /* rwkv_wkv7(r, w, k, v, a, b, state) */
    const int16_t src[7] = {V(b, r), V(b, w), V(b, kf), V(b, v), nkk, kka, ws};
    const int16_t wkv = wide_op(b, E, sadd(T, smul(hs, ns)), src, 7);
    /* the new state to the cache */
    cache_write(b, wkv, (uint64_t)smul(smul(smul(E, hs), ns), 4), true);
    /* the rest of the time mix, reached from the token-shift store */
    int16_t o = nw(b, V(b, wkv), CG_NONE, hs, H, T, 1);    /* group norm */
    o = ip(b, V(b, o), cg_row_weight(b, E), E, T, 1, 1);   /* * ln (over a reshape) */
    o = ip(b, o, cg_row_weight(b, E), E, T, 1, 1);         /* + ln_b */
    int16_t rk = ip(b, V(b, kf), V(b, r), hs, H, T, 1);    /* k * r (reshaped: new) */
    rk = ip(b, rk, cg_row_weight_view(b, E), hs, H, T, 1); /* * r_k (a reshape of it) */
    rk = nw(b, rk, CG_NONE, 1, H, T, 1);                /* sum_rows */
    rk = ip(b, V(b, v), rk, hs, H, T, 1);               /* v * rk (new) */
    o = ip(b, o, V(b, rk), E, T, 1, 1);
    int16_t g = mmr(b, CG_RW_G1, mix, d->lora_g, T, 1, 1);
    g = ip(b, g, CG_NONE, d->lora_g, T, 1, 1); /* sigmoid */
    g = mmr(b, CG_RW_G2, g, E, T, 1, 1);
    o = ip(b, o, g, E, T, 1, 1);
    o = mmr(b, CG_RW_OUTPUT, o, E, T, 1, 1); /* time_mix_output */
    rwkv_time_mix_end(b, CG_TAIL_RWKV7, last, o, inpL, att, ts);
}

/* ---- the entry points (build.h) ---- */

void cg_rec_early_rows(cg_build *b, int il, uint8_t buf)
{
    const ssm_dims s = ssm_of(b->m);
    const int64_t width = b->m->shortconv_l_cache ? smul((int64_t)b->m->shortconv_l_cache - 1, b->m->n_embd)
                                                  : smul(s.d_conv - 1, s.conv_ch);
    const uint8_t saved = b->g->cur_buffer;
    b->g->cur_buffer = buf;
    b->early_rows = state_rows(b, width);
    b->early_layer = il;
    b->g->cur_buffer = saved;
}

void cg_rec_begin(cg_build *b, int16_t embd)
{
    b->tail.kind = CG_TAIL_NONE;
    b->v_first = CG_NONE;
    b->early_layer = -1;
    scan_dims(b);
    if (b->m->arch == HR_ARCH_RWKV6 || b->m->arch == HR_ARCH_RWKV7) /* token_embd_norm */
        set_tail(b, CG_TAIL_EMBD_NORM, false, embd, CG_NONE, CG_NONE, CG_NONE);
}

void cg_rec_layer(cg_build *b, int il, int16_t cur, bool last)
{
    b->cur_layer = il;
    switch (b->m->arch) {
    case HR_ARCH_RWKV6:
        rwkv6_layer(b, cur, last);
        break;
    case HR_ARCH_RWKV7:
        rwkv7_layer(b, cur, last);
        break;
    case HR_ARCH_LFM2: case HR_ARCH_LFM2MOE:
        shortconv_layer(b, cur, last);
        break;
    default: /* Mamba, Mamba-2; hybrids' recurrent layers approximated by Mamba's */
        mamba_layer(b, cur, last);
        break;
    }
}

int16_t cg_rec_flush(cg_build *b, int16_t cur)
{
    const cg_rec_tail t = b->tail;
    if (t.kind == CG_TAIL_NONE)
        return cur;
    b->tail.kind = CG_TAIL_NONE;
    cg_graph *g = b->g;
    const uint8_t saved = g->cur_buffer;
    const bool saved_offloading = b->offloading, saved_free = g->free_mode;
    const uint16_t saved_wsig = b->wsig;
    /* the ops of the layer that left them, as it emitted its own (op
     * offload included); the embeddings' norm runs with layer 0 (llama.cpp
     * loads token_embd_norm as a repeating layer's) */
    if (t.kind != CG_TAIL_EMBD_NORM) {
        g->cur_buffer = t.buffer;
        b->offloading = t.offloading;
        b->wsig = t.wsig;
        cg_set_free_mode(g, t.offloading);
    }
    int16_t out;
    switch (t.kind) {
    case CG_TAIL_EMBD_NORM:
        out = lnorm(b, t.h[0], b->m->n_embd, b->n_tokens, 1, 1);
        break;
    case CG_TAIL_MAMBA:
        out = mamba_tail(b, &t);
        break;
    case CG_TAIL_SHORTCONV:
        out = shortconv_tail(b, &t);
        break;
    case CG_TAIL_FALCON_H1:
        out = cg_falcon_h1_tail(b, &t);
        break;
    default:
        out = rwkv_tail(b, &t, t.layer, t.kind == CG_TAIL_RWKV6);
        break;
    }
    g->cur_buffer = saved;
    b->offloading = saved_offloading;
    b->wsig = saved_wsig;
    g->free_mode = saved_free;
    return out;
}
