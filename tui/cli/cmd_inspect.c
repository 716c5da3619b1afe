/* headroom inspect MODEL: a readable summary, or the full description as JSON. */
#include <stdlib.h>

#include "cli_internal.h"

static const char *source_label(hr_source s)
{
    switch (s) {
    case HR_SOURCE_GGUF: return "GGUF";
    case HR_SOURCE_SAFETENSORS: return "safetensors";
    case HR_SOURCE_CONFIG: return "config.json (weights from dtype)";
    case HR_SOURCE_PRESET: return "preset";
    case HR_SOURCE_SHAPE: return "shape";
    }
    return "unknown";
}

static void print_tensor_types(const hr_model *m)
{
    hr_type types[64];
    uint32_t counts[64];
    int n = hr_model_type_histogram(m, types, counts, 64);
    printf("%-18s%zu", "Tensors", m->n_tensors);
    for (int i = 0; i < n; i++) {
        const hr_type_info *ti = hr_type_get(types[i]);
        printf("%s %s %u", i ? "," : ":", ti ? ti->name : "?", counts[i]);
    }
    printf("\n");
}

static void print_summary(const hr_model *m, bool exact)
{
    char size[64];
    printf("%-18s%s\n", "Name", m->name ? m->name : "?");
    printf("%-18s%s (%s)\n", "Source", source_label(m->source), m->path ? m->path : "");
    printf("%-18s%s (family %s)\n", "Architecture",
           m->arch_name ? m->arch_name : hr_arch_name(m->arch), hr_arch_name(m->arch));
    printf("%-18s%s\n", "Quantization", m->quant_name ? m->quant_name : "unknown");
    printf("%-18s%.3f B (%llu)\n", "Parameters", (double)m->n_params / 1e9,
           (unsigned long long)m->n_params);
    printf("%-18s%s\n", "Size", cli_size(size, sizeof size, m->n_bytes, exact));
    printf("%-18s%.2f\n", "Bits per weight", m->bits_per_weight);
    printf("%-18s%u\n", "Context length", m->n_ctx_train);
    printf("%-18s%u\n", "Layers", m->n_layer);
    printf("%-18s%u (KV heads %u)\n", "Heads", m->n_head, m->n_head_kv);
    printf("%-18s%u (K) / %u (V)\n", "Head dim", m->n_embd_head_k, m->n_embd_head_v);
    printf("%-18s%u\n", "Embedding", m->n_embd);
    printf("%-18s%u\n", "FFN", m->n_ff);
    printf("%-18s%u\n", "Vocabulary", m->n_vocab);
    if (m->n_expert)
        printf("%-18s%u (%u used, %u shared, FFN %u)\n", "Experts", m->n_expert,
               m->n_expert_used, m->n_expert_shared, m->n_ff_exp);
    if (m->n_swa)
        printf("%-18s%u tokens (every %u layers global)\n", "Sliding window", m->n_swa,
               m->swa_pattern);
    if (m->is_mla)
        printf("%-18sq rank %u, kv rank %u, rope %u\n", "MLA", m->n_lora_q, m->n_lora_kv,
               m->n_rot);
    if (m->ssm_d_inner)
        printf("%-18sinner %u, state %u, conv %u\n", "SSM", m->ssm_d_inner, m->ssm_d_state,
               m->ssm_d_conv);
    if (!m->causal || m->embedding_only)
        printf("%-18s%s%s\n", "Mode", m->causal ? "causal" : "encoder (non-causal)",
               m->embedding_only ? ", embeddings only" : "");
    print_tensor_types(m);
    for (int i = 0; i < m->n_warnings; i++)
        printf("%-18s%s\n", i ? "" : "Warnings", m->warnings[i]);
}

int cmd_inspect(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse_args(argc, argv, OPT_JSON | OPT_BYTES, &o);
    if (rc != CLI_OK)
        return rc;
    if (o.help) {
        cli_print_command_help("inspect", stdout);
        return CLI_OK;
    }
    if (o.n_positional != 1)
        return cli_usage_error("inspect", "expected one MODEL");
    hr_model *m;
    rc = cli_open_model(o.positional[0], &m);
    if (rc != CLI_OK)
        return rc;
    if (o.json) {
        char *text = hr_model_to_json(m, true);
        hr_model_free(m);
        if (!text)
            return cli_error(CLI_BAD_INPUT, "out of memory describing the model");
        puts(text);
        free(text);
        return CLI_OK;
    }
    print_summary(m, o.bytes);
    hr_model_free(m);
    return CLI_OK;
}
