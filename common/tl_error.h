/* tl_error — error codes and PostgreSQL-style error reports.
 *
 * Fallible functions return 0 or a negative TL_E* code. The codes are
 * defined once in TL_ERRNO_MAP, which also yields tl_strerror(). Where a
 * failure must reach a SQL client, the function also fills a struct
 * tl_error (SQLSTATE, message, detail, hint, cursor position) that the
 * router sends as an ErrorResponse; callers that do not need the report
 * pass NULL. */
#ifndef TL_ERROR_H
#define TL_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define TL_ERRNO_MAP(X)                                                        \
    X(NOMEM, "out of memory")                                                  \
    X(INVAL, "invalid argument")                                               \
    X(IO, "input/output error")                                                \
    X(CORRUPT, "corrupt data")                                                 \
    X(NOTFOUND, "not found")                                                   \
    X(EXISTS, "already exists")                                                \
    X(TIMEOUT, "timed out")                                                    \
    X(UNAVAILABLE, "unavailable")                                              \
    X(NOTLEADER, "not the leader")                                             \
    X(CONFLICT, "write conflict")                                              \
    X(TYPE, "invalid value for type")                                          \
    X(OVERFLOW, "value out of range")                                          \
    X(DIVZERO, "division by zero")                                             \
    X(TOOLONG, "value too long")                                               \
    X(NOTNULL, "null value in not-null column")                                \
    X(DUPKEY, "duplicate key")                                                 \
    X(TOOBIG, "message too big")                                               \
    X(PROTO, "protocol violation")                                             \
    X(SYNTAX, "syntax error")                                                  \
    X(UNSUPPORTED, "feature not supported")                                    \
    X(SHUTDOWN, "shutting down")                                               \
    X(STALE, "stale shard map version")                                        \
    X(SQL, "SQL error")

enum tl_errno_index {
    TL__EFIRST = 0,
#define TL__X(name, text) TL__IDX_##name,
    TL_ERRNO_MAP(TL__X)
#undef TL__X
        TL__ELAST
};

enum {
    TL_OK = 0,
#define TL__X(name, text) TL_E##name = -TL__IDX_##name,
    TL_ERRNO_MAP(TL__X)
#undef TL__X
};

/** Text of error code @rv (0 or a TL_E* code). Cannot fail. */
const char *tl_strerror(int rv);

/** The SQLSTATE a client should see for code @rv when no report says
 * better (e.g. TL_EOVERFLOW -> "22003"). Cannot fail. */
const char *tl_errno_sqlstate(int rv);

#define TL_ERROR_MSG_MAX 512

/* A PostgreSQL-style error report. Empty strings mean "absent";
 * position is a 1-based character offset into the query, 0 if none.
 * outcome_unknown: the failed operation may still take effect (a write
 * that reached Raft but was not confirmed); retrying it is safe only when
 * it is deduplicated. tl_error_set() clears it. */
struct tl_error {
    char sqlstate[6];
    char message[TL_ERROR_MSG_MAX];
    char detail[TL_ERROR_MSG_MAX];
    char hint[256];
    int position;
    bool outcome_unknown;
    bool in_progress; /* with outcome_unknown: still being applied where it
                         was sent; a retry there waits for it */
};

/** Clear @e. Cannot fail. */
void tl_error_clear(struct tl_error *e);

/** Fill @e (if not NULL) with @sqlstate and a printf-style message; clears
 * detail, hint and position. Returns @rv so callers can write
 * `return tl_error_set(err, TL_ETYPE, "22P02", "...")`. */
int tl_error_set(struct tl_error *e, int rv, const char *sqlstate,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Set the detail of @e (if not NULL), printf-style. Cannot fail. */
void tl_error_detail(struct tl_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Set the hint of @e (if not NULL), printf-style. Cannot fail. */
void tl_error_hint(struct tl_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** True when @e holds a report. */
static inline int
tl_error_is_set(const struct tl_error *e)
{
    return e->sqlstate[0] != '\0';
}

#endif
