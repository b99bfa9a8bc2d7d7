/* scalar — built-in scalar functions. See scalar.h. */
#include "scalar.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <wctype.h>

#include "buf.h"
#include "common/base/sqlstate.h"
#include "datepart.h"
#include "datetime.h"
#include "interval.h"
#include "json.h"
#include "scalar_int.h"

#include <openssl/evp.h>

/* clang-format off */
static const struct tl_func_sig sigs[] = {
    {"lower", TL_FUNC_LOWER, 1, 1, "t", TL_TYPE_TEXT, true, false},
    {"upper", TL_FUNC_UPPER, 1, 1, "t", TL_TYPE_TEXT, true, false},
    {"length", TL_FUNC_LENGTH, 1, 1, "b", TL_TYPE_INT4, true, false},
    {"char_length", TL_FUNC_LENGTH, 1, 1, "t", TL_TYPE_INT4, true, false},
    {"character_length", TL_FUNC_LENGTH, 1, 1, "t", TL_TYPE_INT4, true, false},
    {"octet_length", TL_FUNC_OCTET_LENGTH, 1, 1, "b", TL_TYPE_INT4, true, false},
    {"btrim", TL_FUNC_BTRIM, 1, 2, "tt", TL_TYPE_TEXT, true, false},
    {"ltrim", TL_FUNC_LTRIM, 1, 2, "tt", TL_TYPE_TEXT, true, false},
    {"rtrim", TL_FUNC_RTRIM, 1, 2, "tt", TL_TYPE_TEXT, true, false},
    {"substr", TL_FUNC_SUBSTR, 2, 3, "tii", TL_TYPE_TEXT, true, false},
    {"substring", TL_FUNC_SUBSTR, 2, 3, "tii", TL_TYPE_TEXT, true, false},
    {"replace", TL_FUNC_REPLACE, 3, 3, "ttt", TL_TYPE_TEXT, true, false},
    {"strpos", TL_FUNC_STRPOS, 2, 2, "tt", TL_TYPE_INT4, true, false},
    {"abs", TL_FUNC_ABS, 1, 1, "n", TL_TYPE_UNKNOWN, true, false},
    {"left", TL_FUNC_LEFT, 2, 2, "ti", TL_TYPE_TEXT, true, false},
    {"right", TL_FUNC_RIGHT, 2, 2, "ti", TL_TYPE_TEXT, true, false},
    {"repeat", TL_FUNC_REPEAT, 2, 2, "ti", TL_TYPE_TEXT, true, false},
    {"concat", TL_FUNC_CONCAT, 1, 255, "*", TL_TYPE_TEXT, false, false},
    {"gen_random_uuid", TL_FUNC_GEN_RANDOM_UUID, 0, 0, "", TL_TYPE_UUID, false, true},
    {"json_typeof", TL_FUNC_JSON_TYPEOF, 1, 1, "j", TL_TYPE_TEXT, true, false},
    {"jsonb_typeof", TL_FUNC_JSONB_TYPEOF, 1, 1, "J", TL_TYPE_TEXT, true, false},
    {"json_array_length", TL_FUNC_JSON_ARRAY_LENGTH, 1, 1, "j", TL_TYPE_INT4, true, false},
    {"jsonb_array_length", TL_FUNC_JSONB_ARRAY_LENGTH, 1, 1, "J", TL_TYPE_INT4, true, false},
    {"to_json", TL_FUNC_TO_JSON, 1, 1, "a", TL_TYPE_JSON, true, false},
    {"to_jsonb", TL_FUNC_TO_JSONB, 1, 1, "a", TL_TYPE_JSONB, true, false},
    {"justify_days", TL_FUNC_JUSTIFY_DAYS, 1, 1, "v", TL_TYPE_INTERVAL, true, false},
    {"justify_hours", TL_FUNC_JUSTIFY_HOURS, 1, 1, "v", TL_TYPE_INTERVAL, true, false},
    {"justify_interval", TL_FUNC_JUSTIFY_INTERVAL, 1, 1, "v", TL_TYPE_INTERVAL, true, false},
    {"age", TL_FUNC_AGE, 2, 2, "TT", TL_TYPE_INTERVAL, true, false},
    {"date_part", TL_FUNC_DATE_PART, 2, 2, "tX", TL_TYPE_FLOAT8, true, false},
    {"extract", TL_FUNC_EXTRACT, 2, 2, "tX", TL_TYPE_NUMERIC, true, false},
    {"date_trunc", TL_FUNC_DATE_TRUNC, 2, 2, "tX", TL_TYPE_TIMESTAMPTZ, true, false},
    {"round", TL_FUNC_ROUND, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"round", TL_FUNC_ROUND_SCALE, 2, 2, "Ni", TL_TYPE_NUMERIC, true, false},
    {"ceil", TL_FUNC_CEIL, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"ceiling", TL_FUNC_CEIL, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"floor", TL_FUNC_FLOOR, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"trunc", TL_FUNC_TRUNC, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"trunc", TL_FUNC_TRUNC_SCALE, 2, 2, "Ni", TL_TYPE_NUMERIC, true, false},
    {"sign", TL_FUNC_SIGN, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"mod", TL_FUNC_MOD, 2, 2, "mm", TL_TYPE_UNKNOWN, true, false},
    {"power", TL_FUNC_POWER, 2, 2, "ff", TL_TYPE_UNKNOWN, true, false},
    {"pow", TL_FUNC_POWER, 2, 2, "ff", TL_TYPE_UNKNOWN, true, false},
    {"sqrt", TL_FUNC_SQRT, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"exp", TL_FUNC_EXP, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"ln", TL_FUNC_LN, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"log", TL_FUNC_LOG, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"log10", TL_FUNC_LOG, 1, 1, "f", TL_TYPE_UNKNOWN, true, false},
    {"cbrt", TL_FUNC_CBRT, 1, 1, "d", TL_TYPE_FLOAT8, true, false},
    {"pi", TL_FUNC_PI, 0, 0, "", TL_TYPE_FLOAT8, true, false},
    {"random", TL_FUNC_RANDOM, 0, 0, "", TL_TYPE_FLOAT8, false, true},
    {"degrees", TL_FUNC_DEGREES, 1, 1, "d", TL_TYPE_FLOAT8, true, false},
    {"radians", TL_FUNC_RADIANS, 1, 1, "d", TL_TYPE_FLOAT8, true, false},
    {"div", TL_FUNC_DIV, 2, 2, "NN", TL_TYPE_NUMERIC, true, false},
    {"gcd", TL_FUNC_GCD, 2, 2, "gg", TL_TYPE_UNKNOWN, true, false},
    {"lcm", TL_FUNC_LCM, 2, 2, "gg", TL_TYPE_UNKNOWN, true, false},
    {"position", TL_FUNC_STRPOS, 2, 2, "tt", TL_TYPE_INT4, true, false},
    {"concat_ws", TL_FUNC_CONCAT_WS, 1, 255, "t*", TL_TYPE_TEXT, false, false},
    {"lpad", TL_FUNC_LPAD, 2, 3, "tit", TL_TYPE_TEXT, true, false},
    {"rpad", TL_FUNC_RPAD, 2, 3, "tit", TL_TYPE_TEXT, true, false},
    {"split_part", TL_FUNC_SPLIT_PART, 3, 3, "tti", TL_TYPE_TEXT, true, false},
    {"reverse", TL_FUNC_REVERSE, 1, 1, "t", TL_TYPE_TEXT, true, false},
    {"initcap", TL_FUNC_INITCAP, 1, 1, "t", TL_TYPE_TEXT, true, false},
    {"md5", TL_FUNC_MD5, 1, 1, "b", TL_TYPE_TEXT, true, false},
    {"starts_with", TL_FUNC_STARTS_WITH, 2, 2, "tt", TL_TYPE_BOOL, true, false},
    {"translate", TL_FUNC_TRANSLATE, 3, 3, "ttt", TL_TYPE_TEXT, true, false},
    {"ascii", TL_FUNC_ASCII, 1, 1, "t", TL_TYPE_INT4, true, false},
    {"chr", TL_FUNC_CHR, 1, 1, "i", TL_TYPE_TEXT, true, false},
    {"to_hex", TL_FUNC_TO_HEX, 1, 1, "h", TL_TYPE_TEXT, true, false},
    {NULL, 0, 0, 0, NULL, 0, false, false},
};
/* clang-format on */

const struct tl_func_sig *
tl_func_find(const char *name, uint32_t n_args)
{
    for (const struct tl_func_sig *s = sigs; s->name != NULL; s++)
        if (strcmp(s->name, name) == 0 && n_args >= s->min_args &&
            n_args <= s->max_args)
            return s;
    return NULL;
}

const struct tl_func_sig *
tl_func_by_id(uint8_t id)
{
    for (const struct tl_func_sig *s = sigs; s->name != NULL; s++)
        if (s->id == id)
            return s;
    return NULL;
}

/* Case mapping follows the C.UTF-8 locale, as PostgreSQL's lower() and
 * upper() do in a database whose LC_CTYPE is C.UTF-8 (Talus's). */
static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void
open_utf8_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decode one UTF-8 character at @p (@len bytes left) into *@cp; returns
 * its length, 0 if malformed. */
static size_t
utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
    if (n == 0 || n > len)
        return 0;
    uint32_t v = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    *cp = v;
    return n;
}

static size_t
utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static struct tl_value
map_case(struct tl_arena *a, const char *p, size_t len, bool upper)
{
    pthread_once(&utf8_once, open_utf8_locale);
    char *c = tl_arena_alloc(a, 4 * len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode((const unsigned char *)p + i, len - i, &cp);
        if (n == 0) { /* not UTF-8: copy the byte as it is */
            c[o++] = p[i++];
            continue;
        }
        wint_t w = (wint_t)cp;
        if (utf8_locale != (locale_t)0)
            w = upper ? towupper_l(w, utf8_locale) : towlower_l(w, utf8_locale);
        else if (cp < 0x80)
            w = upper ? (wint_t)(cp >= 'a' && cp <= 'z' ? cp - 32 : cp)
                      : (wint_t)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        o += utf8_encode((uint32_t)w, c + o);
        i += n;
    }
    c[o] = '\0';
    return tl_value_text(TL_TYPE_TEXT, c, (uint32_t)o);
}

struct tl_value
tl_text_case(struct tl_arena *a, const char *p, size_t len, bool upper)
{
    return map_case(a, p, len, upper);
}

/* Bytes of the UTF-8 character starting with @c (1 for a stray byte). */
static size_t
char_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

static size_t
n_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i += char_len((unsigned char)s[i]))
        n++;
    return n;
}

/* Byte offset of character @k (0-based; len when past the end). */
static size_t
char_offset(const char *s, size_t len, int64_t k)
{
    size_t i = 0;
    while (k-- > 0 && i < len)
        i += char_len((unsigned char)s[i]);
    return i < len ? i : len;
}

static struct tl_value
text_out(struct tl_arena *a, const char *p, size_t len)
{
    return tl_value_text_dup(a, TL_TYPE_TEXT, p, len);
}

/* Whether the character at @p (@clen bytes) is one of @set's. */
static bool
in_set(const char *p, size_t clen, const char *set, size_t set_len)
{
    for (size_t i = 0; i < set_len;) {
        size_t l = char_len((unsigned char)set[i]);
        if (l == clen && memcmp(set + i, p, clen) == 0)
            return true;
        i += l;
    }
    return false;
}

static struct tl_value
trim(struct tl_arena *a, const struct tl_value *s, const char *set,
     size_t set_len, bool left, bool right)
{
    const char *p = s->u.s.p;
    size_t start = 0, end = s->u.s.len;
    while (left && start < end) {
        size_t l = char_len((unsigned char)p[start]);
        if (!in_set(p + start, l, set, set_len))
            break;
        start += l;
    }
    while (right && end > start) {
        size_t b = end - 1;
        while (b > start && ((unsigned char)p[b] & 0xc0) == 0x80)
            b--;
        if (!in_set(p + b, end - b, set, set_len))
            break;
        end = b;
    }
    return text_out(a, p + start, end - start);
}

static int
substr(struct tl_arena *a, const struct tl_value *args, uint32_t n,
       struct tl_value *out, struct tl_error *err)
{
    const char *p = args[0].u.s.p;
    size_t len = args[0].u.s.len;
    int64_t from = args[1].u.i; /* 1-based, may be <= 0 */
    int64_t end = INT64_MAX;
    if (n > 2) {
        if (args[2].u.i < 0)
            return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_SUBSTRING_ERROR,
                                "negative substring length not allowed");
        end = from > INT64_MAX - args[2].u.i ? INT64_MAX : from + args[2].u.i;
    }
    int64_t s = from < 1 ? 1 : from;
    if (end <= s) {
        *out = text_out(a, "", 0);
        return 0;
    }
    size_t bs = char_offset(p, len, s - 1);
    size_t be = end == INT64_MAX ? len : char_offset(p, len, end - 1);
    *out = text_out(a, p + bs, be > bs ? be - bs : 0);
    return 0;
}

static struct tl_value
replace(struct tl_arena *a, const struct tl_value *args)
{
    const char *s = args[0].u.s.p, *f = args[1].u.s.p, *t = args[2].u.s.p;
    size_t sl = args[0].u.s.len, fl = args[1].u.s.len, tlen = args[2].u.s.len;
    if (fl == 0)
        return text_out(a, s, sl);
    struct tl_buf b;
    tl_buf_init(&b);
    size_t i = 0;
    while (i < sl) {
        if (i + fl <= sl && memcmp(s + i, f, fl) == 0) {
            tl_buf_append(&b, t, tlen);
            i += fl;
        } else {
            tl_buf_append_u8(&b, (uint8_t)s[i++]);
        }
    }
    struct tl_value v = text_out(a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return v;
}

static int
strpos(const struct tl_value *args)
{
    const char *s = args[0].u.s.p, *sub = args[1].u.s.p;
    size_t sl = args[0].u.s.len, bl = args[1].u.s.len;
    if (bl == 0)
        return 1;
    int pos = 1;
    for (size_t i = 0; i + bl <= sl; i += char_len((unsigned char)s[i])) {
        if (memcmp(s + i, sub, bl) == 0)
            return pos;
        pos++;
    }
    return 0;
}

/* Byte offset just past the last character of @s (@len bytes) that starts
 * before byte @end: the start of the character containing byte @end - 1. */
static size_t
char_start_before(const char *s, size_t end)
{
    size_t b = end - 1;
    while (b > 0 && ((unsigned char)s[b] & 0xc0) == 0x80)
        b--;
    return b;
}

static int
too_large(struct tl_error *err)
{
    return tl_error_set(err, TL_ETOOBIG, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                        "requested length too large");
}

/* lpad() and rpad(): @s cut or padded with @fill to @k characters. */
static int
pad(struct tl_arena *a, const struct tl_value *args, uint32_t n, bool left,
    struct tl_value *out, struct tl_error *err)
{
    const char *p = args[0].u.s.p;
    size_t len = args[0].u.s.len;
    const char *fill = n > 2 ? args[2].u.s.p : " ";
    size_t fill_len = n > 2 ? args[2].u.s.len : 1;
    int64_t k = args[1].u.i < 0 ? 0 : args[1].u.i;
    size_t nc = n_chars(p, len);

    if ((uint64_t)k <= nc || fill_len == 0) {
        /* cut to k characters (nothing to pad with: no padding) */
        size_t end = char_offset(p, len, k);
        *out = text_out(a, p, end);
        return 0;
    }
    /* PostgreSQL's bound: the worst case, k characters of 4 bytes */
    if ((uint64_t)k > ((uint64_t)1 << 30) / 4)
        return too_large(err);
    size_t n_fill = (size_t)k - nc, fill_chars = n_chars(fill, fill_len);
    struct tl_buf b;
    tl_buf_init(&b);
    if (!left)
        tl_buf_append(&b, p, len);
    for (size_t i = 0; i < n_fill; i += fill_chars) {
        size_t take = n_fill - i < fill_chars ? n_fill - i : fill_chars;
        tl_buf_append(&b, fill, char_offset(fill, fill_len, (int64_t)take));
    }
    if (left)
        tl_buf_append(&b, p, len);
    *out = text_out(a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return 0;
}

/* split_part() as PostgreSQL 14+: field @k of @s split on @delim, counted
 * from the end when negative; "" past the last field. */
static int
split_part(struct tl_arena *a, const struct tl_value *args,
           struct tl_value *out, struct tl_error *err)
{
    const char *s = args[0].u.s.p, *d = args[1].u.s.p;
    size_t sl = args[0].u.s.len, dl = args[1].u.s.len;
    int64_t k = args[2].u.i;

    if (k == 0)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "field position must not be zero");
    *out = text_out(a, "", 0);
    if (sl == 0)
        return 0;
    if (dl == 0) { /* the whole string is the only field */
        if (k == 1 || k == -1)
            *out = text_out(a, s, sl);
        return 0;
    }
    /* field boundaries: starts[i] .. ends[i] */
    size_t n_fields = 1;
    for (size_t i = 0; i + dl <= sl;) {
        if (memcmp(s + i, d, dl) == 0) {
            n_fields++;
            i += dl;
        } else {
            i += char_len((unsigned char)s[i]);
        }
    }
    if (k < 0)
        k = (int64_t)n_fields + k + 1;
    if (k < 1 || (uint64_t)k > n_fields)
        return 0;
    size_t field = 1, start = 0, i = 0;
    while (i + dl <= sl) {
        if (memcmp(s + i, d, dl) == 0) {
            if (field == (size_t)k)
                break;
            field++;
            i += dl;
            start = i;
        } else {
            i += char_len((unsigned char)s[i]);
        }
    }
    size_t end = field == (size_t)k && i + dl <= sl ? i : sl;
    *out = text_out(a, s + start, end - start);
    return 0;
}

static struct tl_value
reverse(struct tl_arena *a, const char *p, size_t len)
{
    char *c = tl_arena_alloc(a, len + 1);
    size_t o = 0;
    for (size_t end = len; end > 0;) {
        size_t b = char_start_before(p, end);
        memcpy(c + o, p + b, end - b);
        o += end - b;
        end = b;
    }
    c[o] = '\0';
    return tl_value_text(TL_TYPE_TEXT, c, (uint32_t)o);
}

/* initcap(): the first letter or digit of each word upper case, the rest
 * lower; a word is a run of letters and digits (C.UTF-8 classes). */
static struct tl_value
initcap(struct tl_arena *a, const char *p, size_t len)
{
    pthread_once(&utf8_once, open_utf8_locale);
    char *c = tl_arena_alloc(a, 4 * len + 1);
    size_t o = 0;
    bool in_word = false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode((const unsigned char *)p + i, len - i, &cp);
        if (n == 0) {
            c[o++] = p[i++];
            in_word = false;
            continue;
        }
        wint_t w = (wint_t)cp;
        bool alnum;
        if (utf8_locale != (locale_t)0) {
            w = in_word ? towlower_l(w, utf8_locale)
                        : towupper_l(w, utf8_locale);
            alnum = iswalnum_l((wint_t)cp, utf8_locale) != 0;
        } else {
            alnum = cp < 0x80 && ((cp | 32) - 'a' < 26 || cp - '0' < 10);
            if (cp < 0x80 && (cp | 32) - 'a' < 26)
                w = in_word ? (wint_t)(cp | 32) : (wint_t)(cp & ~32u);
        }
        o += utf8_encode((uint32_t)w, c + o);
        in_word = alnum;
        i += n;
    }
    c[o] = '\0';
    return tl_value_text(TL_TYPE_TEXT, c, (uint32_t)o);
}

static int
md5_hex(struct tl_arena *a, const struct tl_value *v, struct tl_value *out,
        struct tl_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(v->u.s.p, v->u.s.len, md, &md_len, EVP_md5(), NULL) != 1)
        return tl_error_set(err, TL_EIO, TL_SQLSTATE_INTERNAL_ERROR,
                            "could not compute MD5 hash");
    static const char hex[] = "0123456789abcdef";
    char *c = tl_arena_alloc(a, 2 * md_len + 1);
    for (unsigned int i = 0; i < md_len; i++) {
        c[2 * i] = hex[md[i] >> 4];
        c[2 * i + 1] = hex[md[i] & 15];
    }
    c[2 * md_len] = '\0';
    *out = tl_value_text(TL_TYPE_TEXT, c, 2 * md_len);
    return 0;
}

/* translate(): each character of @s found in @from replaced by the
 * character at the same place in @to, or dropped when @to is shorter. */
static struct tl_value
translate(struct tl_arena *a, const struct tl_value *args)
{
    const char *s = args[0].u.s.p, *f = args[1].u.s.p, *t = args[2].u.s.p;
    size_t sl = args[0].u.s.len, fl = args[1].u.s.len, tl = args[2].u.s.len;
    char *c = tl_arena_alloc(a, 4 * sl + 1);
    size_t o = 0;
    for (size_t i = 0; i < sl;) {
        size_t l = char_len((unsigned char)s[i]);
        if (l > sl - i)
            l = sl - i;
        size_t k = 0, j = 0;
        bool found = false;
        for (; j < fl; j += char_len((unsigned char)f[j]), k++)
            if (char_len((unsigned char)f[j]) == l &&
                memcmp(f + j, s + i, l) == 0) {
                found = true;
                break;
            }
        if (!found) {
            memcpy(c + o, s + i, l);
            o += l;
        } else {
            size_t to = char_offset(t, tl, (int64_t)k);
            if (to < tl) {
                size_t tlen = char_len((unsigned char)t[to]);
                if (tlen > tl - to)
                    tlen = tl - to;
                memcpy(c + o, t + to, tlen);
                o += tlen;
            }
        }
        i += l;
    }
    c[o] = '\0';
    return tl_value_text(TL_TYPE_TEXT, c, (uint32_t)o);
}

/* chr() in a UTF8 database. */
static int
chr(struct tl_arena *a, int64_t cp, struct tl_value *out, struct tl_error *err)
{
    char c[4];
    if (cp == 0)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                            "null character not permitted");
    if (cp < 0)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                            "character number must be positive");
    if (cp > 0x10ffff)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                            "requested character too large for encoding: %lld",
                            (long long)cp);
    if (cp >= 0xd800 && cp <= 0xdfff)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                            "requested character not valid for encoding: %lld",
                            (long long)cp);
    *out = text_out(a, c, utf8_encode((uint32_t)cp, c));
    return 0;
}

static struct tl_value
concat_ws(struct tl_arena *a, const struct tl_value *args, uint32_t n)
{
    struct tl_buf b;
    bool first = true;
    tl_buf_init(&b);
    for (uint32_t i = 1; i < n; i++) {
        if (args[i].is_null)
            continue;
        if (!first)
            tl_buf_append(&b, args[0].u.s.p, args[0].u.s.len);
        first = false;
        tl_value_to_text(&args[i], &b);
    }
    struct tl_value v = text_out(a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return v;
}

/* PostgreSQL's gen_random_uuid(): 16 random bytes with the version (4)
 * and variant (RFC 4122) bits set. */
/* random(): each thread's own generator (splitmix64, seeded from
 * getrandom() on first use), 53 random bits scaled to [0, 1). */
static _Thread_local uint64_t rand_state;
static _Thread_local bool rand_seeded;

static int
random_double(struct tl_value *out, struct tl_error *err)
{
    while (!rand_seeded) {
        ssize_t n = getrandom(&rand_state, sizeof(rand_state), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof(rand_state))
            return tl_error_set(err, TL_EIO, TL_SQLSTATE_INTERNAL_ERROR,
                                "could not generate random values");
        rand_seeded = true;
    }
    uint64_t z = (rand_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    *out = tl_value_float((double)(z >> 11) * 0x1.0p-53);
    return 0;
}

static int
random_uuid(struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    uint8_t b[16];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tl_error_set(err, TL_EIO, TL_SQLSTATE_INTERNAL_ERROR,
                                "could not generate random values");
        got += (size_t)n;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    *out = tl_value_text_dup(a, TL_TYPE_UUID, b, sizeof(b));
    return 0;
}

/* justify_days/hours/interval and age(). */
static int
eval_interval_func(uint8_t id, const struct tl_value *args,
                   struct tl_value *out, struct tl_error *err)
{
    struct tl_interval iv;
    int64_t ts[2];
    int rv;

    switch (id) {
    case TL_FUNC_JUSTIFY_DAYS:
        rv = tl_interval_justify_days(&args[0].u.iv, &iv, err);
        break;
    case TL_FUNC_JUSTIFY_HOURS:
        rv = tl_interval_justify_hours(&args[0].u.iv, &iv, err);
        break;
    case TL_FUNC_JUSTIFY_INTERVAL:
        rv = tl_interval_justify_interval(&args[0].u.iv, &iv, err);
        break;
    default: /* TL_FUNC_AGE */
        for (int i = 0; i < 2; i++) {
            ts[i] = args[i].u.i;
            if (args[i].type == TL_TYPE_DATE &&
                (rv = tl_datetime_convert(TL_TYPE_DATE, args[i].u.i,
                                          TL_TYPE_TIMESTAMP, &ts[i], err)) != 0)
                return rv;
        }
        rv = tl_timestamp_age(ts[0], ts[1], &iv, err);
        break;
    }
    if (rv == 0)
        *out = tl_value_interval(&iv);
    return rv;
}

int
tl_func_eval(uint8_t id, uint8_t type, const struct tl_value *args, uint32_t n,
             struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    const struct tl_func_sig *sig = tl_func_by_id(id);
    if (sig == NULL)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                            "unknown function %u", (unsigned)id);
    if (sig->strict)
        for (uint32_t i = 0; i < n; i++)
            if (args[i].is_null) {
                *out = tl_value_null(type);
                return 0;
            }
    if (id >= TL_FUNC_ROUND && id <= TL_FUNC_LCM)
        return scalar_eval_math(id, type, args, n, a, out, err);
    const char *p = n > 0 ? args[0].u.s.p : NULL;
    size_t len = n > 0 ? args[0].u.s.len : 0;
    switch (id) {
    case TL_FUNC_CONCAT_WS:
        *out = args[0].is_null ? tl_value_null(TL_TYPE_TEXT)
                               : concat_ws(a, args, n);
        return 0;
    case TL_FUNC_LPAD:
    case TL_FUNC_RPAD:
        return pad(a, args, n, id == TL_FUNC_LPAD, out, err);
    case TL_FUNC_SPLIT_PART:
        return split_part(a, args, out, err);
    case TL_FUNC_REVERSE:
        *out = reverse(a, p, len);
        return 0;
    case TL_FUNC_INITCAP:
        *out = initcap(a, p, len);
        return 0;
    case TL_FUNC_MD5:
        return md5_hex(a, &args[0], out, err);
    case TL_FUNC_STARTS_WITH:
        *out = tl_value_bool(args[1].u.s.len <= len &&
                             memcmp(p, args[1].u.s.p, args[1].u.s.len) == 0);
        return 0;
    case TL_FUNC_TRANSLATE:
        *out = translate(a, args);
        return 0;
    case TL_FUNC_ASCII: {
        uint32_t cp = 0;
        if (len > 0 && utf8_decode((const unsigned char *)p, len, &cp) == 0)
            cp = (unsigned char)p[0];
        *out = tl_value_int(TL_TYPE_INT4, cp);
        return 0;
    }
    case TL_FUNC_CHR:
        return chr(a, args[0].u.i, out, err);
    case TL_FUNC_TO_HEX: {
        uint64_t v = args[0].type == TL_TYPE_INT8 ? (uint64_t)args[0].u.i
                                                  : (uint32_t)args[0].u.i;
        char *c = tl_arena_printf(a, "%llx", (unsigned long long)v);
        *out = tl_value_text(TL_TYPE_TEXT, c, (uint32_t)strlen(c));
        return 0;
    }
    case TL_FUNC_LOWER:
    case TL_FUNC_UPPER:
        *out = map_case(a, p, len, id == TL_FUNC_UPPER);
        return 0;
    case TL_FUNC_LENGTH:
        *out = tl_value_int(TL_TYPE_INT4, args[0].type == TL_TYPE_BYTEA
                                              ? (int64_t)len
                                              : (int64_t)n_chars(p, len));
        return 0;
    case TL_FUNC_GEN_RANDOM_UUID:
        return random_uuid(a, out, err);
    case TL_FUNC_RANDOM:
        return random_double(out, err);
    case TL_FUNC_JSON_TYPEOF:
    case TL_FUNC_JSONB_TYPEOF:
        return tl_json_typeof(&args[0], a, out, err);
    case TL_FUNC_TO_JSON:
    case TL_FUNC_TO_JSONB:
        return tl_json_from_value(
            &args[0], id == TL_FUNC_TO_JSON ? TL_TYPE_JSON : TL_TYPE_JSONB, a,
            out, err);
    case TL_FUNC_JSON_ARRAY_LENGTH:
    case TL_FUNC_JSONB_ARRAY_LENGTH:
        return tl_json_array_length(&args[0], a, out, err);
    case TL_FUNC_JUSTIFY_DAYS:
    case TL_FUNC_JUSTIFY_HOURS:
    case TL_FUNC_JUSTIFY_INTERVAL:
    case TL_FUNC_AGE:
        return eval_interval_func(id, args, out, err);
    case TL_FUNC_DATE_PART:
    case TL_FUNC_EXTRACT:
        return tl_date_part(p, len, &args[1], id == TL_FUNC_EXTRACT, a, out,
                            err);
    case TL_FUNC_DATE_TRUNC:
        return tl_date_trunc(p, len, &args[1], type, out, err);
    case TL_FUNC_OCTET_LENGTH:
        *out = tl_value_int(TL_TYPE_INT4, (int64_t)len);
        return 0;
    case TL_FUNC_BTRIM:
    case TL_FUNC_LTRIM:
    case TL_FUNC_RTRIM: {
        const char *set = n > 1 ? args[1].u.s.p : " ";
        size_t set_len = n > 1 ? args[1].u.s.len : 1;
        *out = trim(a, &args[0], set, set_len, id != TL_FUNC_RTRIM,
                    id != TL_FUNC_LTRIM);
        return 0;
    }
    case TL_FUNC_SUBSTR:
        return substr(a, args, n, out, err);
    case TL_FUNC_REPLACE:
        *out = replace(a, args);
        return 0;
    case TL_FUNC_STRPOS:
        *out = tl_value_int(TL_TYPE_INT4, strpos(args));
        return 0;
    case TL_FUNC_ABS:
        if (args[0].type == TL_TYPE_NUMERIC) {
            /* numeric_abs: the canonical text without its sign (same
             * scale; NaN and Infinity stay) */
            *out = args[0];
            if (out->u.s.len > 0 && out->u.s.p[0] == '-') {
                out->u.s.p++;
                out->u.s.len--;
            }
            return 0;
        }
        if (tl_type_is_float(args[0].type)) {
            *out = args[0];
            if (out->u.f < 0 || (out->u.f == 0 && 1 / out->u.f < 0))
                out->u.f = -out->u.f;
            return 0;
        }
        {
            int64_t lo, hi;
            tl_type_int_range(args[0].type, &lo, &hi);
            if (args[0].u.i == lo)
                return tl_error_set(
                    err, TL_EOVERFLOW, TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                    "%s out of range", tl_type_name(args[0].type));
            *out = tl_value_int(args[0].type,
                                args[0].u.i < 0 ? -args[0].u.i : args[0].u.i);
        }
        return 0;
    case TL_FUNC_LEFT:
    case TL_FUNC_RIGHT: {
        int64_t k = args[1].u.i;
        size_t nc = n_chars(p, len);
        int64_t keep = k >= 0 ? k : (int64_t)nc + k;
        if (keep < 0)
            keep = 0;
        if ((size_t)keep > nc)
            keep = (int64_t)nc;
        size_t off =
            id == TL_FUNC_LEFT ? 0 : char_offset(p, len, (int64_t)nc - keep);
        size_t end = id == TL_FUNC_LEFT ? char_offset(p, len, keep) : len;
        *out = text_out(a, p + off, end - off);
        return 0;
    }
    case TL_FUNC_REPEAT: {
        int64_t k = args[1].u.i < 0 ? 0 : args[1].u.i;
        if (len > 0 && (uint64_t)k > ((uint64_t)1 << 30) / len)
            return tl_error_set(err, TL_ETOOBIG,
                                TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                                "requested length too large");
        char *c = tl_arena_alloc(a, len * (size_t)k + 1);
        for (int64_t i = 0; i < k; i++)
            memcpy(c + (size_t)i * len, p, len);
        c[len * (size_t)k] = '\0';
        *out = tl_value_text(TL_TYPE_TEXT, c, (uint32_t)(len * (size_t)k));
        return 0;
    }
    case TL_FUNC_CONCAT: {
        struct tl_buf b;
        tl_buf_init(&b);
        for (uint32_t i = 0; i < n; i++)
            if (!args[i].is_null)
                tl_value_to_text(&args[i], &b);
        *out = text_out(a, (const char *)b.data, b.len);
        tl_buf_close(&b);
        return 0;
    }
    default:
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                            "unknown function %u", (unsigned)id);
    }
}
