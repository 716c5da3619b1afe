/* Building the op-level graph model (see cgraph.h). */
#include "cgraph.h"

#include <string.h>

void cg_init(cg_graph *g)
{
    g->n_nodes = 0;
    g->n_leafs = 0;
    g->overflow = false;
    g->too_big = false;
    g->free_mode = false;
    g->cur_buffer = 0;
    g->n_buffers = 1;
    g->n_layer_marks = 0;
}

uint64_t cg_nbytes(cg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3)
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
static uint32_t layout_key(cg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3,
                           bool permuted)
{
    /* independent multiplies (no serial chain): this runs for every node */
    const uint64_t h = (uint64_t)ne0 * 0x9E3779B97F4A7C15ull + (uint64_t)ne1 * 0xC2B2AE3D27D4EB4Full +
                       (uint64_t)ne2 * 0x165667B19E3779F9ull + (uint64_t)ne3 * 0x85EBCA77C2B2AE63ull +
                       (uint64_t)type * 0x27D4EB2F165667C5ull + (permuted ? 0x94D049BB133111EBull : 0u);
    return (uint32_t)(h ^ (h >> 29));
}

/* every field is written by the callers: no memset (this runs per node) */
static cg_node *push(cg_graph *g, int16_t *idx)
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

static void set_srcs(cg_node *n, int16_t s0, int16_t s1, int16_t s2, int16_t s3)
{
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
    for (int i = k; i < CG_MAX_SRC; i++)
        n->src[i] = CG_NONE;
}

int16_t cg_input(cg_graph *g, cg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3)
{
    int16_t idx;
    cg_node *n = push(g, &idx);
    if (!n)
        return CG_NONE;
    n->bytes = cg_nbytes(type, ne0, ne1, ne2, ne3);
    if (n->bytes >= CG_TOO_BIG)
        g->too_big = true;
    n->layout = layout_key(type, ne0, ne1, ne2, ne3, false);
    n->flags = CG_FLAG_INPUT | CG_FLAG_LEAF;
    set_srcs(n, CG_NONE, CG_NONE, CG_NONE, CG_NONE);
    if (g->n_leafs < (int)(sizeof g->leafs / sizeof g->leafs[0]))
        g->leafs[g->n_leafs++] = idx;
    else
        g->overflow = true;
    return idx;
}

int16_t cg_op(cg_graph *g, bool inplace, cg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
              int64_t ne3, int16_t s0, int16_t s1, int16_t s2, int16_t s3)
{
    int16_t idx;
    cg_node *n = push(g, &idx);
    if (!n)
        return CG_NONE;
    n->bytes = cg_nbytes(type, ne0, ne1, ne2, ne3);
    if (n->bytes >= CG_TOO_BIG)
        g->too_big = true;
    n->layout = layout_key(type, ne0, ne1, ne2, ne3, false);
    n->flags = (uint8_t)((inplace ? CG_FLAG_INPLACE : 0) | (g->free_mode ? CG_FLAG_FREE : 0));
    set_srcs(n, s0, s1, s2, s3);
    return idx;
}

int16_t cg_view(cg_graph *g, int16_t src, cg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                int64_t ne3, bool permuted)
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

void cg_sink(cg_graph *g, int16_t s0, int16_t s1, int16_t s2)
{
    int16_t idx;
    cg_node *n = push(g, &idx);
    if (!n)
        return;
    n->bytes = 0;
    n->layout = 0;
    n->flags = CG_FLAG_NOALLOC;
    set_srcs(n, s0, s1, s2, CG_NONE);
}

int16_t cg_external(cg_graph *g, uint64_t bytes, uint8_t buffer, uint32_t kind)
{
    const uint8_t saved = g->cur_buffer;
    g->cur_buffer = buffer;
    int16_t idx;
    cg_node *n = push(g, &idx);
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

void cg_mark_output(cg_graph *g, int16_t t)
{
    if (t != CG_NONE)
        g->nodes[CG_ROOT(t)].flags |= CG_FLAG_OUTPUT;
}

void cg_mark_layer(cg_graph *g, int il)
{
    if (g->n_layer_marks >= (int)(sizeof g->layer_start / sizeof g->layer_start[0])) {
        g->overflow = true;
        return;
    }
    g->layer_start[g->n_layer_marks] = (int16_t)g->n_nodes;
    g->layer_index[g->n_layer_marks] = (int16_t)il;
    g->n_layer_marks++;
}

void cg_sum_bytes(const cg_graph *g, int from, int to, uint64_t scaled[CG_MAX_BUFFERS],
                  uint64_t fixed[CG_MAX_BUFFERS], uint64_t count[CG_MAX_BUFFERS])
{
    for (int i = from; i < to && i < g->n_nodes; i++) {
        const cg_node *n = &g->nodes[i];
        if (n->flags & (CG_FLAG_NOALLOC | CG_FLAG_EXTERNAL))
            continue;
        if (n->flags & CG_FLAG_FIXED)
            fixed[n->buffer] += n->bytes;
        else
            scaled[n->buffer] += n->bytes;
        count[n->buffer]++;
    }
}

void cg_mark_fixed(cg_graph *g, int16_t t)
{
    if (t != CG_NONE)
        g->nodes[CG_ROOT(t)].flags |= CG_FLAG_FIXED;
}

void cg_assign_backends(cg_graph *g, uint8_t gpu_buffer)
{
    bool any = false;
    /* pass 1: ops reading a weight */
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = &g->nodes[i];
        if (!(n->flags & CG_FLAG_FREE))
            continue;
        any = true;
        for (int j = 0; j < n->n_src; j++) {
            const cg_node *s = &g->nodes[CG_ROOT(n->src[j])];
            if (!(s->flags & CG_FLAG_EXTERNAL) || s->layout == CG_EXT_KV)
                continue;
            n->buffer = s->layout == CG_EXT_WEIGHT_REPACKED ? 0 : gpu_buffer;
            n->flags &= (uint8_t)~CG_FLAG_FREE;
            break;
        }
    }
    if (!any)
        return;
    /* pass 2: expand GPU down, GPU up, then any backend down, up */
    for (int pass = 0; pass < 4; pass++) {
        const bool gpu_only = pass < 2, down = (pass % 2) == 0;
        int cur = -1;
        for (int k = 0; k < g->n_nodes; k++) {
            const int i = down ? k : g->n_nodes - 1 - k;
            cg_node *n = &g->nodes[i];
            if (n->flags & (CG_FLAG_LEAF | CG_FLAG_EXTERNAL))
                continue;
            if (!(n->flags & CG_FLAG_FREE))
                cur = gpu_only && n->buffer == 0 ? -1 : n->buffer;
            else if (cur >= 0) {
                n->buffer = (uint8_t)cur;
                n->flags &= (uint8_t)~CG_FLAG_FREE;
            }
        }
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].flags & CG_FLAG_FREE) {
            g->nodes[i].buffer = 0;
            g->nodes[i].flags &= (uint8_t)~CG_FLAG_FREE;
        }
}
