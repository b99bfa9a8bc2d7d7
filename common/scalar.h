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
    /* Math: numeric in, numeric out (exact, common/numeric.h); any other
     * number is computed as a double precision. */
    TL_FUNC_ROUND = 30,       /* (x): numeric half away from 0, float8 rint */
    TL_FUNC_ROUND_SCALE = 31, /* (numeric, int) */
    TL_FUNC_CEIL = 32,
    TL_FUNC_FLOOR = 33,
    TL_FUNC_TRUNC = 34,       /* (x) */
    TL_FUNC_TRUNC_SCALE = 35, /* (numeric, int) */
    TL_FUNC_SIGN = 36,
    TL_FUNC_MOD = 37,   /* (a, b): integers or numerics, sign of a */
    TL_FUNC_POWER = 38, /* float8 only so far */
    TL_FUNC_SQRT = 39,
    TL_FUNC_EXP = 40, /* float8 only so far */
    TL_FUNC_LN = 41,  /* float8 only so far */
    TL_FUNC_LOG = 42, /* (x): base 10, float8 only so far */
    TL_FUNC_CBRT = 43,
    TL_FUNC_PI = 44,
    TL_FUNC_DEGREES = 45,
    TL_FUNC_RADIANS = 46,
    TL_FUNC_DIV = 47, /* (numeric, numeric): quotient truncated */
    TL_FUNC_GCD = 48,
    TL_FUNC_LCM = 49,
    /* Text */
    TL_FUNC_CONCAT_WS = 50,   /* (sep, ...): NULLs skipped; NULL sep: NULL */
    TL_FUNC_LPAD = 51,        /* (s, n [, fill]) in characters */
    TL_FUNC_RPAD = 52,        /* (s, n [, fill]) */
    TL_FUNC_SPLIT_PART = 53,  /* (s, delim, n): n < 0 counts from the end */
    TL_FUNC_REVERSE = 54,     /* characters */
    TL_FUNC_INITCAP = 55,     /* C.UTF-8 classes, as lower/upper */
    TL_FUNC_MD5 = 56,         /* (text or bytea): 32 hex digits */
    TL_FUNC_STARTS_WITH = 57, /* (s, prefix): boolean */
    TL_FUNC_TRANSLATE = 58,   /* (s, from, to) */
    TL_FUNC_ASCII = 59,       /* code point of the first character */
    TL_FUNC_CHR = 60,         /* (code point) */
    TL_FUNC_TO_HEX = 61,      /* (integer or bigint) */
    TL_FUNC_RANDOM = 62,      /* (): double precision in [0, 1), per call */
};
#define TL_FUNC_MAX TL_FUNC_RANDOM

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
                         unknown literal is 42804), 'f' double precision or
                         numeric (every 'f' argument of a call becomes
                         numeric when one is numeric and none is a float,
                         double precision otherwise), 'd' double precision,
                         'N' numeric, 'm' integer or numeric (every 'm'
                         argument of a call the same type: numeric if one
                         is, else the widest integer), 'g' as 'm' but at
                         least integer, 'h' integer or bigint; "" none */
    uint8_t result;   /* result type; TL_TYPE_UNKNOWN: the first argument's */
    bool strict;      /* NULL argument -> NULL result */
    bool is_volatile; /* a new result per call: never folded into a
                         constant, evaluated once per row */
};

/** The function called @name (lowercase) taking @n_args arguments, or
 * NULL. Cannot fail. */
const struct tl_func_sig *tl_func_find(const char *name, uint32_t n_args);
/** @p[0..len) in upper (@upper) or lower case, as upper() and lower() map
 * it, in @a. Cannot fail. */
struct tl_value tl_text_case(struct tl_arena *a, const char *p, size_t len,
                             bool upper);
/** The signature of function @id, or NULL. Cannot fail. */
const struct tl_func_sig *tl_func_by_id(uint8_t id);

/** Apply function @id to @args[0..n) (typed as its signature says) into
 * *@out of type @type; text, uuid and bytea results in @a. length() and
 * octet_length() of a bytea count its bytes. gen_random_uuid() reads the
 * kernel's random source (getrandom). Errors as PostgreSQL's:
 * 22003 for abs() of the smallest integer, 22011 "negative substring
 * length not allowed", 54000 for a repeat(), lpad() or rpad() result over
 * 1 GiB; 22012 "division by zero" (mod, div); 2201F "cannot take square
 * root of a negative number" and power()'s domain errors; 2201E "cannot
 * take logarithm of zero" / "of a negative number"; 22003 "value out of
 * range: overflow" / "underflow" for a double precision result, "integer
 * out of range" / "bigint out of range" (gcd, lcm); 22023 "field position
 * must not be zero" (split_part); chr()'s 54000 and 22023; 0A000 for
 * exp(), ln(), log() and power() of a numeric. */
int tl_func_eval(uint8_t id, uint8_t type, const struct tl_value *args,
                 uint32_t n, struct tl_arena *a, struct tl_value *out,
                 struct tl_error *err);

#endif
