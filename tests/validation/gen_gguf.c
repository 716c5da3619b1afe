/* Write a GGUF of a model shape (a preset-format YAML) with sparse tensor
 * data, for loading by a real llama.cpp: only shapes and types matter.
 * usage: gen_gguf SHAPE.yaml OUT.gguf */
#include <stdio.h>

#include "gguf_writer.h"
#include "headroom/headroom.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SHAPE.yaml OUT.gguf\n", argv[0]);
        return 2;
    }
    hr_model *m;
    hr_error err;
    if (hr_model_open(argv[1], &m, &err) != HR_OK) {
        fprintf(stderr, "gen_gguf: %s\n", err.message);
        return 1;
    }
    int rc = gguf_writer_from_model(m, argv[2]);
    if (rc != 0)
        fprintf(stderr, "gen_gguf: cannot write %s\n", argv[2]);
    else
        printf("%s: %s, %zu tensors, %.2f MiB\n", argv[2], m->name, m->n_tensors,
               (double)m->n_bytes / 1048576.0);
    hr_model_free(m);
    return rc == 0 ? 0 : 1;
}
