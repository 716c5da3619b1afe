/* Settings as text: parse and format each setting by its scenario key.
 * The same names serve scenario files, CLI flags and the TUI. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "headroom/scenario.h"

#define MIB (1024ull * 1024ull)
#define GIB (1024ull * MIB)

static const char *const setting_keys[] = {
    "ctx_size", "batch_size", "ubatch_size", "parallel", "kv_unified", "flash_attn",
    "cache_type_k", "cache_type_v", "gpu_layers", "device", "tensor_split", "kv_offload",
    "mmap", "swa_full", "embeddings", "quant", "margin", NULL,
};

const char *const *hr_setting_keys(void)
{
    return setting_keys;
}

static hr_status bad_value(hr_error *err, const char *key, const char *value, const char *want)
{
    return hr_error_set(err, HR_ERR_ARG, "%s: bad value '%s' (expected %s)", key, value, want);
}

/* Plain decimal, no sign, no spaces; overflow-checked. */
static bool parse_u64(const char *s, uint64_t *out)
{
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(s, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Finite, non-negative decimal number covering the whole string. */
static bool parse_nonneg_double(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!isdigit((unsigned char)buf[0]) && buf[0] != '.')
        return false;
    errno = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end || errno || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

static int parse_bool(const char *s)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "enabled"};
    static const char *const no[] = {"false", "no", "off", "0", "disabled"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcasecmp(s, no[i]) == 0)
            return 0;
    return -1;
}

/* KV cache types llama.cpp accepts for -ctk / -ctv. */
static bool is_cache_type(hr_type t)
{
    static const hr_type allowed[] = {HR_TYPE_F32,  HR_TYPE_F16,  HR_TYPE_BF16,
                                      HR_TYPE_Q8_0, HR_TYPE_Q5_1, HR_TYPE_Q5_0,
                                      HR_TYPE_Q4_1, HR_TYPE_Q4_0, HR_TYPE_IQ4_NL};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (allowed[i] == t)
            return true;
    return false;
}

/* "10%", "512MiB", "2GiB", "1048576B", "10%+512MiB", "0". */
static hr_status parse_margin(hr_settings *s, const char *value, hr_error *err)
{
    const char *want = "P%, NMiB, NGiB or P%+NMiB";
    double percent = 0;
    uint64_t bytes = 0;
    bool seen_percent = false, seen_bytes = false;
    if (strcmp(value, "0") == 0) {
        s->margin_percent = 0;
        s->margin_bytes = 0;
        return HR_OK;
    }
    const char *p = value;
    while (*p) {
        const char *plus = strchr(p, '+');
        size_t n = plus ? (size_t)(plus - p) : strlen(p);
        size_t num = 0;
        while (num < n && (isdigit((unsigned char)p[num]) || p[num] == '.'))
            num++;
        const char *unit = p + num;
        size_t unit_len = n - num;
        double v;
        if (!parse_nonneg_double(p, num, &v))
            return bad_value(err, "margin", value, want);
        if (unit_len == 1 && unit[0] == '%') {
            if (seen_percent || v > 1000)
                return bad_value(err, "margin", value, want);
            percent = v;
            seen_percent = true;
        } else {
            uint64_t scale;
            if (unit_len == 1 && (unit[0] == 'B' || unit[0] == 'b'))
                scale = 1;
            else if (unit_len == 3 && strncasecmp(unit, "KiB", 3) == 0)
                scale = 1024;
            else if (unit_len == 3 && strncasecmp(unit, "MiB", 3) == 0)
                scale = MIB;
            else if (unit_len == 3 && strncasecmp(unit, "GiB", 3) == 0)
                scale = GIB;
            else
                return bad_value(err, "margin", value, want);
            double b = v * (double)scale;
            if (seen_bytes || b >= 9.0e18 || b != floor(b))
                return bad_value(err, "margin", value, want);
            bytes = (uint64_t)b;
            seen_bytes = true;
        }
        p = plus ? plus + 1 : p + n;
        if (plus && !*p)
            return bad_value(err, "margin", value, want);
    }
    s->margin_percent = percent;
    s->margin_bytes = bytes;
    return HR_OK;
}

/* "3,1" or "3/1": up to HR_MAX_GPUS non-negative ratios; "" = by capacity. */
static hr_status parse_split(hr_settings *s, const char *value, hr_error *err)
{
    float split[HR_MAX_GPUS] = {0};
    const char *want = "comma-separated ratios such as 3,1";
    int count = 0;
    const char *p = value;
    while (*p) {
        size_t n = strcspn(p, ",/");
        double v;
        if (count == HR_MAX_GPUS || !parse_nonneg_double(p, n, &v) || v > 1e6)
            return bad_value(err, "tensor_split", value, want);
        split[count++] = (float)v;
        p += n;
        if (*p) {
            p++;
            if (!*p)
                return bad_value(err, "tensor_split", value, want);
        }
    }
    memcpy(s->tensor_split, split, sizeof split);
    return HR_OK;
}

static hr_status set_bool(bool *field, const char *key, const char *value, hr_error *err)
{
    int b = parse_bool(value);
    if (b < 0)
        return bad_value(err, key, value, "true or false");
    *field = b != 0;
    return HR_OK;
}

static hr_status set_count(uint32_t *field, bool allow_zero, const char *key, const char *value,
                           hr_error *err)
{
    uint32_t v;
    if (!parse_u32(value, &v) || (!allow_zero && v == 0) || v > (1u << 30))
        return bad_value(err, key, value, allow_zero ? "a whole number" : "a whole number >= 1");
    *field = v;
    return HR_OK;
}

hr_status hr_setting_set(hr_settings *s, const char *key, const char *value, hr_error *err)
{
    if (!s || !key || !value)
        return hr_error_set(err, HR_ERR_ARG, "missing setting key or value");
    if (strcmp(key, "ctx_size") == 0)
        return set_count(&s->n_ctx, true, key, value, err);
    if (strcmp(key, "batch_size") == 0)
        return set_count(&s->n_batch, false, key, value, err);
    if (strcmp(key, "ubatch_size") == 0)
        return set_count(&s->n_ubatch, false, key, value, err);
    if (strcmp(key, "parallel") == 0)
        return set_count(&s->n_seq, false, key, value, err);
    if (strcmp(key, "kv_unified") == 0)
        return set_bool(&s->kv_unified, key, value, err);
    if (strcmp(key, "kv_offload") == 0)
        return set_bool(&s->offload_kv, key, value, err);
    if (strcmp(key, "mmap") == 0)
        return set_bool(&s->use_mmap, key, value, err);
    if (strcmp(key, "swa_full") == 0)
        return set_bool(&s->swa_full, key, value, err);
    if (strcmp(key, "embeddings") == 0)
        return set_bool(&s->embeddings, key, value, err);
    if (strcmp(key, "flash_attn") == 0) {
        if (strcasecmp(value, "auto") == 0) {
            s->flash_attn = HR_FA_AUTO;
            return HR_OK;
        }
        int b = parse_bool(value);
        if (b < 0)
            return bad_value(err, key, value, "on, off or auto");
        s->flash_attn = b ? HR_FA_ON : HR_FA_OFF;
        return HR_OK;
    }
    if (strcmp(key, "cache_type_k") == 0 || strcmp(key, "cache_type_v") == 0) {
        hr_type t = hr_type_from_name(value);
        if (!is_cache_type(t))
            return bad_value(err, key, value, "f32, f16, bf16, q8_0, q5_1, q5_0, q4_1, q4_0 or iq4_nl");
        if (key[11] == 'k')
            s->type_k = t;
        else
            s->type_v = t;
        return HR_OK;
    }
    if (strcmp(key, "gpu_layers") == 0) {
        uint32_t v;
        if (strcasecmp(value, "all") == 0 || strcmp(value, "-1") == 0)
            s->n_gpu_layers = -1;
        else if (parse_u32(value, &v) && v <= 100000)
            s->n_gpu_layers = (int32_t)v;
        else
            return bad_value(err, key, value, "a number of layers or all");
        return HR_OK;
    }
    if (strcmp(key, "device") == 0) {
        if (strcasecmp(value, "cpu") == 0 || strcasecmp(value, "none") == 0)
            s->mode = HR_MODE_CPU;
        else if (strcasecmp(value, "gpu") == 0)
            s->mode = HR_MODE_GPU;
        else
            return bad_value(err, key, value, "cpu or gpu");
        return HR_OK;
    }
    if (strcmp(key, "tensor_split") == 0)
        return parse_split(s, value, err);
    if (strcmp(key, "quant") == 0) {
        if (!*value || strcasecmp(value, "file") == 0) {
            s->target_ftype = HR_FTYPE_UNKNOWN;
            return HR_OK;
        }
        hr_ftype f = hr_ftype_from_name(value);
        if (f == HR_FTYPE_UNKNOWN)
            return bad_value(err, key, value, "a quantization such as Q4_K_M, or file");
        s->target_ftype = f;
        return HR_OK;
    }
    if (strcmp(key, "margin") == 0)
        return parse_margin(s, value, err);
    return hr_error_set(err, HR_ERR_NOT_FOUND, "unknown setting '%s'", key);
}

/* Shortest fixed-notation decimal that reads back as exactly v (no exponent,
 * so the text never collides with the '+' of "10%+512MiB"). */
static void format_double(char *buf, size_t len, double v)
{
    for (int prec = 0; prec <= 20; prec++) {
        snprintf(buf, len, "%.*f", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void format_float(char *buf, size_t len, float v)
{
    for (int prec = 0; prec <= 20; prec++) {
        snprintf(buf, len, "%.*f", prec, (double)v);
        if (strtof(buf, NULL) == v)
            return;
    }
}

static void format_bytes_unit(char *buf, size_t len, uint64_t b)
{
    if (b % GIB == 0)
        snprintf(buf, len, "%lluGiB", (unsigned long long)(b / GIB));
    else if (b % MIB == 0)
        snprintf(buf, len, "%lluMiB", (unsigned long long)(b / MIB));
    else
        snprintf(buf, len, "%lluB", (unsigned long long)b);
}

static bool format_margin(const hr_settings *s, char *buf, size_t len)
{
    char pct[40] = "", bytes[40] = "";
    if (s->margin_percent > 0) {
        format_double(pct, sizeof pct - 1, s->margin_percent);
        strcat(pct, "%");
    }
    if (s->margin_bytes > 0)
        format_bytes_unit(bytes, sizeof bytes, s->margin_bytes);
    int n;
    if (pct[0] && bytes[0])
        n = snprintf(buf, len, "%s+%s", pct, bytes);
    else if (pct[0] || bytes[0])
        n = snprintf(buf, len, "%s", pct[0] ? pct : bytes);
    else
        n = snprintf(buf, len, "0");
    return n >= 0 && (size_t)n < len;
}

static bool format_split(const hr_settings *s, char *buf, size_t len)
{
    int last = -1;
    for (int i = 0; i < HR_MAX_GPUS; i++)
        if (s->tensor_split[i] != 0)
            last = i;
    size_t used = 0;
    if (len == 0)
        return false;
    buf[0] = '\0';
    for (int i = 0; i <= last; i++) {
        char one[32];
        format_float(one, sizeof one, s->tensor_split[i]);
        int n = snprintf(buf + used, len - used, "%s%s", i ? "," : "", one);
        if (n < 0 || (size_t)n >= len - used)
            return false;
        used += (size_t)n;
    }
    return true;
}

/* Lower case as llama.cpp spells cache types ("q8_0"). */
static int format_type(char *buf, size_t len, hr_type t)
{
    const hr_type_info *ti = hr_type_get(t);
    int n = snprintf(buf, len, "%s", ti ? ti->name : "f16");
    for (char *c = buf; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return n;
}

bool hr_setting_format(const hr_settings *s, const char *key, char *buf, size_t len)
{
    if (!s || !key || !buf || len == 0)
        return false;
    int n = -1;
    if (strcmp(key, "ctx_size") == 0)
        n = snprintf(buf, len, "%u", s->n_ctx);
    else if (strcmp(key, "batch_size") == 0)
        n = snprintf(buf, len, "%u", s->n_batch);
    else if (strcmp(key, "ubatch_size") == 0)
        n = snprintf(buf, len, "%u", s->n_ubatch);
    else if (strcmp(key, "parallel") == 0)
        n = snprintf(buf, len, "%u", s->n_seq);
    else if (strcmp(key, "kv_unified") == 0)
        n = snprintf(buf, len, "%s", s->kv_unified ? "true" : "false");
    else if (strcmp(key, "kv_offload") == 0)
        n = snprintf(buf, len, "%s", s->offload_kv ? "true" : "false");
    else if (strcmp(key, "mmap") == 0)
        n = snprintf(buf, len, "%s", s->use_mmap ? "true" : "false");
    else if (strcmp(key, "swa_full") == 0)
        n = snprintf(buf, len, "%s", s->swa_full ? "true" : "false");
    else if (strcmp(key, "embeddings") == 0)
        n = snprintf(buf, len, "%s", s->embeddings ? "true" : "false");
    else if (strcmp(key, "flash_attn") == 0)
        n = snprintf(buf, len, "%s",
                     s->flash_attn == HR_FA_ON ? "on" : s->flash_attn == HR_FA_OFF ? "off" : "auto");
    else if (strcmp(key, "cache_type_k") == 0)
        n = format_type(buf, len, s->type_k);
    else if (strcmp(key, "cache_type_v") == 0)
        n = format_type(buf, len, s->type_v);
    else if (strcmp(key, "gpu_layers") == 0)
        n = s->n_gpu_layers < 0 ? snprintf(buf, len, "all")
                                : snprintf(buf, len, "%d", (int)s->n_gpu_layers);
    else if (strcmp(key, "device") == 0)
        n = snprintf(buf, len, "%s", s->mode == HR_MODE_CPU ? "cpu" : "gpu");
    else if (strcmp(key, "tensor_split") == 0)
        return format_split(s, buf, len);
    else if (strcmp(key, "quant") == 0) {
        const char *name = s->target_ftype == HR_FTYPE_UNKNOWN ? NULL : hr_ftype_name(s->target_ftype);
        n = snprintf(buf, len, "%s", name ? name : "file");
    } else if (strcmp(key, "margin") == 0)
        return format_margin(s, buf, len);
    return n >= 0 && (size_t)n < len;
}
