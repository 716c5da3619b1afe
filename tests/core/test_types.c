/* Type table and byte sizes (engine/src/core). */
#include "test_util.h"

#include "headroom/types.h"

static void test_block_sizes(void **state)
{
    (void)state;
    int64_t ne[4] = {4096, 4096, 1, 1};
    uint64_t b = 0;
    assert_int_equal(hr_type_tensor_bytes(HR_TYPE_Q4_K, ne, &b, NULL), HR_OK);
    assert_int_equal(b, 4096ull / 256 * 144 * 4096);
    assert_int_equal(hr_type_tensor_bytes(HR_TYPE_Q8_0, ne, &b, NULL), HR_OK);
    assert_int_equal(b, 4096ull / 32 * 34 * 4096);
    assert_int_equal(hr_type_tensor_bytes(HR_TYPE_TQ1_0, ne, &b, NULL), HR_OK);
    assert_int_equal(b, 4096ull / 256 * 54 * 4096);
}

static void test_bitnet_sizes(void **state)
{
    (void)state;
    int64_t ne[4] = {2560, 6912, 1, 1};
    uint64_t b = 0;
    assert_int_equal(hr_type_tensor_bytes(HR_TYPE_BITNET_I2_S, ne, &b, NULL), HR_OK);
    assert_int_equal(b, 2560ull * 6912 / 4 + 32);
    assert_int_equal(hr_type_tensor_bytes(HR_TYPE_BITNET_TL2, ne, &b, NULL), HR_OK);
    uint64_t expect = (2560ull - 256) * 6912 / 3 * 5 / 8 + 256ull * 6912 / 2 * 4 / 8;
    expect = (expect + 31) / 32 * 32 + 32;
    assert_int_equal(b, expect);
}

static void test_bad_shapes(void **state)
{
    (void)state;
    hr_error err;
    uint64_t b;
    int64_t odd[4] = {896, 10, 1, 1};
    assert_int_equal(hr_type_tensor_bytes(HR_TYPE_Q4_K, odd, &b, &err), HR_ERR_FORMAT);
    int64_t huge[4] = {1ll << 40, 1ll << 40, 1, 1};
    assert_int_equal(hr_type_tensor_bytes(HR_TYPE_F32, huge, &b, &err), HR_ERR_LIMIT);
    assert_null(hr_type_get((hr_type)4));
}

static void test_ftypes(void **state)
{
    (void)state;
    assert_int_equal(hr_ftype_from_name("q4_k_m"), HR_FTYPE_MOSTLY_Q4_K_M);
    assert_string_equal(hr_ftype_name(HR_FTYPE_MOSTLY_Q4_K_M), "Q4_K_M");
    assert_int_equal(hr_ftype_default_type(HR_FTYPE_MOSTLY_IQ3_M), HR_TYPE_IQ3_S);
    assert_int_equal(hr_ftype_default_type(HR_FTYPE_BITNET_I2_S), HR_TYPE_BITNET_I2_S);
    assert_int_equal(hr_type_from_name("i2_s"), HR_TYPE_BITNET_I2_S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_sizes),
        cmocka_unit_test(test_bitnet_sizes),
        cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_ftypes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
