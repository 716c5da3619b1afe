/* Graph builders: llama.cpp's worst-case reserve graph, op by op, in ggml's
 * node order (the DFS order of ggml_build_forward_expand). */
#ifndef HR_COMPUTE_BUILD_H
#define HR_COMPUTE_BUILD_H

#include <string.h>

#include "cgraph.h"
#include "compute.h"
#include "model/model_internal.h"

/* RWKV's matrices, each read by one matmul (block 0's or the first block's
 * that has it: their types do not vary across blocks) */
enum { CG_RW_RECEPTANCE, CG_RW_KEY, CG_RW_VALUE, CG_RW_OUTPUT, CG_RW_GATE, CG_RW_W1, CG_RW_W2,
       CG_RW_A1, CG_RW_A2, CG_RW_V1, CG_RW_V2, CG_RW_G1, CG_RW_G2, CG_RW_DECAY_W1, CG_RW_DECAY_W2,
       CG_RW_FIRST, CG_RW_CM_KEY, CG_RW_CM_VALUE, CG_RW_CM_RECEPTANCE, CG_RW_COUNT };

/* The largest block weight of each role and whether it is repacked for the
 * CPU: scanned from the model's tensors at the first weight an offloaded
 * layer reads, then shared by every graph of one estimate (as are RWKV's
 * matrices, looked up at their first use). */
typedef struct cg_roles {
    bool scanned;
    bool rw_scanned;                  /* rw below looked up (at the first use) */
    const hr_tensor *rw[CG_RW_COUNT]; /* RWKV's matrices (NULL: none) */
    uint64_t bytes[HR_ROLE_COUNT];
    bool repacked[HR_ROLE_COUNT];
    /* each block's own weights (hr_model_layer_roles), when the model has
     * them: an op-offloaded block copies in its own */
    bool per_layer;
    hr_layer_roles layer;
} cg_roles;

/* The weight-table number of block il when it is op-offloaded (its copies
 * in the graph depend on it), CG_NO_SIG otherwise or where the model has no
 * per-block tables: two blocks of the same fields and device build the same
 * graph when these are equal too. */
#define CG_NO_SIG 0xffffu

/* A recurrent layer's last ops, which ggml's DFS reaches only from the next
 * layer's input or from the output (build_recurrent.c): the layer leaves
 * them here, the next reader of its output emits them. */
enum { CG_TAIL_NONE = 0, CG_TAIL_EMBD_NORM, CG_TAIL_MAMBA, CG_TAIL_RWKV6, CG_TAIL_RWKV7,
       CG_TAIL_SHORTCONV, CG_TAIL_FALCON_H1 };
typedef struct cg_rec_tail {
    uint8_t kind;      /* CG_TAIL_* */
    uint8_t buffer;    /* the layer's buffer */
    bool last;         /* the model's last layer: out_ids rows */
    int32_t layer;
    bool offloading;   /* the layer's ops were op-offloaded (its b->offloading) */
    uint16_t wsig;     /* and its weight table (b->wsig) */
    int16_t h[4];      /* tensors of the layer the tail reads */
    int16_t attn;      /* Falcon-H1: the attention's output before its projection */
} cg_rec_tail;

/* sizes of a recurrent model's layers that hr_model does not carry, read
 * from its tensors (cg_rec_begin) */
typedef struct cg_rec_dims {
    int64_t mix_extra, decay_extra;             /* RWKV-6 low ranks */
    int64_t lora_w, lora_a, lora_v, lora_g;     /* RWKV-7 low ranks */
    bool lerp_fused;                            /* RWKV-6 fused token-shift lerps */
    bool ssm_norm;                              /* Mamba-2 grouped norm */
} cg_rec_dims;

typedef struct cg_build {
    cg_graph *g;
    const hr_compute_input *in;
    const hr_model *m;
    int64_t n_tokens;   /* tokens of the ubatch */
    int64_t n_outputs;  /* rows kept by out_ids */
    int64_t n_stream;   /* KV streams */
    int64_t n_kv, n_kv_swa;
    bool fa;
    /* input leafs, created at first use (= ggml's discovery order) */
    int16_t inp_tokens, inp_embd, inp_pos, out_ids;
    int16_t k_idxs, v_idxs, mask;          /* full-attention cache */
    int16_t k_idxs_swa, v_idxs_swa, mask_swa;
    int16_t inp_s_copy;                    /* recurrent state rows */
    /* a GPU's copies of s_copy's two views (main, extra), made by the first
     * of its splits that reads them (build_recurrent.c, s_copy_view) */
    int16_t s_copy_on[CG_MAX_BUFFERS][2];
    int16_t k_rot, v_rot;                  /* Hadamard rotations of a quantized cache */
    int16_t k_rot_swa, v_rot_swa;
    int16_t inp_mean;                      /* mean pooling of embeddings */
    int64_t n_stream_all;                  /* sequences in the ubatch (pooling rows) */
    bool iswa;                             /* two caches: full and sliding-window */
    bool k_quantized, v_quantized;         /* the cache types: rotations (per graph) */
    /* placement: buffer (= plan device index, 0 the CPU side) of the inputs
     * and of the output layer; layers follow in->layer_begin/end */
    uint8_t buf_input, buf_output;
    bool op_offload;    /* a GPU run: host-layer ops with weights may move to GPU 1 */
    bool offloading;    /* the layer being emitted runs on GPU 1 with host weights */
    bool kv_on_host;    /* a GPU run with --no-kv-offload: caches on the host */
    uint16_t wsig;      /* the op-offloaded layer's weight table (CG_NO_SIG: none) */
    bool host_repack;   /* host weights of the repackable types sit in CPU_REPACK: no
                           GPU of the run has a host buffer type (Metal) */
    bool shexp;         /* emitting the shared expert's FFN */
    int32_t cur_layer;
    cg_roles *roles;                       /* the estimate's (init_build) */
    int16_t *node_map;                     /* cg_build_graph's: where the layer copies
                                              move each node (map[l] = l for leafs) */
    bool no_layer_copy; /* tests: emit every layer op by op, never as a copy of
                           the layer before (the result is the same) */
    /* recurrent layers (build_recurrent.c) */
    cg_rec_tail tail;   /* the ops a recurrent layer left to its reader */
    int16_t v_first;    /* RWKV-7: the first layer's values, read by every layer */
    int32_t early_layer; /* a Mamba-2 layer whose state rows were emitted early (or -1) */
    int16_t early_rows;  /* those rows (cg_rec_early_rows) */
    int32_t early_after_moe; /* a recurrent layer whose state rows follow the next MoE
                                FFN's last expand, its experts' sum, or -1 */
    int16_t q_gate;      /* Qwen3.5: the attention's joint Q and gate projection */
    int32_t early_next;  /* the recurrent layer after the attention layer being emitted,
                            whose state rows follow its attention (hybrids), or -1 */
    cg_rec_dims rdims;
    int16_t mixer_norm_w; /* Falcon-H1, op-offloaded: the attention's input-norm
                             weight, which the mixer's norm reads again (one copy
                             serves both), or CG_NONE */
} cg_build;

/* Two layers build the same ops with the same sizes when every byte of
 * their hr_layer is alike: a field added to hr_layer is compared too, and
 * padding that differs only costs a missed shortcut (a layer copy, a
 * skipped period), never a wrong result. */
static inline bool cg_same_layer(const hr_layer *a, const hr_layer *b)
{
    return a == b || memcmp(a, b, sizeof *a) == 0;
}

/* Emit the graph with the layers listed in order (a truncated run of the
 * model's layers: see compute.c). Returns false for an architecture the
 * builders do not know (the caller falls back to the llama graph). */
bool cg_build_graph(cg_build *b, const int32_t *layers, int n_layers);

/* Recurrent layers (build_recurrent.c), in ggml's node order: cg_rec_begin
 * once before the layers with the embeddings (RWKV: their norm becomes the
 * pending tail); cg_rec_layer emits layer il, reading the output of the
 * layer before (cur, or the pending tail), and leaves its own tail;
 * cg_rec_flush emits the pending tail, if any, and returns the output it
 * makes (cur when none is pending): before a layer of another kind and
 * before the output layer. */
void cg_rec_begin(cg_build *b, int16_t embd);
/* An op-offloaded layer's weights as sources (CG_NONE in a layer that is
 * not op-offloaded, where a weight plays no part): a block weight of the
 * role (the block's own where the model has per-block tables), or a row of
 * n f32 weights (norms, biases, small vectors) */
int16_t cg_weight(cg_build *b, hr_role role);
int16_t cg_row_weight(cg_build *b, int64_t n);
/* a row of n f32 weights read through a reshape (cg_ext: CG_EXT_WEIGHT_VIEW) */
int16_t cg_row_weight_view(cg_build *b, int64_t n);
/* the weight of this tensor (t: NULL, none), or read through a reshape */
int16_t cg_tensor_weight(cg_build *b, const hr_tensor *t);
int16_t cg_tensor_weight_view(cg_build *b, const hr_tensor *t);
/* Entering block il's emission: its buffer, op offload (a host block of a
 * GPU run with a batch of 32 tokens or more: free nodes, on GPU 1) and
 * weight table. Recurrent blocks (build_recurrent.c) and attention blocks
 * op-offload alike. */
void cg_enter_block(cg_build *b, int il);
/* A layer's FFN from its mixer's output (cur) and residual (resid) over Tn
 * rows, as an attention layer's (build.c): hybrids' Mamba-2 layers end so */
int16_t cg_layer_ffn(cg_build *b, int il, int16_t cur, int16_t resid, int64_t Tn);
/* A Qwen3.5 gated delta net layer, whole (build_recurrent.c): returns its output */
int16_t cg_rec_delta_net(cg_build *b, int il, int16_t inpL);
/* A Mamba layer's output projection from its tail (no residual, all rows) */
int16_t cg_rec_mamba_out(cg_build *b, const cg_rec_tail *t);
/* Falcon-H1's layer end (build.c): the attention's projection, the mixer's
 * output, their sum and residual, the FFN */
int16_t cg_falcon_h1_tail(cg_build *b, const cg_rec_tail *t);
void cg_rec_layer(cg_build *b, int il, int16_t cur, bool last);
int16_t cg_rec_flush(cg_build *b, int16_t cur);
/* Emit now the state rows of Mamba-2 layer il (buffer buf), which its
 * layer then reads: ggml's DFS reaches them first from the layer's conv
 * state copy, before the ops that no expand reached yet (Nemotron-H's
 * attention output projection and FFN-only layers in between). */
void cg_rec_early_rows(cg_build *b, int il, uint8_t buf);
/* The scheduler's copy of a view of x (view_bytes of it) from buffer
 * `from` to buffer `to`, as a builder's pair (build_recurrent.c): returns
 * the copy, for a reader on `to`; layout is the view's (0: no in-place
 * reuse over it); fixed: its size does not follow the tokens. */
int16_t cg_view_copy(cg_build *b, int16_t x, uint64_t view_bytes, uint8_t from, uint8_t to,
                     bool fixed, uint32_t layout);

#endif
