/* Test fixture writer for safetensors checkpoints and config.json files.
 *
 * Tensor data is never written: files are extended with ftruncate, so the
 * data section is a sparse hole and a "16 GB" fixture costs no disk.
 * All functions return 0 on success and -1 on failure.
 *
 *   stw_tensor t[] = {{"model.embed_tokens.weight", "BF16", 2, {32000, 4096}}, ...};
 *   stw_write(path, t, n, NULL);                    one file, contiguous offsets
 *   stw_write_sharded(dir, t, n, 3);                model-0000i-of-00003 + index.json
 *   stw_write_raw(path, len, "{...}", size);        corrupt files: any declared length,
 *                                                   any header text, any file size
 *   stw_write_config(dir, &cfg) / stw_write_config_text(dir, json)
 *   stw_llama_tensors(&shape, "BF16", &t, &n)       HF tensor list of a llama-family shape
 */
#ifndef HR_SAFETENSORS_WRITER_H
#define HR_SAFETENSORS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "headroom/model.h"

#define STW_MAX_RANK 8

typedef struct stw_tensor {
    const char *name;   /* HF name */
    const char *dtype;  /* safetensors dtype string: "F32", "BF16", "F8_E4M3", "F4" ... */
    int rank;
    int64_t shape[STW_MAX_RANK]; /* outermost first, as PyTorch */
} stw_tensor;

/* Width of a dtype in bits (0 if unknown to the writer). */
unsigned stw_dtype_bits(const char *dtype);
/* Exact data bytes of a tensor (elements * bits / 8). */
uint64_t stw_tensor_bytes(const stw_tensor *t);

/* Write one safetensors file; metadata_json (an object's text) may be NULL.
 * data_bytes (if non-NULL) receives the size of the data section. */
int stw_write(const char *path, const stw_tensor *tensors, size_t n, const char *metadata_json,
              uint64_t *data_bytes);

/* Raw file: 8-byte LE declared_len, then header text (its own length, which
 * may differ from declared_len), then the file is truncated/extended to
 * file_size bytes (0: 8 + strlen(header)). */
int stw_write_raw(const char *path, uint64_t declared_len, const char *header,
                  uint64_t file_size);

/* Split tensors round-robin in order over n_shards files
 * "model-%05d-of-%05d.safetensors" in dir and write
 * model.safetensors.index.json. */
int stw_write_sharded(const char *dir, const stw_tensor *tensors, size_t n, int n_shards);

/* Write an index whose weight_map maps names[i] -> files[i]. */
int stw_write_index(const char *dir, const char *const *names, const char *const *files,
                    size_t n);

/* config.json from a shape: architectures [architecture], model_type,
 * torch_dtype and the hr_shape fields under their transformers keys. */
typedef struct stw_config {
    const char *architecture;  /* "LlamaForCausalLM" */
    const char *model_type;    /* "llama" */
    const char *torch_dtype;   /* "bfloat16" */
    hr_shape shape;
    const char *extra_json;    /* members spliced in verbatim ("\"a\": 1, \"b\": 2"), or NULL */
} stw_config;

int stw_write_config(const char *dir, const stw_config *cfg);
int stw_write_config_text(const char *dir, const char *json);

/* HF tensor list of a llama-family decoder (embed, per layer q/k/v/o,
 * gate/up/down, two norms, final norm, lm_head unless tied); qkv biases when
 * shape->qkv_bias. Names are malloc'd: free with stw_free_tensors. */
int stw_llama_tensors(const hr_shape *shape, const char *dtype, stw_tensor **out, size_t *n);
void stw_free_tensors(stw_tensor *tensors, size_t n);

#endif
