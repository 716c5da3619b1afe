// Load a GGUF and create a context the way node-llama-cpp does (CPU only,
// n_batch = n_ubatch, no unified KV, no full SWA cache), so that llama.cpp
// reserves its compute graphs; nothing else. Built against the patched
// llama.cpp by trace.sh; with GA_TRACE set, ggml-alloc prints each allocation.
// usage: reserve MODEL.gguf N_CTX N_SEQ BATCH FLASH_ATTN(0/1) TYPE_K TYPE_V [EMBEDDINGS(0/1)]
//        (N_CTX for all sequences; cache types as ggml type ids; EMBEDDINGS 1 for an
//        embedding context, as headroom plans an embedding model)
#include "llama.h"

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: %s MODEL N_CTX N_SEQ BATCH FA TYPE_K TYPE_V\n", argv[0]);
        return 2;
    }
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model)
        return 1;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)atoi(argv[2]);
    cp.n_seq_max = (uint32_t)atoi(argv[3]);
    cp.n_batch = cp.n_ubatch = (uint32_t)atoi(argv[4]);
    cp.flash_attn_type = atoi(argv[5]) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = (ggml_type)atoi(argv[6]);
    cp.type_v = (ggml_type)atoi(argv[7]);
    cp.kv_unified = false;
    cp.swa_full = false;
    cp.n_threads = cp.n_threads_batch = 2;
    cp.embeddings = argc > 8 && atoi(argv[8]) != 0;
    llama_context *ctx = llama_init_from_model(model, cp);
    const int rc = ctx ? 0 : 1;
    if (ctx)
        llama_free(ctx);
    llama_model_free(model);
    return rc;
}
