/* Placeholder: replaced by the module's real implementation. */
#include "headroom/headroom.h"
hr_status hr_model_open_gguf(const char *p, hr_model **o, hr_error *e) { (void)o; return hr_error_set(e, HR_ERR_UNSUPPORTED, "%s: GGUF reader not built yet", p); }
