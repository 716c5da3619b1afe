/* Typed access to GGUF metadata: integer keys are u32 in some files and u64
 * (or signed) in others, so every accessor takes any integer type that fits. */
#include <string.h>

#include "gguf_reader.h"

static uint64_t le_n(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool is_signed_type(uint32_t type)
{
    return type == GGUF_TYPE_INT8 || type == GGUF_TYPE_INT16 || type == GGUF_TYPE_INT32 ||
           type == GGUF_TYPE_INT64;
}

static bool is_integer_type(uint32_t type)
{
    switch (type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16:
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64:
    case GGUF_TYPE_BOOL:
        return true;
    default:
        return false;
    }
}

/* Sign-extend an n-byte little-endian value. */
static int64_t signed_value(const unsigned char *p, size_t n)
{
    uint64_t v = le_n(p, n);
    if (n < 8 && (v >> (8 * n - 1)) & 1)
        v |= ~0ull << (8 * n);
    return (int64_t)v;
}

bool gguf_value_int(uint32_t type, const unsigned char *p, int64_t *out)
{
    if (!is_integer_type(type))
        return false;
    size_t n = gguf_vtype_size(type);
    if (is_signed_type(type)) {
        *out = signed_value(p, n);
        return true;
    }
    uint64_t v = le_n(p, n);
    if (v > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

bool gguf_value_uint(uint32_t type, const unsigned char *p, uint64_t *out)
{
    if (!is_integer_type(type))
        return false;
    size_t n = gguf_vtype_size(type);
    if (is_signed_type(type)) {
        int64_t v = signed_value(p, n);
        if (v < 0)
            return false;
        *out = (uint64_t)v;
        return true;
    }
    *out = le_n(p, n);
    return true;
}

bool gguf_value_float(uint32_t type, const unsigned char *p, double *out)
{
    if (type == GGUF_TYPE_FLOAT32) {
        uint32_t bits = (uint32_t)le_n(p, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        *out = f;
        return true;
    }
    if (type == GGUF_TYPE_FLOAT64) {
        uint64_t bits = le_n(p, 8);
        memcpy(out, &bits, sizeof *out);
        return true;
    }
    int64_t i;
    if (type != GGUF_TYPE_BOOL && gguf_value_int(type, p, &i)) {
        *out = (double)i;
        return true;
    }
    uint64_t u;
    if (type != GGUF_TYPE_BOOL && gguf_value_uint(type, p, &u)) {
        *out = (double)u;
        return true;
    }
    return false;
}

static const gguf_kv *lookup(const gguf_file *f, const char *key, bool *found)
{
    const gguf_kv *kv = gguf_find(f, key);
    if (found)
        *found = kv != NULL;
    return kv;
}

static hr_status bad_type(const gguf_file *f, const char *key, const gguf_kv *kv,
                          const char *expected, hr_error *err)
{
    return hr_error_set(err, HR_ERR_FORMAT, "%s: key '%s' has type %s%s%s, expected %s", f->path,
                        key, gguf_vtype_name(kv->type), kv->type == GGUF_TYPE_ARRAY ? " of " : "",
                        kv->type == GGUF_TYPE_ARRAY ? gguf_vtype_name(kv->elem_type) : "",
                        expected);
}

hr_status gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out, bool *found,
                       hr_error *err)
{
    const gguf_kv *kv = lookup(f, key, found);
    if (!kv)
        return HR_OK;
    if (kv->type == GGUF_TYPE_BOOL || !gguf_value_uint(kv->type, kv->data, out))
        return is_integer_type(kv->type) && kv->type != GGUF_TYPE_BOOL
                   ? hr_error_set(err, HR_ERR_FORMAT, "%s: key '%s' is negative", f->path, key)
                   : bad_type(f, key, kv, "an unsigned integer", err);
    return HR_OK;
}

hr_status gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, bool *found,
                       hr_error *err)
{
    uint64_t v = 0;
    bool have = false;
    hr_status st = gguf_get_u64(f, key, &v, &have, err);
    if (found)
        *found = have;
    if (st != HR_OK || !have)
        return st;
    if (v > UINT32_MAX)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: key '%s' value %llu does not fit 32 bits",
                            f->path, key, (unsigned long long)v);
    *out = (uint32_t)v;
    return HR_OK;
}

hr_status gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, bool *found,
                       hr_error *err)
{
    const gguf_kv *kv = lookup(f, key, found);
    if (!kv)
        return HR_OK;
    if (kv->type == GGUF_TYPE_BOOL || !gguf_value_int(kv->type, kv->data, out))
        return is_integer_type(kv->type) && kv->type != GGUF_TYPE_BOOL
                   ? hr_error_set(err, HR_ERR_FORMAT, "%s: key '%s' does not fit 64 bits",
                                  f->path, key)
                   : bad_type(f, key, kv, "an integer", err);
    return HR_OK;
}

hr_status gguf_get_f32(const gguf_file *f, const char *key, float *out, bool *found,
                       hr_error *err)
{
    const gguf_kv *kv = lookup(f, key, found);
    if (!kv)
        return HR_OK;
    double d;
    if (kv->type == GGUF_TYPE_ARRAY || kv->type == GGUF_TYPE_STRING ||
        !gguf_value_float(kv->type, kv->data, &d))
        return bad_type(f, key, kv, "a number", err);
    *out = (float)d;
    return HR_OK;
}

hr_status gguf_get_bool(const gguf_file *f, const char *key, bool *out, bool *found,
                        hr_error *err)
{
    const gguf_kv *kv = lookup(f, key, found);
    if (!kv)
        return HR_OK;
    uint64_t v;
    if (!gguf_value_uint(kv->type, kv->data, &v))
        return bad_type(f, key, kv, "bool", err);
    *out = v != 0;
    return HR_OK;
}

hr_status gguf_get_str(const gguf_file *f, const char *key, const char **s, size_t *len,
                       bool *found, hr_error *err)
{
    const gguf_kv *kv = lookup(f, key, found);
    if (!kv)
        return HR_OK;
    if (kv->type != GGUF_TYPE_STRING)
        return bad_type(f, key, kv, "string", err);
    *s = (const char *)kv->data;
    *len = (size_t)kv->str_len;
    return HR_OK;
}

uint64_t gguf_array_len(const gguf_file *f, const char *key)
{
    const gguf_kv *kv = gguf_find(f, key);
    return kv && kv->type == GGUF_TYPE_ARRAY ? kv->n : 0;
}

static hr_status check_array(const gguf_file *f, const char *key, const gguf_kv *kv, uint32_t n,
                             hr_error *err)
{
    if (!is_integer_type(kv->elem_type))
        return bad_type(f, key, kv, "an array of integers", err);
    if (kv->n != n)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: key '%s' has %llu per-layer entries, expected %u", f->path, key,
                            (unsigned long long)kv->n, n);
    return HR_OK;
}

hr_status gguf_get_u32_per_layer(const gguf_file *f, const char *key, uint32_t *out, uint32_t n,
                                 bool *found, hr_error *err)
{
    const gguf_kv *kv = lookup(f, key, found);
    if (!kv)
        return HR_OK;
    if (kv->type != GGUF_TYPE_ARRAY) {
        uint32_t v = 0;
        hr_status st = gguf_get_u32(f, key, &v, NULL, err);
        if (st != HR_OK)
            return st;
        for (uint32_t i = 0; i < n; i++)
            out[i] = v;
        return HR_OK;
    }
    hr_status st = check_array(f, key, kv, n, err);
    if (st != HR_OK)
        return st;
    size_t elem = gguf_vtype_size(kv->elem_type);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v;
        if (!gguf_value_uint(kv->elem_type, kv->data + (size_t)i * elem, &v) || v > UINT32_MAX)
            return hr_error_set(err, HR_ERR_FORMAT, "%s: key '%s' entry %u is out of range",
                                f->path, key, i);
        out[i] = (uint32_t)v;
    }
    return HR_OK;
}

hr_status gguf_get_bool_per_layer(const gguf_file *f, const char *key, bool *out, uint32_t n,
                                  bool *found, hr_error *err)
{
    const gguf_kv *kv = lookup(f, key, found);
    if (!kv)
        return HR_OK;
    if (kv->type != GGUF_TYPE_ARRAY)
        return bad_type(f, key, kv, "an array of bools", err);
    hr_status st = check_array(f, key, kv, n, err);
    if (st != HR_OK)
        return st;
    size_t elem = gguf_vtype_size(kv->elem_type);
    for (uint32_t i = 0; i < n; i++) {
        int64_t v;
        if (!gguf_value_int(kv->elem_type, kv->data + (size_t)i * elem, &v))
            v = 1; /* a u64 above INT64_MAX is still non-zero */
        out[i] = v != 0;
    }
    return HR_OK;
}
