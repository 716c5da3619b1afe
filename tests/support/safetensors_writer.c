/* safetensors fixture writer: filled in by the safetensors work. */
#include "safetensors_writer.h"
