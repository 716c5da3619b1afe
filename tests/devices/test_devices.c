/* Device detection against fake /proc and /sys trees and a fake NVML. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "test_util.h"

#include "headroom/devices.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static const char *fake_nvml_path;        /* argv[1]: all symbols */
static const char *fake_nvml_legacy_path; /* argv[2]: no _v2 symbols */

/* ------------------------------------------------------------ fixtures */

static void make_dirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

/* Write text to root/rel, creating the directories on the way. */
static void put(const char *root, const char *rel, const char *text)
{
    char path[1024], dir[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    make_dirs(dir);
    assert_int_equal(tu_write_text(path, text), 0);
}

typedef struct fake_tree {
    char *root;
    char proc[512], sys[512], cgroup[512], self_cgroup[512];
    hr_probe_paths paths;
} fake_tree;

static void tree_open(fake_tree *t, const char *tag)
{
    memset(t, 0, sizeof *t);
    t->root = tu_make_temp_dir(tag);
    assert_non_null(t->root);
    snprintf(t->proc, sizeof t->proc, "%s/proc", t->root);
    snprintf(t->sys, sizeof t->sys, "%s/sys", t->root);
    snprintf(t->cgroup, sizeof t->cgroup, "%s/sys/fs/cgroup", t->root);
    snprintf(t->self_cgroup, sizeof t->self_cgroup, "%s/proc/self/cgroup", t->root);
    make_dirs(t->proc);
    make_dirs(t->cgroup);
    t->paths.proc_root = t->proc;
    t->paths.sys_root = t->sys;
    t->paths.cgroup_root = t->cgroup;
    t->paths.self_cgroup = t->self_cgroup;
    t->paths.nvml_library = "/nonexistent/libnvidia-ml.so.1";
}

static void tree_close(fake_tree *t)
{
    tu_remove_tree(t->root);
    free(t->root);
}

static const char standard_meminfo[] =
    "MemTotal:       16384000 kB\n"
    "MemFree:         1000000 kB\n"
    "MemAvailable:    8000000 kB\n"
    "Buffers:           20000 kB\n"
    "Cached:          3000000 kB\n"
    "SwapCached:            0 kB\n"
    "SwapTotal:       2097148 kB\n"
    "SwapFree:        2000000 kB\n"
    "HugePages_Total:       0\n";

static hr_host_info detect_host(fake_tree *t, hr_status expect)
{
    hr_host_info h;
    hr_error err;
    hr_error_clear(&err);
    assert_int_equal(hr_detect_host(&t->paths, &h, &err), expect);
    return h;
}

/* ------------------------------------------------------------ meminfo */

static void test_meminfo_full(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "mem");
    put(t.proc, "meminfo", standard_meminfo);
    hr_host_info h = detect_host(&t, HR_OK);
    assert_true(h.mem_total.valid);
    assert_int_equal(h.mem_total.value, 16384000ull * 1024);
    assert_true(h.mem_available.valid);
    assert_int_equal(h.mem_available.value, 8000000ull * 1024);
    assert_string_equal(h.available_source, "MemAvailable");
    assert_int_equal(h.swap_total.value, 2097148ull * 1024);
    assert_int_equal(h.swap_free.value, 2000000ull * 1024);
    assert_non_null(strstr(h.mem_source, "meminfo"));
    /* no cgroup file in the tree: the budget is the RAM */
    assert_int_equal(h.cgroup_version, 0);
    assert_false(h.cgroup_limit.valid);
    assert_true(h.budget.valid);
    assert_int_equal(h.budget.value, h.mem_total.value);
    tree_close(&t);
}

static void test_meminfo_without_available(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "mem");
    put(t.proc, "meminfo",
        "MemTotal:  4000000 kB\nMemFree:  100000 kB\nBuffers:  2000 kB\nCached:  300000 kB\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_true(h.mem_available.valid);
    assert_int_equal(h.mem_available.value, (100000ull + 2000 + 300000) * 1024);
    assert_string_equal(h.available_source, "MemFree+Buffers+Cached");
    /* swap lines absent: unknown, not zero */
    assert_false(h.swap_total.valid);
    assert_false(h.swap_free.valid);

    /* without Cached the old estimate cannot be made either */
    put(t.proc, "meminfo", "MemTotal:  4000000 kB\nMemFree:  100000 kB\nBuffers:  2000 kB\n");
    h = detect_host(&t, HR_OK);
    assert_false(h.mem_available.valid);
    tree_close(&t);
}

static void test_meminfo_huge_values(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "mem");
    /* 2^54 kB is 2^64 bytes: one past what a uint64 holds */
    put(t.proc, "meminfo",
        "MemTotal:  18014398509481984 kB\nMemAvailable: 99999999999999999999999 kB\n");
    hr_host_info h = detect_host(&t, HR_ERR_FORMAT);
    assert_false(h.mem_total.valid);
    assert_false(h.mem_available.valid);
    assert_false(h.budget.valid);

    /* the largest value that fits is kept exactly */
    put(t.proc, "meminfo", "MemTotal:  18014398509481983 kB\nSwapTotal: 18446744073709551616 kB\n");
    h = detect_host(&t, HR_OK);
    assert_true(h.mem_total.valid);
    assert_int_equal(h.mem_total.value, 18014398509481983ull * 1024);
    assert_false(h.swap_total.valid);
    tree_close(&t);
}

static void test_meminfo_garbage_lines(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "mem");
    put(t.proc, "meminfo",
        "garbage without colon\n"
        ":::\n"
        "MemTotal 5 kB\n"
        "MemFree:  abc kB\n"
        "Cached:   12 MB\n"
        "\n"
        "MemTotal:  2048 kB\n"
        "Buffers:  1 kB trailing words\n"
        "MemAvailable:");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_true(h.mem_total.valid);
    assert_int_equal(h.mem_total.value, 2048ull * 1024);
    assert_false(h.mem_available.valid);
    tree_close(&t);
}

static void test_meminfo_missing(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "mem");
    put(t.proc, "cpuinfo", "processor\t: 0\nmodel name\t: Fake CPU\n");
    hr_host_info h;
    hr_error err;
    assert_int_equal(hr_detect_host(&t.paths, &h, &err), HR_ERR_IO);
    assert_non_null(strstr(err.message, "meminfo"));
    assert_false(h.mem_total.valid);
    assert_false(h.mem_available.valid);
    assert_false(h.budget.valid);
    /* what could be read still is */
    assert_string_equal(h.cpu_model, "Fake CPU");
    assert_int_equal(h.cpu_cores, 1);
    tree_close(&t);
}

static void test_cpuinfo(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cpu");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "cpuinfo",
        "processor\t: 0\nvendor_id\t: Fake\nmodel\t\t: 17\nmodel name\t: Fake EPYC 9999  \n\n"
        "processor\t: 1\nmodel name\t: Fake EPYC 9999\n\n"
        "processor\t: 2\n\nprocessor\t: 3\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_string_equal(h.cpu_model, "Fake EPYC 9999");
    assert_int_equal(h.cpu_cores, 4);

    /* a fake root without cpuinfo says unknown; it never asks the real system */
    char path[600];
    snprintf(path, sizeof path, "%s/cpuinfo", t.proc);
    remove(path);
    h = detect_host(&t, HR_OK);
    assert_int_equal(h.cpu_cores, 0);
    assert_string_equal(h.cpu_model, "");
    tree_close(&t);
}

/* ------------------------------------------------------------ cgroup v2 */

static void test_cgroup_v2_leaf_limit(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cg2");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "self/cgroup", "0::/user.slice/app.scope\n");
    put(t.cgroup, "cgroup.controllers", "cpu memory\n");
    put(t.cgroup, "user.slice/memory.max", "max\n");
    put(t.cgroup, "user.slice/app.scope/memory.max", "1073741824\n");
    put(t.cgroup, "user.slice/app.scope/memory.current", "52428800\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_int_equal(h.cgroup_version, 2);
    assert_true(h.cgroup_limit.valid);
    assert_int_equal(h.cgroup_limit.value, 1 * GiB);
    assert_true(h.cgroup_current.valid);
    assert_int_equal(h.cgroup_current.value, 52428800);
    assert_non_null(strstr(h.cgroup_path, "app.scope/memory.max"));
    assert_true(h.budget.valid);
    assert_int_equal(h.budget.value, 1 * GiB);
    tree_close(&t);
}

static void test_cgroup_v2_nested_parent_smaller(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cg2");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "self/cgroup", "0::/outer/middle/leaf\n");
    put(t.cgroup, "outer/memory.max", "3221225472\n");
    put(t.cgroup, "outer/middle/memory.max", "2147483648\n");
    put(t.cgroup, "outer/middle/leaf/memory.max", "4294967296\n");
    put(t.cgroup, "outer/middle/leaf/memory.current", "1000\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_int_equal(h.cgroup_version, 2);
    assert_int_equal(h.cgroup_limit.value, 2 * GiB);
    assert_non_null(strstr(h.cgroup_path, "outer/middle/memory.max"));
    assert_null(strstr(h.cgroup_path, "leaf"));
    assert_int_equal(h.budget.value, 2 * GiB);
    assert_int_equal(h.cgroup_current.value, 1000);
    tree_close(&t);
}

static void test_cgroup_v2_max_everywhere(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cg2");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "self/cgroup", "0::/a/b\n");
    put(t.cgroup, "memory.max", "max\n");
    put(t.cgroup, "a/memory.max", "max\n");
    put(t.cgroup, "a/b/memory.max", "max\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_int_equal(h.cgroup_version, 2);
    assert_false(h.cgroup_limit.valid);
    assert_false(h.cgroup_current.valid); /* no memory.current file */
    assert_int_equal(h.budget.value, 16384000ull * 1024);
    tree_close(&t);
}

static void test_cgroup_v2_limit_above_ram(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cg2");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "self/cgroup", "0::/big\n");
    put(t.cgroup, "big/memory.max", "1099511627776\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_true(h.cgroup_limit.valid);
    assert_int_equal(h.cgroup_limit.value, 1099511627776ull);
    assert_int_equal(h.budget.value, h.mem_total.value);
    tree_close(&t);
}

static void test_cgroup_v2_container_root(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cg2");
    put(t.proc, "meminfo", standard_meminfo);
    /* the host's path is listed, but the container sees its own group at the root */
    put(t.proc, "self/cgroup", "0::/kubepods/pod1/abc\n");
    put(t.cgroup, "memory.max", "536870912\n");
    put(t.cgroup, "memory.current", "4096\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_int_equal(h.cgroup_version, 2);
    assert_int_equal(h.cgroup_limit.value, 512 * MiB);
    assert_int_equal(h.cgroup_current.value, 4096);
    tree_close(&t);
}

static void test_cgroup_v2_garbage_limit(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cg2");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "self/cgroup", "0::/x\n");
    put(t.cgroup, "x/memory.max", "12abc\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_false(h.cgroup_limit.valid);
    assert_int_equal(h.budget.value, h.mem_total.value);
    tree_close(&t);
}

/* ------------------------------------------------------------ cgroup v1 */

static void test_cgroup_v1_limit(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cg1");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "self/cgroup",
        "12:pids:/docker/abc\n5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n");
    put(t.cgroup, "memory/docker/abc/memory.limit_in_bytes", "2147483648\n");
    put(t.cgroup, "memory/docker/abc/memory.usage_in_bytes", "123456\n");
    put(t.cgroup, "memory/docker/abc/memory.stat",
        "cache 0\nrss 100\nhierarchical_memory_limit 2147483648\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_int_equal(h.cgroup_version, 1);
    assert_int_equal(h.cgroup_limit.value, 2 * GiB);
    assert_int_equal(h.cgroup_current.value, 123456);
    assert_non_null(strstr(h.cgroup_path, "memory.limit_in_bytes"));
    assert_int_equal(h.budget.value, 2 * GiB);
    tree_close(&t);
}

static void test_cgroup_v1_unlimited_and_hierarchical(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "cg1");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "self/cgroup", "4:memory:/job/step\n");
    /* PAGE_COUNTER_MAX pages: "no limit" in v1 */
    put(t.cgroup, "memory/job/step/memory.limit_in_bytes", "9223372036854771712\n");
    put(t.cgroup, "memory/job/step/memory.usage_in_bytes", "777\n");
    put(t.cgroup, "memory/job/step/memory.stat",
        "cache 1\nhierarchical_memory_limit 3221225472\nhierarchical_memsw_limit 9223372036854771712\n");
    hr_host_info h = detect_host(&t, HR_OK);
    assert_int_equal(h.cgroup_version, 1);
    assert_true(h.cgroup_limit.valid);
    assert_int_equal(h.cgroup_limit.value, 3 * GiB);
    assert_non_null(strstr(h.cgroup_path, "hierarchical_memory_limit"));
    assert_int_equal(h.budget.value, 3 * GiB);

    /* unlimited at every level: no limit at all */
    put(t.cgroup, "memory/job/step/memory.stat",
        "hierarchical_memory_limit 9223372036854771712\n");
    h = detect_host(&t, HR_OK);
    assert_int_equal(h.cgroup_version, 1);
    assert_false(h.cgroup_limit.valid);
    assert_true(h.cgroup_current.valid);
    assert_int_equal(h.budget.value, h.mem_total.value);
    tree_close(&t);
}

/* ------------------------------------------------------------ AMD */

static void add_amd_card(const char *sys, int n, const char *vendor, const char *vram_total,
                         const char *vram_used, const char *product)
{
    char rel[256];
    snprintf(rel, sizeof rel, "class/drm/card%d/device/vendor", n);
    put(sys, rel, vendor);
    if (vram_total) {
        snprintf(rel, sizeof rel, "class/drm/card%d/device/mem_info_vram_total", n);
        put(sys, rel, vram_total);
        snprintf(rel, sizeof rel, "class/drm/card%d/device/mem_info_vram_used", n);
        put(sys, rel, vram_used);
        snprintf(rel, sizeof rel, "class/drm/card%d/device/mem_info_gtt_total", n);
        put(sys, rel, "33554432000\n");
        snprintf(rel, sizeof rel, "class/drm/card%d/device/mem_info_gtt_used", n);
        put(sys, rel, "12345\n");
    }
    if (product) {
        snprintf(rel, sizeof rel, "class/drm/card%d/device/product_name", n);
        put(sys, rel, product);
    }
}

static void test_amd_cards(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "amd");
    add_amd_card(t.sys, 0, "0x1002\n", "25753026560\n", "1048576\n", "Radeon RX 7900 XTX\n");
    add_amd_card(t.sys, 1, "0x10de\n", "1000\n", "0\n", NULL);    /* NVIDIA: skipped */
    add_amd_card(t.sys, 2, "0x1002\n", NULL, NULL, NULL);          /* no memory files */
    put(t.sys, "class/drm/card0-DP-1/status", "connected\n");
    put(t.sys, "class/drm/renderD128/dev", "226:128\n");
    put(t.sys, "class/drm/card0-DP-1/device/vendor", "0x1002\n");

    hr_system sys;
    memset(&sys, 0, sizeof sys);
    hr_error err;
    assert_int_equal(hr_detect_amd(&t.paths, &sys, &err), HR_OK);
    assert_int_equal(sys.n_gpus, 2);
    hr_gpu_info *a = &sys.gpus[0];
    assert_string_equal(a->vendor, "AMD");
    assert_string_equal(a->name, "Radeon RX 7900 XTX");
    assert_int_equal(a->backend, HR_BACKEND_ROCM);
    assert_int_equal(a->index, 0);
    assert_true(a->total.valid);
    assert_int_equal(a->total.value, 25753026560ull);
    assert_int_equal(a->used.value, 1048576);
    assert_true(a->free.valid);
    assert_int_equal(a->free.value, 25753026560ull - 1048576);
    assert_int_equal(a->gtt_total.value, 33554432000ull);
    assert_int_equal(a->gtt_used.value, 12345);
    assert_string_equal(a->source, "sysfs card0");
    assert_false(a->unified);

    hr_gpu_info *b = &sys.gpus[1];
    assert_string_equal(b->name, "AMD GPU (card2)");
    assert_int_equal(b->index, 2);
    assert_false(b->total.valid);
    assert_false(b->used.valid);
    assert_false(b->free.valid);
    assert_false(b->gtt_total.valid);
    assert_non_null(strstr(sys.amd_status, "2 AMD GPUs"));
    tree_close(&t);
}

static void test_amd_absent_and_capped(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "amd");
    hr_system sys;
    memset(&sys, 0, sizeof sys);
    assert_int_equal(hr_detect_amd(&t.paths, &sys, NULL), HR_OK);
    assert_int_equal(sys.n_gpus, 0);
    assert_non_null(strstr(sys.amd_status, "no AMD GPU"));

    for (int i = 0; i < HR_MAX_GPUS + 3; i++)
        add_amd_card(t.sys, i, "0x1002\n", "1073741824\n", "0\n", NULL);
    memset(&sys, 0, sizeof sys);
    assert_int_equal(hr_detect_amd(&t.paths, &sys, NULL), HR_OK);
    assert_int_equal(sys.n_gpus, HR_MAX_GPUS);
    /* numeric order: card10 comes after card9 */
    for (int i = 0; i < HR_MAX_GPUS; i++)
        assert_int_equal(sys.gpus[i].index, i);
    assert_non_null(strstr(sys.amd_status, "limit"));

    t.paths.skip_amd = true;
    memset(&sys, 0, sizeof sys);
    assert_int_equal(hr_detect_amd(&t.paths, &sys, NULL), HR_OK);
    assert_int_equal(sys.n_gpus, 0);
    assert_non_null(strstr(sys.amd_status, "skipped"));
    tree_close(&t);
}

/* ------------------------------------------------------------ NVML */

typedef struct nvml_run {
    hr_system sys;
    char *log;
} nvml_run;

static void run_nvml(fake_tree *t, const char *library, const char *mode, nvml_run *out)
{
    char log_path[600];
    snprintf(log_path, sizeof log_path, "%s/nvml.log", t->root);
    remove(log_path);
    setenv("FAKE_NVML_LOG", log_path, 1);
    if (mode)
        setenv("FAKE_NVML_MODE", mode, 1);
    else
        unsetenv("FAKE_NVML_MODE");
    memset(&out->sys, 0, sizeof out->sys);
    t->paths.nvml_library = library;
    hr_error err;
    hr_error_clear(&err);
    assert_int_equal(hr_detect_nvidia(&t->paths, &out->sys, &err), HR_OK);
    out->log = tu_read_file(log_path, NULL);
    if (!out->log)
        out->log = strdup("");
    unsetenv("FAKE_NVML_MODE");
    unsetenv("FAKE_NVML_LOG");
}

static int count_lines(const char *log, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = log; (p = strstr(p, line)) != NULL; p += len)
        if ((p == log || p[-1] == '\n') && p[len] == '\n')
            n++;
    return n;
}

static void test_nvml_v2_one_gpu(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "nvml");
    nvml_run r;
    run_nvml(&t, fake_nvml_path, NULL, &r);
    assert_int_equal(r.sys.n_gpus, 1);
    hr_gpu_info *g = &r.sys.gpus[0];
    assert_string_equal(g->name, "Fake GPU 24G");
    assert_string_equal(g->vendor, "NVIDIA");
    assert_int_equal(g->backend, HR_BACKEND_CUDA);
    assert_false(g->unified);
    assert_int_equal(g->total.value, 24 * GiB);
    /* v2: used excludes the driver's reservation, free excludes both */
    assert_int_equal(g->used.value, 1 * GiB);
    assert_int_equal(g->free.value, 24 * GiB - 300 * MiB - 1 * GiB);
    /* the v2 call only succeeds with the right version word */
    assert_string_equal(g->source, "NVML v2");
    assert_int_equal(count_lines(r.log, "nvmlInit_v2"), 1);
    assert_int_equal(count_lines(r.log, "nvmlDeviceGetMemoryInfo_v2"), 1);
    assert_int_equal(count_lines(r.log, "nvmlDeviceGetMemoryInfo"), 0);
    assert_int_equal(count_lines(r.log, "nvmlShutdown"), 1);
    assert_non_null(strstr(r.sys.nvml_status, "1 GPU"));
    free(r.log);
    tree_close(&t);
}

static void test_nvml_two_gpus(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "nvml");
    nvml_run r;
    run_nvml(&t, fake_nvml_path, "two-gpus", &r);
    assert_int_equal(r.sys.n_gpus, 2);
    assert_int_equal(r.sys.gpus[0].index, 0);
    assert_int_equal(r.sys.gpus[1].index, 1);
    assert_string_equal(r.sys.gpus[1].name, "Fake GPU 80G");
    assert_int_equal(r.sys.gpus[1].total.value, 80 * GiB);
    assert_non_null(strstr(r.sys.nvml_status, "2 GPUs"));
    free(r.log);
    tree_close(&t);
}

static void test_nvml_legacy_symbols(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "nvml");
    nvml_run r;
    run_nvml(&t, fake_nvml_legacy_path, NULL, &r);
    assert_int_equal(r.sys.n_gpus, 1);
    hr_gpu_info *g = &r.sys.gpus[0];
    assert_string_equal(g->source, "NVML v1");
    assert_int_equal(g->total.value, 24 * GiB);
    /* v1 counts the reservation as used */
    assert_int_equal(g->used.value, 1 * GiB + 300 * MiB);
    assert_int_equal(g->free.value, 24 * GiB - 1 * GiB - 300 * MiB);
    assert_int_equal(count_lines(r.log, "nvmlInit"), 1);
    assert_int_equal(count_lines(r.log, "nvmlInit_v2"), 0);
    assert_int_equal(count_lines(r.log, "nvmlShutdown"), 1);
    free(r.log);
    tree_close(&t);
}

static void test_nvml_v2_failure_falls_back(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "nvml");
    nvml_run r;
    run_nvml(&t, fake_nvml_path, "v2-broken", &r);
    assert_int_equal(r.sys.n_gpus, 1);
    assert_string_equal(r.sys.gpus[0].source, "NVML v1");
    assert_int_equal(r.sys.gpus[0].total.value, 24 * GiB);
    free(r.log);
    tree_close(&t);
}

static void test_nvml_unified(void **state)
{
    (void)state;
    static const char *const modes[] = {"unified", "zero-total"};
    for (int m = 0; m < 2; m++) {
        fake_tree t;
        tree_open(&t, "nvml");
        nvml_run r;
        run_nvml(&t, fake_nvml_path, modes[m], &r);
        assert_int_equal(r.sys.n_gpus, 1);
        hr_gpu_info *g = &r.sys.gpus[0];
        assert_true(g->unified);
        assert_false(g->total.valid);
        assert_false(g->free.valid);
        assert_non_null(strstr(g->source, "unified"));

        /* planned against, it takes the host's memory */
        put(t.proc, "meminfo", standard_meminfo);
        assert_int_equal(hr_detect_host(&t.paths, &r.sys.host, NULL), HR_OK);
        hr_budget b;
        hr_budget_from_system(&r.sys, &b);
        assert_int_equal(b.n_devices, 2);
        assert_true(b.devices[1].unified);
        assert_true(b.devices[1].capacity_known);
        assert_int_equal(b.devices[1].capacity_bytes, r.sys.host.budget.value);
        free(r.log);
        tree_close(&t);
    }
}

static void test_nvml_absent_or_failing(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "nvml");
    nvml_run r;
    run_nvml(&t, "/nonexistent/libnvidia-ml.so.1", NULL, &r);
    assert_int_equal(r.sys.n_gpus, 0);
    assert_non_null(strstr(r.sys.nvml_status, "not present"));
    free(r.log);

    run_nvml(&t, fake_nvml_path, "init-fails", &r);
    assert_int_equal(r.sys.n_gpus, 0);
    assert_non_null(strstr(r.sys.nvml_status, "init failed"));
    assert_non_null(strstr(r.sys.nvml_status, "Driver Not Loaded"));
    /* a failed init is not followed by a shutdown */
    assert_int_equal(count_lines(r.log, "nvmlInit_v2"), 1);
    assert_int_equal(count_lines(r.log, "nvmlShutdown"), 0);
    free(r.log);

    t.paths.skip_nvml = true;
    run_nvml(&t, fake_nvml_path, NULL, &r);
    assert_int_equal(r.sys.n_gpus, 0);
    assert_non_null(strstr(r.sys.nvml_status, "skipped"));
    assert_string_equal(r.log, "");
    free(r.log);
    tree_close(&t);
}

static void test_nvml_library_without_symbols(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "nvml");
    nvml_run r;
    /* a real shared library that is not NVML */
    run_nvml(&t, "libcjson.so.1", NULL, &r);
    assert_int_equal(r.sys.n_gpus, 0);
    assert_non_null(strstr(r.sys.nvml_status, "lacks required symbols"));
    free(r.log);
    tree_close(&t);
}

/* ------------------------------------------------------------ whole system */

static void test_system_detect_json_and_budget(void **state)
{
    (void)state;
    fake_tree t;
    tree_open(&t, "sys");
    put(t.proc, "meminfo", standard_meminfo);
    put(t.proc, "cpuinfo", "processor\t: 0\nmodel name\t: Fake CPU\n");
    put(t.proc, "self/cgroup", "0::/job\n");
    put(t.cgroup, "job/memory.max", "8589934592\n");
    add_amd_card(t.sys, 1, "0x1002\n", "17163091968\n", "0\n", NULL);
    t.paths.nvml_library = fake_nvml_path;
    setenv("FAKE_NVML_MODE", "two-gpus", 1);
    hr_system sys;
    hr_error err;
    hr_error_clear(&err);
    assert_int_equal(hr_system_detect(&t.paths, &sys, &err), HR_OK);
    unsetenv("FAKE_NVML_MODE");
    assert_int_equal(sys.n_gpus, 3);
    assert_string_equal(sys.gpus[0].vendor, "NVIDIA");
    assert_string_equal(sys.gpus[2].vendor, "AMD");

    hr_budget b;
    hr_budget_from_system(&sys, &b);
    assert_int_equal(b.n_devices, 4);
    assert_int_equal(b.devices[0].kind, HR_DEVICE_HOST);
    assert_true(b.devices[0].capacity_known);
    assert_int_equal(b.devices[0].capacity_bytes, 8 * GiB);
    assert_non_null(strstr(b.devices[0].source, "cgroup v2"));
    assert_int_equal(b.devices[1].kind, HR_DEVICE_GPU);
    assert_int_equal(b.devices[1].backend, HR_BACKEND_CUDA);
    assert_int_equal(b.devices[1].capacity_bytes, 24 * GiB);
    assert_int_equal(b.devices[2].capacity_bytes, 80 * GiB);
    assert_int_equal(b.devices[3].backend, HR_BACKEND_ROCM);
    assert_int_equal(b.devices[3].capacity_bytes, 17163091968ull);

    char *json = hr_system_to_json(&sys);
    assert_non_null(json);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    cJSON *host = cJSON_GetObjectItem(root, "host");
    cJSON *total = cJSON_GetObjectItem(cJSON_GetObjectItem(host, "mem_total"), "bytes");
    assert_true(cJSON_IsNumber(total));
    assert_int_equal((uint64_t)total->valuedouble, 16384000ull * 1024);
    cJSON *limit = cJSON_GetObjectItem(cJSON_GetObjectItem(host, "cgroup"), "limit");
    assert_int_equal((uint64_t)cJSON_GetObjectItem(limit, "bytes")->valuedouble, 8 * GiB);
    assert_non_null(strstr(cJSON_GetObjectItem(limit, "source")->valuestring, "job/memory.max"));
    cJSON *budget = cJSON_GetObjectItem(host, "budget");
    assert_string_equal(cJSON_GetObjectItem(budget, "source")->valuestring, "cgroup v2 limit");
    /* swap lines exist; cgroup current does not: null, not 0 */
    cJSON *current = cJSON_GetObjectItem(cJSON_GetObjectItem(host, "cgroup"), "current");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(current, "bytes")));
    cJSON *gpus = cJSON_GetObjectItem(root, "gpus");
    assert_int_equal(cJSON_GetArraySize(gpus), 3);
    cJSON *amd = cJSON_GetArrayItem(gpus, 2);
    assert_string_equal(cJSON_GetObjectItem(amd, "backend")->valuestring, "rocm");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(amd, "total"), "source")->valuestring,
        "sysfs card1");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(amd, "gtt_total"), "bytes")));
    assert_non_null(strstr(cJSON_GetObjectItem(root, "nvml_status")->valuestring, "2 GPUs"));
    cJSON_Delete(root);
    free(json);
    tree_close(&t);
}

/* ------------------------------------------------------------ this machine */

/* An independent reading of /proc/meminfo and the cgroup files, with stdio. */
static unsigned long long real_mem_total(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    assert_non_null(f);
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

static int read_ull(const char *path, unsigned long long *v)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char word[64] = "";
    int ok = fscanf(f, "%63s", word) == 1;
    fclose(f);
    if (!ok || strcmp(word, "max") == 0)
        return 0;
    char *end;
    errno = 0;
    *v = strtoull(word, &end, 10);
    return errno == 0 && *end == '\0';
}

static int is_directory(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The expected limit (0 = none) and version of this process's memory cgroup. */
static unsigned long long real_cgroup_limit(int *version)
{
    *version = 0;
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f)
        return 0;
    char line[1024], v1_path[512] = "", v2_path[512] = "";
    int have_v1 = 0, have_v2 = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        if (strcmp(line, "0:") == 0 && c1[1] == '\0') {
            snprintf(v2_path, sizeof v2_path, "%s", c2 + 1);
            have_v2 = 1;
        }
        char controllers[256];
        snprintf(controllers, sizeof controllers, ",%s,", c1 + 1);
        if (strstr(controllers, ",memory,")) {
            snprintf(v1_path, sizeof v1_path, "%s", c2 + 1);
            have_v1 = 1;
        }
    }
    fclose(f);
    const unsigned long long unlimited = 1ull << 62;
    unsigned long long best = 0, v;
    char dir[1024], file[1200];
    if (have_v1 && is_directory("/sys/fs/cgroup/memory")) {
        *version = 1;
        snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory%s", v1_path);
        if (strcmp(v1_path, "/") == 0 || !is_directory(dir))
            snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory");
        snprintf(file, sizeof file, "%s/memory.limit_in_bytes", dir);
        if (read_ull(file, &v) && v < unlimited)
            best = v;
        snprintf(file, sizeof file, "%s/memory.stat", dir);
        FILE *s = fopen(file, "r");
        if (s) {
            while (fgets(line, sizeof line, s))
                if (sscanf(line, "hierarchical_memory_limit %llu", &v) == 1 && v < unlimited &&
                    (!best || v < best))
                    best = v;
            fclose(s);
        }
        return best;
    }
    if (have_v2) {
        *version = 2;
        char rel[512];
        snprintf(dir, sizeof dir, "/sys/fs/cgroup%s", v2_path);
        snprintf(rel, sizeof rel, "%s", is_directory(dir) ? v2_path : "/");
        for (;;) {
            snprintf(file, sizeof file, "/sys/fs/cgroup%s/memory.max",
                     strcmp(rel, "/") == 0 ? "" : rel);
            if (read_ull(file, &v) && (!best || v < best))
                best = v;
            char *slash = strrchr(rel, '/');
            if (!slash || strcmp(rel, "/") == 0)
                break;
            if (slash == rel)
                rel[1] = '\0';
            else
                *slash = '\0';
        }
    }
    return best;
}

static void test_this_machine(void **state)
{
    (void)state;
    hr_probe_paths p;
    hr_probe_paths_default(&p);
    assert_string_equal(p.proc_root, "/proc");
    hr_host_info h;
    hr_error err;
    assert_int_equal(hr_detect_host(&p, &h, &err), HR_OK);
    unsigned long long total = real_mem_total();
    assert_true(total > 0);
    assert_true(h.mem_total.valid);
    assert_int_equal(h.mem_total.value, total);

    int version;
    unsigned long long limit = real_cgroup_limit(&version);
    assert_int_equal(h.cgroup_version, version);
    if (limit) {
        assert_true(h.cgroup_limit.valid);
        assert_int_equal(h.cgroup_limit.value, limit);
        assert_int_equal(h.budget.value, limit < total ? limit : total);
    } else {
        assert_false(h.cgroup_limit.valid);
        assert_int_equal(h.budget.value, total);
    }
    assert_true(h.cpu_cores > 0);

    /* the whole detection never fails for lack of GPUs */
    hr_system sys;
    assert_int_equal(hr_system_detect(NULL, &sys, &err), HR_OK);
    assert_int_equal(sys.host.mem_total.value, total);
    assert_true(sys.nvml_status[0] != '\0');
    assert_true(sys.amd_status[0] != '\0');
    char *json = hr_system_to_json(&sys);
    assert_non_null(json);
    free(json);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s FAKE_NVML_LIB FAKE_NVML_LEGACY_LIB\n", argv[0]);
        return 2;
    }
    fake_nvml_path = argv[1];
    fake_nvml_legacy_path = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meminfo_full),
        cmocka_unit_test(test_meminfo_without_available),
        cmocka_unit_test(test_meminfo_huge_values),
        cmocka_unit_test(test_meminfo_garbage_lines),
        cmocka_unit_test(test_meminfo_missing),
        cmocka_unit_test(test_cpuinfo),
        cmocka_unit_test(test_cgroup_v2_leaf_limit),
        cmocka_unit_test(test_cgroup_v2_nested_parent_smaller),
        cmocka_unit_test(test_cgroup_v2_max_everywhere),
        cmocka_unit_test(test_cgroup_v2_limit_above_ram),
        cmocka_unit_test(test_cgroup_v2_container_root),
        cmocka_unit_test(test_cgroup_v2_garbage_limit),
        cmocka_unit_test(test_cgroup_v1_limit),
        cmocka_unit_test(test_cgroup_v1_unlimited_and_hierarchical),
        cmocka_unit_test(test_amd_cards),
        cmocka_unit_test(test_amd_absent_and_capped),
        cmocka_unit_test(test_nvml_v2_one_gpu),
        cmocka_unit_test(test_nvml_two_gpus),
        cmocka_unit_test(test_nvml_legacy_symbols),
        cmocka_unit_test(test_nvml_v2_failure_falls_back),
        cmocka_unit_test(test_nvml_unified),
        cmocka_unit_test(test_nvml_absent_or_failing),
        cmocka_unit_test(test_nvml_library_without_symbols),
        cmocka_unit_test(test_system_detect_json_and_budget),
        cmocka_unit_test(test_this_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
