/* Test fixture writer for safetensors checkpoints (owned by the safetensors work). */
#ifndef HR_SAFETENSORS_WRITER_H
#define HR_SAFETENSORS_WRITER_H
#endif
