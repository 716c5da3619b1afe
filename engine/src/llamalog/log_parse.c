/* Reading a llama.cpp load log: the "buffer size" lines and the settings
 * llama_context printed. Works line by line on any prefix (timestamps,
 * "[node-llama-cpp]", older function names) and on lines of bounded length. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "headroom/llamalog.h"

/* Longer lines are never buffer or settings lines: they are cut here. */
#define LOG_LINE_MAX 1024

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Find `word` in line as a whole identifier (not part of a longer name). */
static const char *find_word(const char *line, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(line, word); p; p = strstr(p + 1, word)) {
        bool left_ok = p == line || !is_ident_char(p[-1]);
        bool right_ok = !is_ident_char(p[n]);
        if (left_ok && right_ok)
            return p;
    }
    return NULL;
}

/* "key   = value": returns the value text (spaces skipped) or NULL when the
 * key is absent or not followed by '='. */
static const char *setting_value(const char *line, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = find_word(line, key); p; p = find_word(p + n, key)) {
        const char *q = p + n;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ' || *q == '\t')
            q++;
        return q;
    }
    return NULL;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "1", "true", "enabled", "on" -> 1; "0", "false", "disabled", "off" -> 0;
 * anything else (e.g. "auto") -> -1. */
static int parse_flag(const char *s)
{
    static const char *const yes[] = {"1", "true", "enabled", "on"};
    static const char *const no[] = {"0", "false", "disabled", "off"};
    size_t n = 0;
    while (is_ident_char(s[n]))
        n++;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
            return 1;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
            return 0;
    return -1;
}

/* Map the word before "buffer size" to a component. */
static bool component_of(const char *word, size_t n, hr_component *out)
{
    static const struct {
        const char *word;
        hr_component c;
    } map[] = {
        {"model", HR_COMP_WEIGHTS}, {"KV", HR_COMP_KV},        {"RS", HR_COMP_KV},
        {"output", HR_COMP_OUTPUT}, {"compute", HR_COMP_COMPUTE},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].word) == n && strncmp(word, map[i].word, n) == 0) {
            *out = map[i].c;
            return true;
        }
    return false;
}

/* "<prefix>: NAME KIND buffer size = X MiB" into *b; false if the line is
 * not a buffer line. */
static bool parse_buffer_line(const char *line, hr_log_buffer *b)
{
    const char *bs = strstr(line, " buffer size");
    if (!bs)
        return false;
    /* the word before: model / KV / RS / output / compute */
    const char *kind_end = bs;
    const char *kind = kind_end;
    while (kind > line && is_ident_char(kind[-1]))
        kind--;
    hr_component comp;
    if (!component_of(kind, (size_t)(kind_end - kind), &comp))
        return false;
    /* the buffer name before that ("CPU", "CUDA0", "CUDA_Host", "CPU_REPACK") */
    const char *name_end = kind;
    while (name_end > line && name_end[-1] == ' ')
        name_end--;
    const char *name = name_end;
    while (name > line && (is_ident_char(name[-1]) || name[-1] == '-'))
        name--;
    if (name == name_end)
        return false;
    const char *eq = strchr(bs, '=');
    if (!eq)
        return false;
    char *end;
    double value = strtod(eq + 1, &end);
    if (end == eq + 1 || !(value >= 0.0) || value > 1e12)
        return false;
    while (*end == ' ')
        end++;
    double scale = 1.0; /* llama.cpp prints MiB; accept the other units too */
    if (strncmp(end, "KiB", 3) == 0)
        scale = 1.0 / 1024.0;
    else if (strncmp(end, "GiB", 3) == 0)
        scale = 1024.0;
    else if (strncmp(end, "MiB", 3) != 0)
        return false;
    size_t n = (size_t)(name_end - name);
    if (n >= sizeof b->buffer)
        n = sizeof b->buffer - 1;
    memcpy(b->buffer, name, n);
    b->buffer[n] = '\0';
    b->component = comp;
    b->mib = value * scale;
    return true;
}

/* "K (f16):" / "V (q8_0):" in the KV size summary line. */
static hr_type cache_type_after(const char *line, const char *marker)
{
    const char *p = strstr(line, marker);
    if (!p)
        return HR_TYPE_INVALID;
    p += strlen(marker);
    char name[16];
    size_t n = 0;
    while (p[n] && p[n] != ')' && n + 1 < sizeof name) {
        name[n] = p[n];
        n++;
    }
    if (p[n] != ')')
        return HR_TYPE_INVALID;
    name[n] = '\0';
    return hr_type_from_name(name);
}

static void parse_settings_line(const char *line, hr_llama_log *log)
{
    const char *v;
    if ((v = setting_value(line, "n_ctx")) && parse_u32(v, &log->n_ctx))
        log->has_n_ctx = true;
    if (((v = setting_value(line, "n_ctx_seq")) || (v = setting_value(line, "n_ctx_per_seq"))) &&
        parse_u32(v, &log->n_ctx_seq))
        log->has_n_ctx_seq = true;
    if ((v = setting_value(line, "n_batch")) && parse_u32(v, &log->n_batch))
        log->has_n_batch = true;
    if ((v = setting_value(line, "n_ubatch")) && parse_u32(v, &log->n_ubatch))
        log->has_n_ubatch = true;
    if ((v = setting_value(line, "n_seq_max")) && parse_u32(v, &log->n_seq))
        log->has_n_seq = true;
    if ((v = setting_value(line, "flash_attn"))) {
        int f = parse_flag(v);
        if (f >= 0)
            log->flash_attn = f;
    }
    if ((v = setting_value(line, "kv_unified"))) {
        int f = parse_flag(v);
        if (f >= 0)
            log->kv_unified = f;
    }
    /* newer llama.cpp resolves "auto" later: "Flash Attention was auto, set to enabled" */
    const char *fa = strstr(line, "Flash Attention was auto, set to ");
    if (fa) {
        int f = parse_flag(fa + strlen("Flash Attention was auto, set to "));
        if (f >= 0)
            log->flash_attn = f;
    }
    /* KV summary: "size = 16.00 MiB (...), K (f16): 8.00 MiB, V (f16): 8.00 MiB" */
    hr_type tk = cache_type_after(line, " K (");
    hr_type tv = cache_type_after(line, " V (");
    if (tk != HR_TYPE_INVALID && tv != HR_TYPE_INVALID) {
        log->type_k = tk;
        log->type_v = tv;
    }
    /* "offloaded 33/33 layers to GPU" */
    const char *off = strstr(line, "offloaded ");
    if (off && strstr(off, "layers to GPU")) {
        uint32_t n;
        if (parse_u32(off + strlen("offloaded "), &n) && n <= INT32_MAX)
            log->n_gpu_layers = (int32_t)n;
    }
}

/* Forget the context part of what was read (a new context follows). */
static void drop_context(hr_llama_log *log)
{
    int kept = 0;
    for (int i = 0; i < log->n_buffers; i++)
        if (log->buffers[i].component == HR_COMP_WEIGHTS)
            log->buffers[kept++] = log->buffers[i];
    log->n_buffers = kept;
    log->has_n_ctx = log->has_n_ctx_seq = log->has_n_batch = log->has_n_ubatch = false;
    log->has_n_seq = false;
    log->flash_attn = -1;
    log->kv_unified = -1;
    log->type_k = log->type_v = HR_TYPE_INVALID;
}

static bool has_context_buffers(const hr_llama_log *log)
{
    for (int i = 0; i < log->n_buffers; i++)
        if (log->buffers[i].component != HR_COMP_WEIGHTS)
            return true;
    return false;
}

/* A log may hold several loads (a test load, then the real one) or several
 * contexts on one model: the last of each is the one checked. A weights
 * buffer after context buffers starts a new load; an "n_ctx =" line after
 * context buffers starts a new context. */
static void begin_run_if_new(const char *line, const hr_log_buffer *buffer, hr_llama_log *log,
                             size_t line_no, size_t *last_context_line, size_t gpu_layers_line)
{
    if (!has_context_buffers(log))
        return;
    if (buffer && buffer->component == HR_COMP_WEIGHTS) {
        drop_context(log);
        log->n_buffers = 0;
        /* "offloaded N/M layers" precedes the weights lines of its own load */
        if (gpu_layers_line < *last_context_line)
            log->n_gpu_layers = -1;
        *last_context_line = 0;
        return;
    }
    if (setting_value(line, "n_ctx")) {
        drop_context(log);
        *last_context_line = line_no;
    }
}

hr_status hr_llama_log_parse(const char *text, size_t len, hr_llama_log *out, hr_error *err)
{
    if (!out || (!text && len))
        return hr_error_set(err, HR_ERR_ARG, "no log text");
    memset(out, 0, sizeof *out);
    out->flash_attn = -1;
    out->kv_unified = -1;
    out->n_gpu_layers = -1;
    out->type_k = out->type_v = HR_TYPE_INVALID;

    char line[LOG_LINE_MAX + 1];
    size_t pos = 0, line_no = 0;
    size_t last_context_line = 0, gpu_layers_line = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        line_no++;
        size_t n = end - pos;
        if (n > LOG_LINE_MAX)
            n = LOG_LINE_MAX;
        memcpy(line, text + pos, n);
        line[n] = '\0';
        /* a NUL inside the text ends the copy early: binary junk is skipped */
        hr_log_buffer buffer;
        bool is_buffer = parse_buffer_line(line, &buffer);
        begin_run_if_new(line, is_buffer ? &buffer : NULL, out, line_no, &last_context_line,
                         gpu_layers_line);
        if (is_buffer) {
            if (out->n_buffers >= HR_LOG_MAX_BUFFERS)
                return hr_error_set(err, HR_ERR_LIMIT,
                                    "line %zu: more than %d buffer size lines in one run",
                                    line_no, HR_LOG_MAX_BUFFERS);
            out->buffers[out->n_buffers++] = buffer;
            if (buffer.component != HR_COMP_WEIGHTS)
                last_context_line = line_no;
        }
        int32_t ngl_before = out->n_gpu_layers;
        parse_settings_line(line, out);
        if (out->n_gpu_layers != ngl_before)
            gpu_layers_line = line_no;
        pos = end + 1;
    }
    return HR_OK;
}

double hr_llama_log_component_mib(const hr_llama_log *log, hr_component c)
{
    double sum = 0.0;
    for (int i = 0; i < log->n_buffers; i++)
        if (log->buffers[i].component == c)
            sum += log->buffers[i].mib;
    return sum;
}
