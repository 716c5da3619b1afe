/* Example: an embedding server's memory governor, built against the
 * INSTALLED libheadroom through pkg-config (not the build tree).
 *
 * It admits workers of stella_en_1.5B_v5 (f32) and stella_en_400M_v5 until the
 * budget is full, then checks each count against `headroom fit`'s replicas
 * for the same settings.
 *
 * usage: example_governor HEADROOM_BIN HARDWARE_SPEC
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <headroom/headroom.h>

#define BATCH 8
#define SEQ_LEN 512

/* `headroom fit` replicas for the same settings hr_request_to_settings uses. */
static long fit_replicas(const char *bin, const char *model, const char *hw)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s fit %s --device cpu --ctx-size %d --parallel %d --batch-size %d "
             "--ubatch-size %d --embeddings --hardware '%s' --json",
             bin, model, BATCH * SEQ_LEN, BATCH, BATCH * SEQ_LEN, BATCH * SEQ_LEN, hw);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    static char out[1 << 16];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    if (pclose(p) != 0)
        return -1;
    const char *key = strstr(out, "\"replicas\"");
    if (!key)
        return -1;
    key = strchr(key, ':');
    return key ? strtol(key + 1, NULL, 10) : -1;
}

static int run_model(const char *bin, const char *hw, const hr_budget *budget, const char *model)
{
    hr_error err;
    hr_request rq;
    memset(&rq, 0, sizeof rq);
    rq.model = model;
    rq.device = "cpu";
    rq.batch = BATCH;
    rq.seq_len = SEQ_LEN;
    hr_requirement req;
    if (hr_requirement_for(&rq, &req, &err) != HR_OK) {
        fprintf(stderr, "%s: %s\n", model, err.message);
        return 1;
    }
    hr_governor *gov;
    if (hr_governor_create(budget, &gov, &err) != HR_OK) {
        fprintf(stderr, "governor: %s\n", err.message);
        return 1;
    }
    uint32_t predicted = hr_governor_how_many_more(gov, &req);
    uint32_t admitted = 0;
    hr_admission tok, last = 0;
    while (hr_governor_admit(gov, &req, &tok, &err) == HR_OK) {
        last = tok;
        admitted++;
    }
    if (err.status != HR_ERR_NO_FIT) {
        fprintf(stderr, "unexpected admit failure: %s\n", err.message);
        return 1;
    }
    /* releasing one makes room for exactly one more */
    if (admitted > 0 && (hr_governor_release(gov, last, &err) != HR_OK ||
                         hr_governor_how_many_more(gov, &req) != 1)) {
        fprintf(stderr, "release accounting is wrong\n");
        return 1;
    }
    hr_governor_destroy(gov);
    long fit = fit_replicas(bin, model, hw);
    printf("%-20s requirement %.2f MiB (weights %.2f, kv %.2f, compute %.2f, overhead %.2f) "
           "workers admitted %u, predicted %u, headroom fit %ld\n",
           model, req.total_mib, req.weights_mib, req.kv_mib, req.compute_mib, req.overhead_mib,
           admitted, predicted, fit);
    if (admitted != predicted || (long)admitted != fit) {
        fprintf(stderr, "%s: counts disagree\n", model);
        return 1;
    }
    return admitted > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HEADROOM_BIN HARDWARE_SPEC\n", argv[0]);
        return 2;
    }
    hr_error err;
    hr_catalog *cat;
    if (hr_catalog_load(NULL, &cat, &err) != HR_OK) {
        fprintf(stderr, "catalog: %s\n", err.message);
        return 1;
    }
    int count = 1;
    const hr_hw_entry *e = hr_catalog_find(cat, argv[2], &count);
    if (!e) {
        fprintf(stderr, "no catalog entry '%s'\n", argv[2]);
        return 1;
    }
    hr_budget budget;
    hr_budget_from_entry(e, count, &budget);
    hr_catalog_free(cat);
    printf("libheadroom %s, budget %s\n", hr_version(), budget.label);
    int rc = run_model(argv[1], argv[2], &budget, "stella_en_1.5b_v5");
    rc |= run_model(argv[1], argv[2], &budget, "stella_en_400m_v5");
    return rc;
}
