/* scalar — built-in scalar functions of one row's values (lower, upper,
 * length, trim, substring, replace, abs, ...), evaluated by routers and
 * nodes alike as TL_EXPR_FUNC nodes (common/expr.h), so a filter that
 * calls them runs on the shards.
 *
 * Function ids travel on the wire: never renumber. Text functions count
 * characters of UTF-8 text, as PostgreSQL does in a UTF8 database; case
 * mapping is the C.UTF-8 locale's (towupper/towlower), as PostgreSQL's in a
 * database created with LC_CTYPE C.UTF-8. */
#ifndef TL_SCALAR_H
#define TL_SCALAR_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "tl_error.h"
#include "value.h"

/* On the wire: never renumber. */
enum tl_func {
    TL_FUNC_LOWER = 1,
    TL_FUNC_UPPER = 2,
    TL_FUNC_LENGTH = 3,       /* characters */
    TL_FUNC_OCTET_LENGTH = 4, /* bytes */
    TL_FUNC_BTRIM = 5,        /* (s [, chars]) */
    TL_FUNC_LTRIM = 6,
    TL_FUNC_RTRIM = 7,
    TL_FUNC_SUBSTR = 8,  /* (s, from [, count]) in characters */
    TL_FUNC_REPLACE = 9, /* (s, from, to) */
    TL_FUNC_STRPOS = 10, /* (s, sub): 1-based character position, 0 */
    TL_FUNC_ABS = 11,
    TL_FUNC_LEFT = 12,  /* (s, n): n < 0 drops |n| from the end */
    TL_FUNC_RIGHT = 13, /* (s, n) */
    TL_FUNC_REPEAT = 14,
    TL_FUNC_CONCAT = 15,          /* concat(...): NULLs skipped, never NULL */
    TL_FUNC_GEN_RANDOM_UUID = 16, /* (): a version 4 uuid, new per call */
    TL_FUNC_JSON_TYPEOF = 17,
    TL_FUNC_JSONB_TYPEOF = 18,
    TL_FUNC_JSON_ARRAY_LENGTH = 19,
    TL_FUNC_JSONB_ARRAY_LENGTH = 20,
    TL_FUNC_TO_JSON = 21,          /* of a scalar */
    TL_FUNC_TO_JSONB = 22,         /* of a scalar */
    TL_FUNC_JUSTIFY_DAYS = 23,     /* (interval) */
    TL_FUNC_JUSTIFY_HOURS = 24,    /* (interval) */
    TL_FUNC_JUSTIFY_INTERVAL = 25, /* (interval) */
    TL_FUNC_AGE = 26,              /* (timestamp, timestamp) */
    TL_FUNC_DATE_PART = 27,        /* (field, datetime or interval): float8 */
    TL_FUNC_EXTRACT = 28,          /* EXTRACT(field FROM ...): numeric */
    TL_FUNC_DATE_TRUNC = 29,       /* (field, timestamp[tz] or date) */
};
#define TL_FUNC_MAX TL_FUNC_DATE_TRUNC

/* What a function takes and returns. */
struct tl_func_sig {
    const char *name;
    uint8_t id;       /* enum tl_func */
    uint8_t min_args; /* arguments */
    uint8_t max_args; /* 255: any number */
    const char *args; /* per argument: 't' text, 'b' text or bytea (bytes
                         counted, not characters, for a bytea), 'i' integer,
                         'n' number, 'j' json, 'J' jsonb, 'v' interval,
                         'T' a date or timestamp (an unknown literal read as
                         timestamptz), 'X' as 'T' or an interval, '*' anything
                         (text output), 'a' any typed value (anyelement: an
                         unknown literal is 42804); "" none */
    uint8_t result;   /* result type; TL_TYPE_UNKNOWN: the first argument's */
    bool strict;      /* NULL argument -> NULL result */
    bool is_volatile; /* a new result per call: never folded into a
                         constant, evaluated once per row */
};

/** The function called @name (lowercase) taking @n_args arguments, or
 * NULL. Cannot fail. */
const struct tl_func_sig *tl_func_find(const char *name, uint32_t n_args);
/** The signature of function @id, or NULL. Cannot fail. */
const struct tl_func_sig *tl_func_by_id(uint8_t id);

/** Apply function @id to @args[0..n) (typed as its signature says) into
 * *@out of type @type; text, uuid and bytea results in @a. length() and
 * octet_length() of a bytea count its bytes. gen_random_uuid() reads the
 * kernel's random source (getrandom). Errors as PostgreSQL's:
 * 22003 for abs() of the smallest integer, 22011 "negative substring
 * length not allowed", 54000 for a repeat() result over 1 GiB. */
int tl_func_eval(uint8_t id, uint8_t type, const struct tl_value *args,
                 uint32_t n, struct tl_arena *a, struct tl_value *out,
                 struct tl_error *err);

#endif
