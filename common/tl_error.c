#include "tl_error.h"

#include <stdio.h>
#include <string.h>

#include "common/base/sqlstate.h"

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
        return TL_SQLSTATE_SUCCESSFUL_COMPLETION;
    case TL_ENOMEM:
        return TL_SQLSTATE_OUT_OF_MEMORY;
    case TL_ETYPE:
        return TL_SQLSTATE_INVALID_TEXT_REPRESENTATION;
    case TL_EOVERFLOW:
        return TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE;
    case TL_EDIVZERO:
        return TL_SQLSTATE_DIVISION_BY_ZERO;
    case TL_ETOOLONG:
        return TL_SQLSTATE_STRING_DATA_RIGHT_TRUNCATION;
    case TL_ENOTNULL:
        return TL_SQLSTATE_NOT_NULL_VIOLATION;
    case TL_EDUPKEY:
        return TL_SQLSTATE_UNIQUE_VIOLATION;
    case TL_ESYNTAX:
        return TL_SQLSTATE_SYNTAX_ERROR;
    case TL_EUNSUPPORTED:
        return TL_SQLSTATE_FEATURE_NOT_SUPPORTED;
    case TL_ETIMEOUT:
    case TL_EUNAVAILABLE:
    case TL_ENOTLEADER:
        return TL_SQLSTATE_CONNECTION_FAILURE;
    case TL_ECONFLICT:
        return TL_SQLSTATE_T_R_SERIALIZATION_FAILURE;
    case TL_ELOCKED:
        return TL_SQLSTATE_LOCK_NOT_AVAILABLE;
    case TL_EPROTO:
        return TL_SQLSTATE_PROTOCOL_VIOLATION;
    case TL_ESHUTDOWN:
        return TL_SQLSTATE_ADMIN_SHUTDOWN;
    case TL_EAUTH:
        return TL_SQLSTATE_INVALID_PASSWORD;
    default:
        return TL_SQLSTATE_INTERNAL_ERROR;
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
tl_error_context(struct tl_error *e, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(e->context, sizeof(e->context), fmt, ap);
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

void
tl_error_object(struct tl_error *e, const char *table, const char *constraint)
{
    if (e == NULL)
        return;
    snprintf(e->table, sizeof(e->table), "%s", table != NULL ? table : "");
    snprintf(e->constraint, sizeof(e->constraint), "%s",
             constraint != NULL ? constraint : "");
}
