/* Per-expert tensors -> one stacked tensor per layer and role, as
 * convert_hf_to_gguf.py writes them ("blk.N.ffn_gate_exps.weight" with
 * ne[2] = experts), so quantization rules and graph shapes see the GGUF
 * layout. Groups whose members disagree on type or shape stay split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "st_experts.h"

typedef struct expert_ref {
    char key[128];   /* "blk.N.<stem>_exps.<leaf>" */
    long expert;
    size_t index;
} expert_ref;

/* "blk.N.<stem>_exps.E.<leaf>": fill key and expert; false otherwise. */
static bool parse_expert_name(const char *name, char *key, size_t cap, long *expert)
{
    if (strncmp(name, "blk.", 4) != 0)
        return false;
    const char *exps = strstr(name, "_exps.");
    if (!exps)
        return false;
    const char *num = exps + 6;
    if (*num < '0' || *num > '9')
        return false;
    char *end;
    long e = strtol(num, &end, 10);
    if (*end != '.' || e < 0 || end - num > 9)
        return false;
    int n = snprintf(key, cap, "%.*s%s", (int)(num - name), name, end + 1);
    if (n < 0 || (size_t)n >= cap)
        return false;
    *expert = e;
    return true;
}

static int by_key_then_expert(const void *a, const void *b)
{
    const expert_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return (x->expert > y->expert) - (x->expert < y->expert);
}

/* HF name of the stack: the first expert's name with its index as "*". */
static const char *stack_hf_name(hr_model *m, const char *hf)
{
    if (!hf)
        return NULL;
    const char *ex = strstr(hf, "experts.");
    if (!ex)
        return hf;
    const char *num = ex + 8, *end = num;
    while (*end >= '0' && *end <= '9')
        end++;
    if (end == num)
        return hf;
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%.*s*%s", (int)(num - hf), hf, end);
    if (n < 0 || (size_t)n >= sizeof buf)
        return hf;
    const char *copy = hr_model_strdup(m, buf);
    return copy ? copy : hf;
}

static bool group_is_uniform(const hr_model *m, const expert_ref *refs, size_t count)
{
    const hr_tensor *first = &m->tensors[refs[0].index];
    if (first->ne[2] != 1 || first->ne[3] != 1)
        return false;
    for (size_t k = 1; k < count; k++) {
        const hr_tensor *t = &m->tensors[refs[k].index];
        if (refs[k].expert == refs[k - 1].expert || t->type != first->type ||
            t->ne[0] != first->ne[0] || t->ne[1] != first->ne[1] || t->ne[2] != 1 ||
            t->ne[3] != 1)
            return false;
    }
    return true;
}

hr_status st_stack_experts(hr_model *m, uint32_t *stacked, hr_error *err)
{
    *stacked = 0;
    size_t n_refs = 0;
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strstr(m->tensors[i].name, "_exps."))
            n_refs++;
    if (n_refs < 2)
        return HR_OK;
    expert_ref *refs = malloc(n_refs * sizeof *refs);
    bool *drop = calloc(m->n_tensors, sizeof *drop);
    if (!refs || !drop) {
        free(refs);
        free(drop);
        return hr_error_set(err, HR_ERR_NOMEM, "out of memory stacking experts");
    }
    size_t n = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        long e;
        if (parse_expert_name(m->tensors[i].name, refs[n].key, sizeof refs[n].key, &e)) {
            refs[n].expert = e;
            refs[n].index = i;
            n++;
        }
    }
    qsort(refs, n, sizeof *refs, by_key_then_expert);
    hr_status st = HR_OK;
    for (size_t g = 0; g < n && st == HR_OK;) {
        size_t end = g + 1;
        while (end < n && strcmp(refs[end].key, refs[g].key) == 0)
            end++;
        if (group_is_uniform(m, refs + g, end - g)) {
            hr_tensor *first = &m->tensors[refs[g].index];
            uint64_t bytes = 0;
            for (size_t k = g; k < end; k++) {
                const hr_tensor *t = &m->tensors[refs[k].index];
                if (__builtin_add_overflow(bytes, t->bytes, &bytes)) {
                    st = hr_error_set(err, HR_ERR_LIMIT, "expert stack '%s' overflows",
                                      refs[g].key);
                    break;
                }
                if (k > g)
                    drop[refs[k].index] = true;
            }
            first->name = hr_model_strdup(m, refs[g].key);
            first->hf_name = stack_hf_name(m, first->hf_name);
            first->ne[2] = (int64_t)(end - g);
            first->n_dims = 3;
            first->bytes = bytes;
            if (!first->name)
                st = hr_error_set(err, HR_ERR_NOMEM, "out of memory stacking experts");
            (*stacked)++;
        }
        g = end;
    }
    if (st == HR_OK) {
        size_t w = 0;
        for (size_t i = 0; i < m->n_tensors; i++)
            if (!drop[i])
                m->tensors[w++] = m->tensors[i];
        m->n_tensors = w;
    }
    free(refs);
    free(drop);
    return st;
}
