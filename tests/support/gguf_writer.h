/* Test fixture writer for GGUF files (owned by the GGUF reader work). */
#ifndef HR_GGUF_WRITER_H
#define HR_GGUF_WRITER_H
#endif
