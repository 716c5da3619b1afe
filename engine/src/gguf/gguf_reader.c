/* GGUF parser: header, metadata and tensor infos of one file (v1, v2, v3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_reader.h"
#include "gguf_string_walk.h"

/* Smallest encodings, used to reject counts a file of this size cannot hold
 * before anything is allocated for them. */
#define MIN_KV_BYTES_V1 9      /* u32 key len + u32 type + 1-byte value */
#define MIN_KV_BYTES 13        /* u64 key len + u32 type + 1-byte value */
#define MIN_TENSOR_BYTES_V1 20 /* u32 name len + u32 n_dims + u32 type + u64 offset */
#define MIN_TENSOR_BYTES 24

typedef struct cursor {
    const char *path;
    const unsigned char *data;
    uint64_t size;
    uint64_t pos;
    uint32_t version;
} cursor;

static const char *const VTYPE_NAMES[GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
};

static const uint8_t VTYPE_SIZES[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

size_t gguf_vtype_size(uint32_t type)
{
    return type < GGUF_TYPE_COUNT ? VTYPE_SIZES[type] : 0;
}

const char *gguf_vtype_name(uint32_t type)
{
    return type < GGUF_TYPE_COUNT ? VTYPE_NAMES[type] : "invalid";
}

static uint64_t remaining(const cursor *c)
{
    return c->size - c->pos;
}

static hr_status truncated(const cursor *c, const char *what, hr_error *err)
{
    return hr_error_set(err, HR_ERR_FORMAT, "%s: truncated at byte %llu while reading %s",
                        c->path, (unsigned long long)c->pos, what);
}

static hr_status take(cursor *c, uint64_t n, const unsigned char **out, const char *what,
                      hr_error *err)
{
    if (n > remaining(c))
        return truncated(c, what, err);
    *out = c->data + c->pos;
    c->pos += n;
    return HR_OK;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static hr_status read_u32(cursor *c, uint32_t *out, const char *what, hr_error *err)
{
    const unsigned char *p = NULL;
    hr_status st = take(c, 4, &p, what, err);
    if (st == HR_OK)
        *out = le32(p);
    return st;
}

static hr_status read_u64(cursor *c, uint64_t *out, const char *what, hr_error *err)
{
    const unsigned char *p = NULL;
    hr_status st = take(c, 8, &p, what, err);
    if (st == HR_OK)
        *out = le64(p);
    return st;
}

/* Counts, string lengths and dims: u32 in v1, u64 from v2. */
static hr_status read_size(cursor *c, uint64_t *out, const char *what, hr_error *err)
{
    if (c->version == 1) {
        uint32_t v = 0;
        hr_status st = read_u32(c, &v, what, err);
        *out = v;
        return st;
    }
    return read_u64(c, out, what, err);
}

static hr_status read_string(cursor *c, const unsigned char **s, uint64_t *len, const char *what,
                             hr_error *err)
{
    hr_status st = read_size(c, len, what, err);
    if (st != HR_OK)
        return st;
    if (*len > remaining(c))
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: %s at byte %llu claims %llu bytes but only %llu remain", c->path,
                            what, (unsigned long long)c->pos, (unsigned long long)*len,
                            (unsigned long long)remaining(c));
    return take(c, *len, s, what, err);
}

/* Step over the n strings of a string array (tokenizer tokens and merges:
 * most of the header). gguf_walk_strings reads only the length words; what it
 * leaves (the last string, or the one that is out of bounds) goes through
 * read_string, which names the exact failure. */
static hr_status skip_string_array(cursor *c, uint64_t n, hr_error *err)
{
    const unsigned char *after;
    uint64_t left = n - gguf_walk_strings(c->data + c->pos, c->data + c->size, n,
                                          c->version == 1 ? 4 : 8, &after);
    c->pos = (uint64_t)(after - c->data);
    for (; left > 0; left--) {
        const unsigned char *s;
        uint64_t len;
        hr_status st = read_string(c, &s, &len, "a string array element", err);
        if (st != HR_OK)
            return st;
    }
    return HR_OK;
}

/* ---- key hash (duplicate detection and lookup) ---- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

typedef void (*name_of_fn)(const void *items, uint32_t i, const char **name, size_t *len);

/* Open-addressing set of item indices keyed by name; grows as items are
 * added, so memory follows what was actually parsed, not what was claimed. */
typedef struct name_set {
    uint32_t *slots; /* index + 1; 0 = empty */
    size_t cap;      /* power of two */
    size_t count;
} name_set;

static void name_set_place(uint32_t *slots, size_t cap, uint64_t hash, uint32_t value)
{
    size_t mask = cap - 1;
    size_t i = (size_t)hash & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = value;
}

static bool name_set_grow(name_set *s, const void *items, name_of_fn get_name)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i] == 0)
            continue;
        const char *name;
        size_t len;
        get_name(items, s->slots[i] - 1, &name, &len);
        name_set_place(slots, cap, hash_bytes(name, len), s->slots[i]);
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return true;
}

typedef enum { SET_ADDED, SET_DUPLICATE, SET_NOMEM } set_result;

/* Insert item idx named (name, len); get_name gives the name of any item. */
static set_result name_set_insert(name_set *s, const char *name, size_t len, uint32_t idx,
                                  const void *items, name_of_fn get_name)
{
    if ((s->count + 1) * 2 > s->cap && !name_set_grow(s, items, get_name))
        return SET_NOMEM;
    size_t mask = s->cap - 1;
    for (size_t i = (size_t)hash_bytes(name, len) & mask;; i = (i + 1) & mask) {
        if (s->slots[i] == 0) {
            s->slots[i] = idx + 1;
            s->count++;
            return SET_ADDED;
        }
        const char *other;
        size_t other_len;
        get_name(items, s->slots[i] - 1, &other, &other_len);
        if (other_len == len && memcmp(other, name, len) == 0)
            return SET_DUPLICATE;
    }
}

/* Make room for one more element in a growing array. */
static bool reserve_one(void **array, size_t *cap, size_t used, size_t elem)
{
    if (used < *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 32;
    void *p = realloc(*array, n * elem);
    if (!p)
        return false;
    *array = p;
    *cap = n;
    return true;
}

static void kv_name(const void *items, uint32_t i, const char **name, size_t *len)
{
    const gguf_kv *kv = items;
    *name = kv[i].key;
    *len = kv[i].key_len;
}

static void tensor_name(const void *items, uint32_t i, const char **name, size_t *len)
{
    const gguf_tensor_info *t = items;
    *name = t[i].name;
    *len = t[i].name_len;
}

const gguf_kv *gguf_find(const gguf_file *f, const char *key)
{
    if (!f->kv_index || !key)
        return NULL;
    size_t len = strlen(key), mask = f->kv_index_cap - 1;
    for (size_t i = (size_t)hash_bytes(key, len) & mask;; i = (i + 1) & mask) {
        uint32_t slot = f->kv_index[i];
        if (slot == 0)
            return NULL;
        const gguf_kv *kv = &f->kv[slot - 1];
        if (kv->key_len == len && memcmp(kv->key, key, len) == 0)
            return kv;
    }
}

/* ---- metadata ---- */

static hr_status read_value(cursor *c, gguf_kv *kv, const char *key_for_msg, hr_error *err)
{
    if (kv->type >= GGUF_TYPE_COUNT)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: key '%s' has invalid value type %u",
                            c->path, key_for_msg, kv->type);
    kv->n = 1;
    if (kv->type == GGUF_TYPE_STRING)
        return read_string(c, &kv->data, &kv->str_len, "a string value", err);
    if (kv->type != GGUF_TYPE_ARRAY)
        return take(c, gguf_vtype_size(kv->type), &kv->data, "a metadata value", err);

    hr_status st = read_u32(c, &kv->elem_type, "an array type", err);
    if (st != HR_OK)
        return st;
    if (kv->elem_type == GGUF_TYPE_ARRAY)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: key '%s' is a nested array (not allowed)",
                            c->path, key_for_msg);
    if (kv->elem_type >= GGUF_TYPE_COUNT)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: key '%s' has invalid array element type %u",
                            c->path, key_for_msg, kv->elem_type);
    if ((st = read_size(c, &kv->n, "an array length", err)) != HR_OK)
        return st;
    uint64_t min_elem = kv->elem_type == GGUF_TYPE_STRING ? (c->version == 1 ? 4 : 8)
                                                          : gguf_vtype_size(kv->elem_type);
    if (kv->n > remaining(c) / min_elem)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: array '%s' claims %llu elements but only %llu bytes remain",
                            c->path, key_for_msg, (unsigned long long)kv->n,
                            (unsigned long long)remaining(c));
    kv->data = c->data + c->pos;
    if (kv->elem_type != GGUF_TYPE_STRING) {
        c->pos += kv->n * min_elem;
        return HR_OK;
    }
    return skip_string_array(c, kv->n, err);
}

static hr_status read_kvs(cursor *c, gguf_file *f, uint64_t n_kv, hr_error *err)
{
    uint64_t min = c->version == 1 ? MIN_KV_BYTES_V1 : MIN_KV_BYTES;
    if (n_kv > remaining(c) / min)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: header claims %llu metadata entries, more than the file can hold",
                            c->path, (unsigned long long)n_kv);
    if (n_kv > GGUF_MAX_KV)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: header claims %llu metadata entries (limit %u)",
                            c->path, (unsigned long long)n_kv, GGUF_MAX_KV);
    name_set set = {0};
    size_t cap = 0;
    hr_status st = HR_OK;
    for (uint64_t i = 0; i < n_kv && st == HR_OK; i++) {
        if (!reserve_one((void **)&f->kv, &cap, f->n_kv, sizeof *f->kv)) {
            st = hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory for metadata", c->path);
            break;
        }
        gguf_kv *kv = &f->kv[i];
        memset(kv, 0, sizeof *kv);
        const unsigned char *key;
        uint64_t key_len;
        if ((st = read_string(c, &key, &key_len, "a metadata key", err)) != HR_OK)
            break;
        if (key_len > GGUF_MAX_KEY_LEN) {
            st = hr_error_set(err, HR_ERR_FORMAT, "%s: metadata key %llu is %llu bytes long (max %u)",
                              c->path, (unsigned long long)i, (unsigned long long)key_len,
                              GGUF_MAX_KEY_LEN);
            break;
        }
        kv->key = (const char *)key;
        kv->key_len = (uint32_t)key_len;
        char shown[96];
        snprintf(shown, sizeof shown, "%.*s", (int)(key_len < 80 ? key_len : 80), kv->key);
        set_result r = name_set_insert(&set, kv->key, kv->key_len, (uint32_t)i, f->kv, kv_name);
        if (r != SET_ADDED) {
            st = r == SET_NOMEM
                     ? hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory for metadata", c->path)
                     : hr_error_set(err, HR_ERR_FORMAT, "%s: duplicate metadata key '%s'",
                                    c->path, shown);
            break;
        }
        f->n_kv = (size_t)i + 1;
        if ((st = read_u32(c, &kv->type, "a value type", err)) == HR_OK)
            st = read_value(c, kv, shown, err);
    }
    /* lookups need a table even for a file without metadata */
    if (st == HR_OK && !set.slots && !name_set_grow(&set, f->kv, kv_name))
        st = hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", c->path);
    f->kv_index = set.slots;
    f->kv_index_cap = set.cap;
    return st;
}

/* ---- tensor infos ---- */

static hr_status read_tensor_info(cursor *c, gguf_tensor_info *t, uint64_t index, hr_error *err)
{
    const unsigned char *name;
    uint64_t name_len;
    hr_status st = read_string(c, &name, &name_len, "a tensor name", err);
    if (st != HR_OK)
        return st;
    if (name_len > GGUF_MAX_NAME_LEN)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor %llu name is %llu bytes long (max %u)",
                            c->path, (unsigned long long)index, (unsigned long long)name_len,
                            GGUF_MAX_NAME_LEN);
    if (memchr(name, '\0', name_len))
        return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor %llu name contains a NUL byte",
                            c->path, (unsigned long long)index);
    t->name = (const char *)name;
    t->name_len = (uint32_t)name_len;
    if ((st = read_u32(c, &t->n_dims, "a tensor's dimension count", err)) != HR_OK)
        return st;
    if (t->n_dims > GGUF_MAX_DIMS)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%.*s' has %u dimensions (max %u)",
                            c->path, (int)name_len, t->name, t->n_dims, GGUF_MAX_DIMS);
    for (int d = 0; d < 4; d++)
        t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t dim;
        if ((st = read_size(c, &dim, "a tensor dimension", err)) != HR_OK)
            return st;
        if (dim > (uint64_t)INT64_MAX)
            return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%.*s' dimension %u is %llu",
                                c->path, (int)name_len, t->name, d, (unsigned long long)dim);
        t->ne[d] = (int64_t)dim;
    }
    if ((st = read_u32(c, &t->type_id, "a tensor type", err)) != HR_OK)
        return st;
    return read_u64(c, &t->offset, "a tensor offset", err);
}

static hr_status read_tensor_infos(cursor *c, gguf_file *f, uint64_t n_tensors, hr_error *err)
{
    uint64_t min = c->version == 1 ? MIN_TENSOR_BYTES_V1 : MIN_TENSOR_BYTES;
    if (n_tensors > remaining(c) / min)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: header claims %llu tensors, more than the file can hold", c->path,
                            (unsigned long long)n_tensors);
    if (n_tensors > GGUF_MAX_TENSORS)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: header claims %llu tensors (limit %u)",
                            c->path, (unsigned long long)n_tensors, GGUF_MAX_TENSORS);
    name_set set = {0};
    size_t cap = 0;
    hr_status st = HR_OK;
    for (uint64_t i = 0; i < n_tensors && st == HR_OK; i++) {
        if (!reserve_one((void **)&f->tensors, &cap, f->n_tensors, sizeof *f->tensors)) {
            st = hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory for tensors", c->path);
            break;
        }
        gguf_tensor_info *t = &f->tensors[i];
        if ((st = read_tensor_info(c, t, i, err)) != HR_OK)
            break;
        set_result r = name_set_insert(&set, t->name, t->name_len, (uint32_t)i, f->tensors,
                                       tensor_name);
        if (r == SET_NOMEM)
            st = hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory for tensors", c->path);
        else if (r == SET_DUPLICATE)
            st = hr_error_set(err, HR_ERR_FORMAT, "%s: duplicate tensor name '%.*s'", c->path,
                              (int)t->name_len, t->name);
        else
            f->n_tensors = (size_t)i + 1;
    }
    free(set.slots);
    return st;
}

/* ---- header ---- */

static hr_status read_alignment(gguf_file *f, hr_error *err)
{
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *kv = gguf_find(f, "general.alignment");
    if (!kv)
        return HR_OK;
    uint64_t a;
    if (kv->type == GGUF_TYPE_ARRAY || kv->type == GGUF_TYPE_BOOL ||
        !gguf_value_uint(kv->type, kv->data, &a))
        return hr_error_set(err, HR_ERR_FORMAT, "%s: general.alignment has type %s, expected u32",
                            f->path, gguf_vtype_name(kv->type));
    if (a == 0 || a > (1u << 30) || (a & (a - 1)) != 0)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: general.alignment %llu is not a power of two", f->path,
                            (unsigned long long)a);
    f->alignment = (uint32_t)a;
    return HR_OK;
}

static hr_status check_magic_version(cursor *c, hr_error *err)
{
    if (c->size < 8)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: %llu bytes is too short for a GGUF header",
                            c->path, (unsigned long long)c->size);
    const unsigned char *m = c->data;
    bool magic_le = memcmp(m, "GGUF", 4) == 0, magic_be = memcmp(m, "FUGG", 4) == 0;
    if (!magic_le && !magic_be)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: not a GGUF file (magic %02x %02x %02x %02x)",
                            c->path, m[0], m[1], m[2], m[3]);
    uint32_t version = le32(m + 4);
    if (magic_be || (version & 0xffffu) == 0)
        return hr_error_set(err, HR_ERR_UNSUPPORTED,
                            "%s: big-endian GGUF file (byte-swapped header); only "
                            "little-endian GGUF is supported",
                            c->path);
    if (version < 1 || version > 3)
        return hr_error_set(err, HR_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (1-3)",
                            c->path, version);
    c->version = version;
    c->pos = 8;
    return HR_OK;
}

hr_status gguf_parse(const char *path, const unsigned char *data, uint64_t size, gguf_file *f,
                     hr_error *err)
{
    cursor c = {.path = path, .data = data, .size = size};
    f->path = path;
    f->size = size;
    hr_status st = check_magic_version(&c, err);
    if (st != HR_OK)
        return st;
    f->version = c.version;
    uint64_t n_tensors, n_kv;
    if ((st = read_size(&c, &n_tensors, "the tensor count", err)) != HR_OK ||
        (st = read_size(&c, &n_kv, "the metadata count", err)) != HR_OK)
        return st;
    if ((st = read_kvs(&c, f, n_kv, err)) != HR_OK || (st = read_alignment(f, err)) != HR_OK ||
        (st = read_tensor_infos(&c, f, n_tensors, err)) != HR_OK)
        return st;
    uint64_t a = f->alignment;
    f->data_start = (c.pos + a - 1) / a * a;
    if (f->n_tensors > 0 && f->data_start > size)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: data section would start at byte %llu, past the end of the "
                            "%llu-byte file",
                            path, (unsigned long long)f->data_start, (unsigned long long)size);
    return HR_OK;
}

hr_status gguf_file_open(const char *path, gguf_file *f, hr_error *err)
{
    memset(f, 0, sizeof *f);
    hr_status st = hr_map_file(path, &f->map, err);
    if (st != HR_OK)
        return st;
    f->owned_path = strdup(path);
    if (!f->owned_path) {
        gguf_file_close(f);
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", path);
    }
    st = gguf_parse(f->owned_path, f->map.data, f->map.size, f, err);
    if (st != HR_OK)
        gguf_file_close(f);
    return st;
}

void gguf_file_close(gguf_file *f)
{
    if (!f)
        return;
    hr_unmap_file(&f->map);
    free(f->kv);
    free(f->tensors);
    free(f->kv_index);
    free(f->owned_path);
    memset(f, 0, sizeof *f);
}

hr_status gguf_check_extent(const gguf_file *f, const gguf_tensor_info *t, uint64_t bytes,
                            hr_error *err)
{
    if (t->offset % f->alignment != 0)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: tensor '%.*s' offset %llu is not a multiple of the alignment %u",
                            f->path, (int)t->name_len, t->name, (unsigned long long)t->offset,
                            f->alignment);
    uint64_t data_size = f->size > f->data_start ? f->size - f->data_start : 0;
    uint64_t end;
    if (__builtin_add_overflow(t->offset, bytes, &end) || end > data_size)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: tensor '%.*s' data (%llu bytes at offset %llu) runs past the end "
                            "of the file (data section holds %llu bytes)",
                            f->path, (int)t->name_len, t->name, (unsigned long long)bytes,
                            (unsigned long long)t->offset, (unsigned long long)data_size);
    return HR_OK;
}
