/* hr_plan_compute: what llama.cpp allocates, per device.
 *
 * Follows llama_context's constructor (context padding, streams, batch
 * clamps, output buffer), load_tensors' layer placement, the KV cache
 * constructors and the scheduler's compute buffers (compute module).
 * Pure: no allocation, no I/O; strings only for the rare notes.
 *
 * Rules as read in llama.cpp's current source (and checked against the
 * calibration loads where they apply):
 *  - n_ctx = PAD(n_ctx or n_ctx_train, 256); without --kv-unified every
 *    sequence is a stream of n_ctx_seq = PAD(n_ctx / n_seq, 256) cells and
 *    n_ctx becomes n_ctx_seq * n_seq; n_batch = min(n_batch, n_ctx) for
 *    causal models, n_ubatch = min(n_ubatch, n_batch).
 *  - Devices: the host, then in GPU mode every GPU of the budget (llama.cpp
 *    starts a backend on each, so each carries the runtime's device
 *    overhead even with no layers); in CPU mode the host only. Plan device
 *    d is budget device d.
 *  - Blocks il >= n_layer + 1 - ngl go to the GPUs and the output head
 *    counts as block n_layer, so any ngl >= 1 puts the head on the last GPU
 *    and ngl = n_layer + 1 (or -1) is full offload; token_embd stays on the
 *    host. A tied head is duplicated into a GPU output device's buffer.
 *  - KV per layer on its device (host without KV offload); sliding-window
 *    layers get PAD(min(n_ctx_seq, n_swa * (unified ? n_seq : 1) + n_ubatch),
 *    256) cells per stream (--swa-full: n_ctx_seq); MLA stores one K row of
 *    kv_lora_rank + rope dims and no V (has_v = !is_mla); recurrent layers
 *    hold f32 r/s states for max(1, n_seq) sequences; BERT-like encoders
 *    get no memory at all.
 *  - Output: (n_vocab + (embeddings ? n_embd : 0)) * n_seq * 4 bytes, in
 *    host memory (a GPU run uses the output device's pinned host buffer).
 */
#include <stdio.h>
#include <string.h>

#include "compute/compute.h"
#include "plan_internal.h"

#define HR_LLAMA_MAX_SEQ 256 /* LLAMA_MAX_SEQ */
#define HR_CTX_PAD 256       /* n_ctx and n_ctx_seq padding */

/* A note written piece by piece: text and unsigned numbers as "%u" /
 * "%llu" print them, cut to the note's room as snprintf cuts it (the plan
 * is zeroed, so the bytes after the end are the same too). vsnprintf cost
 * ~1.2k instructions a note, and a padded context, the commonest note,
 * comes with most contexts a user types. */
typedef struct note_writer {
    char *dst;   /* NULL: the notes are full */
    size_t at, room;
} note_writer;

static note_writer note_open(hr_plan *plan)
{
    note_writer w = {NULL, 0, sizeof plan->notes[0]};
    if (plan->n_notes < HR_PLAN_MAX_NOTES)
        w.dst = plan->notes[plan->n_notes++];
    return w;
}

/* len bytes of s, as far as the note's room goes */
static void note_put(note_writer *w, const char *s, size_t len)
{
    if (!w->dst)
        return;
    const size_t left = w->room - 1 - w->at;
    const size_t n = len < left ? len : left;
    memcpy(w->dst + w->at, s, n);
    w->at += n;
    w->dst[w->at] = '\0';
}

/* a string literal (its length known here) */
#define note_text(w, literal) note_put((w), "" literal, sizeof(literal) - 1)

static void note_num(note_writer *w, uint64_t v)
{
    char digits[20]; /* UINT64_MAX has 20 */
    char *p = digits + sizeof digits;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    note_put(w, p, (size_t)(digits + sizeof digits - p));
}

/* a note of fixed text (a string literal) */
#define add_note(plan, literal)                                                                    \
    do {                                                                                           \
        note_writer w_ = note_open(plan);                                                          \
        note_text(&w_, literal);                                                                   \
    } while (0)

/* KV cache types llama.cpp accepts for -ctk / -ctv */
static bool kv_type_allowed(hr_type t)
{
    switch (t) {
    case HR_TYPE_F32: case HR_TYPE_F16: case HR_TYPE_BF16: case HR_TYPE_Q8_0:
    case HR_TYPE_Q5_1: case HR_TYPE_Q5_0: case HR_TYPE_Q4_1: case HR_TYPE_Q4_0:
    case HR_TYPE_IQ4_NL:
        return true;
    default:
        return false;
    }
}

static const char *type_name(hr_type t)
{
    const hr_type_info *ti = hr_type_get(t);
    return ti ? ti->name : "?";
}

/* Also tells whether every layer is the same bytes (*layers_alike): most
 * models repeat one layer, and then its checks, the KV cache and the
 * compute module's layer runs read the first one for all. */
static hr_status check_inputs(const hr_model *m, const hr_settings *s, const hr_budget *b,
                              bool *layers_alike, hr_error *err)
{
    if (!m || !s)
        return hr_error_set(err, HR_ERR_ARG, "plan: model and settings are required");
    if (m->n_layer > 0 && !m->layers)
        return hr_error_set(err, HR_ERR_ARG, "plan: model '%s' has no layer table",
                            m->name ? m->name : "?");
    /* shapes the graph needs (a damaged file can claim anything) */
    if (m->n_layer == 0 || m->n_embd == 0 || m->n_vocab == 0)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "plan: model '%s' has %u layers, n_embd %u, vocabulary %u",
                            m->name ? m->name : "?", m->n_layer, m->n_embd, m->n_vocab);
    *layers_alike = m->n_layer > 1 && memcmp(&m->layers[1], &m->layers[0],
                                             (size_t)(m->n_layer - 1) * sizeof *m->layers) == 0;
    for (uint32_t il = 0; il < (*layers_alike ? 1 : m->n_layer); il++)
        if (!m->layers[il].is_recurrent && m->layers[il].n_head == 0)
            return hr_error_set(err, HR_ERR_FORMAT,
                                "plan: model '%s': layer %u has no attention heads",
                                m->name ? m->name : "?", il);
    if (s->n_batch == 0 || s->n_ubatch == 0)
        return hr_error_set(err, HR_ERR_ARG, "plan: batch and ubatch must be at least 1");
    if (s->n_seq > HR_LLAMA_MAX_SEQ)
        return hr_error_set(err, HR_ERR_ARG, "plan: %u parallel sequences exceed llama.cpp's %d",
                            s->n_seq, HR_LLAMA_MAX_SEQ);
    if (!kv_type_allowed(s->type_k) || !kv_type_allowed(s->type_v))
        return hr_error_set(err, HR_ERR_ARG,
                            "plan: KV cache types must be f32, f16, bf16, q8_0, q5_1, q5_0, "
                            "q4_1, q4_0 or iq4_nl");
    if (!(s->margin_percent >= 0.0 && s->margin_percent <= 1000.0))
        return hr_error_set(err, HR_ERR_ARG, "plan: margin percent %.1f out of range",
                            s->margin_percent);
    if (b) {
        if (b->n_devices < 1 || b->n_devices > HR_MAX_DEVICES)
            return hr_error_set(err, HR_ERR_ARG, "plan: budget has %d devices (1..%d)",
                                b->n_devices, HR_MAX_DEVICES);
        if (b->devices[0].kind != HR_DEVICE_HOST)
            return hr_error_set(err, HR_ERR_ARG, "plan: budget device 0 must be the host");
        for (int d = 1; d < b->n_devices; d++)
            if (b->devices[d].kind != HR_DEVICE_GPU)
                return hr_error_set(err, HR_ERR_ARG, "plan: budget device %d is not a GPU", d);
    }
    return HR_OK;
}

/* llama_context's constructor: n_ctx, streams and batch sizes. */
static hr_status resolve_context(const hr_model *m, const hr_settings *s, hr_plan *plan,
                                 hr_error *err)
{
    uint64_t n_ctx = s->n_ctx ? s->n_ctx : m->n_ctx_train;
    if (n_ctx == 0)
        return hr_error_set(err, HR_ERR_ARG,
                            "plan: model '%s' has no training context; set a context size",
                            m->name ? m->name : "?");
    const uint32_t n_seq = s->n_seq ? s->n_seq : 1;
    const uint64_t n_ctx_asked = n_ctx;
    n_ctx = hr_pad_u64(n_ctx, HR_CTX_PAD);
    uint64_t n_ctx_seq = n_ctx;
    if (!s->kv_unified) {
        n_ctx_seq = hr_pad_u64(n_ctx / n_seq, HR_CTX_PAD);
        if (n_ctx_seq == 0)
            return hr_error_set(err, HR_ERR_ARG,
                                "plan: context %llu is too small for %u sequences",
                                (unsigned long long)n_ctx, n_seq);
        n_ctx = n_ctx_seq * n_seq;
    }
    if (n_ctx > UINT32_MAX)
        return hr_error_set(err, HR_ERR_LIMIT, "plan: context of %llu cells is too large",
                            (unsigned long long)n_ctx);
    plan->n_ctx = (uint32_t)n_ctx;
    plan->n_ctx_seq = (uint32_t)n_ctx_seq;
    plan->n_seq = n_seq;
    if (s->n_ctx && plan->n_ctx != s->n_ctx) {
        /* "n_ctx %u becomes %u (padded to 256 per sequence)" */
        note_writer w = note_open(plan);
        note_text(&w, "n_ctx ");
        note_num(&w, s->n_ctx);
        note_text(&w, " becomes ");
        note_num(&w, plan->n_ctx);
        note_text(&w, " (padded to 256 per sequence)");
    }
    if (m->n_ctx_train && n_ctx_seq > m->n_ctx_train) {
        /* "context per sequence %llu exceeds the training context %u" */
        note_writer w = note_open(plan);
        note_text(&w, "context per sequence ");
        note_num(&w, n_ctx_seq);
        note_text(&w, " exceeds the training context ");
        note_num(&w, m->n_ctx_train);
    }

    /* with causal attention the batch is limited by the context asked for
     * (llama_context clamps n_batch before it pads n_ctx to 256) */
    plan->n_batch = m->causal && s->n_batch > n_ctx_asked ? (uint32_t)n_ctx_asked : s->n_batch;
    plan->n_ubatch = s->n_ubatch < plan->n_batch ? s->n_ubatch : plan->n_batch;
    if (plan->n_ubatch != s->n_ubatch) {
        /* "ubatch %u clamped to %u" */
        note_writer w = note_open(plan);
        note_text(&w, "ubatch ");
        note_num(&w, s->n_ubatch);
        note_text(&w, " clamped to ");
        note_num(&w, plan->n_ubatch);
    }
    plan->n_outputs = n_seq; /* output_reserve(n_seq_max) at start-up */
    return HR_OK;
}

static void fill_device(hr_plan_device *pd, const hr_budget_device *bd)
{
    memcpy(pd->name, bd->name, sizeof pd->name);
    pd->name[sizeof pd->name - 1] = '\0';
    pd->kind = bd->kind;
    pd->backend = bd->backend;
    pd->capacity_bytes = bd->capacity_bytes;
    pd->capacity_known = bd->capacity_known;
}

static bool add_u64(uint64_t *acc, uint64_t v)
{
    return !__builtin_add_overflow(*acc, v, acc);
}

hr_status hr_plan_compute_cached(const hr_model *model, const hr_settings *settings,
                                 const hr_budget *budget, hr_plan *out, hr_plan_cache *cache,
                                 hr_error *err)
{
    if (!out)
        return hr_error_set(err, HR_ERR_ARG, "plan: no output");
    bool layers_alike = false;
    hr_status rc = check_inputs(model, settings, budget, &layers_alike, err);
    if (rc != HR_OK)
        return rc;
    const hr_model *m = model;
    const hr_settings *s = settings;
    hr_plan *plan = out;
    memset(plan, 0, sizeof *plan);

    rc = resolve_context(m, s, plan, err);
    if (rc != HR_OK)
        return rc;

    /* flash attention: auto resolves on when the layer's device runs the
     * FLASH_ATTN_EXT op; the CPU, CUDA, ROCm, Metal and Vulkan backends all do */
    plan->flash_attn = s->flash_attn != HR_FA_OFF;
    plan->type_k = s->type_k;
    plan->type_v = s->type_v;
    if (!plan->flash_attn && hr_type_get(s->type_v)->quantized)
        return hr_error_set(err, HR_ERR_ARG,
                            "plan: quantized V cache (%s) needs flash attention",
                            type_name(s->type_v));
    plan->weights_ftype = s->target_ftype != HR_FTYPE_UNKNOWN ? s->target_ftype : m->ftype;

    /* devices: the host, then (GPU mode) every GPU of the budget: llama.cpp
     * starts a backend, with its context and pools, on each of them */
    hr_budget_device host_only;
    const hr_budget_device *host = budget ? &budget->devices[0] : NULL;
    if (!host) {
        memset(&host_only, 0, sizeof host_only);
        snprintf(host_only.name, sizeof host_only.name, "host");
        host_only.kind = HR_DEVICE_HOST;
        host_only.backend = HR_BACKEND_CPU;
        host = &host_only;
    }
    int n_gpus = budget && s->mode == HR_MODE_GPU ? budget->n_devices - 1 : 0;
    const hr_budget_device *gpus = budget ? &budget->devices[1] : NULL;
    plan->n_devices = 1 + n_gpus;
    fill_device(&plan->devices[0], host);
    plan->devices[0].kind = HR_DEVICE_HOST;
    plan->devices[0].backend = HR_BACKEND_CPU;

    hr_backend backends[HR_MAX_DEVICES];
    uint32_t alignment[HR_MAX_DEVICES];
    const uint32_t host_align = s->runtime.host_alignment ? s->runtime.host_alignment : 32;
    const uint32_t dev_align = s->runtime.device_alignment ? s->runtime.device_alignment : 128;
    backends[0] = HR_BACKEND_CPU;
    alignment[0] = host_align;
    for (int g = 0; g < n_gpus; g++) {
        fill_device(&plan->devices[1 + g], &gpus[g]);
        plan->devices[1 + g].kind = HR_DEVICE_GPU;
        backends[1 + g] = gpus[g].backend;
        alignment[1 + g] = dev_align;
    }

    hr_placement place;
    hr_place_init(&place, m, s, gpus, n_gpus);
    plan->n_gpu_layers = place.n_gpu_layers;
    for (int d = 0; d < plan->n_devices; d++) {
        plan->devices[d].layer_begin = 0;
        plan->devices[d].layer_end = 0;
    }
    /* contiguous block ranges per device: the host holds the blocks before
     * i_gpu_start (hr_place_device), the GPUs share the rest */
    {
        int32_t begin[HR_MAX_DEVICES], end[HR_MAX_DEVICES];
        for (int d = 0; d < plan->n_devices; d++)
            begin[d] = end[d] = -1;
        const int32_t n_layer = (int32_t)m->n_layer;
        const int32_t gpu_from = place.n_gpu_layers <= 0 ? n_layer
                                 : place.i_gpu_start < n_layer ? place.i_gpu_start : n_layer;
        if (gpu_from > 0) {
            begin[0] = 0;
            end[0] = gpu_from;
        }
        for (int32_t il = gpu_from; il < n_layer; il++) {
            const int d = hr_place_device(&place, il);
            if (begin[d] < 0)
                begin[d] = il;
            end[d] = il + 1;
            if (place.n_gpus == 1) { /* one GPU: every block from here on */
                end[d] = n_layer;
                break;
            }
        }
        for (int d = 0; d < plan->n_devices; d++)
            if (begin[d] >= 0) {
                plan->devices[d].layer_begin = begin[d];
                plan->devices[d].layer_end = end[d];
            }
    }

    uint64_t weights[HR_MAX_DEVICES] = {0}, kv[HR_MAX_DEVICES] = {0};
    if (cache && cache->weights_valid) {
        memcpy(weights, cache->weights, sizeof weights);
    } else if (cache && cache->planner) {
        rc = hr_planner_weights(cache->planner, s, &place, backends, alignment, plan->n_devices,
                                weights, err);
        if (rc != HR_OK)
            return rc;
    } else {
        rc = hr_plan_weights(m, s, &place, backends, alignment, weights, err);
        if (rc != HR_OK)
            return rc;
        if (cache) {
            memcpy(cache->weights, weights, sizeof weights);
            cache->weights_valid = true;
        }
    }

    /* KV cells: per stream n_ctx_seq (full) and the sliding-window size
     * PAD(min(n_ctx_seq, n_swa * (unified ? n_seq : 1) + n_ubatch), 256) */
    const uint32_t n_stream = s->kv_unified ? 1 : plan->n_seq;
    uint64_t swa_per_stream = plan->n_ctx_seq;
    if (m->n_swa > 0 && !s->swa_full) {
        const uint64_t want = (uint64_t)m->n_swa * (s->kv_unified ? plan->n_seq : 1) + plan->n_ubatch;
        swa_per_stream = hr_pad_u64(want < plan->n_ctx_seq ? want : plan->n_ctx_seq, HR_CTX_PAD);
    }
    const bool no_memory = hr_plan_arch_has_no_memory(m);
    hr_kv_input kin = {
        .cells_full = plan->n_ctx_seq * n_stream,
        .cells_swa = (uint32_t)(swa_per_stream * n_stream),
        .n_seq = plan->n_seq,
        .flash_attn = plan->flash_attn,
        .type_k = s->type_k,
        .type_v = s->type_v,
        .offload = s->offload_kv,
        .alignment = alignment,
        .layers_alike = layers_alike,
    };
    hr_kv_result kres;
    rc = hr_plan_kv(m, &kin, &place, kv, &kres, err);
    if (rc != HR_OK)
        return rc;
    plan->kv_cells = no_memory ? 0 : kin.cells_full;
    plan->kv_cells_swa = no_memory || kres.n_layer_swa == 0 ? 0 : kin.cells_swa;
    plan->n_layer_kv = kres.n_layer_kv;
    plan->n_layer_swa = kres.n_layer_swa;
    plan->n_layer_recurrent = kres.n_layer_recurrent;
    plan->kv_k_bytes = kres.k_bytes;
    plan->kv_v_bytes = kres.v_bytes;
    plan->kv_swa_k_bytes = kres.swa_k_bytes;
    plan->kv_swa_v_bytes = kres.swa_v_bytes;
    plan->recurrent_bytes = kres.recurrent_bytes;

    /* output buffer: logits (+ embeddings) for n_seq_max rows, f32, in host
     * memory (the output device's host buffer type on GPU runs) */
    uint64_t output = ((uint64_t)m->n_vocab + (s->embeddings ? m->n_embd : 0)) * plan->n_outputs * 4u;

    /* compute buffers: the worst-case ubatch over every stream. The settings
     * it gets hold only what the compute module reads (compute.h), resolved,
     * so its caches do not miss over a margin or a what-if change */
    hr_settings resolved;
    memset(&resolved, 0, sizeof resolved);
    resolved.mode = s->mode;
    resolved.embeddings = s->embeddings;
    resolved.n_ctx = plan->n_ctx;
    resolved.n_batch = plan->n_batch;
    resolved.n_ubatch = plan->n_ubatch;
    resolved.n_seq = plan->n_seq;
    resolved.flash_attn = plan->flash_attn ? HR_FA_ON : HR_FA_OFF;
    hr_compute_input cin;
    memset(&cin, 0, sizeof cin);
    cin.model = m;
    cin.settings = &resolved;
    cin.n_tokens = plan->n_ubatch < plan->n_ctx ? plan->n_ubatch : plan->n_ctx;
    cin.n_outputs = cin.n_tokens;
    cin.n_seq = n_stream;
    cin.n_kv = no_memory ? cin.n_tokens : plan->n_ctx_seq; /* cells per stream */
    cin.n_kv_swa = no_memory ? cin.n_tokens : (uint32_t)swa_per_stream;
    cin.flash_attn = plan->flash_attn;
    cin.type_k = s->type_k;
    cin.type_v = s->type_v;
    cin.n_gpu_layers = place.n_gpu_layers;
    cin.n_devices = plan->n_devices;
    for (int d = 0; d < plan->n_devices; d++) {
        cin.backends[d] = backends[d];
        cin.layer_begin[d] = plan->devices[d].layer_begin;
        cin.layer_end[d] = plan->devices[d].layer_end;
    }
    cin.output_on_gpu = hr_place_device(&place, (int32_t)m->n_layer) != 0;
    cin.offload_kv = s->offload_kv;
    /* the runtime's alignments: the GPUs' buffers, and in a GPU run the
     * host's compute buffer, which is the GPU's host buffer type */
    for (int d = 1; d < plan->n_devices; d++)
        cin.align[d] = alignment[d];
    cin.align[0] = plan->n_devices > 1 ? alignment[0] : 0;
    cin.layers_alike = layers_alike;
    cin.work = cache ? cache->work : NULL;
    hr_compute_output cout;
    memset(&cout, 0, sizeof cout);
    /* recurrent layers are built by the compute module too (Mamba's graph;
     * RWKV approximated with it) */
    if (cache && cache->planner)
        rc = hr_planner_compute(cache->planner, &cin, &cout, err);
    else
        rc = hr_compute_estimate_cached(&cin, cache ? cache->compute : NULL, &cout, err);
    if (rc != HR_OK)
        return rc;
    if (cout.lower_bound)
        add_note(plan, "compute buffers: the reserve graph outgrew the replay's room; "
                       "the figure is a lower bound");

    /* lay everything onto the devices */
    for (int d = 0; d < plan->n_devices; d++) {
        hr_plan_device *pd = &plan->devices[d];
        pd->bytes[HR_COMP_WEIGHTS] = weights[d];
        pd->bytes[HR_COMP_KV] = kv[d];
        pd->bytes[HR_COMP_COMPUTE] = cout.device_bytes[d];
        if (d == 0) {
            pd->bytes[HR_COMP_OUTPUT] = output;
            pd->bytes[HR_COMP_OVERHEAD] = s->runtime.host_overhead_bytes;
            if (!add_u64(&pd->bytes[HR_COMP_COMPUTE], cout.host_side_bytes))
                return hr_error_set(err, HR_ERR_LIMIT, "plan: size overflows");
            if (s->use_mmap)
                pd->weights_mapped_bytes = weights[0];
        } else {
            pd->bytes[HR_COMP_OVERHEAD] = s->runtime.device_overhead_bytes;
            /* the CPU backend's buffers use the first GPU's host buffer type */
            if (d == 1)
                pd->compute_host_bytes = cout.host_side_bytes;
        }
        uint64_t total = 0;
        for (int c = 0; c < HR_COMP_MARGIN; c++)
            if (!add_u64(&total, pd->bytes[c]))
                return hr_error_set(err, HR_ERR_LIMIT, "plan: size overflows");
        const double pct = (double)total * s->margin_percent / 100.0;
        if (pct >= 1.8e19) /* beyond uint64_t */
            return hr_error_set(err, HR_ERR_LIMIT, "plan: margin overflows");
        pd->bytes[HR_COMP_MARGIN] = (uint64_t)pct;
        if (!add_u64(&pd->bytes[HR_COMP_MARGIN], s->margin_bytes) ||
            !add_u64(&total, pd->bytes[HR_COMP_MARGIN]))
            return hr_error_set(err, HR_ERR_LIMIT, "plan: size overflows");
        pd->total_bytes = total;
        if (pd->capacity_known) {
            pd->fits = total <= pd->capacity_bytes;
            pd->headroom_bytes = (int64_t)pd->capacity_bytes - (int64_t)total;
        } else {
            pd->fits = true;
            pd->headroom_bytes = 0;
        }
        for (int c = 0; c < HR_COMP_COUNT; c++)
            if (!add_u64(&plan->bytes[c], pd->bytes[c]))
                return hr_error_set(err, HR_ERR_LIMIT, "plan: size overflows");
        if (!add_u64(&plan->total_bytes, total))
            return hr_error_set(err, HR_ERR_LIMIT, "plan: size overflows");
    }
    /* a unified-memory GPU (Apple, Jetson, GH200) draws on the host's RAM:
     * the host must hold its own plan and that GPU's */
    bool any_unified = false;
    uint64_t host_need = plan->devices[0].total_bytes;
    for (int g = 0; g < n_gpus; g++)
        if (gpus[g].unified) {
            any_unified = true;
            if (!add_u64(&host_need, plan->devices[1 + g].total_bytes))
                return hr_error_set(err, HR_ERR_LIMIT, "plan: size overflows");
        }
    if (any_unified && plan->devices[0].capacity_known) {
        plan->devices[0].fits = host_need <= plan->devices[0].capacity_bytes;
        plan->devices[0].headroom_bytes =
            (int64_t)plan->devices[0].capacity_bytes - (int64_t)host_need;
        add_note(plan, "unified memory: the host's headroom counts the GPU's share");
    }
    plan->fits = true;
    for (int d = 0; d < plan->n_devices; d++)
        if (!plan->devices[d].fits)
            plan->fits = false;
    if (no_memory)
        add_note(plan, "encoder-only architecture: llama.cpp keeps no KV cache");
    return HR_OK;
}

hr_status hr_plan_compute(const hr_model *model, const hr_settings *settings,
                          const hr_budget *budget, hr_plan *out, hr_error *err)
{
    return hr_plan_compute_cached(model, settings, budget, out, NULL, err);
}
