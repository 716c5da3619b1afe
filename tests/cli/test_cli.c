/* The headroom binary as a user runs it: every command, --help, JSON checked
 * through cJSON, usage and input errors, scenarios and log checking. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gguf_writer.h"
#include "headroom/headroom.h"
#include "test_util.h"

#define PRESET "llama-3.2-1b"
#define MIB (1024.0 * 1024.0)

static char *tmp_dir;

static int setup(void **state)
{
    (void)state;
    tmp_dir = tu_make_temp_dir("cli");
    return tmp_dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_remove_tree(tmp_dir);
    free(tmp_dir);
    return 0;
}

/* Run headroom with a NULL-terminated argument list (arguments may hold spaces). */
static void run(tu_run_result *res, const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)tu_headroom_bin();
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    assert_int_equal(tu_run(argv, res), 0);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Exit code `code` and exactly one "headroom: ..." line on stderr holding `needle`. */
static void expect_error(const tu_run_result *r, int code, const char *needle)
{
    if (r->exit_code != code)
        fail_msg("exit %d (wanted %d), stderr: %s", r->exit_code, code, r->err);
    assert_int_equal(count_lines(r->err), 1);
    assert_int_equal(strncmp(r->err, "headroom: ", 10), 0);
    if (needle && !strstr(r->err, needle))
        fail_msg("stderr '%s' lacks '%s'", r->err, needle);
}

static cJSON *expect_json(const tu_run_result *r)
{
    if (r->exit_code != 0)
        fail_msg("exit %d, stderr: %s", r->exit_code, r->err);
    cJSON *j = cJSON_Parse(r->out);
    if (!j)
        fail_msg("stdout is not JSON: %.200s", r->out);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("missing number '%s'", key);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        fail_msg("missing string '%s'", key);
    return v->valuestring;
}

static const cJSON *item(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        fail_msg("missing key '%s'", key);
    return v;
}

/* A GGUF written from the preset's shape (sparse data). */
static char *write_preset_gguf(const char *name)
{
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_open(PRESET, &m, &err) != HR_OK)
        fail_msg("%s", err.message);
    char *path = tu_path(tmp_dir, name);
    assert_int_equal(gguf_writer_from_model(m, path), 0);
    hr_model_free(m);
    return path;
}

/* ---------------- help, version, usage errors ---------------- */

static void test_help_and_version(void **state)
{
    (void)state;
    tu_run_result r;
    run(&r, "--help", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "Usage"));
    tu_run_free(&r);

    run(&r, "--version", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, hr_version()));
    tu_run_free(&r);

    static const char *const commands[] = {"inspect", "plan", "fit", "compare", "devices", "check"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "Usage: headroom %s", commands[i]);
        run(&r, commands[i], "--help", NULL);
        assert_int_equal(r.exit_code, 0);
        if (!strstr(r.out, want))
            fail_msg("%s --help: %.200s", commands[i], r.out);
        tu_run_free(&r);
        run(&r, "help", commands[i], NULL);
        assert_int_equal(r.exit_code, 0);
        assert_non_null(strstr(r.out, want));
        tu_run_free(&r);
    }
    run(&r, "plan", "--help", NULL);
    assert_non_null(strstr(r.out, "--ctx-size"));
    assert_non_null(strstr(r.out, "--hardware"));
    tu_run_free(&r);
}

static void test_usage_errors(void **state)
{
    (void)state;
    tu_run_result r;
    run(&r, "plan", PRESET, "--frobnicate", NULL);
    expect_error(&r, 2, "--frobnicate");
    assert_string_equal(r.out, "");
    tu_run_free(&r);
    run(&r, "plan", PRESET, "--ctx-size", NULL);
    expect_error(&r, 2, "--ctx-size");
    tu_run_free(&r);
    run(&r, "plan", PRESET, "-c", "lots", NULL);
    expect_error(&r, 2, "lots");
    tu_run_free(&r);
    run(&r, "plan", PRESET, "--flash-attn", "maybe", NULL);
    expect_error(&r, 2, "maybe");
    tu_run_free(&r);
    run(&r, "plan", PRESET, "--margin", "10", NULL);
    expect_error(&r, 2, "--margin");
    tu_run_free(&r);
    run(&r, "inspect", NULL);
    expect_error(&r, 2, "MODEL");
    tu_run_free(&r);
    run(&r, "inspect", PRESET, "--ctx-size", "5", NULL); /* not an inspect option */
    expect_error(&r, 2, "--ctx-size");
    tu_run_free(&r);
    run(&r, "check", PRESET, NULL);
    expect_error(&r, 2, NULL);
    tu_run_free(&r);
    run(&r, "devices", "extra", NULL);
    expect_error(&r, 2, "extra");
    tu_run_free(&r);
    run(&r, "compare", PRESET, "--json", "--csv", NULL);
    expect_error(&r, 2, NULL);
    tu_run_free(&r);
    run(&r, "help", "nosuchcommand", NULL);
    expect_error(&r, 2, "nosuchcommand");
    tu_run_free(&r);
}

static void test_bad_input(void **state)
{
    (void)state;
    tu_run_result r;
    run(&r, "inspect", "/nonexistent/model.gguf", NULL);
    expect_error(&r, 1, "/nonexistent/model.gguf");
    tu_run_free(&r);
    run(&r, "plan", "no-such-preset-xyz", NULL);
    expect_error(&r, 1, "no-such-preset-xyz");
    tu_run_free(&r);
    run(&r, "plan", PRESET, "--hardware", "Imaginary GPU 9000", NULL);
    expect_error(&r, 1, "Imaginary GPU 9000");
    tu_run_free(&r);
    run(&r, "plan", "--scenario", "/nonexistent/s.yaml", NULL);
    expect_error(&r, 1, "/nonexistent/s.yaml");
    tu_run_free(&r);

    /* a GGUF cut in the middle of its header: exit 1, no crash */
    char *path = write_preset_gguf("cut.gguf");
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open(path, &m, &err), HR_OK);
    hr_model_free(m);
    assert_int_equal(tu_truncate(path, 2000), 0);
    run(&r, "inspect", path, NULL);
    expect_error(&r, 1, path);
    tu_run_free(&r);
    run(&r, "plan", path, "--json", NULL);
    expect_error(&r, 1, path);
    assert_string_equal(r.out, "");
    tu_run_free(&r);
    /* not a model at all */
    char *junk = tu_path(tmp_dir, "junk.gguf");
    tu_write_text(junk, "this is not a gguf file");
    run(&r, "inspect", junk, NULL);
    expect_error(&r, 1, junk);
    tu_run_free(&r);
    free(junk);
    free(path);
}

/* ---------------- inspect ---------------- */

static void test_inspect(void **state)
{
    (void)state;
    tu_run_result r;
    run(&r, "inspect", PRESET, NULL);
    assert_int_equal(r.exit_code, 0);
    static const char *const labels[] = {"Architecture", "Parameters", "Size", "Bits per weight",
                                         "Context length", "Layers", "Heads", "Head dim",
                                         "Vocabulary", "Tensors"};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (!strstr(r.out, labels[i]))
            fail_msg("inspect lacks '%s'", labels[i]);
    assert_non_null(strstr(r.out, "128256"));
    tu_run_free(&r);

    run(&r, "inspect", PRESET, "--json", NULL);
    cJSON *j = expect_json(&r);
    const cJSON *h = item(j, "hparams");
    assert_int_equal((int)num(h, "n_layer"), 16);
    assert_int_equal((int)num(h, "n_embd"), 2048);
    assert_int_equal((int)num(h, "n_head_kv"), 8);
    assert_int_equal(cJSON_GetArraySize(item(j, "layers")), 16);
    const cJSON *totals = item(j, "totals");
    const cJSON *tensors = item(j, "tensors");
    assert_int_equal(cJSON_GetArraySize(tensors), (int)num(totals, "n_tensors"));
    double sum = 0, params = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tensors) {
        sum += num(t, "bytes");
        double n = 1;
        const cJSON *d;
        cJSON_ArrayForEach(d, item(t, "dims")) n *= d->valuedouble;
        params += n;
        str(t, "type");
        str(t, "role");
        item(t, "layer");
    }
    assert_float_equal(sum, num(totals, "bytes"), 0);
    assert_float_equal(params, num(totals, "n_params"), 0);
    double bpw = 8.0 * num(totals, "bytes") / num(totals, "n_params");
    assert_float_equal(num(totals, "bits_per_weight"), bpw, 1e-9);
    assert_string_equal(str(j, "arch"), "llama");
    cJSON_Delete(j);
    tu_run_free(&r);
}

static void test_inspect_gguf_matches_preset(void **state)
{
    (void)state;
    char *path = write_preset_gguf("llama32.gguf");
    tu_run_result a, b;
    run(&a, "inspect", path, "--json", NULL);
    run(&b, "inspect", PRESET, "--json", NULL);
    cJSON *ja = expect_json(&a), *jb = expect_json(&b);
    assert_string_equal(str(ja, "source"), "gguf");
    assert_float_equal(num(item(ja, "totals"), "bytes"), num(item(jb, "totals"), "bytes"), 0);
    assert_float_equal(num(item(ja, "totals"), "n_params"), num(item(jb, "totals"), "n_params"), 0);
    assert_int_equal((int)num(item(ja, "file"), "gguf_version"), 3);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    tu_run_free(&a);
    tu_run_free(&b);
    free(path);
}

/* config.json alone: the shape at the checkpoint's dtype, and planned as Q4_K_M
 * it needs what the Q4_K_M preset of the same shape needs. */
static void test_config_json_what_if(void **state)
{
    (void)state;
    char *dir = tu_path(tmp_dir, "llama32-hf");
    char *cfg = tu_path(tmp_dir, "llama32-hf/config.json");
    assert_int_equal(mkdir(dir, 0755), 0);
    tu_write_text(cfg, "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\",\n"
                       " \"hidden_size\": 2048, \"num_hidden_layers\": 16,\n"
                       " \"num_attention_heads\": 32, \"num_key_value_heads\": 8,\n"
                       " \"intermediate_size\": 8192, \"vocab_size\": 128256,\n"
                       " \"max_position_embeddings\": 131072, \"tie_word_embeddings\": true,\n"
                       " \"rope_scaling\": {\"factor\": 32.0, \"rope_type\": \"llama3\"},\n"
                       " \"torch_dtype\": \"bfloat16\"}\n");
    tu_run_result r, p;
    run(&r, "inspect", cfg, "--json", NULL);
    cJSON *j = expect_json(&r);
    assert_string_equal(str(j, "source"), "config");
    assert_int_equal((int)num(item(j, "hparams"), "n_layer"), 16);
    /* 16 bits per weight at bf16 */
    assert_float_equal(num(item(j, "totals"), "bits_per_weight"), 16.0, 1e-9);
    cJSON_Delete(j);
    tu_run_free(&r);

    run(&r, "plan", cfg, "--device", "cpu", "-c", "4096", "--quant", "Q4_K_M", "--json", NULL);
    run(&p, "plan", PRESET, "--device", "cpu", "-c", "4096", "--json", NULL);
    cJSON *jr = expect_json(&r), *jp = expect_json(&p);
    assert_float_equal(num(item(jr, "memory"), "weights_bytes"),
                       num(item(jp, "memory"), "weights_bytes"), 0);
    assert_float_equal(num(item(jr, "memory"), "kv_bytes"), num(item(jp, "memory"), "kv_bytes"), 0);
    assert_string_equal(str(item(jr, "settings"), "quant"), "Q4_K_M");
    cJSON_Delete(jr);
    cJSON_Delete(jp);
    tu_run_free(&r);
    tu_run_free(&p);
    free(cfg);
    free(dir);
}

/* ---------------- plan ---------------- */

static const char *const components[] = {"weights_bytes", "kv_bytes", "output_bytes",
                                         "compute_bytes", "overhead_bytes", "margin_bytes"};
#define N_COMPONENTS (sizeof components / sizeof components[0])

/* total = sum of components, overall and per device; components sum over devices. */
static void check_plan_sums(const cJSON *j)
{
    const cJSON *mem = item(j, "memory");
    double sum = 0;
    for (size_t c = 0; c < N_COMPONENTS; c++)
        sum += num(mem, components[c]);
    assert_float_equal(sum, num(mem, "total_bytes"), 0);
    const cJSON *devices = item(j, "devices");
    assert_true(cJSON_GetArraySize(devices) >= 1);
    double per_comp[N_COMPONENTS] = {0};
    const cJSON *d;
    cJSON_ArrayForEach(d, devices) {
        double dsum = 0;
        for (size_t c = 0; c < N_COMPONENTS; c++) {
            dsum += num(d, components[c]);
            per_comp[c] += num(d, components[c]);
        }
        assert_float_equal(dsum, num(d, "total_bytes"), 0);
        item(d, "capacity_bytes");
        assert_true(cJSON_IsBool(item(d, "fits")));
    }
    for (size_t c = 0; c < N_COMPONENTS; c++)
        assert_float_equal(per_comp[c], num(mem, components[c]), 0);
}

static void test_plan_json(void **state)
{
    (void)state;
    tu_run_result r;
    run(&r, "plan", PRESET, "--hardware", "RTX 4090", "-c", "8192", "-fa", "on", "--margin",
        "5%", "--json", NULL);
    cJSON *j = expect_json(&r);
    check_plan_sums(j);
    assert_true(num(item(j, "memory"), "weights_bytes") > 0);
    assert_true(num(item(j, "memory"), "kv_bytes") > 0);
    assert_true(num(item(j, "memory"), "margin_bytes") > 0);
    const cJSON *settings = item(j, "settings");
    assert_string_equal(str(settings, "ctx_size"), "8192");
    assert_string_equal(str(settings, "flash_attn"), "on");
    assert_string_equal(str(settings, "margin"), "5%");
    assert_string_equal(str(item(j, "model"), "name"), "Llama-3.2-1B");
    /* a GPU budget: the host plus one 24 GiB device */
    assert_int_equal(cJSON_GetArraySize(item(j, "devices")), 2);
    cJSON_Delete(j);
    tu_run_free(&r);

    /* KV grows with the context, weights do not */
    tu_run_result a, b;
    run(&a, "plan", PRESET, "--device", "cpu", "-c", "4096", "--json", NULL);
    run(&b, "plan", PRESET, "--device", "cpu", "-c", "16384", "--json", NULL);
    cJSON *ja = expect_json(&a), *jb = expect_json(&b);
    check_plan_sums(ja);
    assert_float_equal(num(item(ja, "memory"), "weights_bytes"),
                       num(item(jb, "memory"), "weights_bytes"), 0);
    assert_float_equal(4.0 * num(item(ja, "memory"), "kv_bytes"),
                       num(item(jb, "memory"), "kv_bytes"), 0);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    tu_run_free(&a);
    tu_run_free(&b);
}

static void test_plan_bytes_and_table(void **state)
{
    (void)state;
    tu_run_result r, j;
    run(&j, "plan", PRESET, "--device", "cpu", "-c", "4096", "--json", NULL);
    cJSON *json = expect_json(&j);
    char total[64], weights[64];
    snprintf(total, sizeof total, "%.0f", num(item(json, "memory"), "total_bytes"));
    snprintf(weights, sizeof weights, "%.0f", num(item(json, "memory"), "weights_bytes"));
    run(&r, "plan", PRESET, "--device", "cpu", "-c", "4096", "--bytes", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, total));
    assert_non_null(strstr(r.out, weights));
    tu_run_free(&r);
    /* without --bytes: MiB/GiB with two decimals */
    run(&r, "plan", PRESET, "--device", "cpu", "-c", "4096", NULL);
    assert_int_equal(r.exit_code, 0);
    char mib[64];
    snprintf(mib, sizeof mib, "%.2f MiB", num(item(json, "memory"), "weights_bytes") / MIB);
    if (!strstr(r.out, mib))
        fail_msg("table lacks '%s':\n%s", mib, r.out);
    static const char *const rows[] = {"weights", "kv", "output", "compute", "overhead",
                                       "margin", "total", "capacity", "headroom", "fits"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_non_null(strstr(r.out, rows[i]));
    tu_run_free(&r);
    cJSON_Delete(json);
    tu_run_free(&j);
}

static void test_plan_gguf_fixture(void **state)
{
    (void)state;
    char *path = write_preset_gguf("plan.gguf");
    tu_run_result a, b;
    run(&a, "plan", path, "--device", "cpu", "-c", "4096", "--no-mmap", "--json", NULL);
    run(&b, "plan", PRESET, "--device", "cpu", "-c", "4096", "--no-mmap", "--json", NULL);
    cJSON *ja = expect_json(&a), *jb = expect_json(&b);
    check_plan_sums(ja);
    assert_float_equal(num(item(ja, "memory"), "weights_bytes"),
                       num(item(jb, "memory"), "weights_bytes"), 0);
    assert_float_equal(num(item(ja, "memory"), "kv_bytes"), num(item(jb, "memory"), "kv_bytes"), 0);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    tu_run_free(&a);
    tu_run_free(&b);
    free(path);
}

static void test_scenario_save_and_load(void **state)
{
    (void)state;
    char *yaml = tu_path(tmp_dir, "scenario.yaml");
    tu_run_result a, b;
    run(&a, "plan", PRESET, "--hardware", "RTX 4090", "-c", "12288", "-b", "1024", "-ub", "256",
        "-np", "2", "-ctk", "q8_0", "-ctv", "q8_0", "-fa", "on", "-ngl", "10", "--no-mmap",
        "--margin", "3%+256MiB", "--save", yaml, "--json", NULL);
    cJSON *ja = expect_json(&a);
    size_t len = 0;
    char *text = tu_read_file(yaml, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "ctx_size"));
    free(text);
    run(&b, "plan", "--scenario", yaml, "--json", NULL);
    cJSON *jb = expect_json(&b);
    assert_true(cJSON_Compare(item(ja, "settings"), item(jb, "settings"), true));
    assert_true(cJSON_Compare(item(ja, "memory"), item(jb, "memory"), true));
    assert_string_equal(str(item(jb, "settings"), "hardware"), "RTX 4090");
    cJSON_Delete(jb);
    tu_run_free(&b);
    /* flags on the command line win over the scenario */
    run(&b, "plan", "--scenario", yaml, "-c", "4096", "--json", NULL);
    jb = expect_json(&b);
    assert_string_equal(str(item(jb, "settings"), "ctx_size"), "4096");
    assert_string_equal(str(item(jb, "settings"), "cache_type_k"), "q8_0");
    cJSON_Delete(jb);
    cJSON_Delete(ja);
    tu_run_free(&a);
    tu_run_free(&b);
    /* a scenario that cannot be written: exit 1 naming it */
    run(&a, "plan", PRESET, "--save", "/nonexistent/dir/s.yaml", NULL);
    expect_error(&a, 1, "/nonexistent/dir/s.yaml");
    tu_run_free(&a);
    free(yaml);
}

/* ---------------- fit, compare, devices ---------------- */

static void test_fit(void **state)
{
    (void)state;
    tu_run_result r;
    run(&r, "fit", PRESET, "--hardware", "RTX 4090", "--json", NULL);
    cJSON *j = expect_json(&r);
    assert_true(cJSON_IsBool(item(j, "fits_now")));
    double max_ctx = num(j, "max_ctx");
    assert_true(max_ctx >= 256 && max_ctx <= 131072);
    item(j, "max_batch");
    item(j, "max_gpu_layers");
    item(j, "best_quant");
    item(j, "max_parallel");
    /* the RTX 4090 entry does not say how much RAM its host has: replicas unknown */
    assert_true(cJSON_IsNull(item(j, "replicas")));
    str(j, "replicas_unknown_because");
    char ctx[32];
    snprintf(ctx, sizeof ctx, "%.0f", max_ctx);
    cJSON_Delete(j);
    tu_run_free(&r);
    /* the answer fits */
    run(&r, "plan", PRESET, "--hardware", "RTX 4090", "-c", ctx, "--json", NULL);
    j = expect_json(&r);
    assert_true(cJSON_IsTrue(item(j, "fits")) || cJSON_IsTrue(item(item(j, "devices")->child->next, "fits")));
    cJSON_Delete(j);
    tu_run_free(&r);

    /* a CPU server with known RAM: replicas counted, and that many fit */
    run(&r, "fit", PRESET, "--hardware", "cpu-64gb-ddr4", "--device", "cpu", "-c", "4096",
        "--json", NULL);
    j = expect_json(&r);
    double replicas = num(j, "replicas");
    assert_true(replicas >= 1);
    cJSON_Delete(j);
    tu_run_free(&r);
    run(&r, "plan", PRESET, "--hardware", "cpu-64gb-ddr4", "--device", "cpu", "-c", "4096",
        "--json", NULL);
    j = expect_json(&r);
    const cJSON *host = item(j, "devices")->child;
    double total = num(host, "total_bytes"), cap = num(host, "capacity_bytes");
    assert_true(replicas * total <= cap && (replicas + 1) * total > cap);
    cJSON_Delete(j);
    tu_run_free(&r);

    run(&r, "fit", PRESET, "--hardware", "RTX 4090", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "Largest context"));
    assert_non_null(strstr(r.out, "Best quantization"));
    tu_run_free(&r);
}

static void test_compare(void **state)
{
    (void)state;
    tu_run_result r;
    run(&r, "compare", "llama-3.1-70b", "-c", "8192", "--json", NULL);
    cJSON *j = expect_json(&r);
    const cJSON *rows = item(j, "rows");
    int n = cJSON_GetArraySize(rows);
    assert_true(n > 3);
    bool seen_unfit = false, seen_fit = false;
    double last_price = -1;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        bool fits = cJSON_IsTrue(item(row, "fits"));
        str(row, "name");
        item(row, "headroom_bytes");
        item(row, "max_ctx");
        item(row, "best_quant");
        if (fits) {
            seen_fit = true;
            assert_false(seen_unfit); /* fitting rows come first */
            const cJSON *price = item(row, "price_usd");
            if (cJSON_IsNumber(price)) {
                assert_true(price->valuedouble >= last_price); /* cheapest on top */
                last_price = price->valuedouble;
            }
        } else {
            seen_unfit = true;
        }
    }
    assert_true(seen_fit && seen_unfit); /* a 70B at 8k fits some GPUs, not all */
    cJSON_Delete(j);
    tu_run_free(&r);

    run(&r, "compare", "llama-3.1-70b", "-c", "8192", "--csv", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(strncmp(r.out, "id,name,", 8), 0);
    assert_int_equal(count_lines(r.out), n + 1);
    tu_run_free(&r);

    /* a catalog of our own, added to the shipped one: among its rows the order is
     * fitting by price, then the rest by headroom */
    char *cat = tu_path(tmp_dir, "hw.yaml");
    tu_write_text(cat,
                  "version: 1\n"
                  "hardware:\n"
                  "  - {id: big-cheap, name: Big Cheap, kind: gpu, backend: cuda, memory: 48 GiB, bandwidth_gbps: 500,\n"
                  "     price_usd: 500, price_date: 2024-01, host_memory: 256 GiB}\n"
                  "  - {id: big-dear, name: Big Dear, kind: gpu, backend: cuda, memory: 80 GiB, bandwidth_gbps: 500,\n"
                  "     price_usd: 9000, price_date: 2024-01, host_memory: 256 GiB}\n"
                  "  - {id: big-noprice, name: Big No Price, kind: gpu, backend: cuda, bandwidth_gbps: 500,\n"
                  "     memory: 64 GiB, host_memory: 256 GiB}\n"
                  "  - {id: tiny, name: Tiny, kind: gpu, backend: cuda, memory: 1 GiB, bandwidth_gbps: 500,\n"
                  "     price_usd: 50, price_date: 2024-01, host_memory: 256 GiB}\n"
                  "  - {id: small, name: Small, kind: gpu, backend: cuda, memory: 1536 MiB, bandwidth_gbps: 500,\n"
                  "     price_usd: 100, price_date: 2024-01, host_memory: 256 GiB}\n");
    run(&r, "compare", PRESET, "-c", "8192", "--hardware-file", cat, "--json", NULL);
    j = expect_json(&r);
    static const char *const order[] = {"big-cheap", "big-dear", "big-noprice", "small", "tiny"};
    const cJSON *mine[5] = {0};
    int i = 0;
    cJSON_ArrayForEach(row, item(j, "rows")) {
        if (strncmp(str(row, "id"), "big-", 4) && strcmp(str(row, "id"), "small") &&
            strcmp(str(row, "id"), "tiny"))
            continue; /* a shipped entry */
        assert_true(i < 5);
        assert_string_equal(str(row, "id"), order[i]);
        assert_int_equal(cJSON_IsTrue(item(row, "fits")), i < 3);
        mine[i++] = row;
    }
    assert_int_equal(i, 5);
    assert_float_equal(num(mine[0], "usd_per_gb"), 500.0 / (48.0 * 1073741824.0 / 1e9), 1e-9);
    assert_true(cJSON_IsNull(item(mine[2], "usd_per_gb")));
    cJSON_Delete(j);
    tu_run_free(&r);
    free(cat);

    char *bad = tu_path(tmp_dir, "bad-hw.yaml");
    tu_write_text(bad, "devices: [ unclosed\n");
    run(&r, "compare", PRESET, "--hardware-file", bad, NULL);
    expect_error(&r, 1, bad);
    tu_run_free(&r);
    free(bad);
}

static void test_devices(void **state)
{
    (void)state;
    tu_run_result r;
    run(&r, "devices", "--json", NULL);
    cJSON *j = expect_json(&r);
    cJSON_Delete(j);
    tu_run_free(&r);
    run(&r, "devices", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "Host"));
    assert_non_null(strstr(r.out, "memory total"));
    assert_non_null(strstr(r.out, "GPUs"));
    tu_run_free(&r);
}

/* ---------------- check ---------------- */

/* The calibration's llama32_1b run at n_ctx 4096 without flash attention,
 * with the settings lines llama.cpp prints before its buffer lines. */
static const char llama32_log[] =
    "main: llama backend init\n"
    "load_tensors: loading model tensors, this can take a while... (mmap = false)\n"
    "load_tensors:          CPU model buffer size =   317.31 MiB\n"
    "load_tensors:   CPU_REPACK model buffer size =   445.50 MiB\n"
    "llama_context: constructing llama_context\n"
    "llama_context: n_seq_max     = 1\n"
    "llama_context: n_ctx         = 4096\n"
    "llama_context: n_ctx_seq     = 4096\n"
    "llama_context: n_batch       = 512\n"
    "llama_context: n_ubatch      = 512\n"
    "llama_context: causal_attn   = 1\n"
    "llama_context: flash_attn    = disabled\n"
    "llama_context: kv_unified    = false\n"
    "llama_context:        CPU  output buffer size =     0.49 MiB\n"
    "llama_kv_cache:        CPU KV buffer size =   128.00 MiB\n"
    "llama_kv_cache: size =  128.00 MiB (  4096 cells,  16 layers,  1/1 seqs), K (f16):   "
    "64.00 MiB, V (f16):   64.00 MiB\n"
    "sched_reserve:        CPU compute buffer size =   286.01 MiB\n";

static const cJSON *find_component(const cJSON *list, const char *component)
{
    const cJSON *row;
    cJSON_ArrayForEach(row, list) if (strcmp(str(row, "component"), component) == 0) return row;
    fail_msg("no row for %s", component);
    return NULL;
}

static void test_check(void **state)
{
    (void)state;
    char *log = tu_path(tmp_dir, "llama32.log");
    assert_int_equal(tu_write_text(log, llama32_log), 0);
    tu_run_result r;
    run(&r, "check", PRESET, log, "--json", NULL);
    cJSON *j = expect_json(&r);
    const cJSON *comps = item(j, "components");
    static const struct { const char *name; double actual; } want[] = {
        {"weights", 762.81}, {"kv", 128.0}, {"output", 0.49}, {"compute", 286.01}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cJSON *row = find_component(comps, want[i].name);
        double actual = num(row, "actual_mib"), predicted = num(row, "predicted_mib");
        assert_float_equal(actual, want[i].actual, 1e-9);
        assert_float_equal(num(row, "error_mib"), predicted - actual, 1e-9);
        assert_float_equal(num(row, "error_percent"), (predicted - actual) / actual * 100, 1e-9);
        assert_float_equal(predicted * MIB, num(row, "predicted_bytes"), 1e-3);
    }
    /* the plan's accuracy target: weights and KV within 0.1% (+ the log's rounding),
     * output exact to the printed 2 decimals, total within 3% */
    assert_true(fabs(num(find_component(comps, "weights"), "error_mib")) <= 0.005 + 0.001 * 762.81);
    assert_true(fabs(num(find_component(comps, "kv"), "error_mib")) <= 0.005 + 0.001 * 128);
    assert_true(fabs(num(find_component(comps, "output"), "error_mib")) <= 0.005);
    assert_true(fabs(num(item(j, "total"), "error_percent")) <= 3.0);
    /* the log's settings were used */
    assert_string_equal(str(item(j, "settings"), "ctx_size"), "4096");
    assert_string_equal(str(item(j, "settings"), "flash_attn"), "off");
    assert_string_equal(str(item(j, "settings"), "device"), "cpu");
    assert_int_equal(cJSON_GetArraySize(item(item(j, "log"), "buffers")), 5);
    cJSON_Delete(j);
    tu_run_free(&r);

    run(&r, "check", PRESET, log, NULL);
    assert_int_equal(r.exit_code, 0);
    static const char *const words[] = {"weights", "kv", "output", "compute", "predicted",
                                        "actual", "error", "%"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        assert_non_null(strstr(r.out, words[i]));
    assert_non_null(strstr(r.out, "762.81 MiB"));
    tu_run_free(&r);

    char *empty = tu_path(tmp_dir, "empty.log");
    tu_write_text(empty, "nothing to see here\n");
    run(&r, "check", PRESET, empty, NULL);
    expect_error(&r, 1, empty);
    tu_run_free(&r);
    run(&r, "check", PRESET, "/nonexistent/run.log", NULL);
    expect_error(&r, 1, "/nonexistent/run.log");
    tu_run_free(&r);
    free(empty);
    free(log);
}

/* A log that lost its weights lines (a cut or partly relayed log): weights
 * shows as not in the log rather than a 100% error, and the total compares
 * only what the log has. */
static void test_check_log_missing_lines(void **state)
{
    (void)state;
    const char *cut_from = strstr(llama32_log, "load_tensors:          CPU model");
    const char *cut_to = strstr(llama32_log, "llama_context: constructing");
    char text[sizeof llama32_log];
    size_t head = (size_t)(cut_from - llama32_log);
    memcpy(text, llama32_log, head);
    snprintf(text + head, sizeof text - head, "%s", cut_to);
    char *log = tu_path(tmp_dir, "cut.log");
    assert_int_equal(tu_write_text(log, text), 0);
    tu_run_result r;
    run(&r, "check", PRESET, log, "--json", NULL);
    cJSON *j = expect_json(&r);
    const cJSON *weights = find_component(item(j, "components"), "weights");
    assert_true(cJSON_IsNull(item(weights, "actual_mib")));
    assert_true(cJSON_IsNull(item(weights, "error_percent")));
    assert_true(num(weights, "predicted_mib") > 700);
    double rest = 0;
    static const char *const others[] = {"kv", "output", "compute"};
    for (int i = 0; i < 3; i++)
        rest += num(find_component(item(j, "components"), others[i]), "predicted_mib");
    assert_float_equal(num(item(j, "total"), "predicted_mib"), rest, 1e-9);
    assert_float_equal(num(item(j, "total"), "actual_mib"), 128.0 + 0.49 + 286.01, 1e-9);
    char *notes = cJSON_PrintUnformatted(item(j, "notes"));
    assert_non_null(strstr(notes, "no weights buffer line"));
    free(notes);
    cJSON_Delete(j);
    tu_run_free(&r);
    run(&r, "check", PRESET, log, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "not in log"));
    tu_run_free(&r);
    free(log);
}

/* A run with a Vulkan device (its buffers named Vulkan0 / Vulkan_Host): the
 * device's rows are planned and compared, and a note names what the Vulkan
 * backend does that the plan does not (its graph optimizer, its alignment);
 * a CPU log gets no such note. */
static const char vulkan_log[] =
    "load_tensors: loading model tensors, this can take a while... (mmap = false)\n"
    "load_tensors: offloaded 10/17 layers to GPU\n"
    "load_tensors:          CPU model buffer size =   205.49 MiB\n"
    "load_tensors:      Vulkan0 model buffer size =   315.69 MiB\n"
    "load_tensors:  Vulkan_Host model buffer size =   241.63 MiB\n"
    "llama_context: n_seq_max     = 1\n"
    "llama_context: n_ctx         = 4096\n"
    "llama_context: n_ctx_seq     = 4096\n"
    "llama_context: n_batch       = 512\n"
    "llama_context: n_ubatch      = 512\n"
    "llama_context: flash_attn    = disabled\n"
    "llama_context: kv_unified    = false\n"
    "llama_context: Vulkan_Host  output buffer size =     0.49 MiB\n"
    "llama_kv_cache:        CPU KV buffer size =    56.00 MiB\n"
    "llama_kv_cache:    Vulkan0 KV buffer size =    72.00 MiB\n"
    "sched_reserve:    Vulkan0 compute buffer size =    73.00 MiB\n"
    "sched_reserve: Vulkan_Host compute buffer size =   282.01 MiB\n";

static void test_check_vulkan_note(void **state)
{
    (void)state;
    char *log = tu_path(tmp_dir, "vulkan.log");
    assert_int_equal(tu_write_text(log, vulkan_log), 0);
    tu_run_result r;
    run(&r, "check", PRESET, log, "--json", NULL);
    cJSON *j = expect_json(&r);
    bool device_compute = false;
    const cJSON *row;
    cJSON_ArrayForEach(row, item(j, "rows"))
        device_compute = device_compute || (strcmp(str(row, "component"), "compute") == 0 &&
                                            strcmp(str(row, "device"), "Vulkan0") == 0);
    assert_true(device_compute);
    char *notes = cJSON_PrintUnformatted(item(j, "notes"));
    assert_non_null(strstr(notes, "GGML_VK_DISABLE_GRAPH_OPTIMIZE"));
    free(notes);
    cJSON_Delete(j);
    tu_run_free(&r);

    char *cpu = tu_path(tmp_dir, "cpu-only.log");
    assert_int_equal(tu_write_text(cpu, llama32_log), 0);
    run(&r, "check", PRESET, cpu, "--json", NULL);
    j = expect_json(&r);
    notes = cJSON_PrintUnformatted(item(j, "notes"));
    assert_null(strstr(notes, "Vulkan"));
    free(notes);
    cJSON_Delete(j);
    tu_run_free(&r);
    free(cpu);
    free(log);
}

/* --hardware-file adds to the shipped catalog; a same-named entry replaces one */
static void test_hardware_file_merges(void **state)
{
    (void)state;
    char *cat = tu_path(tmp_dir, "extra-hw.yaml");
    tu_write_text(cat,
                  "version: 1\n"
                  "hardware:\n"
                  "  - {id: lab-accel-9, name: Lab Accelerator 9, kind: gpu, backend: cuda,\n"
                  "     memory: 40 GiB, bandwidth_gbps: 900, host_memory: 128 GiB}\n"
                  "  - {id: rtx 4090, name: Our RTX 4090 mod, kind: gpu, backend: cuda,\n"
                  "     memory: 48 GiB, bandwidth_gbps: 1008}\n");
    tu_run_result r;
    run(&r, "compare", PRESET, "-c", "4096", "--hardware-file", cat, "--json", NULL);
    cJSON *j = expect_json(&r);
    const cJSON *row;
    bool seen_new = false, seen_h100 = false;
    int seen_4090 = 0;
    cJSON_ArrayForEach(row, item(j, "rows")) {
        const char *id = str(row, "id");
        if (!strcmp(id, "lab-accel-9")) {
            seen_new = true;
            assert_float_equal(num(row, "memory_bytes"), 40.0 * 1073741824.0, 0);
        }
        if (!strcmp(id, "h100-sxm-80gb"))
            seen_h100 = true;
        if (strstr(str(row, "name"), "RTX 4090")) {
            seen_4090++;
            assert_string_equal(str(row, "name"), "Our RTX 4090 mod");
            assert_float_equal(num(row, "memory_bytes"), 48.0 * 1073741824.0, 0);
        }
    }
    assert_true(seen_new && seen_h100);
    assert_int_equal(seen_4090, 1);
    cJSON_Delete(j);
    tu_run_free(&r);

    /* --hardware finds entries of both files, the override by the shipped spelling */
    run(&r, "plan", PRESET, "--hardware", "RTX 4090", "--hardware-file", cat, "--json", NULL);
    j = expect_json(&r);
    const cJSON *gpu = item(j, "devices")->child->next;
    assert_float_equal(num(gpu, "capacity_bytes"), 48.0 * 1073741824.0, 0);
    cJSON_Delete(j);
    tu_run_free(&r);
    run(&r, "plan", PRESET, "--hardware", "Lab Accelerator 9", "--hardware-file", cat, "--json",
        NULL);
    j = expect_json(&r);
    gpu = item(j, "devices")->child->next;
    assert_float_equal(num(gpu, "capacity_bytes"), 40.0 * 1073741824.0, 0);
    cJSON_Delete(j);
    tu_run_free(&r);
    run(&r, "plan", PRESET, "--hardware", "H100 SXM", "--hardware-file", cat, "--json", NULL);
    j = expect_json(&r);
    gpu = item(j, "devices")->child->next;
    assert_float_equal(num(gpu, "capacity_bytes"), 81559.0 * 1048576.0, 0);
    cJSON_Delete(j);
    tu_run_free(&r);
    run(&r, "plan", PRESET, "--hardware", "RTX 9999", "--hardware-file", cat, NULL);
    expect_error(&r, 1, cat);
    tu_run_free(&r);

    /* a broken user file: one line naming it, for every command that reads it */
    char *bad = tu_path(tmp_dir, "broken-extra-hw.yaml");
    tu_write_text(bad, "hardware:\n  - {id: x, name: X, kind: gpu, memory: lots}\n");
    run(&r, "plan", PRESET, "--hardware", "RTX 4090", "--hardware-file", bad, NULL);
    expect_error(&r, 1, bad);
    tu_run_free(&r);
    run(&r, "compare", PRESET, "--hardware-file", bad, NULL);
    expect_error(&r, 1, bad);
    tu_run_free(&r);
    free(bad);
    free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_inspect),
        cmocka_unit_test(test_inspect_gguf_matches_preset),
        cmocka_unit_test(test_config_json_what_if),
        cmocka_unit_test(test_plan_json),
        cmocka_unit_test(test_plan_bytes_and_table),
        cmocka_unit_test(test_plan_gguf_fixture),
        cmocka_unit_test(test_scenario_save_and_load),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_hardware_file_merges),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_check_log_missing_lines),
        cmocka_unit_test(test_check_vulkan_note),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
