/* The type and ftype tables (engine/src/core/types.c): hr_type_get and the
 * ftype lookups rely on ids ascending (hr_type_get walks down from the id,
 * the ftype lookup binary-searches), so they must stay sorted by id. */
#include <stdio.h>

#include "test_util.h"

#include "headroom/types.h"

static void test_type_table_sorted_and_found(void **state)
{
    (void)state;
    const int n = hr_type_count();
    assert_true(n > 40);
    bool in_table[400] = {false};
    for (int i = 0; i < n; i++) {
        const hr_type_info *ti = hr_type_at(i);
        assert_non_null(ti);
        if (i > 0 && !(hr_type_at(i - 1)->id < ti->id))
            fail_msg("type table not sorted by id at %d (%s after %s)", i, ti->name,
                     hr_type_at(i - 1)->name);
        assert_ptr_equal(hr_type_get(ti->id), ti);
        assert_int_equal(hr_type_from_name(ti->name), ti->id);
        assert_true(ti->id >= 0 && ti->id < 400);
        in_table[ti->id] = true;
    }
    for (int id = -3; id < 400; id++)
        if (id < 0 || !in_table[id])
            assert_null(hr_type_get((hr_type)id));
    assert_null(hr_type_at(n));
}

static void test_ftype_table_sorted_and_found(void **state)
{
    (void)state;
    /* every hr_ftype the header declares */
    static const hr_ftype ALL[] = {
        HR_FTYPE_ALL_F32, HR_FTYPE_MOSTLY_F16, HR_FTYPE_MOSTLY_Q4_0, HR_FTYPE_MOSTLY_Q4_1,
        HR_FTYPE_MOSTLY_Q8_0, HR_FTYPE_MOSTLY_Q5_0, HR_FTYPE_MOSTLY_Q5_1, HR_FTYPE_MOSTLY_Q2_K,
        HR_FTYPE_MOSTLY_Q3_K_S, HR_FTYPE_MOSTLY_Q3_K_M, HR_FTYPE_MOSTLY_Q3_K_L,
        HR_FTYPE_MOSTLY_Q4_K_S, HR_FTYPE_MOSTLY_Q4_K_M, HR_FTYPE_MOSTLY_Q5_K_S,
        HR_FTYPE_MOSTLY_Q5_K_M, HR_FTYPE_MOSTLY_Q6_K, HR_FTYPE_MOSTLY_IQ2_XXS,
        HR_FTYPE_MOSTLY_IQ2_XS, HR_FTYPE_MOSTLY_Q2_K_S, HR_FTYPE_MOSTLY_IQ3_XS,
        HR_FTYPE_MOSTLY_IQ3_XXS, HR_FTYPE_MOSTLY_IQ1_S, HR_FTYPE_MOSTLY_IQ4_NL,
        HR_FTYPE_MOSTLY_IQ3_S, HR_FTYPE_MOSTLY_IQ3_M, HR_FTYPE_MOSTLY_IQ2_S,
        HR_FTYPE_MOSTLY_IQ2_M, HR_FTYPE_MOSTLY_IQ4_XS, HR_FTYPE_MOSTLY_IQ1_M,
        HR_FTYPE_MOSTLY_BF16, HR_FTYPE_MOSTLY_TQ1_0, HR_FTYPE_MOSTLY_TQ2_0,
        HR_FTYPE_MOSTLY_MXFP4_MOE, HR_FTYPE_MOSTLY_NVFP4, HR_FTYPE_MOSTLY_Q1_0,
        HR_FTYPE_BITNET_TL1, HR_FTYPE_BITNET_TL2, HR_FTYPE_BITNET_I2_S,
    };
    const size_t n = sizeof ALL / sizeof ALL[0];
    for (size_t i = 0; i < n; i++) {
        const char *name = hr_ftype_name(ALL[i]);
        if (!name)
            fail_msg("ftype %d has no name (table unsorted or entry missing)", (int)ALL[i]);
        assert_int_equal(hr_ftype_from_name(name), ALL[i]);
        const hr_type def = hr_ftype_default_type(ALL[i]);
        if (!hr_type_get(def))
            fail_msg("ftype %s: default type %d unknown", name, (int)def);
    }
    for (int id = -3; id < 300; id++) {
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known = known || ALL[i] == (hr_ftype)id;
        if (!known) {
            assert_null(hr_ftype_name((hr_ftype)id));
            assert_int_equal(hr_ftype_default_type((hr_ftype)id), HR_TYPE_INVALID);
        }
    }
    const hr_ftype *whatif = NULL;
    const int n_whatif = hr_ftype_whatif_list(&whatif);
    for (int i = 0; i < n_whatif; i++)
        assert_non_null(hr_ftype_name(whatif[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_table_sorted_and_found),
        cmocka_unit_test(test_ftype_table_sorted_and_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
