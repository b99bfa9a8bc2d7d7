#include "tl_error.h"

#include <stdio.h>
#include <string.h>

const char *
tl_strerror(int rv)
{
    switch (rv) {
    case TL_OK:
        return "success";
#define TL__X(name, num, text)                                                 \
    case TL_E##name:                                                           \
        return text;
        TL_ERRNO_MAP(TL__X)
#undef TL__X
    default:
        return "unknown error";
    }
}

const char *
tl_errno_sqlstate(int rv)
{
    switch (rv) {
    case TL_OK:
        return "00000";
    case TL_ENOMEM:
        return "53200";
    case TL_ETYPE:
        return "22P02";
    case TL_EOVERFLOW:
        return "22003";
    case TL_EDIVZERO:
        return "22012";
    case TL_ETOOLONG:
        return "22001";
    case TL_ENOTNULL:
        return "23502";
    case TL_EDUPKEY:
        return "23505";
    case TL_ESYNTAX:
        return "42601";
    case TL_EUNSUPPORTED:
        return "0A000";
    case TL_ETIMEOUT:
    case TL_EUNAVAILABLE:
    case TL_ENOTLEADER:
        return "08006";
    case TL_ECONFLICT:
        return "40001";
    case TL_EPROTO:
        return "08P01";
    case TL_ESHUTDOWN:
        return "57P01";
    default:
        return "XX000";
    }
}

void
tl_error_clear(struct tl_error *e)
{
    memset(e, 0, sizeof(*e));
}

int
tl_error_set(struct tl_error *e, int rv, const char *sqlstate, const char *fmt,
             ...)
{
    va_list ap;

    if (e == NULL)
        return rv;
    tl_error_clear(e);
    snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", sqlstate);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return rv;
}

void
tl_error_detail(struct tl_error *e, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
}

void
tl_error_hint(struct tl_error *e, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
    va_end(ap);
}
