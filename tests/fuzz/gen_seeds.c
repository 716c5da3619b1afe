/* Seed corpora for the fuzz harnesses, written by the fixture writers.
 * usage: fuzz_gen_seeds TARGET DIR [CONFIG_DIR]   (TARGET: gguf safetensors config yaml
 * llamalog; the yaml seeds copy CONFIG_DIR's files, else $HEADROOM_CONFIG_DIR's) */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_input.h"
#include "gguf_writer.h"
#include "safetensors_writer.h"
#include "headroom/headroom.h"
#include "test_util.h"
#include "tiny_shapes.h"

static char *out_path(const char *dir, const char *name)
{
    return tu_path(dir, name);
}

/* A GGUF seed as fuzz_gguf reads it: one byte sizing the data hole (in
 * FUZZ_HOLE_UNIT steps, rounded up), then the header bytes. */
static void put_gguf(const char *dir, const char *name, gguf_writer *w)
{
    unsigned char *buf;
    size_t len;
    gguf_writer_layout lay;
    if (gguf_writer_serialize(w, &buf, &len, &lay) != 0)
        return;
    uint64_t hole_units = (lay.file_size - len + FUZZ_HOLE_UNIT - 1) / FUZZ_HOLE_UNIT;
    if (hole_units > 255) {
        fprintf(stderr, "seed %s: data section too large for the hole byte\n", name);
        free(buf);
        return;
    }
    unsigned char *seed = malloc(len + 1);
    seed[0] = (unsigned char)hole_units;
    memcpy(seed + 1, buf, len);
    char *p = out_path(dir, name);
    tu_write_file(p, seed, len + 1);
    free(p);
    free(seed);
    free(buf);
}

/* Small shapes of several families: seeds must stay a few hundred KB. */
static int seed_gguf(const char *dir)
{
    const char *arches[] = {"llama", "qwen2", "gemma2", "qwen2moe", "deepseek2", "mamba", "bert"};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        hr_shape s;
        hr_shape_init(&s);
        s.name = arches[i];
        s.arch_name = arches[i];
        s.n_layer = 2;
        s.n_embd = 64;
        s.n_vocab = 256;
        s.n_ctx_train = 512;
        s.n_head = 4;
        s.n_head_kv = 2;
        s.n_ff = 128;
        s.ftype = HR_FTYPE_MOSTLY_Q8_0;
        if (strcmp(arches[i], "gemma2") == 0) {
            s.n_swa = 128;
            s.attn_logit_softcap = 50;
        } else if (strcmp(arches[i], "qwen2moe") == 0) {
            s.n_expert = 4;
            s.n_expert_used = 2;
            s.n_ff_exp = 64;
            s.n_expert_shared = 1;
            s.n_ff_shexp = 64;
        } else if (strcmp(arches[i], "deepseek2") == 0) {
            s.n_lora_kv = 32;
            s.n_rot = 16;
            s.head_dim_qk_nope = 16;
            s.head_dim = 32;
            s.head_dim_v = 16;
        } else if (strcmp(arches[i], "mamba") == 0) {
            s.ssm_d_conv = 4;
            s.ssm_d_inner = 128;
            s.ssm_d_state = 16;
            s.ssm_dt_rank = 4;
        } else if (strcmp(arches[i], "bert") == 0) {
            s.causal = false;
            s.embedding_only = true;
            s.n_pos_embd = 512;
        }
        hr_model *m;
        hr_error err;
        if (hr_model_from_shape(&s, &m, &err) != HR_OK) {
            fprintf(stderr, "seed %s: %s\n", arches[i], err.message);
            continue;
        }
        char name[64];
        for (uint32_t v = 1; v <= 3; v++) {
            gguf_writer *w = gguf_writer_new_from_model(m);
            if (!w)
                continue;
            gguf_writer_set_header(w, "GGUF", v);
            snprintf(name, sizeof name, "%s-v%u.gguf", arches[i], v);
            put_gguf(dir, name, w);
            gguf_writer_free(w);
        }
        hr_model_free(m);
    }
    return 0;
}

/* GGUF seeds of the tiny shapes (tiny_shapes.h), version 3 */
static int seed_gguf_tiny(const char *dir)
{
    for (size_t i = 0; i < N_TINY_SHAPES; i++) {
        hr_error err;
        hr_model *m = tiny_shape_model(i, &err);
        if (!m) {
            fprintf(stderr, "seed %s: %s\n", tiny_shapes[i].stem, err.message);
            return 1;
        }
        gguf_writer *w = gguf_writer_new_from_model(m);
        if (w) {
            char name[64];
            snprintf(name, sizeof name, "%s-v3.gguf", tiny_shapes[i].stem);
            put_gguf(dir, name, w);
            gguf_writer_free(w);
        }
        hr_model_free(m);
    }
    return 0;
}

static void put_safetensors(const char *dir, const char *name, const char *header)
{
    size_t n = strlen(header);
    size_t total = 1 + 8 + n + 64;
    unsigned char *buf = calloc(1, total);
    buf[0] = 0; /* harness: even first byte = a .safetensors file */
    for (int i = 0; i < 8; i++)
        buf[1 + i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(buf + 9, header, n);
    char *p = out_path(dir, name);
    tu_write_file(p, buf, total);
    free(p);
    free(buf);
}

static int seed_safetensors(const char *dir)
{
    put_safetensors(dir, "one.st",
                    "{\"__metadata__\":{\"format\":\"pt\"},\"model.embed_tokens.weight\":"
                    "{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}");
    put_safetensors(dir, "dtypes.st",
                    "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2,8],\"data_offsets\":[0,32]},"
                    "\"b\":{\"dtype\":\"F8_E4M3\",\"shape\":[32],\"data_offsets\":[32,64]}}");
    /* whole checkpoints with Hugging Face names: a llama and a qwen2 (biases),
     * written by the fixture writer and prefixed with the harness's byte */
    for (int variant = 0; variant < 2; variant++) {
        hr_shape sh;
        hr_shape_init(&sh);
        sh.n_layer = 2;
        sh.n_embd = 16;
        sh.n_vocab = 32;
        sh.n_head = 2;
        sh.n_head_kv = 1;
        sh.n_ff = 32;
        sh.qkv_bias = variant == 1;
        stw_tensor *t;
        size_t n;
        if (stw_llama_tensors(&sh, variant ? "F16" : "BF16", &t, &n) != 0)
            continue;
        char *tmp = out_path(dir, "tmp.safetensors");
        size_t len = 0;
        char *bytes = NULL;
        if (stw_write(tmp, t, n, "{\"format\": \"pt\"}", NULL) == 0)
            bytes = tu_read_file(tmp, &len);
        remove(tmp);
        free(tmp);
        stw_free_tensors(t, n);
        if (!bytes)
            continue;
        unsigned char *seed = malloc(len + 1);
        seed[0] = 0;
        memcpy(seed + 1, bytes, len);
        char *p = out_path(dir, variant ? "qwen2-hf.st" : "llama-hf.st");
        tu_write_file(p, seed, len + 1);
        free(p);
        free(seed);
        free(bytes);
    }
    const char *index = "\x01{\"metadata\":{\"total_size\":64},\"weight_map\":"
                        "{\"model.norm.weight\":\"model-00001-of-00002.safetensors\"}}";
    char *p = out_path(dir, "index.json");
    tu_write_text(p, index);
    free(p);
    return 0;
}

static int seed_config(const char *dir)
{
    const char *configs[] = {
        "{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\",\"hidden_size\":4096,"
        "\"intermediate_size\":14336,\"num_attention_heads\":32,\"num_hidden_layers\":32,"
        "\"num_key_value_heads\":8,\"vocab_size\":128256,\"max_position_embeddings\":131072,"
        "\"torch_dtype\":\"bfloat16\",\"tie_word_embeddings\":false}",
        "{\"architectures\":[\"Gemma2ForCausalLM\"],\"model_type\":\"gemma2\",\"hidden_size\":2304,"
        "\"intermediate_size\":9216,\"num_attention_heads\":8,\"num_hidden_layers\":26,"
        "\"num_key_value_heads\":4,\"head_dim\":256,\"vocab_size\":256000,\"sliding_window\":4096,"
        "\"attn_logit_softcapping\":50.0,\"final_logit_softcapping\":30.0,\"torch_dtype\":\"float32\"}",
        "{\"architectures\":[\"DeepseekV2ForCausalLM\"],\"model_type\":\"deepseek_v2\",\"hidden_size\":2048,"
        "\"num_hidden_layers\":27,\"num_attention_heads\":16,\"kv_lora_rank\":512,\"qk_rope_head_dim\":64,"
        "\"qk_nope_head_dim\":128,\"v_head_dim\":128,\"n_routed_experts\":64,\"num_experts_per_tok\":6,"
        "\"moe_intermediate_size\":1408,\"n_shared_experts\":2,\"first_k_dense_replace\":1,"
        "\"intermediate_size\":10944,\"vocab_size\":102400,\"torch_dtype\":\"bfloat16\"}",
        "{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":1536,\"num_hidden_layers\":28,"
        "\"num_attention_heads\":12,\"num_key_value_heads\":2,\"intermediate_size\":8960,"
        "\"vocab_size\":151646,\"torch_dtype\":\"float32\",\"quantization_config\":{\"quant_method\":"
        "\"gptq\",\"bits\":4,\"group_size\":128}}",
        /* the families added since (tests/safetensors/test_hf_config.c's configs) */
        "{\"architectures\": [\"NewModel\"], \"model_type\": \"new\", \"hidden_size\": 1024, "
        "\"intermediate_size\": 4096, \"num_attention_heads\": 16, "
        "\"num_hidden_layers\": 24, \"vocab_size\": 30528, "
        "\"max_position_embeddings\": 8192, \"type_vocab_size\": 2, "
        "\"position_embedding_type\": \"rope\", \"torch_dtype\": \"float32\"}",
        "{\"architectures\": [\"GptOssForCausalLM\"], \"model_type\": \"gpt_oss\", "
        "\"hidden_size\": 256, \"intermediate_size\": 128, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"num_hidden_layers\": 4, "
        "\"num_local_experts\": 4, \"num_experts_per_tok\": 2, \"vocab_size\": 1000, "
        "\"sliding_window\": 128, \"layer_types\": [\"full_attention\", "
        "\"sliding_attention\", \"sliding_attention\", \"full_attention\"], "
        "\"torch_dtype\": \"bfloat16\", "
        "\"quantization_config\": {\"quant_method\": \"mxfp4\"}}",
        "{\"architectures\": [\"JambaForCausalLM\"], \"model_type\": \"jamba\", "
        "\"hidden_size\": 256, \"num_hidden_layers\": 8, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"intermediate_size\": 512, \"num_experts\": 4, "
        "\"num_experts_per_tok\": 2, \"vocab_size\": 1000, \"mamba_d_state\": 16, "
        "\"mamba_d_conv\": 4, \"mamba_expand\": 2, \"mamba_dt_rank\": 16, "
        "\"attn_layer_period\": 8, \"attn_layer_offset\": 4, \"expert_layer_period\": 2, "
        "\"expert_layer_offset\": 1, \"tie_word_embeddings\": false, "
        "\"torch_dtype\": \"bfloat16\"}",
        "{\"architectures\": [\"NemotronHForCausalLM\"], \"model_type\": \"nemotron_h\", "
        "\"hidden_size\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"intermediate_size\": 512, "
        "\"vocab_size\": 1000, \"mamba_num_heads\": 8, \"mamba_head_dim\": 32, "
        "\"n_groups\": 2, \"ssm_state_size\": 16, \"conv_kernel\": 4, "
        "\"hybrid_override_pattern\": \"M-*M\", \"torch_dtype\": \"bfloat16\"}",
        "{\"architectures\": [\"Lfm2ForCausalLM\"], \"model_type\": \"lfm2\", "
        "\"hidden_size\": 256, \"num_hidden_layers\": 3, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"block_ff_dim\": 12288, "
        "\"block_auto_adjust_ff_dim\": true, \"block_ffn_dim_multiplier\": 1.0, "
        "\"block_multiple_of\": 256, \"vocab_size\": 1000, \"conv_L_cache\": 3, "
        "\"tie_embedding\": true, \"torch_dtype\": \"bfloat16\", \"layer_types\": [\"conv\", "
        "\"full_attention\", \"conv\"]}",
        "{\"architectures\": [\"Lfm2MoeForCausalLM\"], \"model_type\": \"lfm2_moe\", "
        "\"hidden_size\": 256, \"num_hidden_layers\": 3, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"intermediate_size\": 768, "
        "\"moe_intermediate_size\": 128, \"num_experts\": 8, \"num_experts_per_tok\": 2, "
        "\"num_dense_layers\": 1, \"vocab_size\": 1000, \"conv_L_cache\": 3, "
        "\"torch_dtype\": \"bfloat16\", \"layer_types\": [\"conv\", \"full_attention\", "
        "\"conv\"]}",
        "{\"architectures\": [\"Qwen3_5ForCausalLM\"], \"model_type\": \"qwen3_5\", "
        "\"hidden_size\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"intermediate_size\": 512, "
        "\"vocab_size\": 1000, \"linear_key_head_dim\": 32, \"linear_num_key_heads\": 2, "
        "\"linear_num_value_heads\": 4, \"linear_value_head_dim\": 32, "
        "\"linear_conv_kernel_dim\": 4, \"full_attention_interval\": 2, "
        "\"torch_dtype\": \"bfloat16\"}",
        "{\"architectures\": [\"Qwen3_5MoeForCausalLM\"], \"model_type\": \"qwen3_5_moe\", "
        "\"hidden_size\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"num_experts\": 8, "
        "\"num_experts_per_tok\": 2, \"moe_intermediate_size\": 128, "
        "\"shared_expert_intermediate_size\": 128, \"vocab_size\": 1000, "
        "\"linear_key_head_dim\": 32, \"linear_num_key_heads\": 2, "
        "\"linear_num_value_heads\": 4, \"linear_value_head_dim\": 32, "
        "\"layer_types\": [\"linear_attention\", \"linear_attention\", \"linear_attention\", "
        "\"full_attention\"], \"torch_dtype\": \"bfloat16\"}",
        "{\"architectures\": [\"Qwen3NextForCausalLM\"], \"model_type\": \"qwen3_next\", "
        "\"hidden_size\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"num_experts\": 8, "
        "\"num_experts_per_tok\": 2, \"moe_intermediate_size\": 128, "
        "\"shared_expert_intermediate_size\": 128, \"vocab_size\": 1000, "
        "\"linear_key_head_dim\": 32, \"linear_num_key_heads\": 2, "
        "\"linear_num_value_heads\": 4, \"linear_value_head_dim\": 32, "
        "\"full_attention_interval\": 4, \"torch_dtype\": \"bfloat16\"}",
        "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"model_type\": \"qwen3_moe\", "
        "\"hidden_size\": 256, \"intermediate_size\": 768, \"moe_intermediate_size\": 64, "
        "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 64, "
        "\"num_hidden_layers\": 3, \"num_experts\": 8, \"num_experts_per_tok\": 2, "
        "\"mlp_only_layers\": [0], \"vocab_size\": 1000, \"torch_dtype\": \"bfloat16\"}",
        "{\"architectures\": [\"FalconH1ForCausalLM\"], \"model_type\": \"falcon_h1\", "
        "\"hidden_size\": 256, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"intermediate_size\": 512, "
        "\"vocab_size\": 1000, \"mamba_d_ssm\": 512, \"mamba_n_heads\": 8, "
        "\"mamba_d_head\": 64, \"mamba_n_groups\": 1, \"mamba_d_state\": 16, "
        "\"mamba_d_conv\": 4, \"torch_dtype\": \"bfloat16\"}",
        "{\"architectures\": [\"GraniteMoeHybridForCausalLM\"], "
        "\"model_type\": \"granitemoehybrid\", \"hidden_size\": 256, "
        "\"num_hidden_layers\": 6, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
        "\"intermediate_size\": 64, \"shared_intermediate_size\": 128, "
        "\"num_local_experts\": 8, \"num_experts_per_tok\": 2, \"vocab_size\": 1000, "
        "\"mamba_d_state\": 16, \"mamba_n_heads\": 8, \"mamba_d_head\": 64, "
        "\"mamba_n_groups\": 1, \"mamba_d_conv\": 4, \"embedding_multiplier\": 12, "
        "\"residual_multiplier\": 0.22, \"logits_scaling\": 6, "
        "\"position_embedding_type\": \"nope\", \"tie_word_embeddings\": true, "
        "\"torch_dtype\": \"bfloat16\", \"layer_types\": [\"mamba\", \"mamba\", "
        "\"attention\", \"mamba\", \"mamba\", \"mamba\"]}",
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "config%zu.json", i);
        char *p = out_path(dir, name);
        tu_write_text(p, configs[i]);
        free(p);
    }
    return 0;
}

/* Every shipped YAML (presets, catalog, runtimes) plus a saved scenario. */
static int seed_yaml(const char *dir, const char *root)
{
    if (root) {
        char models[1024];
        snprintf(models, sizeof models, "%s/models", root);
        DIR *d = opendir(models);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char src[2048];
            snprintf(src, sizeof src, "%s/%s", models, e->d_name);
            size_t len;
            char *text = tu_read_file(src, &len);
            if (text) {
                char *p = out_path(dir, e->d_name);
                tu_write_file(p, text, len);
                free(p);
                free(text);
            }
        }
        if (d)
            closedir(d);
        const char *files[] = {"hardware.yaml", "runtimes.yaml"};
        for (int i = 0; i < 2; i++) {
            char src[1024];
            snprintf(src, sizeof src, "%s/%s", root, files[i]);
            size_t len;
            char *text = tu_read_file(src, &len);
            if (text) {
                char *p = out_path(dir, files[i]);
                tu_write_file(p, text, len);
                free(p);
                free(text);
            }
        }
    }
    hr_scenario sc;
    hr_scenario_init(&sc);
    snprintf(sc.model, sizeof sc.model, "llama-3.1-8b");
    snprintf(sc.hardware, sizeof sc.hardware, "2x RTX 4090");
    sc.settings.n_ctx = 8192;
    sc.settings.margin_percent = 10;
    char *p = out_path(dir, "scenario.yaml");
    hr_scenario_save(p, &sc, NULL);
    free(p);
    return 0;
}

static int seed_llamalog(const char *dir)
{
    const char *log =
        "llama_context: constructing llama_context\n"
        "llama_context: n_seq_max     = 1\n"
        "llama_context: n_ctx         = 4096\n"
        "llama_context: n_ctx_seq     = 4096\n"
        "llama_context: n_batch       = 512\n"
        "llama_context: n_ubatch      = 512\n"
        "llama_context: causal_attn   = 1\n"
        "llama_context: flash_attn    = disabled\n"
        "llama_context: kv_unified    = false\n"
        "load_tensors:          CPU model buffer size =   317.31 MiB\n"
        "load_tensors:   CPU_REPACK model buffer size =   445.50 MiB\n"
        "llama_context:        CPU  output buffer size =     0.49 MiB\n"
        "llama_kv_cache:        CPU KV buffer size =   128.00 MiB\n"
        "llama_kv_cache: size =  128.00 MiB (  4096 cells,  16 layers,  1/1 seqs), K (f16):   "
        "64.00 MiB, V (f16):   64.00 MiB\n"
        "sched_reserve:        CPU compute buffer size =   286.01 MiB\n"
        "load_tensors: offloaded 17/17 layers to GPU\n"
        "load_tensors:        CUDA0 model buffer size =  4403.49 MiB\n"
        "llama_context:  CUDA_Host  output buffer size =     2.02 MiB\n"
        "sched_reserve:  CUDA_Host compute buffer size =    24.01 MiB\n";
    char *p = out_path(dir, "load.log");
    tu_write_text(p, log);
    free(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s TARGET DIR [CONFIG_DIR]\n", argv[0]);
        return 2;
    }
    const char *t = argv[1], *dir = argv[2];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) { /* the build's seed folder */
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (strcmp(t, "gguf") == 0)
        return seed_gguf(dir) != 0 || seed_gguf_tiny(dir) != 0;
    if (strcmp(t, "safetensors") == 0)
        return seed_safetensors(dir);
    if (strcmp(t, "config") == 0)
        return seed_config(dir);
    if (strcmp(t, "yaml") == 0)
        return seed_yaml(dir, argc == 4 ? argv[3] : getenv("HEADROOM_CONFIG_DIR"));
    if (strcmp(t, "llamalog") == 0)
        return seed_llamalog(dir);
    fprintf(stderr, "unknown target %s\n", t);
    return 2;
}
