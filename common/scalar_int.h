/* scalar_int — declarations shared by scalar.c and scalar_math.c. */
#ifndef TL_SCALAR_INT_H
#define TL_SCALAR_INT_H

#include "scalar.h"

/** Apply math function @id (TL_FUNC_ROUND .. TL_FUNC_LCM) to non-NULL
 * @args[0..n) into *@out of type @type; numeric results in @a. Errors as
 * tl_func_eval(). */
int scalar_eval_math(uint8_t id, uint8_t type, const struct tl_value *args,
                     uint32_t n, struct tl_arena *a, struct tl_value *out,
                     struct tl_error *err);

#endif
