/* GGUF fixture writer: filled in by the GGUF reader work. */
#include "gguf_writer.h"
