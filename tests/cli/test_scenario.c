/* Scenarios: settings as text, YAML save -> load round trips, parse errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headroom/headroom.h"
#include "test_util.h"

static void set_ok(hr_settings *s, const char *key, const char *value)
{
    hr_error err;
    hr_status st = hr_setting_set(s, key, value, &err);
    if (st != HR_OK)
        fail_msg("%s=%s: %s", key, value, err.message);
}

static void test_setting_values(void **state)
{
    (void)state;
    hr_settings s;
    hr_settings_init(&s);
    set_ok(&s, "ctx_size", "8192");
    assert_int_equal(s.n_ctx, 8192);
    set_ok(&s, "gpu_layers", "all");
    assert_int_equal(s.n_gpu_layers, -1);
    set_ok(&s, "gpu_layers", "20");
    assert_int_equal(s.n_gpu_layers, 20);
    set_ok(&s, "flash_attn", "off");
    assert_int_equal(s.flash_attn, HR_FA_OFF);
    set_ok(&s, "flash_attn", "auto");
    assert_int_equal(s.flash_attn, HR_FA_AUTO);
    set_ok(&s, "cache_type_v", "Q4_0");
    assert_int_equal(s.type_v, HR_TYPE_Q4_0);
    set_ok(&s, "margin", "10%");
    assert_float_equal(s.margin_percent, 10.0, 0);
    assert_int_equal(s.margin_bytes, 0);
    set_ok(&s, "margin", "512MiB");
    assert_float_equal(s.margin_percent, 0.0, 0);
    assert_int_equal(s.margin_bytes, 512ull << 20);
    set_ok(&s, "margin", "2.5%+1GiB");
    assert_float_equal(s.margin_percent, 2.5, 0);
    assert_int_equal(s.margin_bytes, 1ull << 30);
    set_ok(&s, "tensor_split", "3,1");
    assert_float_equal(s.tensor_split[0], 3.0, 0);
    assert_float_equal(s.tensor_split[1], 1.0, 0);
    assert_float_equal(s.tensor_split[2], 0.0, 0);
    set_ok(&s, "quant", "q4_k_m");
    assert_int_equal(s.target_ftype, HR_FTYPE_MOSTLY_Q4_K_M);
    set_ok(&s, "quant", "file");
    assert_int_equal(s.target_ftype, HR_FTYPE_UNKNOWN);
    set_ok(&s, "device", "cpu");
    assert_int_equal(s.mode, HR_MODE_CPU);
    set_ok(&s, "mmap", "false");
    assert_false(s.use_mmap);
}

static void test_setting_errors(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"ctx_size", "-1"},        {"ctx_size", "12abc"},      {"ctx_size", "99999999999"},
        {"batch_size", "0"},       {"parallel", ""},           {"flash_attn", "maybe"},
        {"cache_type_k", "q4_k"},  {"gpu_layers", "some"},     {"device", "tpu"},
        {"tensor_split", "a,b"},   {"tensor_split", "1,"},     {"tensor_split", "1,2,3,4,5,6,7,8,9"},
        {"quant", "Q9_X"},         {"margin", "10"},           {"margin", "5%+"},
        {"margin", "1.5B"},        {"margin", "10%+10%"},      {"mmap", "perhaps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hr_settings s;
        hr_settings_init(&s);
        hr_settings before = s;
        hr_error err;
        hr_status st = hr_setting_set(&s, bad[i][0], bad[i][1], &err);
        if (st != HR_ERR_ARG)
            fail_msg("%s=%s accepted", bad[i][0], bad[i][1]);
        assert_non_null(strstr(err.message, bad[i][0]));
        assert_memory_equal(&s, &before, sizeof s); /* a bad value changes nothing */
    }
    hr_settings s;
    hr_settings_init(&s);
    hr_error err;
    assert_int_equal(hr_setting_set(&s, "context", "1", &err), HR_ERR_NOT_FOUND);
}

/* Every key formats to text that parses back to the same settings. */
static void test_format_round_trip(void **state)
{
    (void)state;
    hr_settings s;
    hr_settings_init(&s);
    set_ok(&s, "tensor_split", "0.6,0.4");
    set_ok(&s, "margin", "12.5%+3MiB");
    set_ok(&s, "cache_type_k", "q8_0");
    set_ok(&s, "gpu_layers", "7");
    hr_settings back;
    hr_settings_init(&back);
    for (const char *const *k = hr_setting_keys(); *k; k++) {
        char text[256];
        assert_true(hr_setting_format(&s, *k, text, sizeof text));
        set_ok(&back, *k, text);
    }
    assert_memory_equal(&s, &back, sizeof s);
    char small[2];
    assert_false(hr_setting_format(&s, "margin", small, sizeof small));
    assert_false(hr_setting_format(&s, "nope", small, sizeof small));
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("scenario");
    char *path = tu_path(dir, "s.yaml");
    hr_scenario sc;
    hr_scenario_init(&sc);
    snprintf(sc.model, sizeof sc.model, "%s", "models/a model: with colon.gguf");
    snprintf(sc.hardware, sizeof sc.hardware, "%s", "2x RTX 4090");
    snprintf(sc.hardware_file, sizeof sc.hardware_file, "%s", "null"); /* a file named null */
    snprintf(sc.runtime, sizeof sc.runtime, "%s", "cuda");
    static const char *const kv[][2] = {
        {"ctx_size", "32768"}, {"batch_size", "1024"}, {"ubatch_size", "256"},
        {"parallel", "4"},     {"kv_unified", "true"}, {"flash_attn", "on"},
        {"cache_type_k", "q8_0"}, {"cache_type_v", "q4_0"}, {"gpu_layers", "20"},
        {"tensor_split", "0.7,0.3"}, {"kv_offload", "false"}, {"mmap", "false"},
        {"swa_full", "true"}, {"embeddings", "true"}, {"quant", "IQ4_XS"},
        {"margin", "7.25%+768MiB"}, {"device", "gpu"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        set_ok(&sc.settings, kv[i][0], kv[i][1]);
    hr_error err;
    assert_int_equal(hr_scenario_save(path, &sc, &err), HR_OK);
    hr_scenario back;
    assert_int_equal(hr_scenario_load(path, &back, &err), HR_OK);
    assert_memory_equal(&sc, &back, sizeof sc);

    /* defaults survive too */
    hr_scenario def;
    hr_scenario_init(&def);
    assert_int_equal(hr_scenario_save(path, &def, &err), HR_OK);
    assert_int_equal(hr_scenario_load(path, &back, &err), HR_OK);
    assert_memory_equal(&def, &back, sizeof def);
    free(path);
    tu_remove_tree(dir);
    free(dir);
}

static void test_parse_forms_and_errors(void **state)
{
    (void)state;
    hr_scenario sc;
    hr_error err;
    const char *ok = "model: llama-3.2-1b\nsettings:\n  tensor_split: [3, 1]\n  ctx_size: 4096\n";
    assert_int_equal(hr_scenario_parse(ok, strlen(ok), "ok.yaml", &sc, &err), HR_OK);
    assert_string_equal(sc.model, "llama-3.2-1b");
    assert_float_equal(sc.settings.tensor_split[0], 3.0, 0);
    assert_int_equal(sc.settings.n_ctx, 4096);
    assert_int_equal(sc.settings.n_batch, 2048); /* untouched keys keep defaults */

    const char *nulls = "model: llama-3.2-1b\nhardware: ~\nruntime: null\nsettings:\n";
    assert_int_equal(hr_scenario_parse(nulls, strlen(nulls), "n.yaml", &sc, &err), HR_OK);
    assert_string_equal(sc.hardware, "");
    assert_string_equal(sc.runtime, "");
    const char *quoted = "model: llama-3.2-1b\nhardware: \"null\"\n";
    assert_int_equal(hr_scenario_parse(quoted, strlen(quoted), "q.yaml", &sc, &err), HR_OK);
    assert_string_equal(sc.hardware, "null"); /* quoted: a real name */

    static const char *const bad[][2] = {
        {"model: x\nfoo: 1\n", "unknown key 'foo'"},
        {"model: x\nsettings:\n  ctx_size: abc\n", "line 3"},
        {"model: [x\n", "bad.yaml"},
        {"- a\n- b\n", "mapping"},
        {"settings: 5\n", "settings"},
        {"model: {a: 1}\n", "model"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hr_status st = hr_scenario_parse(bad[i][0], strlen(bad[i][0]), "bad.yaml", &sc, &err);
        assert_int_not_equal(st, HR_OK);
        if (!strstr(err.message, bad[i][1]) || !strstr(err.message, "bad.yaml"))
            fail_msg("case %zu: message '%s'", i, err.message);
    }
    assert_int_equal(hr_scenario_load("/nonexistent/dir/s.yaml", &sc, &err), HR_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent/dir/s.yaml"));
    hr_scenario def;
    hr_scenario_init(&def);
    assert_int_not_equal(hr_scenario_save("/nonexistent/dir/s.yaml", &def, &err), HR_OK);
    assert_non_null(strstr(err.message, "/nonexistent/dir/s.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setting_values),
        cmocka_unit_test(test_setting_errors),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_parse_forms_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
