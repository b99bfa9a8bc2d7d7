#include "common/base/sqlstate.h"

#include <stddef.h>
#include <string.h>

const char *
tl_sqlstate_name(const char *code)
{
    static const struct {
        const char *code;
        const char *name;
    } map[] = {
#define TL__X(name, cond) {TL_SQLSTATE_##name, cond},
        TL_SQLSTATE_MAP(TL__X)
#undef TL__X
    };

    if (code == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].code, code) == 0)
            return map[i].name;
    return NULL;
}
