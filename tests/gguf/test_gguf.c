/* GGUF reader: versions, every metadata type, typed accessors, tensor sizes
 * for every ggml type, split sets, and the writer's from-model round trip. */
#include <math.h>
#include <unistd.h>

#include "gguf_fixture.h"
#include "gguf/gguf_reader.h"

/* A small llama: 2 layers, every metadata value type, a few tensors. */
static gguf_writer *llama_fixture(uint32_t version)
{
    gguf_writer *w = gguf_writer_new(version);
    fx_add_shape(w, "llama", 2, 256, 8, 2, 512);
    gguf_writer_add_u32(w, "general.file_type", HR_FTYPE_MOSTLY_Q4_K_M);
    gguf_writer_add_u32(w, "llama.rope.dimension_count", 32);
    gguf_writer_add_u8(w, "test.u8", 200);
    gguf_writer_add_i8(w, "test.i8", -100);
    gguf_writer_add_u16(w, "test.u16", 60000);
    gguf_writer_add_i16(w, "test.i16", -30000);
    gguf_writer_add_u32(w, "test.u32", 4000000000u);
    gguf_writer_add_i32(w, "test.i32", -2000000000);
    gguf_writer_add_f32(w, "test.f32", 1.5f);
    gguf_writer_add_bool(w, "test.bool", true);
    gguf_writer_add_string(w, "test.string", "hello gguf");
    gguf_writer_add_u64(w, "test.u64", 1ull << 40);
    gguf_writer_add_i64(w, "test.i64", -(1ll << 40));
    gguf_writer_add_f64(w, "test.f64", -2.25);
    const int16_t i16s[3] = {-1, 2, -3};
    gguf_writer_add_array(w, "test.arr_i16", GW_INT16, i16s, 3);
    const double f64s[2] = {0.5, 1e100};
    gguf_writer_add_array(w, "test.arr_f64", GW_FLOAT64, f64s, 2);
    const bool bools[3] = {true, false, true};
    gguf_writer_add_array(w, "test.arr_bool", GW_BOOL, bools, 3);
    const char *strs[2] = {"alpha", ""};
    gguf_writer_add_string_array(w, "test.arr_str", strs, 2);
    gguf_writer_add_dummy_tokens(w, 1000);

    int64_t embd[2] = {256, 1000}, sq[2] = {256, 256}, kv[2] = {256, 64}, ffn[2] = {256, 512},
            down[2] = {512, 256}, norm[1] = {256}, bias[1] = {256};
    gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_Q4_K, 2, embd);
    for (int l = 0; l < 2; l++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", l);
        gguf_writer_add_tensor(w, name, HR_TYPE_Q4_K, 2, sq);
        snprintf(name, sizeof name, "blk.%d.attn_q.bias", l);
        gguf_writer_add_tensor(w, name, HR_TYPE_F32, 1, bias);
        snprintf(name, sizeof name, "blk.%d.attn_k.weight", l);
        gguf_writer_add_tensor(w, name, HR_TYPE_Q4_K, 2, kv);
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", l);
        gguf_writer_add_tensor(w, name, HR_TYPE_Q6_K, 2, kv);
        snprintf(name, sizeof name, "blk.%d.ffn_up.weight", l);
        gguf_writer_add_tensor(w, name, HR_TYPE_Q4_K, 2, ffn);
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", l);
        gguf_writer_add_tensor(w, name, HR_TYPE_Q6_K, 2, down);
        snprintf(name, sizeof name, "blk.%d.attn_norm.weight", l);
        gguf_writer_add_tensor(w, name, HR_TYPE_F32, 1, norm);
    }
    gguf_writer_add_tensor(w, "output_norm.weight", HR_TYPE_F32, 1, norm);
    gguf_writer_add_tensor(w, "output.weight", HR_TYPE_Q6_K, 2, embd);
    return w;
}

static void check_raw_values(const char *path, uint32_t version)
{
    gguf_file f;
    hr_error err;
    assert_int_equal(gguf_file_open(path, &f, &err), HR_OK);
    assert_int_equal(f.version, version);
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    int64_t i64 = 0;
    float f32 = 0;
    bool b = false, found = false;
    assert_int_equal(gguf_get_u32(&f, "test.u8", &u32, &found, &err), HR_OK);
    assert_true(found);
    assert_int_equal(u32, 200);
    assert_int_equal(gguf_get_i64(&f, "test.i8", &i64, NULL, &err), HR_OK);
    assert_int_equal(i64, -100);
    assert_int_equal(gguf_get_u32(&f, "test.u16", &u32, NULL, &err), HR_OK);
    assert_int_equal(u32, 60000);
    assert_int_equal(gguf_get_i64(&f, "test.i16", &i64, NULL, &err), HR_OK);
    assert_int_equal(i64, -30000);
    assert_int_equal(gguf_get_u32(&f, "test.u32", &u32, NULL, &err), HR_OK);
    assert_int_equal(u32, 4000000000u);
    assert_int_equal(gguf_get_i64(&f, "test.i32", &i64, NULL, &err), HR_OK);
    assert_int_equal(i64, -2000000000);
    assert_int_equal(gguf_get_f32(&f, "test.f32", &f32, NULL, &err), HR_OK);
    assert_true(f32 == 1.5f);
    assert_int_equal(gguf_get_bool(&f, "test.bool", &b, NULL, &err), HR_OK);
    assert_true(b);
    const char *s;
    size_t len;
    assert_int_equal(gguf_get_str(&f, "test.string", &s, &len, NULL, &err), HR_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(s, "hello gguf", 10);
    assert_int_equal(gguf_get_u64(&f, "test.u64", &u64, NULL, &err), HR_OK);
    assert_int_equal(u64, 1ull << 40);
    assert_int_equal(gguf_get_i64(&f, "test.i64", &i64, NULL, &err), HR_OK);
    assert_int_equal(i64, -(1ll << 40));
    const gguf_kv *kv = gguf_find(&f, "test.f64");
    double d = 0;
    assert_non_null(kv);
    assert_true(gguf_value_float(kv->type, kv->data, &d));
    assert_true(d == -2.25);
    /* arrays: element type, count and values */
    kv = gguf_find(&f, "test.arr_i16");
    assert_int_equal(kv->type, GGUF_TYPE_ARRAY);
    assert_int_equal(kv->elem_type, GGUF_TYPE_INT16);
    assert_int_equal(kv->n, 3);
    assert_true(gguf_value_int(kv->elem_type, kv->data + 4, &i64));
    assert_int_equal(i64, -3);
    kv = gguf_find(&f, "test.arr_f64");
    assert_true(gguf_value_float(kv->elem_type, kv->data + 8, &d));
    assert_true(d == 1e100);
    bool bs[3];
    assert_int_equal(gguf_get_bool_per_layer(&f, "test.arr_bool", bs, 3, NULL, &err), HR_OK);
    assert_true(bs[0] && !bs[1] && bs[2]);
    assert_int_equal(gguf_array_len(&f, "test.arr_str"), 2);
    assert_int_equal(gguf_array_len(&f, "tokenizer.ggml.tokens"), 1000);
    /* a present key of the wrong type is an error naming the key */
    assert_int_equal(gguf_get_u32(&f, "test.string", &u32, NULL, &err), HR_ERR_FORMAT);
    assert_non_null(strstr(err.message, "test.string"));
    assert_int_equal(gguf_get_u32(&f, "test.i8", &u32, NULL, &err), HR_ERR_FORMAT);
    assert_int_equal(gguf_get_u32(&f, "test.u64", &u32, NULL, &err), HR_ERR_FORMAT);
    /* missing key: found = false, value untouched */
    u32 = 77;
    assert_int_equal(gguf_get_u32(&f, "test.absent", &u32, &found, &err), HR_OK);
    assert_false(found);
    assert_int_equal(u32, 77);
    assert_int_equal(f.alignment, 32);
    assert_int_equal(f.data_start % 32, 0);
    gguf_file_close(&f);
}

static void test_versions_and_fields(void **state)
{
    (void)state;
    for (uint32_t version = 1; version <= 3; version++) {
        char name[32];
        snprintf(name, sizeof name, "llama-v%u.gguf", version);
        hr_model *m;
        hr_error err;
        char *path;
        assert_int_equal(fx_write_open(llama_fixture(version), name, &m, &err, &path), HR_OK);
        check_raw_values(path, version);
        assert_int_equal(m->source, HR_SOURCE_GGUF);
        assert_int_equal(m->gguf_version, version);
        assert_string_equal(m->arch_name, "llama");
        assert_int_equal(m->arch, HR_ARCH_LLAMA);
        assert_string_equal(m->name, "fixture");
        assert_string_equal(m->path, path);
        assert_int_equal(m->ftype, HR_FTYPE_MOSTLY_Q4_K_M);
        assert_string_equal(m->quant_name, "Q4_K_M");
        assert_int_equal(m->n_layer, 2);
        assert_int_equal(m->n_embd, 256);
        assert_int_equal(m->n_ctx_train, 4096);
        assert_int_equal(m->n_vocab, 1000); /* length of tokenizer.ggml.tokens */
        assert_int_equal(m->n_head, 8);
        assert_int_equal(m->n_head_kv, 2);
        assert_int_equal(m->n_embd_head_k, 32); /* n_embd / n_head */
        assert_int_equal(m->n_embd_head_v, 32);
        assert_int_equal(m->n_rot, 32);
        assert_int_equal(m->n_ff, 512);
        assert_int_equal(m->n_files, 1);
        assert_false(m->tied_output);
        assert_true(m->has_qkv_bias);
        assert_false(m->has_fused_qkv);
        assert_true(m->causal);
        assert_int_equal(m->n_tensors, 17);
        assert_int_equal(m->n_warnings, 0);
        for (uint32_t l = 0; l < 2; l++) {
            assert_int_equal(m->layers[l].n_head, 8);
            assert_int_equal(m->layers[l].n_head_kv, 2);
            assert_int_equal(m->layers[l].n_ff, 512);
            assert_true(m->layers[l].has_kv);
            assert_false(m->layers[l].is_swa);
            assert_false(m->layers[l].is_recurrent);
        }
        /* tensors: shapes, exact bytes, aligned consecutive offsets, layers */
        const hr_tensor *t0 = &m->tensors[0];
        assert_string_equal(t0->name, "token_embd.weight");
        assert_int_equal(t0->type, HR_TYPE_Q4_K);
        assert_int_equal(t0->n_dims, 2);
        assert_int_equal(t0->ne[0], 256);
        assert_int_equal(t0->ne[1], 1000);
        assert_int_equal(t0->bytes, 144ull * 1000);
        assert_int_equal(t0->offset, 0);
        assert_int_equal(t0->layer, HR_LAYER_INPUT);
        const hr_tensor *t1 = &m->tensors[1];
        assert_string_equal(t1->name, "blk.0.attn_q.weight");
        assert_int_equal(t1->offset, (144000 + 31) / 32 * 32);
        assert_int_equal(t1->layer, 0);
        assert_int_equal(t1->role, HR_ROLE_ATTN_Q);
        const hr_tensor *last = &m->tensors[m->n_tensors - 1];
        assert_string_equal(last->name, "output.weight");
        assert_int_equal(last->layer, HR_LAYER_OUTPUT);
        assert_int_equal(last->bytes, 210ull * 1000);
        uint64_t sum = 0;
        for (size_t i = 0; i < m->n_tensors; i++)
            sum += m->tensors[i].bytes;
        assert_int_equal(m->n_bytes, sum);
        hr_model_free(m);

        /* hr_model_open dispatches *.gguf here */
        assert_int_equal(hr_model_open(path, &m, &err), HR_OK);
        assert_int_equal(m->n_tensors, 17);
        hr_model_free(m);
        free(path);
    }
}

/* Integer keys written as u8/u16/u64/i32 read the same as u32. */
static void test_integer_key_widths(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "qwen2");
    gguf_writer_add_u64(w, "qwen2.block_count", 3);
    gguf_writer_add_u64(w, "qwen2.context_length", 32768);
    gguf_writer_add_i32(w, "qwen2.embedding_length", 896);
    gguf_writer_add_u16(w, "qwen2.feed_forward_length", 4864);
    gguf_writer_add_u8(w, "qwen2.attention.head_count", 14);
    gguf_writer_add_i64(w, "qwen2.attention.head_count_kv", 2);
    gguf_writer_add_u64(w, "qwen2.vocab_size", 151936);
    gguf_writer_add_u64(w, "general.file_type", HR_FTYPE_MOSTLY_BF16);
    int64_t embd[2] = {896, 151936};
    gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_BF16, 2, embd);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "widths.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->n_layer, 3);
    assert_int_equal(m->n_ctx_train, 32768);
    assert_int_equal(m->n_embd, 896);
    assert_int_equal(m->n_ff, 4864);
    assert_int_equal(m->n_head, 14);
    assert_int_equal(m->n_head_kv, 2);
    assert_int_equal(m->n_embd_head_k, 64);
    assert_int_equal(m->n_vocab, 151936);
    assert_int_equal(m->ftype, HR_FTYPE_MOSTLY_BF16);
    assert_true(m->tied_output);
    assert_int_equal(m->tensors[0].bytes, 896ull * 151936 * 2);
    hr_model_free(m);

    /* a negative count or a u64 above 32 bits is an error naming the key */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "qwen2");
    gguf_writer_add_i32(w, "qwen2.block_count", -1);
    fx_expect_error(w, "negative.gguf", HR_ERR_FORMAT, "qwen2.block_count");
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "qwen2");
    gguf_writer_add_u64(w, "qwen2.embedding_length", 1ull << 33);
    fx_expect_error(w, "wide.gguf", HR_ERR_FORMAT, "qwen2.embedding_length");
}

/* n_vocab: the tokenizer's token count, else ARCH.vocab_size, else token_embd rows. */
static void test_vocab_sources(void **state)
{
    (void)state;
    int64_t embd[2] = {64, 300};
    hr_model *m;
    hr_error err;
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 1, 64, 1, 1, 64);
    gguf_writer_add_u32(w, "llama.vocab_size", 320);
    gguf_writer_add_dummy_tokens(w, 310);
    gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_F16, 2, embd);
    assert_int_equal(fx_write_open(w, "vocab-tokens.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->n_vocab, 310);
    hr_model_free(m);
    w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 1, 64, 1, 1, 64);
    gguf_writer_add_u32(w, "llama.vocab_size", 320);
    gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_F16, 2, embd);
    assert_int_equal(fx_write_open(w, "vocab-key.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->n_vocab, 320);
    hr_model_free(m);
    w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 1, 64, 1, 1, 64);
    gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_F16, 2, embd);
    assert_int_equal(fx_write_open(w, "vocab-embd.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->n_vocab, 300);
    hr_model_free(m);
}

/* Many keys: lookups stay exact after the key table has grown. */
static void test_many_keys(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 1, 64, 1, 1, 64);
    for (uint32_t i = 0; i < 700; i++) {
        char key[32];
        snprintf(key, sizeof key, "filler.%u", i);
        gguf_writer_add_u32(w, key, i * 7);
    }
    char *path = tu_path(fx_dir, "many-keys.gguf");
    assert_int_equal(gguf_writer_write(w, path), 0);
    gguf_writer_free(w);
    gguf_file f;
    hr_error err;
    assert_int_equal(gguf_file_open(path, &f, &err), HR_OK);
    assert_int_equal(f.n_kv, 708);
    for (uint32_t i = 0; i < 700; i += 37) {
        char key[32];
        snprintf(key, sizeof key, "filler.%u", i);
        uint32_t v = 0;
        bool found = false;
        assert_int_equal(gguf_get_u32(&f, key, &v, &found, &err), HR_OK);
        assert_true(found);
        assert_int_equal(v, i * 7);
    }
    assert_null(gguf_find(&f, "filler.700"));
    gguf_file_close(&f);
    free(path);
}

static void test_per_layer_arrays(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "llama");
    gguf_writer_add_u32(w, "llama.block_count", 4);
    gguf_writer_add_u32(w, "llama.embedding_length", 1024);
    const uint32_t heads[4] = {16, 16, 8, 8};
    const uint64_t kv[4] = {4, 2, 0, 1};
    const int32_t ff[4] = {4096, 2048, 1024, 512};
    gguf_writer_add_array(w, "llama.attention.head_count", GW_UINT32, heads, 4);
    gguf_writer_add_array(w, "llama.attention.head_count_kv", GW_UINT64, kv, 4);
    gguf_writer_add_array(w, "llama.feed_forward_length", GW_INT32, ff, 4);
    gguf_writer_add_u32(w, "llama.attention.key_length", 128);
    gguf_writer_add_u32(w, "llama.attention.value_length", 96);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "arrays.gguf", &m, &err, NULL), HR_OK);
    for (int l = 0; l < 4; l++) {
        assert_int_equal(m->layers[l].n_head, heads[l]);
        assert_int_equal(m->layers[l].n_head_kv, kv[l]);
        assert_int_equal(m->layers[l].n_ff, (uint32_t)ff[l]);
        assert_int_equal(m->layers[l].n_embd_head_k, 128);
        assert_int_equal(m->layers[l].n_embd_head_v, 96);
        assert_int_equal(m->layers[l].has_kv, kv[l] > 0);
    }
    assert_int_equal(m->n_head, 16);
    assert_int_equal(m->n_head_kv, 4);
    assert_int_equal(m->n_ff, 4096);
    hr_model_free(m);

    /* wrong array length */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "llama");
    gguf_writer_add_u32(w, "llama.block_count", 3);
    gguf_writer_add_array(w, "llama.attention.head_count", GW_UINT32, heads, 4);
    fx_expect_error(w, "array-len.gguf", HR_ERR_FORMAT, "llama.attention.head_count");
}

/* Every ggml type of the table: a 2x3-block tensor has exactly
 * 2 * 3 * block_bytes bytes, and an ne0 off the block is rejected. */
static void test_every_ggml_type(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 1, 64, 1, 1, 64);
    int n_added = 0;
    hr_type added[64];
    for (int i = 0; i < hr_type_count(); i++) {
        const hr_type_info *ti = hr_type_at(i);
        if ((int)ti->id >= 100) /* BitNet fork and safetensors-only: below / not GGUF */
            continue;
        char name[64];
        snprintf(name, sizeof name, "t_%s.weight", ti->name);
        int64_t ne[2] = {2 * (int64_t)ti->block_size, 3};
        assert_true(gguf_writer_add_tensor(w, name, ti->id, 2, ne) >= 0);
        added[n_added++] = ti->id;
    }
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "all-types.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->n_tensors, (size_t)n_added);
    for (int i = 0; i < n_added; i++) {
        const hr_type_info *ti = hr_type_get(added[i]);
        assert_int_equal(m->tensors[i].type, added[i]);
        assert_int_equal(m->tensors[i].bytes, 6ull * ti->block_bytes);
    }
    hr_model_free(m);

    /* reference sizes from shared/reference/formats.md, independent of the table */
    static const struct { hr_type type; uint32_t block, bytes; } REF[] = {
        {HR_TYPE_Q4_K, 256, 144}, {HR_TYPE_Q6_K, 256, 210}, {HR_TYPE_IQ2_XXS, 256, 66},
        {HR_TYPE_IQ4_NL, 32, 18}, {HR_TYPE_TQ1_0, 256, 54}, {HR_TYPE_TQ2_0, 256, 66},
        {HR_TYPE_MXFP4, 32, 17},  {HR_TYPE_NVFP4, 64, 36},  {HR_TYPE_Q1_0, 128, 18},
        {HR_TYPE_BF16, 1, 2},     {HR_TYPE_Q8_0, 32, 34},   {HR_TYPE_IQ1_M, 256, 56},
    };
    w = gguf_writer_new(2);
    fx_add_shape(w, "llama", 1, 64, 1, 1, 64);
    for (size_t i = 0; i < sizeof REF / sizeof REF[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "ref%zu.weight", i);
        int64_t ne[2] = {4096, 7};
        gguf_writer_add_tensor(w, name, REF[i].type, 2, ne);
    }
    assert_int_equal(fx_write_open(w, "ref-types.gguf", &m, &err, NULL), HR_OK);
    for (size_t i = 0; i < sizeof REF / sizeof REF[0]; i++)
        assert_int_equal(m->tensors[i].bytes, 4096ull / REF[i].block * REF[i].bytes * 7);
    hr_model_free(m);

    /* a row that is not a whole number of blocks */
    w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 1, 64, 1, 1, 64);
    uint64_t dims[2] = {896, 2};
    gguf_writer_add_tensor_raw(w, "odd.weight", HR_TYPE_Q4_K, 2, dims, 1024);
    fx_expect_error(w, "odd-row.gguf", HR_ERR_FORMAT, "odd.weight");
}

/* BitNet fork: ids 36-39 are I2_S/I8_S/TL1/TL2 in a bitnet file. */
static void test_bitnet_fork_types(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, "bitnet-b1.58", 1, 2560, 20, 5, 6912);
    gguf_writer_add_u32(w, "general.file_type", 40); /* fork's I2_S ftype */
    int64_t ne[2] = {2560, 6912};
    uint64_t dims[2] = {2560, 6912};
    gguf_writer_add_tensor(w, "blk.0.ffn_up.weight", HR_TYPE_BITNET_I2_S, 2, ne);
    gguf_writer_add_tensor_raw(w, "blk.0.ffn_gate.weight", 38, 2, dims, 0); /* TL1 */
    gguf_writer_add_tensor_raw(w, "blk.0.ffn_down.weight", 39, 2, dims, 0); /* TL2 */
    gguf_writer_add_tensor_raw(w, "blk.0.attn_q.weight", 37, 2, dims, 0);   /* I8_S */
    gguf_writer_add_tensor(w, "blk.0.attn_k.weight", HR_TYPE_TQ1_0, 2, ne);
    gguf_writer_add_tensor(w, "blk.0.attn_v.weight", HR_TYPE_TQ2_0, 2, ne);
    /* raw tensors above were laid out with 0 bytes: give the file room */
    gguf_writer_set_file_size(w, 64ull << 20);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "bitnet.gguf", &m, &err, NULL), HR_OK);
    assert_true(m->is_bitnet_fork);
    assert_int_equal(m->arch, HR_ARCH_BITNET);
    assert_int_equal(m->ftype, HR_FTYPE_BITNET_I2_S);
    assert_string_equal(m->quant_name, "I2_S");
    const uint64_t n = 2560ull * 6912;
    uint64_t tl2 = (2560ull - 256) * 6912 / 3 * 5 / 8 + 256ull * 6912 / 2 * 4 / 8;
    tl2 = (tl2 + 31) / 32 * 32 + 32;
    assert_int_equal(m->tensors[0].type, HR_TYPE_BITNET_I2_S);
    assert_int_equal(m->tensors[0].bytes, n / 4 + 32);
    assert_int_equal(m->tensors[1].type, HR_TYPE_BITNET_TL1);
    assert_int_equal(m->tensors[1].bytes, n / 4 + 32);
    assert_int_equal(m->tensors[2].type, HR_TYPE_BITNET_TL2);
    assert_int_equal(m->tensors[2].bytes, tl2);
    assert_int_equal(m->tensors[3].type, HR_TYPE_BITNET_I8_S);
    assert_int_equal(m->tensors[3].bytes, n);
    assert_int_equal(m->tensors[4].type, HR_TYPE_TQ1_0);
    assert_int_equal(m->tensors[4].bytes, n / 256 * 54);
    assert_int_equal(m->tensors[5].type, HR_TYPE_TQ2_0);
    assert_int_equal(m->tensors[5].bytes, n / 256 * 66);
    hr_model_free(m);

    /* llama-named I2_S file: ftype 40 with type-36 tensors marks the fork */
    w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 1, 256, 2, 2, 256);
    gguf_writer_add_u32(w, "general.file_type", 40);
    int64_t small[2] = {256, 256};
    gguf_writer_add_tensor(w, "blk.0.ffn_up.weight", HR_TYPE_BITNET_I2_S, 2, small);
    assert_int_equal(fx_write_open(w, "llama-i2s.gguf", &m, &err, NULL), HR_OK);
    assert_true(m->is_bitnet_fork);
    assert_int_equal(m->ftype, HR_FTYPE_BITNET_I2_S);
    assert_int_equal(m->tensors[0].bytes, 256ull * 256 / 4 + 32);
    hr_model_free(m);

    /* mainline: 39 is MXFP4, ftype 38 MXFP4_MOE, and 36 is no type at all */
    w = gguf_writer_new(3);
    fx_add_shape(w, "gpt-oss", 1, 256, 2, 2, 256);
    gguf_writer_add_u32(w, "general.file_type", 38);
    gguf_writer_add_tensor(w, "blk.0.ffn_up_exps.weight", HR_TYPE_MXFP4, 2, small);
    assert_int_equal(fx_write_open(w, "mxfp4.gguf", &m, &err, NULL), HR_OK);
    assert_false(m->is_bitnet_fork);
    assert_int_equal(m->ftype, HR_FTYPE_MOSTLY_MXFP4_MOE);
    assert_int_equal(m->tensors[0].type, HR_TYPE_MXFP4);
    assert_int_equal(m->tensors[0].bytes, 256ull / 32 * 17 * 256);
    hr_model_free(m);

    w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 1, 256, 2, 2, 256);
    uint64_t d2[2] = {256, 256};
    gguf_writer_add_tensor_raw(w, "blk.0.ffn_up.weight", 36, 2, d2, 256 * 64 + 32);
    fx_expect_error(w, "mainline-36.gguf", HR_ERR_FORMAT, "blk.0.ffn_up.weight");
}

/* A 3-shard set written the way gguf-split does. */
static void write_shard(const char *name, uint16_t no, uint16_t count, int first_block,
                        int n_blocks)
{
    gguf_writer *w = gguf_writer_new(3);
    if (no == 0) {
        fx_add_shape(w, "llama", 6, 128, 4, 4, 256);
        gguf_writer_add_i32(w, "split.tensors.count", 1 + 6 * 2 + 1);
    }
    gguf_writer_add_u16(w, "split.no", no);
    gguf_writer_add_u16(w, "split.count", count);
    int64_t embd[2] = {128, 500}, sq[2] = {128, 128}, ff[2] = {128, 256};
    if (no == 0)
        gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_Q8_0, 2, embd);
    for (int b = first_block; b < first_block + n_blocks; b++) {
        char tn[64];
        snprintf(tn, sizeof tn, "blk.%d.attn_q.weight", b);
        gguf_writer_add_tensor(w, tn, HR_TYPE_F16, 2, sq);
        snprintf(tn, sizeof tn, "blk.%d.ffn_up.weight", b);
        gguf_writer_add_tensor(w, tn, HR_TYPE_Q8_0, 2, ff);
    }
    if (no == count - 1)
        gguf_writer_add_tensor(w, "output.weight", HR_TYPE_Q8_0, 2, embd);
    char *path = tu_path(fx_dir, name);
    assert_int_equal(gguf_writer_write(w, path), 0);
    gguf_writer_free(w);
    free(path);
}

static void test_split_set(void **state)
{
    (void)state;
    write_shard("split-00001-of-00003.gguf", 0, 3, 0, 2);
    write_shard("split-00002-of-00003.gguf", 1, 3, 2, 2);
    write_shard("split-00003-of-00003.gguf", 2, 3, 4, 2);
    char *second = tu_path(fx_dir, "split-00002-of-00003.gguf");
    char *first = tu_path(fx_dir, "split-00001-of-00003.gguf");
    hr_model *m;
    hr_error err;
    assert_int_equal(hr_model_open_gguf(second, &m, &err), HR_OK);
    assert_int_equal(m->n_files, 3);
    assert_string_equal(m->path, first);
    assert_int_equal(m->n_layer, 6);
    assert_int_equal(m->n_tensors, 14);
    assert_string_equal(m->tensors[0].name, "token_embd.weight");
    assert_int_equal(m->tensors[0].file_index, 0);
    assert_string_equal(m->tensors[5].name, "blk.2.attn_q.weight");
    assert_int_equal(m->tensors[5].file_index, 1);
    assert_int_equal(m->tensors[5].offset, 0); /* offsets are per shard */
    assert_string_equal(m->tensors[13].name, "output.weight");
    assert_int_equal(m->tensors[13].file_index, 2);
    assert_int_equal(m->tensors[13].layer, HR_LAYER_OUTPUT);
    uint64_t per_layer = 128ull * 128 * 2 + 256ull / 32 * 34 * 128;
    for (int l = 0; l < 6; l++)
        assert_int_equal(m->layer_bytes[l], per_layer);
    hr_model_free(m);
    /* through hr_model_open, from the last shard */
    char *third = tu_path(fx_dir, "split-00003-of-00003.gguf");
    assert_int_equal(hr_model_open(third, &m, &err), HR_OK);
    assert_int_equal(m->n_tensors, 14);
    hr_model_free(m);

    /* a missing shard is named */
    assert_int_equal(unlink(third), 0);
    assert_int_equal(hr_model_open_gguf(first, &m, &err), HR_ERR_IO);
    assert_null(m);
    assert_non_null(strstr(err.message, "split-00003-of-00003.gguf"));
    assert_non_null(strstr(err.message, "missing"));
    free(first);
    free(second);
    free(third);

    /* a shard that says it is someone else */
    write_shard("bad-00001-of-00002.gguf", 0, 2, 0, 3);
    write_shard("bad-00002-of-00002.gguf", 0, 2, 3, 3);
    char *bad = tu_path(fx_dir, "bad-00001-of-00002.gguf");
    assert_int_equal(hr_model_open_gguf(bad, &m, &err), HR_ERR_FORMAT);
    assert_non_null(strstr(err.message, "split"));
    free(bad);

    /* split keys on a file not named as a shard */
    write_shard("plain.gguf", 0, 2, 0, 6);
    char *plain = tu_path(fx_dir, "plain.gguf");
    assert_int_equal(hr_model_open_gguf(plain, &m, &err), HR_ERR_FORMAT);
    assert_non_null(strstr(err.message, plain));
    free(plain);
}

/* Writing a model back (gguf_writer_from_model) gives the same description. */
static void test_writer_from_model(void **state)
{
    (void)state;
    hr_model *a, *b;
    hr_error err;
    assert_int_equal(fx_write_open(llama_fixture(3), "src.gguf", &a, &err, NULL), HR_OK);
    char *copy = tu_path(fx_dir, "copy.gguf");
    assert_int_equal(gguf_writer_from_model(a, copy), 0);
    assert_int_equal(hr_model_open_gguf(copy, &b, &err), HR_OK);
    assert_string_equal(b->arch_name, a->arch_name);
    assert_int_equal(b->ftype, a->ftype);
    assert_int_equal(b->n_layer, a->n_layer);
    assert_int_equal(b->n_embd, a->n_embd);
    assert_int_equal(b->n_vocab, a->n_vocab);
    assert_int_equal(b->n_ctx_train, a->n_ctx_train);
    assert_int_equal(b->n_rot, a->n_rot);
    assert_int_equal(b->n_tensors, a->n_tensors);
    assert_int_equal(b->n_bytes, a->n_bytes);
    assert_int_equal(b->n_params, a->n_params);
    for (size_t i = 0; i < a->n_tensors; i++) {
        assert_string_equal(b->tensors[i].name, a->tensors[i].name);
        assert_int_equal(b->tensors[i].type, a->tensors[i].type);
        assert_int_equal(b->tensors[i].bytes, a->tensors[i].bytes);
        assert_int_equal(b->tensors[i].offset, a->tensors[i].offset);
    }
    assert_memory_equal(b->layers, a->layers, a->n_layer * sizeof *a->layers);
    hr_model_free(b);

    /* the builder form lets a caller drop a key before writing */
    gguf_writer *w = gguf_writer_new_from_model(a);
    assert_non_null(w);
    assert_int_equal(gguf_writer_remove_key(w, "general.file_type"), 1);
    assert_int_equal(gguf_writer_remove_key(w, "general.file_type"), 0);
    assert_int_equal(fx_write_open(w, "no-ftype.gguf", &b, &err, NULL), HR_OK);
    assert_int_equal(b->ftype, HR_FTYPE_UNKNOWN);
    assert_string_equal(b->quant_name, "Q6_K"); /* the type holding the most bytes */
    assert_int_equal(b->n_bytes, a->n_bytes);
    hr_model_free(b);
    hr_model_free(a);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_and_fields),
        cmocka_unit_test(test_integer_key_widths),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_vocab_sources),
        cmocka_unit_test(test_per_layer_arrays),
        cmocka_unit_test(test_every_ggml_type),
        cmocka_unit_test(test_bitnet_fork_types),
        cmocka_unit_test(test_split_set),
        cmocka_unit_test(test_writer_from_model),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
