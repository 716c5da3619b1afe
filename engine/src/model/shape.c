/* Placeholder: replaced by the module's real implementation. */
#include "headroom/headroom.h"
void hr_shape_init(hr_shape *s) { (void)s; }
hr_status hr_model_from_shape(const hr_shape *s, hr_model **o, hr_error *e) { (void)s; (void)o; return hr_error_set(e, HR_ERR_UNSUPPORTED, "shapes not built yet"); }
