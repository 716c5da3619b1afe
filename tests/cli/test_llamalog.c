/* hr_llama_log_parse / apply / component_mib on real and variant log lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headroom/headroom.h"
#include "test_util.h"

/* llama32_1b, n_ctx 4096, no flash attention: the calibration's buffer_lines
 * (node-llama-cpp 3.22.1, llama.cpp CPU build) with the llama_context
 * settings lines that precede them in a real log. */
static const char calibration_log[] =
    "llama_model_loader: loaded meta data with 26 key-value pairs and 147 tensors\n"
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
    "llama_context: freq_base     = 500000.0\n"
    "llama_context: n_ctx_seq (4096) < n_ctx_train (131072) -- the full capacity of the model "
    "will not be utilized\n"
    "llama_context:        CPU  output buffer size =     0.49 MiB\n"
    "llama_kv_cache:        CPU KV buffer size =   128.00 MiB\n"
    "llama_kv_cache: size =  128.00 MiB (  4096 cells,  16 layers,  1/1 seqs), K (f16):   "
    "64.00 MiB, V (f16):   64.00 MiB\n"
    "sched_reserve:        CPU compute buffer size =   286.01 MiB\n";

static hr_llama_log parse_ok(const char *text)
{
    hr_llama_log log;
    hr_error err;
    assert_int_equal(hr_llama_log_parse(text, strlen(text), &log, &err), HR_OK);
    return log;
}

static void test_calibration_lines(void **state)
{
    (void)state;
    hr_llama_log log = parse_ok(calibration_log);
    assert_int_equal(log.n_buffers, 5);
    assert_string_equal(log.buffers[0].buffer, "CPU");
    assert_int_equal(log.buffers[0].component, HR_COMP_WEIGHTS);
    assert_string_equal(log.buffers[1].buffer, "CPU_REPACK");
    assert_true(log.has_n_ctx && log.n_ctx == 4096);
    assert_true(log.has_n_ctx_seq && log.n_ctx_seq == 4096);
    assert_true(log.has_n_batch && log.n_batch == 512);
    assert_true(log.has_n_ubatch && log.n_ubatch == 512);
    assert_true(log.has_n_seq && log.n_seq == 1);
    assert_int_equal(log.flash_attn, 0);
    assert_int_equal(log.kv_unified, 0);
    assert_int_equal(log.type_k, HR_TYPE_F16);
    assert_int_equal(log.type_v, HR_TYPE_F16);
    assert_int_equal(log.n_gpu_layers, -1);
    /* the calibration's "mib" figures: model = CPU + CPU_REPACK */
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_WEIGHTS), 762.81, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_KV), 128.0, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_OUTPUT), 0.49, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_COMPUTE), 286.01, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_OVERHEAD), 0.0, 0);
}

/* Older llama.cpp: llm_load_tensors / llama_new_context_with_model prefixes,
 * n_ctx_per_seq, numeric flash_attn, KV self size line, CUDA buffers,
 * timestamps in front. */
static void test_older_prefixes_and_cuda(void **state)
{
    (void)state;
    const char *text =
        "[1718000000] llm_load_tensors: offloading 32 repeating layers to GPU\n"
        "[1718000000] llm_load_tensors: offloaded 33/33 layers to GPU\n"
        "[1718000000] llm_load_tensors:        CPU buffer size =   281.81 MiB\n"
        "llm_load_tensors:   CPU_Mapped model buffer size =   281.81 MiB\n"
        "llm_load_tensors:      CUDA0 model buffer size =  4155.99 MiB\n"
        "llama_new_context_with_model: n_ctx      = 8192\n"
        "llama_new_context_with_model: n_ctx_per_seq = 8192\n"
        "llama_new_context_with_model: n_batch    = 2048\n"
        "llama_new_context_with_model: n_ubatch   = 512\n"
        "llama_new_context_with_model: flash_attn = 1\n"
        "llama_kv_cache_init:      CUDA0 KV buffer size =  1024.00 MiB\n"
        "llama_new_context_with_model: KV self size  = 1024.00 MiB, K (q8_0):  512.00 MiB, "
        "V (q8_0):  512.00 MiB\n"
        "llama_new_context_with_model:  CUDA_Host  output buffer size =     0.49 MiB\n"
        "llama_new_context_with_model:      CUDA0 compute buffer size =   560.00 MiB\n"
        "llama_init_from_model:  CUDA_Host compute buffer size =    24.01 MiB\n";
    hr_llama_log log = parse_ok(text);
    /* "CPU buffer size" without a kind word is not a buffer line */
    assert_int_equal(log.n_buffers, 6);
    assert_string_equal(log.buffers[0].buffer, "CPU_Mapped");
    assert_string_equal(log.buffers[1].buffer, "CUDA0");
    assert_int_equal(log.n_gpu_layers, 33);
    assert_int_equal(log.n_ctx, 8192);
    assert_int_equal(log.n_ctx_seq, 8192);
    assert_int_equal(log.n_batch, 2048);
    assert_int_equal(log.flash_attn, 1);
    assert_int_equal(log.type_k, HR_TYPE_Q8_0);
    assert_int_equal(log.type_v, HR_TYPE_Q8_0);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_WEIGHTS), 281.81 + 4155.99, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_COMPUTE), 584.01, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_OUTPUT), 0.49, 1e-9);

    hr_settings s;
    hr_settings_init(&s);
    s.mode = HR_MODE_CPU;
    hr_llama_log_apply(&log, &s);
    assert_int_equal(s.mode, HR_MODE_GPU);
    assert_int_equal(s.n_gpu_layers, 33);
    assert_int_equal(s.n_ctx, 8192);
    assert_int_equal(s.n_batch, 2048);
    assert_int_equal(s.n_ubatch, 512);
    assert_int_equal(s.flash_attn, HR_FA_ON);
    assert_int_equal(s.type_k, HR_TYPE_Q8_0);
    assert_true(s.use_mmap); /* CPU_Mapped weights */
}

/* Sliding-window models print two caches; both count as KV. Recurrent state
 * (RS) also lives in the KV component. */
static void test_iswa_and_recurrent(void **state)
{
    (void)state;
    const char *text =
        "llama_kv_cache_iswa: creating non-SWA KV cache, size = 4096 cells\n"
        "llama_kv_cache_unified:        CPU KV buffer size =   672.00 MiB\n"
        "llama_kv_cache_iswa: creating     SWA KV cache, size = 4608 cells\n"
        "llama_kv_cache_unified:        CPU KV buffer size =   756.00 MiB\n"
        "llama_memory_recurrent:        CPU RS buffer size =    12.50 MiB\n"
        "llama_context: flash_attn    = auto\n"
        "llama_context: Flash Attention was auto, set to enabled\n"
        "llama_context: kv_unified    = true\n";
    hr_llama_log log = parse_ok(text);
    assert_int_equal(log.n_buffers, 3);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_KV), 672 + 756 + 12.5, 1e-9);
    assert_int_equal(log.flash_attn, 1);
    assert_int_equal(log.kv_unified, 1);
}

/* Junk, partial lines, NUL bytes, a missing final newline and very long lines
 * neither crash nor invent buffers. */
static void test_robust_to_junk(void **state)
{
    (void)state;
    char text[6000];
    size_t n = 0;
    const char *parts[] = {"load_tensors: CPU model buffer size = \n",
                           "load_tensors: CPU model buffer size = abc MiB\n",
                           "load_tensors: CPU model buffer size = -5 MiB\n",
                           "sched_reserve: CPU compute buffer size = 12.00 TiB\n",
                           "llama_context: n_ctx = banana\n",
                           "llama_context: n_ctx = 99999999999\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        memcpy(text + n, parts[i], strlen(parts[i]));
        n += strlen(parts[i]);
    }
    text[n++] = '\0'; /* binary junk */
    memset(text + n, 'x', 3000);
    n += 3000;
    const char *tail = "\nsched_reserve:        CPU compute buffer size =   1.50 MiB";
    memcpy(text + n, tail, strlen(tail));
    n += strlen(tail);
    hr_llama_log log;
    hr_error err;
    assert_int_equal(hr_llama_log_parse(text, n, &log, &err), HR_OK);
    assert_int_equal(log.n_buffers, 1);
    assert_float_equal(log.buffers[0].mib, 1.5, 1e-12);
    assert_false(log.has_n_ctx);
    assert_int_equal(hr_llama_log_parse("", 0, &log, &err), HR_OK);
    assert_int_equal(log.n_buffers, 0);
}

/* Lines of a real node-llama-cpp 3.22.1 run (gemma2-shaped GGUF, 2 sequences,
 * flash attention, q8_0 cache): two iSWA caches, node-llama-cpp's own
 * "Simulating" lines and llama.cpp's destructor check, which repeats a buffer
 * size without '=' and must not count twice. */
static void test_real_gemma2_iswa_log(void **state)
{
    (void)state;
    const char *text =
        "Simulating model resource usage. gpuLayers=0 useMmap=false "
        "memoryBreakdownCpuRam=2.59GB memoryBreakdownGpuVram=0B\n"
        "load_tensors: layer  26 assigned to device CPU, is_swa = 0\n"
        "load_tensors:          CPU model buffer size =  2649.74 MiB\n"
        "Simulating context resource usage. gpuLayers=0 contextSize=4.1K batchSize=513 "
        "sequences=2 isEmbeddingContext=false flashAttention=true\n"
        "llama_context: constructing llama_context\n"
        "llama_context: n_seq_max             = 2\n"
        "llama_context: n_ctx                 = 4096\n"
        "llama_context: n_ctx_seq             = 2048\n"
        "llama_context: n_batch               = 513\n"
        "llama_context: n_ubatch              = 513\n"
        "llama_context: flash_attn            = enabled\n"
        "llama_context: kv_unified            = false\n"
        "llama_context: n_outputs_max         = 513\n"
        "llama_context: n_ctx_seq (2048) < n_ctx_train (8192) -- the full capacity of the "
        "model will not be utilized\n"
        "llama_context:        CPU  output buffer size =     1.95 MiB\n"
        "llama_kv_cache_iswa: creating non-SWA KV cache, size = 2048 cells\n"
        "llama_kv_cache: layer   0: filtered\n"
        "llama_kv_cache: layer   1: dev = CPU\n"
        "llama_kv_cache:        CPU KV buffer size =   110.50 MiB\n"
        "llama_kv_cache: size =  110.50 MiB (  2048 cells,  13 layers,  2/2 seqs), K (q8_0):   "
        "55.25 MiB, V (q8_0):   55.25 MiB\n"
        "llama_kv_cache: attn_rot_k = 1, n_embd_head_k_all = 256\n"
        "llama_kv_cache_iswa: creating     SWA KV cache, size = 2048 cells\n"
        "llama_kv_cache:        CPU KV buffer size =   110.50 MiB\n"
        "llama_kv_cache: size =  110.50 MiB (  2048 cells,  13 layers,  2/2 seqs), K (q8_0):   "
        "55.25 MiB, V (q8_0):   55.25 MiB\n"
        "sched_reserve:        CPU compute buffer size =   510.00 MiB\n"
        "~llama_context:        CPU compute buffer size is 510.0049 MiB, matches expectation "
        "of 510.0049 MiB\n";
    hr_llama_log log = parse_ok(text);
    assert_int_equal(log.n_buffers, 5);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_WEIGHTS), 2649.74, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_KV), 221.0, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_OUTPUT), 1.95, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_COMPUTE), 510.0, 1e-9);
    assert_int_equal(log.n_seq, 2);
    assert_int_equal(log.n_ctx, 4096);
    assert_int_equal(log.n_ctx_seq, 2048);
    assert_int_equal(log.n_batch, 513);
    assert_int_equal(log.n_ubatch, 513);
    assert_int_equal(log.flash_attn, 1);
    assert_int_equal(log.kv_unified, 0);
    assert_int_equal(log.type_k, HR_TYPE_Q8_0);
    assert_int_equal(log.type_v, HR_TYPE_Q8_0);
}

/* More buffer lines than the table holds: a clear limit error. */
static void test_too_many_buffers(void **state)
{
    (void)state;
    const char *line = "load_tensors: CPU model buffer size = 1.00 MiB\n";
    size_t len = strlen(line), count = HR_LOG_MAX_BUFFERS + 1;
    char *text = malloc(len * count + 1);
    for (size_t i = 0; i < count; i++)
        memcpy(text + i * len, line, len);
    hr_llama_log log;
    hr_error err;
    assert_int_equal(hr_llama_log_parse(text, len * count, &log, &err), HR_ERR_LIMIT);
    assert_non_null(strstr(err.message, "buffer size lines"));
    free(text);
}

/* A log with two loads (a probe, then the real run) and, on the real model,
 * two contexts: the last load and its last context are what is checked. */
static void test_last_run_and_context(void **state)
{
    (void)state;
    const char *text =
        "load_tensors: offloaded 5/17 layers to GPU\n"
        "load_tensors:          CPU model buffer size =   100.00 MiB\n"
        "llama_context: n_ctx         = 512\n"
        "llama_context: flash_attn    = enabled\n"
        "llama_kv_cache:        CPU KV buffer size =     1.00 MiB\n"
        "sched_reserve:        CPU compute buffer size =     2.00 MiB\n"
        /* the real load */
        "load_tensors:          CPU model buffer size =   317.31 MiB\n"
        "load_tensors:   CPU_REPACK model buffer size =   445.50 MiB\n"
        "llama_context: n_ctx         = 1024\n"
        "llama_kv_cache:        CPU KV buffer size =    32.00 MiB\n"
        "llama_context:        CPU  output buffer size =     0.49 MiB\n"
        "sched_reserve:        CPU compute buffer size =   250.00 MiB\n"
        /* a second context on the same model */
        "llama_context: n_ctx         = 4096\n"
        "llama_context: flash_attn    = disabled\n"
        "llama_kv_cache:        CPU KV buffer size =   128.00 MiB\n"
        "llama_context:        CPU  output buffer size =     0.49 MiB\n"
        "sched_reserve:        CPU compute buffer size =   286.01 MiB\n";
    hr_llama_log log = parse_ok(text);
    assert_int_equal(log.n_buffers, 5);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_WEIGHTS), 762.81, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_KV), 128.0, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_OUTPUT), 0.49, 1e-9);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_COMPUTE), 286.01, 1e-9);
    assert_int_equal(log.n_ctx, 4096);
    assert_int_equal(log.flash_attn, 0);
    assert_int_equal(log.n_gpu_layers, -1); /* the probe's offload line is not this run's */

    /* an offload line printed for the new load is kept */
    const char *two =
        "load_tensors: offloaded 5/17 layers to GPU\n"
        "load_tensors:        CUDA0 model buffer size =   100.00 MiB\n"
        "llama_kv_cache:      CUDA0 KV buffer size =     1.00 MiB\n"
        "load_tensors: offloaded 17/17 layers to GPU\n"
        "load_tensors:        CUDA0 model buffer size =   700.00 MiB\n";
    log = parse_ok(two);
    assert_int_equal(log.n_gpu_layers, 17);
    assert_int_equal(log.n_buffers, 1);
    assert_float_equal(hr_llama_log_component_mib(&log, HR_COMP_WEIGHTS), 700.0, 1e-9);
}

static void test_apply_cpu_run(void **state)
{
    (void)state;
    hr_llama_log log = parse_ok(calibration_log);
    hr_settings s;
    hr_settings_init(&s);
    s.mode = HR_MODE_CPU;
    s.n_gpu_layers = 0;
    hr_llama_log_apply(&log, &s);
    assert_int_equal(s.mode, HR_MODE_CPU);
    assert_int_equal(s.n_ctx, 4096);
    assert_int_equal(s.n_ubatch, 512);
    assert_int_equal(s.n_seq, 1);
    assert_int_equal(s.flash_attn, HR_FA_OFF);
    assert_false(s.kv_unified);
    assert_false(s.use_mmap); /* plain CPU model buffer: --no-mmap */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibration_lines),
        cmocka_unit_test(test_older_prefixes_and_cuda),
        cmocka_unit_test(test_iswa_and_recurrent),
        cmocka_unit_test(test_robust_to_junk),
        cmocka_unit_test(test_real_gemma2_iswa_log),
        cmocka_unit_test(test_too_many_buffers),
        cmocka_unit_test(test_last_run_and_context),
        cmocka_unit_test(test_apply_cpu_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
