/* Worst-case reserve graphs of llama.cpp's attention transformers
 * (src/models/ and src/llama-graph.cpp), emitted in ggml's node order.
 *
 * Conventions (ggml facts the allocator cares about):
 *  - MUL_MAT / MUL_MAT_ID / GET_ROWS / GLU (swiglu, geglu) / NORM / CONT /
 *    FLASH_ATTN_EXT / ARGSORT / SUM_ROWS produce new tensors;
 *  - RMS_NORM, MUL, ADD, DIV, SCALE, ROPE, SOFT_MAX, UNARY (silu, tanh,
 *    gelu, sigmoid), CLAMP may run in place;
 *  - reshape / view / permute are views (no memory; they keep their root
 *    alive until their own consumers have run);
 *  - weights and the KV cache are external and never appear here;
 *  - ggml_set_rows into the cache consumes its sources and allocates
 *    nothing. */
#include <string.h>

#include "build.h"
#include "model/model_internal.h"

/* ---- small helpers mirroring the ggml calls ---- */

static uint8_t layer_buffer(const cg_build *b, int il)
{
    for (int d = 0; d < b->in->n_devices && d < CG_MAX_BUFFERS; d++)
        if (il >= b->in->layer_begin[d] && il < b->in->layer_end[d])
            return (uint8_t)d;
    return 0;
}

/* The weight of a matmul when the scheduler moves the op off the weight's
 * backend (op offload): an external tensor on the host, copied in. Sizes
 * per role come from one pass over the tensors (the largest of the blocks:
 * quantization mixes give some blocks a wider type). */
static bool repacked(hr_type t, int64_t ne1)
{
    /* ggml-cpu repack.cpp on x86 with AVX2: these weights (rows in groups
     * of 8) move to the CPU_REPACK buffer, which is not a host buffer: no
     * op offload */
    return (t == HR_TYPE_Q4_0 || t == HR_TYPE_Q4_K || t == HR_TYPE_IQ4_NL || t == HR_TYPE_MXFP4) &&
           ne1 % 8 == 0;
}

/* the largest block weight of each role, once per estimate: from the
 * model's precomputed maxima (hr_model_role_max), else a pass over its
 * tensors (a tensor list changed since the model was finalized) */
static void scan_roles(cg_roles *ro, const hr_model *m)
{
    ro->scanned = true;
    ro->per_layer = hr_model_layer_roles(m, &ro->layer);
    const hr_role_max *rm = hr_model_role_max(m);
    if (rm) {
        for (int r = 0; r < HR_ROLE_COUNT; r++) {
            ro->bytes[r] = rm[r].bytes;
            ro->repacked[r] = rm[r].bytes && repacked(rm[r].type, rm[r].ne1);
        }
        return;
    }
    memset(ro->bytes, 0, sizeof ro->bytes);
    memset(ro->repacked, 0, sizeof ro->repacked);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        const unsigned r = t->role;
        /* the size test first: it fails for most tensors */
        if (r < HR_ROLE_COUNT && t->bytes > ro->bytes[r] &&
            (t->layer >= 0 || r == HR_ROLE_OUTPUT || r == HR_ROLE_TOKEN_EMBD)) {
            ro->bytes[r] = t->bytes;
            ro->repacked[r] = repacked(t->type, t->ne[1]);
        }
    }
}

/* the weight table of op-offloaded block il (CG_NO_SIG: not offloaded, or
 * the model has no per-block tables) */
static uint16_t offloaded_wsig(cg_build *b, int il)
{
    if (!b->offloading)
        return CG_NO_SIG;
    cg_roles *ro = b->roles;
    if (!ro->scanned)
        scan_roles(ro, b->m);
    return ro->per_layer && il >= 0 && (uint32_t)il < b->m->n_layer ? ro->layer.sig[il] : CG_NO_SIG;
}

/* a host weight of these bytes as an external source: where it is repacked
 * for the CPU (no GPU of the run has a host buffer type) its op stays there */
static int16_t weight_external(cg_build *b, uint64_t bytes, bool repacks)
{
    return cg_external(b->g, bytes, 0,
                       repacks && b->host_repack ? CG_EXT_WEIGHT_REPACKED : CG_EXT_WEIGHT_HOST);
}

static int16_t host_weight(cg_build *b, hr_role role)
{
    cg_roles *ro = b->roles;
    if (!ro->scanned)
        scan_roles(ro, b->m);
    hr_role r = role;
    if (role == HR_ROLE_OUTPUT && ro->bytes[HR_ROLE_OUTPUT] == 0) /* tied: token_embd */
        r = HR_ROLE_TOKEN_EMBD;
    if ((unsigned)r >= HR_ROLE_COUNT)
        return CG_NONE;
    uint64_t bytes = ro->bytes[r];
    bool repacks = ro->repacked[r];
    if (b->wsig != CG_NO_SIG && ro->per_layer) { /* the block's own weight */
        const hr_role_max *e = &ro->layer.table[(size_t)b->wsig * HR_ROLE_COUNT + r];
        bytes = e->bytes;
        repacks = repacked(e->type, e->ne1);
    }
    return bytes ? weight_external(b, bytes, repacks) : CG_NONE;
}

/* the weight as a source: only an op-offloaded layer reads it from elsewhere */
static inline int16_t weight(cg_build *b, hr_role role)
{
    return b->offloading ? host_weight(b, role) : CG_NONE;
}

/* The emitters below are inlined into every call: most shapes passed are
 * constants (ne2 = ne3 = 1, F32), and cg_op's size and layout arithmetic
 * folds with them. */
#define EMITTER static inline __attribute__((always_inline))

EMITTER int16_t mm(cg_build *b, hr_role role, int64_t rows, int16_t x, int64_t ne1, int64_t ne2,
                   int64_t ne3)
{
    return cg_op(b->g, false, CG_F32, rows, ne1, ne2, ne3, weight(b, role), x, CG_NONE, CG_NONE);
}

/* element-wise in-place op of x (with an optional second operand) */
EMITTER int16_t ew(cg_build *b, int16_t x, int16_t y, int64_t ne0, int64_t ne1, int64_t ne2,
                   int64_t ne3)
{
    return cg_op(b->g, true, CG_F32, ne0, ne1, ne2, ne3, x, y, CG_NONE, CG_NONE);
}

/* a new tensor from x (NORM, CONT, GLU, GET_ROWS...) */
EMITTER int16_t fresh(cg_build *b, int16_t x, int16_t y, cg_type type, int64_t ne0,
                      int64_t ne1, int64_t ne2, int64_t ne3)
{
    return cg_op(b->g, false, type, ne0, ne1, ne2, ne3, x, y, CG_NONE, CG_NONE);
}

/* A row of n f32 weights (a norm's weight, a bias) as an operand: in an
 * op-offloaded layer a host weight, which moves the op to the GPU and is
 * copied in at the start of a split of its own. */
EMITTER int16_t row_weight(cg_build *b, int64_t n)
{
    return b->offloading ? cg_external(b->g, (uint64_t)n * 4u, 0, CG_EXT_WEIGHT_HOST) : CG_NONE;
}

int16_t cg_weight(cg_build *b, hr_role role)
{
    return weight(b, role);
}

int16_t cg_row_weight(cg_build *b, int64_t n)
{
    return row_weight(b, n);
}

int16_t cg_row_weight_view(cg_build *b, int64_t n)
{
    return b->offloading ? cg_external(b->g, (uint64_t)n * 4u, 0, CG_EXT_WEIGHT_VIEW) : CG_NONE;
}

int16_t cg_tensor_weight(cg_build *b, const hr_tensor *t)
{
    return b->offloading && t ? weight_external(b, t->bytes, repacked(t->type, t->ne[1])) : CG_NONE;
}

int16_t cg_tensor_weight_view(cg_build *b, const hr_tensor *t)
{
    return b->offloading && t ? cg_external(b->g, t->bytes, 0, CG_EXT_WEIGHT_VIEW) : CG_NONE;
}

/* x + bias (a row of ne0 weights), in place */
EMITTER int16_t add_bias(cg_build *b, int16_t x, int64_t ne0, int64_t ne1, int64_t ne2,
                         int64_t ne3)
{
    return cg_op(b->g, true, CG_F32, ne0, ne1, ne2, ne3, x, row_weight(b, ne0), CG_NONE, CG_NONE);
}

/* build_norm: RMS_NORM (in place) or NORM (new), times the weight, + bias */
EMITTER int16_t norm(cg_build *b, int16_t x, int64_t ne0, int64_t ne1, int64_t ne2, bool rms,
                    bool bias)
{
    int16_t t = rms ? ew(b, x, CG_NONE, ne0, ne1, ne2, 1) : fresh(b, x, CG_NONE, CG_F32, ne0, ne1, ne2, 1);
    t = cg_op(b->g, true, CG_F32, ne0, ne1, ne2, 1, t, row_weight(b, ne0), CG_NONE, CG_NONE);
    return bias ? add_bias(b, t, ne0, ne1, ne2, 1) : t;
}

EMITTER int16_t input(cg_build *b, int16_t *slot, cg_type type, int64_t ne0, int64_t ne1,
                      int64_t ne2, int64_t ne3)
{
    if (*slot == CG_NONE) {
        const uint8_t saved = b->g->cur_buffer;
        b->g->cur_buffer = b->buf_input;
        *slot = cg_input(b->g, type, ne0, ne1, ne2, ne3);
        b->g->cur_buffer = saved;
    }
    return *slot;
}

/* The last layer keeps only the rows that give outputs (llama.cpp's
 * inp_out_ids: get_rows on the layer's result and its residual); returns
 * the rows left. */
static int64_t keep_output_rows(cg_build *b, bool last, int64_t T, int64_t E, int16_t *cur,
                                int16_t *resid)
{
    if (!last)
        return T;
    const int16_t oid = input(b, &b->out_ids, CG_I32, b->n_outputs, 1, 1, 1);
    *cur = fresh(b, *cur, oid, CG_F32, E, b->n_outputs, 1, 1);
    *resid = fresh(b, *resid, oid, CG_F32, E, b->n_outputs, 1, 1);
    return b->n_outputs;
}

static int16_t inp_pos(cg_build *b)
{
    /* multi-section rope (Qwen3.5) takes four positions per token */
    const int64_t per_token = b->m->arch == HR_ARCH_QWEN35 || b->m->arch == HR_ARCH_QWEN35MOE ? 4 : 1;
    return input(b, &b->inp_pos, CG_I32, b->n_tokens * per_token, 1, 1, 1);
}

/* llama_mul_mat_hadamard: with a quantized cache llama.cpp rotates Q and K
 * (and V and the attention output) by a Hadamard matrix held in an input:
 * a reshape (or a cont when not contiguous), a MUL_MAT, a reshape back. */
static int16_t hadamard(cg_build *b, int16_t x, int64_t nel, bool contiguous, int16_t *rot_slot,
                        int64_t nrot)
{
    int16_t rot = input(b, rot_slot, CG_F32, nrot, nrot, 1, 1);
    cg_mark_fixed(b->g, rot);
    int16_t r = contiguous ? cg_view(b->g, x, CG_F32, nrot, nel / nrot, 1, 1, false)
                           : fresh(b, x, CG_NONE, CG_F32, nrot, nel / nrot, 1, 1);
    r = cg_op(b->g, false, CG_F32, nrot, nel / nrot, 1, 1, rot, r, CG_NONE, CG_NONE);
    return cg_view(b->g, r, CG_F32, nrot, nel / nrot, 1, 1, false);
}

static bool type_is_quantized(hr_type t)
{
    if (t == HR_TYPE_F16 || t == HR_TYPE_F32 || t == HR_TYPE_BF16)
        return false; /* the usual cache types, without the table look-up */
    const hr_type_info *ti = hr_type_get(t);
    return ti && ti->quantized;
}

/* hr_type_row_bytes of a cache row (n >= 0), the usual cache types without
 * the type table's look-up */
static uint64_t cache_row_bytes(hr_type t, int64_t n)
{
    if (t == HR_TYPE_F16 || t == HR_TYPE_BF16)
        return 2 * (uint64_t)n;
    if (t == HR_TYPE_F32)
        return 4 * (uint64_t)n;
    return hr_type_row_bytes(t, n);
}

/* attn_rot_k / attn_rot_v of llama_kv_cache: the rotation size */
static int64_t rot_k_size(const cg_build *b, int64_t head_k)
{
    if (!b->k_quantized || head_k % 64 != 0)
        return 0;
    int64_t nrot = 64;
    do
        nrot *= 2;
    while (head_k % nrot == 0);
    return nrot / 2;
}

static int64_t rot_v_size(const cg_build *b, int64_t head_v)
{
    return b->v_quantized && head_v % 64 == 0 ? 64 : 0;
}

/* ---- family traits ---- */

typedef struct traits {
    bool rms;             /* RMS norm (else layer norm) */
    bool norm_bias;       /* layer norms carry a bias */
    bool parallel_ffn;    /* command-r: attention and FFN read the same normed input */
    bool post_norms;      /* gemma2/3: norms after attention and after the FFN */
    bool qk_norm;         /* qwen3, gemma3, olmo2-like: per-head norms of Q and K */
    bool q_scale;         /* gemma*, phi3: Q scaled after rope */
    bool embd_scale;      /* gemma*: embeddings scaled by sqrt(n_embd) */
    bool fused_qkv;       /* phi3: one projection for Q, K and V */
    bool fused_up;        /* phi3: ffn_up holds gate and up: one SWIGLU of a 2*n_ff tensor */
    bool rope_on_swa_only;/* cohere2: global layers have no rope */
    bool moe_norm_w;      /* normalise the top-k weights */
    bool shexp_gate;      /* qwen2moe, qwen3.5 MoE, qwen3-next: the shared expert times a
                             sigmoid gate (mul(ffn, gate): its FFN comes first) */
    bool shexp_gate_div;  /* qwen2moe: that sigmoid written as silu(gate) / gate */
    bool final_softcap;   /* gemma2: logits soft-capped */
    bool logit_scale;     /* command-r: logits scaled */
    bool resid_scale;     /* granite: the mixer's and the FFN's outputs scaled before their adds */
    bool no_rope;         /* granite 4.0-H, nemotron-H: no position embeddings */
    bool one_kind;        /* nemotron-H: a layer is attention or an FFN (or Mamba-2) */
    bool relu_sqr;        /* nemotron-H: FFN up, relu, square, down (no gate) */
    bool norm_then_rows;  /* nemotron-H, qwen3.5: the output norm over every row (t_h_nextn,
                             kept), then the out_ids rows */
    bool gated_q;         /* qwen3.5: attention's Q projection carries a sigmoid gate */
    bool delta_net;       /* qwen3.5: gated delta net layers (build_recurrent.c) */
    bool moe_w_scale;     /* nemotron-H MoE: the chosen weights scaled */
    bool parallel_mixer;  /* falcon-H1: attention, then a Mamba-2 mixer of the same input */
    bool resid_first;     /* phi3: the FFN residual add takes the residual as src0 */
    bool attn_resid_first;/* lfm2: so does the mixer's residual add (in place over the
                             residual: ggml tries the sources in order) */
    bool moe_probs_bias;  /* deepseek V3: selection scores get a bias (exp_probs_b) */
    bool oai_moe;         /* gpt-oss: router bias, top-k of the logits then a softmax
                             of the chosen weights, expert biases */
    bool rows_after;      /* gpt-oss: out_ids rows taken after the last layer, whose
                             output (t_h_nextn) is kept */
} traits;

static traits traits_of(const hr_model *m)
{
    traits t;
    memset(&t, 0, sizeof t);
    t.rms = true;
    switch (m->arch) {
    case HR_ARCH_QWEN3: case HR_ARCH_QWEN3MOE:
        t.qk_norm = true;
        t.moe_norm_w = true;
        break;
    case HR_ARCH_QWEN2MOE:
        t.shexp_gate = t.shexp_gate_div = true;
        break;
    case HR_ARCH_GEMMA:
        t.q_scale = t.embd_scale = true;
        break;
    case HR_ARCH_GEMMA2:
        t.q_scale = t.embd_scale = t.post_norms = true;
        t.final_softcap = m->final_logit_softcap > 0.0f;
        break;
    case HR_ARCH_GEMMA3:
        t.q_scale = t.embd_scale = t.post_norms = t.qk_norm = true;
        t.final_softcap = m->final_logit_softcap > 0.0f;
        break;
    case HR_ARCH_PHI3:
        t.q_scale = true;
        t.fused_qkv = m->has_fused_qkv;
        t.fused_up = true;
        t.moe_norm_w = true;
        t.resid_first = true;
        break;
    case HR_ARCH_COMMAND_R:
        t.rms = false;
        t.parallel_ffn = t.logit_scale = true;
        break;
    case HR_ARCH_COHERE2:
        t.rms = false;
        t.parallel_ffn = t.logit_scale = t.rope_on_swa_only = true;
        break;
    case HR_ARCH_MIXTRAL: case HR_ARCH_LLAMA: case HR_ARCH_MISTRAL:
        t.moe_norm_w = true;
        break;
    case HR_ARCH_GPT_OSS:
        t.oai_moe = t.rows_after = true;
        break;
    case HR_ARCH_FALCON_H1:
        t.parallel_mixer = true;
        break;
    case HR_ARCH_QWEN35: case HR_ARCH_QWEN35MOE: case HR_ARCH_QWEN3NEXT:
        t.qk_norm = t.gated_q = t.delta_net = t.norm_then_rows = true;
        /* MoE: softmax, normalised weights; the shared expert's sigmoid gate after it */
        t.moe_norm_w = t.shexp_gate = m->arch != HR_ARCH_QWEN35;
        break;
    case HR_ARCH_LFM2: case HR_ARCH_LFM2MOE: /* prev_cur + mixer, ffn_inp + ffn_out */
        t.qk_norm = t.resid_first = t.attn_resid_first = true;
        /* MoE: a selection bias, the weights normalised and scaled by the file's factor */
        t.moe_probs_bias = t.moe_norm_w = m->arch == HR_ARCH_LFM2MOE;
        t.moe_w_scale = m->expert_weights_scale != 0.0f && m->expert_weights_scale != 1.0f;
        break;
    case HR_ARCH_NEMOTRON_H: case HR_ARCH_NEMOTRON_H_MOE:
        t.no_rope = t.one_kind = t.relu_sqr = t.norm_then_rows = true;
        /* MoE: sigmoid scores (the softmax's size), a selection bias, the
         * weights normalised and scaled as the file says */
        t.moe_probs_bias = m->arch == HR_ARCH_NEMOTRON_H_MOE;
        t.moe_norm_w = m->expert_weights_norm;
        t.moe_w_scale = m->expert_weights_scale != 0.0f && m->expert_weights_scale != 1.0f;
        break;
    case HR_ARCH_JAMBA: /* no rope; add(inpL, cur) and add(ffn_inp, ffn); plain softmax experts */
        t.no_rope = t.resid_first = t.attn_resid_first = true;
        t.moe_w_scale = m->expert_weights_scale != 0.0f && m->expert_weights_scale != 1.0f;
        break;
    case HR_ARCH_GRANITE_HYBRID: /* each multiplier present is a scale op */
        t.embd_scale = m->embedding_scale != 0.0f;
        t.logit_scale = m->logit_scale != 0.0f;
        t.resid_scale = m->residual_scale != 0.0f;
        t.no_rope = m->no_rope;
        t.moe_norm_w = true;
        break;
    case HR_ARCH_RWKV6: case HR_ARCH_RWKV7:
        t.rms = false; /* the output norm: LLM_NORM with a bias */
        t.norm_bias = true;
        break;
    case HR_ARCH_DEEPSEEK2: /* weights normalised and scaled as the file says */
        t.moe_norm_w = m->expert_weights_norm;
        t.moe_w_scale = m->expert_weights_scale != 0.0f && m->expert_weights_scale != 1.0f;
        /* exp_probs_b sits in the first MoE block: look only that far */
        for (size_t i = 0; i < m->n_tensors; i++) {
            const hr_tensor *tt = &m->tensors[i];
            if (tt->layer > (int32_t)m->n_layer_dense_lead)
                break;
            if (tt->name && strstr(tt->name, "exp_probs_b"))
                t.moe_probs_bias = true;
        }
        break;
    default:
        t.moe_norm_w = true;
        break;
    }
    return t;
}

/* ---- attention (build_attn with a KV cache, build_attn_mha) ---- */

typedef struct attn_dims {
    int64_t n_head, n_head_kv, hd_k, hd_v;
    bool swa;
} attn_dims;

/* Attention past any model's (real ones stay under 2^17 values a token):
 * a damaged file's head counts and sizes (no heads, billions of KV heads, a
 * head of 10^8 values). The graph is marked (bad_attention: the estimate
 * refuses it) and built on with one head of one value, so that nothing
 * divides by zero or multiplies them with the tokens past 64 bits. */
#define MAX_ATTENTION_WIDTH ((int64_t)1 << 24)
static bool attn_in_range(cg_build *b, const hr_layer *L, attn_dims *d)
{
    if (d->n_head >= 1 && d->n_head_kv >= 1 && d->n_head_kv <= d->n_head && d->hd_k >= 1 &&
        d->hd_v >= 1 && d->hd_k <= MAX_ATTENTION_WIDTH && d->hd_v <= MAX_ATTENTION_WIDTH &&
        (d->hd_k + d->hd_v) * d->n_head <= MAX_ATTENTION_WIDTH)
        return true;
    if (b->g->bad_attention < 0)
        b->g->bad_attention = (int)(L - b->m->layers);
    d->n_head = d->n_head_kv = d->hd_k = d->hd_v = 1;
    return false;
}

/* q_rope: [hd_k, n_head, T]; k_rope: [hd_k, n_head_kv, T]; v: the root
 * projection [hd_v * n_head_kv, T] or a view of it (v_view3d). Returns
 * kqv_out [hd_v * n_head, T]. */
static int16_t attention(cg_build *b, const attn_dims *d, int16_t q, int16_t k, int16_t v3,
                         bool v_contiguous, float softcap)
{
    const int64_t T = b->n_tokens, ns = b->n_stream;
    const int64_t n_kv = d->swa ? b->n_kv_swa : b->n_kv;
    int16_t *kid = d->swa ? &b->k_idxs_swa : &b->k_idxs;
    int16_t *vid = d->swa ? &b->v_idxs_swa : &b->v_idxs;
    int16_t *msk = d->swa ? &b->mask_swa : &b->mask;

    /* set_rows runs where the cache is: on the host for an op-offloaded layer
     * or with the cache kept on the host (--no-kv-offload) */
    const uint8_t layer_buf = b->g->cur_buffer;
    const bool kv_host = b->offloading || (b->kv_on_host && layer_buf != 0);
    if (kv_host)
        b->g->cur_buffer = 0;

    /* cpy_k: a 2-d view of K, set_rows into the cache */
    int16_t kview = cg_view(b->g, k, CG_F32, d->hd_k * d->n_head_kv, T, 1, 1, false);
    cg_sink(b->g, kview, input(b, kid, CG_I64, T, 1, 1, 1), CG_NONE);

    /* cpy_v. A V that is a strided view of a fused projection (Phi-3's
     * QKV) read on the host from the layer's GPU: the scheduler copies the
     * view, [hd_v * n_head_kv, T] rows a projection row apart, not the
     * projection */
    if (kv_host && !v_contiguous && layer_buf != 0 && v3 != CG_NONE) {
        const uint64_t row = b->g->nodes[CG_ROOT(v3)].bytes / (uint64_t)(T > 0 ? T : 1);
        const uint64_t bytes = (uint64_t)(d->hd_v * d->n_head_kv) * 4u + (uint64_t)(T > 0 ? T - 1 : 0) * row;
        v3 = cg_view_copy(b, v3, bytes, layer_buf, 0, false, 0);
    }
    if (b->fa) {
        int16_t vv = cg_view(b->g, v3, CG_F32, d->hd_v * d->n_head_kv, T, 1, 1, !v_contiguous);
        cg_sink(b->g, vv, input(b, vid, CG_I64, T, 1, 1, 1), CG_NONE);
    } else {
        int16_t vv;
        if (v_contiguous)
            vv = cg_view(b->g, v3, CG_F32, d->hd_v * d->n_head_kv, T, 1, 1, false);
        else
            vv = fresh(b, v3, CG_NONE, CG_F32, d->hd_v * d->n_head_kv, T, 1, 1); /* cont_2d */
        vv = cg_view(b->g, vv, CG_F32, 1, d->hd_v * d->n_head_kv * T, 1, 1, false);
        cg_sink(b->g, vv, input(b, vid, CG_I64, T * d->hd_v * d->n_head_kv, 1, 1, 1), CG_NONE);
    }
    b->g->cur_buffer = layer_buf;

    /* the cache views, read from another backend when the layer's ops moved */
    int16_t kc = CG_NONE, vc = CG_NONE;
    if (kv_host) {
        kc = cg_external(b->g, cache_row_bytes(b->in->type_k, d->hd_k * d->n_head_kv) * (uint64_t)n_kv * (uint64_t)ns, 0, CG_EXT_KV);
        vc = cg_external(b->g, cache_row_bytes(b->in->type_v, d->hd_v * d->n_head_kv) * (uint64_t)n_kv * (uint64_t)ns, 0, CG_EXT_KV);
    }

    /* build_attn_mha: q split into streams and permuted */
    int16_t qv = cg_view(b->g, q, CG_F32, d->hd_k, d->n_head, T / ns, ns, false);
    qv = cg_view(b->g, qv, CG_F32, d->hd_k, T / ns, d->n_head, ns, true);

    const bool fa = b->fa;
    int16_t mask = input(b, msk, fa ? CG_F16 : CG_F32, n_kv, T / ns, 1, ns);
    int16_t cur;
    if (fa) {
        if (b->in->type_k == HR_TYPE_F32)
            kc = fresh(b, kc, CG_NONE, CG_F16, d->hd_k, n_kv, d->n_head_kv, ns);
        if (b->in->type_v == HR_TYPE_F32)
            vc = fresh(b, vc, CG_NONE, CG_F16, d->hd_v, n_kv, d->n_head_kv, ns);
        cur = cg_op(b->g, false, CG_F32, d->hd_v, d->n_head, T / ns, ns, qv, kc, vc, mask);
        cur = cg_view(b->g, cur, CG_F32, d->hd_v * d->n_head, T, 1, 1, false);
    } else {
        /* without offload_kqv the scores are computed next to the cache */
        if (b->kv_on_host && layer_buf != 0)
            b->g->cur_buffer = 0;
        int16_t kq = cg_op(b->g, false, CG_F32, n_kv, T / ns, d->n_head, ns, kc, qv, CG_NONE,
                           CG_NONE);
        if (softcap > 0.0f) {
            kq = ew(b, kq, CG_NONE, n_kv, T / ns, d->n_head, ns);
            kq = ew(b, kq, CG_NONE, n_kv, T / ns, d->n_head, ns);
            kq = ew(b, kq, CG_NONE, n_kv, T / ns, d->n_head, ns);
        }
        kq = ew(b, kq, mask, n_kv, T / ns, d->n_head, ns); /* soft_max_ext */
        int16_t kqv = cg_op(b->g, false, CG_F32, d->hd_v, T / ns, d->n_head, ns, vc, kq,
                            CG_NONE, CG_NONE);
        kqv = cg_view(b->g, kqv, CG_F32, d->hd_v, d->n_head, T / ns, ns, true);
        cur = fresh(b, kqv, CG_NONE, CG_F32, d->hd_v * d->n_head, T, 1, 1); /* cont_2d */
        b->g->cur_buffer = layer_buf;
    }
    return cur;
}

/* ---- feed-forward ---- */

static int16_t ffn_dense(cg_build *b, const traits *t, int16_t x, int64_t n_embd, int64_t n_ff,
                         int64_t T)
{
    if (t->relu_sqr) { /* relu and sqr each may run in place */
        int16_t up = mm(b, b->shexp ? HR_ROLE_FFN_UP_SHEXP : HR_ROLE_FFN_UP, n_ff, x, T, 1, 1);
        if (b->m->has_ffn_bias)
            up = add_bias(b, up, n_ff, T, 1, 1);
        up = ew(b, ew(b, up, CG_NONE, n_ff, T, 1, 1), CG_NONE, n_ff, T, 1, 1);
        int16_t down = mm(b, b->shexp ? HR_ROLE_FFN_DOWN_SHEXP : HR_ROLE_FFN_DOWN, n_embd, up, T, 1, 1);
        if (b->m->has_ffn_bias)
            down = add_bias(b, down, n_embd, T, 1, 1);
        return down;
    }
    if (t->fused_up) {
        int16_t up = mm(b, HR_ROLE_FFN_UP, 2 * n_ff, x, T, 1, 1);
        int16_t act = fresh(b, up, CG_NONE, CG_F32, n_ff, T, 1, 1); /* swiglu of one tensor */
        return mm(b, HR_ROLE_FFN_DOWN, n_embd, act, T, 1, 1);
    }
    int16_t gate = mm(b, b->shexp ? HR_ROLE_FFN_GATE_SHEXP : HR_ROLE_FFN_GATE, n_ff, x, T, 1, 1);
    if (b->m->has_ffn_bias)
        gate = add_bias(b, gate, n_ff, T, 1, 1);
    int16_t up = mm(b, b->shexp ? HR_ROLE_FFN_UP_SHEXP : HR_ROLE_FFN_UP, n_ff, x, T, 1, 1);
    if (b->m->has_ffn_bias)
        up = add_bias(b, up, n_ff, T, 1, 1);
    int16_t act = fresh(b, gate, up, CG_F32, n_ff, T, 1, 1); /* swiglu / geglu split */
    int16_t down = mm(b, b->shexp ? HR_ROLE_FFN_DOWN_SHEXP : HR_ROLE_FFN_DOWN, n_embd, act, T, 1, 1);
    if (b->m->has_ffn_bias)
        down = add_bias(b, down, n_embd, T, 1, 1);
    return down;
}

/* build_moe_ffn (softmax gating) */
static int16_t ffn_moe(cg_build *b, const traits *t, int16_t x, int64_t n_embd, const hr_layer *L,
                       int64_t T)
{
    const int64_t ne = L->n_expert, nu = L->n_expert_used;
    const int64_t nff = L->n_ff_exp ? L->n_ff_exp : L->n_ff;
    int16_t logits = mm(b, HR_ROLE_FFN_GATE_INP, ne, x, T, 1, 1);
    if (t->oai_moe)
        logits = add_bias(b, logits, ne, T, 1, 1); /* router bias */
    int16_t probs = t->oai_moe ? logits : ew(b, logits, CG_NONE, ne, T, 1, 1); /* soft_max */
    int16_t probs3 = cg_view(b->g, probs, CG_F32, 1, ne, T, 1, false);
    int16_t sel_probs = probs;
    if (t->moe_probs_bias)
        sel_probs = add_bias(b, probs, ne, T, 1, 1); /* + exp_probs_b */
    int16_t sorted = fresh(b, sel_probs, CG_NONE, CG_I32, ne, T, 1, 1); /* argsort */
    int16_t sel = cg_view(b->g, sorted, CG_I32, nu, T, 1, 1, true);
    int16_t w = fresh(b, probs3, sel, CG_F32, 1, nu, T, 1); /* get_rows */
    if (t->oai_moe) { /* softmax of the chosen logits */
        w = ew(b, cg_view(b->g, w, CG_F32, nu, T, 1, 1, false), CG_NONE, nu, T, 1, 1);
        w = cg_view(b->g, w, CG_F32, 1, nu, T, 1, false);
    }
    if (t->moe_norm_w) {
        int16_t w2 = cg_view(b->g, w, CG_F32, nu, T, 1, 1, false);
        int16_t sum = fresh(b, w2, CG_NONE, CG_F32, 1, T, 1, 1); /* sum_rows */
        sum = ew(b, sum, CG_NONE, 1, T, 1, 1);                  /* clamp */
        w = ew(b, w2, sum, nu, T, 1, 1);                        /* div */
        w = cg_view(b->g, w, CG_F32, 1, nu, T, 1, false);
    }
    if (t->moe_w_scale)
        w = ew(b, w, CG_NONE, 1, nu, T, 1);
    int16_t x3 = cg_view(b->g, x, CG_F32, n_embd, 1, T, 1, false);
    int16_t act;
    if (t->relu_sqr) { /* experts of up and down: relu, square, each may run in place */
        int16_t up = cg_op(b->g, false, CG_F32, nff, nu, T, 1, weight(b, HR_ROLE_FFN_UP_EXPS), x3, sel, CG_NONE);
        act = ew(b, ew(b, up, CG_NONE, nff, nu, T, 1), CG_NONE, nff, nu, T, 1);
    } else {
        int16_t gate = cg_op(b->g, false, CG_F32, nff, nu, T, 1, weight(b, HR_ROLE_FFN_GATE_EXPS), x3, sel, CG_NONE);
        if (t->oai_moe)
            gate = cg_op(b->g, true, CG_F32, nff, nu, T, 1, gate, sel, CG_NONE, CG_NONE); /* add_id */
        int16_t up = cg_op(b->g, false, CG_F32, nff, nu, T, 1, weight(b, HR_ROLE_FFN_UP_EXPS), x3, sel, CG_NONE);
        if (t->oai_moe)
            up = cg_op(b->g, true, CG_F32, nff, nu, T, 1, up, sel, CG_NONE, CG_NONE);
        act = fresh(b, gate, up, CG_F32, nff, nu, T, 1);
    }
    int16_t experts = cg_op(b->g, false, CG_F32, n_embd, nu, T, 1, weight(b, HR_ROLE_FFN_DOWN_EXPS), act, sel, CG_NONE);
    if (t->oai_moe)
        experts = cg_op(b->g, true, CG_F32, n_embd, nu, T, 1, experts, sel, CG_NONE, CG_NONE);
    experts = ew(b, experts, w, n_embd, nu, T, 1); /* weights applied */
    int16_t views[64];
    const int64_t nv = nu < 64 ? (nu > 1 ? nu : 1) : 64;
    for (int64_t i = 0; i < nv; i++)
        views[i] = cg_view(b->g, experts, CG_F32, n_embd, T, 1, 1, true);
    int16_t out = views[0];
    for (int64_t i = 1; i < nv; i++)
        out = ew(b, out, views[i], n_embd, T, 1, 1);
    if (b->early_after_moe >= 0) { /* build_moe_ffn's last expand: the experts' sum */
        cg_rec_early_rows(b, b->early_after_moe, layer_buffer(b, b->early_after_moe));
        b->early_after_moe = -1;
    }
    if (nv == 1)
        out = fresh(b, out, CG_NONE, CG_F32, n_embd, T, 1, 1);
    return out;
}

static int16_t ffn_moe_shared(cg_build *b, const traits *t, int16_t x, int64_t n_embd,
                              int64_t n_ff_sh, int16_t moe_out, int64_t T)
{
    traits plain = *t;
    plain.fused_up = false;
    b->shexp = true;
    int16_t sh = ffn_dense(b, &plain, x, n_embd, n_ff_sh, T);
    b->shexp = false;
    if (t->shexp_gate) { /* mul(shexp, sigmoid(gate)): the FFN first (src0) */
        const int16_t gin = mm(b, HR_ROLE_OTHER, 1, x, T, 1, 1);
        int16_t g = ew(b, gin, CG_NONE, 1, T, 1, 1); /* sigmoid, or silu */
        if (t->shexp_gate_div)
            g = ew(b, g, gin, 1, T, 1, 1); /* / gate */
        sh = ew(b, sh, g, n_embd, T, 1, 1);
    }
    return ew(b, moe_out, sh, n_embd, T, 1, 1);
}

/* ---- BERT-like encoders (src/models/bert.cpp): no KV cache, a [T, T]
 * mask, post-norm layers, layer norms with biases; nomic-bert has a fused
 * QKV with rope and a SwiGLU FFN, bert a GELU FFN with biases ---- */

static int16_t bert_layer(cg_build *b, int il, int16_t inpL, bool last)
{
    const hr_model *m = b->m;
    const hr_layer *L = &m->layers[il];
    const int64_t E = m->n_embd, T = b->n_tokens;
    attn_dims d;
    d.n_head = L->n_head ? L->n_head : (m->n_head ? m->n_head : 1);
    d.n_head_kv = L->n_head_kv ? L->n_head_kv : d.n_head;
    d.hd_k = d.hd_v = L->n_embd_head_k ? L->n_embd_head_k : E / d.n_head;
    attn_in_range(b, L, &d);
    const int64_t H = d.n_head, Hkv = d.n_head_kv, hd = d.hd_k;
    const bool nomic = m->arch == HR_ARCH_NOMIC_BERT;
    const bool bias = m->has_qkv_bias || !nomic;

    int16_t q, k, v;
    bool v_contig = true;
    if (m->has_fused_qkv) {
        int16_t qkv = mm(b, HR_ROLE_ATTN_QKV, hd * (H + 2 * Hkv), inpL, T, 1, 1);
        if (bias)
            qkv = add_bias(b, qkv, hd * (H + 2 * Hkv), T, 1, 1);
        q = cg_view(b->g, qkv, CG_F32, hd, H, T, 1, true);
        k = cg_view(b->g, qkv, CG_F32, hd, Hkv, T, 1, true);
        v = cg_view(b->g, qkv, CG_F32, hd, Hkv, T, 1, true);
        v_contig = false;
    } else {
        q = mm(b, HR_ROLE_ATTN_Q, hd * H, inpL, T, 1, 1);
        if (bias)
            q = add_bias(b, q, hd * H, T, 1, 1);
        k = mm(b, HR_ROLE_ATTN_K, hd * Hkv, inpL, T, 1, 1);
        if (bias)
            k = add_bias(b, k, hd * Hkv, T, 1, 1);
        v = mm(b, HR_ROLE_ATTN_V, hd * Hkv, inpL, T, 1, 1);
        if (bias)
            v = add_bias(b, v, hd * Hkv, T, 1, 1);
    }
    if (nomic) {
        q = cg_op(b->g, true, CG_F32, hd, H, T, 1, q, inp_pos(b), CG_NONE, CG_NONE);
        k = cg_op(b->g, true, CG_F32, hd, Hkv, T, 1, k, inp_pos(b), CG_NONE, CG_NONE);
    }
    /* build_attn_mha without a cache: K and V are the projections */
    int16_t mask = input(b, &b->mask, b->fa ? CG_F16 : CG_F32, T, T, 1, 1);
    int16_t qp = cg_view(b->g, q, CG_F32, hd, T, H, 1, true);
    int16_t cur;
    if (b->fa) {
        int16_t kc = fresh(b, cg_view(b->g, k, CG_F32, hd, T, Hkv, 1, true), CG_NONE, CG_F16, hd, T, Hkv, 1);
        int16_t vc = fresh(b, cg_view(b->g, v, CG_F32, hd, T, Hkv, 1, true), CG_NONE, CG_F16, hd, T, Hkv, 1);
        cur = cg_op(b->g, false, CG_F32, hd, H, T, 1, qp, kc, vc, mask);
    } else {
        /* kqv = mul_mat(cont(transpose(v)), soft_max(kq)): ggml's DFS visits
         * src[0] first, so V's copy is made before the scores and lives
         * through them */
        (void)v_contig;
        int16_t vt = fresh(b, cg_view(b->g, v, CG_F32, T, hd, Hkv, 1, true), CG_NONE, CG_F32, T, hd, Hkv, 1);
        int16_t kq = cg_op(b->g, false, CG_F32, T, T, H, 1, cg_view(b->g, k, CG_F32, hd, T, Hkv, 1, true), qp,
                           CG_NONE, CG_NONE);
        kq = ew(b, kq, mask, T, T, H, 1);
        int16_t kqv = cg_op(b->g, false, CG_F32, hd, T, H, 1, vt, kq, CG_NONE, CG_NONE);
        cur = fresh(b, cg_view(b->g, kqv, CG_F32, hd, H, T, 1, true), CG_NONE, CG_F32, hd * H, T, 1, 1);
    }
    cur = mm(b, HR_ROLE_ATTN_OUTPUT, E, cg_view(b->g, cur, CG_F32, hd * H, T, 1, 1, false), T, 1, 1);
    if (bias || m->has_attn_bias)
        cur = add_bias(b, cur, E, T, 1, 1);
    int16_t resid = inpL;
    const int64_t Tn = keep_output_rows(b, last, T, E, &cur, &resid);
    cur = ew(b, cur, resid, E, Tn, 1, 1);
    cur = norm(b, cur, E, Tn, 1, false, true); /* attn_out_norm */
    int16_t ffn_inp = cur;
    if (nomic) {
        traits plain;
        memset(&plain, 0, sizeof plain);
        cur = ffn_dense(b, &plain, cur, E, L->n_ff, Tn);
    } else {
        int16_t up = mm(b, HR_ROLE_FFN_UP, L->n_ff, cur, Tn, 1, 1);
        up = add_bias(b, up, L->n_ff, Tn, 1, 1);
        up = ew(b, up, CG_NONE, L->n_ff, Tn, 1, 1); /* gelu */
        cur = mm(b, HR_ROLE_FFN_DOWN, E, up, Tn, 1, 1);
        cur = add_bias(b, cur, E, Tn, 1, 1);
    }
    cur = ew(b, cur, ffn_inp, E, Tn, 1, 1);
    return norm(b, cur, E, Tn, 1, false, true); /* layer_out_norm */
}

/* ---- DeepSeek2 multi-head latent attention (src/models/deepseek2.cpp,
 * build_attn with a K-only cache: V is a view of the cached latents) ---- */

static int64_t tensor_dim(const hr_model *m, hr_role role, int dim, int64_t fallback)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].role == role && m->tensors[i].layer >= 0)
            return m->tensors[i].ne[dim];
    return fallback;
}

static int16_t mla_attention(cg_build *b, const traits *t, const hr_layer *L, int16_t x)
{
    const hr_model *m = b->m;
    const int64_t T = b->n_tokens, ns = b->n_stream, n_kv = b->n_kv;
    int64_t H = L->n_head ? L->n_head : m->n_head;
    int64_t kvr = m->n_lora_kv ? m->n_lora_kv : 512;
    int64_t rope = m->n_rot ? m->n_rot : 64;
    int64_t nope = tensor_dim(m, HR_ROLE_ATTN_K_B, 0, 128);
    int64_t vh = tensor_dim(m, HR_ROLE_ATTN_V_B, 1, 128);
    /* the widest head a K row spans: the latent's or Q's, with the rope part */
    attn_dims d = {H, H, (kvr > nope ? kvr : nope) + rope, vh, false};
    if (!attn_in_range(b, L, &d))
        H = kvr = rope = nope = vh = 1;
    const int64_t hk = kvr + rope;
    (void)t;

    /* Q: low-rank (or plain) projection, nope part absorbed into the latent
     * space, rope part rotated, both concatenated */
    int16_t q;
    if (m->n_lora_q) {
        q = mm(b, HR_ROLE_ATTN_Q_A, m->n_lora_q, x, T, 1, 1);
        q = norm(b, q, m->n_lora_q, T, 1, true, false);
        q = mm(b, HR_ROLE_ATTN_Q_B, H * (nope + rope), q, T, 1, 1);
    } else {
        q = mm(b, HR_ROLE_ATTN_Q, H * (nope + rope), x, T, 1, 1);
    }
    int16_t qv = cg_view(b->g, q, CG_F32, nope, H, T, 1, true);
    int16_t q_abs = cg_op(b->g, false, CG_F32, kvr, T, H, 1, weight(b, HR_ROLE_ATTN_K_B), qv, CG_NONE, CG_NONE);
    int16_t q_pe = cg_op(b->g, true, CG_F32, rope, H, T, 1, cg_view(b->g, q, CG_F32, rope, H, T, 1, true),
                         inp_pos(b), CG_NONE, CG_NONE);
    int16_t Q = fresh(b, cg_view(b->g, q_abs, CG_F32, kvr, H, T, 1, true), q_pe, CG_F32, hk, H, T, 1);

    /* V = the normed latent; K = latent ++ rotated rope part */
    int16_t kv = mm(b, HR_ROLE_ATTN_KV_A_MQA, hk, x, T, 1, 1);
    int16_t lat = norm(b, cg_view(b->g, kv, CG_F32, kvr, T, 1, 1, true), kvr, T, 1, true, false);
    int16_t k_pe = cg_op(b->g, true, CG_F32, rope, 1, T, 1, cg_view(b->g, kv, CG_F32, rope, 1, T, 1, true),
                         inp_pos(b), CG_NONE, CG_NONE);
    int16_t K = fresh(b, cg_view(b->g, lat, CG_F32, kvr, 1, T, 1, false), k_pe, CG_F32, hk, 1, T, 1);

    const uint8_t layer_buf = b->g->cur_buffer;
    if (b->offloading)
        b->g->cur_buffer = 0;
    cg_sink(b->g, cg_view(b->g, K, CG_F32, hk, T, 1, 1, false),
            input(b, &b->k_idxs, CG_I64, T, 1, 1, 1), CG_NONE);
    b->g->cur_buffer = layer_buf;
    int16_t kc = CG_NONE;
    if (b->offloading)
        kc = cg_external(b->g, cache_row_bytes(b->in->type_k, hk) * (uint64_t)n_kv * (uint64_t)ns, 0, CG_EXT_KV);

    int16_t qp = cg_view(b->g, Q, CG_F32, hk, T / ns, H, ns, true);
    int16_t mask = input(b, &b->mask, b->fa ? CG_F16 : CG_F32, n_kv, T / ns, 1, ns);
    int16_t cur;
    /* V, a view of the latents (kvr of each hk-wide row), is a tensor of its
     * own: an op-offloaded layer copies it apart from K */
    int16_t vc = CG_NONE;
    if (b->offloading)
        vc = cg_external(b->g, cache_row_bytes(b->in->type_k, kvr) +
                                   cache_row_bytes(b->in->type_k, hk) * ((uint64_t)n_kv * (uint64_t)ns - 1),
                         0, CG_EXT_KV);
    if (b->fa) {
        cur = cg_op(b->g, false, CG_F32, kvr, H, T / ns, ns, qp, kc, vc, mask);
        cur = cg_op(b->g, false, CG_F32, vh, T / ns, H, ns, weight(b, HR_ROLE_ATTN_V_B),
                    cg_view(b->g, cur, CG_F32, kvr, T / ns, H, ns, true), CG_NONE, CG_NONE);
        cur = fresh(b, cg_view(b->g, cur, CG_F32, vh, H, T / ns, ns, true), CG_NONE, CG_F32, vh, H, T / ns, ns);
    } else {
        /* V is not transposed in a K-only cache: ggml_cont of its transpose,
         * kqv's first source, so made before the scores (ggml's DFS) */
        const cg_type vt = b->in->type_k == HR_TYPE_F32 ? CG_F32 : CG_F16;
        int16_t vcont = fresh(b, b->offloading ? vc : kc, CG_NONE, vt, n_kv, kvr, 1, ns);
        int16_t kq = cg_op(b->g, false, CG_F32, n_kv, T / ns, H, ns, kc, qp, CG_NONE, CG_NONE);
        kq = ew(b, kq, mask, n_kv, T / ns, H, ns);
        int16_t kqv = cg_op(b->g, false, CG_F32, kvr, T / ns, H, ns, vcont, kq, CG_NONE, CG_NONE);
        kqv = cg_op(b->g, false, CG_F32, vh, T / ns, H, ns, weight(b, HR_ROLE_ATTN_V_B), kqv, CG_NONE, CG_NONE);
        cur = fresh(b, cg_view(b->g, kqv, CG_F32, vh, H, T / ns, ns, true), CG_NONE, CG_F32, vh * H, T, 1, 1);
    }
    return mm(b, HR_ROLE_ATTN_OUTPUT, m->n_embd, cg_view(b->g, cur, CG_F32, vh * H, T, 1, 1, false), T, 1, 1);
}

/* ---- one transformer layer ---- */

typedef struct qkv_ctx {
    cg_build *b;
    const traits *t;
    const attn_dims *d;
    int64_t T, nrot_k, nrot_v;
    bool bias, rope_here, iswa;
    int16_t qkv;          /* fused projection, or CG_NONE */
    int16_t *krot, *vrot; /* rotation inputs of this layer's cache */
} qkv_ctx;

EMITTER int16_t emit_qk_rest(qkv_ctx *c, int16_t r, bool contiguous, int64_t n_heads, bool scale);

/* Q or K of one layer: projection (or a view of the fused one), bias, QK
 * norm, rope, Q's scale, and the Hadamard rotation of a quantized cache. */
static int16_t emit_qk(qkv_ctx *c, int16_t x, hr_role role, int64_t n_heads, bool scale)
{
    cg_build *b = c->b;
    const attn_dims *d = c->d;
    const int64_t T = c->T;
    int16_t r;
    bool contiguous = true;
    if (c->qkv != CG_NONE) {
        r = cg_view(b->g, c->qkv, CG_F32, d->hd_k, n_heads, T, 1, true);
        contiguous = false;
    } else {
        r = mm(b, role, d->hd_k * n_heads, x, T, 1, 1);
        if (c->bias)
            r = add_bias(b, r, d->hd_k * n_heads, T, 1, 1);
        r = cg_view(b->g, r, CG_F32, d->hd_k, n_heads, T, 1, false);
    }
    return emit_qk_rest(c, r, contiguous, n_heads, scale);
}

/* emit_qk after the projection: QK norm, rope, scale, rotation */
EMITTER int16_t emit_qk_rest(qkv_ctx *c, int16_t r, bool contiguous, int64_t n_heads, bool scale)
{
    cg_build *b = c->b;
    const attn_dims *d = c->d;
    const int64_t T = c->T;
    if (c->t->qk_norm) {
        r = norm(b, r, d->hd_k, n_heads, T, c->t->rms, false);
        contiguous = true;
    }
    if (c->rope_here) {
        r = cg_op(b->g, true, CG_F32, d->hd_k, n_heads, T, 1, r, inp_pos(b), CG_NONE, CG_NONE);
        contiguous = true;
    }
    if (scale) {
        r = ew(b, r, CG_NONE, d->hd_k, n_heads, T, 1);
        contiguous = true;
    }
    if (c->nrot_k)
        r = hadamard(b, r, d->hd_k * n_heads * T, contiguous, c->krot, c->nrot_k);
    return r;
}

static int16_t emit_q(qkv_ctx *c, int16_t x)
{
    return emit_qk(c, x, HR_ROLE_ATTN_Q, c->d->n_head, c->t->q_scale);
}

static int16_t emit_k(qkv_ctx *c, int16_t x)
{
    return emit_qk(c, x, HR_ROLE_ATTN_K, c->d->n_head_kv, false);
}

static int16_t emit_v(qkv_ctx *c, int16_t x, bool *v_contig)
{
    cg_build *b = c->b;
    const attn_dims *d = c->d;
    const int64_t T = c->T;
    int16_t v;
    *v_contig = true;
    if (c->qkv != CG_NONE) {
        v = cg_view(b->g, c->qkv, CG_F32, d->hd_v, d->n_head_kv, T, 1, true);
        *v_contig = false;
    } else {
        v = mm(b, HR_ROLE_ATTN_V, d->hd_v * d->n_head_kv, x, T, 1, 1);
        if (c->bias)
            v = add_bias(b, v, d->hd_v * d->n_head_kv, T, 1, 1);
        v = cg_view(b->g, v, CG_F32, d->hd_v, d->n_head_kv, T, 1, false);
    }
    if (c->nrot_v) {
        v = hadamard(b, v, d->hd_v * d->n_head_kv * T, *v_contig, c->vrot, c->nrot_v);
        *v_contig = true;
    }
    return v;
}

/* the rest of a layer after the attention's output projection (cur) and
 * the last layer's get_rows: residual, FFN / MoE, over Tn rows */
static int16_t layer_ffn(cg_build *b, const traits *t, const hr_layer *L, int16_t cur,
                         int16_t resid, int64_t Tn)
{
    const hr_model *m = b->m;
    const int64_t E = m->n_embd;
    if (t->post_norms)
        cur = norm(b, cur, E, Tn, 1, t->rms, false);
    if (t->resid_scale)
        cur = ew(b, cur, CG_NONE, E, Tn, 1, 1);
    int16_t ffn_inp = t->attn_resid_first ? ew(b, resid, cur, E, Tn, 1, 1) : ew(b, cur, resid, E, Tn, 1, 1);
    cur = norm(b, ffn_inp, E, Tn, 1, t->rms, t->norm_bias);
    if (L->n_expert > 0 && L->n_expert_used > 0) {
        int16_t moe = ffn_moe(b, t, cur, E, L, Tn);
        if (L->n_expert_shared > 0 || m->n_ff_shexp > 0) {
            int64_t nsh = m->n_ff_shexp ? m->n_ff_shexp : L->n_ff_exp * (L->n_expert_shared ? L->n_expert_shared : 1);
            moe = ffn_moe_shared(b, t, cur, E, nsh, moe, Tn);
        }
        cur = moe;
    } else {
        cur = ffn_dense(b, t, cur, E, L->n_ff, Tn);
    }
    if (t->post_norms)
        cur = norm(b, cur, E, Tn, 1, t->rms, false);
    if (t->resid_scale)
        cur = ew(b, cur, CG_NONE, E, Tn, 1, 1);
    if (t->resid_first)
        return ew(b, ffn_inp, cur, E, Tn, 1, 1);
    return ew(b, cur, ffn_inp, E, Tn, 1, 1);
}


int16_t cg_layer_ffn(cg_build *b, int il, int16_t cur, int16_t resid, int64_t Tn)
{
    const traits t = traits_of(b->m);
    return layer_ffn(b, &t, &b->m->layers[il], cur, resid, Tn);
}

/* a layer's heads and head sizes, the model's where the layer has none */
static attn_dims attn_dims_of(cg_build *b, const hr_layer *L)
{
    const hr_model *m = b->m;
    attn_dims d;
    d.n_head = L->n_head ? L->n_head : m->n_head;
    d.n_head_kv = L->n_head_kv ? L->n_head_kv : d.n_head;
    d.hd_k = L->n_embd_head_k ? L->n_embd_head_k : d.n_head ? (int64_t)m->n_embd / d.n_head : 0;
    d.hd_v = L->n_embd_head_v ? L->n_embd_head_v : d.hd_k;
    d.swa = L->is_swa;
    attn_in_range(b, L, &d);
    return d;
}

/* build_attn's rotation back of kqv_out [hd_v * n_head, T] when the cache's
 * V is rotated (the Hadamard input of the layer's cache), as layer_attn
 * does it for the layers that are not parallel blocks */
static int16_t unrotate_kqv(cg_build *b, const hr_layer *L, int16_t cur)
{
    const hr_model *m = b->m;
    const attn_dims d = attn_dims_of(b, L);
    const int64_t nrot_v = rot_v_size(b, m->n_embd_head_v ? m->n_embd_head_v : d.hd_v);
    if (!nrot_v)
        return cur;
    int16_t *vrot = b->iswa && L->is_swa ? &b->v_rot_swa : &b->v_rot;
    return hadamard(b, cur, d.hd_v * d.n_head * b->n_tokens, true, vrot, nrot_v);
}

/* The first part of a layer, the same whether it is the last or not: the
 * input norm (*normed) and the attention, up to kqv_out, build_attn_mha's
 * last expand (MLA: up to the output projection). A quantized cache's
 * rotation back comes after that expand (attn_out_proj). */
static int16_t layer_attn(cg_build *b, const traits *t, const hr_layer *L, int16_t inpL,
                          int16_t *normed)
{
    const hr_model *m = b->m;
    const int64_t E = m->n_embd, T = b->n_tokens;
    const attn_dims d = attn_dims_of(b, L);

    int16_t cur = norm(b, inpL, E, T, 1, t->rms, t->norm_bias);
    *normed = cur;

    if (m->arch == HR_ARCH_DEEPSEEK2 && m->is_mla)
        return mla_attention(b, t, L, cur);

    /* Q, K, V in ggml's order: expand(q), expand(v), expand(k); the
     * sliding-window (iSWA) build_attn expands q, k, v */
    qkv_ctx c;
    c.b = b;
    c.t = t;
    c.d = &d;
    c.T = T;
    c.bias = m->has_qkv_bias;
    c.rope_here = !t->no_rope && !(t->rope_on_swa_only && !L->is_swa);
    c.nrot_k = rot_k_size(b, m->n_embd_head_k ? m->n_embd_head_k : d.hd_k);
    c.nrot_v = rot_v_size(b, m->n_embd_head_v ? m->n_embd_head_v : d.hd_v);
    c.iswa = b->iswa;
    c.krot = c.iswa && L->is_swa ? &b->k_rot_swa : &b->k_rot;
    c.vrot = c.iswa && L->is_swa ? &b->v_rot_swa : &b->v_rot;
    c.qkv = CG_NONE;
    if (t->fused_qkv) {
        const int64_t tot = d.hd_k * d.n_head + d.hd_k * d.n_head_kv + d.hd_v * d.n_head_kv;
        c.qkv = mm(b, HR_ROLE_ATTN_QKV, tot, cur, T, 1, 1);
        if (c.bias)
            c.qkv = ew(b, c.qkv, CG_NONE, tot, T, 1, 1);
    }
    /* the rotations' inputs: ggml's DFS reaches a rotation's matrix (its
     * MUL_MAT's first source) before the rotated tensor's own inputs */
    if (c.nrot_k)
        (void)input(b, c.krot, CG_F32, c.nrot_k, c.nrot_k, 1, 1);
    int16_t q;
    if (t->gated_q) { /* Qwen3.5: one projection holds each head's Q and gate; Q a strided view */
        b->q_gate = mm(b, HR_ROLE_ATTN_Q, 2 * d.hd_k * d.n_head, cur, T, 1, 1);
        q = emit_qk_rest(&c, cg_view(b->g, b->q_gate, CG_F32, d.hd_k, d.n_head, T, 1, true), false,
                         d.n_head, t->q_scale);
    } else {
        q = emit_q(&c, cur);
    }
    int16_t k, v3;
    bool v_contig;
    if (c.iswa) {
        k = emit_k(&c, cur);
        if (c.nrot_v)
            (void)input(b, c.vrot, CG_F32, c.nrot_v, c.nrot_v, 1, 1);
        v3 = emit_v(&c, cur, &v_contig);
    } else {
        if (c.nrot_v)
            (void)input(b, c.vrot, CG_F32, c.nrot_v, c.nrot_v, 1, 1);
        v3 = emit_v(&c, cur, &v_contig);
        k = emit_k(&c, cur);
    }

    const float softcap = m->attn_logit_softcap;
    return attention(b, &d, q, k, v3, v_contig, softcap);
}

/* After layer_attn (and its rotation back): the attention's output
 * projection (MLA: done). */
EMITTER int16_t layer_proj(cg_build *b, int16_t cur)
{
    const hr_model *m = b->m;
    if (m->arch == HR_ARCH_DEEPSEEK2 && m->is_mla)
        return cur;
    cur = mm(b, HR_ROLE_ATTN_OUTPUT, m->n_embd, cur, b->n_tokens, 1, 1);
    if (m->has_attn_bias)
        cur = ew(b, cur, CG_NONE, m->n_embd, b->n_tokens, 1, 1);
    return cur;
}

/* build_attn after build_attn_mha: kqv_out rotated back (a quantized
 * cache's V), then the output projection */
EMITTER int16_t attn_out_proj(cg_build *b, const hr_layer *L, int16_t cur)
{
    if (b->m->arch == HR_ARCH_DEEPSEEK2 && b->m->is_mla)
        return cur;
    return layer_proj(b, unrotate_kqv(b, L, cur));
}

/* command-r / cohere2 after layer_attn: out = (ffn(normed) + inpL) +
 * wo(attn); the final add's DFS reaches the FFN first, so the output
 * projection (only expanded up to kqv_out) is emitted after the FFN, and
 * with it the rotation back of a quantized cache's kqv_out (build_attn
 * applies it after build_attn_mha's expand): kqv_out stays alive through
 * the FFN and its rotation is made next to the FFN's tensors */
static int16_t layer_parallel(cg_build *b, const traits *t, const hr_layer *L, int16_t cur,
                              int16_t normed, int16_t inpL, bool last)
{
    const hr_model *m = b->m;
    const int64_t E = m->n_embd, T = b->n_tokens;
    int64_t Tn = T;
    int16_t resid = inpL, oid = CG_NONE;
    if (last) {
        oid = input(b, &b->out_ids, CG_I32, b->n_outputs, 1, 1, 1);
        Tn = b->n_outputs;
        normed = fresh(b, normed, oid, CG_F32, E, Tn, 1, 1);
    }
    int16_t f = ffn_dense(b, t, normed, E, L->n_ff, Tn);
    if (last)
        resid = fresh(b, resid, oid, CG_F32, E, Tn, 1, 1);
    f = ew(b, f, resid, E, Tn, 1, 1);
    cur = unrotate_kqv(b, L, cur);
    int16_t attn_out = mm(b, HR_ROLE_ATTN_OUTPUT, E, cur, T, 1, 1);
    if (m->has_attn_bias)
        attn_out = ew(b, attn_out, CG_NONE, E, T, 1, 1);
    if (last)
        attn_out = fresh(b, attn_out, oid, CG_F32, E, Tn, 1, 1);
    return ew(b, f, attn_out, E, Tn, 1, 1);
}

/* ---- a layer like one emitted before it: its nodes copied ----
 *
 * A layer's nodes are a function of its hr_layer, whether it is the last,
 * the builder's placement state (buffer, op offload) and the input slots.
 * When an earlier layer had the same of all those, emitting this one op by
 * op would give that layer's nodes again, with two differences: the inputs
 * it created exist now (input() hands back the slot, so they are not
 * emitted again) and its sources move to the new nodes (its input inpL to
 * this layer's input). The layers in between do not matter: a layer reads
 * nothing but its input and the input leafs, and the inputs they created
 * are ones this kind of layer does not read. The latest layer of each of a
 * few kinds is kept (sliding-window models alternate two or more kinds). A layer is emitted in three parts: attention
 * (layer_attn), output projection (layer_proj), FFN (layer_ffn). The last
 * layer differs only by the get_rows of the rows kept between the last two:
 * it copies the first two, emits those, and copies the FFN too when the
 * rows kept are all of them (the reserve graphs: n_outputs = n_tokens),
 * reading the get_rows where the layer before read its projection and its
 * input. */

#define LAYER_COPY_MAX 1024 /* longer layers are emitted op by op */
#define LAYER_KINDS 4       /* layers of more kinds copy from the latest four */

typedef struct layer_record {
    const hr_layer *L;           /* NULL: nothing to copy from */
    bool last, offloading;
    uint16_t wsig;               /* its weight table when op-offloaded */
    uint8_t buffer;
    int start, attn_end, ffn_start, end; /* its parts' nodes (ffn_start -1: parallel FFN) */
    int16_t inpL, normed, attn_out, proj, out;
    /* a copy of a layer, whole, that made no input leaf: its sources are its
     * own nodes, inpL (not a leaf) and input leafs (copy_checked) */
    bool checked;
} layer_record;

/* a plain handle: an op's result, not a view nor nothing */
static bool plain(int16_t h)
{
    return h >= 0 && !(h & CG_VIA_VIEW);
}

/* a handle read by the recorded layer, as the copy reads it (CG_NONE for a
 * source outside the layer that is neither its input nor an input leaf:
 * not one this copy knows how to move); map[] is indexed by node */
static int16_t moved(const cg_graph *g, const layer_record *rec, const int16_t *map, int16_t h,
                     int16_t inpL)
{
    if (h < 0)
        return h;
    const int16_t root = CG_ROOT(h);
    if (root >= rec->start)
        return (int16_t)(map[root] | (h & CG_VIA_VIEW));
    if (root == rec->inpL)
        return (int16_t)(inpL | (h & CG_VIA_VIEW));
    return g->nodes[root].flags & CG_FLAG_LEAF ? h : CG_NONE;
}

/* one source of a copied node moved (see copy_nodes): moved(), spelled out
 * (this runs for every source of every copied node); false when it cannot be */
static inline bool move_source(int16_t *src, int start, int old_inpL, int16_t inpL, int16_t *map,
                               const cg_node *nodes)
{
    const int h = *src, root = h & ~CG_VIA_VIEW;
    if (root >= start)
        *src = (int16_t)(map[root] | (h & CG_VIA_VIEW));
    else if (root == old_inpL)
        *src = (int16_t)(inpL | (h & CG_VIA_VIEW));
    else if (nodes[root].flags & CG_FLAG_LEAF)
        map[root] = (int16_t)root; /* for the checked copies (copy_checked) */
    else
        return false;
    return true;
}

/* Copy the recorded layer's nodes [from, to) to the end of the graph,
 * map[i] taking node i's new handle (an input leaf stays itself), inpL
 * read where it read its input. False, with the graph as it was, when a
 * source cannot be moved. */
static bool copy_nodes(cg_graph *g, const layer_record *rec, int from, int to, int16_t inpL,
                       int16_t *map)
{
    const int start = rec->start, old_inpL = rec->inpL;
    cg_node *const nodes = g->nodes;
    int w = g->n_nodes;
    for (int i = from; i < to; i++) {
        const cg_node *s = &nodes[i];
        if (s->flags & CG_FLAG_LEAF) {
            map[i] = (int16_t)i;
            continue;
        }
        cg_node *n = &nodes[w];
        *n = *s;
        /* no loop: most nodes read one or two; nothing written past n_nodes
         * counts when a source cannot be moved */
#define MOVE(j) if (!move_source(&n->src[j], start, old_inpL, inpL, map, nodes)) return false
        switch (n->n_src) {
        case 4: MOVE(3); /* fallthrough */
        case 3: MOVE(2); /* fallthrough */
        case 2: MOVE(1); /* fallthrough */
        case 1: MOVE(0); /* fallthrough */
        default: break;
        }
#undef MOVE
        map[i] = (int16_t)w++;
    }
    g->n_nodes = w;
    return true;
}

/* copy_nodes for a checked record (see layer_record), without a test: its
 * sources are its own nodes (map[] takes them as they are copied), its
 * input (map[rec->inpL], set by the caller) and input leafs, and it holds
 * no leaf. map[l] = l for those leafs: a checked record reads the leafs of
 * the record it was copied from, back to the first of its line, which was
 * copied by copy_nodes; that one tested each and wrote map[l] = l (or, for
 * a leaf of its own, moved it to itself), and nothing writes a leaf's
 * entry otherwise. One look-up per source; this is most copies: every one
 * after the first of a kind. */
static void copy_checked(cg_graph *g, int from, int to, int16_t *map)
{
    cg_node *const nodes = g->nodes;
    int w = g->n_nodes;
#define MOVED(h) ((int16_t)(map[(h) & ~CG_VIA_VIEW] | ((h) & CG_VIA_VIEW)))
    for (int i = from; i < to; i++, w++) {
        cg_node *n = &nodes[w];
        *n = nodes[i];
        switch (n->n_src) { /* no loop: most nodes read one or two */
        case 4: n->src[3] = MOVED(n->src[3]); /* fallthrough */
        case 3: n->src[2] = MOVED(n->src[2]); /* fallthrough */
        case 2: n->src[1] = MOVED(n->src[1]); /* fallthrough */
        case 1: n->src[0] = MOVED(n->src[0]); /* fallthrough */
        default: break;
        }
        map[i] = (int16_t)w;
    }
#undef MOVED
    g->n_nodes = w;
}

/* A part [from, to) of the recorded layer, its input read as inpL: the
 * checked copy when the record is checked, else copy_nodes. */
static bool copy_part(cg_graph *g, const layer_record *rec, int from, int to, int16_t inpL,
                      int16_t *map)
{
    if (!rec->checked)
        return copy_nodes(g, rec, from, to, inpL, map);
    map[rec->inpL] = inpL;
    copy_checked(g, from, to, map);
    return true;
}

/* cg_same_layer, answered by the caller's finding when every layer is alike */
static bool same_layer(const cg_build *b, const hr_layer *x, const hr_layer *y)
{
    return b->in->layers_alike || cg_same_layer(x, y);
}

/* how much of the recorded layer this one can copy: 0 nothing, 1 all but
 * the last layer's rows, 2 all of it */
static int copyable(const cg_build *b, const layer_record *rec, const hr_layer *L, int16_t inpL,
                    bool last)
{
    const cg_graph *g = b->g;
    if (!rec->L || b->no_layer_copy || g->overflow || !same_layer(b, rec->L, L) ||
        rec->buffer != g->cur_buffer || rec->offloading != b->offloading || rec->wsig != b->wsig)
        return 0;
    /* plain handles make the input's move exact */
    if (!plain(inpL) || !plain(rec->inpL))
        return 0;
    if (g->n_nodes + (rec->end - rec->start) > CG_MAX_NODES)
        return 0;
    return rec->last == last ? 2 : 1;
}

/* The record of this layer's kind (each kind has one: a layer replaces
 * its kind's record), with how much of it can be copied; without one, the
 * record this layer takes: the first empty one (they fill in order), else
 * the oldest. */
static layer_record *pick_record(const cg_build *b, layer_record *recs, const hr_layer *L,
                                 int16_t inpL, bool last, int *copy)
{
    layer_record *oldest = &recs[0];
    *copy = 0;
    for (int k = 0; k < LAYER_KINDS; k++) {
        layer_record *r = &recs[k];
        if (!r->L)
            return r;
        if (r->buffer == b->g->cur_buffer && r->offloading == b->offloading &&
            r->wsig == b->wsig && same_layer(b, r->L, L)) {
            *copy = copyable(b, r, L, inpL, last);
            return r;
        }
        if (r->start < oldest->start)
            oldest = r;
    }
    return oldest;
}

/* Qwen3.5's attention layer: the gated attention (the gate's copy, sigmoid
 * and product come after the attention, before the output projection),
 * then the residual, post-attention norm and FFN as layer_ffn's. Its next
 * layer's first op is its input norm's expand: no op of this one waits. */
static int16_t gated_attn_layer(cg_build *b, const traits *t, const hr_layer *L, int16_t inpL)
{
    const int64_t T = b->n_tokens;
    const attn_dims d = attn_dims_of(b, L);
    int16_t normed;
    int16_t cur = unrotate_kqv(b, L, layer_attn(b, t, L, inpL, &normed));
    const int64_t w = d.hd_v * d.n_head;
    int16_t gate = fresh(b, cg_view(b->g, b->q_gate, CG_F32, d.hd_k, d.n_head, T, 1, true), CG_NONE,
                         CG_F32, w, T, 1, 1); /* cont_2d */
    gate = ew(b, gate, CG_NONE, w, T, 1, 1);   /* sigmoid */
    cur = ew(b, cur, gate, w, T, 1, 1);        /* * gate */
    return layer_ffn(b, t, L, layer_proj(b, cur), inpL, T);
}

/* Falcon-H1's layer end, reached from the next layer's input (or the
 * output): the attention's projection (the sum's first source), the
 * mixer's output, (attn + ssm) + residual, then the FFN over it; the last
 * layer keeps the out_ids rows of that residual sum only. */
int16_t cg_falcon_h1_tail(cg_build *b, const cg_rec_tail *t)
{
    const traits tr = traits_of(b->m);
    const int64_t E = b->m->n_embd, T = b->n_tokens;
    const int16_t attn = attn_out_proj(b, &b->m->layers[t->layer], t->attn);
    const int16_t ssm = cg_rec_mamba_out(b, t);
    int16_t sa = ew(b, ew(b, attn, ssm, E, T, 1, 1), t->h[3], E, T, 1, 1);
    int64_t Tn = T;
    if (t->last) {
        Tn = b->n_outputs;
        sa = fresh(b, sa, input(b, &b->out_ids, CG_I32, Tn, 1, 1, 1), CG_F32, E, Tn, 1, 1);
    }
    const int16_t ffn = ffn_dense(b, &tr, norm(b, sa, E, Tn, 1, tr.rms, tr.norm_bias), E,
                                  b->m->layers[t->layer].n_ff, Tn);
    return ew(b, ffn, sa, E, Tn, 1, 1);
}

/* Nemotron-H: the Mamba-2 layer after layers[i], when only FFN-only layers
 * lie between (no expand of theirs reaches the ops before it), or -1 */
static int next_mamba_behind_ffns(const hr_model *m, const int32_t *layers, int n_layers, int i)
{
    for (int j = i + 1; j < n_layers; j++) {
        const hr_layer *L = &m->layers[layers[j]];
        if (L->is_recurrent)
            return layers[j];
        if (L->n_head_kv > 0 || L->n_expert > 0) /* attention's Q, MoE's weights: expanded */
            return -1;
    }
    return -1;
}

/* Nemotron-H's attention-only and FFN-only layers (its Mamba-2 layers are
 * the recurrent ones): the input norm, the one block, the residual add.
 * early >= 0: the Mamba-2 layer whose state rows ggml reaches right after
 * the attention or the MoE experts' sum, the last expands of this layer
 * (the rest of it waits for that layer's DFS). */
static int16_t one_kind_layer(cg_build *b, const traits *t, const hr_layer *L, int16_t inpL,
                              bool last, int early)
{
    const int64_t E = b->m->n_embd, T = b->n_tokens;
    int16_t cur;
    if (L->n_head_kv > 0) {
        int16_t normed;
        cur = layer_attn(b, t, L, inpL, &normed);
        if (early >= 0)
            cg_rec_early_rows(b, early, layer_buffer(b, early));
        cur = attn_out_proj(b, L, cur);
    } else if (L->n_expert > 0 && L->n_expert_used > 0) { /* MoE, then the shared expert */
        const int16_t x = norm(b, inpL, E, T, 1, t->rms, t->norm_bias);
        b->early_after_moe = early;
        cur = ffn_moe(b, t, x, E, L, T);
        if (b->m->n_ff_shexp > 0)
            cur = ffn_moe_shared(b, t, x, E, b->m->n_ff_shexp, cur, T);
    } else {
        cur = ffn_dense(b, t, norm(b, inpL, E, T, 1, t->rms, t->norm_bias), E, L->n_ff, T);
    }
    int16_t resid = inpL;
    const int64_t Tn = keep_output_rows(b, last, T, E, &cur, &resid);
    return ew(b, cur, resid, E, Tn, 1, 1);
}

/* map: the build's node map (cg_build.node_map) */
static int16_t emit_layer(cg_build *b, const traits *t, const hr_layer *L, int16_t inpL,
                          bool last, layer_record *recs)
{
    cg_graph *g = b->g;
    int16_t *const map = b->node_map;
    const int start = g->n_nodes, leafs = g->n_leafs;
    int16_t normed, cur, proj = CG_NONE, out;
    int copy;
    layer_record *rec = pick_record(b, recs, L, inpL, last, &copy);
    /* a hybrid's recurrent layer next: its state rows come right after the
     * attention (see below), so this layer is emitted whole and not kept */
    const int early = b->early_next;
    b->early_next = -1;
    if (early >= 0)
        copy = 0;
    bool copying = copy > 0 && copy_part(g, rec, rec->start, rec->attn_end, inpL, map);
    bool whole = copying; /* every part a copy */
    if (copying) {
        normed = moved(g, rec, map, rec->normed, inpL);
        cur = moved(g, rec, map, rec->attn_out, inpL);
    } else {
        cur = layer_attn(b, t, L, inpL, &normed);
    }
    /* the layer's last expand, the attention's output or its MoE experts' sum:
     * the next (recurrent) layer's DFS reaches its state rows before the
     * rest */
    if (early >= 0 && L->n_expert > 0 && L->n_expert_used > 0)
        b->early_after_moe = early; /* ffn_moe emits them */
    else if (early >= 0)
        cg_rec_early_rows(b, early, layer_buffer(b, early));
    const int attn_end = g->n_nodes;
    int ffn_start = -1;
    if (t->parallel_ffn) {
        whole = copying && copy == 2 && copy_part(g, rec, rec->attn_end, rec->end, inpL, map);
        if (whole)
            out = moved(g, rec, map, rec->out, inpL);
        else
            out = layer_parallel(b, t, L, cur, normed, inpL, last);
    } else {
        /* LFM2's last layer adds (prev_cur rows, cur rows): the residual's
         * rows come before the projection, which nothing expanded */
        const bool resid_rows_first = last && t->attn_resid_first;
        copying = copying && !resid_rows_first &&
                  copy_part(g, rec, rec->attn_end, rec->ffn_start, inpL, map);
        int16_t x, resid = inpL;
        int64_t Tn;
        if (resid_rows_first) {
            const int16_t oid = input(b, &b->out_ids, CG_I32, b->n_outputs, 1, 1, 1);
            resid = fresh(b, inpL, oid, CG_F32, b->m->n_embd, b->n_outputs, 1, 1);
            proj = attn_out_proj(b, L, cur);
            ffn_start = g->n_nodes;
            x = fresh(b, proj, oid, CG_F32, b->m->n_embd, b->n_outputs, 1, 1);
            Tn = b->n_outputs;
        } else {
            proj = copying ? moved(g, rec, map, rec->proj, inpL) : attn_out_proj(b, L, cur);
            ffn_start = g->n_nodes;
            x = proj;
            Tn = keep_output_rows(b, last, b->n_tokens, b->m->n_embd, &x, &resid);
        }
        /* the FFN reads x where the layer before read its projection */
        copying = copying && !rec->last && Tn == b->n_tokens && plain(rec->proj) &&
                  rec->proj >= rec->start && !(g->nodes[rec->proj].flags & CG_FLAG_LEAF) &&
                  plain(x) && plain(resid);
        if (copying)
            map[rec->proj] = x;
        whole = copying && copy_part(g, rec, rec->ffn_start, rec->end, resid, map);
        if (whole)
            out = moved(g, rec, map, rec->out, resid);
        else
            out = layer_ffn(b, t, L, x, resid, Tn);
    }
    const int end = g->n_nodes;
    rec->checked = whole && g->n_leafs == leafs && !(g->nodes[inpL].flags & CG_FLAG_LEAF);
    rec->L = !g->overflow && end - start <= LAYER_COPY_MAX && early < 0 ? L : NULL;
    rec->last = last;
    rec->offloading = b->offloading;
    rec->wsig = b->wsig;
    rec->buffer = g->cur_buffer;
    rec->start = start;
    rec->attn_end = attn_end;
    rec->ffn_start = ffn_start;
    rec->end = end;
    rec->inpL = inpL;
    rec->normed = normed;
    rec->attn_out = cur;
    rec->proj = proj;
    rec->out = out;
    return out;
}

/* build_pooling with --embeddings, over t_embd: nothing for a model
 * without pooling, the mean (inp_mean [T, n_seq] x cont(transpose(embd)))
 * or one row a sequence (cls, last, rank: get_rows; a reranker's
 * classifier head is not modelled) */
static void pool_embeddings(cg_build *b, int16_t embd)
{
    if (!b->in->settings || !b->in->settings->embeddings || b->m->pooling == 0)
        return; /* (pooling none: the token embeddings as they are) */
    const int64_t E = b->m->n_embd, ns = b->n_stream_all;
    int16_t pooled;
    if (b->m->pooling >= 2) {
        const int16_t rows = input(b, &b->inp_mean, CG_I32, ns, 1, 1, 1); /* inp_cls */
        pooled = fresh(b, embd, rows, CG_F32, E, ns, 1, 1);
    } else {
        const int16_t mean = input(b, &b->inp_mean, CG_F32, b->n_tokens, ns, 1, 1);
        const int16_t tr = fresh(b, cg_view(b->g, embd, CG_F32, b->n_outputs, E, 1, 1, true),
                                 CG_NONE, CG_F32, b->n_outputs, E, 1, 1);
        pooled = cg_op(b->g, false, CG_F32, E, ns, 1, 1, tr, mean, CG_NONE, CG_NONE);
    }
    cg_mark_output(b->g, pooled);
}

/* Entering a part of the graph (a block, the output layer, an encoder's
 * pooling) on buffer buf over `rows` rows. Op offload: on the host, its ops
 * with weights run on the first GPU once the batch reaches the backend's
 * minimum (32), as free nodes the scheduler's passes place; its weights
 * are its own (no block's table). */
static void enter_host_part(cg_build *b, uint8_t buf, int64_t rows)
{
    cg_graph *g = b->g;
    g->cur_buffer = buf;
    b->offloading = b->op_offload && buf == 0 && rows >= 32;
    b->wsig = CG_NO_SIG;
    cg_set_free_mode(g, b->offloading);
    if (b->offloading)
        g->cur_buffer = 1;
}

void cg_enter_block(cg_build *b, int il)
{
    enter_host_part(b, layer_buffer(b, il), b->n_tokens);
    b->wsig = offloaded_wsig(b, il); /* a block copies in its own weights */
    b->cur_layer = il;
}

bool cg_build_graph(cg_build *b, const int32_t *layers, int n_layers)
{
    const hr_model *m = b->m;
    cg_graph *g = b->g;
    int16_t node_map[CG_MAX_NODES]; /* written where read: see copy_checked */
    b->node_map = node_map;
    const traits t = traits_of(m);
    const int64_t E = m->n_embd, T = b->n_tokens;

    b->inp_tokens = b->inp_embd = b->inp_pos = b->out_ids = CG_NONE;
    b->k_idxs = b->v_idxs = b->mask = CG_NONE;
    b->k_idxs_swa = b->v_idxs_swa = b->mask_swa = CG_NONE;
    b->inp_s_copy = CG_NONE;
    for (int i = 0; i < CG_MAX_BUFFERS; i++)
        b->s_copy_on[i][0] = b->s_copy_on[i][1] = CG_NONE;
    b->k_rot = b->v_rot = b->k_rot_swa = b->v_rot_swa = CG_NONE;
    b->inp_mean = CG_NONE;
    b->iswa = false;
    b->early_layer = -1;
    b->early_after_moe = -1;
    b->early_next = -1;
    b->mixer_norm_w = CG_NONE;
    b->k_quantized = type_is_quantized(b->in->type_k); /* looked up once per graph */
    b->v_quantized = type_is_quantized(b->in->type_v);
    /* layers all alike (the caller found it): the first tells */
    for (uint32_t il = 0; il < (b->in->layers_alike ? 1u : m->n_layer); il++)
        if (m->layers[il].is_swa)
            b->iswa = true;

    /* build_inp_embd: get_rows from token_embd (host), the unused embd input
     * leaf is kept by ggml_build_forward_select */
    g->cur_buffer = b->buf_input;
    int16_t tok = input(b, &b->inp_tokens, CG_I32, T, 1, 1, 1);
    input(b, &b->inp_embd, CG_F32, E, T, 1, 1);
    int16_t cur = fresh(b, tok, CG_NONE, CG_F32, E, T, 1, 1);
    if (t.embd_scale)
        cur = ew(b, cur, CG_NONE, E, T, 1, 1);

    const bool encoder = m->arch == HR_ARCH_BERT || m->arch == HR_ARCH_NOMIC_BERT;
    if (encoder) {
        /* learned positions (bert) gathered on the host (a GET_ROWS never
         * moves), then token types' row 0 (a view of a host weight, copied
         * where it is read), the positions' sum and the embeddings' norm,
         * which runs with layer 0 (llama.cpp loads token_embd_norm as block
         * 0's): on its GPU, or op-offloaded from the host */
        const int16_t pos = m->arch == HR_ARCH_BERT ? fresh(b, inp_pos(b), CG_NONE, CG_F32, E, T, 1, 1)
                                                    : CG_NONE;
        cg_enter_block(b, 0);
        const int16_t types = b->offloading || g->cur_buffer != 0
                                  ? cg_external(g, (uint64_t)E * 4u, 0, CG_EXT_WEIGHT_VIEW)
                                  : CG_NONE;
        cur = ew(b, cur, types, E, T, 1, 1);
        if (pos != CG_NONE)
            cur = ew(b, pos, cur, E, T, 1, 1);
        cur = norm(b, cur, E, T, 1, false, true);
        for (int i = 0; i < n_layers; i++) {
            const int il = layers[i];
            cg_mark_layer(g, il);
            cg_enter_block(b, il);
            cur = bert_layer(b, il, cur, il == (int)m->n_layer - 1);
        }
        cg_mark_layer(g, (int)m->n_layer);
        enter_host_part(b, b->buf_output, b->n_outputs); /* pooling */
        cg_mark_output(g, cur); /* t_embd */
        pool_embeddings(b, cur);
        b->offloading = false;
        cg_set_free_mode(g, false);
        return true;
    }

    /* recurrent models: their layers in build_recurrent.c, each leaving its
     * last ops to the next reader of its output (RWKV: the embeddings' norm
     * too) */
    const bool recurrent = m->arch == HR_ARCH_MAMBA || m->arch == HR_ARCH_MAMBA2 ||
                           m->arch == HR_ARCH_RWKV6 || m->arch == HR_ARCH_RWKV7;
    b->tail.kind = CG_TAIL_NONE;
    if (recurrent || m->ssm_d_inner || m->shortconv_l_cache) /* hybrids too */
        cg_rec_begin(b, cur);
    layer_record recs[LAYER_KINDS];
    for (int k = 0; k < LAYER_KINDS; k++)
        recs[k].L = NULL;
    for (int i = 0; i < n_layers; i++) {
        const int il = layers[i];
        cg_mark_layer(g, il);
        g->cur_buffer = layer_buffer(b, il);
        if (t.delta_net) { /* Qwen3.5: whole layers in order (each expands its norm first) */
            cg_enter_block(b, il);
            cur = m->layers[il].is_recurrent ? cg_rec_delta_net(b, il, cur)
                                             : gated_attn_layer(b, &t, &m->layers[il], cur);
            continue;
        }
        if (t.parallel_mixer) {
            /* Falcon-H1: the attention (its Q reaches the layer before), then
             * the Mamba-2 mixer of a second norm of the same input; the
             * rest waits as the layer's tail */
            cur = cg_rec_flush(b, cur);
            cg_enter_block(b, il);
            int16_t normed;
            const int16_t kqv = layer_attn(b, &t, &m->layers[il], cur, &normed);
            const cg_node *nn = normed != CG_NONE ? &g->nodes[CG_ROOT(normed)] : NULL;
            b->mixer_norm_w = b->offloading && nn && nn->n_src > 1 ? nn->src[1] : CG_NONE;
            cg_rec_layer(b, il, cur, il == (int)m->n_layer - 1);
            b->mixer_norm_w = CG_NONE;
            b->tail.kind = CG_TAIL_FALCON_H1;
            b->tail.attn = kqv;
            continue;
        }
        if (recurrent || m->layers[il].is_recurrent || (m->layers[il].n_head == 0 && !t.one_kind)) {
            /* recurrent blocks (hybrids' approximated by Mamba's) */
            cg_enter_block(b, il);
            for (int k = 0; k < LAYER_KINDS; k++) /* attention layers copy only */
                recs[k].L = NULL;                   /* from a run without these */
            cg_rec_layer(b, il, cur, il == (int)m->n_layer - 1 && !t.norm_then_rows);
            const int early = t.one_kind ? next_mamba_behind_ffns(m, layers, n_layers, i) : -1;
            if (early >= 0) /* its tail waits behind the next one's state rows */
                cg_rec_early_rows(b, early, layer_buffer(b, early));
            continue;
        }
        if (b->tail.kind != CG_TAIL_NONE) /* a hybrid's recurrent layer before */
            cur = cg_rec_flush(b, cur);
        cg_enter_block(b, il);
        const bool last = il == (int)m->n_layer - 1 && !t.rows_after && !t.norm_then_rows;
        /* a hybrid attention layer before a recurrent one (emit_layer) */
        if (!t.one_kind && i + 1 < n_layers && m->layers[layers[i + 1]].is_recurrent)
            b->early_next = layers[i + 1];
        cur = t.one_kind ? one_kind_layer(b, &t, &m->layers[il], cur, last,
                                          next_mamba_behind_ffns(m, layers, n_layers, i))
                         : emit_layer(b, &t, &m->layers[il], cur, last, recs);
    }
    if (b->tail.kind != CG_TAIL_NONE) /* the last recurrent layer's ops */
        cur = cg_rec_flush(b, cur);
    cg_mark_layer(g, (int)m->n_layer);
    if (t.rows_after) {
        cg_mark_output(g, cur); /* t_h_nextn */
        cur = fresh(b, cur, input(b, &b->out_ids, CG_I32, b->n_outputs, 1, 1, 1), CG_F32, E,
                    b->n_outputs, 1, 1);
    }

    enter_host_part(b, b->buf_output, b->n_outputs); /* the output layer */
    b->cur_layer = HR_LAYER_OUTPUT;
    const int64_t No = b->n_outputs;
    if (t.norm_then_rows) {
        cur = norm(b, cur, E, T, 1, t.rms, t.norm_bias);
        cg_mark_output(g, cur); /* t_h_nextn */
        cur = fresh(b, cur, input(b, &b->out_ids, CG_I32, No, 1, 1, 1), CG_F32, E, No, 1, 1);
    } else {
        cur = norm(b, cur, E, No, 1, t.rms, t.norm_bias);
    }
    cg_mark_output(g, cur); /* t_embd */
    /* a decoder's graph keeps its LM head when it serves embeddings (the
     * pooling comes after it) */
    int16_t logits = mm(b, HR_ROLE_OUTPUT, m->n_vocab, cur, No, 1, 1);
    if (t.final_softcap) {
        logits = ew(b, logits, CG_NONE, m->n_vocab, No, 1, 1);
        logits = ew(b, logits, CG_NONE, m->n_vocab, No, 1, 1);
        logits = ew(b, logits, CG_NONE, m->n_vocab, No, 1, 1);
    }
    cg_mark_output(g, logits);
    pool_embeddings(b, cur);
    b->offloading = false;
    b->wsig = CG_NO_SIG;
    cg_set_free_mode(g, false);
    return true;
}
