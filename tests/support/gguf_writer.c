/* GGUF fixture writer (see gguf_writer.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf/gguf_types.h"
#include "gguf_writer.h"

#define GW_MAX_DIMS 16
#define GW_DEFAULT_ALIGNMENT 32u

typedef struct gw_kv {
    char *key;
    uint32_t type;          /* type field as written */
    uint32_t elem_type;     /* arrays */
    uint64_t n;             /* arrays: element count */
    unsigned char *payload; /* scalars/arrays: native values; strings: bytes; raw: verbatim */
    size_t payload_len;
    char **strings;         /* string arrays */
    bool raw;
} gw_kv;

typedef struct gw_tensor {
    char *name;
    uint32_t type_id;
    uint32_t n_dims;
    uint64_t dims[GW_MAX_DIMS];
    uint64_t bytes;
    bool offset_set;
    uint64_t offset;
} gw_tensor;

struct gguf_writer {
    uint32_t version;
    char magic[4];
    uint32_t version_field;
    uint64_t claim_tensors, claim_kv;
    bool big_endian;
    uint32_t alignment;     /* used for layout */
    bool failed;
    uint64_t file_size_override;
    bool has_file_size_override;
    gw_kv *kv;
    size_t n_kv, cap_kv;
    gw_tensor *tensors;
    size_t n_tensors, cap_tensors;
};

typedef struct gw_buf {
    unsigned char *data;
    size_t len, cap;
    bool failed;
    bool big_endian;
    uint32_t version;
} gw_buf;

static void free_kv(gw_kv *kv);

/* ---- setup ---- */

gguf_writer *gguf_writer_new(uint32_t version)
{
    gguf_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->version = version;
    w->version_field = version;
    memcpy(w->magic, "GGUF", 4);
    w->claim_tensors = w->claim_kv = GGUF_WRITER_ACTUAL;
    w->alignment = GW_DEFAULT_ALIGNMENT;
    return w;
}

void gguf_writer_free(gguf_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_kv; i++)
        free_kv(&w->kv[i]);
    for (size_t i = 0; i < w->n_tensors; i++)
        free(w->tensors[i].name);
    free(w->kv);
    free(w->tensors);
    free(w);
}

static gw_kv *new_kv(gguf_writer *w, const char *key, uint32_t type)
{
    if (!w || w->failed)
        return NULL;
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        gw_kv *kv = realloc(w->kv, cap * sizeof *kv);
        if (!kv) {
            w->failed = true;
            return NULL;
        }
        w->kv = kv;
        w->cap_kv = cap;
    }
    gw_kv *kv = &w->kv[w->n_kv];
    memset(kv, 0, sizeof *kv);
    kv->key = strdup(key ? key : "");
    kv->type = type;
    kv->n = 1;
    if (!kv->key) {
        w->failed = true;
        return NULL;
    }
    w->n_kv++;
    return kv;
}

static void set_payload(gguf_writer *w, gw_kv *kv, const void *data, size_t len)
{
    if (!kv)
        return;
    kv->payload = malloc(len ? len : 1);
    if (!kv->payload) {
        w->failed = true;
        return;
    }
    if (len)
        memcpy(kv->payload, data, len);
    kv->payload_len = len;
}

static void add_scalar(gguf_writer *w, const char *key, uint32_t type, const void *v, size_t len)
{
    set_payload(w, new_kv(w, key, type), v, len);
}

void gguf_writer_add_u8(gguf_writer *w, const char *key, uint8_t v) { add_scalar(w, key, GW_UINT8, &v, 1); }
void gguf_writer_add_i8(gguf_writer *w, const char *key, int8_t v) { add_scalar(w, key, GW_INT8, &v, 1); }
void gguf_writer_add_u16(gguf_writer *w, const char *key, uint16_t v) { add_scalar(w, key, GW_UINT16, &v, 2); }
void gguf_writer_add_i16(gguf_writer *w, const char *key, int16_t v) { add_scalar(w, key, GW_INT16, &v, 2); }
void gguf_writer_add_u32(gguf_writer *w, const char *key, uint32_t v) { add_scalar(w, key, GW_UINT32, &v, 4); }
void gguf_writer_add_i32(gguf_writer *w, const char *key, int32_t v) { add_scalar(w, key, GW_INT32, &v, 4); }
void gguf_writer_add_f32(gguf_writer *w, const char *key, float v) { add_scalar(w, key, GW_FLOAT32, &v, 4); }
void gguf_writer_add_u64(gguf_writer *w, const char *key, uint64_t v) { add_scalar(w, key, GW_UINT64, &v, 8); }
void gguf_writer_add_i64(gguf_writer *w, const char *key, int64_t v) { add_scalar(w, key, GW_INT64, &v, 8); }
void gguf_writer_add_f64(gguf_writer *w, const char *key, double v) { add_scalar(w, key, GW_FLOAT64, &v, 8); }

void gguf_writer_add_bool(gguf_writer *w, const char *key, bool v)
{
    uint8_t b = v ? 1 : 0;
    add_scalar(w, key, GW_BOOL, &b, 1);
}

void gguf_writer_add_string(gguf_writer *w, const char *key, const char *v)
{
    add_scalar(w, key, GW_STRING, v ? v : "", v ? strlen(v) : 0);
}

/* Size of one element of a scalar type; 0 for string/array/unknown. */
static size_t scalar_size(uint32_t type)
{
    static const uint8_t SIZES[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return type < sizeof SIZES ? SIZES[type] : 0;
}

void gguf_writer_add_array(gguf_writer *w, const char *key, gguf_writer_vtype elem_type,
                           const void *values, uint64_t n)
{
    size_t elem = scalar_size(elem_type);
    if (!w || elem == 0 || (n && !values)) {
        if (w)
            w->failed = true;
        return;
    }
    gw_kv *kv = new_kv(w, key, GW_ARRAY);
    if (!kv)
        return;
    kv->elem_type = elem_type;
    kv->n = n;
    if (elem_type == GW_BOOL) {
        /* bool's C size may differ from GGUF's one byte */
        unsigned char *b = malloc(n ? n : 1);
        if (!b) {
            w->failed = true;
            return;
        }
        for (uint64_t i = 0; i < n; i++)
            b[i] = ((const bool *)values)[i] ? 1 : 0;
        kv->payload = b;
        kv->payload_len = n;
        return;
    }
    set_payload(w, kv, values, (size_t)(n * elem));
}

void gguf_writer_add_string_array(gguf_writer *w, const char *key, const char *const *values,
                                  uint64_t n)
{
    gw_kv *kv = new_kv(w, key, GW_ARRAY);
    if (!kv)
        return;
    kv->elem_type = GW_STRING;
    kv->n = 0;
    kv->strings = calloc(n ? n : 1, sizeof *kv->strings);
    if (!kv->strings) {
        w->failed = true;
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        kv->strings[i] = strdup(values[i] ? values[i] : "");
        if (!kv->strings[i]) {
            w->failed = true;
            return;
        }
        kv->n = i + 1;
    }
}

/* A SentencePiece vocabulary needs its default specials (ids 0-2) and the
 * 256 byte tokens (llama.cpp looks up "<0x0A>"). */
#define SPM_SPECIALS 3u
#define SPM_BYTES 256u

/* Tokens llama.cpp looks up by text for some model names (phi-3, jina). */
static const char *const NAMED_TOKENS[] = {"<|endoftext|>", "<mask>"};
#define N_NAMED ((uint32_t)(sizeof NAMED_TOKENS / sizeof NAMED_TOKENS[0]))

/* Token i of the dummy vocabularies. */
static void dummy_token(char *buf, size_t len, uint32_t i, bool spm)
{
    static const char *const SPECIAL[SPM_SPECIALS] = {"<unk>", "<s>", "</s>"};
    if (spm && i < SPM_SPECIALS)
        snprintf(buf, len, "%s", SPECIAL[i]);
    else if (spm && i < SPM_SPECIALS + SPM_BYTES)
        snprintf(buf, len, "<0x%02X>", i - SPM_SPECIALS);
    else if (spm && i < SPM_SPECIALS + SPM_BYTES + N_NAMED)
        snprintf(buf, len, "%s", NAMED_TOKENS[i - SPM_SPECIALS - SPM_BYTES]);
    else
        snprintf(buf, len, "t%u", i);
}

static void add_tokens(gguf_writer *w, uint32_t n, bool spm)
{
    char **tokens = calloc(n ? n : 1, sizeof *tokens);
    if (!tokens) {
        if (w)
            w->failed = true;
        return;
    }
    char buf[16];
    uint32_t made = 0;
    for (; made < n; made++) {
        dummy_token(buf, sizeof buf, made, spm);
        if (!(tokens[made] = strdup(buf)))
            break;
    }
    if (made == n)
        gguf_writer_add_string_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n);
    else if (w)
        w->failed = true;
    for (uint32_t i = 0; i < made; i++)
        free(tokens[i]);
    free(tokens);
}

void gguf_writer_add_dummy_tokens(gguf_writer *w, uint32_t n)
{
    add_tokens(w, n, false);
}

void gguf_writer_add_dummy_vocab(gguf_writer *w, uint32_t n)
{
    float *scores = calloc(n ? n : 1, sizeof *scores);
    int32_t *types = calloc(n ? n : 1, sizeof *types);
    if (!scores || !types) {
        free(scores);
        free(types);
        if (w)
            w->failed = true;
        return;
    }
    enum { TOKEN_NORMAL = 1, TOKEN_UNKNOWN = 2, TOKEN_CONTROL = 3, TOKEN_BYTE = 6 };
    for (uint32_t i = 0; i < n; i++)
        types[i] = i == 0                            ? TOKEN_UNKNOWN
                   : i < SPM_SPECIALS                ? TOKEN_CONTROL
                   : i < SPM_SPECIALS + SPM_BYTES    ? TOKEN_BYTE
                   : i < SPM_SPECIALS + SPM_BYTES + N_NAMED ? TOKEN_CONTROL
                                                     : TOKEN_NORMAL;
    gguf_writer_add_string(w, "tokenizer.ggml.model", "llama");
    add_tokens(w, n, true);
    gguf_writer_add_array(w, "tokenizer.ggml.scores", GW_FLOAT32, scores, n);
    gguf_writer_add_array(w, "tokenizer.ggml.token_type", GW_INT32, types, n);
    free(scores);
    free(types);
}

static void free_kv(gw_kv *kv)
{
    free(kv->key);
    free(kv->payload);
    if (kv->strings)
        for (uint64_t j = 0; j < kv->n; j++)
            free(kv->strings[j]);
    free(kv->strings);
}

int gguf_writer_remove_key(gguf_writer *w, const char *key)
{
    if (!w || !key)
        return 0;
    size_t kept = 0;
    int removed = 0;
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, key) == 0) {
            free_kv(&w->kv[i]);
            removed++;
        } else {
            w->kv[kept++] = w->kv[i];
        }
    }
    w->n_kv = kept;
    return removed;
}

void gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment)
{
    if (!w)
        return;
    gguf_writer_add_u32(w, "general.alignment", alignment);
    bool pow2 = alignment != 0 && (alignment & (alignment - 1)) == 0;
    w->alignment = pow2 ? alignment : GW_DEFAULT_ALIGNMENT;
}

/* ---- tensors ---- */

int gguf_writer_add_tensor_raw(gguf_writer *w, const char *name, uint32_t type_id,
                               uint32_t n_dims, const uint64_t *dims, uint64_t data_bytes)
{
    if (!w || w->failed || n_dims > GW_MAX_DIMS || (n_dims && !dims)) {
        if (w)
            w->failed = true;
        return -1;
    }
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 16;
        gw_tensor *t = realloc(w->tensors, cap * sizeof *t);
        if (!t) {
            w->failed = true;
            return -1;
        }
        w->tensors = t;
        w->cap_tensors = cap;
    }
    gw_tensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name ? name : "");
    if (!t->name) {
        w->failed = true;
        return -1;
    }
    t->type_id = type_id;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < n_dims; d++)
        t->dims[d] = dims[d];
    t->bytes = data_bytes;
    return (int)w->n_tensors++;
}

int gguf_writer_add_tensor(gguf_writer *w, const char *name, hr_type type, uint32_t n_dims,
                           const int64_t *ne)
{
    if (!w || n_dims > 4 || (n_dims && !ne) || (int)type >= 200 || (int)type < 0) {
        if (w)
            w->failed = true;
        return -1;
    }
    int64_t full[4] = {1, 1, 1, 1};
    uint64_t dims[4];
    for (uint32_t d = 0; d < n_dims; d++) {
        full[d] = ne[d];
        dims[d] = (uint64_t)ne[d];
    }
    uint64_t bytes = 0;
    if (hr_type_tensor_bytes(type, full, &bytes, NULL) != HR_OK) {
        w->failed = true;
        return -1;
    }
    return gguf_writer_add_tensor_raw(w, name, gguf_type_to_file(type), n_dims, dims, bytes);
}

/* ---- raw mode ---- */

void gguf_writer_set_header(gguf_writer *w, const char magic[4], uint32_t version_field)
{
    if (!w)
        return;
    memcpy(w->magic, magic, 4);
    w->version_field = version_field;
}

void gguf_writer_claim_counts(gguf_writer *w, uint64_t n_tensors, uint64_t n_kv)
{
    if (!w)
        return;
    w->claim_tensors = n_tensors;
    w->claim_kv = n_kv;
}

void gguf_writer_set_big_endian(gguf_writer *w, bool big_endian)
{
    if (w)
        w->big_endian = big_endian;
}

void gguf_writer_add_kv_raw(gguf_writer *w, const char *key, uint32_t type_field,
                            const void *value_bytes, size_t len)
{
    gw_kv *kv = new_kv(w, key, type_field);
    if (!kv)
        return;
    kv->raw = true;
    set_payload(w, kv, value_bytes, len);
}

void gguf_writer_set_tensor_offset(gguf_writer *w, int index, uint64_t offset)
{
    if (!w || index < 0 || (size_t)index >= w->n_tensors) {
        if (w)
            w->failed = true;
        return;
    }
    w->tensors[index].offset_set = true;
    w->tensors[index].offset = offset;
}

void gguf_writer_set_file_size(gguf_writer *w, uint64_t size)
{
    if (!w)
        return;
    w->file_size_override = size;
    w->has_file_size_override = true;
}

/* ---- serialisation ---- */

static void put_bytes(gw_buf *b, const void *data, size_t len)
{
    if (b->failed)
        return;
    if (b->cap - b->len < len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < len)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* A native value of `size` bytes in the file's byte order. */
static void put_value(gw_buf *b, const void *native, size_t size)
{
    unsigned char tmp[8];
    uint64_t v = 0;
    memcpy(&v, native, size); /* little-endian host assumed, as everywhere in headroom */
    for (size_t i = 0; i < size; i++) {
        size_t shift = b->big_endian ? (size - 1 - i) : i;
        tmp[i] = (unsigned char)(v >> (8 * shift));
    }
    put_bytes(b, tmp, size);
}

static void put_u32(gw_buf *b, uint32_t v) { put_value(b, &v, 4); }
static void put_u64(gw_buf *b, uint64_t v) { put_value(b, &v, 8); }

static void put_size(gw_buf *b, uint64_t v)
{
    if (b->version == 1)
        put_u32(b, (uint32_t)v);
    else
        put_u64(b, v);
}

static void put_string(gw_buf *b, const char *s, size_t len)
{
    put_size(b, len);
    put_bytes(b, s, len);
}

static void put_kv(gw_buf *b, const gw_kv *kv)
{
    put_string(b, kv->key, strlen(kv->key));
    put_u32(b, kv->type);
    if (kv->raw) {
        put_bytes(b, kv->payload, kv->payload_len);
        return;
    }
    if (kv->type == GW_STRING) {
        put_string(b, (const char *)kv->payload, kv->payload_len);
        return;
    }
    if (kv->type != GW_ARRAY) {
        put_value(b, kv->payload, scalar_size(kv->type));
        return;
    }
    put_u32(b, kv->elem_type);
    put_size(b, kv->n);
    if (kv->elem_type == GW_STRING) {
        for (uint64_t i = 0; i < kv->n; i++)
            put_string(b, kv->strings[i], strlen(kv->strings[i]));
        return;
    }
    size_t elem = scalar_size(kv->elem_type);
    for (uint64_t i = 0; i < kv->n; i++)
        put_value(b, kv->payload + i * elem, elem);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

int gguf_writer_serialize(gguf_writer *w, unsigned char **out, size_t *len,
                          gguf_writer_layout *layout)
{
    *out = NULL;
    *len = 0;
    if (!w || w->failed)
        return -1;
    gw_buf b = {.big_endian = w->big_endian, .version = w->version};
    gguf_writer_layout lay = {0};
    put_bytes(&b, w->magic, 4);
    put_u32(&b, w->version_field);
    put_size(&b, w->claim_tensors != GGUF_WRITER_ACTUAL ? w->claim_tensors : w->n_tensors);
    put_size(&b, w->claim_kv != GGUF_WRITER_ACTUAL ? w->claim_kv : w->n_kv);
    lay.kv_start = b.len;
    for (size_t i = 0; i < w->n_kv; i++)
        put_kv(&b, &w->kv[i]);
    lay.tensor_info_start = b.len;
    uint64_t cursor = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const gw_tensor *t = &w->tensors[i];
        put_string(&b, t->name, strlen(t->name));
        put_u32(&b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++)
            put_size(&b, t->dims[d]);
        put_u32(&b, t->type_id);
        put_u64(&b, t->offset_set ? t->offset : cursor);
        cursor = align_up(cursor + t->bytes, w->alignment);
    }
    lay.header_end = b.len;
    lay.data_start = align_up(b.len, w->alignment);
    static const unsigned char zeros[256];
    while (!b.failed && b.len < lay.data_start) {
        size_t pad = (size_t)(lay.data_start - b.len);
        put_bytes(&b, zeros, pad < sizeof zeros ? pad : sizeof zeros);
    }
    lay.data_bytes = cursor;
    lay.file_size = w->has_file_size_override ? w->file_size_override : lay.data_start + cursor;
    if (b.failed) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    *len = b.len;
    if (layout)
        *layout = lay;
    return 0;
}

int gguf_writer_write(gguf_writer *w, const char *path)
{
    unsigned char *buf;
    size_t len;
    gguf_writer_layout lay;
    if (gguf_writer_serialize(w, &buf, &len, &lay) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(buf);
        return -1;
    }
    size_t to_write = lay.file_size < len ? (size_t)lay.file_size : len;
    size_t done = 0;
    int rc = 0;
    while (done < to_write) {
        ssize_t n = write(fd, buf + done, to_write - done);
        if (n <= 0) {
            rc = -1;
            break;
        }
        done += (size_t)n;
    }
    if (rc == 0 && ftruncate(fd, (off_t)lay.file_size) != 0)
        rc = -1;
    if (close(fd) != 0)
        rc = -1;
    free(buf);
    return rc;
}

/* ---- from a model ---- */

static char *arch_key(char *buf, size_t len, const char *arch, const char *suffix)
{
    snprintf(buf, len, "%s.%s", arch, suffix);
    return buf;
}

/* Scalar when every layer agrees, per-layer u32 array otherwise. */
/* moe_fill: value written for layers whose field is 0 because they are MoE
 * only (feed_forward_length: the converter writes the config's
 * intermediate_size, which llama.cpp's llama arch sizes its experts by). */
static void add_per_layer_fill(gguf_writer *w, const char *key, const hr_model *m,
                               size_t field_offset, uint32_t moe_fill)
{
    uint32_t *vals = calloc(m->n_layer ? m->n_layer : 1, sizeof *vals);
    if (!vals) {
        w->failed = true;
        return;
    }
    bool same = true;
    for (uint32_t i = 0; i < m->n_layer; i++) {
        memcpy(&vals[i], (const char *)&m->layers[i] + field_offset, sizeof vals[i]);
        if (vals[i] == 0 && m->layers[i].n_expert)
            vals[i] = moe_fill;
        same = same && vals[i] == vals[0];
    }
    if (same)
        gguf_writer_add_u32(w, key, m->n_layer ? vals[0] : 0);
    else
        gguf_writer_add_array(w, key, GW_UINT32, vals, m->n_layer);
    free(vals);
}

static void add_per_layer(gguf_writer *w, const char *key, const hr_model *m,
                          size_t field_offset)
{
    add_per_layer_fill(w, key, m, field_offset, 0);
}

static void add_nonzero_u32(gguf_writer *w, const char *key, uint32_t v)
{
    if (v)
        gguf_writer_add_u32(w, key, v);
}

static const hr_tensor *model_tensor(const hr_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

/* MLA head lengths as the converters write them. With split attn_k_b /
 * attn_v_b (current converter): key/value_length are the cache dims
 * (kv_lora_rank + rope, kv_lora_rank) and the *_mla keys the per-head dims;
 * with a fused attn_kv_b (older files): key/value_length are per-head dims. */
static void add_mla_lengths(gguf_writer *w, const hr_model *m, const char *arch)
{
    char k[320];
    const hr_tensor *k_b = model_tensor(m, "blk.0.attn_k_b.weight");
    const hr_tensor *v_b = model_tensor(m, "blk.0.attn_v_b.weight");
    const hr_tensor *kv_b = model_tensor(m, "blk.0.attn_kv_b.weight");
    const hr_tensor *q = model_tensor(m, "blk.0.attn_q_b.weight");
    if (!q)
        q = model_tensor(m, "blk.0.attn_q.weight");
    uint32_t n_head = m->n_layer ? m->layers[0].n_head : 0;
    if (k_b && v_b) {
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "attention.key_length"),
                            m->n_lora_kv + m->n_rot);
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "attention.value_length"),
                            m->n_lora_kv);
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "attention.key_length_mla"),
                            (uint32_t)k_b->ne[0] + m->n_rot);
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "attention.value_length_mla"),
                            (uint32_t)v_b->ne[1]);
    } else if (kv_b && q && n_head) {
        uint32_t head_k = (uint32_t)(q->ne[1] / n_head);
        uint32_t nope = head_k > m->n_rot ? head_k - m->n_rot : 0;
        uint32_t per_head = (uint32_t)(kv_b->ne[1] / n_head);
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "attention.key_length"), head_k);
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "attention.value_length"),
                            per_head > nope ? per_head - nope : 0);
    }
}

/* RWKV low-rank sizes llama.cpp requires, read off the tensors (the model
 * keeps no field for them). */
static void add_rwkv_ranks(gguf_writer *w, const hr_model *m, const char *arch)
{
    static const struct { const char *tensor, *key; bool per5; } RANKS[] = {
        {"blk.0.time_mix_w1.weight", "time_mix_extra_dim", true},          /* rwkv6 */
        {"blk.0.time_mix_decay_w1.weight", "time_decay_extra_dim", false}, /* rwkv6 */
        {"blk.0.time_mix_w0.weight", NULL, false},                          /* rwkv7 marker */
    };
    char k[320];
    if (!model_tensor(m, RANKS[2].tensor)) {
        for (int i = 0; i < 2; i++) {
            const hr_tensor *t = model_tensor(m, RANKS[i].tensor);
            if (t)
                gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, RANKS[i].key),
                                    (uint32_t)(RANKS[i].per5 ? t->ne[1] / 5 : t->ne[1]));
        }
        return;
    }
    static const struct { const char *tensor, *key; } R7[] = {
        {"blk.0.time_mix_w1.weight", "attention.decay_lora_rank"},
        {"blk.0.time_mix_a1.weight", "attention.iclr_lora_rank"},
        {"blk.1.time_mix_v1.weight", "attention.value_residual_mix_lora_rank"},
        {"blk.0.time_mix_g1.weight", "attention.gate_lora_rank"},
    };
    for (size_t i = 0; i < sizeof R7 / sizeof R7[0]; i++) {
        const hr_tensor *t = model_tensor(m, R7[i].tensor);
        if (!t && i == 2) /* one layer: layer 0's copy has the iclr rank */
            t = model_tensor(m, "blk.0.time_mix_v1.weight");
        if (t)
            gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, R7[i].key), (uint32_t)t->ne[1]);
    }
}

gguf_writer *gguf_writer_new_from_model(const hr_model *m)
{
    if (!m)
        return NULL;
    gguf_writer *w = gguf_writer_new(3);
    if (!w)
        return NULL;
    const char *arch = m->arch_name ? m->arch_name : hr_arch_name(m->arch);
    char k[320];
    gguf_writer_add_string(w, "general.architecture", arch);
    if (m->name)
        gguf_writer_add_string(w, "general.name", m->name);
    if (m->ftype != HR_FTYPE_UNKNOWN)
        gguf_writer_add_u32(w, "general.file_type", gguf_ftype_to_file(m->ftype));
    gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "context_length"), m->n_ctx_train);
    gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "embedding_length"), m->n_embd);
    gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "block_count"), m->n_layer);
    add_per_layer_fill(w, arch_key(k, sizeof k, arch, "feed_forward_length"), m,
                       offsetof(hr_layer, n_ff), m->n_ff ? m->n_ff : m->n_ff_exp);
    add_per_layer(w, arch_key(k, sizeof k, arch, "attention.head_count"), m,
                  offsetof(hr_layer, n_head));
    add_per_layer(w, arch_key(k, sizeof k, arch, "attention.head_count_kv"), m,
                  offsetof(hr_layer, n_head_kv));
    if (m->is_mla)
        add_mla_lengths(w, m, arch);
    else {
        add_nonzero_u32(w, arch_key(k, sizeof k, arch, "attention.key_length"), m->n_embd_head_k);
        add_nonzero_u32(w, arch_key(k, sizeof k, arch, "attention.value_length"),
                        m->n_embd_head_v);
    }
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "rope.dimension_count"), m->n_rot);
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "attention.kv_lora_rank"), m->n_lora_kv);
    /* deepseek2 requires q_lora_rank (0: no q compression) unless the layer
     * count is a known "lite" model's (26/27) */
    if (m->is_mla || m->n_lora_q)
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "attention.q_lora_rank"), m->n_lora_q);
    if (m->n_swa) {
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "attention.sliding_window"), m->n_swa);
        bool *swa = calloc(m->n_layer ? m->n_layer : 1, sizeof *swa);
        if (!swa) {
            gguf_writer_free(w);
            return NULL;
        }
        for (uint32_t i = 0; i < m->n_layer; i++)
            swa[i] = m->layers[i].is_swa;
        gguf_writer_add_array(w, arch_key(k, sizeof k, arch, "attention.sliding_window_pattern"),
                              GW_BOOL, swa, m->n_layer);
        free(swa);
    }
    if (m->n_expert) {
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "expert_count"), m->n_expert);
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "expert_used_count"), m->n_expert_used);
        add_nonzero_u32(w, arch_key(k, sizeof k, arch, "expert_shared_count"), m->n_expert_shared);
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "expert_feed_forward_length"),
                            m->n_ff_exp);
        add_nonzero_u32(w, arch_key(k, sizeof k, arch, "expert_shared_feed_forward_length"),
                        m->n_ff_shexp);
        add_nonzero_u32(w, arch_key(k, sizeof k, arch, "leading_dense_block_count"),
                        m->n_layer_dense_lead);
        /* required by llama.cpp for deepseek2 (no memory effect there);
         * Nemotron-H MoE scales its experts' weights by any but 0 and 1 */
        gguf_writer_add_f32(w, arch_key(k, sizeof k, arch, "expert_weights_scale"),
                            m->expert_weights_scale != 0.0f ? m->expert_weights_scale : 1.0f);
        if (m->expert_weights_norm)
            gguf_writer_add_bool(w, arch_key(k, sizeof k, arch, "expert_weights_norm"), true);
        if (m->arch == HR_ARCH_LFM2MOE) /* required there; sigmoid (no memory effect) */
            gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "expert_gating_func"), 2);
    }
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "ssm.conv_kernel"), m->ssm_d_conv);
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "ssm.inner_size"), m->ssm_d_inner);
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "ssm.state_size"), m->ssm_d_state);
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "ssm.time_step_rank"), m->ssm_dt_rank);
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "ssm.group_count"), m->ssm_n_group);
    /* Granite's multipliers: each present one adds a scale op */
    if (m->embedding_scale != 0.0f)
        gguf_writer_add_f32(w, arch_key(k, sizeof k, arch, "embedding_scale"), m->embedding_scale);
    if (m->residual_scale != 0.0f)
        gguf_writer_add_f32(w, arch_key(k, sizeof k, arch, "residual_scale"), m->residual_scale);
    if (m->no_rope)
        gguf_writer_add_bool(w, arch_key(k, sizeof k, arch, "rope.scaling.finetuned"), false);
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "wkv.head_size"), m->rwkv_head_size);
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "shortconv.l_cache"), m->shortconv_l_cache);
    if (m->arch == HR_ARCH_QWEN35 || m->arch == HR_ARCH_QWEN35MOE ||
        m->arch == HR_ARCH_QWEN3NEXT) { /* attention every Nth layer; rope sections (Qwen3.5) */
        uint32_t interval = 0;
        for (uint32_t i = 0; i < m->n_layer && !interval; i++)
            if (!m->layers[i].is_recurrent)
                interval = i + 1;
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "full_attention_interval"),
                            interval ? interval : m->n_layer + 1);
        const int32_t sections[4] = {(int32_t)(m->n_rot / 2), 0, 0, 0};
        gguf_writer_add_array(w, arch_key(k, sizeof k, arch, "rope.dimension_sections"), GW_INT32,
                              sections, 4);
    }
    if (m->rwkv_head_size)
        add_rwkv_ranks(w, m, arch);
    add_nonzero_u32(w, arch_key(k, sizeof k, arch, "attention.shared_kv_layers"),
                    m->n_shared_kv_layers);
    if (!m->causal)
        gguf_writer_add_bool(w, arch_key(k, sizeof k, arch, "attention.causal"), false);
    if (m->embedding_only)
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "pooling_type"),
                            m->pooling ? m->pooling : 1); /* MEAN by default */
    if (m->attn_logit_softcap != 0.0f)
        gguf_writer_add_f32(w, arch_key(k, sizeof k, arch, "attn_logit_softcapping"),
                            m->attn_logit_softcap);
    if (m->final_logit_softcap != 0.0f)
        gguf_writer_add_f32(w, arch_key(k, sizeof k, arch, "final_logit_softcapping"),
                            m->final_logit_softcap);
    /* Keys llama.cpp requires that headroom does not model: neutral values. */
    gguf_writer_add_f32(w, arch_key(k, sizeof k, arch, "attention.layer_norm_rms_epsilon"), 1e-6f);
    gguf_writer_add_f32(w, arch_key(k, sizeof k, arch, "attention.layer_norm_epsilon"), 1e-6f);
    /* command-r requires one; Granite scales its logits by any present */
    gguf_writer_add_f32(w, arch_key(k, sizeof k, arch, "logit_scale"),
                        m->logit_scale != 0.0f ? m->logit_scale : 1.0f);
    const hr_tensor *token_types = model_tensor(m, "token_types.weight");
    if (token_types) /* BERT-style encoders must declare it */
        gguf_writer_add_u32(w, "tokenizer.ggml.token_type_count",
                            token_types->n_dims >= 2 ? (uint32_t)token_types->ne[1] : 2);
    if (m->n_vocab) {
        gguf_writer_add_u32(w, arch_key(k, sizeof k, arch, "vocab_size"), m->n_vocab);
        gguf_writer_add_dummy_vocab(w, m->n_vocab);
    }
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        gguf_writer_add_tensor(w, t->name, t->type, t->n_dims ? t->n_dims : 1, t->ne);
    }
    if (w->failed) {
        gguf_writer_free(w);
        return NULL;
    }
    return w;
}

int gguf_writer_from_model(const hr_model *m, const char *path)
{
    gguf_writer *w = gguf_writer_new_from_model(m);
    if (!w)
        return -1;
    int rc = gguf_writer_write(w, path);
    gguf_writer_free(w);
    return rc;
}
