/* Hugging Face model_type / architectures -> GGUF architecture and traits,
 * following llama.cpp's convert_hf_to_gguf.py registrations. */
#include <string.h>
#include <strings.h>

#include "hf_arch.h"

static const hf_arch_traits ARCHS[] = {
    /* model_type     class stem      GGUF arch     encoder qkv_bias tied  swa  ctx  */
    {"llama",         "Llama",        "llama",      false, false, false, 0, 0},
    {"mistral",       "Mistral",      "llama",      false, false, false, 0, 0},
    {"mixtral",       "Mixtral",      "llama",      false, false, false, 0, 0},
    {"qwen2",         "Qwen2",        "qwen2",      false, true,  false, 0, 0},
    {"qwen3",         "Qwen3",        "qwen3",      false, false, false, 0, 0},
    {"qwen2_moe",     "Qwen2Moe",     "qwen2moe",   false, true,  false, 0, 0},
    {"qwen3_moe",     "Qwen3Moe",     "qwen3moe",   false, false, false, 0, 0},
    {"gemma",         "Gemma",        "gemma",      false, false, true,  0, 0},
    {"gemma2",        "Gemma2",       "gemma2",     false, false, true,  2, 0},
    {"gemma3",        "Gemma3",       "gemma3",     false, false, true,  6, 0},
    {"gemma3_text",   "Gemma3",       "gemma3",     false, false, true,  6, 0},
    {"phi3",          "Phi3",         "phi3",       false, false, false, 0, 0},
    {"cohere",        "Cohere",       "command-r",  false, false, true,  0, 0},
    {"cohere2",       "Cohere2",      "cohere2",    false, false, true,  4, 0},
    {"deepseek_v2",   "DeepseekV2",   "deepseek2",  false, false, false, 0, 0},
    {"deepseek_v3",   "DeepseekV3",   "deepseek2",  false, false, false, 0, 0},
    {"mamba",         "Mamba",        "mamba",      false, false, true,  0, 1048576},
    {"mamba2",        "Mamba2",       "mamba2",     false, false, true,  0, 1048576},
    {"rwkv6",         "Rwkv6",        "rwkv6",      false, false, false, 0, 1048576},
    {"rwkv7",         "Rwkv7",        "rwkv7",      false, false, false, 0, 1048576},
    {"bert",          "Bert",         "bert",       true,  true,  true,  0, 0},
    {"roberta",       "Roberta",      "bert",       true,  true,  true,  0, 0},
    {"xlm-roberta",   "XLMRoberta",   "bert",       true,  true,  true,  0, 0},
    {"nomic_bert",    "NomicBert",    "nomic-bert", true,  false, true,  0, 0},
    /* gte's NewModel (stella_en_400M_v5): fused QKV, gated FFN, rope: nomic-bert's graph */
    {"new",           "New",          "nomic-bert", true,  true,  true,  0, 0},
    {"bitnet",        "BitNet",       "bitnet",     false, false, true,  0, 0},
    {"gpt_oss",       "GptOss",       "gpt-oss",    false, false, false, 2, 0},
    {"granitemoehybrid", "GraniteMoeHybrid", "granitehybrid", false, false, false, 0, 0},
    {"nemotron_h",    "NemotronH",    "nemotron_h", false, false, false, 0, 0},
    {"nemotron_h_moe", "NemotronHMoe", "nemotron_h", false, false, false, 0, 0},
    {"lfm2",          "Lfm2",         "lfm2",       false, false, true,  0, 0},
    {"lfm2_moe",      "Lfm2Moe",      "lfm2moe",    false, false, true,  0, 0},
    {"falcon_h1",     "FalconH1",     "falcon-h1",  false, false, false, 0, 0},
    {"qwen3_5",       "Qwen3_5",      "qwen35",     false, false, false, 0, 0},
    {"qwen3_5_text",  "Qwen3_5",      "qwen35",     false, false, false, 0, 0},
    {"qwen3_5_moe",   "Qwen3_5Moe",   "qwen35moe",  false, false, false, 0, 0},
    {"qwen3_5_moe_text", "Qwen3_5Moe", "qwen35moe", false, false, false, 0, 0},
    {"qwen3_next",    "Qwen3Next",    "qwen3next",  false, false, false, 0, 0},
    {"jamba",         "Jamba",        "jamba",      false, false, false, 0, 0},
};

/* Class-name suffixes after the family stem. */
static const char *const CLASS_SUFFIXES[] = {
    "ForCausalLM", "ForConditionalGeneration", "ForMaskedLM", "ForSequenceClassification",
    "ForTokenClassification", "LMHeadModel", "Model",
};

const hf_arch_traits *hf_arch_by_model_type(const char *model_type)
{
    if (!model_type || !*model_type)
        return NULL;
    for (size_t i = 0; i < sizeof ARCHS / sizeof ARCHS[0]; i++)
        if (strcasecmp(ARCHS[i].model_type, model_type) == 0)
            return &ARCHS[i];
    return NULL;
}

const hf_arch_traits *hf_arch_by_class(const char *architecture)
{
    if (!architecture || !*architecture)
        return NULL;
    size_t len = strlen(architecture);
    for (size_t s = 0; s < sizeof CLASS_SUFFIXES / sizeof CLASS_SUFFIXES[0]; s++) {
        size_t sl = strlen(CLASS_SUFFIXES[s]);
        if (len <= sl || strcmp(architecture + len - sl, CLASS_SUFFIXES[s]) != 0)
            continue;
        for (size_t i = 0; i < sizeof ARCHS / sizeof ARCHS[0]; i++)
            if (strlen(ARCHS[i].class_stem) == len - sl &&
                strncmp(ARCHS[i].class_stem, architecture, len - sl) == 0)
                return &ARCHS[i];
    }
    return NULL;
}

bool hf_class_has_lm_head(const char *architecture)
{
    if (!architecture || !*architecture)
        return true;
    static const char *const HEADED[] = {"ForCausalLM", "ForConditionalGeneration",
                                         "LMHeadModel"};
    size_t len = strlen(architecture);
    for (size_t i = 0; i < sizeof HEADED / sizeof HEADED[0]; i++) {
        size_t sl = strlen(HEADED[i]);
        if (len >= sl && strcmp(architecture + len - sl, HEADED[i]) == 0)
            return true;
    }
    return false;
}
