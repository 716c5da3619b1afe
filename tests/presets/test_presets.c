/* Built-in presets (configs/models) and the YAML reader (engine/src/preset). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_writer.h"
#include "test_util.h"

#include "headroom/model.h"
#include "headroom/preset.h"

/* Published parameter counts (shared/reference/formats.md and model cards). */
static const struct {
    const char *id;
    double params;
} PUBLISHED[] = {
    {"llama-3.1-8b", 8.03e9},        {"llama-3.1-70b", 70.55e9},
    {"llama-3.2-1b", 1.24e9},        {"mistral-7b", 7.25e9},
    {"mixtral-8x7b", 46.7e9},        {"qwen2.5-0.5b", 0.494e9},
    {"qwen2.5-7b", 7.62e9},          {"gemma-2-9b", 9.24e9},
    {"phi-3-mini", 3.82e9},          {"deepseek-v2-lite", 15.7e9},
    {"bitnet-b1.58-2b-4t", 2.41e9},  {"stella_en_400m_v5", 0.434e9},
    {"stella_en_1.5b_v5", 1.54e9},   {"granite-4.0-h-tiny", 6.94e9},
    {"lfm2-1.2b", 1.17e9},          {"jamba-v0.1", 51.6e9},
};
#define N_PUBLISHED (sizeof PUBLISHED / sizeof PUBLISHED[0])

static hr_model *load(const char *id)
{
    hr_model *m = NULL;
    hr_error err = {0};
    if (hr_preset_load(NULL, id, &m, &err) != HR_OK)
        fail_msg("preset %s: %s", id, err.message);
    return m;
}

static void test_every_preset_loads_near_published(void **state)
{
    (void)state;
    hr_preset_info *list = NULL;
    int count = 0;
    hr_error err;
    assert_int_equal(hr_preset_list(NULL, &list, &count, &err), HR_OK);
    assert_true(count >= (int)N_PUBLISHED);
    for (size_t k = 0; k < N_PUBLISHED; k++) {
        bool listed = false;
        for (int i = 0; i < count; i++)
            listed |= strcmp(list[i].id, PUBLISHED[k].id) == 0;
        if (!listed)
            fail_msg("preset %s not listed", PUBLISHED[k].id);
    }
    for (int i = 0; i < count; i++) {
        hr_model *m = load(list[i].id);
        assert_int_equal(m->source, HR_SOURCE_PRESET);
        assert_string_equal(m->name, list[i].name);
        assert_string_equal(m->path, list[i].id);
        assert_true(m->n_tensors > 0 && m->n_bytes > 0);
        for (size_t k = 0; k < N_PUBLISHED; k++) {
            if (strcmp(PUBLISHED[k].id, list[i].id) != 0)
                continue;
            double ratio = (double)m->n_params / PUBLISHED[k].params;
            if (fabs(ratio - 1.0) > 0.02)
                fail_msg("%s: %llu params, published %.3g", list[i].id,
                         (unsigned long long)m->n_params, PUBLISHED[k].params);
        }
        hr_model_free(m);
    }
    free(list);
}

static void test_lookup_by_id_name_and_open(void **state)
{
    (void)state;
    hr_model *m = load("LLAMA-3.1-8B");
    assert_string_equal(m->name, "Llama-3.1-8B");
    assert_int_equal(m->ftype, HR_FTYPE_MOSTLY_Q4_K_M);
    /* the published Q4_K_M GGUF is 4.58 GiB */
    assert_true(fabs((double)m->n_bytes / (1024.0 * 1024 * 1024) - 4.58) < 0.01);
    hr_model_free(m);

    m = load("Phi-3-mini-4k"); /* display name, not the file stem */
    assert_string_equal(m->path, "phi-3-mini");
    assert_true(m->has_fused_qkv);
    hr_model_free(m);

    hr_error err;
    assert_int_equal(hr_model_open(HR_DEFAULT_PRESET, &m, &err), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_LLAMA);
    assert_int_equal(m->n_layer, 32);
    hr_model_free(m);

    m = NULL;
    assert_int_equal(hr_preset_load(NULL, "no-such-model-xyz", &m, &err), HR_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no-such-model-xyz"));
    assert_null(m);
}

static void test_preset_shapes(void **state)
{
    (void)state;
    hr_model *m = load("gemma-2-9b");
    assert_int_equal(m->n_swa, 4096);
    for (uint32_t il = 0; il < m->n_layer; il++)
        assert_int_equal(m->layers[il].is_swa, il % 2 == 0);
    assert_true(fabs(m->attn_logit_softcap - 50.0f) < 1e-6);
    assert_true(fabs(m->final_logit_softcap - 30.0f) < 1e-6);
    assert_true(m->tied_output);
    hr_model_free(m);

    m = load("deepseek-v2-lite");
    assert_true(m->is_mla);
    assert_int_equal(m->n_lora_kv, 512);
    assert_int_equal(m->layers[5].n_head_kv, 1);
    assert_int_equal(m->layers[0].n_expert, 0);
    assert_int_equal(m->layers[1].n_expert, 64);
    hr_model_free(m);

    m = load("bitnet-b1.58-2b-4t");
    assert_int_equal(m->ftype, HR_FTYPE_BITNET_I2_S);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        if (strcmp(t->name, "token_embd.weight") == 0)
            assert_int_equal(t->type, HR_TYPE_F16);
        else if (t->n_dims == 1)
            assert_int_equal(t->type, HR_TYPE_F32);
        else
            assert_int_equal(t->type, HR_TYPE_BITNET_I2_S);
    }
    hr_model_free(m);

    m = load("stella_en_400M_v5");
    assert_false(m->causal);
    assert_true(m->embedding_only);
    for (size_t i = 0; i < m->n_tensors; i++)
        assert_int_equal(m->tensors[i].type, HR_TYPE_F32);
    assert_int_equal(m->n_bytes, m->n_params * 4);
    hr_model_free(m);

    m = load("qwen2.5-0.5b");
    assert_true(m->has_qkv_bias);
    assert_int_equal(m->ftype, HR_FTYPE_MOSTLY_Q8_0);
    hr_model_free(m);
}

/* ---- parser errors, on YAML written here ---- */

static const char *GOOD =
    "# a test preset\n"
    "name: Tiny-Test\n"
    "arch: llama\n"
    "layers: 2\n"
    "embd: 256\n"
    "vocab: 1000\n"
    "ctx_train: 4096\n"
    "heads: 4\n"
    "kv_heads: 2\n"
    "ffn: 512\n"
    "tied: yes\n"
    "quant: q8_0\n";

static hr_status parse(const char *text, hr_shape *s, hr_error *err)
{
    char *strings = NULL;
    hr_status st = hr_preset_parse(text, strlen(text), "test.yaml", s, &strings, err);
    free(strings);
    return st;
}

static void expect_error(const char *text, hr_status want, const char *part)
{
    hr_shape s;
    hr_error err = {0};
    hr_status st = parse(text, &s, &err);
    if (st != want)
        fail_msg("status %d, want %d (%s) for:\n%s", st, want, err.message, text);
    if (!strstr(err.message, "test.yaml") || (part && !strstr(err.message, part)))
        fail_msg("message '%s' should name test.yaml and '%s'", err.message, part);
}

static char *with(const char *extra)
{
    size_t n = strlen(GOOD) + strlen(extra) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s", GOOD, extra);
    return s;
}

static char *without(const char *key)
{
    char *s = strdup(GOOD);
    char *at = strstr(s, key);
    char *eol = strchr(at, '\n');
    memmove(at, eol + 1, strlen(eol + 1) + 1);
    return s;
}

static void test_parse_good_and_bad(void **state)
{
    (void)state;
    hr_shape s;
    char *strings = NULL;
    hr_error err;
    assert_int_equal(hr_preset_parse(GOOD, strlen(GOOD), "test.yaml", &s, &strings, &err), HR_OK);
    assert_string_equal(s.name, "Tiny-Test");
    assert_string_equal(s.arch_name, "llama");
    assert_int_equal(s.n_layer, 2);
    assert_int_equal(s.n_head_kv, 2);
    assert_true(s.tied_output);
    assert_true(s.causal);
    assert_int_equal(s.ftype, HR_FTYPE_MOSTLY_Q8_0);
    free(strings);

    char *t;
    expect_error("name: [unclosed\n", HR_ERR_FORMAT, "bad YAML");
    expect_error("", HR_ERR_FORMAT, "empty");
    expect_error("- a\n- b\n", HR_ERR_FORMAT, "mapping");
    expect_error((t = with("colour: blue\n")), HR_ERR_FORMAT, "colour"); free(t);
    expect_error((t = with("layers: 3\n")), HR_ERR_FORMAT, "twice"); free(t);
    expect_error((t = with("dtype: F32\n")), HR_ERR_FORMAT, "exactly one"); free(t);
    expect_error((t = with("experts: lots\n")), HR_ERR_FORMAT, "experts"); free(t);
    expect_error((t = with("experts: -1\n")), HR_ERR_FORMAT, "experts"); free(t);
    expect_error((t = with("qkv_bias: maybe\n")), HR_ERR_FORMAT, "qkv_bias"); free(t);
    expect_error((t = with("heads_list: [1, 2]\n")), HR_ERR_FORMAT, "heads_list"); free(t);
    expect_error((t = with("swa_pattern: [1, 2]\n")), HR_ERR_FORMAT, "swa_pattern"); free(t);
    expect_error((t = without("vocab:")), HR_ERR_FORMAT, "vocab"); free(t);
    expect_error((t = without("arch:")), HR_ERR_FORMAT, "arch"); free(t);
    expect_error((t = without("quant:")), HR_ERR_FORMAT, "quant"); free(t);
    t = without("quant:");
    size_t u_len = strlen(t) + 32;
    char *u = malloc(u_len);
    assert_non_null(u);
    snprintf(u, u_len, "%squant: Q9_Z\n", t);
    expect_error(u, HR_ERR_FORMAT, "Q9_Z");
    snprintf(u, u_len, "%sdtype: Q4_K\n", t);
    expect_error(u, HR_ERR_FORMAT, "dtype");
    free(u);
    free(t);
}

/* A preset directory of our own: listing, lookup, and shape errors that
 * name the file. */
static void test_own_directory(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("presets");
    assert_non_null(dir);
    char *good = tu_path(dir, "tiny.yaml");
    assert_int_equal(tu_write_text(good, GOOD), 0);
    char *other = tu_path(dir, "notes.txt");
    assert_int_equal(tu_write_text(other, "not a preset"), 0);

    hr_preset_info *list = NULL;
    int count = 0;
    hr_error err;
    assert_int_equal(hr_preset_list(dir, &list, &count, &err), HR_OK);
    assert_int_equal(count, 1);
    assert_string_equal(list[0].id, "tiny");
    assert_string_equal(list[0].name, "Tiny-Test");
    free(list);

    hr_model *m = NULL;
    assert_int_equal(hr_preset_load(dir, "tiny-test", &m, &err), HR_OK);
    assert_int_equal(m->n_layer, 2);
    assert_int_equal(m->ftype, HR_FTYPE_MOSTLY_Q8_0);
    hr_model_free(m);
    assert_int_equal(hr_preset_load(NULL, good, &m, &err), HR_OK); /* by path */
    assert_string_equal(m->path, "tiny");
    hr_model_free(m);

    /* a shape the engine rejects: the message names the file */
    char *bad = tu_path(dir, "bad.yaml");
    char *text = with("");
    char *heads = strstr(text, "kv_heads: 2");
    heads[10] = '3';
    assert_int_equal(tu_write_text(bad, text), 0);
    m = NULL;
    assert_int_equal(hr_preset_load(dir, "bad", &m, &err), HR_ERR_ARG);
    assert_non_null(strstr(err.message, "bad.yaml"));
    assert_null(m);
    /* one broken file makes the listing fail loudly, naming it */
    assert_int_equal(hr_preset_list(dir, &list, &count, &err), HR_OK);
    free(list);
    assert_int_equal(tu_write_text(bad, "name: [\n"), 0);
    assert_int_equal(hr_preset_list(dir, &list, &count, &err), HR_ERR_FORMAT);
    assert_non_null(strstr(err.message, "bad.yaml"));
    /* the good one still loads by its stem */
    assert_int_equal(hr_preset_load(dir, "tiny", &m, &err), HR_OK);
    hr_model_free(m);

    free(text);
    free(bad);
    free(good);
    free(other);
    tu_remove_tree(dir);
    free(dir);
}

static const hr_tensor *find_tensor(const hr_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

/* Every preset written as a GGUF and read back by the GGUF reader gives the
 * same tensors (name, type, dims, bytes) and the same llama.cpp hparams. */
static void test_presets_agree_with_gguf(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("preset-gguf");
    assert_non_null(dir);
    hr_preset_info *list = NULL;
    int count = 0;
    hr_error err;
    assert_int_equal(hr_preset_list(NULL, &list, &count, &err), HR_OK);
    for (int i = 0; i < count; i++) {
        hr_model *p = load(list[i].id);
        char file[96];
        snprintf(file, sizeof file, "%s.gguf", list[i].id);
        char *path = tu_path(dir, file);
        if (gguf_writer_from_model(p, path) != 0)
            fail_msg("%s: cannot write the GGUF", list[i].id);
        hr_model *g = NULL;
        if (hr_model_open_gguf(path, &g, &err) != HR_OK)
            fail_msg("%s: %s", list[i].id, err.message);
        if (g->n_tensors != p->n_tensors)
            fail_msg("%s: GGUF has %zu tensors, preset %zu", list[i].id, g->n_tensors,
                     p->n_tensors);
        for (size_t k = 0; k < p->n_tensors; k++) {
            const hr_tensor *a = &p->tensors[k], *b = find_tensor(g, a->name);
            if (!b)
                fail_msg("%s: %s missing from the GGUF", list[i].id, a->name);
            if (a->type != b->type || a->bytes != b->bytes || a->n_dims != b->n_dims ||
                memcmp(a->ne, b->ne, sizeof a->ne) != 0 || a->layer != b->layer)
                fail_msg("%s: %s differs (type %d/%d bytes %llu/%llu dims %u/%u)", list[i].id,
                         a->name, a->type, b->type, (unsigned long long)a->bytes,
                         (unsigned long long)b->bytes, a->n_dims, b->n_dims);
        }
        assert_int_equal(g->n_bytes, p->n_bytes);
        assert_int_equal(g->n_params, p->n_params);
        assert_int_equal(g->ftype, p->ftype);
        assert_int_equal(g->arch, p->arch);
        assert_int_equal(g->n_layer, p->n_layer);
        assert_int_equal(g->n_embd, p->n_embd);
        assert_int_equal(g->n_vocab, p->n_vocab);
        assert_int_equal(g->n_ctx_train, p->n_ctx_train);
        assert_int_equal(g->tied_output, p->tied_output);
        assert_int_equal(g->is_mla, p->is_mla);
        assert_int_equal(g->n_swa, p->n_swa);
        assert_int_equal(g->n_expert, p->n_expert);
        assert_int_equal(g->n_expert_used, p->n_expert_used);
        for (uint32_t il = 0; il < p->n_layer; il++) {
            const hr_layer *a = &p->layers[il], *b = &g->layers[il];
            if (a->n_head != b->n_head || a->n_head_kv != b->n_head_kv ||
                a->n_embd_head_k != b->n_embd_head_k || a->n_embd_head_v != b->n_embd_head_v ||
                a->is_swa != b->is_swa || a->n_expert != b->n_expert || a->n_ff != b->n_ff ||
                a->is_recurrent != b->is_recurrent)
                fail_msg("%s: layer %u hparams differ (heads %u/%u kv %u/%u k %u/%u v %u/%u "
                         "swa %d/%d experts %u/%u ff %u/%u)", list[i].id, il, a->n_head,
                         b->n_head, a->n_head_kv, b->n_head_kv, a->n_embd_head_k,
                         b->n_embd_head_k, a->n_embd_head_v, b->n_embd_head_v, a->is_swa,
                         b->is_swa, a->n_expert, b->n_expert, a->n_ff, b->n_ff);
        }
        hr_model_free(g);
        hr_model_free(p);
        free(path);
    }
    free(list);
    tu_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_preset_loads_near_published),
        cmocka_unit_test(test_lookup_by_id_name_and_open),
        cmocka_unit_test(test_preset_shapes),
        cmocka_unit_test(test_parse_good_and_bad),
        cmocka_unit_test(test_own_directory),
        cmocka_unit_test(test_presets_agree_with_gguf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
