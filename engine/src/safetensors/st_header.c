/* safetensors header reader: 8-byte LE length, JSON header, bounds checks.
 * Only the header is read; tensor data is never touched. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_header.h"

static const struct {
    const char *name;
    hr_type type;
    uint32_t bits;
} ST_DTYPES[] = {
    {"F64", HR_TYPE_F64, 64},
    {"F32", HR_TYPE_F32, 32},
    {"F16", HR_TYPE_F16, 16},
    {"BF16", HR_TYPE_BF16, 16},
    {"I64", HR_TYPE_I64, 64},
    {"I32", HR_TYPE_I32, 32},
    {"I16", HR_TYPE_I16, 16},
    {"I8", HR_TYPE_I8, 8},
    {"U64", HR_TYPE_ST_U64, 64},
    {"U32", HR_TYPE_ST_U32, 32},
    {"U16", HR_TYPE_ST_U16, 16},
    {"U8", HR_TYPE_ST_U8, 8},
    {"BOOL", HR_TYPE_ST_BOOL, 8},
    {"F8_E5M2", HR_TYPE_ST_F8_E5M2, 8},
    {"F8_E4M3", HR_TYPE_ST_F8_E4M3, 8},
    {"F8_E8M0", HR_TYPE_ST_F8_E8M0, 8},
    {"F8_E4M3FNUZ", HR_TYPE_ST_F8_E4M3FNUZ, 8},
    {"F8_E5M2FNUZ", HR_TYPE_ST_F8_E5M2FNUZ, 8},
    {"F4", HR_TYPE_ST_F4, 4},
    {"F6_E2M3", HR_TYPE_ST_F6_E2M3, 6},
    {"F6_E3M2", HR_TYPE_ST_F6_E3M2, 6},
    {"C64", HR_TYPE_ST_C64, 64},
};

bool st_dtype_lookup(const char *name, hr_type *type, uint32_t *bits, const char **canonical)
{
    for (size_t i = 0; i < sizeof ST_DTYPES / sizeof ST_DTYPES[0]; i++) {
        if (strcmp(ST_DTYPES[i].name, name) == 0) {
            if (type)
                *type = ST_DTYPES[i].type;
            if (bits)
                *bits = ST_DTYPES[i].bits;
            if (canonical)
                *canonical = ST_DTYPES[i].name;
            return true;
        }
    }
    return false;
}

/* A JSON number that is a whole value in [0, 2^53] (exact in a double). */
static bool json_whole_u64(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return false;
    double v = item->valuedouble;
    if (!isfinite(v) || v < 0.0 || v > 9007199254740992.0 || floor(v) != v)
        return false;
    *out = (uint64_t)v;
    return true;
}

static hr_status read_exact(int fd, const char *path, void *buf, size_t len, uint64_t offset,
                            hr_error *err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return hr_error_set(err, HR_ERR_IO, "%s: read failed at byte %llu", path,
                                (unsigned long long)(offset + got));
        got += (size_t)r;
    }
    return HR_OK;
}

/* Shape array -> ggml ne[] (reversed), folding leading dims past the 4th. */
static hr_status parse_shape(const char *path, const char *name, const cJSON *shape,
                             st_tensor_info *t, hr_error *err)
{
    if (!cJSON_IsArray(shape))
        return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%s': shape is not an array", path,
                            name);
    int rank = cJSON_GetArraySize(shape);
    if (rank > HR_ST_MAX_RANK)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: tensor '%s': rank %d is over the limit of %d",
                            path, name, rank, HR_ST_MAX_RANK);
    t->rank = (uint32_t)rank;
    t->ne[0] = t->ne[1] = t->ne[2] = t->ne[3] = 1;
    uint64_t elements = 1;
    int dim = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, shape) {
        uint64_t v;
        if (!json_whole_u64(d, &v))
            return hr_error_set(err, HR_ERR_FORMAT,
                                "%s: tensor '%s': shape entry %d is not a non-negative integer",
                                path, name, dim);
        if (__builtin_mul_overflow(elements, v, &elements) || elements > (uint64_t)INT64_MAX)
            return hr_error_set(err, HR_ERR_LIMIT, "%s: tensor '%s': element count overflows",
                                path, name);
        /* outermost dim first in the file; ggml's ne[0] is the innermost.
         * Dims beyond the 4th (leading ones) multiply into ne[3]. */
        int slot = rank - 1 - dim;
        if (slot < 3)
            t->ne[slot] = (int64_t)v;
        else
            t->ne[3] *= (int64_t)v; /* bounded by elements, checked above */
        dim++;
    }
    t->n_elements = elements;
    return HR_OK;
}

static hr_status parse_entry(const char *path, const cJSON *entry, uint64_t data_bytes,
                             st_tensor_info *t, hr_error *err)
{
    const char *name = entry->string;
    if (!cJSON_IsObject(entry))
        return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%s' is not a JSON object", path,
                            name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsString(dtype) || !shape || !offsets)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: tensor '%s' lacks dtype, shape or data_offsets", path, name);
    uint32_t bits;
    if (!st_dtype_lookup(dtype->valuestring, &t->type, &bits, &t->dtype_name))
        return hr_error_set(err, HR_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", path,
                            name, dtype->valuestring);
    hr_status st = parse_shape(path, name, shape, t, err);
    if (st != HR_OK)
        return st;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !json_whole_u64(cJSON_GetArrayItem(offsets, 0), &t->begin) ||
        !json_whole_u64(cJSON_GetArrayItem(offsets, 1), &t->end) || t->end < t->begin)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets is not [begin, end] with begin <= end",
                            path, name);
    if (t->end > data_bytes)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: tensor '%s': data ends at %llu, past the %llu-byte data section "
                            "(file truncated?)",
                            path, name, (unsigned long long)t->end,
                            (unsigned long long)data_bytes);
    /* sub-byte dtypes (F4, F6) must fill whole bytes, as safetensors requires */
    uint64_t total_bits;
    if (__builtin_mul_overflow(t->n_elements, (uint64_t)bits, &total_bits))
        return hr_error_set(err, HR_ERR_LIMIT, "%s: tensor '%s': size overflows", path, name);
    if (total_bits % 8 != 0 || total_bits / 8 != t->end - t->begin)
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: tensor '%s': %llu bytes in data_offsets but %s x %llu elements "
                            "needs %llu bits",
                            path, name, (unsigned long long)(t->end - t->begin), t->dtype_name,
                            (unsigned long long)t->n_elements, (unsigned long long)total_bits);
    t->name = name;
    return HR_OK;
}

static hr_status scan_header(const char *path, const char *json, size_t len, uint64_t data_bytes,
                             st_tensor_fn fn, void *user, st_header_stats *stats, hr_error *err)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: header is not valid JSON", path);
    hr_status st = HR_OK;
    if (!cJSON_IsObject(root)) {
        st = hr_error_set(err, HR_ERR_FORMAT, "%s: header is not a JSON object", path);
        goto done;
    }
    const cJSON *entry;
    cJSON_ArrayForEach(entry, root) {
        if (!entry->string) {
            st = hr_error_set(err, HR_ERR_FORMAT, "%s: header entry without a name", path);
            goto done;
        }
        if (strcmp(entry->string, "__metadata__") == 0) {
            /* free-form string map: only its form is checked */
            if (!cJSON_IsObject(entry)) {
                st = hr_error_set(err, HR_ERR_FORMAT, "%s: __metadata__ is not an object", path);
                goto done;
            }
            continue;
        }
        st_tensor_info t;
        memset(&t, 0, sizeof t);
        st = parse_entry(path, entry, data_bytes, &t, err);
        if (st != HR_OK)
            goto done;
        if (t.rank > 4)
            stats->n_folded++;
        /* extents may not add up to more than the data section: overlapping
         * offsets would count the same bytes twice */
        uint64_t extent = t.end - t.begin;
        if (__builtin_add_overflow(stats->tensor_bytes, extent, &stats->tensor_bytes) ||
            stats->tensor_bytes > data_bytes) {
            st = hr_error_set(err, HR_ERR_FORMAT,
                              "%s: tensor '%s' overlaps others: extents exceed the %llu-byte "
                              "data section",
                              path, t.name, (unsigned long long)data_bytes);
            goto done;
        }
        stats->n_tensors++;
        st = fn(user, &t, err);
        if (st != HR_OK)
            goto done;
    }
done:
    cJSON_Delete(root);
    return st;
}

hr_status st_header_read(const char *path, st_tensor_fn fn, void *user, st_header_stats *stats,
                         hr_error *err)
{
    st_header_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hr_error_set(err, HR_ERR_IO, "%s: %s", path, strerror(errno));
    hr_status st = HR_OK;
    char *json = NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = hr_error_set(err, HR_ERR_IO, "%s: not a readable regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)sb.st_size;
    stats->file_size = size;
    if (size < 8) {
        st = hr_error_set(err, HR_ERR_FORMAT,
                          "%s: %llu bytes is too short for a safetensors header", path,
                          (unsigned long long)size);
        goto done;
    }
    unsigned char len_bytes[8];
    st = read_exact(fd, path, len_bytes, 8, 0, err);
    if (st != HR_OK)
        goto done;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | len_bytes[i];
    if (n > HR_ST_MAX_HEADER_BYTES) {
        st = hr_error_set(err, HR_ERR_LIMIT,
                          "%s: header length %llu is over the safetensors limit of %llu bytes",
                          path, (unsigned long long)n, HR_ST_MAX_HEADER_BYTES);
        goto done;
    }
    if (n > size - 8) {
        st = hr_error_set(err, HR_ERR_FORMAT,
                          "%s: header length %llu runs past the end of the %llu-byte file", path,
                          (unsigned long long)n, (unsigned long long)size);
        goto done;
    }
    if (n < 2) {
        st = hr_error_set(err, HR_ERR_FORMAT, "%s: header length %llu is too short for JSON",
                          path, (unsigned long long)n);
        goto done;
    }
    stats->header_bytes = n;
    stats->data_bytes = size - 8 - n;
    json = malloc((size_t)n + 1);
    if (!json) {
        st = hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory for a %llu-byte header", path,
                          (unsigned long long)n);
        goto done;
    }
    st = read_exact(fd, path, json, (size_t)n, 8, err);
    if (st != HR_OK)
        goto done;
    json[n] = '\0';
    st = scan_header(path, json, (size_t)n, stats->data_bytes, fn, user, stats, err);
done:
    free(json);
    close(fd);
    return st;
}
