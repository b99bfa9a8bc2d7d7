#include "numeric.h"

#include <assert.h>
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"

/* PostgreSQL's limits: a numeric holds at most 131072 digits before the
 * point and 16383 after it; division picks at least 16 significant
 * digits and at most 1000 fraction digits (select_div_scale). */
#define MAX_INT_DIGITS 131072
#define MAX_DSCALE 16383
#define MIN_SIG_DIGITS 16
#define MAX_DISPLAY_SCALE 1000

/* A number being worked on: NaN, an infinity, or value = (-1 if neg) *
 * sum d[i] * 10^(i - scale). d holds the magnitude's decimal digits least
 * significant first, with no high zero digits (n == 0 for zero); scale is the
 * display scale. Digits live in an arena. */
struct num {
    bool nan;
    bool inf; /* an infinity, signed by neg; no digits */
    bool neg;
    int32_t scale;
    uint32_t n;
    uint8_t *d;
};

static void
trim(struct num *x)
{
    while (x->n > 0 && x->d[x->n - 1] == 0)
        x->n--;
    if (x->n == 0)
        x->neg = false;
}

/* The digit of @x at the decimal position @pos (10^pos), 0 outside. */
static int
digit_at(const struct num *x, int64_t pos)
{
    int64_t i = pos + x->scale;
    return i >= 0 && i < (int64_t)x->n ? x->d[i] : 0;
}

/* Decimal exponent of the first digit of nonzero @x. */
static int64_t
lead_exp(const struct num *x)
{
    return (int64_t)x->n - 1 - x->scale;
}

/* ------------------------------------------------------------ parsing */

static int
syntax_error(struct tl_error *err, const char *s, size_t len)
{
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_INVALID_TEXT_REPRESENTATION,
                        "invalid input syntax for type numeric: \"%.*s\"",
                        (int)len, s);
}

static int
format_overflow(struct tl_error *err)
{
    return tl_error_set(err, TL_EOVERFLOW,
                        TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "value overflows numeric format");
}

static bool
is_space(char c)
{
    return isspace((unsigned char)c) != 0;
}

/* Whether [p, end) is @word (any case) followed by nothing but spaces. */
static bool
is_word(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - p) < n || strncasecmp(p, word, n) != 0)
        return false;
    for (p += n; p < end; p++)
        if (!is_space(*p))
            return false;
    return true;
}

/* numeric_in's set_var_from_str over @s, into @x (digits in @a). */
static int
parse_num(const char *s, size_t len, struct tl_arena *a, struct num *x,
          struct tl_error *err)
{
    const char *p = s, *end = s + len;
    const char *first;
    size_t n_digits = 0, n_frac = 0;
    bool point = false;
    long exp10 = 0;

    memset(x, 0, sizeof(*x));
    while (p < end && is_space(*p))
        p++;
    if (is_word(p, end, "NaN")) {
        x->nan = true;
        return 0;
    }
    if (is_word(p, end, "Infinity") || is_word(p, end, "+Infinity") ||
        is_word(p, end, "inf") || is_word(p, end, "+inf")) {
        x->inf = true;
        return 0;
    }
    if (is_word(p, end, "-Infinity") || is_word(p, end, "-inf")) {
        x->inf = true;
        x->neg = true;
        return 0;
    }
    if (p < end && (*p == '+' || *p == '-')) {
        x->neg = *p == '-';
        p++;
    }
    first = p;
    for (; p < end; p++) {
        if (*p == '.') {
            if (point)
                return syntax_error(err, s, len);
            point = true;
        } else if (isdigit((unsigned char)*p)) {
            n_digits++;
            n_frac += point;
        } else {
            break;
        }
    }
    const char *digits_end = p;
    if (n_digits == 0)
        return syntax_error(err, s, len);
    if (p < end && (*p == 'e' || *p == 'E')) {
        /* strtol: spaces and a sign may precede the digits. */
        bool eneg = false, any = false;
        p++;
        while (p < end && is_space(*p))
            p++;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        for (; p < end && isdigit((unsigned char)*p); p++) {
            any = true;
            if (exp10 <= 100000)
                exp10 = exp10 * 10 + (*p - '0');
        }
        if (!any)
            return syntax_error(err, s, len);
        if (eneg)
            exp10 = -exp10;
    }
    while (p < end && is_space(*p))
        p++;
    if (p != end)
        return syntax_error(err, s, len);

    /* value = D * 10^(exp10 - n_frac); scale max(0, n_frac - exp10). */
    long scale = (long)n_frac - exp10;
    if (scale < 0)
        scale = 0;
    long shift = exp10 - (long)n_frac + scale; /* >= 0 */
    if ((long)n_digits + shift - scale > MAX_INT_DIGITS || scale > MAX_DSCALE)
        return format_overflow(err);
    x->scale = (int32_t)scale;
    x->n = (uint32_t)(n_digits + (size_t)shift);
    x->d = tl_arena_alloc(a, x->n ? x->n : 1);
    memset(x->d, 0, (size_t)shift);
    size_t i = (size_t)shift;
    for (const char *q = digits_end; q-- > first;)
        if (*q != '.')
            x->d[i++] = (uint8_t)(*q - '0');
    trim(x);
    return 0;
}

/* Parse canonical text @v (trusted: it came from this module). */
static void
parse_value(const struct tl_value *v, struct tl_arena *a, struct num *x)
{
    const char *p = v->u.s.p, *end = p + v->u.s.len;
    const char *point = NULL;

    memset(x, 0, sizeof(*x));
    if (v->u.s.len == 3 && memcmp(p, "NaN", 3) == 0) {
        x->nan = true;
        return;
    }
    if (p < end && *p == '-') {
        x->neg = true;
        p++;
    }
    if (p < end && *p == 'I') {
        x->inf = true;
        return;
    }
    x->d = tl_arena_alloc(a, (size_t)(end - p) + 1);
    for (const char *q = end; q-- > p;) {
        if (*q == '.') {
            point = q;
            continue;
        }
        x->d[x->n++] = (uint8_t)(*q - '0');
    }
    x->scale = point ? (int32_t)(end - point - 1) : 0;
    trim(x);
}

/* ------------------------------------------------------------- output */

static struct tl_value
make_value(const struct num *x, struct tl_arena *a)
{
    size_t cap = (size_t)x->n + (size_t)x->scale + 4;
    char *buf = tl_arena_alloc(a, cap);
    size_t k = 0;

    if (x->nan) {
        memcpy(buf, "NaN", 3);
        return tl_value_text(TL_TYPE_NUMERIC, buf, 3);
    }
    if (x->inf)
        return x->neg ? tl_value_text(TL_TYPE_NUMERIC, "-Infinity", 9)
                      : tl_value_text(TL_TYPE_NUMERIC, "Infinity", 8);
    if (x->neg && x->n > 0)
        buf[k++] = '-';
    int64_t top = (int64_t)x->n - 1 - x->scale; /* exponent of d[n-1] */
    if (top < 0) {
        buf[k++] = '0';
    } else {
        for (int64_t pos = top; pos >= 0; pos--)
            buf[k++] = (char)('0' + digit_at(x, pos));
    }
    if (x->scale > 0) {
        buf[k++] = '.';
        for (int64_t pos = -1; pos >= -(int64_t)x->scale; pos--)
            buf[k++] = (char)('0' + digit_at(x, pos));
    }
    assert(k <= cap);
    return tl_value_text(TL_TYPE_NUMERIC, buf, (uint32_t)k);
}

/* Check the limits of a result before making it. */
static int
check_limits(const struct num *x, struct tl_error *err)
{
    if (x->nan || x->inf)
        return 0;
    if ((int64_t)x->n - x->scale > MAX_INT_DIGITS || x->scale > MAX_DSCALE)
        return format_overflow(err);
    return 0;
}

static int
finish(const struct num *x, struct tl_arena *a, struct tl_value *out,
       struct tl_error *err)
{
    int rv = check_limits(x, err);
    if (rv != 0)
        return rv;
    *out = make_value(x, a);
    return 0;
}

/* ------------------------------------------------ magnitude arithmetic */

/* @x with scale @s >= x->scale: the same value, more fraction digits. */
static void
rescale_up(struct num *x, int32_t s, struct tl_arena *a)
{
    assert(s >= x->scale);
    uint32_t k = (uint32_t)(s - x->scale);
    if (k > 0 && x->n > 0) {
        uint8_t *d = tl_arena_alloc(a, (size_t)x->n + k);
        memset(d, 0, k);
        memcpy(d + k, x->d, x->n);
        x->d = d;
        x->n += k;
    }
    x->scale = s;
}

/* Drop the digits of @x below scale @s < x->scale, adding one unit of the
 * last digit kept to the magnitude when @up; the display scale becomes
 * max(@s, 0). */
static void
shorten(struct num *x, int32_t s, bool up, struct tl_arena *a)
{
    uint32_t drop = (uint32_t)(x->scale - s);
    if (drop >= x->n) {
        x->n = 0;
    } else {
        uint8_t *d = tl_arena_alloc(a, (size_t)(x->n - drop) + 1);
        memcpy(d, x->d + drop, x->n - drop);
        x->d = d;
        x->n -= drop;
    }
    if (up) {
        /* x->d has room for one more digit (n - drop + 1, or fresh). */
        if (x->n == 0)
            x->d = tl_arena_alloc(a, 1);
        uint32_t i = 0;
        for (; i < x->n && x->d[i] == 9; i++)
            x->d[i] = 0;
        if (i == x->n)
            x->d[x->n++] = 1;
        else
            x->d[i]++;
    }
    x->scale = s;
    trim(x);
    if (s < 0) /* whole tens, hundreds...: back to scale 0 */
        rescale_up(x, 0, a);
}

/* Round @x to scale @s (which may be negative) half away from zero; the
 * display scale becomes max(@s, 0). */
static void
round_to(struct num *x, int32_t s, struct tl_arena *a)
{
    if (x->nan || x->inf)
        return;
    if (s >= x->scale) {
        rescale_up(x, s, a);
        return;
    }
    uint32_t drop = (uint32_t)(x->scale - s);
    shorten(x, s, drop <= x->n && x->d[drop - 1] >= 5, a);
}

static int
cmp_mag_aligned(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb)
{
    if (na != nb)
        return na < nb ? -1 : 1;
    for (uint32_t i = na; i-- > 0;)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

/* |x| <=> |y|, neither NaN. */
static int
cmp_abs(const struct num *x, const struct num *y)
{
    if (x->n == 0 || y->n == 0)
        return (x->n > 0) - (y->n > 0);
    int64_t ex = lead_exp(x), ey = lead_exp(y);
    if (ex != ey)
        return ex < ey ? -1 : 1;
    int64_t low = -(int64_t)(x->scale > y->scale ? x->scale : y->scale);
    for (int64_t pos = ex; pos >= low; pos--) {
        int a = digit_at(x, pos), b = digit_at(y, pos);
        if (a != b)
            return a < b ? -1 : 1;
    }
    return 0;
}

/* r = a + b (digits, same scale); r has room for max(na, nb) + 1. */
static uint32_t
add_mag(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb,
        uint8_t *r)
{
    uint32_t n = na > nb ? na : nb, carry = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = carry + (i < na ? a[i] : 0) + (i < nb ? b[i] : 0);
        r[i] = (uint8_t)(s % 10);
        carry = s / 10;
    }
    if (carry)
        r[n++] = (uint8_t)carry;
    return n;
}

/* r = a - b, a >= b (digits, same scale); in place allowed (r == a). */
static uint32_t
sub_mag(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb,
        uint8_t *r)
{
    int borrow = 0;
    for (uint32_t i = 0; i < na; i++) {
        int s = (int)a[i] - borrow - (i < nb ? b[i] : 0);
        borrow = s < 0;
        r[i] = (uint8_t)(s < 0 ? s + 10 : s);
    }
    assert(borrow == 0);
    uint32_t n = na;
    while (n > 0 && r[n - 1] == 0)
        n--;
    return n;
}

/* x + y (signed), neither NaN. */
static void
add_num(struct num *x, struct num *y, struct tl_arena *a, struct num *r)
{
    int32_t s = x->scale > y->scale ? x->scale : y->scale;
    rescale_up(x, s, a);
    rescale_up(y, s, a);
    memset(r, 0, sizeof(*r));
    r->scale = s;
    r->d = tl_arena_alloc(a, (size_t)(x->n > y->n ? x->n : y->n) + 1);
    if (x->neg == y->neg) {
        r->neg = x->neg;
        r->n = add_mag(x->d, x->n, y->d, y->n, r->d);
    } else if (cmp_abs(x, y) >= 0) {
        r->neg = x->neg;
        r->n = sub_mag(x->d, x->n, y->d, y->n, r->d);
    } else {
        r->neg = y->neg;
        r->n = sub_mag(y->d, y->n, x->d, x->n, r->d);
    }
    trim(r);
}

static void
mul_num(const struct num *x, const struct num *y, struct tl_arena *a,
        struct num *r)
{
    memset(r, 0, sizeof(*r));
    r->scale = x->scale + y->scale;
    r->neg = x->neg != y->neg;
    if (x->n == 0 || y->n == 0)
        return;
    size_t n = (size_t)x->n + y->n;
    uint32_t *acc = tl_arena_calloc(a, n * sizeof(*acc));
    for (uint32_t i = 0; i < x->n; i++) {
        uint32_t carry = 0;
        for (uint32_t j = 0; j < y->n; j++) {
            uint32_t t = acc[i + j] + (uint32_t)x->d[i] * y->d[j] + carry;
            acc[i + j] = t % 10;
            carry = t / 10;
        }
        for (size_t k = (size_t)i + y->n; carry; k++) {
            uint32_t t = acc[k] + carry;
            acc[k] = t % 10;
            carry = t / 10;
        }
    }
    r->d = tl_arena_alloc(a, n);
    for (size_t i = 0; i < n; i++)
        r->d[i] = (uint8_t)acc[i];
    r->n = (uint32_t)n;
    trim(r);
}

/* Integer division of magnitudes: q = a / b, truncated (b nonzero); the
 * remainder into *rem / *n_rem when @rem is not NULL. */
static void
divmod_mag(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb,
           struct tl_arena *ar, uint8_t **q, uint32_t *nq, uint8_t **rem,
           uint32_t *n_rem)
{
    uint8_t *r = tl_arena_alloc(ar, (size_t)nb + 2);
    uint32_t nr = 0;
    uint8_t *qd = tl_arena_calloc(ar, na ? na : 1);

    assert(nb > 0);
    for (uint32_t i = na; i-- > 0;) {
        /* r = r * 10 + a[i] */
        if (nr > 0 || a[i] != 0) {
            memmove(r + 1, r, nr);
            r[0] = a[i];
            nr++;
        }
        uint8_t digit = 0;
        while (cmp_mag_aligned(r, nr, b, nb) >= 0) {
            nr = sub_mag(r, nr, b, nb, r);
            digit++;
        }
        qd[i] = digit;
    }
    uint32_t n = na;
    while (n > 0 && qd[n - 1] == 0)
        n--;
    *q = qd;
    *nq = n;
    if (rem != NULL) {
        *rem = r;
        *n_rem = nr;
    }
}

/* PostgreSQL's NBASE (10^4) weight and first digit of @x, as
 * select_div_scale sees them (0 and 0 for zero). */
static void
nbase_lead(const struct num *x, int64_t *weight, int *first)
{
    if (x->n == 0) {
        *weight = 0;
        *first = 0;
        return;
    }
    int64_t e = lead_exp(x);
    int64_t w = e >= 0 ? e / 4 : -((-e + 3) / 4);
    int f = 0;
    for (int64_t pos = 4 * w + 3; pos >= 4 * w; pos--)
        f = f * 10 + digit_at(x, pos);
    *weight = w;
    *first = f;
}

static int32_t
select_div_scale(const struct num *x, const struct num *y)
{
    int64_t w1, w2;
    int f1, f2;
    nbase_lead(x, &w1, &f1);
    nbase_lead(y, &w2, &f2);
    int64_t qweight = w1 - w2;
    if (f1 <= f2)
        qweight--;
    int64_t rscale = MIN_SIG_DIGITS - qweight * 4;
    if (rscale < x->scale)
        rscale = x->scale;
    if (rscale < y->scale)
        rscale = y->scale;
    if (rscale < 0)
        rscale = 0;
    if (rscale > MAX_DISPLAY_SCALE)
        rscale = MAX_DISPLAY_SCALE;
    return (int32_t)rscale;
}

/* x / y rounded to @rscale, y nonzero. */
static void
div_num(const struct num *x, const struct num *y, int32_t rscale,
        struct tl_arena *a, struct num *r)
{
    /* q * 10^(rscale+1) = MX * 10^(sy + rscale + 1 - sx) / MY */
    int64_t k = (int64_t)y->scale + rscale + 1 - x->scale;
    struct num nx = *x, ny = *y;
    if (k >= 0) {
        nx.scale = 0;
        rescale_up(&nx, (int32_t)k, a);
        ny.scale = 0;
    } else {
        ny.scale = 0;
        rescale_up(&ny, (int32_t)-k, a);
        nx.scale = 0;
    }
    memset(r, 0, sizeof(*r));
    divmod_mag(nx.d, nx.n, ny.d, ny.n, a, &r->d, &r->n, NULL, NULL);
    r->scale = rscale + 1;
    r->neg = x->neg != y->neg;
    trim(r);
    /* The quotient is truncated one digit past rscale: rounding on that
     * digit rounds the exact quotient (half away from zero). */
    round_to(r, rscale, a);
}

/* x % y (sign of x, scale the larger), y nonzero. */
static void
mod_num(struct num *x, struct num *y, struct tl_arena *a, struct num *r)
{
    int32_t s = x->scale > y->scale ? x->scale : y->scale;
    uint8_t *q;
    uint32_t nq;
    rescale_up(x, s, a);
    rescale_up(y, s, a);
    memset(r, 0, sizeof(*r));
    divmod_mag(x->d, x->n, y->d, y->n, a, &q, &nq, &r->d, &r->n);
    r->scale = s;
    r->neg = x->neg;
    trim(r);
}

/* -------------------------------------------------------- public API */

int
tl_numeric_typmod(int32_t precision, int32_t scale, int32_t *typmod,
                  struct tl_error *err)
{
    if (precision < 1 || precision > TL_NUMERIC_MAX_PRECISION)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "NUMERIC precision %d must be between 1 and %d",
                            (int)precision, TL_NUMERIC_MAX_PRECISION);
    if (scale < TL_NUMERIC_MIN_SCALE || scale > TL_NUMERIC_MAX_SCALE)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "NUMERIC scale %d must be between %d and %d",
                            (int)scale, TL_NUMERIC_MIN_SCALE,
                            TL_NUMERIC_MAX_SCALE);
    *typmod =
        (int32_t)(((uint32_t)precision << 16) | ((uint32_t)scale & 0x7ff)) + 4;
    return 0;
}

void
tl_numeric_typmod_split(int32_t typmod, int32_t *precision, int32_t *scale)
{
    uint32_t t = (uint32_t)(typmod - 4);
    *precision = (int32_t)((t >> 16) & 0xffff);
    /* the scale is an 11-bit two's complement field */
    *scale = (int32_t)(((t & 0x7ff) ^ 1024) - 1024);
}

static int
apply_typmod(struct num *x, int32_t typmod, struct tl_arena *a,
             struct tl_error *err)
{
    int32_t precision, scale;

    if (typmod < 4 || x->nan)
        return 0;
    tl_numeric_typmod_split(typmod, &precision, &scale);
    if (x->inf) {
        tl_error_set(err, TL_EOVERFLOW, TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                     "numeric field overflow");
        tl_error_detail(err,
                        "A field with precision %d, scale %d cannot hold an "
                        "infinite value.",
                        (int)precision, (int)scale);
        return TL_EOVERFLOW;
    }
    int32_t maxdigits = precision - scale;
    round_to(x, scale, a);
    if (x->n > 0 && lead_exp(x) + 1 > maxdigits) {
        tl_error_set(err, TL_EOVERFLOW, TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                     "numeric field overflow");
        tl_error_detail(err,
                        "A field with precision %d, scale %d must round to "
                        "an absolute value less than %s%d.",
                        (int)precision, (int)scale, maxdigits ? "10^" : "",
                        maxdigits ? (int)maxdigits : 1);
        return TL_EOVERFLOW;
    }
    return 0;
}

int
tl_numeric_from_text(const char *s, size_t len, int32_t typmod,
                     struct tl_arena *a, struct tl_value *out,
                     struct tl_error *err)
{
    struct num x;
    int rv;

    if ((rv = parse_num(s, len, a, &x, err)) != 0 ||
        (rv = apply_typmod(&x, typmod, a, err)) != 0)
        return rv;
    return finish(&x, a, out, err);
}

int
tl_numeric_apply_typmod(const struct tl_value *in, int32_t typmod,
                        struct tl_arena *a, struct tl_value *out,
                        struct tl_error *err)
{
    struct num x;
    int rv;

    if (typmod < 4) {
        *out = *in;
        return 0;
    }
    parse_value(in, a, &x);
    if ((rv = apply_typmod(&x, typmod, a, err)) != 0)
        return rv;
    return finish(&x, a, out, err);
}

struct tl_value
tl_numeric_from_int(int64_t i, struct tl_arena *a)
{
    char *p = tl_arena_printf(a, "%lld", (long long)i);
    return tl_value_text(TL_TYPE_NUMERIC, p, (uint32_t)strlen(p));
}

int
tl_numeric_to_int(const struct tl_value *v, uint8_t type, int64_t *out,
                  struct tl_error *err)
{
    struct tl_arena a;
    struct num x;
    int64_t min, max;
    uint64_t mag = 0;
    bool range = true;

    if (v->u.s.len == 3 && memcmp(v->u.s.p, "NaN", 3) == 0)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                            "cannot convert NaN to %s", tl_type_name(type));
    if (v->u.s.len >= 8 && v->u.s.p[v->u.s.len - 1] == 'y')
        return tl_error_set(
            err, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
            "cannot convert infinity to %s", tl_type_name(type));
    tl_type_int_range(type, &min, &max);
    tl_arena_init(&a);
    parse_value(v, &a, &x);
    round_to(&x, 0, &a);
    if (x.n > 19) {
        range = false;
    } else {
        for (uint32_t i = x.n; i-- > 0;) {
            if (mag > (UINT64_MAX - x.d[i]) / 10) {
                range = false;
                break;
            }
            mag = mag * 10 + x.d[i];
        }
    }
    bool neg = x.neg;
    tl_arena_close(&a);
    if (range && neg && mag > (uint64_t)0 - (uint64_t)min)
        range = false;
    if (range && !neg && mag > (uint64_t)max)
        range = false;
    if (!range)
        return tl_error_set(err, TL_EOVERFLOW,
                            TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            "%s out of range", tl_type_name(type));
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

int
tl_numeric_from_double(double d, bool is_float4, struct tl_arena *a,
                       struct tl_value *out, struct tl_error *err)
{
    char buf[64];

    if (isnan(d)) {
        *out = tl_value_text(TL_TYPE_NUMERIC, "NaN", 3);
        return 0;
    }
    if (isinf(d)) {
        *out = d < 0 ? tl_value_text(TL_TYPE_NUMERIC, "-Infinity", 9)
                     : tl_value_text(TL_TYPE_NUMERIC, "Infinity", 8);
        return 0;
    }
    snprintf(buf, sizeof(buf), "%.*g", is_float4 ? FLT_DIG : DBL_DIG, d);
    return tl_numeric_from_text(buf, strlen(buf), -1, a, out, err);
}

static bool
value_is_nan(const struct tl_value *v)
{
    return v->u.s.len == 3 && memcmp(v->u.s.p, "NaN", 3) == 0;
}

static int
div_by_zero(struct tl_error *err)
{
    return tl_error_set(err, TL_EDIVZERO, TL_SQLSTATE_DIVISION_BY_ZERO,
                        "division by zero");
}

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD };

/* @x op @y when one of them is an infinity (neither NaN), as PostgreSQL
 * 15: inf - inf, inf * 0, inf / inf and inf % y are NaN; inf / 0 and
 * inf % 0 divide by zero; x / inf is 0 and x % inf is x. */
static int
arith_inf(int op, struct num *x, struct num *y, struct num *r,
          struct tl_error *err)
{
    bool x_zero = !x->inf && x->n == 0, y_zero = !y->inf && y->n == 0;

    memset(r, 0, sizeof(*r));
    switch (op) {
    case OP_SUB:
        y->neg = !y->neg;
        /* fall through */
    case OP_ADD:
        if (x->inf && y->inf && x->neg != y->neg)
            r->nan = true;
        else
            *r = x->inf ? *x : *y;
        return 0;
    case OP_MUL:
        if (x_zero || y_zero)
            r->nan = true;
        r->inf = !r->nan;
        r->neg = x->neg != y->neg;
        return 0;
    case OP_DIV:
        if (!x->inf) /* finite / inf */
            return 0;
        if (y_zero)
            return div_by_zero(err);
        r->nan = y->inf;
        r->inf = !r->nan;
        r->neg = x->neg != y->neg;
        return 0;
    default: /* OP_MOD */
        if (!x->inf) {
            *r = *x;
            return 0;
        }
        if (y_zero)
            return div_by_zero(err);
        r->nan = true;
        return 0;
    }
}

static int
arith(int op, const struct tl_value *xv, const struct tl_value *yv,
      struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct num x, y, r;
    int rv;

    if (value_is_nan(xv) || value_is_nan(yv)) {
        *out = tl_value_text(TL_TYPE_NUMERIC, "NaN", 3);
        return 0;
    }
    parse_value(xv, a, &x);
    parse_value(yv, a, &y);
    if (x.inf || y.inf) {
        if ((rv = arith_inf(op, &x, &y, &r, err)) != 0)
            return rv;
        return finish(&r, a, out, err);
    }
    switch (op) {
    case OP_ADD:
        add_num(&x, &y, a, &r);
        break;
    case OP_SUB:
        y.neg = y.n > 0 && !y.neg;
        add_num(&x, &y, a, &r);
        break;
    case OP_MUL:
        mul_num(&x, &y, a, &r);
        break;
    case OP_DIV:
        if (y.n == 0)
            return div_by_zero(err);
        div_num(&x, &y, select_div_scale(&x, &y), a, &r);
        break;
    default:
        if (y.n == 0)
            return div_by_zero(err);
        mod_num(&x, &y, a, &r);
        break;
    }
    return finish(&r, a, out, err);
}

int
tl_numeric_add(const struct tl_value *x, const struct tl_value *y,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return arith(OP_ADD, x, y, a, out, err);
}

int
tl_numeric_sub(const struct tl_value *x, const struct tl_value *y,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return arith(OP_SUB, x, y, a, out, err);
}

int
tl_numeric_mul(const struct tl_value *x, const struct tl_value *y,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return arith(OP_MUL, x, y, a, out, err);
}

int
tl_numeric_div(const struct tl_value *x, const struct tl_value *y,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return arith(OP_DIV, x, y, a, out, err);
}

int
tl_numeric_mod(const struct tl_value *x, const struct tl_value *y,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return arith(OP_MOD, x, y, a, out, err);
}

struct tl_value
tl_numeric_neg(const struct tl_value *x, struct tl_arena *a)
{
    const char *p = x->u.s.p;
    uint32_t len = x->u.s.len;

    if (value_is_nan(x))
        return *x;
    if (len > 0 && p[0] == '-')
        return tl_value_text(TL_TYPE_NUMERIC, p + 1, len - 1);
    bool zero = true;
    for (uint32_t i = 0; i < len; i++)
        if (p[i] != '0' && p[i] != '.')
            zero = false;
    if (zero)
        return *x;
    char *b = tl_arena_alloc(a, (size_t)len + 1);
    b[0] = '-';
    memcpy(b + 1, p, len);
    return tl_value_text(TL_TYPE_NUMERIC, b, len + 1);
}

int
tl_numeric_round(const struct tl_value *xv, int32_t scale,
                 enum tl_numeric_rounding mode, struct tl_arena *a,
                 struct tl_value *out, struct tl_error *err)
{
    struct num x;

    /* PostgreSQL's NUMERIC_MAX_RESULT_SCALE */
    if (scale > 2 * TL_NUMERIC_MAX_PRECISION)
        scale = 2 * TL_NUMERIC_MAX_PRECISION;
    if (scale < -2 * TL_NUMERIC_MAX_PRECISION)
        scale = -2 * TL_NUMERIC_MAX_PRECISION;
    parse_value(xv, a, &x);
    if (x.nan || x.inf) {
        *out = *xv;
        return 0;
    }
    if (mode == TL_NUMERIC_ROUND_HALF_UP || scale >= x.scale) {
        round_to(&x, scale, a);
    } else {
        uint32_t drop = (uint32_t)(x.scale - scale);
        bool lost = false;
        for (uint32_t i = 0; i < drop && i < x.n && !lost; i++)
            lost = x.d[i] != 0;
        bool away = (mode == TL_NUMERIC_FLOOR && x.neg) ||
                    (mode == TL_NUMERIC_CEIL && !x.neg);
        shorten(&x, scale, lost && away, a);
    }
    return finish(&x, a, out, err);
}

struct tl_value
tl_numeric_sign(const struct tl_value *x)
{
    if (value_is_nan(x))
        return *x;
    if (x->u.s.len > 0 && x->u.s.p[0] == '-')
        return tl_value_text(TL_TYPE_NUMERIC, "-1", 2);
    for (uint32_t i = 0; i < x->u.s.len; i++)
        if (x->u.s.p[i] != '0' && x->u.s.p[i] != '.')
            return tl_value_text(TL_TYPE_NUMERIC, "1", 1);
    return tl_value_text(TL_TYPE_NUMERIC, "0", 1);
}

static struct tl_value
nan_value(void)
{
    return tl_value_text(TL_TYPE_NUMERIC, "NaN", 3);
}

int
tl_numeric_div_trunc(const struct tl_value *xv, const struct tl_value *yv,
                     struct tl_arena *a, struct tl_value *out,
                     struct tl_error *err)
{
    struct num x, y, r;

    if (value_is_nan(xv) || value_is_nan(yv)) {
        *out = nan_value();
        return 0;
    }
    parse_value(xv, a, &x);
    parse_value(yv, a, &y);
    memset(&r, 0, sizeof(r));
    if (x.inf) {
        if (!y.inf && y.n == 0)
            return div_by_zero(err);
        r.nan = y.inf;
        r.inf = !y.inf;
        r.neg = x.neg != y.neg;
        return finish(&r, a, out, err);
    }
    if (y.inf) /* finite / infinite: 0 */
        return finish(&r, a, out, err);
    if (y.n == 0)
        return div_by_zero(err);
    int32_t s = x.scale > y.scale ? x.scale : y.scale;
    rescale_up(&x, s, a);
    rescale_up(&y, s, a);
    divmod_mag(x.d, x.n, y.d, y.n, a, &r.d, &r.n, NULL, NULL);
    r.neg = x.neg != y.neg;
    trim(&r);
    return finish(&r, a, out, err);
}

/* gcd of magnitudes @x and @y at the same scale, into @r (that scale,
 * positive). */
static void
gcd_mag(struct num *x, struct num *y, struct tl_arena *a, struct num *r)
{
    uint8_t *p = x->d, *q = y->d;
    uint32_t np = x->n, nq = y->n;
    while (nq > 0) {
        uint8_t *quot, *rem;
        uint32_t n_quot, n_rem;
        divmod_mag(p, np, q, nq, a, &quot, &n_quot, &rem, &n_rem);
        p = q;
        np = nq;
        q = rem;
        nq = n_rem;
    }
    memset(r, 0, sizeof(*r));
    r->d = p;
    r->n = np;
    r->scale = x->scale;
    trim(r);
}

/* gcd (@lcm false) or lcm of numerics, as PostgreSQL 15's numeric_gcd and
 * numeric_lcm. */
static int
gcd_lcm(const struct tl_value *xv, const struct tl_value *yv, bool lcm,
        struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct num x, y, g, r;

    parse_value(xv, a, &x);
    parse_value(yv, a, &y);
    if (x.nan || x.inf || y.nan || y.inf) {
        *out = nan_value();
        return 0;
    }
    int32_t s = x.scale > y.scale ? x.scale : y.scale;
    rescale_up(&x, s, a);
    rescale_up(&y, s, a);
    gcd_mag(&x, &y, a, &g);
    if (!lcm)
        return finish(&g, a, out, err);
    if (x.n == 0 || y.n == 0) {
        memset(&r, 0, sizeof(r));
        r.scale = s;
        return finish(&r, a, out, err);
    }
    struct num q;
    memset(&q, 0, sizeof(q));
    divmod_mag(x.d, x.n, g.d, g.n, a, &q.d, &q.n, NULL, NULL);
    mul_num(&q, &y, a, &r);
    r.neg = false;
    return finish(&r, a, out, err);
}

int
tl_numeric_gcd(const struct tl_value *x, const struct tl_value *y,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return gcd_lcm(x, y, false, a, out, err);
}

int
tl_numeric_lcm(const struct tl_value *x, const struct tl_value *y,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return gcd_lcm(x, y, true, a, out, err);
}

/* floor(sqrt(N)) for the integer magnitude @nd (@nn digits), by Newton's
 * iteration from above, into *@out / *@n_out. */
static void
isqrt_mag(const uint8_t *nd, uint32_t nn, struct tl_arena *a, uint8_t **out,
          uint32_t *n_out)
{
    static const uint8_t two[1] = {2};

    if (nn == 0) {
        *out = NULL;
        *n_out = 0;
        return;
    }
    /* A start above the root: N < (lead + 1) * 10^(2k). */
    uint32_t k = nn > 16 ? (nn - 15) / 2 : 0;
    double lead = 0;
    for (uint32_t i = nn; i-- > 2 * k;)
        lead = lead * 10 + nd[i];
    uint64_t e = (uint64_t)sqrt(lead + 1.0) + 2;
    uint8_t *y = tl_arena_calloc(a, (size_t)k + 21);
    uint32_t ny = k;
    for (; e > 0; e /= 10)
        y[ny++] = (uint8_t)(e % 10);
    for (;;) {
        uint8_t *q, *s, *y1;
        uint32_t nq, ns, ny1;
        divmod_mag(nd, nn, y, ny, a, &q, &nq, NULL, NULL);
        s = tl_arena_alloc(a, (size_t)(ny > nq ? ny : nq) + 1);
        ns = add_mag(y, ny, q, nq, s);
        divmod_mag(s, ns, two, 1, a, &y1, &ny1, NULL, NULL);
        if (cmp_mag_aligned(y1, ny1, y, ny) >= 0)
            break;
        y = y1;
        ny = ny1;
    }
    *out = y;
    *n_out = ny;
}

int
tl_numeric_sqrt(const struct tl_value *xv, struct tl_arena *a,
                struct tl_value *out, struct tl_error *err)
{
    struct num x, r;

    parse_value(xv, a, &x);
    if (x.nan || (x.inf && !x.neg)) {
        *out = *xv;
        return 0;
    }
    if (x.neg)
        return tl_error_set(err, TL_EINVAL,
                            TL_SQLSTATE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                            "cannot take square root of a negative number");
    /* numeric_sqrt's result scale, from the NBASE weight of @x. */
    int64_t w;
    int first;
    nbase_lead(&x, &w, &first);
    int64_t rscale = MIN_SIG_DIGITS - ((w + 1) * 4 / 2 - 1);
    if (rscale < x.scale)
        rscale = x.scale;
    if (rscale < 0)
        rscale = 0;
    if (rscale > MAX_DISPLAY_SCALE)
        rscale = MAX_DISPLAY_SCALE;
    /* sqrt(x) * 10^R = sqrt(MX * 10^(2R - sx)), R one digit past rscale:
     * rounding on that digit rounds the exact root. */
    int32_t big = (int32_t)(2 * (rscale + 1) - x.scale);
    struct num n = x;
    n.scale = 0;
    rescale_up(&n, big, a);
    memset(&r, 0, sizeof(r));
    isqrt_mag(n.d, n.n, a, &r.d, &r.n);
    r.scale = (int32_t)rscale + 1;
    trim(&r);
    round_to(&r, (int32_t)rscale, a);
    return finish(&r, a, out, err);
}

/* Comparison straight on canonical text, no allocation: sign, then the
 * number of integer digits, then the digits (missing ones are 0). */
struct view {
    bool nan, inf, neg, zero;
    const char *ip; /* integer digits (no leading zeros unless "0") */
    uint32_t ni;
    const char *fp; /* fraction digits */
    uint32_t nf;
};

static void
view_of(const struct tl_value *v, struct view *w)
{
    const char *p = v->u.s.p, *end = p + v->u.s.len;

    memset(w, 0, sizeof(*w));
    if (value_is_nan(v)) {
        w->nan = true;
        return;
    }
    if (p < end && *p == '-') {
        w->neg = true;
        p++;
    }
    if (p < end && *p == 'I') {
        w->inf = true;
        return;
    }
    w->ip = p;
    while (p < end && *p != '.')
        p++;
    w->ni = (uint32_t)(p - w->ip);
    if (w->ni == 1 && w->ip[0] == '0')
        w->ni = 0;
    if (p < end)
        p++;
    w->fp = p;
    w->nf = (uint32_t)(end - p);
    while (w->nf > 0 && w->fp[w->nf - 1] == '0')
        w->nf--;
    w->zero = w->ni == 0 && w->nf == 0;
    if (w->zero)
        w->neg = false;
}

/* -Infinity < every number < Infinity < NaN */
static int
special_rank(const struct view *w)
{
    return w->nan ? 3 : w->inf ? (w->neg ? -2 : 2) : 0;
}

static int
cmp_views(const struct view *a, const struct view *b)
{
    int ra = special_rank(a), rb = special_rank(b);
    if (ra != 0 || rb != 0)
        return (ra > rb) - (ra < rb);
    int sa = a->zero ? 0 : a->neg ? -1 : 1;
    int sb = b->zero ? 0 : b->neg ? -1 : 1;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    int c = 0;
    if (a->ni != b->ni) {
        c = a->ni < b->ni ? -1 : 1;
    } else {
        c = a->ni ? memcmp(a->ip, b->ip, a->ni) : 0;
        if (c == 0) {
            uint32_t n = a->nf > b->nf ? a->nf : b->nf;
            for (uint32_t i = 0; i < n && c == 0; i++) {
                char x = i < a->nf ? a->fp[i] : '0';
                char y = i < b->nf ? b->fp[i] : '0';
                c = (x > y) - (x < y);
            }
        }
        c = (c > 0) - (c < 0);
    }
    return sa < 0 ? -c : c;
}

int
tl_numeric_cmp(const struct tl_value *x, const struct tl_value *y)
{
    struct view a, b;
    view_of(x, &a);
    view_of(y, &b);
    return cmp_views(&a, &b);
}

int
tl_numeric_cmp_int(const struct tl_value *x, int64_t i)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)i);
    struct tl_value y = tl_value_text(TL_TYPE_NUMERIC, buf, (uint32_t)n);
    return tl_numeric_cmp(x, &y);
}

/* ---------------------------------------------------------------- keys */

/* The class byte of a key, in value order. */
enum {
    KEY_NEG_INF = 0x01,
    KEY_NEG = 0x02,
    KEY_ZERO = 0x03,
    KEY_POS = 0x04,
    KEY_POS_INF = 0x05,
    KEY_NAN = 0x06,
};

/* Digit @k of @w's integer digits followed by its fraction digits. */
static char
view_digit(const struct view *w, uint32_t k)
{
    return k < w->ni ? w->ip[k] : w->fp[k - w->ni];
}

void
tl_numeric_key_encode(const struct tl_value *v, struct tl_buf *out)
{
    struct view w;
    view_of(v, &w);
    if (w.nan || w.inf || w.zero) {
        tl_buf_append_u8(out, w.nan   ? KEY_NAN
                              : w.inf ? (w.neg ? KEY_NEG_INF : KEY_POS_INF)
                                      : KEY_ZERO);
        return;
    }
    uint8_t flip = w.neg ? 0xFF : 0x00;
    tl_buf_append_u8(out, w.neg ? KEY_NEG : KEY_POS);
    /* The significant digits run from the first nonzero one to the last
     * nonzero one (view_of already dropped the fraction's trailing
     * zeros; an integer's own trailing zeros go too). */
    uint32_t first = 0, last = w.ni + w.nf;
    while (view_digit(&w, first) == '0')
        first++;
    while (view_digit(&w, last - 1) == '0')
        last--;
    int64_t e = (int64_t)w.ni - 1 - first; /* exponent of the first */
    uint32_t ebits = (uint32_t)(int32_t)e ^ 0x80000000u;
    tl_buf_append_be32(out, ebits ^ (flip ? 0xFFFFFFFFu : 0));
    for (uint32_t k = first; k < last; k++)
        tl_buf_append_u8(out, (uint8_t)((view_digit(&w, k) - '0' + 1) ^ flip));
    tl_buf_append_u8(out, flip);
}

int
tl_numeric_key_decode(const uint8_t **p, const uint8_t *end, struct tl_arena *a,
                      struct tl_value *out)
{
    const uint8_t *q = *p;

    if (q >= end)
        return TL_ECORRUPT;
    uint8_t cls = *q++;
    static const char *const special[] = {
        [KEY_NEG_INF] = "-Infinity",
        [KEY_ZERO] = "0",
        [KEY_POS_INF] = "Infinity",
        [KEY_NAN] = "NaN",
    };
    if (cls == KEY_NEG_INF || cls == KEY_ZERO || cls == KEY_POS_INF ||
        cls == KEY_NAN) {
        *out = tl_value_text(TL_TYPE_NUMERIC, special[cls],
                             (uint32_t)strlen(special[cls]));
        *p = q;
        return 0;
    }
    if (cls != KEY_NEG && cls != KEY_POS)
        return TL_ECORRUPT;
    uint8_t flip = cls == KEY_NEG ? 0xFF : 0x00;
    if (end - q < 4)
        return TL_ECORRUPT;
    int32_t e =
        (int32_t)((tl_load_be32(q) ^ (flip ? 0xFFFFFFFFu : 0)) ^ 0x80000000u);
    q += 4;
    const uint8_t *digits = q;
    while (q < end && (*q ^ flip) != 0) {
        uint8_t d = *q ^ flip;
        if (d < 1 || d > 10)
            return TL_ECORRUPT;
        q++;
    }
    if (q >= end || q == digits)
        return TL_ECORRUPT;
    uint32_t nd = (uint32_t)(q - digits);
    if (e > MAX_INT_DIGITS || e < -MAX_DSCALE - 1 ||
        ((digits[nd - 1] ^ flip) == 1) || ((digits[0] ^ flip) == 1))
        return TL_ECORRUPT;
    struct num x = {.neg = flip != 0};
    int64_t scale = (int64_t)nd - 1 - e;
    if (scale < 0)
        scale = 0;
    /* d[i] is the digit at 10^(i - scale); digit k of the string is at
     * 10^(e - k). */
    x.scale = (int32_t)scale;
    x.n = (uint32_t)(e + scale + 1);
    x.d = tl_arena_calloc(a, x.n);
    for (uint32_t k = 0; k < nd; k++)
        x.d[(int64_t)e - (int64_t)k + scale] =
            (uint8_t)((digits[k] ^ flip) - 1);
    *out = make_value(&x, a);
    *p = q + 1;
    return 0;
}

bool
tl_numeric_is_canonical(const char *p, size_t len)
{
    size_t i = 0;
    if ((len == 3 && memcmp(p, "NaN", 3) == 0) ||
        (len == 8 && memcmp(p, "Infinity", 8) == 0) ||
        (len == 9 && memcmp(p, "-Infinity", 9) == 0))
        return true;
    if (i < len && p[i] == '-')
        i++;
    size_t start = i;
    while (i < len && isdigit((unsigned char)p[i]))
        i++;
    size_t ni = i - start;
    if (ni == 0 || (ni > 1 && p[start] == '0'))
        return false;
    if (i < len) {
        if (p[i++] != '.' || i == len)
            return false;
        while (i < len && isdigit((unsigned char)p[i]))
            i++;
    }
    if (i != len)
        return false;
    if (p[0] == '-') { /* no negative zero */
        for (size_t k = 1; k < len; k++)
            if (p[k] != '0' && p[k] != '.')
                return true;
        return false;
    }
    return true;
}

/* -------------------------------------------------------------- binary */

void
tl_numeric_to_binary(const struct tl_value *v, struct tl_buf *out)
{
    struct tl_arena a;
    struct num x;

    tl_arena_init(&a);
    parse_value(v, &a, &x);
    if (x.nan || x.inf) {
        /* numeric_send: the special header's bits, 0x20 as the dscale of
         * the infinities */
        tl_buf_append_be16(out, 0);
        tl_buf_append_be16(out, 0);
        tl_buf_append_be16(out, x.nan ? 0xC000 : x.neg ? 0xF000 : 0xD000);
        tl_buf_append_be16(out, x.nan ? 0 : 0x20);
        tl_arena_close(&a);
        return;
    }
    if (x.n == 0) {
        tl_buf_append_be16(out, 0);
        tl_buf_append_be16(out, 0);
        tl_buf_append_be16(out, 0);
        tl_buf_append_be16(out, (uint16_t)x.scale);
        tl_arena_close(&a);
        return;
    }
    /* groups of 4 decimal digits aligned on the point: group g holds the
     * positions 4g+3 .. 4g; from the first nonzero group down to the last */
    int64_t e = lead_exp(&x);
    int64_t wtop = e >= 0 ? e / 4 : -((-e + 3) / 4);
    int64_t low = -(int64_t)x.scale; /* lowest position with a digit */
    int64_t wlow = low >= 0 ? low / 4 : -((-low + 3) / 4);
    /* trailing zero groups are dropped */
    uint16_t *g = tl_arena_alloc(&a, (size_t)(wtop - wlow + 1) * 2);
    size_t n = 0;
    for (int64_t w = wtop; w >= wlow; w--) {
        int val = 0;
        for (int64_t pos = 4 * w + 3; pos >= 4 * w; pos--)
            val = val * 10 + digit_at(&x, pos);
        g[n++] = (uint16_t)val;
    }
    while (n > 0 && g[n - 1] == 0)
        n--;
    tl_buf_append_be16(out, (uint16_t)n);
    tl_buf_append_be16(out, (uint16_t)(int16_t)wtop);
    tl_buf_append_be16(out, x.neg ? 0x4000 : 0);
    tl_buf_append_be16(out, (uint16_t)x.scale);
    for (size_t i = 0; i < n; i++)
        tl_buf_append_be16(out, g[i]);
    tl_arena_close(&a);
}

static int
bad_binary(struct tl_error *err, const char *what)
{
    return tl_error_set(err, TL_EPROTO,
                        TL_SQLSTATE_INVALID_BINARY_REPRESENTATION,
                        "invalid %s in external \"numeric\" value", what);
}

int
tl_numeric_from_binary(const uint8_t *p, size_t len, int32_t typmod,
                       struct tl_arena *a, struct tl_value *out,
                       struct tl_error *err)
{
    if (len < 8)
        return tl_error_set(err, TL_EPROTO,
                            TL_SQLSTATE_INVALID_BINARY_REPRESENTATION,
                            "insufficient data left in message");
    uint16_t ndigits = tl_load_be16(p);
    int16_t weight = (int16_t)tl_load_be16(p + 2);
    uint16_t sign = tl_load_be16(p + 4);
    uint16_t dscale = tl_load_be16(p + 6);
    if (len != 8 + 2 * (size_t)ndigits)
        return bad_binary(err, "length");
    if (sign != 0 && sign != 0x4000 && sign != 0xC000 && sign != 0xD000 &&
        sign != 0xF000)
        return bad_binary(err, "sign");
    if (dscale > MAX_DSCALE)
        return bad_binary(err, "scale");
    struct num x = {.neg = sign == 0x4000};
    if (sign == 0xC000 || sign == 0xD000 || sign == 0xF000) {
        x.nan = sign == 0xC000;
        x.inf = !x.nan;
        x.neg = sign == 0xF000;
        int rv = apply_typmod(&x, typmod, a, err);
        return rv != 0 ? rv : finish(&x, a, out, err);
    }
    /* digit group i is at 10000^(weight - i); build the decimal digits at
     * a scale covering both the groups and dscale */
    int64_t lowpos = 4 * ((int64_t)weight - ndigits + 1);
    int64_t scale = lowpos < 0 ? -lowpos : 0;
    int64_t toppos = 4 * (int64_t)weight + 3;
    if (toppos + 1 > MAX_INT_DIGITS)
        return format_overflow(err);
    x.scale = (int32_t)scale;
    x.n = ndigits ? (uint32_t)(toppos + scale + 1) : 0;
    x.d = tl_arena_calloc(a, x.n ? x.n : 1);
    for (uint16_t i = 0; i < ndigits; i++) {
        uint16_t gv = tl_load_be16(p + 8 + 2 * i);
        if (gv >= 10000)
            return bad_binary(err, "digit");
        int64_t base = 4 * ((int64_t)weight - i); /* position of unit */
        for (int k = 0; k < 4; k++, gv /= 10) {
            int64_t idx = base + k + scale;
            if (idx >= 0 && idx < (int64_t)x.n)
                x.d[idx] = (uint8_t)(gv % 10);
        }
    }
    trim(&x);
    /* numeric_recv keeps dscale digits (rounding away any beyond) */
    round_to(&x, dscale, a);
    int rv = apply_typmod(&x, typmod, a, err);
    if (rv != 0)
        return rv;
    return finish(&x, a, out, err);
}
