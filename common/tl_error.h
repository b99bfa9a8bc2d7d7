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
#include <stdint.h>

/* name, number, text. The numbers travel on the wire (Error.code) and
 * are written in logs: stored, never renumber; a new code takes the next
 * free number. */
#define TL_ERRNO_MAP(X)                                                        \
    X(NOMEM, 1, "out of memory")                                               \
    X(INVAL, 2, "invalid argument")                                            \
    X(IO, 3, "input/output error")                                             \
    X(CORRUPT, 4, "corrupt data")                                              \
    X(NOTFOUND, 5, "not found")                                                \
    X(EXISTS, 6, "already exists")                                             \
    X(TIMEOUT, 7, "timed out")                                                 \
    X(UNAVAILABLE, 8, "unavailable")                                           \
    X(NOTLEADER, 9, "not the leader")                                          \
    X(CONFLICT, 10, "write conflict")                                          \
    X(TYPE, 11, "invalid value for type")                                      \
    X(OVERFLOW, 12, "value out of range")                                      \
    X(DIVZERO, 13, "division by zero")                                         \
    X(TOOLONG, 14, "value too long")                                           \
    X(NOTNULL, 15, "null value in not-null column")                            \
    X(DUPKEY, 16, "duplicate key")                                             \
    X(TOOBIG, 17, "message too big")                                           \
    X(PROTO, 18, "protocol violation")                                         \
    X(SYNTAX, 19, "syntax error")                                              \
    X(UNSUPPORTED, 20, "feature not supported")                                \
    X(SHUTDOWN, 21, "shutting down")                                           \
    X(STALE, 22, "stale shard map version")                                    \
    X(SQL, 23, "SQL error")                                                    \
    X(LOCKED, 24, "locked by a transaction")                                   \
    X(AUTH, 25, "authentication failed")

enum {
    TL_OK = 0,
#define TL__X(name, num, text) TL_E##name = -(num),
    TL_ERRNO_MAP(TL__X)
#undef TL__X
};

/** Text of error code @rv (0 or a TL_E* code). Cannot fail. */
const char *tl_strerror(int rv);

/** The SQLSTATE a client should see for code @rv when no report says
 * better (e.g. TL_EOVERFLOW -> TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE, from
 * common/base/sqlstate.h). Cannot fail. */
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
    char context[256]; /* where it happened ("COPY t, line 3") */
    /* The object the error is about (PostgreSQL's TABLE NAME and
     * CONSTRAINT NAME fields; the schema is public when a table is
     * named): empty when none. */
    char table[64];
    char constraint[64];
    int position;
    bool outcome_unknown;
    bool in_progress; /* with outcome_unknown: still being applied where it
                         was sent; a retry there waits for it */
    /* TL_ELOCKED: the transaction whose row lock stopped the operation
     * (start timestamp, shard of its record), 0 when unknown. */
    uint64_t lock_ts;
    uint32_t lock_shard;
};

/** Clear @e. Cannot fail. */
void tl_error_clear(struct tl_error *e);

/** Fill @e (if not NULL) with @sqlstate (a TL_SQLSTATE_* code from
 * common/base/sqlstate.h) and a printf-style message; clears detail, hint
 * and position. Returns @rv so callers can write `return tl_error_set(err,
 * TL_ETYPE, TL_SQLSTATE_INVALID_TEXT_REPRESENTATION, "...")`. */
int tl_error_set(struct tl_error *e, int rv, const char *sqlstate,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Set the detail of @e (if not NULL), printf-style. Cannot fail. */
void tl_error_detail(struct tl_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Set the hint of @e (if not NULL), printf-style. Cannot fail. */
void tl_error_hint(struct tl_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Set the context of @e (if not NULL), printf-style: PostgreSQL's
 * CONTEXT line. Cannot fail. */
void tl_error_context(struct tl_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Name the table and constraint (may be NULL) @e is about: the
 * ErrorResponse's schema, table and constraint fields. Cannot fail. */
void tl_error_object(struct tl_error *e, const char *table,
                     const char *constraint);

/** True when @e holds a report. */
static inline int
tl_error_is_set(const struct tl_error *e)
{
    return e->sqlstate[0] != '\0';
}

#endif
