#include "value.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "datetime.h"
#include "interval.h"
#include "json.h"
#include "numeric.h"

const char *
tl_type_name(uint8_t type)
{
    switch (type) {
    case TL_TYPE_UNKNOWN:
        return "unknown";
    case TL_TYPE_BOOL:
        return "boolean";
    case TL_TYPE_INT2:
        return "smallint";
    case TL_TYPE_INT4:
        return "integer";
    case TL_TYPE_INT8:
        return "bigint";
    case TL_TYPE_FLOAT8:
        return "double precision";
    case TL_TYPE_FLOAT4:
        return "real";
    case TL_TYPE_TEXT:
        return "text";
    case TL_TYPE_VARCHAR:
        return "character varying";
    case TL_TYPE_BPCHAR:
        return "character";
    case TL_TYPE_TIMESTAMPTZ:
        return "timestamp with time zone";
    case TL_TYPE_TIMESTAMP:
        return "timestamp without time zone";
    case TL_TYPE_DATE:
        return "date";
    case TL_TYPE_NUMERIC:
        return "numeric";
    case TL_TYPE_UUID:
        return "uuid";
    case TL_TYPE_BYTEA:
        return "bytea";
    case TL_TYPE_JSON:
        return "json";
    case TL_TYPE_JSONB:
        return "jsonb";
    case TL_TYPE_INTERVAL:
        return "interval";
    default:
        return "???";
    }
}

uint32_t
tl_type_oid(uint8_t type)
{
    switch (type) {
    case TL_TYPE_BOOL:
        return 16;
    case TL_TYPE_INT2:
        return 21;
    case TL_TYPE_INT4:
        return 23;
    case TL_TYPE_INT8:
        return 20;
    case TL_TYPE_FLOAT8:
        return 701;
    case TL_TYPE_FLOAT4:
        return 700;
    case TL_TYPE_VARCHAR:
        return 1043;
    case TL_TYPE_BPCHAR:
        return 1042;
    case TL_TYPE_TIMESTAMPTZ:
        return 1184;
    case TL_TYPE_TIMESTAMP:
        return 1114;
    case TL_TYPE_DATE:
        return 1082;
    case TL_TYPE_NUMERIC:
        return 1700;
    case TL_TYPE_UUID:
        return 2950;
    case TL_TYPE_BYTEA:
        return 17;
    case TL_TYPE_JSON:
        return 114;
    case TL_TYPE_JSONB:
        return 3802;
    case TL_TYPE_INTERVAL:
        return 1186;
    case TL_TYPE_TEXT:
    case TL_TYPE_UNKNOWN:
    default:
        return 25;
    }
}

int
tl_type_from_oid(uint32_t oid, uint8_t *type)
{
    if (oid == 0 || oid == 705) {
        *type = TL_TYPE_UNKNOWN;
        return 0;
    }
    for (uint8_t t = TL_TYPE_BOOL; t <= TL_TYPE_MAX; t++)
        if (tl_type_is_known(t) && tl_type_oid(t) == oid) {
            *type = t;
            return 0;
        }
    return TL_ENOTFOUND;
}

bool
tl_type_is_known(uint8_t t)
{
    switch (t) {
    case TL_TYPE_UNKNOWN:
    case TL_TYPE_BOOL:
    case TL_TYPE_INT2:
    case TL_TYPE_INT4:
    case TL_TYPE_INT8:
    case TL_TYPE_FLOAT8:
    case TL_TYPE_TEXT:
    case TL_TYPE_VARCHAR:
    case TL_TYPE_TIMESTAMPTZ:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_DATE:
    case TL_TYPE_BPCHAR:
    case TL_TYPE_FLOAT4:
    case TL_TYPE_NUMERIC:
    case TL_TYPE_UUID:
    case TL_TYPE_BYTEA:
    case TL_TYPE_JSON:
    case TL_TYPE_JSONB:
    case TL_TYPE_INTERVAL:
        return true;
    default:
        return false;
    }
}

int16_t
tl_type_len(uint8_t type)
{
    switch (type) {
    case TL_TYPE_UUID:
    case TL_TYPE_INTERVAL:
        return 16;
    case TL_TYPE_BOOL:
        return 1;
    case TL_TYPE_INT2:
        return 2;
    case TL_TYPE_INT4:
    case TL_TYPE_DATE:
    case TL_TYPE_FLOAT4:
        return 4;
    case TL_TYPE_INT8:
    case TL_TYPE_FLOAT8:
    case TL_TYPE_TIMESTAMPTZ:
    case TL_TYPE_TIMESTAMP:
        return 8;
    default:
        return -1;
    }
}

int
tl_type_from_name(const char *name, uint8_t *type)
{
    static const struct {
        const char *name;
        uint8_t type;
    } names[] = {
        {"int8", TL_TYPE_INT8},
        {"bigint", TL_TYPE_INT8},
        {"int4", TL_TYPE_INT4},
        {"int", TL_TYPE_INT4},
        {"integer", TL_TYPE_INT4},
        {"int2", TL_TYPE_INT2},
        {"smallint", TL_TYPE_INT2},
        {"text", TL_TYPE_TEXT},
        {"varchar", TL_TYPE_VARCHAR},
        {"character varying", TL_TYPE_VARCHAR},
        {"bpchar", TL_TYPE_BPCHAR},
        {"character", TL_TYPE_BPCHAR},
        {"bool", TL_TYPE_BOOL},
        {"boolean", TL_TYPE_BOOL},
        {"float8", TL_TYPE_FLOAT8},
        {"double precision", TL_TYPE_FLOAT8},
        {"float4", TL_TYPE_FLOAT4},
        {"real", TL_TYPE_FLOAT4},
        {"timestamptz", TL_TYPE_TIMESTAMPTZ},
        {"timestamp with time zone", TL_TYPE_TIMESTAMPTZ},
        {"timestamp", TL_TYPE_TIMESTAMP},
        {"timestamp without time zone", TL_TYPE_TIMESTAMP},
        {"date", TL_TYPE_DATE},
        {"numeric", TL_TYPE_NUMERIC},
        {"decimal", TL_TYPE_NUMERIC},
        {"uuid", TL_TYPE_UUID},
        {"bytea", TL_TYPE_BYTEA},
        {"json", TL_TYPE_JSON},
        {"jsonb", TL_TYPE_JSONB},
        {"interval", TL_TYPE_INTERVAL},
    };

    if (strncasecmp(name, "pg_catalog.", 11) == 0)
        name += 11;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *type = names[i].type;
            return 0;
        }
    }
    return TL_EUNSUPPORTED;
}

void
tl_type_int_range(uint8_t type, int64_t *min, int64_t *max)
{
    switch (type) {
    case TL_TYPE_INT2:
        *min = INT16_MIN;
        *max = INT16_MAX;
        break;
    case TL_TYPE_INT4:
        *min = INT32_MIN;
        *max = INT32_MAX;
        break;
    default:
        *min = INT64_MIN;
        *max = INT64_MAX;
        break;
    }
}

/* ------------------------------------------------------------ output */

/* Shortest decimal digits of finite @d that read back to @d: fills
 * @digits (no dot, no trailing zeros, NUL-terminated) and the decimal
 * exponent of the first digit. For normal numbers, rounding to 15
 * significant digits gives the shortest form padded with zeros whenever
 * one of at most 15 digits exists (DBL_DIG), so trying 15, 16, 17 digits
 * suffices; subnormals have less precision and are searched from 1. */
static void
format_shortest(double d, bool is_float4, char *digits, int *exp10)
{
    char tmp[40];
    /* A float needs at most 9 digits and has 6 safe ones (FLT_DIG). */
    int max = is_float4 ? 8 : 16;
    int prec =
        is_float4 ? (fabs(d) < FLT_MIN ? 0 : 5) : (fabs(d) < DBL_MIN ? 0 : 14);

    for (; prec < max; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
        if (is_float4 ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
            break;
    }
    if (prec == max)
        snprintf(tmp, sizeof(tmp), "%.*e", prec, d);

    const char *p = tmp;
    size_t n = 0;
    if (*p == '-')
        p++;
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *exp10 = atoi(p + 1);
}

static void
format_float(double d, bool is_float4, struct tl_buf *out)
{
    char digits[24];
    int exp10;

    if (isnan(d)) {
        tl_buf_append(out, "NaN", 3);
        return;
    }
    if (isinf(d)) {
        if (d < 0)
            tl_buf_append(out, "-Infinity", 9);
        else
            tl_buf_append(out, "Infinity", 8);
        return;
    }
    if (signbit(d))
        tl_buf_append_u8(out, '-');
    format_shortest(d, is_float4, digits, &exp10);
    int n = (int)strlen(digits);

    /* PostgreSQL 12+ (Ryu): fixed notation for exponents in [-4, 15),
     * [-4, 6) for real. */
    if (exp10 < -4 || exp10 >= (is_float4 ? 6 : 15)) {
        tl_buf_append_u8(out, (uint8_t)digits[0]);
        if (n > 1) {
            tl_buf_append_u8(out, '.');
            tl_buf_append(out, digits + 1, (size_t)n - 1);
        }
        tl_buf_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+',
                      exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 < 0) {
        tl_buf_append(out, "0.", 2);
        for (int i = 0; i < -exp10 - 1; i++)
            tl_buf_append_u8(out, '0');
        tl_buf_append(out, digits, (size_t)n);
    } else if (n <= exp10 + 1) {
        tl_buf_append(out, digits, (size_t)n);
        for (int i = n; i < exp10 + 1; i++)
            tl_buf_append_u8(out, '0');
    } else {
        tl_buf_append(out, digits, (size_t)exp10 + 1);
        tl_buf_append_u8(out, '.');
        tl_buf_append(out, digits + exp10 + 1, (size_t)(n - exp10 - 1));
    }
}

static const char hex_digits[] = "0123456789abcdef";

/* uuid_out: lowercase, hyphens after the 4th, 6th, 8th and 10th bytes. */
static void
format_uuid(const uint8_t *p, struct tl_buf *out)
{
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            tl_buf_append_u8(out, '-');
        tl_buf_append_u8(out, (uint8_t)hex_digits[p[i] >> 4]);
        tl_buf_append_u8(out, (uint8_t)hex_digits[p[i] & 0xf]);
    }
}

/* byteaout with bytea_output = hex. */
static void
format_bytea(const uint8_t *p, uint32_t len, struct tl_buf *out)
{
    tl_buf_append(out, "\\x", 2);
    for (uint32_t i = 0; i < len; i++) {
        tl_buf_append_u8(out, (uint8_t)hex_digits[p[i] >> 4]);
        tl_buf_append_u8(out, (uint8_t)hex_digits[p[i] & 0xf]);
    }
}

void
tl_value_to_text(const struct tl_value *v, struct tl_buf *out)
{
    switch (v->type) {
    case TL_TYPE_BOOL:
        tl_buf_append_u8(out, v->u.b ? 't' : 'f');
        break;
    case TL_TYPE_INT2:
    case TL_TYPE_INT4:
    case TL_TYPE_INT8:
        tl_buf_printf(out, "%lld", (long long)v->u.i);
        break;
    case TL_TYPE_FLOAT8:
    case TL_TYPE_FLOAT4:
        format_float(v->u.f, v->type == TL_TYPE_FLOAT4, out);
        break;
    case TL_TYPE_TIMESTAMPTZ:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_DATE:
        tl_datetime_format(v->type, v->u.i, out);
        break;
    case TL_TYPE_UUID:
        assert(v->u.s.len == 16);
        format_uuid((const uint8_t *)v->u.s.p, out);
        break;
    case TL_TYPE_BYTEA:
        format_bytea((const uint8_t *)v->u.s.p, v->u.s.len, out);
        break;
    case TL_TYPE_INTERVAL:
        tl_interval_format(&v->u.iv, out);
        break;
    default:
        tl_buf_append(out, v->u.s.p, v->u.s.len);
        break;
    }
}

/* ------------------------------------------------------------- input */

static int
report_syntax(struct tl_error *err, uint8_t type, const char *s, size_t len)
{
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_INVALID_TEXT_REPRESENTATION,
                        "invalid input syntax for type %s: \"%.*s\"",
                        tl_type_name(type), (int)len, s);
}

static bool
is_space(char c)
{
    return isspace((unsigned char)c) != 0;
}

/* Like PostgreSQL 15's pg_strtoint64: decimal only, surrounding
 * whitespace allowed, overflow reported before trailing junk. */
static int
parse_int(uint8_t type, const char *s, size_t len, int64_t *out,
          struct tl_error *err)
{
    int64_t min, max;
    size_t i = 0;
    bool neg = false;
    uint64_t acc = 0, limit;

    tl_type_int_range(type, &min, &max);
    while (i < len && is_space(s[i]))
        i++;
    if (i < len && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        i++;
    }
    if (i >= len || !isdigit((unsigned char)s[i]))
        return report_syntax(err, type, s, len);
    limit = neg ? (uint64_t)0 - (uint64_t)min : (uint64_t)max;
    while (i < len && isdigit((unsigned char)s[i])) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (acc > (limit - d) / 10)
            return tl_error_set(err, TL_EOVERFLOW,
                                TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                                "value \"%.*s\" is out of range for type %s",
                                (int)len, s, tl_type_name(type));
        acc = acc * 10 + d;
        i++;
    }
    while (i < len && is_space(s[i]))
        i++;
    if (i != len)
        return report_syntax(err, type, s, len);
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

/* Like PostgreSQL's float8in: strtod, plus the special words, and range
 * errors only for overflow or a non-zero input that underflows to 0. */
static int
parse_float(uint8_t type, const char *s, size_t len, double *out,
            struct tl_error *err)
{
    char stack[128];
    char *copy = stack, *end;
    size_t i = 0, j;
    double d;
    int rv = 0;

    if (len >= sizeof(stack)) {
        copy = malloc(len + 1);
        if (copy == NULL)
            abort();
    }
    if (len > 0)
        memcpy(copy, s, len);
    copy[len] = '\0';

    while (i < len && is_space(copy[i]))
        i++;
    if (i == len) {
        rv = report_syntax(err, type, s, len);
        goto out;
    }
    errno = 0;
    /* float4in reads with strtof: a real rounds once, from the text. */
    d = type == TL_TYPE_FLOAT4 ? (double)strtof(copy + i, &end)
                               : strtod(copy + i, &end);
    if (end == copy + i) {
        rv = report_syntax(err, type, s, len);
        goto out;
    }
    if (errno == ERANGE && (d == 0.0 || isinf(d))) {
        rv = tl_error_set(
            err, TL_EOVERFLOW, TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
            "\"%.*s\" is out of range for type %s", (int)(end - (copy + i)),
            copy + i, tl_type_name(type));
        goto out;
    }
    j = (size_t)(end - copy);
    while (j < len && is_space(copy[j]))
        j++;
    if (j != len) {
        rv = report_syntax(err, type, s, len);
        goto out;
    }
    if (isnan(d))
        d = NAN;
    *out = d;
out:
    if (copy != stack)
        free(copy);
    return rv;
}

/* PostgreSQL's parse_bool_with_len on the trimmed input. */
static int
parse_bool(const char *s, size_t len, bool *out, struct tl_error *err)
{
    const char *p = s;
    size_t n = len;

    while (n > 0 && is_space(*p)) {
        p++;
        n--;
    }
    while (n > 0 && is_space(p[n - 1]))
        n--;
    if (n == 0)
        goto bad;
    switch (*p) {
    case 't':
    case 'T':
        if (n <= 4 && strncasecmp(p, "true", n) == 0) {
            *out = true;
            return 0;
        }
        break;
    case 'f':
    case 'F':
        if (n <= 5 && strncasecmp(p, "false", n) == 0) {
            *out = false;
            return 0;
        }
        break;
    case 'y':
    case 'Y':
        if (n <= 3 && strncasecmp(p, "yes", n) == 0) {
            *out = true;
            return 0;
        }
        break;
    case 'n':
    case 'N':
        if (n <= 2 && strncasecmp(p, "no", n) == 0) {
            *out = false;
            return 0;
        }
        break;
    case 'o':
    case 'O':
        /* "o" alone is ambiguous */
        if (n >= 2 && n <= 2 && strncasecmp(p, "on", n) == 0) {
            *out = true;
            return 0;
        }
        if (n >= 2 && n <= 3 && strncasecmp(p, "off", n) == 0) {
            *out = false;
            return 0;
        }
        break;
    case '1':
        if (n == 1) {
            *out = true;
            return 0;
        }
        break;
    case '0':
        if (n == 1) {
            *out = false;
            return 0;
        }
        break;
    default:
        break;
    }
bad:
    return report_syntax(err, TL_TYPE_BOOL, s, len);
}

/* Byte length of the first @nchars UTF-8 characters of @s, or @len when
 * @s is not longer than that. */
static size_t
utf8_prefix_len(const char *s, size_t len, size_t nchars)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == nchars)
                return i;
            chars++;
        }
    }
    return len;
}

/* varchar(n) and character(n) as PostgreSQL enforces them: too-long
 * values are an error unless the excess is only spaces, which are cut
 * off. */
static int
check_length(uint8_t type, int32_t typmod, const char *s, size_t *len,
             struct tl_error *err)
{
    if (typmod < 0)
        return 0;
    size_t keep = utf8_prefix_len(s, *len, (size_t)typmod);
    if (keep == *len)
        return 0;
    for (size_t i = keep; i < *len; i++)
        if (s[i] != ' ')
            return tl_error_set(err, TL_ETOOLONG,
                                TL_SQLSTATE_STRING_DATA_RIGHT_TRUNCATION,
                                "value too long for type %s(%d)",
                                tl_type_name(type), (int)typmod);
    *len = keep;
    return 0;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* PostgreSQL's string_to_uuid(): 32 hex digits, optionally in braces, a
 * hyphen allowed after any even-numbered byte but the last; nothing else,
 * not even spaces. */
static int
parse_uuid(const char *s, size_t len, struct tl_arena *a, struct tl_value *out,
           struct tl_error *err)
{
    uint8_t b[16];
    size_t i = 0;
    bool braces = len > 0 && s[0] == '{';

    if (braces)
        i++;
    for (int k = 0; k < 16; k++) {
        if (len - i < 2)
            return report_syntax(err, TL_TYPE_UUID, s, len);
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return report_syntax(err, TL_TYPE_UUID, s, len);
        b[k] = (uint8_t)(hi << 4 | lo);
        i += 2;
        if (i < len && s[i] == '-' && k % 2 == 1 && k < 15)
            i++;
    }
    if (braces) {
        if (i >= len || s[i] != '}')
            return report_syntax(err, TL_TYPE_UUID, s, len);
        i++;
    }
    if (i != len)
        return report_syntax(err, TL_TYPE_UUID, s, len);
    *out = tl_value_text_dup(a, TL_TYPE_UUID, b, sizeof(b));
    return 0;
}

/* Length in bytes of the UTF-8 character at @s (PostgreSQL's pg_mblen),
 * at most @len. */
static size_t
mb_len(const char *s, size_t len)
{
    unsigned char c = (unsigned char)*s;
    size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return n < len ? n : len;
}

/* PostgreSQL's hex_decode() of the digits after "\x": pairs of hex digits,
 * whitespace skipped between pairs. */
static int
parse_bytea_hex(const char *s, size_t len, struct tl_arena *a,
                struct tl_value *out, struct tl_error *err)
{
    uint8_t *b = tl_arena_alloc(a, len / 2 + 1);
    size_t n = 0;

    for (size_t i = 0; i < len;) {
        if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
            i++;
            continue;
        }
        int hi = hex_value(s[i]);
        if (hi < 0)
            goto bad_digit;
        if (++i >= len)
            return tl_error_set(err, TL_ETYPE,
                                TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                                "invalid hexadecimal data: odd number of "
                                "digits");
        int lo = hex_value(s[i]);
        if (lo < 0)
            goto bad_digit;
        i++;
        b[n++] = (uint8_t)(hi << 4 | lo);
        continue;
    bad_digit:
        return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "invalid hexadecimal digit: \"%.*s\"",
                            (int)mb_len(s + i, len - i), s + i);
    }
    *out = tl_value_text(TL_TYPE_BYTEA, (const char *)b, (uint32_t)n);
    return 0;
}

static bool
is_octal(char c, char max)
{
    return c >= '0' && c <= max;
}

/* PostgreSQL's byteain(): the hex format after "\x", else the escape
 * format, where a backslash starts \\ or \ooo (first digit 0-3). */
static int
parse_bytea(const char *s, size_t len, struct tl_arena *a, struct tl_value *out,
            struct tl_error *err)
{
    if (len >= 2 && s[0] == '\\' && s[1] == 'x')
        return parse_bytea_hex(s + 2, len - 2, a, out, err);
    uint8_t *b = tl_arena_alloc(a, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] != '\\') {
            b[n++] = (uint8_t)s[i++];
        } else if (len - i >= 4 && is_octal(s[i + 1], '3') &&
                   is_octal(s[i + 2], '7') && is_octal(s[i + 3], '7')) {
            b[n++] = (uint8_t)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
                               (s[i + 3] - '0'));
            i += 4;
        } else if (len - i >= 2 && s[i + 1] == '\\') {
            b[n++] = '\\';
            i += 2;
        } else {
            return tl_error_set(err, TL_ETYPE,
                                TL_SQLSTATE_INVALID_TEXT_REPRESENTATION,
                                "invalid input syntax for type bytea");
        }
    }
    *out = tl_value_text(TL_TYPE_BYTEA, (const char *)b, (uint32_t)n);
    return 0;
}

int
tl_value_from_text(uint8_t type, int32_t typmod, const char *s, size_t len,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err)
{
    int rv;

    switch (type) {
    case TL_TYPE_NUMERIC:
        assert(a != NULL);
        return tl_numeric_from_text(s, len, typmod, a, out, err);
    case TL_TYPE_BOOL: {
        bool b = false;
        if ((rv = parse_bool(s, len, &b, err)) != 0)
            return rv;
        *out = tl_value_bool(b);
        return 0;
    }
    case TL_TYPE_INT2:
    case TL_TYPE_INT4:
    case TL_TYPE_INT8: {
        int64_t i = 0;
        if ((rv = parse_int(type, s, len, &i, err)) != 0)
            return rv;
        *out = tl_value_int(type, i);
        return 0;
    }
    case TL_TYPE_FLOAT8:
    case TL_TYPE_FLOAT4: {
        double d = 0;
        if ((rv = parse_float(type, s, len, &d, err)) != 0)
            return rv;
        *out = tl_value_float(d);
        out->type = type;
        return 0;
    }
    case TL_TYPE_TIMESTAMPTZ:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_DATE: {
        int64_t t = 0;
        if ((rv = tl_datetime_parse(type, s, len, &t, err)) != 0)
            return rv;
        *out = tl_value_int(type, t);
        return 0;
    }
    case TL_TYPE_UUID:
        return parse_uuid(s, len, a, out, err);
    case TL_TYPE_INTERVAL: {
        struct tl_interval iv;
        if ((rv = tl_interval_parse(s, len, typmod, &iv, err)) != 0)
            return rv;
        *out = tl_value_interval(&iv);
        return 0;
    }
    case TL_TYPE_BYTEA:
        if (len > UINT32_MAX)
            return tl_error_set(
                err, TL_ETOOLONG, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                "value too long for type %s", tl_type_name(type));
        return parse_bytea(s, len, a, out, err);
    case TL_TYPE_JSON:
    case TL_TYPE_JSONB:
        assert(a != NULL || type == TL_TYPE_JSON);
        return tl_json_in(type, s, len, a, out, err);
    case TL_TYPE_VARCHAR:
    case TL_TYPE_BPCHAR:
        if ((rv = check_length(type, typmod, s, &len, err)) != 0)
            return rv;
        /* fall through */
    case TL_TYPE_TEXT:
    case TL_TYPE_UNKNOWN:
        if (len > UINT32_MAX)
            return tl_error_set(
                err, TL_ETOOLONG, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                "value too long for type %s", tl_type_name(type));
        *out = tl_value_text(type, s, (uint32_t)len);
        return 0;
    default:
        return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_UNDEFINED_OBJECT,
                            "unknown type %u", (unsigned)type);
    }
}

/* ------------------------------------------------------------- casts */

static int
int_range_error(struct tl_error *err, uint8_t type)
{
    return tl_error_set(err, TL_EOVERFLOW,
                        TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "%s out of range", tl_type_name(type));
}

static int
check_int_range(uint8_t type, int64_t i, struct tl_error *err)
{
    int64_t min, max;
    tl_type_int_range(type, &min, &max);
    if (i < min || i > max)
        return int_range_error(err, type);
    return 0;
}

static bool
is_textual(uint8_t t)
{
    return tl_type_is_text(t) || t == TL_TYPE_UNKNOWN;
}

/* Blank-pad bpchar @v to @typmod characters (copying into @a), as
 * PostgreSQL's bpcharin does; a longer or unlimited value stays. */
static void
pad_bpchar(struct tl_value *v, int32_t typmod, struct tl_arena *a)
{
    size_t chars = 0;
    for (uint32_t i = 0; i < v->u.s.len; i++)
        chars += ((unsigned char)v->u.s.p[i] & 0xC0) != 0x80;
    if (typmod < 0 || chars >= (size_t)typmod)
        return;
    size_t pad = (size_t)typmod - chars;
    char *p = tl_arena_alloc(a, v->u.s.len + pad);
    if (v->u.s.len > 0)
        memcpy(p, v->u.s.p, v->u.s.len);
    memset(p + v->u.s.len, ' ', pad);
    v->u.s.p = p;
    v->u.s.len += (uint32_t)pad;
}

static int cast_value(const struct tl_value *in, uint8_t type, int32_t typmod,
                      struct tl_arena *a, struct tl_value *out,
                      struct tl_error *err);

/* Casts from and to numeric among the numbers (text goes through text
 * I/O before this). */
static int
cast_numeric(const struct tl_value *in, uint8_t type, int32_t typmod,
             struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value n;
    int rv;

    if (in->type == TL_TYPE_NUMERIC) {
        if (type == TL_TYPE_NUMERIC)
            return tl_numeric_apply_typmod(in, typmod, a, out, err);
        if (tl_type_is_int(type)) {
            int64_t i = 0;
            if ((rv = tl_numeric_to_int(in, type, &i, err)) != 0)
                return rv;
            *out = tl_value_int(type, i);
            return 0;
        }
        if (tl_type_is_float(type)) {
            /* numeric_float8: its text read by float8in (float4in). */
            return tl_value_from_text(type, -1, in->u.s.p, in->u.s.len, a, out,
                                      err);
        }
    } else if (tl_type_is_int(in->type)) {
        n = tl_numeric_from_int(in->u.i, a);
        return tl_numeric_apply_typmod(&n, typmod, a, out, err);
    } else if (tl_type_is_float(in->type)) {
        if ((rv = tl_numeric_from_double(in->u.f, in->type == TL_TYPE_FLOAT4, a,
                                         &n, err)) != 0)
            return rv;
        return tl_numeric_apply_typmod(&n, typmod, a, out, err);
    }
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_CANNOT_COERCE,
                        "cannot cast type %s to %s", tl_type_name(in->type),
                        tl_type_name(type));
}

int
tl_value_cast(const struct tl_value *in, uint8_t type, int32_t typmod,
              struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value v;
    int rv;

    if (!in->is_null && in->type == TL_TYPE_BPCHAR && type != TL_TYPE_BPCHAR &&
        is_textual(type)) {
        /* bpchar to text or varchar drops the padding (rtrim). */
        v = *in;
        v.u.s.len = tl_value_text_len(in);
        in = &v;
    }
    if ((rv = cast_value(in, type, typmod, a, out, err)) != 0)
        return rv;
    if (type == TL_TYPE_BPCHAR && !out->is_null)
        pad_bpchar(out, typmod, a);
    return 0;
}

int
tl_value_cast_explicit(const struct tl_value *in, uint8_t type, int32_t typmod,
                       struct tl_arena *a, struct tl_value *out,
                       struct tl_error *err)
{
    struct tl_value v;
    int rv;

    if ((type != TL_TYPE_VARCHAR && type != TL_TYPE_BPCHAR) || typmod < 0)
        return tl_value_cast(in, type, typmod, a, out, err);
    if ((rv = tl_value_cast(in, type, -1, a, &v, err)) != 0)
        return rv;
    if (!v.is_null)
        v.u.s.len =
            (uint32_t)utf8_prefix_len(v.u.s.p, v.u.s.len, (size_t)typmod);
    return tl_value_cast(&v, type, typmod, a, out, err);
}

static int
cast_value(const struct tl_value *in, uint8_t type, int32_t typmod,
           struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    int rv;

    if (!tl_type_is_known(type))
        return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_UNDEFINED_OBJECT,
                            "unknown type %u", (unsigned)type);
    if (in->is_null) {
        *out = tl_value_null(type);
        return 0;
    }
    if (is_textual(in->type))
        return tl_value_from_text(type, typmod, in->u.s.p, in->u.s.len, a, out,
                                  err);
    if (is_textual(type)) {
        struct tl_buf b;
        char *p;
        size_t len;

        tl_buf_init(&b);
        /* PostgreSQL's bool -> text cast spells the words out (booltext). */
        if (in->type == TL_TYPE_BOOL)
            tl_buf_printf(&b, "%s", in->u.b ? "true" : "false");
        else
            tl_value_to_text(in, &b);
        len = b.len;
        p = tl_arena_strndup(a, b.data ? (const char *)b.data : "", b.len);
        tl_buf_close(&b);
        return tl_value_from_text(type, typmod, p, len, a, out, err);
    }
    if (tl_type_is_json(in->type) && tl_type_is_json(type))
        return tl_value_from_text(type, typmod, in->u.s.p, in->u.s.len, a, out,
                                  err);
    if (in->type == TL_TYPE_NUMERIC || type == TL_TYPE_NUMERIC)
        return cast_numeric(in, type, typmod, a, out, err);
    if (tl_type_is_int(in->type) && tl_type_is_int(type)) {
        if ((rv = check_int_range(type, in->u.i, err)) != 0)
            return rv;
        *out = tl_value_int(type, in->u.i);
        return 0;
    }
    if (tl_type_is_int(in->type) && type == TL_TYPE_FLOAT8) {
        *out = tl_value_float((double)in->u.i);
        return 0;
    }
    if ((tl_type_is_int(in->type) || tl_type_is_float(in->type)) &&
        type == TL_TYPE_FLOAT4) {
        double d = tl_type_is_int(in->type) ? (double)in->u.i : in->u.f;
        return tl_value_float4_check(d, !isinf(d), d == 0, out, err);
    }
    if (in->type == TL_TYPE_FLOAT4 && type == TL_TYPE_FLOAT8) {
        *out = tl_value_float(in->u.f);
        return 0;
    }
    if (tl_type_is_float(in->type) && tl_type_is_int(type)) {
        /* PostgreSQL rounds with rint(): half to even. */
        double r = rint(in->u.f);
        int64_t min, max;

        tl_type_int_range(type, &min, &max);
        /* (double)max may round up to 2^63, hence the strict bound. */
        if (isnan(r) || r < (double)min || r >= -(double)min)
            return int_range_error(err, type);
        if ((int64_t)r > max)
            return int_range_error(err, type);
        *out = tl_value_int(type, (int64_t)r);
        return 0;
    }
    if (tl_type_is_datetime(in->type) && tl_type_is_datetime(type)) {
        int64_t t = 0;
        if ((rv = tl_datetime_convert(in->type, in->u.i, type, &t, err)) != 0)
            return rv;
        *out = tl_value_int(type, t);
        return 0;
    }
    if (in->type == TL_TYPE_INTERVAL && type == TL_TYPE_INTERVAL) {
        *out = *in;
        return tl_interval_apply_typmod(&out->u.iv, typmod, err);
    }
    if (in->type == type) {
        *out = *in;
        return 0;
    }
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_CANNOT_COERCE,
                        "cannot cast type %s to %s", tl_type_name(in->type),
                        tl_type_name(type));
}

int
tl_value_float4_check(double d, bool inf_is_overflow, bool zero_is_ok,
                      struct tl_value *out, struct tl_error *err)
{
    float f = (float)d;
    if (isinf(f) && inf_is_overflow)
        return tl_error_set(err, TL_EOVERFLOW,
                            TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            "value out of range: overflow");
    if (f == 0 && !zero_is_ok)
        return tl_error_set(err, TL_EOVERFLOW,
                            TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            "value out of range: underflow");
    *out = tl_value_float4(isnan(f) ? NAN : f);
    return 0;
}

/* -------------------------------------------------------- comparison */

bool
tl_type_comparable(uint8_t a, uint8_t b)
{
    if (tl_type_is_numeric(a))
        return tl_type_is_numeric(b);
    if (is_textual(a))
        return is_textual(b);
    if (a == TL_TYPE_BOOL)
        return b == TL_TYPE_BOOL;
    if (tl_type_is_datetime(a))
        return tl_type_is_datetime(b);
    if (a == TL_TYPE_UUID || a == TL_TYPE_BYTEA || a == TL_TYPE_JSONB ||
        a == TL_TYPE_INTERVAL)
        return b == a;
    return false;
}

/* Exact comparison of an integer with a double. */
static int
cmp_int_float(int64_t i, double f)
{
    if (isnan(f))
        return -1;
    if (f >= 9223372036854775808.0)
        return -1;
    if (f < -9223372036854775808.0)
        return 1;
    double di = (double)i;
    if (di < f)
        return -1;
    if (di > f)
        return 1;
    /* di == f: f is integral and in range, so compare exactly. */
    int64_t fi = (int64_t)f;
    return (i > fi) - (i < fi);
}

static int
cmp_float(double a, double b)
{
    if (isnan(a))
        return isnan(b) ? 0 : 1;
    if (isnan(b))
        return -1;
    return (a > b) - (a < b);
}

static uint32_t
trim_spaces(const struct tl_value *v)
{
    uint32_t n = v->u.s.len;
    while (n > 0 && v->u.s.p[n - 1] == ' ')
        n--;
    return n;
}

/* A numeric against another number: exactly against integers and
 * numerics, as float8 against a float (PostgreSQL has no numeric = float8
 * operator: the numeric is cast). */
static int
cmp_numeric(const struct tl_value *a, const struct tl_value *b)
{
    if (a->type == TL_TYPE_NUMERIC && b->type == TL_TYPE_NUMERIC)
        return tl_numeric_cmp(a, b);
    if (a->type != TL_TYPE_NUMERIC)
        return -cmp_numeric(b, a);
    if (tl_type_is_int(b->type))
        return tl_numeric_cmp_int(a, b->u.i);
    char stack[64];
    char *copy = a->u.s.len < sizeof(stack) ? stack : malloc(a->u.s.len + 1);
    if (copy == NULL)
        abort();
    memcpy(copy, a->u.s.p, a->u.s.len);
    copy[a->u.s.len] = '\0';
    /* Past double's range the numeric is an infinity, as its cast would
     * refuse it: order it as one. */
    double d = strtod(copy, NULL);
    if (copy != stack)
        free(copy);
    return cmp_float(d, b->u.f);
}

int
tl_value_cmp(const struct tl_value *a, const struct tl_value *b)
{
    if (a->type == TL_TYPE_NUMERIC || b->type == TL_TYPE_NUMERIC)
        return cmp_numeric(a, b);
    if (tl_type_is_int(a->type)) {
        if (tl_type_is_int(b->type))
            return (a->u.i > b->u.i) - (a->u.i < b->u.i);
        return cmp_int_float(a->u.i, b->u.f);
    }
    if (tl_type_is_float(a->type)) {
        if (tl_type_is_int(b->type))
            return -cmp_int_float(b->u.i, a->u.f);
        return cmp_float(a->u.f, b->u.f);
    }
    if (a->type == TL_TYPE_BOOL)
        return (int)a->u.b - (int)b->u.b;
    if (tl_type_is_datetime(a->type))
        return tl_datetime_cmp(a->type, a->u.i, b->type, b->u.i);
    if (a->type == TL_TYPE_JSONB && b->type == TL_TYPE_JSONB)
        return tl_json_cmp(a, b);
    if (a->type == TL_TYPE_INTERVAL)
        return tl_interval_cmp(&a->u.iv, &b->u.iv);
    uint32_t la = tl_value_text_len(a), lb = tl_value_text_len(b);
    /* PostgreSQL compares bpchar with varchar as bpchar (bpchareq has the
     * more exact match), with text as text (the preferred type). */
    if (a->type == TL_TYPE_BPCHAR && b->type == TL_TYPE_VARCHAR)
        lb = trim_spaces(b);
    else if (a->type == TL_TYPE_VARCHAR && b->type == TL_TYPE_BPCHAR)
        la = trim_spaces(a);
    uint32_t n = la < lb ? la : lb;
    int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
    if (c != 0)
        return c;
    return (la > lb) - (la < lb);
}

int
tl_value_cmp_nulls(const struct tl_value *a, const struct tl_value *b,
                   bool nulls_first)
{
    if (a->is_null || b->is_null) {
        if (a->is_null && b->is_null)
            return 0;
        return (a->is_null ? 1 : -1) * (nulls_first ? -1 : 1);
    }
    return tl_value_cmp(a, b);
}

/* ------------------------------------------------------------ hashing */

static uint64_t
hash_mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

uint64_t
tl_value_hash(uint64_t h, const struct tl_value *v)
{
    if (v->is_null)
        return hash_mix(h, 0x5bd1e995);
    if (v->type == TL_TYPE_NUMERIC) {
        /* by value: 1.0 and 1.00 share the key encoding */
        struct tl_buf b;
        uint64_t x = 1469598103934665603ULL;
        tl_buf_init(&b);
        tl_numeric_key_encode(v, &b);
        for (size_t i = 0; i < b.len; i++)
            x = (x ^ b.data[i]) * 1099511628211ULL;
        tl_buf_close(&b);
        return hash_mix(h, x);
    }
    if (v->type == TL_TYPE_JSONB)
        return hash_mix(h, tl_json_hash(v)); /* by value, as it compares */
    if (tl_type_has_text(v->type)) {
        uint64_t x = 1469598103934665603ULL;
        uint32_t len = tl_value_text_len(v); /* bpchar: no padding */
        for (uint32_t i = 0; i < len; i++)
            x = (x ^ (uint8_t)v->u.s.p[i]) * 1099511628211ULL;
        return hash_mix(h, x);
    }
    if (v->type == TL_TYPE_BOOL)
        return hash_mix(h, v->u.b ? 2 : 1);
    if (tl_type_is_float(v->type)) {
        double d = v->u.f;
        if (d == 0)
            d = 0; /* -0 equals 0 */
        if (d != d)
            return hash_mix(h, 0x7ff8);
        uint64_t x;
        memcpy(&x, &d, sizeof(x));
        return hash_mix(h, x);
    }
    if (v->type == TL_TYPE_INTERVAL) {
        /* by span: '1 mon' equals '30 days' */
        int64_t days, usecs;
        tl_interval_span(&v->u.iv, &days, &usecs);
        return hash_mix(hash_mix(h, (uint64_t)days), (uint64_t)usecs);
    }
    return hash_mix(h, (uint64_t)v->u.i);
}
