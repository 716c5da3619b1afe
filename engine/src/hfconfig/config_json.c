/* Placeholder: replaced by the module's real implementation. */
#include "headroom/headroom.h"
hr_status hr_model_open_config(const char *p, hr_model **o, hr_error *e) { (void)o; return hr_error_set(e, HR_ERR_UNSUPPORTED, "%s: config reader not built yet", p); }
hr_status hr_model_from_config_json(const char *j, size_t l, const char *p, hr_model **o, hr_error *e) { (void)j; (void)l; (void)o; return hr_error_set(e, HR_ERR_UNSUPPORTED, "%s: config reader not built yet", p); }
