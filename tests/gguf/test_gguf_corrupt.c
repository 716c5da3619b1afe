/* GGUF reader on corrupt and hostile files: every one is an error naming the
 * file, none crashes (this suite is meant to run under ASan/UBSan too). */
#include "gguf_fixture.h"

/* A valid little model to corrupt. */
static gguf_writer *base(uint32_t version)
{
    gguf_writer *w = gguf_writer_new(version);
    fx_add_shape(w, "llama", 2, 64, 4, 4, 128);
    gguf_writer_add_dummy_tokens(w, 16);
    int64_t embd[2] = {64, 16}, sq[2] = {64, 64};
    gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_F16, 2, embd);
    gguf_writer_add_tensor(w, "blk.0.attn_q.weight", HR_TYPE_F16, 2, sq);
    gguf_writer_add_tensor(w, "blk.1.attn_q.weight", HR_TYPE_F32, 2, sq);
    return w;
}

static void test_base_is_valid(void **state)
{
    (void)state;
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(base(3), "base.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->n_tensors, 3);
    hr_model_free(m);
}

static void test_cut_in_tensor_infos(void **state)
{
    (void)state;
    for (uint32_t version = 1; version <= 3; version++) {
        gguf_writer *w = base(version);
        unsigned char *buf;
        size_t len;
        gguf_writer_layout lay;
        assert_int_equal(gguf_writer_serialize(w, &buf, &len, &lay), 0);
        free(buf);
        gguf_writer_set_file_size(w, lay.tensor_info_start + (lay.header_end - lay.tensor_info_start) / 2);
        fx_expect_error(w, "cut-infos.gguf", HR_ERR_FORMAT, "truncated");
    }
}

static void test_huge_counts(void **state)
{
    (void)state;
    gguf_writer *w = base(3);
    gguf_writer_claim_counts(w, 1ull << 60, GGUF_WRITER_ACTUAL);
    fx_expect_error(w, "2e60-tensors.gguf", HR_ERR_FORMAT, "tensors");
    w = base(3);
    gguf_writer_claim_counts(w, GGUF_WRITER_ACTUAL, 1ull << 60);
    fx_expect_error(w, "2e60-kv.gguf", HR_ERR_FORMAT, "metadata");
    w = base(1);
    gguf_writer_claim_counts(w, 0xffffffffu, GGUF_WRITER_ACTUAL);
    fx_expect_error(w, "v1-huge.gguf", HR_ERR_FORMAT, "tensors");
    /* counts the file could hold (a large hole) but over the reader's limits */
    w = base(3);
    gguf_writer_claim_counts(w, GGUF_WRITER_ACTUAL, 100000);
    gguf_writer_set_file_size(w, 4u << 20);
    fx_expect_error(w, "many-kv.gguf", HR_ERR_LIMIT, "metadata");
    w = base(3);
    gguf_writer_claim_counts(w, 2000000, GGUF_WRITER_ACTUAL);
    gguf_writer_set_file_size(w, 64u << 20);
    fx_expect_error(w, "many-tensors.gguf", HR_ERR_LIMIT, "tensors");
    /* an array claiming 2^50 elements */
    gguf_writer *a = base(3);
    unsigned char arr[12] = {GW_UINT32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0}; /* u32 x 2^50 */
    gguf_writer_add_kv_raw(a, "huge.array", GW_ARRAY, arr, sizeof arr);
    fx_expect_error(a, "huge-array.gguf", HR_ERR_FORMAT, "huge.array");
}

static void test_string_longer_than_file(void **state)
{
    (void)state;
    gguf_writer *w = base(3);
    unsigned char s[11] = {0, 0, 0, 0, 0, 1, 0, 0, 'a', 'b', 'c'}; /* length 2^40 */
    gguf_writer_add_kv_raw(w, "long.string", GW_STRING, s, sizeof s);
    fx_expect_error(w, "long-string.gguf", HR_ERR_FORMAT, "string");
    /* a string array whose second element runs past the end */
    w = base(2);
    unsigned char arr[12 + 9 + 8] = {GW_STRING, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
                                     1, 0, 0, 0, 0, 0, 0, 0, 'a',
                                     0, 0, 0, 0, 0, 0, 0, 0x10};
    gguf_writer_add_kv_raw(w, "str.array", GW_ARRAY, arr, sizeof arr);
    fx_expect_error(w, "long-string-elem.gguf", HR_ERR_FORMAT, "string array element");
    /* v1: string lengths are u32 — a 4 GiB string in a small file */
    w = base(1);
    unsigned char s1[7] = {0xff, 0xff, 0xff, 0xff, 'x', 'y', 'z'};
    gguf_writer_add_kv_raw(w, "v1.string", GW_STRING, s1, sizeof s1);
    fx_expect_error(w, "v1-long-string.gguf", HR_ERR_FORMAT, "string");
}

static void test_data_past_end(void **state)
{
    (void)state;
    gguf_writer *w = base(3);
    unsigned char *buf;
    size_t len;
    gguf_writer_layout lay;
    assert_int_equal(gguf_writer_serialize(w, &buf, &len, &lay), 0);
    free(buf);
    /* the last tensor (64*64*4 bytes, a multiple of 32) ends exactly at the file end */
    gguf_writer_set_file_size(w, lay.file_size - 1);
    fx_expect_error(w, "short-data.gguf", HR_ERR_FORMAT, "blk.1.attn_q.weight");
    w = base(3);
    gguf_writer_set_tensor_offset(w, 0, 1ull << 62);
    fx_expect_error(w, "far-offset.gguf", HR_ERR_FORMAT, "token_embd.weight");
    w = base(3);
    gguf_writer_set_tensor_offset(w, 1, UINT64_MAX - 31); /* aligned, offset + bytes overflows */
    fx_expect_error(w, "overflow-offset.gguf", HR_ERR_FORMAT, "blk.0.attn_q.weight");
    w = base(3);
    gguf_writer_set_tensor_offset(w, 1, 8); /* not a multiple of 32 */
    fx_expect_error(w, "misaligned.gguf", HR_ERR_FORMAT, "alignment");
    /* header only: the data section is missing altogether */
    w = base(3);
    assert_int_equal(gguf_writer_serialize(w, &buf, &len, &lay), 0);
    free(buf);
    gguf_writer_set_file_size(w, lay.header_end);
    fx_expect_error(w, "no-data.gguf", HR_ERR_FORMAT, NULL);
}

static void test_bad_alignment(void **state)
{
    (void)state;
    gguf_writer *w = base(3);
    gguf_writer_set_alignment(w, 0);
    fx_expect_error(w, "align0.gguf", HR_ERR_FORMAT, "general.alignment");
    w = base(3);
    gguf_writer_set_alignment(w, 3);
    fx_expect_error(w, "align3.gguf", HR_ERR_FORMAT, "general.alignment");
    w = base(3);
    gguf_writer_add_string(w, "general.alignment", "32");
    fx_expect_error(w, "align-str.gguf", HR_ERR_FORMAT, "general.alignment");
    /* a valid non-default alignment moves the data section */
    w = base(3);
    gguf_writer_set_alignment(w, 4096);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "align4096.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->alignment, 4096);
    assert_int_equal(m->tensors[1].offset, 4096);
    hr_model_free(m);
}

static void test_nested_array_and_duplicates(void **state)
{
    (void)state;
    gguf_writer *w = base(3);
    /* array of arrays: elem type 9, one element (an array of zero u8) */
    unsigned char nested[12 + 12] = {GW_ARRAY, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                     GW_UINT8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    gguf_writer_add_kv_raw(w, "nested", GW_ARRAY, nested, sizeof nested);
    fx_expect_error(w, "nested.gguf", HR_ERR_FORMAT, "nested");
    w = base(3);
    gguf_writer_add_u32(w, "llama.block_count", 2);
    fx_expect_error(w, "dup-key.gguf", HR_ERR_FORMAT, "duplicate metadata key 'llama.block_count'");
    w = base(3);
    int64_t sq[2] = {64, 64};
    gguf_writer_add_tensor(w, "blk.0.attn_q.weight", HR_TYPE_F16, 2, sq);
    fx_expect_error(w, "dup-tensor.gguf", HR_ERR_FORMAT, "duplicate tensor name");
    /* a duplicate found after the name table has grown several times */
    w = base(3);
    for (int i = 0; i < 3000; i++) {
        char name[32];
        snprintf(name, sizeof name, "extra.%d", i);
        gguf_writer_add_tensor(w, name, HR_TYPE_F32, 1, sq);
    }
    gguf_writer_add_tensor(w, "extra.17", HR_TYPE_F32, 1, sq);
    fx_expect_error(w, "dup-late.gguf", HR_ERR_FORMAT, "duplicate tensor name 'extra.17'");
    w = base(3);
    gguf_writer_add_kv_raw(w, "bad.type", 13, "\0\0\0\0", 4);
    fx_expect_error(w, "bad-vtype.gguf", HR_ERR_FORMAT, "bad.type");
}

static void test_big_endian_and_versions(void **state)
{
    (void)state;
    gguf_writer *w = base(3);
    gguf_writer_set_big_endian(w, true);
    fx_expect_error(w, "big-endian.gguf", HR_ERR_UNSUPPORTED, "big-endian");
    w = base(3);
    gguf_writer_set_header(w, "FUGG", 0x03000000u);
    fx_expect_error(w, "fugg.gguf", HR_ERR_UNSUPPORTED, "big-endian");
    w = base(3);
    gguf_writer_set_header(w, "GGUF", 4);
    fx_expect_error(w, "v4.gguf", HR_ERR_UNSUPPORTED, "version 4");
    w = base(3);
    gguf_writer_set_header(w, "GGML", 3);
    fx_expect_error(w, "not-gguf.gguf", HR_ERR_FORMAT, "not a GGUF");
    w = base(3);
    gguf_writer_set_file_size(w, 0);
    fx_expect_error(w, "empty.gguf", HR_ERR_FORMAT, "too short");
}

static void test_bad_tensor_infos(void **state)
{
    (void)state;
    gguf_writer *w = base(3);
    uint64_t dims[2] = {64, 64};
    gguf_writer_add_tensor_raw(w, "blk.0.strange.weight", 99, 2, dims, 4096);
    fx_expect_error(w, "type99.gguf", HR_ERR_FORMAT, "blk.0.strange.weight");
    w = base(3);
    gguf_writer_add_tensor_raw(w, "blk.0.old.weight", 4, 2, dims, 4096); /* removed Q4_2 */
    fx_expect_error(w, "type4.gguf", HR_ERR_FORMAT, "unknown type id 4");
    w = base(3);
    uint64_t five[5] = {1, 1, 1, 1, 1};
    gguf_writer_add_tensor_raw(w, "five.weight", 0, 5, five, 4);
    fx_expect_error(w, "five-dims.gguf", HR_ERR_FORMAT, "dimensions");
    w = base(3);
    char long_name[80];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    gguf_writer_add_tensor_raw(w, long_name, 0, 2, dims, 16384);
    fx_expect_error(w, "long-name.gguf", HR_ERR_FORMAT, "name");
    w = base(3);
    uint64_t huge[2] = {1ull << 40, 1ull << 40};
    gguf_writer_add_tensor_raw(w, "huge.weight", 0, 2, huge, 0);
    fx_expect_error(w, "huge-dims.gguf", HR_ERR_LIMIT, "huge.weight");
    w = base(3);
    uint64_t neg[2] = {64, (uint64_t)-64};
    gguf_writer_add_tensor_raw(w, "neg.weight", 0, 2, neg, 0);
    fx_expect_error(w, "neg-dims.gguf", HR_ERR_FORMAT, "neg.weight");
    w = base(3);
    int64_t sq[2] = {64, 64};
    gguf_writer_add_tensor(w, "blk.7.attn_q.weight", HR_TYPE_F16, 2, sq); /* only 2 layers */
    fx_expect_error(w, "block7.gguf", HR_ERR_FORMAT, "blk.7.attn_q.weight");
    /* no architecture */
    w = gguf_writer_new(3);
    gguf_writer_add_u32(w, "llama.block_count", 1);
    fx_expect_error(w, "no-arch.gguf", HR_ERR_FORMAT, "general.architecture");
}

/* Every prefix of a valid header, and deterministic byte flips: errors or
 * success, never a crash or an out-of-bounds read. */
static void test_prefixes_and_flips(void **state)
{
    (void)state;
    for (uint32_t version = 1; version <= 3; version += 2) {
        gguf_writer *w = base(version);
        unsigned char *buf;
        size_t len;
        gguf_writer_layout lay;
        assert_int_equal(gguf_writer_serialize(w, &buf, &len, &lay), 0);
        gguf_writer_free(w);
        char *path = tu_path(fx_dir, "prefix.gguf");
        for (size_t cut = 0; cut < lay.header_end; cut++) {
            assert_int_equal(tu_write_file(path, buf, cut), 0);
            hr_model *m = NULL;
            hr_error err;
            hr_status st = hr_model_open_gguf(path, &m, &err);
            assert_int_not_equal(st, HR_OK);
            assert_null(m);
            assert_non_null(strstr(err.message, path));
        }
        uint32_t seed = 12345u + version;
        unsigned char *copy = malloc(len);
        for (int round = 0; round < 400; round++) {
            memcpy(copy, buf, len);
            for (int k = 0; k < 3; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % lay.header_end;
                seed = seed * 1103515245u + 12345u;
                copy[at] = (unsigned char)(seed >> 16);
            }
            assert_int_equal(tu_write_file(path, copy, len), 0);
            assert_int_equal(tu_truncate(path, lay.file_size), 0);
            hr_model *m = NULL;
            hr_error err;
            hr_status st = hr_model_open_gguf(path, &m, &err);
            if (st == HR_OK)
                hr_model_free(m);
            else if (!strstr(err.message, path))
                fail_msg("round %d: message without the path: %s", round, err.message);
        }
        free(copy);
        free(buf);
        free(path);
    }
}

/* A BPE-sized vocabulary (the walker's several-chain path) in every version:
 * it opens with the right token count, and one bad length anywhere in it is
 * an error naming the file. */
static gguf_writer *big_vocab(uint32_t version, uint32_t n, char ***tokens_out)
{
    gguf_writer *w = base(version);
    gguf_writer_remove_key(w, "tokenizer.ggml.tokens");
    char **tokens = malloc(sizeof *tokens * n);
    assert_non_null(tokens);
    for (uint32_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.*stok%u", (int)(i % 7), "\xc4\xa0" "abcdef", i);
        tokens[i] = malloc(strlen(buf) + 1);
        assert_non_null(tokens[i]);
        memcpy(tokens[i], buf, strlen(buf) + 1);
    }
    gguf_writer_add_string_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n);
    gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1); /* a key after the array */
    *tokens_out = tokens;
    return w;
}

static void free_tokens(char **tokens, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(tokens[i]);
    free(tokens);
}

static void test_big_vocabularies(void **state)
{
    (void)state;
    const uint32_t n = 60000;
    for (uint32_t version = 1; version <= 3; version++) {
        char **tokens;
        hr_model *m;
        hr_error err;
        gguf_writer *w = big_vocab(version, n, &tokens);
        assert_int_equal(fx_write_open(w, "big-vocab.gguf", &m, &err, NULL), HR_OK);
        assert_int_equal(m->n_vocab, n);
        assert_int_equal(m->n_tensors, 3);
        hr_model_free(m);
        free_tokens(tokens, n);
    }
    /* corrupt one length (v3: 8-byte lengths) near the start, in the middle,
     * near the end and last: too long for the file, wrapping, or merely
     * off by one (then the rest of the header is misread) */
    const uint32_t where[] = {3, 70, 20011, 45000, n - 2, n - 1};
    const uint64_t values[] = {1ull << 40, UINT64_MAX - 7, UINT64_MAX, 0 /* its length + 1 */};
    for (size_t wi = 0; wi < sizeof where / sizeof where[0]; wi++)
        for (size_t vi = 0; vi < sizeof values / sizeof values[0]; vi++) {
            char **tokens;
            gguf_writer *w = big_vocab(3, n, &tokens);
            unsigned char *buf;
            size_t len;
            gguf_writer_layout lay;
            assert_int_equal(gguf_writer_serialize(w, &buf, &len, &lay), 0);
            gguf_writer_free(w);
            const char *key = "tokenizer.ggml.tokens";
            unsigned char *at = NULL;
            for (size_t i = 0; i + strlen(key) < len && !at; i++)
                if (memcmp(buf + i, key, strlen(key)) == 0)
                    at = buf + i + strlen(key) + 4 + 4 + 8; /* type, element type, count */
            assert_non_null(at);
            for (uint32_t i = 0; i < where[wi]; i++)
                at += 8 + strlen(tokens[i]);
            uint64_t value = values[vi] ? values[vi] : strlen(tokens[where[wi]]) + 1;
            for (int b = 0; b < 8; b++)
                at[b] = (unsigned char)(value >> (8 * b));
            char *path = tu_path(fx_dir, "bad-vocab.gguf");
            assert_int_equal(tu_write_file(path, buf, len), 0);
            assert_int_equal(tu_truncate(path, lay.file_size), 0);
            hr_model *m = NULL;
            hr_error err;
            hr_status st = hr_model_open_gguf(path, &m, &err);
            if (st == HR_OK)
                fail_msg("element %u length %llu: opened", where[wi],
                         (unsigned long long)values[vi]);
            assert_null(m);
            assert_non_null(strstr(err.message, path));
            if (vi < 3) /* these fail on the element itself */
                assert_non_null(strstr(err.message, "string array element"));
            free(path);
            free(buf);
            free_tokens(tokens, n);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_is_valid),
        cmocka_unit_test(test_cut_in_tensor_infos),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_string_longer_than_file),
        cmocka_unit_test(test_data_past_end),
        cmocka_unit_test(test_bad_alignment),
        cmocka_unit_test(test_nested_array_and_duplicates),
        cmocka_unit_test(test_big_endian_and_versions),
        cmocka_unit_test(test_bad_tensor_infos),
        cmocka_unit_test(test_prefixes_and_flips),
        cmocka_unit_test(test_big_vocabularies),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
