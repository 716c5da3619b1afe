/* Placeholder: replaced by the module's real implementation. */
#include "headroom/headroom.h"
char *hr_model_to_json(const hr_model *m, bool t) { (void)m; (void)t; return NULL; }
