/* interval — see interval.h. The parsing follows PostgreSQL 15's
 * ParseDateTime, DecodeInterval and DecodeISO8601Interval, the arithmetic
 * its timestamp.c, so that results and errors match value for value. */
#include "interval.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "datetime.h"

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_MINUTE INT64_C(60000000)
#define USECS_PER_HOUR INT64_C(3600000000)
#define USECS_PER_DAY TL_USECS_PER_DAY
#define DAYS_PER_MONTH 30
#define MONTHS_PER_YEAR 12
#define SECS_PER_DAY 86400
#define MIN_TIMESTAMP INT64_C(-211813488000000000)
#define END_TIMESTAMP INT64_C(9223371331200000000)

#define MAX_FIELDS 25
#define FIELD_MAX 128
#define TOKMAXLEN 10

/* Decoding outcomes, as PostgreSQL's DTERR_* codes. */
enum { DT_OK = 0, DT_BAD_FORMAT, DT_FIELD_OVERFLOW };

/* Field kinds of ParseDateTime. */
enum { F_NUMBER, F_DATE, F_TIME, F_TZ, F_STRING, F_SPECIAL };

/* Units of DecodeInterval (also the bits of the field mask). */
enum {
    U_NONE = 0,
    U_MICROSEC,
    U_MILLISEC,
    U_SECOND,
    U_MINUTE,
    U_HOUR,
    U_DAY,
    U_WEEK,
    U_MONTH,
    U_YEAR,
    U_DECADE,
    U_CENTURY,
    U_MILLENNIUM,
    U_AGO,
    U_BAD, /* a unit PostgreSQL knows but intervals refuse (qtr, timezone) */
};
#define M(u) (1u << (u))
#define ALL_SECS_M (M(U_SECOND) | M(U_MILLISEC) | M(U_MICROSEC))
#define TIME_M (M(U_HOUR) | M(U_MINUTE) | ALL_SECS_M)

/* PostgreSQL's pg_itm_in: the fields being accumulated. */
struct itm {
    int64_t usec;
    int32_t mday, mon, year;
};

/* --------------------------------------------------------- tokenizing */

struct fields {
    char text[MAX_FIELDS][FIELD_MAX];
    int type[MAX_FIELDS];
    int n;
};

static bool
is_alpha(char c)
{
    return isalpha((unsigned char)c) != 0;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The words of PostgreSQL's date token table that are also interval
 * units: after one of these a digit starts a new field ('1d2h'), after
 * any other word it makes a "date" field. */
static bool
in_date_table(const char *w)
{
    static const char *const words[] = {"d", "h", "m", "s", "y", "mon", "dec"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(w, words[i]) == 0)
            return true;
    return false;
}

/* ParseDateTime: split @s into fields. */
static int
tokenize(const char *s, size_t len, struct fields *f)
{
    size_t i = 0;

    f->n = 0;
    while (i < len) {
        char *b;
        size_t n = 0;
        if (isspace((unsigned char)s[i])) {
            i++;
            continue;
        }
        if (f->n >= MAX_FIELDS)
            return DT_BAD_FORMAT;
        b = f->text[f->n];
#define APPEND(c)                                                              \
    do {                                                                       \
        if (n + 1 >= FIELD_MAX)                                                \
            return DT_BAD_FORMAT;                                              \
        b[n++] = (char)(c);                                                    \
    } while (0)
        if (is_digit(s[i])) {
            while (i < len && is_digit(s[i]))
                APPEND(s[i++]);
            if (i < len && s[i] == ':') {
                f->type[f->n] = F_TIME;
                APPEND(s[i++]);
                while (i < len &&
                       (is_digit(s[i]) || s[i] == ':' || s[i] == '.'))
                    APPEND(s[i++]);
            } else if (i < len && (s[i] == '-' || s[i] == '/' || s[i] == '.')) {
                char delim = s[i];
                APPEND(s[i++]);
                if (i < len && is_digit(s[i])) {
                    f->type[f->n] = delim == '.' ? F_NUMBER : F_DATE;
                    while (i < len && is_digit(s[i]))
                        APPEND(s[i++]);
                    if (i < len && s[i] == delim) {
                        f->type[f->n] = F_DATE;
                        APPEND(s[i++]);
                        while (i < len && (is_digit(s[i]) || s[i] == delim))
                            APPEND(s[i++]);
                    }
                } else {
                    f->type[f->n] = F_DATE;
                    while (i < len &&
                           (isalnum((unsigned char)s[i]) || s[i] == delim))
                        APPEND(tolower((unsigned char)s[i++]));
                }
            } else {
                f->type[f->n] = F_NUMBER;
            }
        } else if (s[i] == '.') {
            APPEND(s[i++]);
            while (i < len && is_digit(s[i]))
                APPEND(s[i++]);
            f->type[f->n] = F_NUMBER;
        } else if (is_alpha(s[i])) {
            bool is_date = false;
            f->type[f->n] = F_STRING;
            while (i < len && is_alpha(s[i]))
                APPEND(tolower((unsigned char)s[i++]));
            if (i < len && (s[i] == '-' || s[i] == '/' || s[i] == '.')) {
                is_date = true;
            } else if (i < len && (s[i] == '+' || is_digit(s[i]))) {
                b[n] = '\0';
                is_date = !in_date_table(b);
            }
            if (is_date) {
                f->type[f->n] = F_DATE;
                do {
                    APPEND(tolower((unsigned char)s[i++]));
                } while (i < len &&
                         (s[i] == '+' || s[i] == '-' || s[i] == '/' ||
                          s[i] == '_' || s[i] == '.' || s[i] == ':' ||
                          isalnum((unsigned char)s[i])));
            }
        } else if (s[i] == '+' || s[i] == '-') {
            APPEND(s[i++]);
            while (i < len && isspace((unsigned char)s[i]))
                i++;
            if (i < len && is_digit(s[i])) {
                f->type[f->n] = F_TZ;
                APPEND(s[i++]);
                while (i < len && (is_digit(s[i]) || s[i] == ':' ||
                                   s[i] == '.' || s[i] == '-'))
                    APPEND(s[i++]);
            } else if (i < len && is_alpha(s[i])) {
                f->type[f->n] = F_SPECIAL;
                while (i < len && is_alpha(s[i]))
                    APPEND(tolower((unsigned char)s[i++]));
            } else {
                return DT_BAD_FORMAT;
            }
        } else if (ispunct((unsigned char)s[i])) {
            i++;
            continue;
        } else {
            return DT_BAD_FORMAT;
        }
#undef APPEND
        b[n] = '\0';
        f->n++;
    }
    return DT_OK;
}

/* DecodeUnits over PostgreSQL's deltatktbl (keys compared on their first
 * TOKMAXLEN characters). U_NONE for a word that is no unit. */
static int
decode_unit(const char *w)
{
    static const struct {
        const char *word;
        int unit;
    } units[] = {
        {"ago", U_AGO},
        {"c", U_CENTURY},
        {"cent", U_CENTURY},
        {"centuries", U_CENTURY},
        {"century", U_CENTURY},
        {"d", U_DAY},
        {"day", U_DAY},
        {"days", U_DAY},
        {"dec", U_DECADE},
        {"decade", U_DECADE},
        {"decades", U_DECADE},
        {"decs", U_DECADE},
        {"h", U_HOUR},
        {"hour", U_HOUR},
        {"hours", U_HOUR},
        {"hr", U_HOUR},
        {"hrs", U_HOUR},
        {"m", U_MINUTE},
        {"microsecon", U_MICROSEC},
        {"mil", U_MILLENNIUM},
        {"millennia", U_MILLENNIUM},
        {"millennium", U_MILLENNIUM},
        {"millisecon", U_MILLISEC},
        {"mils", U_MILLENNIUM},
        {"min", U_MINUTE},
        {"mins", U_MINUTE},
        {"minute", U_MINUTE},
        {"minutes", U_MINUTE},
        {"mon", U_MONTH},
        {"mons", U_MONTH},
        {"month", U_MONTH},
        {"months", U_MONTH},
        {"ms", U_MILLISEC},
        {"msec", U_MILLISEC},
        {"millisecond", U_MILLISEC},
        {"mseconds", U_MILLISEC},
        {"msecs", U_MILLISEC},
        {"qtr", U_BAD},
        {"quarter", U_BAD},
        {"s", U_SECOND},
        {"sec", U_SECOND},
        {"second", U_SECOND},
        {"seconds", U_SECOND},
        {"secs", U_SECOND},
        {"timezone", U_BAD},
        {"timezone_h", U_BAD},
        {"timezone_m", U_BAD},
        {"us", U_MICROSEC},
        {"usec", U_MICROSEC},
        {"microsecond", U_MICROSEC},
        {"useconds", U_MICROSEC},
        {"usecs", U_MICROSEC},
        {"w", U_WEEK},
        {"week", U_WEEK},
        {"weeks", U_WEEK},
        {"y", U_YEAR},
        {"year", U_YEAR},
        {"years", U_YEAR},
        {"yr", U_YEAR},
        {"yrs", U_YEAR},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strncmp(w, units[i].word, TOKMAXLEN) == 0)
            return units[i].unit;
    return U_NONE;
}

/* --------------------------------------------------- field accumulation */

static bool
mul_add(int64_t val, int64_t mul, int64_t *sum)
{
    int64_t p;
    return !__builtin_mul_overflow(val, mul, &p) &&
           !__builtin_add_overflow(*sum, p, sum);
}

static bool
adjust_fract_usecs(double frac, int64_t scale, struct itm *t)
{
    if (frac == 0)
        return true;
    frac *= (double)scale;
    int64_t usec = (int64_t)frac;
    frac -= (double)usec;
    if (frac > 0.5)
        usec++;
    else if (frac < -0.5)
        usec--;
    return !__builtin_add_overflow(t->usec, usec, &t->usec);
}

static bool
adjust_fract_days(double frac, int scale, struct itm *t)
{
    if (frac == 0)
        return true;
    frac *= scale;
    int extra = (int)frac;
    if (__builtin_add_overflow(t->mday, extra, &t->mday))
        return false;
    frac -= extra;
    return adjust_fract_usecs(frac, USECS_PER_DAY, t);
}

static bool
adjust_fract_years(double frac, int scale, struct itm *t)
{
    int extra = (int)rint(frac * scale * MONTHS_PER_YEAR);
    return !__builtin_add_overflow(t->mon, extra, &t->mon);
}

static bool
adjust_usecs(int64_t val, double fval, int64_t scale, struct itm *t)
{
    return mul_add(val, scale, &t->usec) && adjust_fract_usecs(fval, scale, t);
}

static bool
adjust_days(int64_t val, int scale, struct itm *t)
{
    int32_t d;
    if (val < INT32_MIN || val > INT32_MAX)
        return false;
    return !__builtin_mul_overflow((int32_t)val, scale, &d) &&
           !__builtin_add_overflow(t->mday, d, &t->mday);
}

static bool
adjust_months(int64_t val, struct itm *t)
{
    if (val < INT32_MIN || val > INT32_MAX)
        return false;
    return !__builtin_add_overflow(t->mon, (int32_t)val, &t->mon);
}

static bool
adjust_years(int64_t val, int scale, struct itm *t)
{
    int32_t y;
    if (val < INT32_MIN || val > INT32_MAX)
        return false;
    return !__builtin_mul_overflow((int32_t)val, scale, &y) &&
           !__builtin_add_overflow(t->year, y, &t->year);
}

/* strtoi64 of PostgreSQL: decimal, optional sign; *@overflow on ERANGE. */
static int64_t
read_i64(const char *p, const char **end, bool *overflow)
{
    char *e;
    errno = 0;
    long long v = strtoll(p, &e, 10);
    *overflow = errno == ERANGE;
    *end = e;
    return (int64_t)v;
}

/* ParseFraction: @cp at '.'; "." alone is 0. */
static int
parse_fraction(const char *cp, double *frac)
{
    if (cp[1] == '\0') {
        *frac = 0;
        return DT_OK;
    }
    char *e;
    errno = 0;
    *frac = strtod(cp, &e);
    if (*e != '\0' || errno != 0)
        return DT_BAD_FORMAT;
    return DT_OK;
}

/* DecodeTimeCommon + DecodeTimeForInterval: 'h:m[:s[.f]]' or 'm:s.f'. */
static int
decode_time(const char *str, int range, int64_t *usec)
{
    const char *cp;
    bool ovf;
    int64_t hour, min, sec = 0;
    int64_t fsec = 0;

    hour = read_i64(str, &cp, &ovf);
    if (ovf)
        return DT_FIELD_OVERFLOW;
    if (*cp != ':')
        return DT_BAD_FORMAT;
    min = read_i64(cp + 1, &cp, &ovf);
    if (ovf || min > INT32_MAX || min < INT32_MIN)
        return DT_FIELD_OVERFLOW;
    if (*cp == '\0') {
        if (range == (TL_INTERVAL_MINUTE | TL_INTERVAL_SECOND)) {
            if (hour > INT32_MAX || hour < INT32_MIN)
                return DT_FIELD_OVERFLOW;
            sec = min;
            min = hour;
            hour = 0;
        }
    } else if (*cp == '.') {
        char *e;
        errno = 0;
        double frac = strtod(cp, &e);
        if (*e != '\0' || errno != 0)
            return DT_BAD_FORMAT;
        fsec = (int64_t)rint(frac * 1000000);
        if (hour > INT32_MAX || hour < INT32_MIN)
            return DT_FIELD_OVERFLOW;
        sec = min;
        min = hour;
        hour = 0;
    } else if (*cp == ':') {
        sec = read_i64(cp + 1, &cp, &ovf);
        if (ovf || sec > INT32_MAX || sec < INT32_MIN)
            return DT_FIELD_OVERFLOW;
        if (*cp == '.') {
            char *e;
            errno = 0;
            double frac = strtod(cp, &e);
            if (*e != '\0' || errno != 0)
                return DT_BAD_FORMAT;
            fsec = (int64_t)rint(frac * 1000000);
        } else if (*cp != '\0') {
            return DT_BAD_FORMAT;
        }
    } else {
        return DT_BAD_FORMAT;
    }
    if (hour < 0 || min < 0 || min > 59 || sec < 0 || sec > 60 || fsec < 0 ||
        fsec > USECS_PER_SEC)
        return DT_FIELD_OVERFLOW;
    *usec = fsec;
    if (!mul_add(hour, USECS_PER_HOUR, usec) ||
        !mul_add(min, USECS_PER_MINUTE, usec) ||
        !mul_add(sec, USECS_PER_SEC, usec))
        return DT_FIELD_OVERFLOW;
    return DT_OK;
}

/* The unit a number without one takes under typmod range @range. */
static int
default_unit(int range)
{
    switch (range) {
    case TL_INTERVAL_YEAR:
        return U_YEAR;
    case TL_INTERVAL_MONTH:
    case TL_INTERVAL_YEAR | TL_INTERVAL_MONTH:
        return U_MONTH;
    case TL_INTERVAL_DAY:
        return U_DAY;
    case TL_INTERVAL_HOUR:
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR:
        return U_HOUR;
    case TL_INTERVAL_MINUTE:
    case TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE:
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE:
        return U_MINUTE;
    default:
        return U_SECOND;
    }
}

/* One number field @s of unit @unit (DecodeInterval's DTK_NUMBER). */
static int
decode_number(const char *s, int *unit, int range, struct itm *t,
              unsigned *tmask)
{
    const char *cp;
    bool ovf;
    double fval = 0;
    int64_t val;

    if (*unit == U_NONE)
        *unit = default_unit(range);
    val = read_i64(s, &cp, &ovf);
    if (ovf)
        return DT_FIELD_OVERFLOW;
    if (cp == s && !(*cp == '.'))
        return DT_BAD_FORMAT;
    if (*cp == '-') {
        /* SQL "years-months" */
        const char *e;
        int64_t v2 = read_i64(cp + 1, &e, &ovf);
        if (ovf || v2 < 0 || v2 >= MONTHS_PER_YEAR || e == cp + 1)
            return DT_FIELD_OVERFLOW;
        if (*e != '\0')
            return DT_BAD_FORMAT;
        *unit = U_MONTH;
        if (*s == '-')
            v2 = -v2;
        if (__builtin_mul_overflow(val, MONTHS_PER_YEAR, &val) ||
            __builtin_add_overflow(val, v2, &val))
            return DT_FIELD_OVERFLOW;
    } else if (*cp == '.') {
        int rv = parse_fraction(cp, &fval);
        if (rv != DT_OK)
            return rv;
        if (*s == '-')
            fval = -fval;
    } else if (*cp != '\0') {
        return DT_BAD_FORMAT;
    }
    switch (*unit) {
    case U_MICROSEC:
        if (!adjust_usecs(val, fval, 1, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_MICROSEC);
        break;
    case U_MILLISEC:
        if (!adjust_usecs(val, fval, 1000, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_MILLISEC);
        break;
    case U_SECOND:
        if (!adjust_usecs(val, fval, USECS_PER_SEC, t))
            return DT_FIELD_OVERFLOW;
        *tmask = fval == 0 ? M(U_SECOND) : ALL_SECS_M;
        break;
    case U_MINUTE:
        if (!adjust_usecs(val, fval, USECS_PER_MINUTE, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_MINUTE);
        break;
    case U_HOUR:
        if (!adjust_usecs(val, fval, USECS_PER_HOUR, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_HOUR);
        *unit = U_DAY; /* a number before it is days */
        break;
    case U_DAY:
        if (!adjust_days(val, 1, t) ||
            !adjust_fract_usecs(fval, USECS_PER_DAY, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_DAY);
        break;
    case U_WEEK:
        if (!adjust_days(val, 7, t) || !adjust_fract_days(fval, 7, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_WEEK);
        break;
    case U_MONTH:
        if (!adjust_months(val, t) ||
            !adjust_fract_days(fval, DAYS_PER_MONTH, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_MONTH);
        break;
    case U_YEAR:
        if (!adjust_years(val, 1, t) || !adjust_fract_years(fval, 1, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_YEAR);
        break;
    case U_DECADE:
        if (!adjust_years(val, 10, t) || !adjust_fract_years(fval, 10, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_DECADE);
        break;
    case U_CENTURY:
        if (!adjust_years(val, 100, t) || !adjust_fract_years(fval, 100, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_CENTURY);
        break;
    case U_MILLENNIUM:
        if (!adjust_years(val, 1000, t) || !adjust_fract_years(fval, 1000, t))
            return DT_FIELD_OVERFLOW;
        *tmask = M(U_MILLENNIUM);
        break;
    default:
        return DT_BAD_FORMAT;
    }
    return DT_OK;
}

/* DecodeInterval: the fields read right to left, so that a unit is seen
 * before its number. */
static int
decode_fields(const struct fields *f, int range, struct itm *t)
{
    unsigned fmask = 0, tmask;
    int unit = U_NONE;
    bool ago = false;
    int rv;

    for (int i = f->n - 1; i >= 0; i--) {
        const char *s = f->text[i];
        tmask = 0;
        switch (f->type[i]) {
        case F_TIME:
            if ((rv = decode_time(s, range, &t->usec)) != DT_OK)
                return rv;
            tmask = TIME_M;
            unit = U_DAY;
            break;
        case F_TZ:
            if (strchr(s + 1, ':') != NULL) {
                int64_t usec = 0;
                if (decode_time(s + 1, range, &usec) == DT_OK) {
                    t->usec = *s == '-' ? -usec : usec;
                    tmask = TIME_M;
                    unit = U_DAY;
                    break;
                }
            }
            /* a signed number or year-month */
            /* fall through */
        case F_DATE:
        case F_NUMBER:
            if ((rv = decode_number(s, &unit, range, t, &tmask)) != DT_OK)
                return rv;
            break;
        case F_STRING:
        case F_SPECIAL: {
            int u = decode_unit(s);
            if (u == U_NONE || u == U_BAD)
                return DT_BAD_FORMAT;
            if (u == U_AGO)
                ago = true;
            else
                unit = u;
            break;
        }
        default:
            return DT_BAD_FORMAT;
        }
        if (tmask & fmask)
            return DT_BAD_FORMAT;
        fmask |= tmask;
    }
    if (fmask == 0)
        return DT_BAD_FORMAT;
    if (ago) {
        if (t->usec == INT64_MIN || t->mday == INT32_MIN ||
            t->mon == INT32_MIN || t->year == INT32_MIN)
            return DT_FIELD_OVERFLOW;
        t->usec = -t->usec;
        t->mday = -t->mday;
        t->mon = -t->mon;
        t->year = -t->year;
    }
    return DT_OK;
}

/* ParseISO8601Number. */
static int
iso_number(const char *s, const char **end, int64_t *ipart, double *fpart)
{
    if (!(is_digit(*s) || *s == '-' || *s == '.'))
        return DT_BAD_FORMAT;
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno != 0)
        return DT_BAD_FORMAT;
    if (isnan(v) || v < -1.0e15 || v > 1.0e15)
        return DT_FIELD_OVERFLOW;
    *ipart = v >= 0 ? (int64_t)floor(v) : (int64_t)-floor(-v);
    *fpart = v - (double)*ipart;
    *end = e;
    return DT_OK;
}

/* DecodeISO8601Interval over NUL-terminated @str (the designator format
 * and the extended alternative format). */
static int
decode_iso(const char *str, struct itm *t)
{
    bool datepart = true, havefield = false;
    int64_t val;
    double fval;
    int rv;

    if (strlen(str) < 2 || str[0] != 'P')
        return DT_BAD_FORMAT;
    str++;
    while (*str) {
        if (*str == 'T') {
            datepart = false;
            havefield = false;
            str++;
            continue;
        }
        if ((rv = iso_number(str, &str, &val, &fval)) != DT_OK)
            return rv;
        char unit = *str;
        if (unit != '\0')
            str++;
        if (datepart) {
            switch (unit) {
            case 'Y':
                if (!adjust_years(val, 1, t) || !adjust_fract_years(fval, 1, t))
                    return DT_FIELD_OVERFLOW;
                break;
            case 'M':
                if (!adjust_months(val, t) ||
                    !adjust_fract_days(fval, DAYS_PER_MONTH, t))
                    return DT_FIELD_OVERFLOW;
                break;
            case 'W':
                if (!adjust_days(val, 7, t) || !adjust_fract_days(fval, 7, t))
                    return DT_FIELD_OVERFLOW;
                break;
            case 'D':
                if (!adjust_days(val, 1, t) ||
                    !adjust_fract_usecs(fval, USECS_PER_DAY, t))
                    return DT_FIELD_OVERFLOW;
                break;
            case 'T':
            case '\0':
            case '-':
                if (havefield)
                    return DT_BAD_FORMAT;
                if (!adjust_years(val, 1, t) || !adjust_fract_years(fval, 1, t))
                    return DT_FIELD_OVERFLOW;
                if (unit == '\0')
                    return DT_OK;
                if (unit == 'T') {
                    datepart = false;
                    havefield = false;
                    continue;
                }
                if ((rv = iso_number(str, &str, &val, &fval)) != DT_OK)
                    return rv;
                if (!adjust_months(val, t) ||
                    !adjust_fract_days(fval, DAYS_PER_MONTH, t))
                    return DT_FIELD_OVERFLOW;
                if (*str == '\0')
                    return DT_OK;
                if (*str == 'T') {
                    datepart = false;
                    havefield = false;
                    continue;
                }
                if (*str != '-')
                    return DT_BAD_FORMAT;
                str++;
                if ((rv = iso_number(str, &str, &val, &fval)) != DT_OK)
                    return rv;
                if (!adjust_days(val, 1, t) ||
                    !adjust_fract_usecs(fval, USECS_PER_DAY, t))
                    return DT_FIELD_OVERFLOW;
                if (*str == '\0')
                    return DT_OK;
                if (*str == 'T') {
                    datepart = false;
                    havefield = false;
                    continue;
                }
                return DT_BAD_FORMAT;
            default:
                return DT_BAD_FORMAT;
            }
        } else {
            switch (unit) {
            case 'H':
                if (!adjust_usecs(val, fval, USECS_PER_HOUR, t))
                    return DT_FIELD_OVERFLOW;
                break;
            case 'M':
                if (!adjust_usecs(val, fval, USECS_PER_MINUTE, t))
                    return DT_FIELD_OVERFLOW;
                break;
            case 'S':
                if (!adjust_usecs(val, fval, USECS_PER_SEC, t))
                    return DT_FIELD_OVERFLOW;
                break;
            case '\0':
            case ':':
                if (havefield)
                    return DT_BAD_FORMAT;
                if (!adjust_usecs(val, fval, USECS_PER_HOUR, t))
                    return DT_FIELD_OVERFLOW;
                if (unit == '\0')
                    return DT_OK;
                if ((rv = iso_number(str, &str, &val, &fval)) != DT_OK)
                    return rv;
                if (!adjust_usecs(val, fval, USECS_PER_MINUTE, t))
                    return DT_FIELD_OVERFLOW;
                if (*str == '\0')
                    return DT_OK;
                if (*str != ':')
                    return DT_BAD_FORMAT;
                str++;
                if ((rv = iso_number(str, &str, &val, &fval)) != DT_OK)
                    return rv;
                if (!adjust_usecs(val, fval, USECS_PER_SEC, t))
                    return DT_FIELD_OVERFLOW;
                if (*str == '\0')
                    return DT_OK;
                return DT_BAD_FORMAT;
            default:
                return DT_BAD_FORMAT;
            }
        }
        havefield = true;
    }
    return DT_OK;
}

static int
out_of_range(struct tl_error *err)
{
    return tl_error_set(err, TL_EOVERFLOW, TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                        "interval out of range");
}

int
tl_interval_parse(const char *s, size_t len, int32_t typmod,
                  struct tl_interval *out, struct tl_error *err)
{
    struct fields *f = malloc(sizeof(*f));
    struct itm t = {0, 0, 0, 0};
    int range = typmod >= 0 ? (typmod >> 16) & 0x7FFF : TL_INTERVAL_FULL_RANGE;
    int rv;

    if (f == NULL)
        abort();
    rv = memchr(s, '\0', len) != NULL ? DT_BAD_FORMAT : tokenize(s, len, f);
    if (rv == DT_OK)
        rv = decode_fields(f, range, &t);
    if (rv == DT_BAD_FORMAT && memchr(s, '\0', len) == NULL) {
        char *copy = malloc(len + 1);
        if (copy == NULL)
            abort();
        memcpy(copy, s, len);
        copy[len] = '\0';
        memset(&t, 0, sizeof(t));
        rv = decode_iso(copy, &t);
        free(copy);
    }
    free(f);
    if (rv == DT_BAD_FORMAT)
        return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_INVALID_DATETIME_FORMAT,
                            "invalid input syntax for type interval: \"%.*s\"",
                            (int)len, s);
    if (rv != DT_OK)
        return tl_error_set(
            err, TL_EOVERFLOW, TL_SQLSTATE_INTERVAL_FIELD_OVERFLOW,
            "interval field value out of range: \"%.*s\"", (int)len, s);
    int32_t months;
    if (__builtin_mul_overflow(t.year, MONTHS_PER_YEAR, &months) ||
        __builtin_add_overflow(months, t.mon, &months))
        return out_of_range(err);
    out->month = months;
    out->day = t.mday;
    out->time = t.usec;
    return tl_interval_apply_typmod(out, typmod, err);
}

/* ------------------------------------------------------------- typmod */

static bool
range_is_valid(int32_t r)
{
    switch (r) {
    case TL_INTERVAL_YEAR:
    case TL_INTERVAL_MONTH:
    case TL_INTERVAL_DAY:
    case TL_INTERVAL_HOUR:
    case TL_INTERVAL_MINUTE:
    case TL_INTERVAL_SECOND:
    case TL_INTERVAL_YEAR | TL_INTERVAL_MONTH:
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR:
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE:
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE |
        TL_INTERVAL_SECOND:
    case TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE:
    case TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE | TL_INTERVAL_SECOND:
    case TL_INTERVAL_MINUTE | TL_INTERVAL_SECOND:
    case TL_INTERVAL_FULL_RANGE:
        return true;
    default:
        return false;
    }
}

int
tl_interval_typmod(int32_t range, int32_t precision, int32_t *typmod,
                   struct tl_error *err)
{
    if (!range_is_valid(range))
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "invalid INTERVAL type modifier");
    if (precision < 0 && precision != -1)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "INTERVAL(%d) precision must not be negative",
                            precision);
    if (precision == -1) {
        *typmod = range == TL_INTERVAL_FULL_RANGE
                      ? -1
                      : (range << 16) | TL_INTERVAL_FULL_PRECISION;
        return 0;
    }
    if (precision > 6)
        precision = 6;
    *typmod = (range << 16) | precision;
    return 0;
}

void
tl_interval_typmod_format(int32_t typmod, struct tl_buf *out)
{
    if (typmod < 0)
        return;
    int range = (typmod >> 16) & 0x7FFF, precision = typmod & 0xFFFF;
    const char *f = "";
    switch (range) {
    case TL_INTERVAL_YEAR:
        f = " year";
        break;
    case TL_INTERVAL_MONTH:
        f = " month";
        break;
    case TL_INTERVAL_DAY:
        f = " day";
        break;
    case TL_INTERVAL_HOUR:
        f = " hour";
        break;
    case TL_INTERVAL_MINUTE:
        f = " minute";
        break;
    case TL_INTERVAL_SECOND:
        f = " second";
        break;
    case TL_INTERVAL_YEAR | TL_INTERVAL_MONTH:
        f = " year to month";
        break;
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR:
        f = " day to hour";
        break;
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE:
        f = " day to minute";
        break;
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE |
        TL_INTERVAL_SECOND:
        f = " day to second";
        break;
    case TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE:
        f = " hour to minute";
        break;
    case TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE | TL_INTERVAL_SECOND:
        f = " hour to second";
        break;
    case TL_INTERVAL_MINUTE | TL_INTERVAL_SECOND:
        f = " minute to second";
        break;
    default:
        break;
    }
    tl_buf_printf(out, "%s", f);
    if (precision != TL_INTERVAL_FULL_PRECISION)
        tl_buf_printf(out, "(%d)", precision);
}

int
tl_interval_apply_typmod(struct tl_interval *iv, int32_t typmod,
                         struct tl_error *err)
{
    static const int64_t scales[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    static const int64_t offsets[7] = {500000, 50000, 5000, 500, 50, 5, 0};

    if (typmod < 0)
        return 0;
    int range = (typmod >> 16) & 0x7FFF, precision = typmod & 0xFFFF;
    switch (range) {
    case TL_INTERVAL_YEAR:
        iv->month = (iv->month / MONTHS_PER_YEAR) * MONTHS_PER_YEAR;
        iv->day = 0;
        iv->time = 0;
        break;
    case TL_INTERVAL_MONTH:
    case TL_INTERVAL_YEAR | TL_INTERVAL_MONTH:
        iv->day = 0;
        iv->time = 0;
        break;
    case TL_INTERVAL_DAY:
        iv->time = 0;
        break;
    case TL_INTERVAL_HOUR:
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR:
        iv->time = (iv->time / USECS_PER_HOUR) * USECS_PER_HOUR;
        break;
    case TL_INTERVAL_MINUTE:
    case TL_INTERVAL_DAY | TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE:
    case TL_INTERVAL_HOUR | TL_INTERVAL_MINUTE:
        iv->time = (iv->time / USECS_PER_MINUTE) * USECS_PER_MINUTE;
        break;
    default:
        break;
    }
    if (precision != TL_INTERVAL_FULL_PRECISION && precision <= 6) {
        int64_t t = iv->time < 0 ? -iv->time : iv->time;
        if (iv->time == INT64_MIN ||
            __builtin_add_overflow(t, offsets[precision], &t))
            return out_of_range(err);
        t = t / scales[precision] * scales[precision];
        iv->time = iv->time < 0 ? -t : t;
    }
    return 0;
}

/* ------------------------------------------------------------- output */

/* AddPostgresIntPart. */
static void
add_part(struct tl_buf *out, int64_t value, const char *unit, bool *is_zero,
         bool *is_before)
{
    if (value == 0)
        return;
    tl_buf_printf(out, "%s%s%lld %s%s", *is_zero ? "" : " ",
                  *is_before && value > 0 ? "+" : "", (long long)value, unit,
                  value != 1 ? "s" : "");
    *is_before = value < 0;
    *is_zero = false;
}

void
tl_interval_format(const struct tl_interval *iv, struct tl_buf *out)
{
    bool is_zero = true, is_before = false;
    int64_t time = iv->time;
    int64_t hour = time / USECS_PER_HOUR;
    time -= hour * USECS_PER_HOUR;
    int64_t min = time / USECS_PER_MINUTE;
    time -= min * USECS_PER_MINUTE;
    int64_t sec = time / USECS_PER_SEC;
    int64_t fsec = time - sec * USECS_PER_SEC;

    add_part(out, iv->month / MONTHS_PER_YEAR, "year", &is_zero, &is_before);
    add_part(out, iv->month % MONTHS_PER_YEAR, "mon", &is_zero, &is_before);
    add_part(out, iv->day, "day", &is_zero, &is_before);
    if (!is_zero && hour == 0 && min == 0 && sec == 0 && fsec == 0)
        return;
    bool minus = hour < 0 || min < 0 || sec < 0 || fsec < 0;
    /* -hour of INT64_MIN's hours cannot overflow: |hour| < 2^63 / 3.6e9. */
    tl_buf_printf(out, "%s%s%02lld:%02lld:%02lld", is_zero ? "" : " ",
                  minus ? "-" : (is_before ? "+" : ""),
                  (long long)(hour < 0 ? -hour : hour),
                  (long long)(min < 0 ? -min : min),
                  (long long)(sec < 0 ? -sec : sec));
    if (fsec != 0) {
        char digits[24];
        snprintf(digits, sizeof(digits), "%06lld",
                 (long long)(fsec < 0 ? -fsec : fsec));
        int n = 6;
        while (n > 0 && digits[n - 1] == '0')
            n--;
        tl_buf_printf(out, ".%.*s", n, digits);
    }
}

/* --------------------------------------------------------- comparison */

void
tl_interval_span(const struct tl_interval *iv, int64_t *days, int64_t *usecs)
{
    int64_t frac = iv->time % USECS_PER_DAY;
    int64_t d = iv->time / USECS_PER_DAY + (int64_t)iv->month * 30 + iv->day;
    if (frac < 0) {
        frac += USECS_PER_DAY;
        d--;
    }
    *days = d;
    *usecs = frac;
}

struct tl_interval
tl_interval_from_span(int64_t days, int64_t usecs)
{
    struct tl_interval iv;
    int64_t months = days / 30;
    if (months > INT32_MAX)
        months = INT32_MAX;
    if (months < INT32_MIN)
        months = INT32_MIN;
    days -= months * 30;
    int64_t d = days;
    if (d > INT32_MAX)
        d = INT32_MAX;
    if (d < INT32_MIN)
        d = INT32_MIN;
    iv.month = (int32_t)months;
    iv.day = (int32_t)d;
    iv.time = (days - d) * USECS_PER_DAY + usecs;
    return iv;
}

int
tl_interval_cmp(const struct tl_interval *a, const struct tl_interval *b)
{
    int64_t da, ua, db, ub;
    tl_interval_span(a, &da, &ua);
    tl_interval_span(b, &db, &ub);
    if (da != db)
        return da < db ? -1 : 1;
    return (ua > ub) - (ua < ub);
}

/* --------------------------------------------------------- arithmetic */

int
tl_interval_add(const struct tl_interval *a, const struct tl_interval *b,
                struct tl_interval *out, struct tl_error *err)
{
    struct tl_interval r;
    if (__builtin_add_overflow(a->month, b->month, &r.month) ||
        __builtin_add_overflow(a->day, b->day, &r.day) ||
        __builtin_add_overflow(a->time, b->time, &r.time))
        return out_of_range(err);
    *out = r;
    return 0;
}

int
tl_interval_sub(const struct tl_interval *a, const struct tl_interval *b,
                struct tl_interval *out, struct tl_error *err)
{
    struct tl_interval r;
    if (__builtin_sub_overflow(a->month, b->month, &r.month) ||
        __builtin_sub_overflow(a->day, b->day, &r.day) ||
        __builtin_sub_overflow(a->time, b->time, &r.time))
        return out_of_range(err);
    *out = r;
    return 0;
}

int
tl_interval_neg(const struct tl_interval *a, struct tl_interval *out,
                struct tl_error *err)
{
    if (a->month == INT32_MIN || a->day == INT32_MIN || a->time == INT64_MIN)
        return out_of_range(err);
    out->month = -a->month;
    out->day = -a->day;
    out->time = -a->time;
    return 0;
}

static bool
fits_i32(double d)
{
    return !isnan(d) && d >= (double)INT32_MIN && d < -(double)INT32_MIN;
}

static bool
fits_i64(double d)
{
    return !isnan(d) && d >= (double)INT64_MIN && d < -(double)INT64_MIN;
}

static double
ts_round(double j)
{
    return rint(j * 1000000.0) / 1000000.0;
}

/* interval_mul (@div false) and interval_div: @m and @d are the month and
 * day products, @t the time product. */
static int
scale(const struct tl_interval *a, double m, double d, double t,
      struct tl_interval *out, struct tl_error *err)
{
    struct tl_interval r;
    if (!fits_i32(m))
        return out_of_range(err);
    r.month = (int32_t)m;
    if (!fits_i32(d))
        return out_of_range(err);
    r.day = (int32_t)d;
    double month_rem_days = ts_round((m - r.month) * DAYS_PER_MONTH);
    double sec_rem =
        ts_round((d - r.day + month_rem_days - (double)(int)month_rem_days) *
                 SECS_PER_DAY);
    if (fabs(sec_rem) >= SECS_PER_DAY) {
        if (__builtin_add_overflow(r.day, (int)(sec_rem / SECS_PER_DAY),
                                   &r.day))
            return out_of_range(err);
        sec_rem -= (int)(sec_rem / SECS_PER_DAY) * SECS_PER_DAY;
    }
    if (__builtin_add_overflow(r.day, (int32_t)month_rem_days, &r.day))
        return out_of_range(err);
    double tt = rint(t + sec_rem * USECS_PER_SEC);
    if (!fits_i64(tt))
        return out_of_range(err);
    r.time = (int64_t)tt;
    (void)a;
    *out = r;
    return 0;
}

int
tl_interval_mul(const struct tl_interval *a, double f, struct tl_interval *out,
                struct tl_error *err)
{
    return scale(a, a->month * f, a->day * f, (double)a->time * f, out, err);
}

int
tl_interval_div(const struct tl_interval *a, double f, struct tl_interval *out,
                struct tl_error *err)
{
    if (f == 0.0)
        return tl_error_set(err, TL_EDIVZERO, TL_SQLSTATE_DIVISION_BY_ZERO,
                            "division by zero");
    return scale(a, a->month / f, a->day / f, (double)a->time / f, out, err);
}

int
tl_interval_justify_hours(const struct tl_interval *a, struct tl_interval *out,
                          struct tl_error *err)
{
    struct tl_interval r = *a;
    int64_t whole = r.time / USECS_PER_DAY;
    r.time -= whole * USECS_PER_DAY;
    if (__builtin_add_overflow(r.day, (int32_t)whole, &r.day))
        return out_of_range(err);
    if (r.day > 0 && r.time < 0) {
        r.time += USECS_PER_DAY;
        r.day--;
    } else if (r.day < 0 && r.time > 0) {
        r.time -= USECS_PER_DAY;
        r.day++;
    }
    *out = r;
    return 0;
}

int
tl_interval_justify_days(const struct tl_interval *a, struct tl_interval *out,
                         struct tl_error *err)
{
    struct tl_interval r = *a;
    int32_t whole = r.day / DAYS_PER_MONTH;
    r.day -= whole * DAYS_PER_MONTH;
    if (__builtin_add_overflow(r.month, whole, &r.month))
        return out_of_range(err);
    if (r.month > 0 && r.day < 0) {
        r.day += DAYS_PER_MONTH;
        r.month--;
    } else if (r.month < 0 && r.day > 0) {
        r.day -= DAYS_PER_MONTH;
        r.month++;
    }
    *out = r;
    return 0;
}

int
tl_interval_justify_interval(const struct tl_interval *a,
                             struct tl_interval *out, struct tl_error *err)
{
    struct tl_interval r = *a;
    int32_t wm;
    if ((r.day > 0 && r.time > 0) || (r.day < 0 && r.time < 0)) {
        wm = r.day / DAYS_PER_MONTH;
        r.day -= wm * DAYS_PER_MONTH;
        if (__builtin_add_overflow(r.month, wm, &r.month))
            return out_of_range(err);
    }
    int64_t wd = r.time / USECS_PER_DAY;
    r.time -= wd * USECS_PER_DAY;
    if (__builtin_add_overflow(r.day, (int32_t)wd, &r.day))
        return out_of_range(err);
    wm = r.day / DAYS_PER_MONTH;
    r.day -= wm * DAYS_PER_MONTH;
    if (__builtin_add_overflow(r.month, wm, &r.month))
        return out_of_range(err);
    if (r.month > 0 && (r.day < 0 || (r.day == 0 && r.time < 0))) {
        r.day += DAYS_PER_MONTH;
        r.month--;
    } else if (r.month < 0 && (r.day > 0 || (r.day == 0 && r.time > 0))) {
        r.day -= DAYS_PER_MONTH;
        r.month++;
    }
    if (r.day > 0 && r.time < 0) {
        r.time += USECS_PER_DAY;
        r.day--;
    } else if (r.day < 0 && r.time > 0) {
        r.time -= USECS_PER_DAY;
        r.day++;
    }
    *out = r;
    return 0;
}

/* ------------------------------------------------- timestamp arithmetic */

static int
ts_out_of_range(struct tl_error *err)
{
    return tl_error_set(err, TL_EOVERFLOW, TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                        "timestamp out of range");
}

static bool
ts_valid(int64_t ts)
{
    return ts >= MIN_TIMESTAMP && ts < END_TIMESTAMP;
}

/* Days and time of day of finite @ts. */
static void
split_ts(int64_t ts, int64_t *days, int64_t *tod)
{
    *days = tl_floor_div(ts, USECS_PER_DAY);
    *tod = ts - *days * USECS_PER_DAY;
}

/* tm2timestamp of @days and @tod: false when out of range. */
static bool
join_ts(int64_t days, int64_t tod, int64_t *ts)
{
    /* The valid range is within +-2^37 days. */
    if (days < -(INT64_C(1) << 37) || days > (INT64_C(1) << 37))
        return false;
    *ts = days * USECS_PER_DAY + tod;
    return ts_valid(*ts);
}

int
tl_timestamp_add_interval(int64_t ts, const struct tl_interval *iv,
                          int64_t *out, struct tl_error *err)
{
    int64_t days, tod;

    if (ts == TL_TS_NOBEGIN || ts == TL_TS_NOEND) {
        *out = ts;
        return 0;
    }
    if (iv->month != 0) {
        int64_t year;
        int month, day;
        split_ts(ts, &days, &tod);
        tl_date_to_ymd(days, &year, &month, &day);
        int64_t m = (int64_t)month + iv->month;
        if (m > MONTHS_PER_YEAR) {
            year += (m - 1) / MONTHS_PER_YEAR;
            m = ((m - 1) % MONTHS_PER_YEAR) + 1;
        } else if (m < 1) {
            year += m / MONTHS_PER_YEAR - 1;
            m = m % MONTHS_PER_YEAR + MONTHS_PER_YEAR;
        }
        if (day > tl_days_in_month(year, (int)m))
            day = tl_days_in_month(year, (int)m);
        if (!join_ts(tl_date_from_ymd(year, (int)m, day), tod, &ts))
            return ts_out_of_range(err);
    }
    if (iv->day != 0) {
        split_ts(ts, &days, &tod);
        if (!join_ts(days + iv->day, tod, &ts))
            return ts_out_of_range(err);
    }
    if (__builtin_add_overflow(ts, iv->time, &ts) || !ts_valid(ts))
        return ts_out_of_range(err);
    *out = ts;
    return 0;
}

int
tl_timestamp_diff(int64_t a, int64_t b, struct tl_interval *out,
                  struct tl_error *err)
{
    struct tl_interval r = {0, 0, 0};
    if (a == TL_TS_NOBEGIN || a == TL_TS_NOEND || b == TL_TS_NOBEGIN ||
        b == TL_TS_NOEND)
        return tl_error_set(err, TL_EOVERFLOW,
                            TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                            "cannot subtract infinite timestamps");
    if (__builtin_sub_overflow(a, b, &r.time))
        return out_of_range(err);
    return tl_interval_justify_hours(&r, out, err);
}

int
tl_timestamp_age(int64_t a, int64_t b, struct tl_interval *out,
                 struct tl_error *err)
{
    int64_t d1, t1, d2, t2, y1, y2;
    int m1, m2, md1, md2;

    if (a == TL_TS_NOBEGIN || a == TL_TS_NOEND || b == TL_TS_NOBEGIN ||
        b == TL_TS_NOEND)
        return ts_out_of_range(err);
    split_ts(a, &d1, &t1);
    split_ts(b, &d2, &t2);
    tl_date_to_ymd(d1, &y1, &m1, &md1);
    tl_date_to_ymd(d2, &y2, &m2, &md2);
    int64_t fsec = t1 % USECS_PER_SEC - t2 % USECS_PER_SEC;
    int64_t sec = (t1 / USECS_PER_SEC) % 60 - (t2 / USECS_PER_SEC) % 60;
    int64_t min = (t1 / USECS_PER_MINUTE) % 60 - (t2 / USECS_PER_MINUTE) % 60;
    int64_t hour = t1 / USECS_PER_HOUR - t2 / USECS_PER_HOUR;
    int64_t mday = md1 - md2, mon = m1 - m2, year = y1 - y2;
    bool flip = a < b;
    if (flip) {
        fsec = -fsec;
        sec = -sec;
        min = -min;
        hour = -hour;
        mday = -mday;
        mon = -mon;
        year = -year;
    }
    while (fsec < 0) {
        fsec += USECS_PER_SEC;
        sec--;
    }
    while (sec < 0) {
        sec += 60;
        min--;
    }
    while (min < 0) {
        min += 60;
        hour--;
    }
    while (hour < 0) {
        hour += 24;
        mday--;
    }
    while (mday < 0) {
        if (flip)
            mday += tl_days_in_month(y1, m1);
        else
            mday += tl_days_in_month(y2, m2);
        mon--;
    }
    while (mon < 0) {
        mon += MONTHS_PER_YEAR;
        year--;
    }
    if (flip) {
        fsec = -fsec;
        sec = -sec;
        min = -min;
        hour = -hour;
        mday = -mday;
        mon = -mon;
        year = -year;
    }
    int64_t months = year * MONTHS_PER_YEAR + mon;
    if (months > INT32_MAX || months < INT32_MIN)
        return out_of_range(err);
    out->month = (int32_t)months;
    out->day = (int32_t)mday;
    out->time = ((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + fsec;
    return 0;
}
