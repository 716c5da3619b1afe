/* safetensors / config.json fixture writer (see the header). */
#include "safetensors_writer.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    unsigned bits;
} DTYPE_BITS[] = {
    {"F64", 64}, {"F32", 32}, {"F16", 16}, {"BF16", 16}, {"I64", 64}, {"I32", 32},
    {"I16", 16}, {"I8", 8}, {"U64", 64}, {"U32", 32}, {"U16", 16}, {"U8", 8},
    {"BOOL", 8}, {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8},
    {"F8_E5M2FNUZ", 8}, {"F4", 4}, {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"C64", 64},
};

unsigned stw_dtype_bits(const char *dtype)
{
    for (size_t i = 0; i < sizeof DTYPE_BITS / sizeof DTYPE_BITS[0]; i++)
        if (strcmp(DTYPE_BITS[i].name, dtype) == 0)
            return DTYPE_BITS[i].bits;
    return 0;
}

uint64_t stw_tensor_bytes(const stw_tensor *t)
{
    uint64_t n = 1;
    for (int d = 0; d < t->rank; d++)
        n *= (uint64_t)t->shape[d];
    return n * stw_dtype_bits(t->dtype) / 8;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int stw_write_raw(const char *path, uint64_t declared_len, const char *header, uint64_t file_size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(declared_len >> (8 * i));
    size_t hlen = header ? strlen(header) : 0;
    int rc = write_all(fd, len, 8);
    if (rc == 0 && hlen)
        rc = write_all(fd, header, hlen);
    if (rc == 0)
        rc = ftruncate(fd, (off_t)(file_size ? file_size : 8 + hlen));
    close(fd);
    return rc == 0 ? 0 : -1;
}

int stw_write(const char *path, const stw_tensor *tensors, size_t n, const char *metadata_json,
              uint64_t *data_bytes)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return -1;
    if (metadata_json) {
        cJSON *meta = cJSON_Parse(metadata_json);
        if (!meta) {
            cJSON_Delete(root);
            return -1;
        }
        cJSON_AddItemToObject(root, "__metadata__", meta);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        const stw_tensor *t = &tensors[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(root, t->name, e);
        cJSON_AddStringToObject(e, "dtype", t->dtype);
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < t->rank; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        uint64_t bytes = stw_tensor_bytes(t);
        cJSON *off = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)offset));
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)(offset + bytes)));
        offset += bytes;
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return -1;
    /* pad the header to 8 bytes with spaces, as the Python writer does */
    size_t hlen = strlen(text);
    size_t padded = (hlen + 7) / 8 * 8;
    char *header = malloc(padded + 1);
    if (!header) {
        free(text);
        return -1;
    }
    memcpy(header, text, hlen);
    memset(header + hlen, ' ', padded - hlen);
    header[padded] = '\0';
    free(text);
    int rc = stw_write_raw(path, padded, header, 8 + padded + offset);
    free(header);
    if (data_bytes)
        *data_bytes = offset;
    return rc;
}

int stw_write_index(const char *dir, const char *const *names, const char *const *files, size_t n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
    cJSON_AddNumberToObject(meta, "total_size", 0);
    cJSON *map = cJSON_AddObjectToObject(root, "weight_map");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToObject(map, names[i], cJSON_CreateString(files[i]));
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    FILE *f = fopen(path, "w");
    int rc = -1;
    if (f) {
        rc = fputs(text, f) >= 0 ? 0 : -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    free(text);
    return rc;
}

int stw_write_sharded(const char *dir, const stw_tensor *tensors, size_t n, int n_shards)
{
    if (n_shards < 1 || n == 0)
        return -1;
    stw_tensor *part = malloc(n * sizeof *part);
    const char **names = malloc(n * sizeof *names);
    char (*files)[64] = malloc((size_t)n_shards * sizeof *files);
    const char **file_of = malloc(n * sizeof *file_of);
    int rc = part && names && files && file_of ? 0 : -1;
    for (int s = 0; rc == 0 && s < n_shards; s++) {
        snprintf(files[s], sizeof files[s], "model-%05d-of-%05d.safetensors", s + 1, n_shards);
        size_t k = 0;
        for (size_t i = (size_t)s; i < n; i += (size_t)n_shards) {
            part[k++] = tensors[i];
            names[i] = tensors[i].name;
            file_of[i] = files[s];
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[s]);
        rc = stw_write(path, part, k, "{\"format\": \"pt\"}", NULL);
    }
    if (rc == 0)
        rc = stw_write_index(dir, names, file_of, n);
    free(part);
    free(names);
    free(files);
    free(file_of);
    return rc;
}

int stw_write_config_text(const char *dir, const char *json)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(json, f) >= 0 ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static void add_uint(cJSON *o, const char *key, uint32_t v)
{
    if (v)
        cJSON_AddNumberToObject(o, key, v);
}

int stw_write_config(const char *dir, const stw_config *cfg)
{
    const hr_shape *s = &cfg->shape;
    cJSON *root = cJSON_CreateObject();
    cJSON *archs = cJSON_AddArrayToObject(root, "architectures");
    if (cfg->architecture)
        cJSON_AddItemToArray(archs, cJSON_CreateString(cfg->architecture));
    if (cfg->model_type)
        cJSON_AddStringToObject(root, "model_type", cfg->model_type);
    if (cfg->torch_dtype)
        cJSON_AddStringToObject(root, "torch_dtype", cfg->torch_dtype);
    add_uint(root, "num_hidden_layers", s->n_layer);
    add_uint(root, "hidden_size", s->n_embd);
    add_uint(root, "vocab_size", s->n_vocab);
    add_uint(root, "max_position_embeddings", s->n_ctx_train);
    add_uint(root, "num_attention_heads", s->n_head);
    add_uint(root, "num_key_value_heads", s->n_head_kv);
    add_uint(root, "head_dim", s->head_dim);
    add_uint(root, "intermediate_size", s->n_ff);
    add_uint(root, "sliding_window", s->n_swa);
    add_uint(root, "num_local_experts", s->n_expert);
    add_uint(root, "num_experts_per_tok", s->n_expert_used);
    add_uint(root, "moe_intermediate_size", s->n_ff_exp);
    cJSON_AddBoolToObject(root, "tie_word_embeddings", s->tied_output);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return -1;
    int rc;
    if (cfg->extra_json && *cfg->extra_json) {
        /* splice extra members before the closing brace */
        size_t len = strlen(text);
        size_t need = len + strlen(cfg->extra_json) + 4;
        char *joined = malloc(need);
        if (!joined) {
            free(text);
            return -1;
        }
        text[len - 1] = '\0';
        snprintf(joined, need, "%s,%s}", text, cfg->extra_json);
        rc = stw_write_config_text(dir, joined);
        free(joined);
    } else {
        rc = stw_write_config_text(dir, text);
    }
    free(text);
    return rc;
}

static int push(stw_tensor *list, size_t *n, const char *dtype, int rank, int64_t d0, int64_t d1,
                const char *fmt, int layer, const char *leaf)
{
    char name[160];
    if (layer >= 0)
        snprintf(name, sizeof name, fmt, layer, leaf);
    else
        snprintf(name, sizeof name, "%s", fmt);
    stw_tensor *t = &list[(*n)++];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->dtype = dtype;
    t->rank = rank;
    t->shape[0] = d0;
    t->shape[1] = d1;
    return t->name ? 0 : -1;
}

int stw_llama_tensors(const hr_shape *s, const char *dtype, stw_tensor **out, size_t *n_out)
{
    const int64_t e = s->n_embd, heads = s->n_head, kv = s->n_head_kv ? s->n_head_kv : s->n_head;
    const int64_t hd = s->head_dim ? s->head_dim : e / heads, ff = s->n_ff;
    size_t cap = 3 + (size_t)s->n_layer * 12;
    stw_tensor *list = calloc(cap, sizeof *list);
    if (!list)
        return -1;
    size_t n = 0;
    int rc = push(list, &n, dtype, 2, s->n_vocab, e, "model.embed_tokens.weight", -1, NULL);
    for (int il = 0; rc == 0 && il < (int)s->n_layer; il++) {
        const char *f = "model.layers.%d.%s";
        rc |= push(list, &n, dtype, 1, e, 0, f, il, "input_layernorm.weight");
        rc |= push(list, &n, dtype, 2, heads * hd, e, f, il, "self_attn.q_proj.weight");
        rc |= push(list, &n, dtype, 2, kv * hd, e, f, il, "self_attn.k_proj.weight");
        rc |= push(list, &n, dtype, 2, kv * hd, e, f, il, "self_attn.v_proj.weight");
        if (s->qkv_bias) {
            rc |= push(list, &n, dtype, 1, heads * hd, 0, f, il, "self_attn.q_proj.bias");
            rc |= push(list, &n, dtype, 1, kv * hd, 0, f, il, "self_attn.k_proj.bias");
            rc |= push(list, &n, dtype, 1, kv * hd, 0, f, il, "self_attn.v_proj.bias");
        }
        rc |= push(list, &n, dtype, 2, e, heads * hd, f, il, "self_attn.o_proj.weight");
        rc |= push(list, &n, dtype, 1, e, 0, f, il, "post_attention_layernorm.weight");
        rc |= push(list, &n, dtype, 2, ff, e, f, il, "mlp.gate_proj.weight");
        rc |= push(list, &n, dtype, 2, ff, e, f, il, "mlp.up_proj.weight");
        rc |= push(list, &n, dtype, 2, e, ff, f, il, "mlp.down_proj.weight");
    }
    if (rc == 0)
        rc = push(list, &n, dtype, 1, e, 0, "model.norm.weight", -1, NULL);
    if (rc == 0 && !s->tied_output)
        rc = push(list, &n, dtype, 2, s->n_vocab, e, "lm_head.weight", -1, NULL);
    if (rc != 0) {
        stw_free_tensors(list, n);
        return -1;
    }
    *out = list;
    *n_out = n;
    return 0;
}

void stw_free_tensors(stw_tensor *tensors, size_t n)
{
    if (!tensors)
        return;
    for (size_t i = 0; i < n; i++)
        free((char *)tensors[i].name);
    free(tensors);
}
