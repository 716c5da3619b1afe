/* The hardware catalog: the shipped file, lookups, budgets and bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "headroom/catalog.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static hr_catalog *load_shipped(void)
{
    hr_catalog *cat = NULL;
    hr_error err;
    hr_error_clear(&err);
    hr_status st = hr_catalog_load(NULL, &cat, &err);
    if (st != HR_OK)
        fail_msg("shipped catalog: %s", err.message);
    return cat;
}

static void test_shipped_catalog(void **state)
{
    (void)state;
    hr_catalog *cat = load_shipped();
    assert_true(cat->n_entries >= 25);
    int gpus = 0, hosts = 0, unified = 0, priced = 0;
    for (int i = 0; i < cat->n_entries; i++) {
        const hr_hw_entry *e = &cat->entries[i];
        assert_true(e->id[0] != '\0');
        assert_true(e->name[0] != '\0');
        assert_true(e->memory_bytes > 0);
        assert_true(e->bandwidth_gbps > 0);
        /* plausible: a device between 1 GiB and 4 TiB, bandwidth under 20 TB/s */
        assert_true(e->memory_bytes >= GiB && e->memory_bytes <= (4096ull * GiB));
        assert_true(e->bandwidth_gbps < 20000);
        if (e->price_known)
            priced++;
        if (e->kind == HR_DEVICE_GPU)
            gpus++;
        else
            hosts++;
        if (e->unified)
            unified++;
        /* every entry is found by its own id and name */
        int n = 0;
        assert_ptr_equal(hr_catalog_find(cat, e->id, &n), e);
        assert_int_equal(n, 1);
        assert_ptr_equal(hr_catalog_find(cat, e->name, &n), e);
    }
    assert_true(gpus >= 20);
    assert_true(hosts >= 3);
    assert_true(unified >= 6);
    assert_true(priced >= 10);

    /* the figures the file documents, exactly */
    const hr_hw_entry *h100 = hr_catalog_find(cat, "H100 80GB SXM", NULL);
    assert_non_null(h100);
    assert_int_equal(h100->memory_bytes, 81559 * MiB);
    assert_int_equal(h100->memory_bytes, 85520809984ull);
    assert_int_equal(h100->backend, HR_BACKEND_CUDA);
    const hr_hw_entry *m2 = hr_catalog_find(cat, "M2 Ultra", NULL);
    assert_non_null(m2);
    assert_true(m2->unified);
    assert_int_equal(m2->backend, HR_BACKEND_METAL);
    assert_int_equal(m2->memory_bytes, 192 * GiB);
    const hr_hw_entry *xtx = hr_catalog_find(cat, "RX 7900 XTX", NULL);
    assert_non_null(xtx);
    assert_int_equal(xtx->backend, HR_BACKEND_ROCM);
    hr_catalog_free(cat);
}

static void test_find(void **state)
{
    (void)state;
    hr_catalog *cat = load_shipped();
    int n = -1;
    const hr_hw_entry *a = hr_catalog_find(cat, "RTX 4090", &n);
    assert_non_null(a);
    assert_string_equal(a->id, "rtx-4090");
    assert_int_equal(n, 1);
    assert_ptr_equal(hr_catalog_find(cat, "rtx-4090", &n), a);
    assert_ptr_equal(hr_catalog_find(cat, "Rtx 4090", &n), a);
    assert_ptr_equal(hr_catalog_find(cat, "NVIDIA GeForce RTX 4090", &n), a);
    assert_ptr_equal(hr_catalog_find(cat, "GeForce RTX 4090", &n), a); /* end of the name */
    assert_ptr_equal(hr_catalog_find(cat, "4090", &n), a);
    assert_int_equal(n, 1);

    assert_ptr_equal(hr_catalog_find(cat, "2x RTX 4090", &n), a);
    assert_int_equal(n, 2);
    assert_ptr_equal(hr_catalog_find(cat, "  4 X rtx-4090", &n), a);
    assert_int_equal(n, 4);
    const hr_hw_entry *h100 = hr_catalog_find(cat, "2 x H100", &n);
    assert_non_null(h100);
    assert_string_equal(h100->id, "h100-sxm-80gb");
    assert_int_equal(n, 2);
    assert_ptr_equal(hr_catalog_find(cat, "8xH100", &n), h100);
    assert_int_equal(n, 8);

    /* model numbers are not counts */
    const hr_hw_entry *xtx = hr_catalog_find(cat, "7900 XTX", &n);
    assert_non_null(xtx);
    assert_string_equal(xtx->id, "rx-7900-xtx");
    assert_int_equal(n, 1);
    assert_ptr_equal(hr_catalog_find(cat, "2x 7900 XTX", &n), xtx);
    assert_int_equal(n, 2);

    /* not found, too many, nonsense */
    assert_null(hr_catalog_find(cat, "RTX 9090", &n));
    assert_int_equal(n, 0);
    assert_null(hr_catalog_find(cat, "16x H100", &n));
    assert_null(hr_catalog_find(cat, "0x H100", &n));
    assert_null(hr_catalog_find(cat, "", &n));
    assert_null(hr_catalog_find(cat, "---", &n));
    hr_catalog_free(cat);
}

static void test_budget_from_entry(void **state)
{
    (void)state;
    hr_catalog *cat = load_shipped();
    int n;
    const hr_hw_entry *e = hr_catalog_find(cat, "2x RTX 4090", &n);
    hr_budget b;
    hr_budget_from_entry(e, n, &b);
    assert_int_equal(b.n_devices, 3);
    assert_int_equal(b.devices[0].kind, HR_DEVICE_HOST);
    assert_false(b.devices[0].capacity_known); /* the 4090 entry names no host */
    for (int i = 1; i < 3; i++) {
        assert_int_equal(b.devices[i].kind, HR_DEVICE_GPU);
        assert_int_equal(b.devices[i].backend, HR_BACKEND_CUDA);
        assert_true(b.devices[i].capacity_known);
        assert_int_equal(b.devices[i].capacity_bytes, 24564 * MiB);
        assert_false(b.devices[i].unified);
        assert_true(b.devices[i].bandwidth_gbps > 1000);
    }
    assert_non_null(strstr(b.label, "2x"));
    assert_non_null(strstr(b.devices[1].source, "rtx-4090"));

    /* a cloud instance brings its host RAM */
    e = hr_catalog_find(cat, "g5.xlarge", &n);
    assert_non_null(e);
    hr_budget_from_entry(e, n, &b);
    assert_int_equal(b.n_devices, 2);
    assert_true(b.devices[0].capacity_known);
    assert_int_equal(b.devices[0].capacity_bytes, 16 * GiB);
    assert_int_equal(b.devices[1].capacity_bytes, 23028 * MiB);

    /* unified memory: the device is the host's memory */
    e = hr_catalog_find(cat, "M4 Max", &n);
    hr_budget_from_entry(e, n, &b);
    assert_int_equal(b.n_devices, 2);
    assert_int_equal(b.devices[0].capacity_bytes, 128 * GiB);
    assert_true(b.devices[1].unified);
    assert_int_equal(b.devices[1].capacity_bytes, 128 * GiB);
    assert_int_equal(b.devices[1].backend, HR_BACKEND_METAL);

    /* a CPU-only server: one host device */
    e = hr_catalog_find(cat, "cpu-256gb-ddr5", &n);
    assert_non_null(e);
    assert_int_equal(e->kind, HR_DEVICE_HOST);
    hr_budget_from_entry(e, n, &b);
    assert_int_equal(b.n_devices, 1);
    assert_int_equal(b.devices[0].capacity_bytes, 256 * GiB);
    assert_int_equal(b.devices[0].backend, HR_BACKEND_CPU);
    hr_catalog_free(cat);
}

/* ------------------------------------------------------------ parsing */

static hr_status parse(const char *yaml, hr_catalog **cat, hr_error *err)
{
    hr_error_clear(err);
    return hr_catalog_parse(yaml, strlen(yaml), "test.yaml", cat, err);
}

#define ENTRY_HEAD "version: 1\nhardware:\n  - id: x\n    name: X\n    kind: gpu\n    backend: cuda\n    bandwidth_gbps: 100\n"

static void test_memory_units(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned long long bytes;
    } cases[] = {
        {"80 GiB", 80ull << 30},       {"80GiB", 80ull << 30},
        {"80 GB", 80000000000ull},     {"80GB", 80000000000ull},
        {"81559 MiB", 81559ull << 20}, {"1.5 TiB", 3ull << 39},
        {"0.5 GB", 500000000ull},      {"85520809984", 85520809984ull},
        {"64 gib", 64ull << 30},       {"2 TB", 2000000000000ull},
        {"512 B", 512},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, ENTRY_HEAD "    memory: %s\n", cases[i].text);
        hr_catalog *cat;
        hr_error err;
        if (parse(yaml, &cat, &err) != HR_OK)
            fail_msg("%s: %s", cases[i].text, err.message);
        assert_int_equal(cat->entries[0].memory_bytes, cases[i].bytes);
        hr_catalog_free(cat);
    }
}

static void expect_error(const char *yaml, hr_status status, const char *needle)
{
    hr_catalog *cat = (hr_catalog *)1;
    hr_error err;
    hr_status st = parse(yaml, &cat, &err);
    if (st != status || !strstr(err.message, needle))
        fail_msg("expected %s containing '%s', got %s: %s", hr_status_name(status), needle,
                 hr_status_name(st), err.message);
    assert_null(cat);
    assert_non_null(strstr(err.message, "test.yaml"));
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_error("hardware: [\n  - id: x\n", HR_ERR_FORMAT, "YAML error");
    expect_error(ENTRY_HEAD "    memory: 1 GiB\n    colour: red\n", HR_ERR_FORMAT,
                 "unknown key 'colour'");
    expect_error("version: 1\nmachines: []\n", HR_ERR_FORMAT, "unknown key 'machines'");
    expect_error(ENTRY_HEAD "    memory: -80 GiB\n", HR_ERR_FORMAT, "negative");
    expect_error(ENTRY_HEAD "    memory: 80 parsecs\n", HR_ERR_FORMAT, "unknown unit");
    expect_error(ENTRY_HEAD "    memory: 0\n", HR_ERR_FORMAT, "positive");
    expect_error(ENTRY_HEAD "    memory: 99999999999 TiB\n", HR_ERR_FORMAT, "too large");
    expect_error(ENTRY_HEAD "    memory: 1.5\n", HR_ERR_FORMAT, "needs a unit");
    expect_error(ENTRY_HEAD "    memory: [1, 2]\n", HR_ERR_FORMAT, "memory");
    expect_error(ENTRY_HEAD "\n", HR_ERR_FORMAT, "lacks 'memory'");
    expect_error(ENTRY_HEAD "    memory: 1 GiB\n    price_usd: 100\n", HR_ERR_FORMAT,
                 "price_date");
    expect_error(ENTRY_HEAD "    memory: 1 GiB\n    price_usd: -5\n    price_date: 2024\n",
                 HR_ERR_FORMAT, "price_usd");
    expect_error(ENTRY_HEAD "    memory: 1 GiB\n    unified: maybe\n", HR_ERR_FORMAT,
                 "unified");
    expect_error("version: 1\nhardware:\n  - id: x\n    name: X\n    kind: gpu\n"
                 "    backend: opencl\n    memory: 1 GiB\n    bandwidth_gbps: 1\n",
                 HR_ERR_FORMAT, "backend");
    expect_error("version: 1\nhardware:\n  - id: x\n    name: X\n    kind: gpu\n"
                 "    backend: cuda\n    memory: 1 GiB\n    bandwidth_gbps: 0\n",
                 HR_ERR_FORMAT, "positive");
    expect_error(ENTRY_HEAD "    memory: 1 GiB\n" "  - id: X\n    name: Y\n    kind: gpu\n"
                 "    backend: cuda\n    memory: 1 GiB\n    bandwidth_gbps: 1\n",
                 HR_ERR_FORMAT, "duplicate id");
    expect_error(ENTRY_HEAD "    memory: 1 GiB\n" "  - id: y\n    name: Y\n    aliases: [x]\n"
                 "    kind: gpu\n    backend: cuda\n    memory: 1 GiB\n    bandwidth_gbps: 1\n",
                 HR_ERR_FORMAT, "names both 'x' and 'y'");
    expect_error(ENTRY_HEAD "    memory: 1 GiB\n    aliases: [\"--\"]\n", HR_ERR_FORMAT,
                 "no letters");
    expect_error("version: 2\nhardware: []\n", HR_ERR_UNSUPPORTED, "version");
    expect_error("- just a list\n", HR_ERR_FORMAT, "mapping");
    expect_error("", HR_ERR_FORMAT, "mapping");

    /* the line of the problem is named */
    hr_catalog *cat;
    hr_error err;
    assert_int_equal(parse(ENTRY_HEAD "    memory: 1 GiB\n    colour: red\n", &cat, &err),
                     HR_ERR_FORMAT);
    assert_non_null(strstr(err.message, "test.yaml:9:"));
}

static void test_user_file(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("catalog");
    char *path = tu_path(dir, "mine.yaml");
    assert_int_equal(tu_write_text(path,
                                   "hardware:\n"
                                   "  - id: lab-box\n"
                                   "    name: Lab box with two A6000\n"
                                   "    aliases: [lab]\n"
                                   "    kind: gpu\n"
                                   "    backend: cuda\n"
                                   "    memory: 48 GiB\n"
                                   "    bandwidth_gbps: 768\n"
                                   "    host_memory: 256 GiB\n"
                                   "    price_usd: 4650\n"
                                   "    price_date: 2021-01\n"
                                   "    price_kind: list\n"),
                     0);
    hr_catalog *cat;
    hr_error err;
    assert_int_equal(hr_catalog_load(path, &cat, &err), HR_OK);
    assert_int_equal(cat->n_entries, 1);
    int n;
    const hr_hw_entry *e = hr_catalog_find(cat, "2x lab", &n);
    assert_non_null(e);
    assert_int_equal(n, 2);
    assert_true(e->price_known);
    assert_true(e->price_usd == 4650.0);
    assert_int_equal(e->host_memory_bytes, 256 * GiB);
    hr_catalog_free(cat);

    /* a missing file names itself */
    char *missing = tu_path(dir, "nope.yaml");
    assert_int_equal(hr_catalog_load(missing, &cat, &err), HR_ERR_IO);
    assert_non_null(strstr(err.message, "nope.yaml"));
    free(missing);
    free(path);
    tu_remove_tree(dir);
    free(dir);
}

/* ------------------------------------------------------------ merging */

static void test_merge_user_file(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("catalog-merge");
    char *path = tu_path(dir, "extra.yaml");
    /* one new accelerator, and the shipped RTX 4090 given a different memory
     * under another spelling of its id */
    assert_int_equal(tu_write_text(path,
                                   "version: 1\n"
                                   "hardware:\n"
                                   "  - id: lab-accel-9\n"
                                   "    name: Lab Accelerator 9\n"
                                   "    kind: gpu\n"
                                   "    backend: vulkan\n"
                                   "    memory: 40 GiB\n"
                                   "    bandwidth_gbps: 900\n"
                                   "  - id: RTX 4090\n"
                                   "    name: Our RTX 4090 (48 GB mod)\n"
                                   "    kind: gpu\n"
                                   "    backend: cuda\n"
                                   "    memory: 48 GiB\n"
                                   "    bandwidth_gbps: 1008\n"),
                     0);
    hr_catalog *shipped = load_shipped();
    const hr_hw_entry *old = hr_catalog_find(shipped, "rtx-4090", NULL);
    assert_non_null(old);
    assert_int_equal(old->memory_bytes, 24564 * MiB);

    hr_catalog *cat = NULL;
    hr_error err;
    hr_error_clear(&err);
    if (hr_catalog_load_merged(path, &cat, &err) != HR_OK)
        fail_msg("merged: %s", err.message);
    /* one added, one replaced */
    assert_int_equal(cat->n_entries, shipped->n_entries + 1);
    const hr_hw_entry *added = hr_catalog_find(cat, "lab accelerator 9", NULL);
    assert_non_null(added);
    assert_int_equal(added->memory_bytes, 40 * GiB);
    assert_int_equal(added->backend, HR_BACKEND_VULKAN);
    int n = 0;
    const hr_hw_entry *mine = hr_catalog_find(cat, "2x rtx-4090", &n);
    assert_non_null(mine);
    assert_int_equal(n, 2);
    assert_int_equal(mine->memory_bytes, 48 * GiB);
    assert_string_equal(mine->name, "Our RTX 4090 (48 GB mod)");
    assert_ptr_equal(hr_catalog_find(cat, "Our RTX 4090 (48 GB mod)", NULL), mine);
    /* the shipped entry and its aliases are gone, not shadowed */
    int named_4090 = 0;
    for (int i = 0; i < cat->n_entries; i++)
        if (strstr(cat->entries[i].name, "RTX 4090") && !strstr(cat->entries[i].name, "Laptop"))
            named_4090++;
    assert_int_equal(named_4090, 1);
    /* the rest of the shipped catalog is there, unchanged */
    for (int i = 0; i < shipped->n_entries; i++) {
        const hr_hw_entry *e = &shipped->entries[i];
        if (!strcmp(e->id, "rtx-4090"))
            continue;
        const hr_hw_entry *same = hr_catalog_find(cat, e->id, NULL);
        assert_non_null(same);
        assert_int_equal(same->memory_bytes, e->memory_bytes);
        assert_string_equal(same->name, e->name);
    }
    hr_catalog_free(cat);

    /* no user file: the shipped catalog */
    assert_int_equal(hr_catalog_load_merged(NULL, &cat, &err), HR_OK);
    assert_int_equal(cat->n_entries, shipped->n_entries);
    hr_catalog_free(cat);
    hr_catalog_free(shipped);
    free(path);
    tu_remove_tree(dir);
    free(dir);
}

static void expect_merge_error(const char *dir, const char *file, const char *yaml,
                               const char *needle)
{
    char *path = tu_path(dir, file);
    assert_int_equal(tu_write_text(path, yaml), 0);
    hr_catalog *cat = (hr_catalog *)1;
    hr_error err;
    hr_error_clear(&err);
    assert_int_not_equal(hr_catalog_load_merged(path, &cat, &err), HR_OK);
    assert_null(cat);
    if (!strstr(err.message, path) || !strstr(err.message, needle) || strchr(err.message, '\n'))
        fail_msg("expected one line naming %s and '%s', got: %s", path, needle, err.message);
    free(path);
}

static void test_merge_bad_user_file(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("catalog-merge-bad");
    expect_merge_error(dir, "broken.yaml", "hardware: [\n  - id: x\n", "YAML error");
    expect_merge_error(dir, "unknown-key.yaml",
                       "hardware:\n  - {id: x, name: X, kind: gpu, backend: cuda, memory: 1 GiB,"
                       " bandwidth_gbps: 1, colour: red}\n",
                       "unknown key 'colour'");
    /* an alias naming another shipped entry would make lookups ambiguous */
    expect_merge_error(dir, "clash.yaml",
                       "hardware:\n  - {id: x, name: X, aliases: [rtx-4090], kind: gpu,"
                       " backend: cuda, memory: 1 GiB, bandwidth_gbps: 1}\n",
                       "names both");
    char *missing = tu_path(dir, "missing.yaml");
    hr_catalog *cat;
    hr_error err;
    assert_int_equal(hr_catalog_load_merged(missing, &cat, &err), HR_ERR_IO);
    assert_non_null(strstr(err.message, missing));
    free(missing);

    /* merging keeps the target intact on error */
    hr_catalog *shipped = load_shipped();
    int before = shipped->n_entries;
    hr_catalog *extra = NULL;
    const char *yaml = "hardware:\n  - {id: y, name: Y, aliases: [M2 Ultra], kind: gpu,"
                       " backend: cuda, memory: 1 GiB, bandwidth_gbps: 1}\n";
    assert_int_equal(hr_catalog_parse(yaml, strlen(yaml), "extra.yaml", &extra, &err), HR_OK);
    assert_int_equal(hr_catalog_merge(shipped, extra, "extra.yaml", &err), HR_ERR_FORMAT);
    assert_non_null(strstr(err.message, "extra.yaml"));
    assert_int_equal(shipped->n_entries, before);
    assert_non_null(hr_catalog_find(shipped, "M2 Ultra", NULL));
    assert_null(hr_catalog_find(shipped, "y", NULL));
    hr_catalog_free(extra);
    hr_catalog_free(shipped);
    tu_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_catalog),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_budget_from_entry),
        cmocka_unit_test(test_memory_units),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_user_file),
        cmocka_unit_test(test_merge_user_file),
        cmocka_unit_test(test_merge_bad_user_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
