/* Tensor role from its GGUF name ("blk.N.<role>.weight"). */
#include <string.h>

#include "headroom/model.h"

static const struct {
    const char *stem;
    hr_role role;
} ROLE_STEMS[] = {
    /* grouped by first letter: the lookup skips groups by it */
    /* longest stems first where one is a prefix of another */
    {"attn_kv_a_mqa", HR_ROLE_ATTN_KV_A_MQA}, {"attn_kv_b", HR_ROLE_ATTN_KV_B},
    {"attn_k_b", HR_ROLE_ATTN_K_B},           {"attn_v_b", HR_ROLE_ATTN_V_B},
    {"attn_q_a", HR_ROLE_ATTN_Q_A},           {"attn_q_b", HR_ROLE_ATTN_Q_B},
    {"attn_qkv", HR_ROLE_ATTN_QKV},           {"attn_output", HR_ROLE_ATTN_OUTPUT},
    {"attn_q", HR_ROLE_ATTN_Q},               {"attn_k", HR_ROLE_ATTN_K},
    {"attn_v", HR_ROLE_ATTN_V},               {"attn_gate", HR_ROLE_ATTN_GATE},
    {"ffn_gate_up_exps", HR_ROLE_FFN_GATE_UP_EXPS},
    {"ffn_gate_exps", HR_ROLE_FFN_GATE_EXPS}, {"ffn_up_exps", HR_ROLE_FFN_UP_EXPS},
    {"ffn_down_exps", HR_ROLE_FFN_DOWN_EXPS}, {"ffn_gate_shexp", HR_ROLE_FFN_GATE_SHEXP},
    {"ffn_up_shexp", HR_ROLE_FFN_UP_SHEXP},   {"ffn_down_shexp", HR_ROLE_FFN_DOWN_SHEXP},
    {"ffn_gate_inp", HR_ROLE_FFN_GATE_INP},   {"ffn_gate", HR_ROLE_FFN_GATE},
    {"ffn_up", HR_ROLE_FFN_UP},               {"ffn_down", HR_ROLE_FFN_DOWN},
    {"ssm_in", HR_ROLE_SSM_IN},               {"ssm_conv1d", HR_ROLE_SSM_CONV1D},
    {"ssm_x", HR_ROLE_SSM_X},                 {"ssm_dt", HR_ROLE_SSM_DT},
    {"ssm_a", HR_ROLE_SSM_A},                 {"ssm_d", HR_ROLE_SSM_D},
    {"ssm_out", HR_ROLE_SSM_OUT},             {"ssm_alpha", HR_ROLE_SSM_ALPHA},
    {"ssm_beta", HR_ROLE_SSM_BETA},           {"ssm_ba", HR_ROLE_SSM_BA},
    {"shortconv.in_proj", HR_ROLE_SHORTCONV_IN}, {"shortconv.out_proj", HR_ROLE_SHORTCONV_OUT},
    {"shortconv.conv", HR_ROLE_SHORTCONV_CONV},
    {"time_mix", HR_ROLE_TIME_MIX},
    {"channel_mix", HR_ROLE_CHANNEL_MIX},
};

static bool stem_matches(const char *s, const char *stem)
{
    /* compare up to the stem's end without a separate strlen */
    while (*stem && *s == *stem) {
        s++;
        stem++;
    }
    return *stem == '\0' && (*s == '.' || *s == '\0');
}

hr_role hr_role_from_name(const char *name)
{
    if (!name)
        return HR_ROLE_OTHER;
    size_t len = strlen(name);
    if (len >= 5 && strcmp(name + len - 5, ".bias") == 0)
        return HR_ROLE_BIAS;
    if (strncmp(name, "token_embd_norm", 15) == 0)
        return HR_ROLE_NORM;
    if (strncmp(name, "token_embd", 10) == 0)
        return HR_ROLE_TOKEN_EMBD;
    if (strncmp(name, "position_embd", 13) == 0)
        return HR_ROLE_POS_EMBD;
    if (strncmp(name, "token_types", 11) == 0)
        return HR_ROLE_TOKEN_TYPES;
    if (strncmp(name, "output_norm", 11) == 0)
        return HR_ROLE_OUTPUT_NORM;
    if (strncmp(name, "output.", 7) == 0 || strcmp(name, "output") == 0)
        return HR_ROLE_OUTPUT;
    const char *s = name;
    if (strncmp(s, "blk.", 4) == 0) {
        s = strchr(s + 4, '.');
        if (!s)
            return HR_ROLE_OTHER;
        s++;
    }
    if (strstr(s, "norm"))
        return HR_ROLE_NORM;
    for (size_t i = 0; i < sizeof ROLE_STEMS / sizeof ROLE_STEMS[0]; i++)
        if (ROLE_STEMS[i].stem[0] == s[0] && stem_matches(s, ROLE_STEMS[i].stem))
            return ROLE_STEMS[i].role;
    if (strncmp(s, "time_mix", 8) == 0)
        return HR_ROLE_TIME_MIX;
    if (strncmp(s, "channel_mix", 11) == 0)
        return HR_ROLE_CHANNEL_MIX;
    return HR_ROLE_OTHER;
}
