/* Architecture and source names as GGUF and the JSON outputs write them. */
#include <string.h>

#include "headroom/model.h"

static const struct {
    hr_arch arch;
    const char *name;
} ARCH_NAMES[] = {
    {HR_ARCH_LLAMA, "llama"},       {HR_ARCH_MISTRAL, "mistral"},
    {HR_ARCH_QWEN2, "qwen2"},       {HR_ARCH_QWEN3, "qwen3"},
    {HR_ARCH_QWEN2MOE, "qwen2moe"}, {HR_ARCH_QWEN3MOE, "qwen3moe"},
    {HR_ARCH_GEMMA, "gemma"},       {HR_ARCH_GEMMA2, "gemma2"},
    {HR_ARCH_GEMMA3, "gemma3"},     {HR_ARCH_PHI3, "phi3"},
    {HR_ARCH_COMMAND_R, "command-r"}, {HR_ARCH_COHERE2, "cohere2"},
    {HR_ARCH_DEEPSEEK2, "deepseek2"}, {HR_ARCH_MAMBA, "mamba"},
    {HR_ARCH_MAMBA2, "mamba2"},     {HR_ARCH_RWKV6, "rwkv6"},
    {HR_ARCH_RWKV7, "rwkv7"},       {HR_ARCH_BERT, "bert"},
    {HR_ARCH_NOMIC_BERT, "nomic-bert"}, {HR_ARCH_BITNET, "bitnet"},
    {HR_ARCH_GPT_OSS, "gpt-oss"},   {HR_ARCH_MIXTRAL, "mixtral"},
    {HR_ARCH_GRANITE_HYBRID, "granitehybrid"}, {HR_ARCH_NEMOTRON_H, "nemotron_h"},
    {HR_ARCH_NEMOTRON_H_MOE, "nemotron_h_moe"}, {HR_ARCH_LFM2, "lfm2"},
    {HR_ARCH_FALCON_H1, "falcon-h1"}, {HR_ARCH_LFM2MOE, "lfm2moe"},
    {HR_ARCH_QWEN35, "qwen35"}, {HR_ARCH_QWEN35MOE, "qwen35moe"},
    {HR_ARCH_QWEN3NEXT, "qwen3next"}, {HR_ARCH_JAMBA, "jamba"},
};

const char *hr_arch_name(hr_arch arch)
{
    for (size_t i = 0; i < sizeof ARCH_NAMES / sizeof ARCH_NAMES[0]; i++)
        if (ARCH_NAMES[i].arch == arch)
            return ARCH_NAMES[i].name;
    return "unknown";
}

hr_arch hr_arch_from_name(const char *name)
{
    if (!name)
        return HR_ARCH_UNKNOWN;
    for (size_t i = 0; i < sizeof ARCH_NAMES / sizeof ARCH_NAMES[0]; i++)
        if (strcmp(ARCH_NAMES[i].name, name) == 0)
            return ARCH_NAMES[i].arch;
    /* BitNet's fork and later releases spell it several ways */
    if (strcmp(name, "bitnet-b1.58") == 0 || strcmp(name, "bitnet-25") == 0)
        return HR_ARCH_BITNET;
    if (strcmp(name, "gemma3n") == 0)
        return HR_ARCH_GEMMA3;
    return HR_ARCH_UNKNOWN;
}

const char *hr_source_name(hr_source source)
{
    switch (source) {
    case HR_SOURCE_GGUF: return "gguf";
    case HR_SOURCE_SAFETENSORS: return "safetensors";
    case HR_SOURCE_CONFIG: return "config";
    case HR_SOURCE_PRESET: return "preset";
    case HR_SOURCE_SHAPE: return "shape";
    }
    return "unknown";
}
