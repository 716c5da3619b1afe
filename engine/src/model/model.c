/* hr_model storage: arena, tensor list, derived totals, free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "quant/quant_internal.h"
#include "weight_pad.h"

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_chunk;

typedef struct free_hook {
    struct free_hook *next;
    void (*fn)(void *);
    void *ptr;
} free_hook;

typedef struct model_private {
    arena_chunk *chunks;
    free_hook *hooks;
    size_t tensor_cap;
    char warning_text[HR_MODEL_MAX_WARNINGS][256];
    /* hr_model_weight_sums: [config][n_layer + 4], config = align 32/128 x
     * row padding off/on; valid for this tensor list only */
    uint64_t *wsum;
    const hr_tensor *wsum_tensors;
    size_t wsum_n_tensors;
    uint32_t wsum_n_layer;
    uint64_t wsum_n_bytes;
    /* hr_model_role_max, valid for this tensor list only */
    hr_role_max role_max[HR_ROLE_COUNT];
    const hr_tensor *rmax_tensors;
    size_t rmax_n_tensors;
    uint64_t rmax_n_bytes;
    /* hr_model_layer_roles, valid for this tensor list only */
    uint16_t *lr_sig;
    hr_role_max *lr_table;
    uint32_t lr_n_sig, lr_n_layer;
    const hr_tensor *lr_tensors;
    size_t lr_n_tensors;
    uint64_t lr_n_bytes;
    /* hr_model_quant_facts, valid for this tensor list only */
    const hr_quant_facts *qfacts;
    const hr_tensor *qfacts_tensors;
    size_t qfacts_n_tensors;
} model_private;

enum { WSUM_CONFIGS = 4 };
static const uint32_t wsum_align[2] = {32, 128};

/* Per-layer padded weight sums (see hr_model_weight_sums). Left absent
 * (the plan then loops over the tensors) when out of memory. */
static void precompute_weight_sums(hr_model *m)
{
    model_private *p = m->internal_;
    p->wsum = NULL;
    const size_t stride = (size_t)m->n_layer + 4;
    if (m->n_layer > (1u << 20) || m->n_bytes > (UINT64_MAX >> 6))
        return;
    uint64_t *w = hr_model_arena_alloc(m, sizeof(uint64_t) * stride * WSUM_CONFIGS);
    if (!w)
        return;
    memset(w, 0, sizeof(uint64_t) * stride * WSUM_CONFIGS);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        const uint64_t pad = hr_weight_row_pad_bytes(t->type, t->ne[0]);
        size_t slot;
        if (t->layer >= 0)
            slot = (size_t)t->layer;
        else if (t->layer == HR_LAYER_OUTPUT)
            slot = m->n_layer + 1;
        else
            slot = hr_tensor_is_layer_shared(t) ? m->n_layer + 3 : m->n_layer;
        const bool dup = t->role == HR_ROLE_TOKEN_EMBD && t->layer == HR_LAYER_INPUT;
        for (int c = 0; c < WSUM_CONFIGS; c++) {
            const uint64_t b = hr_weight_align_up(t->bytes + ((c & 1) ? pad : 0), wsum_align[c >> 1]);
            w[(size_t)c * stride + slot] += b;
            if (dup)
                w[(size_t)c * stride + m->n_layer + 2] += b;
        }
    }
    p->wsum = w;
    p->wsum_tensors = m->tensors;
    p->wsum_n_tensors = m->n_tensors;
    p->wsum_n_layer = m->n_layer;
    p->wsum_n_bytes = m->n_bytes;
}

bool hr_model_weight_sums(const hr_model *m, uint32_t alignment, bool row_padding,
                          hr_weight_sums *out)
{
    const model_private *p = m->internal_;
    if (!p || !p->wsum || p->wsum_tensors != m->tensors || p->wsum_n_tensors != m->n_tensors ||
        p->wsum_n_layer != m->n_layer || p->wsum_n_bytes != m->n_bytes)
        return false;
    int a;
    if (alignment == wsum_align[0])
        a = 0;
    else if (alignment == wsum_align[1])
        a = 1;
    else
        return false;
    const size_t stride = (size_t)m->n_layer + 4;
    const uint64_t *w = p->wsum + (size_t)(a * 2 + (row_padding ? 1 : 0)) * stride;
    out->layer = w;
    out->input = w[m->n_layer];
    out->output = w[m->n_layer + 1];
    out->embd_dup = w[m->n_layer + 2];
    out->layer_shared = w[m->n_layer + 3];
    return true;
}

/* The largest tensor of each role among the blocks' (the output and the
 * token embeddings also outside them), the first of that size: what the
 * compute graph's op offload reads for each role (see hr_model_role_max). */
static void precompute_role_max(hr_model *m)
{
    model_private *p = m->internal_;
    memset(p->role_max, 0, sizeof p->role_max);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        const unsigned r = t->role;
        if (r < HR_ROLE_COUNT && t->bytes > p->role_max[r].bytes &&
            (t->layer >= 0 || r == HR_ROLE_OUTPUT || r == HR_ROLE_TOKEN_EMBD)) {
            p->role_max[r].bytes = t->bytes;
            p->role_max[r].type = t->type;
            p->role_max[r].ne1 = t->ne[1];
        }
    }
    p->rmax_tensors = m->tensors;
    p->rmax_n_tensors = m->n_tensors;
    p->rmax_n_bytes = m->n_bytes;
}

/* Each block's role table (see hr_model_layer_roles): one pass over the
 * tensors fills a table per block, then equal tables are folded into the
 * first of them. Absent past 4096 blocks or 64 distinct tables (no model
 * comes near either; a damaged file's would only cost time and memory):
 * the graph then sizes a block's weights by hr_model_role_max. */
#define LAYER_ROLES_MAX_LAYERS 4096
#define LAYER_ROLES_MAX_SIGS 64
static void precompute_layer_roles(hr_model *m)
{
    model_private *p = m->internal_;
    p->lr_tensors = NULL;
    const uint32_t n = m->n_layer;
    if (n == 0 || n > LAYER_ROLES_MAX_LAYERS)
        return;
    uint16_t *sig = hr_model_arena_alloc(m, sizeof *sig * n);
    hr_role_max *table = hr_model_arena_alloc(m, sizeof *table * HR_ROLE_COUNT * n);
    if (!sig || !table)
        return;
    /* zeroed, padding too: equal tables compare equal byte for byte */
    memset(table, 0, sizeof *table * HR_ROLE_COUNT * n);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        const unsigned r = t->role;
        if (t->layer < 0 || (uint32_t)t->layer >= n || r >= HR_ROLE_COUNT)
            continue;
        hr_role_max *e = &table[(size_t)t->layer * HR_ROLE_COUNT + r];
        if (t->bytes > e->bytes) {
            e->bytes = t->bytes;
            e->type = t->type;
            e->ne1 = t->ne[1];
        }
    }
    const size_t row = sizeof *table * HR_ROLE_COUNT;
    uint32_t n_sig = 0;
    for (uint32_t il = 0; il < n; il++) {
        const hr_role_max *mine = &table[(size_t)il * HR_ROLE_COUNT];
        uint32_t k = 0;
        while (k < n_sig && memcmp(&table[(size_t)k * HR_ROLE_COUNT], mine, row) != 0)
            k++;
        if (k == n_sig) {
            if (n_sig == LAYER_ROLES_MAX_SIGS)
                return;
            if (k != il)
                memcpy(&table[(size_t)k * HR_ROLE_COUNT], mine, row);
            n_sig++;
        }
        sig[il] = (uint16_t)k;
    }
    p->lr_sig = sig;
    p->lr_table = table;
    p->lr_n_sig = n_sig;
    p->lr_n_layer = n;
    p->lr_tensors = m->tensors;
    p->lr_n_tensors = m->n_tensors;
    p->lr_n_bytes = m->n_bytes;
}

bool hr_model_layer_roles(const hr_model *m, hr_layer_roles *out)
{
    const model_private *p = m->internal_;
    if (!p || !p->lr_tensors || p->lr_tensors != m->tensors || p->lr_n_tensors != m->n_tensors ||
        p->lr_n_bytes != m->n_bytes || p->lr_n_layer != m->n_layer)
        return false;
    out->sig = p->lr_sig;
    out->table = p->lr_table;
    out->n_sig = p->lr_n_sig;
    return true;
}

const hr_role_max *hr_model_role_max(const hr_model *m)
{
    const model_private *p = m->internal_;
    if (!p || !p->rmax_tensors || p->rmax_tensors != m->tensors ||
        p->rmax_n_tensors != m->n_tensors || p->rmax_n_bytes != m->n_bytes)
        return NULL;
    return p->role_max;
}

const struct hr_quant_facts *hr_model_quant_facts(const hr_model *m)
{
    const model_private *p = m->internal_;
    if (!p || !p->qfacts || p->qfacts_tensors != m->tensors || p->qfacts_n_tensors != m->n_tensors)
        return NULL;
    return p->qfacts;
}

bool hr_tensor_is_layer_shared(const hr_tensor *t)
{
    static const char *const names[] = {"rope_freqs.weight", "rope_factors_long.weight",
                                        "rope_factors_short.weight"};
    if (t->layer != HR_LAYER_INPUT || !t->name)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(t->name, names[i]) == 0)
            return true;
    return false;
}

hr_model *hr_model_alloc(hr_source source)
{
    hr_model *m = calloc(1, sizeof *m);
    model_private *p = calloc(1, sizeof *p);
    if (!m || !p) {
        free(m);
        free(p);
        return NULL;
    }
    m->source = source;
    m->internal_ = p;
    m->ftype = HR_FTYPE_UNKNOWN;
    m->causal = true;
    m->alignment = 32;
    m->n_files = 1;
    return m;
}

static hr_status copy_string(hr_model *m, const char **field, hr_error *err)
{
    if (!*field)
        return HR_OK;
    *field = hr_model_strdup(m, *field);
    return *field ? HR_OK : hr_error_set(err, HR_ERR_NOMEM, "out of memory copying the model");
}

hr_status hr_model_copy_shell(const hr_model *src, hr_model **out, hr_error *err)
{
    *out = NULL;
    hr_model *m = hr_model_alloc(src->source);
    if (!m)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory copying the model");
    void *internal = m->internal_;
    *m = *src;
    m->internal_ = internal;
    m->tensors = NULL;
    m->n_tensors = 0;
    m->layers = NULL;
    m->layer_bytes = NULL;
    m->n_warnings = 0;
    memset(m->warnings, 0, sizeof m->warnings);
    hr_status s;
    if ((s = copy_string(m, &m->path, err)) != HR_OK ||
        (s = copy_string(m, &m->name, err)) != HR_OK ||
        (s = copy_string(m, &m->arch_name, err)) != HR_OK ||
        (s = copy_string(m, &m->dtype, err)) != HR_OK ||
        (s = copy_string(m, &m->quant_name, err)) != HR_OK ||
        (s = hr_model_set_layer_count(m, src->n_layer, err)) != HR_OK) {
        hr_model_free(m);
        return s;
    }
    if (src->n_layer)
        memcpy(m->layers, src->layers, src->n_layer * sizeof *m->layers);
    for (int i = 0; i < src->n_warnings; i++)
        hr_model_warn(m, "%s", src->warnings[i]);
    *out = m;
    return HR_OK;
}

void *hr_model_arena_alloc(hr_model *m, size_t bytes)
{
    model_private *p = m->internal_;
    size_t need = (bytes + 15) & ~(size_t)15;
    if (need < bytes)
        return NULL;
    arena_chunk *c = p->chunks;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > 65536 ? need : 65536;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = p->chunks;
        c->used = 0;
        c->cap = cap;
        p->chunks = c;
    }
    void *out = c->data + c->used;
    c->used += need;
    memset(out, 0, bytes);
    return out;
}

const char *hr_model_strndup(hr_model *m, const char *s, size_t n)
{
    char *d = hr_model_arena_alloc(m, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

const char *hr_model_strdup(hr_model *m, const char *s)
{
    return s ? hr_model_strndup(m, s, strlen(s)) : NULL;
}

hr_tensor *hr_model_push_tensor(hr_model *m, hr_error *err)
{
    model_private *p = m->internal_;
    if (m->n_tensors == p->tensor_cap) {
        size_t cap = p->tensor_cap ? p->tensor_cap * 2 : 64;
        hr_tensor *t = realloc(m->tensors, cap * sizeof *t);
        if (!t) {
            hr_error_set(err, HR_ERR_NOMEM, "out of memory for %zu tensors", cap);
            return NULL;
        }
        m->tensors = t;
        p->tensor_cap = cap;
    }
    hr_tensor *t = &m->tensors[m->n_tensors++];
    memset(t, 0, sizeof *t);
    t->ne[0] = t->ne[1] = t->ne[2] = t->ne[3] = 1;
    t->layer = HR_LAYER_INPUT;
    return t;
}

hr_status hr_model_set_layer_count(hr_model *m, uint32_t n_layer, hr_error *err)
{
    if (n_layer > 100000)
        return hr_error_set(err, HR_ERR_LIMIT, "implausible layer count %u", n_layer);
    m->n_layer = n_layer;
    m->layers = hr_model_arena_alloc(m, (n_layer ? n_layer : 1) * sizeof *m->layers);
    m->layer_bytes = hr_model_arena_alloc(m, (n_layer ? n_layer : 1) * sizeof *m->layer_bytes);
    if (!m->layers || !m->layer_bytes)
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory for %u layers", n_layer);
    return HR_OK;
}

void hr_model_warn(hr_model *m, const char *fmt, ...)
{
    model_private *p = m->internal_;
    if (m->n_warnings >= HR_MODEL_MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->warning_text[m->n_warnings], sizeof p->warning_text[0], fmt, ap);
    va_end(ap);
    m->warnings[m->n_warnings] = p->warning_text[m->n_warnings];
    m->n_warnings++;
}

hr_status hr_model_on_free(hr_model *m, void (*fn)(void *), void *ptr, hr_error *err)
{
    model_private *p = m->internal_;
    free_hook *h = malloc(sizeof *h);
    if (!h) {
        fn(ptr);
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory");
    }
    h->fn = fn;
    h->ptr = ptr;
    h->next = p->hooks;
    p->hooks = h;
    return HR_OK;
}

int32_t hr_tensor_block_index(const char *name)
{
    if (strncmp(name, "blk.", 4) != 0)
        return -1;
    const char *s = name + 4;
    int64_t v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 9) {
        v = v * 10 + (*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || *s != '.')
        return -1;
    return (int32_t)v;
}

static bool is_output_tensor(const char *name)
{
    return strncmp(name, "output", 6) == 0 || strncmp(name, "cls", 3) == 0 ||
           strncmp(name, "enc.output", 10) == 0;
}

/* The layer of a tensor outside the blocks, as llama.cpp places it:
 * token_embd_norm is created as block 0's ("do the norms on the first
 * layer": BERT-likes, BLOOM, RWKV), except LFM2's, its output norm; the
 * head's tensors with the output, the rest with the input. */
static int32_t unblocked_layer(const hr_model *m, const char *name)
{
    if (strcmp(name, "token_embd_norm.weight") == 0 || strcmp(name, "token_embd_norm.bias") == 0) {
        if (m->arch == HR_ARCH_LFM2 || m->arch == HR_ARCH_LFM2MOE)
            return HR_LAYER_OUTPUT;
        if (m->n_layer > 0)
            return 0;
    }
    return is_output_tensor(name) ? HR_LAYER_OUTPUT : HR_LAYER_INPUT;
}

hr_status hr_model_finalize(hr_model *m, hr_error *err)
{
    if (!m->layers) {
        hr_status st = hr_model_set_layer_count(m, m->n_layer, err);
        if (st != HR_OK)
            return st;
    }
    if (m->arch == HR_ARCH_UNKNOWN && m->arch_name)
        m->arch = hr_arch_from_name(m->arch_name);
    m->n_params = m->n_bytes = m->input_bytes = m->output_bytes = 0;
    for (uint32_t i = 0; i < m->n_layer; i++)
        m->layer_bytes[i] = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        hr_tensor *t = &m->tensors[i];
        int32_t blk = hr_tensor_block_index(t->name);
        if (blk >= 0) {
            if ((uint32_t)blk >= m->n_layer)
                return hr_error_set(err, HR_ERR_FORMAT,
                                    "tensor '%s' names block %d but the model has %u layers",
                                    t->name, blk, m->n_layer);
            t->layer = blk;
        } else {
            t->layer = unblocked_layer(m, t->name);
        }
        if (t->role == HR_ROLE_OTHER)
            t->role = (uint16_t)hr_role_from_name(t->name);
        uint64_t n = 1;
        for (int d = 0; d < 4; d++)
            if (__builtin_mul_overflow(n, (uint64_t)t->ne[d], &n))
                return hr_error_set(err, HR_ERR_LIMIT, "tensor '%s' element count overflows",
                                    t->name);
        if (__builtin_add_overflow(m->n_params, n, &m->n_params) ||
            __builtin_add_overflow(m->n_bytes, t->bytes, &m->n_bytes))
            return hr_error_set(err, HR_ERR_LIMIT, "model size overflows");
        if (t->layer >= 0)
            m->layer_bytes[t->layer] += t->bytes;
        else if (t->layer == HR_LAYER_OUTPUT)
            m->output_bytes += t->bytes;
        else
            m->input_bytes += t->bytes;
    }
    m->bits_per_weight = m->n_params ? 8.0 * (double)m->n_bytes / (double)m->n_params : 0.0;
    if (!m->quant_name && m->ftype != HR_FTYPE_UNKNOWN)
        m->quant_name = hr_ftype_name(m->ftype);
    if (!m->quant_name)
        m->quant_name = "unknown";
    if (m->n_layer > 0) {
        const hr_layer *l0 = &m->layers[0];
        if (!m->n_head) m->n_head = l0->n_head;
        if (!m->n_head_kv) m->n_head_kv = l0->n_head_kv;
        if (!m->n_embd_head_k) m->n_embd_head_k = l0->n_embd_head_k;
        if (!m->n_embd_head_v) m->n_embd_head_v = l0->n_embd_head_v;
        if (!m->n_ff) {
            for (uint32_t i = 0; i < m->n_layer && !m->n_ff; i++)
                m->n_ff = m->layers[i].n_ff;
        }
    }
    if (!m->name)
        m->name = m->path ? m->path : "model";
    precompute_weight_sums(m);
    precompute_role_max(m);
    precompute_layer_roles(m);
    model_private *p = m->internal_;
    p->qfacts = hr_quant_facts_build(m);
    p->qfacts_tensors = m->tensors;
    p->qfacts_n_tensors = m->n_tensors;
    return HR_OK;
}

void hr_model_free(hr_model *m)
{
    if (!m)
        return;
    model_private *p = m->internal_;
    if (p) {
        for (free_hook *h = p->hooks; h;) {
            free_hook *next = h->next;
            h->fn(h->ptr);
            free(h);
            h = next;
        }
        for (arena_chunk *c = p->chunks; c;) {
            arena_chunk *next = c->next;
            free(c);
            c = next;
        }
        free(p);
    }
    free(m->tensors);
    free(m);
}

int hr_model_type_histogram(const hr_model *m, hr_type *types, uint32_t *counts, int max)
{
    int n = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        int j;
        for (j = 0; j < n; j++)
            if (types[j] == m->tensors[i].type)
                break;
        if (j == n) {
            if (n == max)
                continue;
            types[n] = m->tensors[i].type;
            counts[n] = 0;
            n++;
        }
        counts[j]++;
    }
    return n;
}
