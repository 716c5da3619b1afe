/* headroom check MODEL LOGFILE: the plan against what llama.cpp really allocated. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

#define LOG_MAX_BYTES ((size_t)64 << 20)
#define MIB (1024.0 * 1024.0)

static const hr_component checked[] = {HR_COMP_WEIGHTS, HR_COMP_KV, HR_COMP_OUTPUT,
                                        HR_COMP_COMPUTE};
#define N_CHECKED ((int)(sizeof checked / sizeof checked[0]))

typedef struct check_row {
    hr_component component;
    int device; /* plan device index, -1 for the sum over devices */
    double predicted_mib, actual_mib;
    uint64_t predicted_bytes;
    bool in_log; /* false: planned, but the log has no line for it (cut or lost log) */
} check_row;

/* Host buffers: CPU, CPU_REPACK, CPU_Mapped, CUDA_Host ... */
static bool is_host_buffer(const char *name)
{
    return strncmp(name, "CPU", 3) == 0 || strstr(name, "_Host") != NULL;
}

static hr_backend backend_of_buffer(const char *name)
{
    if (strncmp(name, "CUDA", 4) == 0)
        return HR_BACKEND_CUDA;
    if (strncmp(name, "ROCm", 4) == 0 || strncmp(name, "HIP", 3) == 0)
        return HR_BACKEND_ROCM;
    if (strncmp(name, "Metal", 5) == 0 || strncmp(name, "MTL", 3) == 0)
        return HR_BACKEND_METAL;
    if (strncmp(name, "Vulkan", 6) == 0)
        return HR_BACKEND_VULKAN;
    return HR_BACKEND_CUDA;
}

/* Device buffer names in order of first appearance ("CUDA0", "CUDA1"). */
static int device_buffer_names(const hr_llama_log *log, const char *names[HR_MAX_GPUS])
{
    int n = 0;
    for (int i = 0; i < log->n_buffers; i++) {
        const char *b = log->buffers[i].buffer;
        if (is_host_buffer(b))
            continue;
        int j;
        for (j = 0; j < n; j++)
            if (strcmp(names[j], b) == 0)
                break;
        if (j == n && n < HR_MAX_GPUS)
            names[n++] = b;
    }
    return n;
}

/* The devices the log's run used, capacities unknown. */
static void budget_from_log(const hr_llama_log *log, hr_budget *b)
{
    hr_budget_init_host_only(b);
    const char *names[HR_MAX_GPUS];
    int n = device_buffer_names(log, names);
    for (int i = 0; i < n && b->n_devices < HR_MAX_DEVICES; i++) {
        hr_budget_device *d = &b->devices[b->n_devices++];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", names[i]);
        d->kind = HR_DEVICE_GPU;
        d->backend = backend_of_buffer(names[i]);
        snprintf(d->source, sizeof d->source, "llama.cpp log");
    }
    snprintf(b->label, sizeof b->label, "the devices in the log");
}

/* Which plan device a buffer belongs to. */
static int plan_device_of(const hr_llama_log *log, const hr_plan *plan, const char *buffer)
{
    if (is_host_buffer(buffer))
        return 0;
    const char *names[HR_MAX_GPUS];
    int n = device_buffer_names(log, names);
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], buffer) == 0)
            return 1 + i < plan->n_devices ? 1 + i : plan->n_devices - 1;
    return 0;
}

static int build_rows(const hr_llama_log *log, const hr_plan *plan, check_row *rows)
{
    int n = 0;
    for (int c = 0; c < N_CHECKED; c++) {
        hr_component comp = checked[c];
        for (int d = 0; d < plan->n_devices; d++) {
            double actual = 0;
            bool seen = false;
            for (int i = 0; i < log->n_buffers; i++)
                if (log->buffers[i].component == comp &&
                    plan_device_of(log, plan, log->buffers[i].buffer) == d) {
                    actual += log->buffers[i].mib;
                    seen = true;
                }
            uint64_t predicted = plan->devices[d].bytes[comp];
            if (!seen && predicted == 0)
                continue;
            rows[n++] = (check_row){comp, d, (double)predicted / MIB, actual, predicted, seen};
        }
    }
    return n;
}

static double percent_error(double predicted, double actual, bool *known)
{
    *known = actual > 0;
    return *known ? (predicted - actual) / actual * 100.0 : 0.0;
}

static const char *device_name(const hr_plan *plan, int d)
{
    if (d < 0)
        return "all";
    return plan->devices[d].name[0] ? plan->devices[d].name : (d == 0 ? "host" : "GPU");
}

static cJSON *row_json(const hr_plan *plan, const char *component, int device,
                       double predicted_mib, uint64_t predicted_bytes, double actual_mib,
                       bool in_log)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "component", component);
    cJSON_AddStringToObject(o, "device", device_name(plan, device));
    cJSON_AddNumberToObject(o, "predicted_bytes", (double)predicted_bytes);
    cJSON_AddNumberToObject(o, "predicted_mib", predicted_mib);
    if (!in_log) {
        cJSON_AddNullToObject(o, "actual_mib");
        cJSON_AddNullToObject(o, "error_mib");
        cJSON_AddNullToObject(o, "error_percent");
        return o;
    }
    cJSON_AddNumberToObject(o, "actual_mib", actual_mib);
    cJSON_AddNumberToObject(o, "error_mib", predicted_mib - actual_mib);
    bool known;
    double pct = percent_error(predicted_mib, actual_mib, &known);
    if (known)
        cJSON_AddNumberToObject(o, "error_percent", pct);
    else
        cJSON_AddNullToObject(o, "error_percent");
    return o;
}

static cJSON *log_json(const hr_llama_log *log, const char *path)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", path);
    if (log->has_n_ctx) cJSON_AddNumberToObject(o, "n_ctx", log->n_ctx);
    if (log->has_n_ctx_seq) cJSON_AddNumberToObject(o, "n_ctx_seq", log->n_ctx_seq);
    if (log->has_n_batch) cJSON_AddNumberToObject(o, "n_batch", log->n_batch);
    if (log->has_n_ubatch) cJSON_AddNumberToObject(o, "n_ubatch", log->n_ubatch);
    if (log->has_n_seq) cJSON_AddNumberToObject(o, "n_seq", log->n_seq);
    if (log->flash_attn >= 0) cJSON_AddBoolToObject(o, "flash_attn", log->flash_attn);
    if (log->kv_unified >= 0) cJSON_AddBoolToObject(o, "kv_unified", log->kv_unified);
    if (log->n_gpu_layers >= 0) cJSON_AddNumberToObject(o, "n_gpu_layers", log->n_gpu_layers);
    const hr_type_info *tk = hr_type_get(log->type_k), *tv = hr_type_get(log->type_v);
    if (tk) cJSON_AddStringToObject(o, "type_k", tk->name);
    if (tv) cJSON_AddStringToObject(o, "type_v", tv->name);
    cJSON *arr = cJSON_AddArrayToObject(o, "buffers");
    for (int i = 0; i < log->n_buffers; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "buffer", log->buffers[i].buffer);
        cJSON_AddStringToObject(b, "component", hr_component_name(log->buffers[i].component));
        cJSON_AddNumberToObject(b, "mib", log->buffers[i].mib);
        cJSON_AddItemToArray(arr, b);
    }
    return o;
}

/* Sums over the rows the log has a line for, so a lost line does not read as a
 * 100% error; returns false when a selected row is missing from the log (its
 * predicted figure is still summed into *pred_all). */
static bool totals(const check_row *rows, int n, hr_component comp, double *pred, double *act,
                   uint64_t *pred_bytes, double *pred_all, uint64_t *pred_all_bytes)
{
    *pred = *act = *pred_all = 0;
    *pred_bytes = *pred_all_bytes = 0;
    bool complete = true;
    for (int i = 0; i < n; i++) {
        if (rows[i].component != comp && (int)comp >= 0)
            continue;
        *pred_all += rows[i].predicted_mib;
        *pred_all_bytes += rows[i].predicted_bytes;
        if (!rows[i].in_log) {
            complete = false;
            continue;
        }
        *pred += rows[i].predicted_mib;
        *act += rows[i].actual_mib;
        *pred_bytes += rows[i].predicted_bytes;
    }
    return complete;
}

static void note_missing_lines(cli_session *s, const hr_plan *plan, const check_row *rows, int n)
{
    for (int i = 0; i < n; i++)
        if (!rows[i].in_log)
            cli_note(&s->notes,
                     "the log has no %s buffer line for %s (planned %.2f MiB): left out of the "
                     "comparison; the log may be cut short",
                     hr_component_name(rows[i].component), device_name(plan, rows[i].device),
                     rows[i].predicted_mib);
}

/* A Vulkan run's device figures depend on two things of that backend the
 * plan leaves at their defaults: say so where they may show. */
static void note_vulkan(cli_session *s, const hr_budget *budget, const check_row *rows, int n)
{
    bool vulkan = false;
    for (int d = 1; d < budget->n_devices; d++)
        vulkan = vulkan || budget->devices[d].backend == HR_BACKEND_VULKAN;
    bool compute = false;
    for (int i = 0; i < n; i++)
        compute = compute || (rows[i].component == HR_COMP_COMPUTE && rows[i].device > 0);
    if (vulkan && compute)
        cli_note(&s->notes,
                 "Vulkan: its graph optimizer reorders each split's nodes, which can make the "
                 "device's compute buffer a few MiB smaller than planned "
                 "(GGML_VK_DISABLE_GRAPH_OPTIMIZE=1 turns it off); the plan aligns to "
                 "runtimes.yaml's vulkan alignments, where the device's own "
                 "(minStorageBufferOffsetAlignment, minMemoryMapAlignment) may differ");
}

static int print_json(const cli_session *s, const hr_llama_log *log, const char *path,
                      const hr_plan *plan, const check_row *rows, int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "model", cli_model_summary_json(s->model));
    cJSON_AddItemToObject(root, "log", log_json(log, path));
    cJSON_AddItemToObject(root, "settings", cli_settings_json(&s->sc));
    cJSON *arr = cJSON_AddArrayToObject(root, "rows");
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, row_json(plan, hr_component_name(rows[i].component),
                                           rows[i].device, rows[i].predicted_mib,
                                           rows[i].predicted_bytes, rows[i].actual_mib,
                                           rows[i].in_log));
    cJSON *comp = cJSON_AddArrayToObject(root, "components");
    double p, a, pa;
    uint64_t pb, pab;
    for (int c = 0; c < N_CHECKED; c++) {
        /* a component the log lacks shows the plan's figure and no actual */
        bool in_log = totals(rows, n, checked[c], &p, &a, &pb, &pa, &pab);
        cJSON_AddItemToArray(comp, in_log ? row_json(plan, hr_component_name(checked[c]), -1, p,
                                                     pb, a, true)
                                          : row_json(plan, hr_component_name(checked[c]), -1,
                                                     pa, pab, 0, false));
    }
    /* the total compares what the log has */
    totals(rows, n, (hr_component)-1, &p, &a, &pb, &pa, &pab);
    cJSON_AddItemToObject(root, "total", row_json(plan, "total", -1, p, pb, a, true));
    cli_add_notes_json(root, &s->notes);
    return cli_print_json(root);
}

static void print_line(const char *component, const char *device, double pred_mib,
                       uint64_t pred_bytes, double act_mib, bool in_log, bool exact)
{
    char p[64], a[64], e[64];
    if (!in_log) {
        if (exact)
            snprintf(p, sizeof p, "%llu", (unsigned long long)pred_bytes);
        else
            snprintf(p, sizeof p, "%.2f MiB", pred_mib);
        printf("%-9s %-12.12s %16s %16s %16s %9s\n", component, device, p, "not in log", "-",
               "n/a");
        return;
    }
    /* no "-0.00": differences below the printed precision show as zero */
    double diff = pred_mib - act_mib;
    if (exact) {
        double diff_bytes = round(diff * MIB);
        snprintf(p, sizeof p, "%llu", (unsigned long long)pred_bytes);
        snprintf(a, sizeof a, "%.0f", act_mib * MIB);
        snprintf(e, sizeof e, "%+.0f", diff_bytes == 0 ? 0.0 : diff_bytes);
    } else {
        snprintf(p, sizeof p, "%.2f MiB", pred_mib);
        snprintf(a, sizeof a, "%.2f MiB", act_mib);
        snprintf(e, sizeof e, "%+.2f MiB", fabs(diff) < 0.005 ? 0.0 : diff);
    }
    bool known;
    double pct = percent_error(pred_mib, act_mib, &known);
    char pcts[32] = "n/a";
    if (known)
        snprintf(pcts, sizeof pcts, "%+.2f%%", fabs(pct) < 0.005 ? 0.0 : pct);
    printf("%-9s %-12.12s %16s %16s %16s %9s\n", component, device, p, a, e, pcts);
}

static void print_report(const cli_session *s, const hr_llama_log *log, const char *path,
                         const hr_plan *plan, const check_row *rows, int n)
{
    bool exact = s->opts.bytes;
    cli_print_model_line(s->model, exact);
    printf("Log       %s: %d buffer lines", path, log->n_buffers);
    if (log->has_n_ctx)
        printf(", n_ctx %u", log->n_ctx);
    if (log->has_n_ubatch)
        printf(", n_ubatch %u", log->n_ubatch);
    if (log->has_n_seq)
        printf(", n_seq %u", log->n_seq);
    if (log->flash_attn >= 0)
        printf(", flash attn %s", log->flash_attn ? "on" : "off");
    printf("\n");
    const hr_type_info *tk = hr_type_get(plan->type_k), *tv = hr_type_get(plan->type_v);
    printf("Planned   n_ctx %u | batch %u | ubatch %u | parallel %u | flash attn %s | KV %s/%s | "
           "GPU layers %d\n\n",
           plan->n_ctx, plan->n_batch, plan->n_ubatch, plan->n_seq, plan->flash_attn ? "on" : "off",
           tk ? tk->name : "?", tv ? tv->name : "?", (int)plan->n_gpu_layers);
    printf("%-9s %-12s %16s %16s %16s %9s\n", "component", "device", "predicted", "actual",
           "error", "error %");
    for (int i = 0; i < n; i++)
        print_line(hr_component_name(rows[i].component), device_name(plan, rows[i].device),
                   rows[i].predicted_mib, rows[i].predicted_bytes, rows[i].actual_mib,
                   rows[i].in_log, exact);
    double p, a, pa;
    uint64_t pb, pab;
    totals(rows, n, (hr_component)-1, &p, &a, &pb, &pa, &pab);
    print_line("total", "all", p, pb, a, true, exact);
    cli_print_notes(&s->notes);
}

static bool flag_given(const cli_opts *o, const char *key)
{
    for (int i = 0; i < o->n_settings; i++)
        if (strcmp(o->settings[i].key, key) == 0)
            return true;
    return false;
}

int cmd_check(int argc, char **argv)
{
    cli_session s;
    int rc = cli_session_open(argc, argv,
                              OPT_JSON | OPT_BYTES | OPT_SETTINGS | OPT_HARDWARE |
                                  OPT_HARDWARE_FILE | OPT_SCENARIO,
                              1, false, &s);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    const char *path = s.opts.positional[s.opts.n_positional - 1];
    char *text = NULL;
    size_t len = 0;
    hr_llama_log *log = calloc(1, sizeof *log);
    hr_plan *plan = calloc(1, sizeof *plan);
    check_row *rows = calloc((size_t)N_CHECKED * HR_MAX_DEVICES, sizeof *rows);
    hr_error err;
    if (!log || !plan || !rows) {
        rc = cli_error(CLI_BAD_INPUT, "out of memory");
        goto out;
    }
    if ((rc = cli_read_text(path, LOG_MAX_BYTES, &text, &len)) != CLI_OK)
        goto out;
    if (hr_llama_log_parse(text, len, log, &err) != HR_OK) {
        rc = cli_error(CLI_BAD_INPUT, "%s: %s", path, err.message);
        goto out;
    }
    if (log->n_buffers == 0) {
        rc = cli_error(CLI_BAD_INPUT, "%s: no llama.cpp 'buffer size' lines found", path);
        goto out;
    }
    /* The log's run: CPU unless it offloaded; what it printed wins over defaults. */
    hr_settings *set = &s.sc.settings;
    if (!flag_given(&s.opts, "device"))
        set->mode = HR_MODE_CPU;
    hr_llama_log_apply(log, set);
    if (set->mode == HR_MODE_CPU && log->n_gpu_layers < 0 && !flag_given(&s.opts, "gpu_layers"))
        set->n_gpu_layers = 0;
    hr_budget budget;
    if (s.sc.hardware[0]) {
        if ((rc = cli_make_budget(&s.sc, &budget)) != CLI_OK)
            goto out;
    } else {
        budget_from_log(log, &budget);
    }
    /* the run's runtime (--runtime, else its GPU's backend): its buffer
     * alignments are what the plan lays the buffers out with */
    if ((rc = cli_load_runtime(&s.sc, &budget, &s.notes)) != CLI_OK)
        goto out;
    if (hr_plan_compute(s.model, set, &budget, plan, &err) != HR_OK) {
        rc = cli_error(CLI_BAD_INPUT, "%s", err.message);
        goto out;
    }
    int n = build_rows(log, plan, rows);
    note_missing_lines(&s, plan, rows, n);
    note_vulkan(&s, &budget, rows, n);
    if (s.opts.json)
        rc = print_json(&s, log, path, plan, rows, n);
    else
        print_report(&s, log, path, plan, rows, n);
out:
    free(text);
    free(log);
    free(plan);
    free(rows);
    cli_session_close(&s);
    return rc;
}
