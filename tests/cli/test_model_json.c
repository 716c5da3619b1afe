/* hr_model_to_json: the full description, checked field by field through cJSON. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "headroom/headroom.h"
#include "test_util.h"

static cJSON *describe(const hr_model *m, bool tensors)
{
    char *text = hr_model_to_json(m, tensors);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("missing number '%s'", key);
    return v->valuedouble;
}

static void test_shape_model(void **state)
{
    (void)state;
    hr_shape s;
    hr_shape_init(&s);
    s.name = "tiny-test";
    s.arch_name = "qwen2";
    s.n_layer = 3;
    s.n_embd = 256;
    s.n_vocab = 1000;
    s.n_ctx_train = 2048;
    s.n_head = 8;
    s.n_head_kv = 2;
    s.n_ff = 512;
    s.qkv_bias = true;
    s.ftype = HR_FTYPE_MOSTLY_Q8_0;
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_from_shape(&s, &m, &err) != HR_OK)
        fail_msg("%s", err.message);

    cJSON *j = describe(m, true);
    assert_string_equal(cJSON_GetObjectItem(j, "arch")->valuestring, "qwen2");
    assert_string_equal(cJSON_GetObjectItem(j, "name")->valuestring, "tiny-test");
    assert_string_equal(cJSON_GetObjectItem(j, "ftype")->valuestring, hr_ftype_name(m->ftype));
    const cJSON *h = cJSON_GetObjectItem(j, "hparams");
    assert_int_equal((int)num(h, "n_layer"), 3);
    assert_int_equal((int)num(h, "n_head_kv"), 2);
    assert_int_equal((int)num(h, "n_embd_head_k"), 32);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(h, "has_qkv_bias")));
    const cJSON *layers = cJSON_GetObjectItem(j, "layers");
    assert_int_equal(cJSON_GetArraySize(layers), 3);
    double layer_sum = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers) layer_sum += num(l, "bytes");
    const cJSON *totals = cJSON_GetObjectItem(j, "totals");
    assert_float_equal(layer_sum + num(totals, "input_bytes") + num(totals, "output_bytes"),
                       num(totals, "bytes"), 0);
    assert_float_equal(num(totals, "bytes"), (double)m->n_bytes, 0);
    assert_float_equal(num(totals, "n_params"), (double)m->n_params, 0);

    /* tensors: one entry each, bytes and layer as the model has them */
    const cJSON *tensors = cJSON_GetObjectItem(j, "tensors");
    assert_int_equal(cJSON_GetArraySize(tensors), (int)m->n_tensors);
    size_t i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tensors) {
        const hr_tensor *mt = &m->tensors[i++];
        assert_string_equal(cJSON_GetObjectItem(t, "name")->valuestring, mt->name);
        assert_string_equal(cJSON_GetObjectItem(t, "type")->valuestring, hr_type_get(mt->type)->name);
        assert_float_equal(num(t, "bytes"), (double)mt->bytes, 0);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "dims")), (int)mt->n_dims);
        const cJSON *layer = cJSON_GetObjectItem(t, "layer");
        if (mt->layer >= 0)
            assert_int_equal((int)layer->valuedouble, mt->layer);
        else
            assert_string_equal(layer->valuestring, mt->layer == HR_LAYER_INPUT ? "input" : "output");
        if (strstr(mt->name, "attn_q.weight"))
            assert_string_equal(cJSON_GetObjectItem(t, "role")->valuestring, "attn_q");
    }
    /* per-type counts add up */
    double count = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "tensor_types")) count += c->valuedouble;
    assert_float_equal(count, (double)m->n_tensors, 0);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "warnings")));
    cJSON_Delete(j);

    j = describe(m, false);
    assert_null(cJSON_GetObjectItem(j, "tensors"));
    assert_non_null(cJSON_GetObjectItem(j, "totals"));
    cJSON_Delete(j);
    hr_model_free(m);
    assert_null(hr_model_to_json(NULL, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
