/* hr_preset_parse: one model shape per YAML file, read with libyaml's
 * document API. Keys mirror hr_shape; unknown keys and missing required
 * keys are errors naming the file and the key. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/yaml_doc.h"
#include "headroom/preset.h"

#define PRESET_MAX_BYTES (1u << 20)
#define PRESET_MAX_STRING 255

typedef enum value_kind { V_STRING, V_U32, V_BOOL, V_FLOAT, V_QUANT, V_DTYPE } value_kind;

typedef struct key_spec {
    const char *key;
    value_kind kind;
    size_t offset;   /* into hr_shape */
    bool required;
} key_spec;

#define U32(k, field, req) {k, V_U32, offsetof(hr_shape, field), req}
#define BOOLK(k, field) {k, V_BOOL, offsetof(hr_shape, field), false}
#define FLT(k, field) {k, V_FLOAT, offsetof(hr_shape, field), false}

static const key_spec KEYS[] = {
    {"name", V_STRING, offsetof(hr_shape, name), true},
    {"arch", V_STRING, offsetof(hr_shape, arch_name), true},
    {"layer_pattern", V_STRING, offsetof(hr_shape, layer_pattern), false},
    U32("layers", n_layer, true),
    U32("embd", n_embd, true),
    U32("vocab", n_vocab, true),
    U32("ctx_train", n_ctx_train, true),
    U32("heads", n_head, false),
    U32("kv_heads", n_head_kv, false),
    U32("head_dim", head_dim, false),
    U32("head_dim_v", head_dim_v, false),
    U32("ffn", n_ff, false),
    U32("sliding_window", n_swa, false),
    U32("swa_pattern", swa_pattern, false),
    U32("experts", n_expert, false),
    U32("experts_used", n_expert_used, false),
    U32("experts_shared", n_expert_shared, false),
    U32("ffn_exp", n_ff_exp, false),
    U32("ffn_shexp", n_ff_shexp, false),
    U32("dense_lead", n_layer_dense_lead, false),
    U32("kv_lora_rank", n_lora_kv, false),
    U32("q_lora_rank", n_lora_q, false),
    U32("rope_dim", n_rot, false),
    U32("qk_nope_dim", head_dim_qk_nope, false),
    U32("ssm_conv", ssm_d_conv, false),
    U32("ssm_inner", ssm_d_inner, false),
    U32("ssm_state", ssm_d_state, false),
    U32("ssm_dt_rank", ssm_dt_rank, false),
    U32("ssm_groups", ssm_n_group, false),
    U32("rwkv_head_size", rwkv_head_size, false),
    U32("shortconv_l_cache", shortconv_l_cache, false),
    U32("attn_layer_period", attn_layer_period, false),
    U32("attn_layer_offset", attn_layer_offset, false),
    U32("expert_layer_period", expert_layer_period, false),
    U32("pooling", pooling, false),
    U32("expert_layer_offset", expert_layer_offset, false),
    U32("pos_embd", n_pos_embd, false),
    BOOLK("tied", tied_output),
    BOOLK("qkv_bias", qkv_bias),
    BOOLK("attn_bias", attn_bias),
    BOOLK("ffn_bias", ffn_bias),
    BOOLK("causal", causal),
    BOOLK("embedding_only", embedding_only),
    BOOLK("rope_freqs", rope_freqs),
    BOOLK("no_rope", no_rope),
    BOOLK("ssm_no_norm", ssm_no_norm),
    BOOLK("ssm_fused_qkvz", ssm_fused_qkvz),
    BOOLK("experts_norm", expert_weights_norm),
    FLT("experts_scale", expert_weights_scale),
    FLT("embedding_scale", embedding_scale),
    FLT("residual_scale", residual_scale),
    FLT("logit_scale", logit_scale),
    FLT("attn_softcap", attn_logit_softcap),
    FLT("final_softcap", final_logit_softcap),
    {"quant", V_QUANT, offsetof(hr_shape, ftype), false},
    {"dtype", V_DTYPE, offsetof(hr_shape, dtype), false},
};

#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

static const key_spec *find_key(const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(KEYS[i].key, key) == 0)
            return &KEYS[i];
    return NULL;
}

static bool parse_u32(const char *v, uint32_t *out)
{
    if (!*v || *v == '-' || *v == '+')
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x > UINT32_MAX)
        return false;
    *out = (uint32_t)x;
    return true;
}

/* YAML 1.1's on/off as well as true/yes, false/no */
static bool parse_bool(const char *v, bool *out)
{
    if (hr_yaml_text_bool(v, out))
        return true;
    if (!strcasecmp(v, "on") || !strcasecmp(v, "off")) {
        *out = !strcasecmp(v, "on");
        return true;
    }
    return false;
}

static bool parse_float(const char *v, float *out)
{
    double x;
    /* [0, 1e9) */
    if (!hr_yaml_text_number(v, 0.0, nextafter(1e9, 0.0), &x))
        return false;
    *out = (float)x;
    return true;
}

typedef struct parse_ctx {
    const char *origin;
    hr_shape *shape;
    hr_error *err;
    bool seen[N_KEYS];
    /* string values, copied into one malloc'd block at the end */
    const char *str_value[3]; /* name, arch, layer_pattern */
    size_t str_len[3];
} parse_ctx;

static hr_status set_value(parse_ctx *c, const key_spec *k, const char *v, size_t line)
{
    char *base = (char *)c->shape;
    switch (k->kind) {
    case V_STRING: {
        size_t n = strlen(v);
        if (n == 0 || n > PRESET_MAX_STRING)
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%zu: '%s' must be 1..%d characters",
                                c->origin, line, k->key, PRESET_MAX_STRING);
        const int slot = k->offset == offsetof(hr_shape, name)        ? 0
                         : k->offset == offsetof(hr_shape, arch_name) ? 1
                                                                      : 2;
        c->str_value[slot] = v;
        c->str_len[slot] = n;
        return HR_OK;
    }
    case V_U32:
        if (!parse_u32(v, (uint32_t *)(base + k->offset)))
            return hr_error_set(c->err, HR_ERR_FORMAT,
                                "%s:%zu: '%s' must be a whole number, not '%s'", c->origin, line,
                                k->key, v);
        return HR_OK;
    case V_BOOL:
        if (!parse_bool(v, (bool *)(base + k->offset)))
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%zu: '%s' must be true or false",
                                c->origin, line, k->key);
        return HR_OK;
    case V_FLOAT:
        if (!parse_float(v, (float *)(base + k->offset)))
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%zu: '%s' must be a number >= 0",
                                c->origin, line, k->key);
        return HR_OK;
    case V_QUANT: {
        hr_ftype f = hr_ftype_from_name(v);
        if (f == HR_FTYPE_UNKNOWN)
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%zu: unknown quant '%s'", c->origin,
                                line, v);
        c->shape->ftype = f;
        return HR_OK;
    }
    case V_DTYPE: {
        hr_type t = hr_type_from_name(v);
        if (t != HR_TYPE_F32 && t != HR_TYPE_F16 && t != HR_TYPE_BF16)
            return hr_error_set(c->err, HR_ERR_FORMAT,
                                "%s:%zu: dtype '%s' must be F32, F16 or BF16", c->origin, line, v);
        c->shape->dtype = t;
        return HR_OK;
    }
    }
    return HR_OK;
}

static hr_status walk_document(parse_ctx *c, hr_yaml_doc *doc)
{
    yaml_node_t *root = hr_yaml_root(doc);
    if (!root)
        return hr_error_set(c->err, HR_ERR_FORMAT, "%s: empty preset", c->origin);
    if (root->type != YAML_MAPPING_NODE)
        return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%u: a preset is a mapping of keys",
                            c->origin, hr_yaml_line(root));
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = hr_yaml_node(doc, p->key);
        yaml_node_t *vn = hr_yaml_node(doc, p->value);
        const char *key = hr_yaml_scalar(kn);
        size_t line = hr_yaml_line(kn);
        if (!key)
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%zu: keys must be plain words",
                                c->origin, line);
        const key_spec *k = find_key(key);
        if (!k)
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%zu: unknown key '%s'", c->origin,
                                line, key);
        size_t idx = (size_t)(k - KEYS);
        if (c->seen[idx])
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%zu: key '%s' given twice", c->origin,
                                line, key);
        c->seen[idx] = true;
        const char *v = hr_yaml_scalar(vn);
        if (!v)
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%zu: '%s' needs a single value",
                                c->origin, line, key);
        hr_status st = set_value(c, k, v, line);
        if (st != HR_OK)
            return st;
    }
    for (size_t i = 0; i < N_KEYS; i++)
        if (KEYS[i].required && !c->seen[i])
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s: missing required key '%s'",
                                c->origin, KEYS[i].key);
    bool has_quant = c->seen[find_key("quant") - KEYS], has_dtype = c->seen[find_key("dtype") - KEYS];
    if (has_quant == has_dtype)
        return hr_error_set(c->err, HR_ERR_FORMAT,
                            "%s: give exactly one of 'quant' (GGUF) or 'dtype' (checkpoint)",
                            c->origin);
    if (has_dtype)
        c->shape->ftype = HR_FTYPE_UNKNOWN;
    return HR_OK;
}

hr_status hr_preset_parse(const char *yaml, size_t len, const char *origin, hr_shape *shape,
                          char **strings, hr_error *err)
{
    if (!origin)
        origin = "preset";
    if (!yaml || !shape || !strings)
        return hr_error_set(err, HR_ERR_ARG, "%s: nothing to parse", origin);
    *strings = NULL;
    if (len > PRESET_MAX_BYTES)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: preset larger than %u bytes", origin,
                            PRESET_MAX_BYTES);
    hr_shape_init(shape);

    hr_yaml_doc doc;
    hr_status st = hr_yaml_doc_load(&doc, yaml, len, origin, "bad YAML", err);
    if (st != HR_OK)
        return st;
    parse_ctx c;
    memset(&c, 0, sizeof c);
    c.origin = origin;
    c.shape = shape;
    c.err = err;
    st = walk_document(&c, &doc);
    if (st == HR_OK) {
        /* one block: "name\0arch\0pattern\0" (the pattern may be absent) */
        char *block = malloc(c.str_len[0] + c.str_len[1] + c.str_len[2] + 3);
        if (!block) {
            st = hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", origin);
        } else {
            const char **dst[3] = {&shape->name, &shape->arch_name, &shape->layer_pattern};
            char *at = block;
            for (int i = 0; i < 3; i++) {
                if (!c.str_value[i])
                    continue;
                memcpy(at, c.str_value[i], c.str_len[i] + 1);
                *dst[i] = at;
                at += c.str_len[i] + 1;
            }
            *strings = block;
        }
    }
    if (st != HR_OK) {
        shape->name = shape->arch_name = shape->layer_pattern = NULL;
    }
    hr_yaml_doc_free(&doc);
    return st;
}
