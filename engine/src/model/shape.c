/* hr_model_from_shape: a model described by its hyperparameters, with the
 * tensors laid out as llama.cpp's converter writes them and llama.cpp's
 * loader expects them (llama-model.cpp create_tensor shapes, ne0 = row
 * length). With an ftype the types are llama-quantize's from an F16 source
 * (quant module); without one every tensor takes shape->dtype, as a
 * safetensors checkpoint keeps even its norms in the checkpoint dtype.
 *
 * DeepSeek2 MLA: the current converter's split layout (attn_k_b / attn_v_b,
 * KV cache of compressed latents), not the legacy unsplit attn_kv_b. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "headroom/quant.h"
#include "model_internal.h"
#include "quant/quant_internal.h"

/* Keep a small YAML / config from asking for absurd allocations. */
#define SHAPE_MAX_LAYERS 4096u
#define SHAPE_MAX_DIM (1u << 24)
#define SHAPE_MAX_EXPERTS 1024u

void hr_shape_init(hr_shape *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    s->causal = true;
    s->ftype = HR_FTYPE_MOSTLY_F16;
    s->dtype = HR_TYPE_INVALID;
}

/* Which optional tensors an architecture carries. */
typedef struct layout {
    bool ffn_gate;       /* gated FFN (SwiGLU / GeGLU) */
    bool ffn_norm;       /* pre-FFN norm (parallel blocks have none) */
    bool post_norms;     /* gemma2/3 post_attention_norm, post_ffw_norm */
    bool qk_norm;        /* per-head q/k RMS norms */
    bool fused_qkv;      /* one attn_qkv matrix */
    bool up_doubled;     /* phi3: ffn_up holds gate and up */
    bool sub_norms;      /* bitnet attn_sub_norm, ffn_sub_norm */
    bool encoder;        /* BERT-style post-LN encoder naming */
    bool pos_embd;       /* learned absolute positions */
    bool always_tied;    /* the converter never writes output.weight */
    bool shexp_gate_inp; /* qwen2moe shared-expert gate vector */
    bool oss;            /* gpt-oss: sinks, attention, router and expert biases */
    bool no_gate_bias;   /* nomic-bert: llama.cpp has no ffn_gate.bias slot */
    bool mla;            /* deepseek2 latent attention */
    bool hybrid;         /* granitehybrid: Mamba-2 mixers in the layers without attention */
    bool one_kind;       /* nemotron_h: a layer is a Mamba-2 mixer, attention or an FFN */
    bool moe_no_gate;    /* nemotron_h_moe: experts of up and down only */
    bool moe_probs_bias; /* nemotron_h_moe, lfm2moe: the experts' selection bias */
    bool short_conv;     /* lfm2: short convolutions in the layers without attention */
    bool parallel_mixer; /* falcon-h1: a Mamba-2 mixer beside the attention of every layer */
    bool delta_net;      /* qwen35: gated delta net layers; attention's Q carries its gate;
                            the FFN's norm is post_attention_norm */
    bool fused_ba;       /* qwen3next: one ssm_ba projection for beta and alpha */
    bool mamba1;         /* jamba: its recurrent layers are Mamba (1) mixers with dt/B/C norms */
} layout;

typedef enum family { FAM_TRANSFORMER, FAM_MAMBA, FAM_MAMBA2, FAM_RWKV6, FAM_RWKV7 } family;

typedef struct builder {
    hr_model *m;
    const hr_shape *s;
    hr_error *err;
    hr_status status;
    hr_type dtype;      /* dtype mode: every tensor */
    hr_type float_type; /* ftype mode: 2-D tensors before llama-quantize */
} builder;

static uint32_t effective_dims(const int64_t ne[4])
{
    uint32_t n = 1;
    for (uint32_t d = 1; d < 4; d++)
        if (ne[d] > 1)
            n = d + 1;
    return n;
}

/* Append one tensor; block < 0 for top-level names. suffix NULL: no suffix
 * (mamba's ssm_a / ssm_d). */
static void add(builder *b, int block, const char *stem, const char *suffix, uint32_t n_dims,
                int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3)
{
    if (b->status != HR_OK)
        return;
    char name[96];
    int n;
    if (block >= 0)
        n = snprintf(name, sizeof name, "blk.%d.%s%s%s", block, stem, suffix ? "." : "",
                     suffix ? suffix : "");
    else
        n = snprintf(name, sizeof name, "%s%s%s", stem, suffix ? "." : "", suffix ? suffix : "");
    if (n < 0 || (size_t)n >= sizeof name) {
        b->status = hr_error_set(b->err, HR_ERR_LIMIT, "tensor name too long for %s", stem);
        return;
    }
    const int64_t ne[4] = {ne0, ne1, ne2, ne3};
    for (int d = 0; d < 4; d++)
        if (ne[d] <= 0) {
            b->status = hr_error_set(b->err, HR_ERR_ARG,
                                     "%s: shape gives tensor '%s' a zero dimension",
                                     b->s->name ? b->s->name : "shape", name);
            return;
        }
    hr_tensor *t = hr_model_push_tensor(b->m, b->err);
    if (!t) {
        b->status = HR_ERR_NOMEM;
        return;
    }
    t->name = hr_model_strdup(b->m, name);
    if (!t->name) {
        b->status = hr_error_set(b->err, HR_ERR_NOMEM, "out of memory for tensor names");
        return;
    }
    memcpy(t->ne, ne, sizeof ne);
    t->n_dims = n_dims; /* as the GGUF lists it; quant rules use the trailing-1-free count */
    t->layer = block >= 0 ? block : HR_LAYER_INPUT;
    t->role = (uint16_t)hr_role_from_name(name);
    if (b->dtype != HR_TYPE_INVALID)
        t->type = b->dtype;
    else
        t->type = hr_quant_source_is_f32(name, effective_dims(ne), (hr_role)t->role)
                      ? HR_TYPE_F32 : b->float_type;
}

#define ADD1(b, il, stem, sfx, a) add(b, il, stem, sfx, 1, a, 1, 1, 1)
#define ADD2(b, il, stem, sfx, a, c) add(b, il, stem, sfx, 2, a, c, 1, 1)
#define ADD3(b, il, stem, sfx, a, c, d) add(b, il, stem, sfx, 3, a, c, d, 1)

static void layout_for(hr_arch arch, layout *L, family *fam)
{
    memset(L, 0, sizeof *L);
    *fam = FAM_TRANSFORMER;
    L->ffn_gate = true;
    L->ffn_norm = true;
    switch (arch) {
    case HR_ARCH_QWEN3: case HR_ARCH_QWEN3MOE: L->qk_norm = true; break;
    case HR_ARCH_QWEN2MOE: L->shexp_gate_inp = true; break;
    case HR_ARCH_GEMMA: L->always_tied = true; break;
    case HR_ARCH_GEMMA2: L->always_tied = L->post_norms = true; break;
    case HR_ARCH_GEMMA3: L->always_tied = L->post_norms = L->qk_norm = true; break;
    case HR_ARCH_PHI3:
        L->fused_qkv = L->up_doubled = true;
        L->ffn_gate = false;
        break;
    case HR_ARCH_COMMAND_R: case HR_ARCH_COHERE2:
        L->ffn_norm = false; /* attention and FFN read the same normed input */
        L->always_tied = true;
        break;
    case HR_ARCH_DEEPSEEK2: L->mla = true; break;
    case HR_ARCH_GRANITE_HYBRID: L->hybrid = true; break;
    case HR_ARCH_JAMBA: L->hybrid = L->mamba1 = true; break;
    case HR_ARCH_LFM2: case HR_ARCH_LFM2MOE:
        L->hybrid = L->short_conv = L->qk_norm = true;
        L->moe_probs_bias = arch == HR_ARCH_LFM2MOE;
        break;
    case HR_ARCH_FALCON_H1: L->hybrid = L->parallel_mixer = true; break;
    case HR_ARCH_QWEN35: case HR_ARCH_QWEN35MOE: case HR_ARCH_QWEN3NEXT:
        L->hybrid = L->delta_net = L->qk_norm = true;
        L->ffn_norm = false;
        L->shexp_gate_inp = arch != HR_ARCH_QWEN35; /* the shared expert's gate vector */
        L->fused_ba = arch == HR_ARCH_QWEN3NEXT;
        break;
    case HR_ARCH_NEMOTRON_H: case HR_ARCH_NEMOTRON_H_MOE: /* relu^2 FFNs without a gate */
        L->hybrid = L->one_kind = true;
        L->ffn_gate = L->ffn_norm = false;
        L->moe_no_gate = L->moe_probs_bias = arch == HR_ARCH_NEMOTRON_H_MOE;
        break;
    case HR_ARCH_BITNET: L->sub_norms = true; break;
    case HR_ARCH_GPT_OSS: L->oss = true; L->ffn_norm = false; break;
    case HR_ARCH_BERT:
        L->encoder = L->pos_embd = true;
        L->ffn_gate = L->ffn_norm = false;
        break;
    case HR_ARCH_NOMIC_BERT:
        L->encoder = L->fused_qkv = L->no_gate_bias = true;
        L->ffn_norm = false;
        break;
    case HR_ARCH_MAMBA: *fam = FAM_MAMBA; break;
    case HR_ARCH_MAMBA2: *fam = FAM_MAMBA2; break;
    case HR_ARCH_RWKV6: *fam = FAM_RWKV6; break;
    case HR_ARCH_RWKV7: *fam = FAM_RWKV7; break;
    default: break; /* llama, mistral, mixtral, qwen2: the plain layout */
    }
}

/* Dimensions every transformer layer uses. */
typedef struct dims {
    int64_t n_embd, n_head, n_head_kv, hd_k, hd_v, n_ff, n_ff_exp, n_ff_shexp, n_expert;
    int64_t kv_lora, q_lora, n_rot, qk_nope;
} dims;

static void add_attention(builder *b, int il, const layout *L, const dims *d)
{
    const hr_shape *s = b->s;
    const int64_t nq = d->n_head * d->hd_k * (L->delta_net ? 2 : 1), nk = d->n_head_kv * d->hd_k,
                  nv = d->n_head_kv * d->hd_v, no = d->n_head * d->hd_v;
    const bool bias_o = s->attn_bias || L->oss; /* gpt-oss always has them */
    const bool bias_qkv = s->qkv_bias || bias_o;
    if (L->mla) {
        const int64_t q_width = d->n_head * (d->qk_nope + d->n_rot);
        if (d->q_lora) {
            ADD2(b, il, "attn_q_a", "weight", d->n_embd, d->q_lora);
            ADD1(b, il, "attn_q_a_norm", "weight", d->q_lora);
            ADD2(b, il, "attn_q_b", "weight", d->q_lora, q_width);
        } else {
            ADD2(b, il, "attn_q", "weight", d->n_embd, q_width);
        }
        ADD2(b, il, "attn_kv_a_mqa", "weight", d->n_embd, d->kv_lora + d->n_rot);
        ADD1(b, il, "attn_kv_a_norm", "weight", d->kv_lora);
        ADD3(b, il, "attn_k_b", "weight", d->qk_nope, d->kv_lora, d->n_head);
        ADD3(b, il, "attn_v_b", "weight", d->kv_lora, d->hd_v, d->n_head);
        ADD2(b, il, "attn_output", "weight", d->n_head * d->hd_v, d->n_embd);
        return;
    }
    if (L->fused_qkv) {
        ADD2(b, il, "attn_qkv", "weight", d->n_embd, nq + 2 * nk);
        if (bias_qkv)
            ADD1(b, il, "attn_qkv", "bias", nq + 2 * nk);
    } else {
        ADD2(b, il, "attn_q", "weight", d->n_embd, nq);
        if (bias_qkv)
            ADD1(b, il, "attn_q", "bias", nq);
        ADD2(b, il, "attn_k", "weight", d->n_embd, nk);
        if (bias_qkv)
            ADD1(b, il, "attn_k", "bias", nk);
        ADD2(b, il, "attn_v", "weight", d->n_embd, nv);
        if (bias_qkv)
            ADD1(b, il, "attn_v", "bias", nv);
    }
    if (L->qk_norm) {
        ADD1(b, il, "attn_q_norm", "weight", d->hd_k);
        ADD1(b, il, "attn_k_norm", "weight", d->hd_k);
    }
    if (L->oss)
        ADD1(b, il, "attn_sinks", "weight", d->n_head);
    ADD2(b, il, "attn_output", "weight", no, d->n_embd);
    if (bias_o)
        ADD1(b, il, "attn_output", "bias", d->n_embd);
}

static void add_dense_ffn(builder *b, int il, const layout *L, const dims *d)
{
    const bool bias = b->s->ffn_bias;
    if (L->ffn_gate) {
        ADD2(b, il, "ffn_gate", "weight", d->n_embd, d->n_ff);
        if (bias && !L->no_gate_bias)
            ADD1(b, il, "ffn_gate", "bias", d->n_ff);
    }
    const int64_t up = L->up_doubled ? 2 * d->n_ff : d->n_ff;
    ADD2(b, il, "ffn_up", "weight", d->n_embd, up);
    if (bias)
        ADD1(b, il, "ffn_up", "bias", up);
    if (L->sub_norms)
        ADD1(b, il, "ffn_sub_norm", "weight", d->n_ff);
    ADD2(b, il, "ffn_down", "weight", d->n_ff, d->n_embd);
    if (bias)
        ADD1(b, il, "ffn_down", "bias", d->n_embd);
}

static void add_moe_ffn(builder *b, int il, const layout *L, const dims *d)
{
    ADD2(b, il, "ffn_gate_inp", "weight", d->n_embd, d->n_expert);
    if (L->oss)
        ADD1(b, il, "ffn_gate_inp", "bias", d->n_expert);
    if (L->moe_probs_bias)
        ADD1(b, il, "exp_probs_b", "bias", d->n_expert);
    if (!L->moe_no_gate)
        ADD3(b, il, "ffn_gate_exps", "weight", d->n_embd, d->n_ff_exp, d->n_expert);
    ADD3(b, il, "ffn_up_exps", "weight", d->n_embd, d->n_ff_exp, d->n_expert);
    ADD3(b, il, "ffn_down_exps", "weight", d->n_ff_exp, d->n_embd, d->n_expert);
    if (L->oss) {
        ADD2(b, il, "ffn_gate_exps", "bias", d->n_ff_exp, d->n_expert);
        ADD2(b, il, "ffn_up_exps", "bias", d->n_ff_exp, d->n_expert);
        ADD2(b, il, "ffn_down_exps", "bias", d->n_embd, d->n_expert);
    }
    if (d->n_ff_shexp > 0) {
        if (L->shexp_gate_inp)
            ADD1(b, il, "ffn_gate_inp_shexp", "weight", d->n_embd);
        if (!L->moe_no_gate)
            ADD2(b, il, "ffn_gate_shexp", "weight", d->n_embd, d->n_ff_shexp);
        ADD2(b, il, "ffn_up_shexp", "weight", d->n_embd, d->n_ff_shexp);
        ADD2(b, il, "ffn_down_shexp", "weight", d->n_ff_shexp, d->n_embd);
    }
}

/* a Mamba-2 layer's mixer (llama-model.cpp's mamba2 and hybrid layers) */
static void add_mamba2_mixer(builder *b, int il)
{
    const hr_model *m = b->m;
    const int64_t n_embd = m->n_embd, d_inner = m->ssm_d_inner, d_state = m->ssm_d_state,
                  d_conv = m->ssm_d_conv, n_head = m->ssm_dt_rank, ng = m->ssm_n_group;
    const int64_t conv_dim = d_inner + 2 * ng * d_state;
    ADD2(b, il, "ssm_in", "weight", n_embd, 2 * d_inner + 2 * ng * d_state + n_head);
    ADD2(b, il, "ssm_conv1d", "weight", d_conv, conv_dim);
    ADD1(b, il, "ssm_conv1d", "bias", conv_dim);
    ADD1(b, il, "ssm_dt", "bias", n_head);
    ADD2(b, il, "ssm_a", NULL, 1, n_head);
    ADD2(b, il, "ssm_d", NULL, 1, n_head);
    if (!b->s->ssm_no_norm)
        ADD2(b, il, "ssm_norm", "weight", d_inner / ng, ng);
    ADD2(b, il, "ssm_out", "weight", d_inner, n_embd);
}

/* a Qwen3.5 gated delta net layer's tensors (llama-model's qwen35): heads of
 * ssm_state for keys (ssm_groups of them) and values (ssm_dt_rank) */
static void add_delta_net_mixer(builder *b, int il, bool fused_ba)
{
    const hr_model *m = b->m;
    const int64_t n_embd = m->n_embd, value_dim = m->ssm_d_inner, n_v = m->ssm_dt_rank;
    const int64_t conv_dim = value_dim + 2 * (int64_t)m->ssm_n_group * m->ssm_d_state;
    if (fused_ba && b->s->ssm_fused_qkvz) { /* Qwen3-Next's legacy layout */
        ADD2(b, il, "ssm_in", "weight", n_embd, conv_dim + value_dim);
    } else {
        ADD2(b, il, "attn_qkv", "weight", n_embd, conv_dim);
        ADD2(b, il, "attn_gate", "weight", n_embd, value_dim);
    }
    ADD2(b, il, "ssm_conv1d", "weight", m->ssm_d_conv, conv_dim);
    ADD1(b, il, "ssm_dt", "bias", n_v);
    ADD1(b, il, "ssm_a", NULL, n_v);
    if (fused_ba) {
        ADD2(b, il, "ssm_ba", "weight", n_embd, 2 * n_v);
    } else {
        ADD2(b, il, "ssm_beta", "weight", n_embd, n_v);
        ADD2(b, il, "ssm_alpha", "weight", n_embd, n_v);
    }
    ADD1(b, il, "ssm_norm", "weight", n_v ? value_dim / n_v : value_dim);
    ADD2(b, il, "ssm_out", "weight", value_dim, n_embd);
}

/* a Mamba (1) mixer (llama-model's mamba / jamba); Jamba's with the norms
 * of dt, B and C */
static void add_mamba_mixer(builder *b, int il, bool bc_norms)
{
    const hr_model *m = b->m;
    const int64_t n_embd = m->n_embd, d_inner = m->ssm_d_inner, d_state = m->ssm_d_state,
                  d_conv = m->ssm_d_conv, dt_rank = m->ssm_dt_rank;
    ADD2(b, il, "ssm_in", "weight", n_embd, 2 * d_inner);
    ADD2(b, il, "ssm_conv1d", "weight", d_conv, d_inner);
    ADD1(b, il, "ssm_conv1d", "bias", d_inner);
    ADD2(b, il, "ssm_x", "weight", d_inner, dt_rank + 2 * d_state);
    if (bc_norms)
        ADD1(b, il, "ssm_dt_norm", "weight", dt_rank);
    ADD2(b, il, "ssm_dt", "weight", dt_rank, d_inner);
    ADD1(b, il, "ssm_dt", "bias", d_inner);
    if (bc_norms) {
        ADD1(b, il, "ssm_b_norm", "weight", d_state);
        ADD1(b, il, "ssm_c_norm", "weight", d_state);
    }
    ADD2(b, il, "ssm_a", NULL, d_state, d_inner);
    ADD1(b, il, "ssm_d", NULL, d_inner);
    ADD2(b, il, "ssm_out", "weight", d_inner, n_embd);
}

static bool layer_is_moe(const hr_shape *s, uint32_t il)
{
    if (s->n_expert > 0 && s->expert_layer_period > 0) /* Jamba: every period-th layer */
        return il % s->expert_layer_period == s->expert_layer_offset;
    return s->n_expert > 0 && il >= s->n_layer_dense_lead;
}

static void build_transformer(builder *b, const layout *L, const dims *d)
{
    const hr_shape *s = b->s;
    const bool tied = s->tied_output || L->always_tied || L->encoder;
    /* llama-3.x rope scaling: the converter writes the frequency factors
     * first, n_rot / 2 floats; llama.cpp shares them across layers. */
    if (s->rope_freqs)
        ADD1(b, -1, "rope_freqs", "weight", b->m->n_rot / 2);
    ADD2(b, -1, "token_embd", "weight", d->n_embd, s->n_vocab);
    if (L->encoder) {
        if (L->pos_embd) /* llama.cpp reads n_ctx_train rows */
            ADD2(b, -1, "position_embd", "weight", d->n_embd, b->m->n_ctx_train);
        ADD2(b, -1, "token_types", "weight", d->n_embd, 2);
        ADD1(b, -1, "token_embd_norm", "weight", d->n_embd);
        ADD1(b, -1, "token_embd_norm", "bias", d->n_embd);
    }
    for (uint32_t u = 0; u < s->n_layer && b->status == HR_OK; u++) {
        const int il = (int)u;
        if (!L->encoder)
            ADD1(b, il, "attn_norm", "weight", d->n_embd);
        const hr_layer *ly = &b->m->layers[il];
        if (ly->is_recurrent && L->short_conv) {
            const int64_t e = d->n_embd;
            ADD2(b, il, "shortconv.conv", "weight", b->m->shortconv_l_cache, e);
            ADD2(b, il, "shortconv.in_proj", "weight", e, 3 * e);
            ADD2(b, il, "shortconv.out_proj", "weight", e, e);
        } else if (ly->is_recurrent && L->delta_net) {
            add_delta_net_mixer(b, il, L->fused_ba);
        } else if (ly->is_recurrent && L->mamba1) {
            add_mamba_mixer(b, il, true);
        } else if (ly->is_recurrent) {
            add_mamba2_mixer(b, il);
        }
        /* attention where a layer has it (Falcon-H1: beside its mixer) */
        if (L->parallel_mixer || (!ly->is_recurrent && (!L->one_kind || ly->n_head_kv > 0)))
            add_attention(b, il, L, d);
        if (L->one_kind && (ly->is_recurrent || ly->n_head_kv > 0))
            continue; /* no FFN */
        if (L->sub_norms)
            ADD1(b, il, "attn_sub_norm", "weight", d->n_embd);
        if (L->post_norms || L->oss || L->delta_net)
            ADD1(b, il, "post_attention_norm", "weight", d->n_embd);
        if (L->encoder) {
            ADD1(b, il, "attn_output_norm", "weight", d->n_embd);
            ADD1(b, il, "attn_output_norm", "bias", d->n_embd);
        }
        if (L->ffn_norm) /* llama.cpp's Falcon-H1 loads blk.N.ffn_norm, no suffix */
            ADD1(b, il, "ffn_norm", L->parallel_mixer ? NULL : "weight", d->n_embd);
        if (L->one_kind ? ly->n_expert > 0 : layer_is_moe(s, u))
            add_moe_ffn(b, il, L, d);
        else
            add_dense_ffn(b, il, L, d);
        if (L->post_norms)
            ADD1(b, il, "post_ffw_norm", "weight", d->n_embd);
        if (L->encoder) {
            ADD1(b, il, "layer_output_norm", "weight", d->n_embd);
            ADD1(b, il, "layer_output_norm", "bias", d->n_embd);
        }
    }
    if (L->short_conv) /* llama.cpp's LFM2 output norm keeps the converter's name */
        ADD1(b, -1, "token_embd_norm", "weight", d->n_embd);
    else if (!L->encoder)
        ADD1(b, -1, "output_norm", "weight", d->n_embd);
    if (!tied)
        ADD2(b, -1, "output", "weight", d->n_embd, s->n_vocab);
}

static void build_mamba(builder *b, bool v2)
{
    const hr_shape *s = b->s;
    const int64_t n_embd = s->n_embd;
    ADD2(b, -1, "token_embd", "weight", n_embd, s->n_vocab);
    for (uint32_t u = 0; u < s->n_layer && b->status == HR_OK; u++) {
        const int il = (int)u;
        ADD1(b, il, "attn_norm", "weight", n_embd);
        if (!v2) {
            add_mamba_mixer(b, il, false);
        } else {
            add_mamba2_mixer(b, il);
        }
    }
    ADD1(b, -1, "output_norm", "weight", n_embd);
    if (!s->tied_output)
        ADD2(b, -1, "output", "weight", n_embd, s->n_vocab);
}

/* RWKV's FFN length: the converter's default when the config gives none
 * (RWKV6 3.5 x hidden rounded down to 32, RWKV7 4 x hidden). */
static uint32_t rwkv_ffn(const hr_shape *s, family fam)
{
    if (s->n_ff)
        return s->n_ff;
    return fam == FAM_RWKV7 ? 4 * s->n_embd : (uint32_t)((uint64_t)s->n_embd * 7 / 2 / 32 * 32);
}

/* Both RWKV generations: embedding norm in front, layer-normed output, and
 * a head the converter always writes (llama.cpp requires it). */
static void rwkv_ends(builder *b, bool head)
{
    const int64_t e = b->s->n_embd;
    if (!head) {
        ADD2(b, -1, "token_embd", "weight", e, b->s->n_vocab);
        ADD1(b, -1, "token_embd_norm", "weight", e);
        ADD1(b, -1, "token_embd_norm", "bias", e);
        return;
    }
    ADD1(b, -1, "output_norm", "weight", e);
    ADD1(b, -1, "output_norm", "bias", e);
    ADD2(b, -1, "output", "weight", e, b->s->n_vocab);
}

static void rwkv_layer_norms(builder *b, int il)
{
    const int64_t e = b->s->n_embd;
    ADD1(b, il, "attn_norm", "weight", e);
    ADD1(b, il, "attn_norm", "bias", e);
    ADD1(b, il, "attn_norm_2", "weight", e);
    ADD1(b, il, "attn_norm_2", "bias", e);
}

/* RWKV6 (Finch), llama-model.cpp's layout. The converter's low-rank mixing
 * sizes: 32 and 64, or 64 and 128 for hidden 4096 models. */
static void build_rwkv6(builder *b)
{
    const hr_shape *s = b->s;
    const int64_t e = s->n_embd, ff = rwkv_ffn(s, FAM_RWKV6), hs = b->m->rwkv_head_size;
    const int64_t mix = e == 4096 ? 64 : 32, decay = e == 4096 ? 128 : 64;
    rwkv_ends(b, false);
    for (uint32_t u = 0; u < s->n_layer && b->status == HR_OK; u++) {
        const int il = (int)u;
        rwkv_layer_norms(b, il);
        ADD3(b, il, "time_mix_lerp_x", "weight", e, 1, 1);
        add(b, il, "time_mix_lerp_fused", "weight", 4, e, 1, 1, 5);
        ADD2(b, il, "time_mix_w1", "weight", e, mix * 5);
        ADD3(b, il, "time_mix_w2", "weight", mix, e, 5);
        ADD1(b, il, "time_mix_decay", "weight", e);
        ADD2(b, il, "time_mix_decay_w1", "weight", e, decay);
        ADD2(b, il, "time_mix_decay_w2", "weight", decay, e);
        ADD2(b, il, "time_mix_first", "weight", hs, e / hs);
        ADD2(b, il, "time_mix_key", "weight", e, e);
        ADD2(b, il, "time_mix_value", "weight", e, e);
        ADD2(b, il, "time_mix_receptance", "weight", e, e);
        ADD2(b, il, "time_mix_gate", "weight", e, e);
        ADD1(b, il, "time_mix_ln", "weight", e);
        ADD1(b, il, "time_mix_ln", "bias", e);
        ADD2(b, il, "time_mix_output", "weight", e, e);
        ADD3(b, il, "channel_mix_lerp_k", "weight", e, 1, 1);
        ADD3(b, il, "channel_mix_lerp_r", "weight", e, 1, 1);
        ADD2(b, il, "channel_mix_key", "weight", e, ff);
        ADD2(b, il, "channel_mix_receptance", "weight", e, e);
        ADD2(b, il, "channel_mix_value", "weight", ff, e);
    }
    rwkv_ends(b, true);
}

/* The converter's RWKV7 LoRA rank when the config gives none:
 * max(1, round(hidden^exponent * multiplier / 32)) * 32, Python rounding
 * (half to even, as nearbyint in the default rounding mode). */
static int64_t rwkv7_lora(int64_t e, double exponent, double multiplier)
{
    double r = nearbyint(pow((double)e, exponent) * multiplier / 32.0);
    return (r < 1.0 ? 1 : (int64_t)r) * 32;
}

/* RWKV7 (Goose), llama-model.cpp's layout. Layer 0 carries value-residual
 * tensors too: the converter copies the a0/a1/a2 there (iclr rank). */
static void build_rwkv7(builder *b)
{
    const hr_shape *s = b->s;
    const int64_t e = s->n_embd, ff = rwkv_ffn(s, FAM_RWKV7);
    const int64_t decay = rwkv7_lora(e, 0.5, 1.8), iclr = rwkv7_lora(e, 0.5, 1.8),
                  vmix = rwkv7_lora(e, 0.5, 1.3), gate = rwkv7_lora(e, 0.8, 0.6);
    rwkv_ends(b, false);
    for (uint32_t u = 0; u < s->n_layer && b->status == HR_OK; u++) {
        const int il = (int)u;
        const int64_t v_rank = u == 0 ? iclr : vmix;
        rwkv_layer_norms(b, il);
        ADD1(b, il, "time_mix_w0", "weight", e);
        ADD2(b, il, "time_mix_w1", "weight", e, decay);
        ADD2(b, il, "time_mix_w2", "weight", decay, e);
        ADD1(b, il, "time_mix_a0", "weight", e);
        ADD2(b, il, "time_mix_a1", "weight", e, iclr);
        ADD2(b, il, "time_mix_a2", "weight", iclr, e);
        ADD1(b, il, "time_mix_v0", "weight", e);
        ADD2(b, il, "time_mix_v1", "weight", e, v_rank);
        ADD2(b, il, "time_mix_v2", "weight", v_rank, e);
        ADD2(b, il, "time_mix_g1", "weight", e, gate);
        ADD2(b, il, "time_mix_g2", "weight", gate, e);
        add(b, il, "time_mix_lerp_fused", "weight", 4, e, 1, 1, 6);
        ADD1(b, il, "time_mix_k_k", "weight", e);
        ADD1(b, il, "time_mix_k_a", "weight", e);
        ADD1(b, il, "time_mix_r_k", "weight", e);
        ADD2(b, il, "time_mix_key", "weight", e, e);
        ADD2(b, il, "time_mix_value", "weight", e, e);
        ADD2(b, il, "time_mix_receptance", "weight", e, e);
        ADD1(b, il, "time_mix_ln", "weight", e);
        ADD1(b, il, "time_mix_ln", "bias", e);
        ADD2(b, il, "time_mix_output", "weight", e, e);
        ADD3(b, il, "channel_mix_lerp_k", "weight", e, 1, 1);
        ADD2(b, il, "channel_mix_key", "weight", e, ff);
        ADD2(b, il, "channel_mix_value", "weight", ff, e);
    }
    rwkv_ends(b, true);
}

/* llama_hparams::set_swa_pattern: layer il slides unless il % n == n - 1
 * (n == 0: every layer slides). Architectures whose loader fixes the
 * pattern get it when the shape leaves it 0. */
static uint32_t default_swa_pattern(hr_arch arch)
{
    switch (arch) {
    case HR_ARCH_GEMMA2: case HR_ARCH_GPT_OSS: return 2;
    case HR_ARCH_GEMMA3: return 6;
    case HR_ARCH_COHERE2: return 4;
    default: return 0;
    }
}

static hr_status check_shape(const hr_shape *s, family fam, hr_error *err)
{
    const char *who = s->name ? s->name : "shape";
    if (!s->arch_name || !*s->arch_name)
        return hr_error_set(err, HR_ERR_ARG, "%s: no architecture", who);
    if (s->n_layer == 0 || s->n_layer > SHAPE_MAX_LAYERS)
        return hr_error_set(err, HR_ERR_ARG, "%s: layer count %u out of range (1..%u)", who,
                            s->n_layer, SHAPE_MAX_LAYERS);
    const uint32_t dimsv[] = {s->n_embd, s->n_vocab, s->n_head, s->n_head_kv, s->head_dim,
                              s->head_dim_v, s->n_ff, s->n_ff_exp, s->n_ff_shexp, s->n_lora_q,
                              s->n_lora_kv, s->n_rot, s->head_dim_qk_nope, s->ssm_d_inner,
                              s->ssm_d_state, s->ssm_d_conv, s->ssm_dt_rank, s->n_pos_embd,
                              s->n_ctx_train};
    for (size_t i = 0; i < sizeof dimsv / sizeof dimsv[0]; i++)
        if (dimsv[i] > SHAPE_MAX_DIM)
            return hr_error_set(err, HR_ERR_LIMIT, "%s: dimension %u is implausibly large", who,
                                dimsv[i]);
    if (s->n_embd == 0 || s->n_vocab == 0)
        return hr_error_set(err, HR_ERR_ARG, "%s: embedding length and vocabulary must be > 0",
                            who);
    if (s->n_expert > SHAPE_MAX_EXPERTS || s->n_expert_used > s->n_expert)
        return hr_error_set(err, HR_ERR_ARG, "%s: expert counts %u used of %u out of range", who,
                            s->n_expert_used, s->n_expert);
    if (s->layer_pattern) {
        const hr_arch a = hr_arch_from_name(s->arch_name);
        const bool moe = a == HR_ARCH_NEMOTRON_H_MOE;
        if (s->shortconv_l_cache == 1)
            return hr_error_set(err, HR_ERR_ARG, "%s: shortconv_l_cache must be at least 2", who);
        if (a == HR_ARCH_LFM2 || a == HR_ARCH_LFM2MOE) {
            if (strlen(s->layer_pattern) != s->n_layer ||
                strspn(s->layer_pattern, "C*") != s->n_layer)
                return hr_error_set(err, HR_ERR_ARG,
                                    "%s: layer_pattern needs C (short convolution) or * "
                                    "(attention) for each of the %u layers", who, s->n_layer);
        } else if (strlen(s->layer_pattern) != s->n_layer ||
                   strspn(s->layer_pattern, moe ? "M*E" : "M*-") != s->n_layer) {
            return hr_error_set(err, HR_ERR_ARG,
                                "%s: layer_pattern needs one of M (Mamba-2), * (attention) or %s "
                                "for each of the %u layers", who, moe ? "E (MoE FFN)" : "- (FFN)",
                                s->n_layer);
        }
        if (moe && (s->n_expert == 0 || s->n_expert_used == 0))
            return hr_error_set(err, HR_ERR_ARG, "%s: nemotron_h_moe needs experts", who);
    } else if (hr_arch_from_name(s->arch_name) == HR_ARCH_NEMOTRON_H ||
               hr_arch_from_name(s->arch_name) == HR_ARCH_NEMOTRON_H_MOE) {
        return hr_error_set(err, HR_ERR_ARG, "%s: %s needs a layer_pattern", who, s->arch_name);
    }
    if (fam == FAM_TRANSFORMER) {
        if (s->n_head == 0)
            return hr_error_set(err, HR_ERR_ARG, "%s: head count must be > 0", who);
        if (s->n_head_kv > s->n_head || (s->n_head_kv && s->n_head % s->n_head_kv))
            return hr_error_set(err, HR_ERR_ARG, "%s: %u KV heads do not divide %u heads", who,
                                s->n_head_kv, s->n_head);
        if (!s->head_dim && s->n_embd % s->n_head)
            return hr_error_set(err, HR_ERR_ARG,
                                "%s: embedding %u is not a multiple of %u heads (give head_dim)",
                                who, s->n_embd, s->n_head);
        if (s->n_expert == 0 && s->n_ff == 0)
            return hr_error_set(err, HR_ERR_ARG, "%s: feed-forward length must be > 0", who);
        if (s->n_layer_dense_lead > s->n_layer)
            return hr_error_set(err, HR_ERR_ARG, "%s: %u leading dense layers of %u", who,
                                s->n_layer_dense_lead, s->n_layer);
        if (s->n_layer_dense_lead && s->n_ff == 0)
            return hr_error_set(err, HR_ERR_ARG, "%s: dense layers need a feed-forward length",
                                who);
    }
    if (s->ftype == HR_FTYPE_UNKNOWN) {
        const hr_type_info *info = hr_type_get(s->dtype);
        if (!info || info->special_size)
            return hr_error_set(err, HR_ERR_ARG, "%s: no quantization and no usable dtype", who);
    } else if (hr_ftype_default_type(s->ftype) == HR_TYPE_INVALID) {
        return hr_error_set(err, HR_ERR_ARG, "%s: unknown quantization %d", who, (int)s->ftype);
    }
    return HR_OK;
}

static void fill_dims(const hr_shape *s, hr_arch arch, dims *d)
{
    memset(d, 0, sizeof *d);
    d->n_embd = s->n_embd;
    d->n_head = s->n_head;
    d->n_head_kv = s->n_head_kv ? s->n_head_kv : s->n_head;
    d->hd_k = s->head_dim ? s->head_dim : (s->n_head ? s->n_embd / s->n_head : 0);
    d->hd_v = s->head_dim_v ? s->head_dim_v : d->hd_k;
    d->n_ff = s->n_ff;
    d->n_expert = s->n_expert;
    d->n_ff_exp = s->n_ff_exp ? s->n_ff_exp : s->n_ff;
    d->n_ff_shexp = s->n_ff_shexp;
    if (!d->n_ff_shexp && s->n_expert_shared)
        d->n_ff_shexp = (int64_t)d->n_ff_exp * s->n_expert_shared;
    if (arch == HR_ARCH_DEEPSEEK2) {
        d->kv_lora = s->n_lora_kv;
        d->q_lora = s->n_lora_q;
        d->n_rot = s->n_rot ? s->n_rot : 64;
        d->qk_nope = s->head_dim_qk_nope ? s->head_dim_qk_nope : d->hd_k - d->n_rot;
    }
}

static void fill_hparams(hr_model *m, const hr_shape *s, hr_arch arch, family fam,
                         const layout *L, const dims *d)
{
    m->n_layer = s->n_layer;
    m->n_embd = s->n_embd;
    m->n_vocab = s->n_vocab;
    m->n_ctx_train = s->n_ctx_train;
    m->n_ff = s->n_ff;
    m->n_expert = s->n_expert;
    m->n_expert_used = s->n_expert_used;
    m->n_expert_shared = s->n_expert_shared;
    m->n_ff_exp = s->n_expert ? (uint32_t)d->n_ff_exp : 0;
    m->n_ff_shexp = (uint32_t)d->n_ff_shexp;
    m->n_layer_dense_lead = s->n_expert ? s->n_layer_dense_lead : 0;
    m->n_lora_q = s->n_lora_q;
    m->n_lora_kv = s->n_lora_kv;
    m->n_rot = L->mla ? (uint32_t)d->n_rot : (s->n_rot ? s->n_rot : (uint32_t)d->hd_k);
    m->is_mla = L->mla;
    const bool rwkv = fam == FAM_RWKV6 || fam == FAM_RWKV7;
    m->rwkv_head_size = rwkv ? (s->rwkv_head_size ? s->rwkv_head_size : 64) : 0;
    m->n_pos_embd = L->pos_embd ? (s->n_pos_embd ? s->n_pos_embd : s->n_ctx_train) : 0;
    if (L->pos_embd) /* the converter's context_length is the position count */
        m->n_ctx_train = m->n_pos_embd;
    m->causal = s->causal && !L->encoder;
    m->embedding_only = s->embedding_only || L->encoder;
    m->pooling = m->embedding_only ? (uint8_t)(s->pooling && s->pooling <= 4 ? s->pooling : 1) : 0;
    m->tied_output = fam == FAM_TRANSFORMER ? (s->tied_output || L->always_tied || L->encoder)
                     : rwkv ? false : s->tied_output;
    m->has_qkv_bias = s->qkv_bias || s->attn_bias || L->oss;
    m->has_attn_bias = s->attn_bias || L->oss;
    m->has_ffn_bias = s->ffn_bias;
    m->has_fused_qkv = L->fused_qkv;
    m->attn_logit_softcap = s->attn_logit_softcap;
    m->final_logit_softcap = s->final_logit_softcap;
    m->n_swa = s->n_swa;
    m->swa_pattern = s->n_swa ? (s->swa_pattern ? s->swa_pattern : default_swa_pattern(arch)) : 0;
    if (fam == FAM_MAMBA || fam == FAM_MAMBA2 || (L->hybrid && !L->short_conv)) {
        m->ssm_d_inner = s->ssm_d_inner ? s->ssm_d_inner : 2 * s->n_embd;
        m->ssm_d_conv = s->ssm_d_conv ? s->ssm_d_conv : 4;
        const bool v2 = fam != FAM_MAMBA && !L->mamba1;
        m->ssm_d_state = s->ssm_d_state ? s->ssm_d_state : (v2 ? 128 : 16);
        m->ssm_n_group = v2 ? (s->ssm_n_group ? s->ssm_n_group : 1) : 0;
        m->ssm_dt_rank = s->ssm_dt_rank ? s->ssm_dt_rank
                         : v2 ? m->ssm_d_inner / 64 : (s->n_embd + 15) / 16;
    }
    m->embedding_scale = s->embedding_scale;
    m->residual_scale = s->residual_scale;
    m->logit_scale = s->logit_scale;
    m->no_rope = s->no_rope;
    m->has_fused_qkvz = L->fused_ba && s->ssm_fused_qkvz;
    m->expert_weights_norm = s->expert_weights_norm;
    m->shortconv_l_cache = L->short_conv ? (s->shortconv_l_cache ? s->shortconv_l_cache : 3) : 0;
    m->expert_weights_scale = s->expert_weights_scale;
    for (uint32_t il = 0; il < s->n_layer; il++) {
        hr_layer *l = &m->layers[il];
        if (fam != FAM_TRANSFORMER) {
            l->is_recurrent = true;
            l->n_ff = rwkv ? rwkv_ffn(s, fam) : s->n_ff;
            continue;
        }
        l->n_head = s->n_head;
        /* a hybrid's Mamba-2 layers: no KV heads (how GGUF marks them),
         * the model's head count (llama.cpp sizes heads from layer 0's) */
        const char kind = s->layer_pattern ? s->layer_pattern[il] : '\0';
        l->is_recurrent = L->parallel_mixer ||
                          (L->hybrid && (s->layer_pattern ? kind == 'M' || kind == 'C'
                                         : s->attn_layer_period > 0 &&
                                               il % s->attn_layer_period != s->attn_layer_offset));
        if (L->mla) {
            l->n_head_kv = 1; /* one latent "head" cached per token */
            l->n_embd_head_k = (uint32_t)(d->kv_lora + d->n_rot);
            l->n_embd_head_v = (uint32_t)d->kv_lora;
        } else {
            l->n_head_kv = (uint32_t)d->n_head_kv;
            l->n_embd_head_k = (uint32_t)d->hd_k;
            l->n_embd_head_v = (uint32_t)d->hd_v;
        }
        if (il == 0) { /* the quant walk reads these before finalize */
            m->n_head = l->n_head;
            m->n_head_kv = l->n_head_kv;
            m->n_embd_head_k = l->n_embd_head_k;
            m->n_embd_head_v = l->n_embd_head_v;
        }
        if (layer_is_moe(s, il)) {
            l->n_expert = s->n_expert;
            l->n_expert_used = s->n_expert_used;
            l->n_expert_shared = s->n_expert_shared;
            l->n_ff_exp = (uint32_t)d->n_ff_exp;
        } else {
            l->n_ff = s->n_ff;
        }
        l->is_swa = m->n_swa > 0 &&
                    (m->swa_pattern == 0 || il % m->swa_pattern < m->swa_pattern - 1);
        /* encoders run without a KV cache; Falcon-H1's layers keep both */
        l->has_kv = m->causal && (!l->is_recurrent || L->parallel_mixer);
        /* (Qwen3.5's files keep one KV head count: llama.cpp sizes its
         * attention tensors from layer 0's) */
        if (l->is_recurrent && !L->parallel_mixer && !L->delta_net)
            l->n_head_kv = 0;
        if (L->one_kind) { /* Mamba-2 and attention layers have no FFN, FFN layers no KV */
            if (kind == '-' || kind == 'E') {
                l->n_head_kv = 0;
                l->has_kv = false;
            }
            if (kind != '-')
                l->n_ff = 0;
            if (kind != 'E')
                l->n_expert = l->n_expert_used = l->n_expert_shared = l->n_ff_exp = 0;
        }
    }
}

/* Quantize the source-typed tensors as llama-quantize would at shape->ftype,
 * then size every tensor. */
static hr_status type_and_size(builder *b)
{
    hr_model *m = b->m;
    if (b->dtype == HR_TYPE_INVALID) {
        hr_quant_state st;
        hr_quant_state_init(&st, m);
        hr_quant_ctx ctx;
        hr_quant_ctx_init(&ctx, m, b->s->ftype);
        for (size_t i = 0; i < m->n_tensors; i++)
            m->tensors[i].type = hr_quant_ctx_type(&ctx, &st, &m->tensors[i]);
    }
    for (size_t i = 0; i < m->n_tensors; i++) {
        hr_status s = hr_type_tensor_bytes(m->tensors[i].type, m->tensors[i].ne,
                                           &m->tensors[i].bytes, b->err);
        if (s != HR_OK)
            return s;
    }
    return HR_OK;
}

static hr_ftype ftype_of_dtype(hr_type t)
{
    switch (t) {
    case HR_TYPE_F32: return HR_FTYPE_ALL_F32;
    case HR_TYPE_F16: return HR_FTYPE_MOSTLY_F16;
    case HR_TYPE_BF16: return HR_FTYPE_MOSTLY_BF16;
    default: return HR_FTYPE_UNKNOWN;
    }
}

hr_status hr_model_from_shape(const hr_shape *s, hr_model **out, hr_error *err)
{
    if (!s || !out)
        return hr_error_set(err, HR_ERR_ARG, "no shape given");
    *out = NULL;
    hr_arch arch = hr_arch_from_name(s->arch_name);
    layout L;
    family fam;
    layout_for(arch, &L, &fam);
    hr_status st = check_shape(s, fam, err);
    if (st != HR_OK)
        return st;

    hr_model *m = hr_model_alloc(HR_SOURCE_SHAPE);
    if (!m)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory for a model");
    builder b = {m, s, err, HR_OK, HR_TYPE_INVALID, HR_TYPE_F16};
    if (s->ftype == HR_FTYPE_UNKNOWN) {
        b.dtype = s->dtype;
        m->ftype = ftype_of_dtype(s->dtype);
        m->quant_name = hr_type_get(s->dtype)->name;
        m->dtype = m->quant_name;
    } else {
        m->ftype = s->ftype;
        hr_type def = hr_ftype_default_type(s->ftype);
        b.float_type = def == HR_TYPE_F32 ? HR_TYPE_F32 : def == HR_TYPE_BF16 ? HR_TYPE_BF16
                                                                              : HR_TYPE_F16;
    }
    m->name = hr_model_strdup(m, s->name ? s->name : s->arch_name);
    /* headroom's "mistral" and "mixtral" are llama.cpp's "llama" (the
     * converter writes that name; llama.cpp knows no other) */
    m->arch_name = hr_model_strdup(m, arch == HR_ARCH_MISTRAL || arch == HR_ARCH_MIXTRAL
                                          ? "llama" : s->arch_name);
    m->arch = arch;
    m->is_bitnet_fork = arch == HR_ARCH_BITNET && (s->ftype == HR_FTYPE_BITNET_I2_S ||
                                                   s->ftype == HR_FTYPE_BITNET_TL1 ||
                                                   s->ftype == HR_FTYPE_BITNET_TL2);
    if (!m->name || !m->arch_name) {
        hr_model_free(m);
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory for a model");
    }
    if (arch == HR_ARCH_UNKNOWN)
        hr_model_warn(m, "unknown architecture '%s': llama layout assumed", s->arch_name);

    dims d;
    fill_dims(s, arch, &d);
    if ((st = hr_model_set_layer_count(m, s->n_layer, err)) != HR_OK)
        goto fail;
    fill_hparams(m, s, arch, fam, &L, &d);

    if (fam == FAM_TRANSFORMER)
        build_transformer(&b, &L, &d);
    else if (fam == FAM_RWKV6)
        build_rwkv6(&b);
    else if (fam == FAM_RWKV7)
        build_rwkv7(&b);
    else
        build_mamba(&b, fam == FAM_MAMBA2);
    if ((st = b.status) != HR_OK || (st = type_and_size(&b)) != HR_OK ||
        (st = hr_model_finalize(m, err)) != HR_OK)
        goto fail;
    *out = m;
    return HR_OK;
fail:
    hr_model_free(m);
    return st;
}
