/* The hostile-input checklist (issue 7) in one place: every file below is
 * refused by the engine with one line naming the file, without a small file
 * making the reader allocate much (peak RSS growth measured in a child), and
 * `headroom inspect FILE` prints exactly one line on stderr naming the file,
 * exits 1 and never dies on a signal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gguf_writer.h"
#include "headroom/headroom.h"
#include "safetensors_writer.h"
#include "test_util.h"

#define RSS_BOUND_KIB (64 * 1024)          /* what a small hostile file may cost */
#define ST_HEADER_LIMIT 100000000ull       /* the safetensors format's header cap */

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_make_temp_dir("hostile");
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_remove_tree(dir);
    free(dir);
    return 0;
}

/* ------------------------------------------------------------ GGUF files */

/* A valid little llama to corrupt (the same shape the GGUF suites use). */
static gguf_writer *gguf_base(uint32_t version)
{
    gguf_writer *w = gguf_writer_new(version);
    gguf_writer_add_string(w, "general.architecture", "llama");
    gguf_writer_add_u32(w, "llama.context_length", 4096);
    gguf_writer_add_u32(w, "llama.embedding_length", 64);
    gguf_writer_add_u32(w, "llama.block_count", 2);
    gguf_writer_add_u32(w, "llama.feed_forward_length", 128);
    gguf_writer_add_u32(w, "llama.attention.head_count", 4);
    gguf_writer_add_u32(w, "llama.attention.head_count_kv", 4);
    gguf_writer_add_dummy_tokens(w, 16);
    int64_t embd[2] = {64, 16}, sq[2] = {64, 64};
    gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_F16, 2, embd);
    gguf_writer_add_tensor(w, "blk.0.attn_q.weight", HR_TYPE_F16, 2, sq);
    gguf_writer_add_tensor(w, "blk.1.attn_q.weight", HR_TYPE_F32, 2, sq);
    return w;
}

static void write_gguf(gguf_writer *w, const char *path)
{
    assert_int_equal(gguf_writer_write(w, path), 0);
    gguf_writer_free(w);
}

static void gguf_2e60_tensors(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_claim_counts(w, 1ull << 60, GGUF_WRITER_ACTUAL);
    write_gguf(w, path);
}

static void gguf_2e60_kv(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_claim_counts(w, GGUF_WRITER_ACTUAL, 1ull << 60);
    write_gguf(w, path);
}

static void gguf_dims_overflow(const char *path)
{
    gguf_writer *w = gguf_base(3);
    uint64_t dims[4] = {1ull << 32, 1ull << 32, 1ull << 32, 16};
    gguf_writer_add_tensor_raw(w, "blk.1.ffn_up.weight", HR_TYPE_F32, 4, dims, 64);
    write_gguf(w, path);
}

/* A zero dim hides a 2^61 one from the element-count check (found by
 * fuzz_gguf: the MLA graph builder multiplied it by the head count). */
static void gguf_zero_dim(const char *path)
{
    gguf_writer *w = gguf_base(3);
    uint64_t dims[3] = {1ull << 61, 0, 4};
    gguf_writer_add_tensor_raw(w, "blk.0.attn_k_b.weight", HR_TYPE_F16, 3, dims, 0);
    write_gguf(w, path);
}

static void gguf_offset_past_end(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_set_tensor_offset(w, 0, 1ull << 62);
    write_gguf(w, path);
}

static void gguf_offset_wraps(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_set_tensor_offset(w, 2, UINT64_MAX - 31); /* aligned; offset + size wraps */
    write_gguf(w, path);
}

static void gguf_string_past_end(const char *path)
{
    gguf_writer *w = gguf_base(3);
    unsigned char s[11] = {0, 0, 0, 0, 0, 1, 0, 0, 'a', 'b', 'c'}; /* length 2^40 */
    gguf_writer_add_kv_raw(w, "general.name", GW_STRING, s, sizeof s);
    write_gguf(w, path);
}

static void gguf_key_past_end(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_set_file_size(w, 24 + 8 + 5); /* inside the first key */
    write_gguf(w, path);
}

static void gguf_align0(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_set_alignment(w, 0);
    write_gguf(w, path);
}

static void gguf_align48(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_set_alignment(w, 48);
    write_gguf(w, path);
}

static void gguf_nested_array(const char *path)
{
    gguf_writer *w = gguf_base(3);
    unsigned char nested[24] = {GW_ARRAY, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                GW_UINT8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    gguf_writer_add_kv_raw(w, "nested.array", GW_ARRAY, nested, sizeof nested);
    write_gguf(w, path);
}

static void gguf_duplicate_key(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_add_u32(w, "llama.block_count", 9);
    write_gguf(w, path);
}

static void gguf_duplicate_tensor(const char *path)
{
    gguf_writer *w = gguf_base(3);
    int64_t sq[2] = {64, 64};
    gguf_writer_add_tensor(w, "blk.0.attn_q.weight", HR_TYPE_F16, 2, sq);
    write_gguf(w, path);
}

/* 1 KB files that claim huge arrays / counts: refused before any allocation
 * sized by the claim. */
static void gguf_1k_huge_u8_array(const char *path)
{
    gguf_writer *w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "llama");
    unsigned char arr[12] = {GW_UINT8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40}; /* 2^62 */
    gguf_writer_add_kv_raw(w, "tokenizer.ggml.token_type", GW_ARRAY, arr, sizeof arr);
    gguf_writer_set_file_size(w, 1024);
    write_gguf(w, path);
}

static void gguf_1k_huge_string_array(const char *path)
{
    gguf_writer *w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "llama");
    unsigned char arr[12] = {GW_STRING, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}; /* 2^32 strings */
    gguf_writer_add_kv_raw(w, "tokenizer.ggml.tokens", GW_ARRAY, arr, sizeof arr);
    gguf_writer_set_file_size(w, 1024);
    write_gguf(w, path);
}

static void gguf_1k_million_tensors(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_claim_counts(w, 1000000, GGUF_WRITER_ACTUAL);
    gguf_writer_set_file_size(w, 1024);
    write_gguf(w, path);
}

static void gguf_1k_v1_huge_counts(const char *path)
{
    gguf_writer *w = gguf_base(1);
    gguf_writer_claim_counts(w, 0xffffffffu, 0xffffffffu);
    gguf_writer_set_file_size(w, 1024);
    write_gguf(w, path);
}

/* A few-KB file claiming 65538 layers (found by fuzz_gguf: the model JSON of
 * such a file cost 130 MB); llama.cpp stops at 512. */
static void gguf_65538_layers(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_remove_key(w, "llama.block_count");
    gguf_writer_add_u32(w, "llama.block_count", 65538);
    write_gguf(w, path);
}

/* A gguf-split set whose second shard was never downloaded. */
static void gguf_split_missing_shard(const char *path)
{
    gguf_writer *w = gguf_base(3);
    gguf_writer_add_u16(w, "split.no", 0);
    gguf_writer_add_u16(w, "split.count", 2);
    gguf_writer_add_i32(w, "split.tensors.count", 4);
    write_gguf(w, path);
}

static void gguf_half_downloaded(const char *path)
{
    gguf_writer *w = gguf_base(3);
    unsigned char *buf;
    size_t len;
    gguf_writer_layout lay;
    assert_int_equal(gguf_writer_serialize(w, &buf, &len, &lay), 0);
    free(buf);
    gguf_writer_set_file_size(w, lay.file_size / 2);
    write_gguf(w, path);
}

/* ----------------------------------------------------- safetensors files */

static const char st_entry[] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";

static void st_claims_over_limit(const char *path)
{
    assert_int_equal(stw_write_raw(path, ST_HEADER_LIMIT + 1, st_entry, 0), 0);
}

static void st_claims_limit_past_end(const char *path)
{
    assert_int_equal(stw_write_raw(path, ST_HEADER_LIMIT, st_entry, 1024), 0);
}

/* A real JSON header one byte over the cap: 100 MB of whitespace around a
 * valid object, written in chunks. It must be refused without being read. */
static void st_real_header_over_limit(const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t n = ST_HEADER_LIMIT + 1;
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(n >> (8 * i));
    fwrite(len, 1, 8, f);
    size_t body = strlen(st_entry);
    fwrite(st_entry, 1, body, f);
    static char spaces[1 << 16];
    memset(spaces, ' ', sizeof spaces);
    for (uint64_t left = n - body; left > 0;) {
        size_t k = left < sizeof spaces ? (size_t)left : sizeof spaces;
        fwrite(spaces, 1, k, f);
        left -= k;
    }
    char data[16] = {0};
    fwrite(data, 1, sizeof data, f);
    assert_int_equal(fclose(f), 0);
}

static void st_offsets_past_end(const char *path)
{
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,1099511627776]}}";
    assert_int_equal(stw_write_raw(path, strlen(h), h, 0), 0);
}

static void st_dims_overflow(const char *path)
{
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                    "\"data_offsets\":[0,16]}}";
    assert_int_equal(stw_write_raw(path, strlen(h), h, 8 + strlen(h) + 16), 0);
}

static void st_1k_huge_shape(const char *path)
{
    /* a shape of 60 dims of 2^20: the element count overflows long before
     * anything could be sized by it */
    char h[1024];
    size_t n = (size_t)snprintf(h, sizeof h, "{\"w\":{\"dtype\":\"U8\",\"shape\":[");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(h + n, sizeof h - n, "%s1048576", i ? "," : "");
    snprintf(h + n, sizeof h - n, "],\"data_offsets\":[0,16]}}");
    assert_int_equal(stw_write_raw(path, strlen(h), h, 1024), 0);
}

static void st_nested_deep_json(const char *path)
{
    /* 10^5 nested arrays: cJSON's nesting limit, not the stack */
    size_t depth = 100000;
    char *h = malloc(2 * depth + 16);
    size_t n = 0;
    h[n++] = '{';
    memcpy(h + n, "\"w\":", 4);
    n += 4;
    for (size_t i = 0; i < depth; i++)
        h[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        h[n++] = ']';
    h[n++] = '}';
    h[n] = '\0';
    assert_int_equal(stw_write_raw(path, n, h, 0), 0);
    free(h);
}

static void st_duplicate_key(const char *path)
{
    const char *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    assert_int_equal(stw_write_raw(path, strlen(h), h, 8 + strlen(h) + 16), 0);
}

static void st_index_missing_shard(const char *path)
{
    char *sub = strdup(path);
    *strrchr(sub, '/') = '\0';
    assert_int_equal(mkdir(sub, 0700) == 0 || errno == EEXIST, 1);
    stw_tensor t[] = {{"model.embed_tokens.weight", "F32", 2, {10, 4}}};
    char *p1 = tu_path(sub, "model-00001-of-00002.safetensors");
    assert_int_equal(stw_write(p1, t, 1, NULL, NULL), 0);
    const char *names[] = {"model.embed_tokens.weight", "model.norm.weight"};
    const char *files[] = {"model-00001-of-00002.safetensors",
                           "model-00002-of-00002.safetensors"};
    assert_int_equal(stw_write_index(sub, names, files, 2), 0);
    free(p1);
    free(sub);
}

/* ----------------------------------------------------------- config.json */

static void write_config(const char *path, const char *json)
{
    char *sub = strdup(path);
    *strrchr(sub, '/') = '\0';
    assert_int_equal(mkdir(sub, 0700) == 0 || errno == EEXIST, 1);
    assert_int_equal(tu_write_text(path, json), 0);
    free(sub);
}

#define CFG_REST "\"hidden_size\": 64, \"intermediate_size\": 128, \"max_position_embeddings\": 512"

static void cfg_billion_layers(const char *path)
{
    write_config(path, "{\"num_hidden_layers\": 1000000000, \"num_attention_heads\": 4, "
                       "\"vocab_size\": 100, " CFG_REST "}");
}

static void cfg_zero_heads(const char *path)
{
    write_config(path, "{\"num_hidden_layers\": 2, \"num_attention_heads\": 0, "
                       "\"vocab_size\": 100, " CFG_REST "}");
}

static void cfg_zero_vocab(const char *path)
{
    write_config(path, "{\"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                       "\"vocab_size\": 0, " CFG_REST "}");
}

static void cfg_huge_hidden(const char *path)
{
    write_config(path, "{\"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                       "\"vocab_size\": 100, \"hidden_size\": 1e300, "
                       "\"intermediate_size\": 128}");
}

static void cfg_product_overflow(const char *path)
{
    /* every value plausible alone, the weight sizes overflow 64 bits */
    write_config(path, "{\"num_hidden_layers\": 4096, \"num_attention_heads\": 1024, "
                       "\"vocab_size\": 1073741824, \"hidden_size\": 1073741824, "
                       "\"intermediate_size\": 1073741824}");
}

static void cfg_more_kv_heads(const char *path)
{
    write_config(path, "{\"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                       "\"num_key_value_heads\": 3, \"vocab_size\": 100, " CFG_REST "}");
}

/* ------------------------------------------------------------- the table */

typedef struct hostile_case {
    const char *name;   /* file name under the temp dir (the path given to headroom) */
    void (*make)(const char *path);
    const char *needle; /* a word the error must contain (beyond the path) */
} hostile_case;

static const hostile_case cases[] = {
    {"2e60-tensors.gguf", gguf_2e60_tensors, "tensors"},
    {"2e60-kv.gguf", gguf_2e60_kv, "metadata"},
    {"dims-overflow.gguf", gguf_dims_overflow, "blk.1.ffn_up.weight"},
    {"zero-dim.gguf", gguf_zero_dim, "dimension 1 is 0"},
    {"offset-past-end.gguf", gguf_offset_past_end, "token_embd.weight"},
    {"offset-wraps.gguf", gguf_offset_wraps, "blk.1.attn_q.weight"},
    {"string-past-end.gguf", gguf_string_past_end, "string"},
    {"key-past-end.gguf", gguf_key_past_end, NULL},
    {"align0.gguf", gguf_align0, "general.alignment"},
    {"align48.gguf", gguf_align48, "general.alignment"},
    {"nested-array.gguf", gguf_nested_array, "nested"},
    {"duplicate-key.gguf", gguf_duplicate_key, "llama.block_count"},
    {"duplicate-tensor.gguf", gguf_duplicate_tensor, "blk.0.attn_q.weight"},
    {"1k-huge-u8-array.gguf", gguf_1k_huge_u8_array, "tokenizer.ggml.token_type"},
    {"1k-huge-string-array.gguf", gguf_1k_huge_string_array, "tokenizer.ggml.tokens"},
    {"1k-million-tensors.gguf", gguf_1k_million_tensors, "tensors"},
    {"1k-v1-huge-counts.gguf", gguf_1k_v1_huge_counts, NULL},
    {"65538-layers.gguf", gguf_65538_layers, "llama.block_count 65538"},
    {"split-00001-of-00002.gguf", gguf_split_missing_shard, "split-00002-of-00002.gguf"},
    {"half-downloaded.gguf", gguf_half_downloaded, NULL},
    {"claims-over-limit.safetensors", st_claims_over_limit, "limit"},
    {"claims-limit-past-end.safetensors", st_claims_limit_past_end, "past the end"},
    {"real-header-over-limit.safetensors", st_real_header_over_limit, "limit"},
    {"offsets-past-end.safetensors", st_offsets_past_end, "'w'"},
    {"dims-overflow.safetensors", st_dims_overflow, "overflow"},
    {"1k-huge-shape.safetensors", st_1k_huge_shape, "'w'"},
    {"deep-json.safetensors", st_nested_deep_json, "JSON"},
    {"duplicate-key.safetensors", st_duplicate_key, "twice"},
    {"st-split/model.safetensors.index.json", st_index_missing_shard,
     "model-00002-of-00002.safetensors"},
    {"cfg-layers/config.json", cfg_billion_layers, "num_hidden_layers"},
    {"cfg-heads/config.json", cfg_zero_heads, "head"},
    {"cfg-vocab/config.json", cfg_zero_vocab, "vocab"},
    {"cfg-hidden/config.json", cfg_huge_hidden, "hidden_size"},
    {"cfg-overflow/config.json", cfg_product_overflow, NULL},
    {"cfg-kv-heads/config.json", cfg_more_kv_heads, "head"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Open path in a child and report its status and the child's peak RSS growth
 * (KiB) over the open: a fresh child starts from the parent's current RSS,
 * so earlier tests do not hide the growth. */
typedef struct open_report {
    int status;
    long rss_growth_kib;
    char message[HR_ERROR_MESSAGE_MAX];
} open_report;

static long peak_rss_kib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

static open_report open_in_child(const char *path)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        open_report r;
        memset(&r, 0, sizeof r);
        long before = peak_rss_kib();
        hr_model *m = NULL;
        hr_error err;
        hr_error_clear(&err);
        r.status = (int)hr_model_open(path, &m, &err);
        r.rss_growth_kib = peak_rss_kib() - before;
        snprintf(r.message, sizeof r.message, "%s", err.message);
        if (m)
            hr_model_free(m);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    open_report r;
    memset(&r, 0, sizeof r);
    ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int ws = 0;
    waitpid(pid, &ws, 0);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || got != (ssize_t)sizeof r)
        fail_msg("%s: the reader's child died (wait status %d)", path, ws);
    return r;
}

static void test_engine_refuses_each(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        char *path = tu_path(dir, cases[i].name);
        cases[i].make(path);
        open_report r = open_in_child(path);
        if (r.status == HR_OK)
            fail_msg("%s: opened, expected an error", cases[i].name);
        if (!strstr(r.message, path))
            fail_msg("%s: '%s' does not name the file", cases[i].name, r.message);
        if (cases[i].needle && !strstr(r.message, cases[i].needle))
            fail_msg("%s: '%s' lacks '%s'", cases[i].name, r.message, cases[i].needle);
        if (strchr(r.message, '\n'))
            fail_msg("%s: message spans lines", cases[i].name);
        if (r.status == HR_ERR_NOMEM)
            fail_msg("%s: ran out of memory: %s", cases[i].name, r.message);
        if (r.rss_growth_kib > RSS_BOUND_KIB)
            fail_msg("%s: peak RSS grew by %ld KiB (bound %d)", cases[i].name,
                     r.rss_growth_kib, RSS_BOUND_KIB);
        print_message("# %-40s %ld KiB  %s\n", cases[i].name, r.rss_growth_kib, r.message);
        free(path);
    }
}

/* The CLI: one line on stderr naming the file, exit status 1, no signal. */
static void test_cli_one_line_each(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        char *path = tu_path(dir, cases[i].name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            cases[i].make(path);
        tu_run_result res;
        assert_int_equal(tu_run_headroom(&res, "inspect %s", path), 0);
        if (res.exit_code != 1)
            fail_msg("%s: exit %d (stderr '%s')", cases[i].name, res.exit_code, res.err);
        size_t len = strlen(res.err);
        char *nl = strchr(res.err, '\n');
        if (len == 0 || !nl || nl != res.err + len - 1)
            fail_msg("%s: stderr is not one line: '%s'", cases[i].name, res.err);
        if (!strstr(res.err, path))
            fail_msg("%s: stderr '%s' does not name the file", cases[i].name, res.err);
        assert_string_equal(res.out, "");
        tu_run_free(&res);
        free(path);
    }
}

/* The header cap is the format's: a real header of exactly 100 MB opens, and
 * costs about its size (read once, parsed once), nothing sized by claims. */
static void test_st_header_at_limit_opens(void **state)
{
    (void)state;
    char *path = tu_path(dir, "header-at-limit.safetensors");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t n = ST_HEADER_LIMIT;
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(n >> (8 * i));
    fwrite(len, 1, 8, f);
    size_t body = strlen(st_entry);
    fwrite(st_entry, 1, body, f);
    static char spaces[1 << 16];
    memset(spaces, ' ', sizeof spaces);
    for (uint64_t left = n - body; left > 0;) {
        size_t k = left < sizeof spaces ? (size_t)left : sizeof spaces;
        fwrite(spaces, 1, k, f);
        left -= k;
    }
    char data[16] = {0};
    fwrite(data, 1, sizeof data, f);
    assert_int_equal(fclose(f), 0);
    open_report r = open_in_child(path);
    if (r.status != HR_OK)
        fail_msg("header at the limit: %s", r.message);
    print_message("# header at the 100 MB limit: peak RSS grew by %ld KiB\n", r.rss_growth_kib);
    assert_true(r.rss_growth_kib < 4 * (long)(ST_HEADER_LIMIT / 1024));
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_refuses_each),
        cmocka_unit_test(test_cli_one_line_each),
        cmocka_unit_test(test_st_header_at_limit_opens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
