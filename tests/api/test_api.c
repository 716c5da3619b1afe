/* The embedding API: requirement, governor accounting, thread safety. */
#include <pthread.h>
#include <string.h>

#include "test_util.h"

#include "headroom/headroom.h"

#define GIB (1024ull * 1024 * 1024)

static void make_budget(hr_budget *b, uint64_t host, uint64_t gpu)
{
    hr_budget_init_host_only(b);
    b->devices[0].capacity_bytes = host;
    b->devices[0].capacity_known = true;
    if (gpu) {
        hr_budget_device *g = &b->devices[b->n_devices++];
        memset(g, 0, sizeof *g);
        strcpy(g->name, "test GPU");
        g->kind = HR_DEVICE_GPU;
        g->backend = HR_BACKEND_CUDA;
        g->capacity_bytes = gpu;
        g->capacity_known = true;
    }
}

static hr_requirement req_of(uint64_t host, uint64_t gpu)
{
    hr_requirement r;
    memset(&r, 0, sizeof r);
    r.n_devices = gpu ? 2 : 1;
    r.device_bytes[0] = host;
    r.device_bytes[1] = gpu;
    r.total_bytes = host + gpu;
    return r;
}

static void test_admit_until_full(void **state)
{
    (void)state;
    hr_budget b;
    make_budget(&b, 10 * GIB, 24 * GIB);
    hr_governor *g;
    hr_error err;
    assert_int_equal(hr_governor_create(&b, &g, &err), HR_OK);
    hr_requirement r = req_of(1 * GIB, 5 * GIB); /* GPU-bound: 4 fit */
    assert_int_equal(hr_governor_how_many_more(g, &r), 4);
    hr_admission toks[8];
    int n = 0;
    while (hr_governor_admit(g, &r, &toks[n], &err) == HR_OK)
        n++;
    assert_int_equal(n, 4);
    assert_int_equal(err.status, HR_ERR_NO_FIT);
    assert_int_equal(hr_governor_active(g), 4);
    assert_int_equal(hr_governor_reserved_bytes(g, 1), 20 * GIB);
    assert_int_equal(hr_governor_how_many_more(g, &r), 0);
    assert_int_equal(hr_governor_release(g, toks[2], &err), HR_OK);
    assert_int_equal(hr_governor_how_many_more(g, &r), 1);
    /* a token cannot be released twice */
    assert_int_equal(hr_governor_release(g, toks[2], &err), HR_ERR_ARG);
    assert_int_equal(hr_governor_release(g, 0, &err), HR_ERR_ARG);
    hr_governor_destroy(g);
}

static void test_needs_missing_device(void **state)
{
    (void)state;
    hr_budget b;
    make_budget(&b, 64 * GIB, 0); /* no GPU at all */
    hr_governor *g;
    assert_int_equal(hr_governor_create(&b, &g, NULL), HR_OK);
    hr_requirement r = req_of(1 * GIB, 2 * GIB);
    hr_admission t;
    hr_error err;
    assert_int_equal(hr_governor_admit(g, &r, &t, &err), HR_ERR_NO_FIT);
    assert_int_equal(t, 0);
    assert_int_equal(hr_governor_how_many_more(g, &r), 0);
    hr_governor_destroy(g);
}

typedef struct worker_arg {
    hr_governor *g;
    hr_requirement r;
    int admitted;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    hr_admission t;
    for (int i = 0; i < 1000; i++) {
        if (hr_governor_admit(a->g, &a->r, &t, NULL) == HR_OK) {
            a->admitted++;
            if (i % 3 == 0) {
                hr_governor_release(a->g, t, NULL);
                a->admitted--;
            }
        }
    }
    return NULL;
}

static void test_threads_never_oversubscribe(void **state)
{
    (void)state;
    hr_budget b;
    make_budget(&b, 100 * GIB, 0);
    hr_governor *g;
    assert_int_equal(hr_governor_create(&b, &g, NULL), HR_OK);
    worker_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i].g = g;
        args[i].r = req_of(3 * GIB, 0);
        args[i].admitted = 0;
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += args[i].admitted;
    }
    assert_int_equal(total, 33); /* floor(100 / 3) */
    assert_int_equal(hr_governor_active(g), 33);
    assert_int_equal(hr_governor_reserved_bytes(g, 0), 99 * GIB);
    hr_governor_destroy(g);
}

static void test_request_validation(void **state)
{
    (void)state;
    hr_error err;
    hr_requirement out;
    hr_request rq;
    memset(&rq, 0, sizeof rq);
    assert_int_equal(hr_requirement_for(&rq, &out, &err), HR_ERR_ARG);
    rq.model = "/nonexistent/model.gguf";
    assert_int_not_equal(hr_requirement_for(&rq, &out, &err), HR_OK);
    assert_non_null(strstr(err.message, "/nonexistent/model.gguf"));
}

static void test_requirement_matches_plan(void **state)
{
    (void)state;
    hr_error err;
    hr_model *m;
    if (hr_model_open("llama-3.2-1b", &m, &err) != HR_OK)
        fail_msg("preset: %s", err.message);
    hr_request rq;
    memset(&rq, 0, sizeof rq);
    rq.device = "gpu";
    rq.batch = 2;
    rq.seq_len = 1024;
    rq.margin_percent = 10;
    hr_requirement r;
    assert_int_equal(hr_requirement_for_model(m, &rq, &r, &err), HR_OK);
    hr_settings s;
    assert_int_equal(hr_request_to_settings(m, &rq, &s, &err), HR_OK);
    assert_int_equal(s.n_ctx, 2048);
    assert_int_equal(s.n_seq, 2);
    assert_int_equal(s.n_gpu_layers, -1);
    /* the parts add up, and the GPU holds the layers */
    assert_int_equal(r.total_bytes, r.cpu_bytes + r.gpu_bytes);
    assert_int_equal(r.total_bytes, r.weights_bytes + r.kv_bytes + r.compute_bytes +
                                        r.overhead_bytes + r.margin_bytes);
    assert_true(r.gpu_bytes > r.weights_bytes / 2);
    assert_true(r.kv_bytes > 0 && r.compute_bytes > 0 && r.margin_bytes > 0);
    assert_true(r.total_mib > 0 && (uint64_t)(r.total_mib * 1048576.0 + 0.5) == r.total_bytes);
    rq.device = "tpu";
    assert_int_equal(hr_requirement_for_model(m, &rq, &r, &err), HR_ERR_ARG);
    rq.device = "cpu";
    rq.quant = "Q9_Z";
    assert_int_equal(hr_requirement_for_model(m, &rq, &r, &err), HR_ERR_ARG);
    hr_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admit_until_full),
        cmocka_unit_test(test_needs_missing_device),
        cmocka_unit_test(test_threads_never_oversubscribe),
        cmocka_unit_test(test_request_validation),
        cmocka_unit_test(test_requirement_matches_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
