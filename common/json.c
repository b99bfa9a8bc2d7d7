/* json — PostgreSQL's json and jsonb. See json.h. */
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "numeric.h"

/* ------------------------------------------------------------- lexer */

/* Tokens, as PostgreSQL's JsonTokenType. */
enum tok {
    TOK_INVALID,
    TOK_STRING,
    TOK_NUMBER,
    TOK_OBJECT_START,
    TOK_OBJECT_END,
    TOK_ARRAY_START,
    TOK_ARRAY_END,
    TOK_COMMA,
    TOK_COLON,
    TOK_TRUE,
    TOK_FALSE,
    TOK_NULL,
    TOK_END,
};

/* Errors, as PostgreSQL's JsonParseErrorType. */
enum jerr {
    JE_OK = 0,
    JE_ESCAPING_INVALID,
    JE_ESCAPING_REQUIRED,
    JE_EXPECTED_ARRAY_NEXT,
    JE_EXPECTED_COLON,
    JE_EXPECTED_END,
    JE_EXPECTED_JSON,
    JE_EXPECTED_MORE,
    JE_EXPECTED_OBJECT_FIRST,
    JE_EXPECTED_OBJECT_NEXT,
    JE_EXPECTED_STRING,
    JE_INVALID_TOKEN,
    JE_CODE_POINT_ZERO,
    JE_ESCAPE_FORMAT,
    JE_HIGH_SURROGATE,
    JE_LOW_SURROGATE,
    JE_TOO_DEEP,
    JE_NUMBER, /* a number numeric refuses (err already set) */
};

struct lex {
    const char *input, *end;
    const char *pos;        /* where the next token starts */
    const char *tok_start;  /* current token; NULL at the end */
    const char *tok_end;    /* token_terminator */
    enum tok tok;           /* current token's kind */
    int line;               /* line of the current token */
    const char *line_start; /* start of that line */
    bool jsonb;             /* decode strings strictly */
    struct tl_arena *a;
    struct tl_buf sbuf; /* the current string token, decoded */
    struct tl_error *err;
    int num_rv; /* JE_NUMBER: what numeric reported */
};

static bool
is_alnum(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
           (u >= '0' && u <= '9') || u == '_' || u >= 0x80;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void
put_utf8(struct tl_buf *b, unsigned cp)
{
    if (cp < 0x80) {
        tl_buf_append_u8(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        tl_buf_append_u8(b, (uint8_t)(0xc0 | cp >> 6));
        tl_buf_append_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        tl_buf_append_u8(b, (uint8_t)(0xe0 | cp >> 12));
        tl_buf_append_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        tl_buf_append_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        tl_buf_append_u8(b, (uint8_t)(0xf0 | cp >> 18));
        tl_buf_append_u8(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        tl_buf_append_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        tl_buf_append_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/* Length of the UTF-8 character at @s, at most up to @end. */
static size_t
char_len(const char *s, const char *end)
{
    unsigned char c = (unsigned char)*s;
    size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return n < (size_t)(end - s) ? n : (size_t)(end - s);
}

/* The string token at l->pos (its opening quote), decoded into l->sbuf,
 * as PostgreSQL's json_lex_string. */
static enum jerr
lex_string(struct lex *l)
{
    const char *s = l->pos + 1, *end = l->end;
    int hi = -1;

    tl_buf_reset(&l->sbuf);
    for (;; s++) {
        if (s >= end) {
            l->tok_end = s;
            return JE_INVALID_TOKEN;
        }
        if (*s == '"')
            break;
        if ((unsigned char)*s < 32) {
            l->tok_end = s;
            return JE_ESCAPING_REQUIRED;
        }
        if (*s == '\\') {
            s++;
            if (s >= end) {
                l->tok_end = s;
                return JE_INVALID_TOKEN;
            }
            if (*s == 'u') {
                unsigned ch = 0;
                for (int i = 1; i <= 4; i++) {
                    s++;
                    if (s >= end) {
                        l->tok_end = s;
                        return JE_INVALID_TOKEN;
                    }
                    int d = *s >= '0' && *s <= '9'   ? *s - '0'
                            : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                            : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                                     : -1;
                    if (d < 0) {
                        l->tok_end = s + char_len(s, end);
                        return JE_ESCAPE_FORMAT;
                    }
                    ch = ch * 16 + (unsigned)d;
                }
                if (!l->jsonb) {
                    /* json only checks the form; decode what can be
                     * decoded for ->> (a lone surrogate or \u0000 is
                     * left out). */
                    if (ch >= 0xd800 && ch <= 0xdbff) {
                        hi = (int)ch;
                    } else if (ch >= 0xdc00 && ch <= 0xdfff) {
                        if (hi != -1)
                            put_utf8(&l->sbuf, (((unsigned)hi - 0xd800) << 10) +
                                                   (ch - 0xdc00) + 0x10000);
                        hi = -1;
                    } else {
                        hi = -1;
                        if (ch != 0)
                            put_utf8(&l->sbuf, ch);
                    }
                    continue;
                }
                l->tok_end = s + 1;
                if (ch >= 0xd800 && ch <= 0xdbff) {
                    if (hi != -1)
                        return JE_HIGH_SURROGATE;
                    hi = (int)ch;
                    continue;
                }
                if (ch >= 0xdc00 && ch <= 0xdfff) {
                    if (hi == -1)
                        return JE_LOW_SURROGATE;
                    ch = (((unsigned)hi - 0xd800) << 10) + (ch - 0xdc00) +
                         0x10000;
                    hi = -1;
                }
                if (hi != -1)
                    return JE_LOW_SURROGATE;
                if (ch == 0)
                    return JE_CODE_POINT_ZERO;
                put_utf8(&l->sbuf, ch);
                continue;
            }
            if (l->jsonb && hi != -1) {
                l->tok_end = s + 1;
                return JE_LOW_SURROGATE;
            }
            char c;
            switch (*s) {
            case '"':
            case '\\':
            case '/':
                c = *s;
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            default:
                l->tok_start = s;
                l->tok_end = s + char_len(s, end);
                return JE_ESCAPING_INVALID;
            }
            tl_buf_append_u8(&l->sbuf, (uint8_t)c);
            continue;
        }
        if (l->jsonb && hi != -1) {
            l->tok_end = s + 1;
            return JE_LOW_SURROGATE;
        }
        tl_buf_append_u8(&l->sbuf, (uint8_t)*s);
    }
    if (l->jsonb && hi != -1) {
        l->tok_end = s + 1;
        return JE_LOW_SURROGATE;
    }
    l->tok_end = s + 1;
    l->tok = TOK_STRING;
    return JE_OK;
}

/* The number at @s (after any '-'), as PostgreSQL's json_lex_number. */
static enum jerr
lex_number(struct lex *l, const char *s)
{
    const char *end = l->end;
    bool bad = false;

    if (s < end && *s == '0') {
        s++;
    } else if (s < end && *s >= '1' && *s <= '9') {
        while (s < end && is_digit(*s))
            s++;
    } else {
        bad = true;
    }
    if (s < end && *s == '.') {
        s++;
        if (s >= end || !is_digit(*s))
            bad = true;
        while (s < end && is_digit(*s))
            s++;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            s++;
        if (s >= end || !is_digit(*s))
            bad = true;
        while (s < end && is_digit(*s))
            s++;
    }
    for (; s < end && is_alnum(*s); s++)
        bad = true;
    l->tok_end = s;
    if (bad)
        return JE_INVALID_TOKEN;
    l->tok = TOK_NUMBER;
    return JE_OK;
}

/* Advance to the next token (PostgreSQL's json_lex). */
static enum jerr
lex_next(struct lex *l)
{
    const char *s = l->pos, *end = l->end;

    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        if (*s++ == '\n') {
            l->line++;
            l->line_start = s;
        }
    }
    l->pos = s;
    if (s >= end) {
        l->tok_start = NULL;
        l->tok_end = s;
        l->tok = TOK_END;
        return JE_OK;
    }
    l->tok_start = s;
    enum jerr rv = JE_OK;
    switch (*s) {
    case '{':
    case '}':
    case '[':
    case ']':
    case ',':
    case ':':
        l->tok = *s == '{'   ? TOK_OBJECT_START
                 : *s == '}' ? TOK_OBJECT_END
                 : *s == '[' ? TOK_ARRAY_START
                 : *s == ']' ? TOK_ARRAY_END
                 : *s == ',' ? TOK_COMMA
                             : TOK_COLON;
        l->tok_end = s + 1;
        break;
    case '"':
        rv = lex_string(l);
        break;
    case '-':
        rv = lex_number(l, s + 1);
        break;
    default:
        if (is_digit(*s)) {
            rv = lex_number(l, s);
            break;
        }
        const char *p = s;
        while (p < end && is_alnum(*p))
            p++;
        l->tok_end = p == s ? s + 1 : p;
        size_t n = (size_t)(p - s);
        if (n == 4 && memcmp(s, "true", 4) == 0)
            l->tok = TOK_TRUE;
        else if (n == 4 && memcmp(s, "null", 4) == 0)
            l->tok = TOK_NULL;
        else if (n == 5 && memcmp(s, "false", 5) == 0)
            l->tok = TOK_FALSE;
        else
            rv = JE_INVALID_TOKEN;
        break;
    }
    if (rv == JE_OK)
        l->pos = l->tok_end;
    else
        l->tok = TOK_INVALID;
    return rv;
}

/* ------------------------------------------------------------ errors */

static int
report(struct lex *l, enum jerr e)
{
    if (e == JE_NUMBER)
        return l->num_rv;
    const char *ts = l->tok_start != NULL ? l->tok_start : l->tok_end;
    int tlen = (int)(l->tok_end - ts);
    bool zero = e == JE_CODE_POINT_ZERO;
    int rv = tl_error_set(
        l->err, zero ? TL_EUNSUPPORTED : TL_ETYPE,
        zero               ? TL_SQLSTATE_UNTRANSLATABLE_CHARACTER
        : e == JE_TOO_DEEP ? TL_SQLSTATE_STATEMENT_TOO_COMPLEX
                           : TL_SQLSTATE_INVALID_TEXT_REPRESENTATION,
        zero               ? "unsupported Unicode escape sequence"
        : e == JE_TOO_DEEP ? "stack depth limit exceeded"
                           : "invalid input syntax for type json");
    switch (e) {
    case JE_ESCAPING_INVALID:
        tl_error_detail(l->err, "Escape sequence \"\\%.*s\" is invalid.", tlen,
                        ts);
        break;
    case JE_ESCAPING_REQUIRED:
        tl_error_detail(l->err, "Character with value 0x%02x must be escaped.",
                        (unsigned)(unsigned char)*l->tok_end);
        break;
    case JE_EXPECTED_ARRAY_NEXT:
        tl_error_detail(l->err, "Expected \",\" or \"]\", but found \"%.*s\".",
                        tlen, ts);
        break;
    case JE_EXPECTED_COLON:
        tl_error_detail(l->err, "Expected \":\", but found \"%.*s\".", tlen,
                        ts);
        break;
    case JE_EXPECTED_END:
        tl_error_detail(l->err, "Expected end of input, but found \"%.*s\".",
                        tlen, ts);
        break;
    case JE_EXPECTED_JSON:
        tl_error_detail(l->err, "Expected JSON value, but found \"%.*s\".",
                        tlen, ts);
        break;
    case JE_EXPECTED_MORE:
        tl_error_detail(l->err, "The input string ended unexpectedly.");
        break;
    case JE_EXPECTED_OBJECT_FIRST:
        tl_error_detail(l->err, "Expected string or \"}\", but found \"%.*s\".",
                        tlen, ts);
        break;
    case JE_EXPECTED_OBJECT_NEXT:
        tl_error_detail(l->err, "Expected \",\" or \"}\", but found \"%.*s\".",
                        tlen, ts);
        break;
    case JE_EXPECTED_STRING:
        tl_error_detail(l->err, "Expected string, but found \"%.*s\".", tlen,
                        ts);
        break;
    case JE_INVALID_TOKEN:
        tl_error_detail(l->err, "Token \"%.*s\" is invalid.", tlen, ts);
        break;
    case JE_CODE_POINT_ZERO:
        tl_error_detail(l->err, "\\u0000 cannot be converted to text.");
        break;
    case JE_ESCAPE_FORMAT:
        tl_error_detail(l->err,
                        "\"\\u\" must be followed by four hexadecimal digits.");
        break;
    case JE_HIGH_SURROGATE:
        tl_error_detail(l->err, "Unicode high surrogate must not follow a high "
                                "surrogate.");
        break;
    case JE_LOW_SURROGATE:
        tl_error_detail(l->err,
                        "Unicode low surrogate must follow a high surrogate.");
        break;
    case JE_TOO_DEEP:
        tl_error_hint(l->err, "Nest JSON values at most %d levels deep.",
                      TL_JSON_MAX_DEPTH);
        return rv;
    default:
        break;
    }
    /* PostgreSQL's report_json_context: the line up to the end of the
     * offending token, at most about 50 bytes of it. */
    const char *cs = l->line_start, *ce = l->tok_end;
    while (ce - cs >= 50)
        cs += (unsigned char)*cs >= 0x80 ? char_len(cs, ce) : 1;
    if (cs - l->line_start <= 3)
        cs = l->line_start;
    bool more = l->tok != TOK_END && ce < l->end && *ce != '\n' && *ce != '\r';
    tl_error_context(l->err, "JSON data, line %d: %s%.*s%s", l->line,
                     cs > l->line_start ? "..." : "", (int)(ce - cs), cs,
                     more ? "..." : "");
    return rv;
}

/* ------------------------------------------------------------ parser */

static enum jerr parse_value(struct lex *l, int depth, struct tl_json **out);

static struct tl_json *
new_node(struct lex *l, uint8_t kind, const char *src)
{
    struct tl_json *j = tl_arena_calloc(l->a, sizeof(*j));
    j->kind = kind;
    j->src = src;
    return j;
}

/* A parse error at the current token: "ended unexpectedly" at the end. */
static enum jerr
parse_error(struct lex *l, enum jerr e)
{
    return l->tok == TOK_END ? JE_EXPECTED_MORE : e;
}

static enum jerr
expect(struct lex *l, enum tok t, enum jerr e)
{
    if (l->tok != t)
        return parse_error(l, e);
    return lex_next(l);
}

/* Compare two keys as jsonb orders them: shorter first, then bytewise. */
static int
key_cmp(const struct tl_json *x, const struct tl_json *y)
{
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->len == 0 ? 0 : memcmp(x->str, y->str, x->len);
}

struct pair {
    struct tl_json *key, *value;
    uint32_t seq;
};

static int
pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = key_cmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort an object's pairs and keep the last of each duplicate key. */
static void
normalise_object(struct lex *l, struct tl_json *j)
{
    if (j->n == 0)
        return;
    struct pair *p = tl_arena_alloc(l->a, j->n * sizeof(*p));
    for (uint32_t i = 0; i < j->n; i++)
        p[i] = (struct pair){j->keys[i], j->items[i], i};
    qsort(p, j->n, sizeof(*p), pair_cmp);
    uint32_t n = 0;
    for (uint32_t i = 0; i < j->n; i++) {
        if (i + 1 < j->n && key_cmp(p[i].key, p[i + 1].key) == 0)
            continue;
        j->keys[n] = p[i].key;
        j->items[n] = p[i].value;
        n++;
    }
    j->n = n;
}

/* Append @item to a growing list (doubling in the arena). */
static void
push(struct lex *l, struct tl_json ***list, uint32_t n, uint32_t *cap,
     struct tl_json *item)
{
    if (n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 4;
        struct tl_json **nl = tl_arena_alloc(l->a, nc * sizeof(*nl));
        if (n > 0)
            memcpy(nl, *list, n * sizeof(*nl));
        *list = nl;
        *cap = nc;
    }
    (*list)[n] = item;
}

static enum jerr
parse_scalar(struct lex *l, struct tl_json **out)
{
    struct tl_json *j;
    switch (l->tok) {
    case TOK_STRING:
        j = new_node(l, TL_JSON_STRING, l->tok_start);
        j->len = (uint32_t)l->sbuf.len;
        j->str = tl_arena_strndup(
            l->a, l->sbuf.len ? (const char *)l->sbuf.data : "", l->sbuf.len);
        break;
    case TOK_NUMBER:
        j = new_node(l, TL_JSON_NUMBER, l->tok_start);
        j->str = l->tok_start;
        j->len = (uint32_t)(l->tok_end - l->tok_start);
        if (l->jsonb) {
            struct tl_value v;
            l->num_rv =
                tl_numeric_from_text(j->str, j->len, -1, l->a, &v, l->err);
            if (l->num_rv != 0)
                return JE_NUMBER;
            j->str = v.u.s.p;
            j->len = v.u.s.len;
        }
        break;
    case TOK_TRUE:
    case TOK_FALSE:
        j = new_node(l, TL_JSON_BOOL, l->tok_start);
        j->b = l->tok == TOK_TRUE;
        break;
    case TOK_NULL:
        j = new_node(l, TL_JSON_NULL, l->tok_start);
        break;
    default:
        return parse_error(l, JE_EXPECTED_JSON);
    }
    j->src_len = (uint32_t)(l->tok_end - l->tok_start);
    *out = j;
    return lex_next(l);
}

static enum jerr
parse_array(struct lex *l, int depth, struct tl_json **out)
{
    struct tl_json *j = new_node(l, TL_JSON_ARRAY, l->tok_start), *item;
    uint32_t cap = 0;
    enum jerr rv;

    if ((rv = lex_next(l)) != JE_OK)
        return rv;
    if (l->tok != TOK_ARRAY_END) {
        for (;;) {
            if ((rv = parse_value(l, depth + 1, &item)) != JE_OK)
                return rv;
            push(l, &j->items, j->n++, &cap, item);
            if (l->tok != TOK_COMMA)
                break;
            if ((rv = lex_next(l)) != JE_OK)
                return rv;
        }
    }
    const char *last = l->tok_end;
    if ((rv = expect(l, TOK_ARRAY_END, JE_EXPECTED_ARRAY_NEXT)) != JE_OK)
        return rv;
    j->src_len = (uint32_t)(last - j->src);
    *out = j;
    return JE_OK;
}

static enum jerr
parse_object(struct lex *l, int depth, struct tl_json **out)
{
    struct tl_json *j = new_node(l, TL_JSON_OBJECT, l->tok_start), *key, *item;
    uint32_t cap = 0, kcap = 0;
    enum jerr rv;

    if ((rv = lex_next(l)) != JE_OK)
        return rv;
    if (l->tok == TOK_STRING) {
        for (;;) {
            if (l->tok != TOK_STRING)
                return parse_error(l, JE_EXPECTED_STRING);
            if ((rv = parse_scalar(l, &key)) != JE_OK)
                return rv;
            if ((rv = expect(l, TOK_COLON, JE_EXPECTED_COLON)) != JE_OK)
                return rv;
            if ((rv = parse_value(l, depth + 1, &item)) != JE_OK)
                return rv;
            push(l, &j->keys, j->n, &kcap, key);
            push(l, &j->items, j->n++, &cap, item);
            if (l->tok != TOK_COMMA)
                break;
            if ((rv = lex_next(l)) != JE_OK)
                return rv;
        }
    } else if (l->tok != TOK_OBJECT_END) {
        return parse_error(l, JE_EXPECTED_OBJECT_FIRST);
    }
    const char *last = l->tok_end;
    if ((rv = expect(l, TOK_OBJECT_END, JE_EXPECTED_OBJECT_NEXT)) != JE_OK)
        return rv;
    j->src_len = (uint32_t)(last - j->src);
    if (l->jsonb)
        normalise_object(l, j);
    *out = j;
    return JE_OK;
}

static enum jerr
parse_value(struct lex *l, int depth, struct tl_json **out)
{
    if (depth > TL_JSON_MAX_DEPTH)
        return JE_TOO_DEEP;
    if (l->tok == TOK_OBJECT_START)
        return parse_object(l, depth, out);
    if (l->tok == TOK_ARRAY_START)
        return parse_array(l, depth, out);
    return parse_scalar(l, out);
}

int
tl_json_parse(const char *s, size_t len, bool jsonb, struct tl_arena *a,
              struct tl_json **out, struct tl_error *err)
{
    struct lex l = {
        .input = s,
        .end = s + len,
        .pos = s,
        .tok_end = s,
        .tok = TOK_INVALID,
        .line = 1,
        .line_start = s,
        .jsonb = jsonb,
        .a = a,
        .err = err,
    };
    enum jerr rv;
    int ret = 0;

    if (len > UINT32_MAX)
        return tl_error_set(err, TL_ETOOLONG,
                            TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                            "value too long for type json");
    tl_buf_init(&l.sbuf);
    if ((rv = lex_next(&l)) == JE_OK &&
        (rv = parse_value(&l, 1, out)) == JE_OK && l.tok != TOK_END)
        rv = JE_EXPECTED_END;
    if (rv != JE_OK)
        ret = report(&l, rv);
    tl_buf_close(&l.sbuf);
    return ret;
}

/* ------------------------------------------------------------ output */

/* PostgreSQL's escape_json. */
static void
write_string(const char *p, uint32_t len, struct tl_buf *out)
{
    tl_buf_append_u8(out, '"');
    for (uint32_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\b':
            tl_buf_append(out, "\\b", 2);
            break;
        case '\f':
            tl_buf_append(out, "\\f", 2);
            break;
        case '\n':
            tl_buf_append(out, "\\n", 2);
            break;
        case '\r':
            tl_buf_append(out, "\\r", 2);
            break;
        case '\t':
            tl_buf_append(out, "\\t", 2);
            break;
        case '"':
            tl_buf_append(out, "\\\"", 2);
            break;
        case '\\':
            tl_buf_append(out, "\\\\", 2);
            break;
        default:
            if (c < ' ')
                tl_buf_printf(out, "\\u%04x", (unsigned)c);
            else
                tl_buf_append_u8(out, c);
            break;
        }
    }
    tl_buf_append_u8(out, '"');
}

void
tl_json_write(const struct tl_json *j, struct tl_buf *out)
{
    switch (j->kind) {
    case TL_JSON_NULL:
        tl_buf_append(out, "null", 4);
        break;
    case TL_JSON_BOOL:
        if (j->b)
            tl_buf_append(out, "true", 4);
        else
            tl_buf_append(out, "false", 5);
        break;
    case TL_JSON_NUMBER:
        tl_buf_append(out, j->str, j->len);
        break;
    case TL_JSON_STRING:
        write_string(j->str, j->len, out);
        break;
    case TL_JSON_ARRAY:
        tl_buf_append_u8(out, '[');
        for (uint32_t i = 0; i < j->n; i++) {
            if (i > 0)
                tl_buf_append(out, ", ", 2);
            tl_json_write(j->items[i], out);
        }
        tl_buf_append_u8(out, ']');
        break;
    default:
        tl_buf_append_u8(out, '{');
        for (uint32_t i = 0; i < j->n; i++) {
            if (i > 0)
                tl_buf_append(out, ", ", 2);
            write_string(j->keys[i]->str, j->keys[i]->len, out);
            tl_buf_append(out, ": ", 2);
            tl_json_write(j->items[i], out);
        }
        tl_buf_append_u8(out, '}');
        break;
    }
}

/* @j's jsonb text as a value of @type in @a. */
static struct tl_value
jsonb_value(const struct tl_json *j, uint8_t type, struct tl_arena *a)
{
    struct tl_buf b;
    tl_buf_init(&b);
    tl_json_write(j, &b);
    struct tl_value v = tl_value_text_dup(a, type, b.data, b.len);
    tl_buf_close(&b);
    return v;
}

int
tl_json_in(uint8_t type, const char *s, size_t len, struct tl_arena *a,
           struct tl_value *out, struct tl_error *err)
{
    struct tl_arena tmp;
    struct tl_json *j = NULL;
    int rv;

    /* The tree is thrown away: only the text is kept. */
    tl_arena_init(&tmp);
    rv = tl_json_parse(s, len, type == TL_TYPE_JSONB, &tmp, &j, err);
    if (rv == 0) {
        if (type == TL_TYPE_JSONB)
            *out = jsonb_value(j, TL_TYPE_JSONB, a);
        else
            *out = tl_value_text(TL_TYPE_JSON, s, (uint32_t)len);
    }
    tl_arena_close(&tmp);
    return rv;
}

/* --------------------------------------------------------- operators */

static int
parse_doc(const struct tl_value *doc, struct tl_arena *a, struct tl_json **out,
          struct tl_error *err)
{
    return tl_json_parse(doc->u.s.p, doc->u.s.len, doc->type == TL_TYPE_JSONB,
                         a, out, err);
}

static const struct tl_json *
get_key(const struct tl_json *j, const char *k, size_t klen)
{
    if (j->kind != TL_JSON_OBJECT)
        return NULL;
    /* json keeps duplicates: the last one counts, as in PostgreSQL. */
    for (uint32_t i = j->n; i-- > 0;)
        if (j->keys[i]->len == klen &&
            (klen == 0 || memcmp(j->keys[i]->str, k, klen) == 0))
            return j->items[i];
    return NULL;
}

static const struct tl_json *
get_index(const struct tl_json *j, int64_t i)
{
    if (j->kind != TL_JSON_ARRAY)
        return NULL;
    if (i < 0)
        i += j->n;
    if (i < 0 || i >= (int64_t)j->n)
        return NULL;
    return j->items[i];
}

static bool
is_container(const struct tl_json *j)
{
    return j->kind == TL_JSON_ARRAY || j->kind == TL_JSON_OBJECT;
}

/* The result of -> or ->> (or #>, #>>): @j as @type, or as text. */
static void
result(const struct tl_json *j, uint8_t type, bool as_text, struct tl_arena *a,
       struct tl_value *out)
{
    if (j == NULL || (as_text && j->kind == TL_JSON_NULL)) {
        *out = tl_value_null(as_text ? TL_TYPE_TEXT : type);
        return;
    }
    if (as_text && j->kind == TL_JSON_STRING) {
        *out = tl_value_text_dup(a, TL_TYPE_TEXT, j->str, j->len);
        return;
    }
    uint8_t t = as_text ? TL_TYPE_TEXT : type;
    if (type == TL_TYPE_JSONB)
        *out = jsonb_value(j, t, a);
    else
        *out = tl_value_text_dup(a, t, j->src, j->src_len);
}

int
tl_json_get(const struct tl_value *doc, const struct tl_value *key,
            bool as_text, struct tl_arena *a, struct tl_value *out,
            struct tl_error *err)
{
    struct tl_json *j;
    const struct tl_json *r;
    int rv;

    if ((rv = parse_doc(doc, a, &j, err)) != 0)
        return rv;
    if (tl_type_is_int(key->type) && doc->type == TL_TYPE_JSONB &&
        !is_container(j))
        r = key->u.i == 0 || key->u.i == -1 ? j : NULL;
    else if (tl_type_is_int(key->type))
        r = get_index(j, key->u.i);
    else
        r = get_key(j, key->u.s.p, tl_value_text_len(key));
    result(r, doc->type, as_text, a, out);
    return 0;
}

static int
malformed_array(const struct tl_value *v, const char *detail,
                struct tl_error *err)
{
    int rv = tl_error_set(
        err, TL_ETYPE, TL_SQLSTATE_INVALID_TEXT_REPRESENTATION,
        "malformed array literal: \"%.*s\"", (int)v->u.s.len, v->u.s.p);
    tl_error_detail(err, "%s", detail);
    return rv;
}

static bool
is_array_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Split a one-dimensional text[] literal into elements (NULL for an
 * unquoted NULL), as PostgreSQL's array_in for the simple cases. */
static int
split_path(const struct tl_value *v, struct tl_arena *a, char ***elems,
           uint32_t **lens, uint32_t *n, struct tl_error *err)
{
    const char *s = v->u.s.p, *end = s + v->u.s.len;
    uint32_t cap = 8;

    *n = 0;
    *elems = tl_arena_alloc(a, cap * sizeof(**elems));
    *lens = tl_arena_alloc(a, cap * sizeof(**lens));
    while (s < end && is_array_space(*s))
        s++;
    if (s >= end || *s != '{')
        return malformed_array(
            v, "Array value must start with \"{\" or dimension information.",
            err);
    s++;
    while (s < end && is_array_space(*s))
        s++;
    if (s < end && *s == '}') {
        s++;
        goto tail;
    }
    for (;;) {
        struct tl_buf b;
        bool quoted = false, any = false;
        tl_buf_init(&b);
        while (s < end && is_array_space(*s))
            s++;
        if (s < end && *s == '"') {
            quoted = any = true;
            s++;
            while (s < end && *s != '"') {
                if (*s == '\\' && s + 1 < end)
                    s++;
                tl_buf_append_u8(&b, (uint8_t)*s++);
            }
            if (s >= end) {
                tl_buf_close(&b);
                return malformed_array(v, "Unexpected end of input.", err);
            }
            s++;
        } else {
            const char *q = s;
            while (s < end && *s != ',' && *s != '}' && *s != '"' &&
                   *s != '{') {
                if (*s == '\\' && s + 1 < end)
                    s++;
                s++;
            }
            const char *e2 = s;
            while (e2 > q && is_array_space(e2[-1]))
                e2--;
            for (const char *p = q; p < e2; p++) {
                if (*p == '\\' && p + 1 < e2)
                    p++;
                tl_buf_append_u8(&b, (uint8_t)*p);
                any = true;
            }
        }
        while (s < end && is_array_space(*s))
            s++;
        if (!any || s >= end || (*s != ',' && *s != '}')) {
            tl_buf_close(&b);
            return malformed_array(v,
                                   s >= end ? "Unexpected end of input."
                                   : !any   ? "Unexpected \",\" character."
                                            : "Unexpected array element.",
                                   err);
        }
        if (*n == cap) {
            char **ne = tl_arena_alloc(a, cap * 2 * sizeof(*ne));
            uint32_t *nl = tl_arena_alloc(a, cap * 2 * sizeof(*nl));
            memcpy(ne, *elems, cap * sizeof(*ne));
            memcpy(nl, *lens, cap * sizeof(*nl));
            *elems = ne;
            *lens = nl;
            cap *= 2;
        }
        bool is_null = !quoted && b.len == 4 &&
                       strncasecmp((const char *)b.data, "NULL", 4) == 0;
        (*elems)[*n] =
            is_null
                ? NULL
                : tl_arena_strndup(a, b.len ? (const char *)b.data : "", b.len);
        (*lens)[*n] = (uint32_t)b.len;
        (*n)++;
        tl_buf_close(&b);
        if (*s++ == '}')
            break;
    }
tail:
    while (s < end && is_array_space(*s))
        s++;
    if (s < end)
        return malformed_array(v, "Junk after closing right brace.", err);
    return 0;
}

/* A path step as an array index, as PostgreSQL reads it (strtol, the whole
 * element). */
static bool
step_index(const char *p, uint32_t len, int64_t *out)
{
    char buf[24];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *endp;
    long long v = strtoll(buf, &endp, 10);
    if (*endp != '\0' || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = v;
    return true;
}

int
tl_json_check_path(const struct tl_value *path, struct tl_arena *a,
                   struct tl_error *err)
{
    char **el;
    uint32_t *lens, n;
    return split_path(path, a, &el, &lens, &n, err);
}

int
tl_json_get_path(const struct tl_value *doc, const struct tl_value *path,
                 bool as_text, struct tl_arena *a, struct tl_value *out,
                 struct tl_error *err)
{
    struct tl_json *j;
    char **el;
    uint32_t *lens, n;
    int rv;

    if ((rv = split_path(path, a, &el, &lens, &n, err)) != 0)
        return rv;
    if ((rv = parse_doc(doc, a, &j, err)) != 0)
        return rv;
    const struct tl_json *cur = j;
    for (uint32_t i = 0; i < n && cur != NULL; i++) {
        int64_t idx;
        if (el[i] == NULL)
            cur = NULL;
        else if (cur->kind == TL_JSON_OBJECT)
            cur = get_key(cur, el[i], lens[i]);
        else if (cur->kind == TL_JSON_ARRAY && step_index(el[i], lens[i], &idx))
            cur = get_index(cur, idx);
        else
            cur = NULL;
    }
    result(cur, doc->type, as_text, a, out);
    return 0;
}

static bool
scalar_equal(const struct tl_json *x, const struct tl_json *y)
{
    if (x->kind != y->kind)
        return false;
    switch (x->kind) {
    case TL_JSON_NULL:
        return true;
    case TL_JSON_BOOL:
        return x->b == y->b;
    case TL_JSON_NUMBER: {
        struct tl_value vx = tl_value_text(TL_TYPE_NUMERIC, x->str, x->len);
        struct tl_value vy = tl_value_text(TL_TYPE_NUMERIC, y->str, y->len);
        return tl_numeric_cmp(&vx, &vy) == 0;
    }
    default: /* STRING */
        return x->len == y->len &&
               (x->len == 0 || memcmp(x->str, y->str, x->len) == 0);
    }
}

/* JsonbDeepContains on two containers of the same kind. */
static bool
contains(const struct tl_json *l, const struct tl_json *r)
{
    if (l->kind == TL_JSON_OBJECT) {
        for (uint32_t i = 0; i < r->n; i++) {
            const struct tl_json *lv =
                get_key(l, r->keys[i]->str, r->keys[i]->len);
            const struct tl_json *rv = r->items[i];
            if (lv == NULL)
                return false;
            if (is_container(rv) || is_container(lv)) {
                if (lv->kind != rv->kind || !contains(lv, rv))
                    return false;
            } else if (!scalar_equal(lv, rv)) {
                return false;
            }
        }
        return true;
    }
    for (uint32_t i = 0; i < r->n; i++) {
        const struct tl_json *rv = r->items[i];
        bool found = false;
        for (uint32_t k = 0; k < l->n && !found; k++) {
            const struct tl_json *lv = l->items[k];
            if (is_container(rv))
                found = lv->kind == rv->kind && contains(lv, rv);
            else
                found = !is_container(lv) && scalar_equal(lv, rv);
        }
        if (!found)
            return false;
    }
    return true;
}

int
tl_json_contains(const struct tl_value *l, const struct tl_value *r,
                 struct tl_arena *a, bool *res, struct tl_error *err)
{
    struct tl_json *x, *y;
    int rv;

    if ((rv = parse_doc(l, a, &x, err)) != 0 ||
        (rv = parse_doc(r, a, &y, err)) != 0)
        return rv;
    if (!is_container(x) && !is_container(y)) {
        *res = scalar_equal(x, y);
    } else if (!is_container(x)) {
        *res = false; /* a scalar contains no container */
    } else if (!is_container(y)) {
        /* A raw scalar on the right is an array of one element; an
         * object contains none. */
        struct tl_json one = {.kind = TL_JSON_ARRAY, .n = 1, .items = &y};
        *res = x->kind == TL_JSON_ARRAY && contains(x, &one);
    } else {
        *res = x->kind == y->kind && contains(x, y);
    }
    return 0;
}

int
tl_json_exists(const struct tl_value *doc, const struct tl_value *key,
               struct tl_arena *a, bool *res, struct tl_error *err)
{
    struct tl_json *j;
    int rv;
    uint32_t klen = tl_value_text_len(key);

    if ((rv = parse_doc(doc, a, &j, err)) != 0)
        return rv;
    struct tl_json k = {.kind = TL_JSON_STRING, .str = key->u.s.p, .len = klen};
    *res = false;
    if (j->kind == TL_JSON_OBJECT) {
        *res = get_key(j, key->u.s.p, klen) != NULL;
    } else if (j->kind == TL_JSON_ARRAY) {
        for (uint32_t i = 0; i < j->n && !*res; i++)
            *res = scalar_equal(j->items[i], &k);
    } else {
        *res = scalar_equal(j, &k);
    }
    return 0;
}

static bool
deep_equal(const struct tl_json *x, const struct tl_json *y)
{
    if (x->kind != y->kind)
        return false;
    if (!is_container(x))
        return scalar_equal(x, y);
    if (x->n != y->n)
        return false;
    for (uint32_t i = 0; i < x->n; i++) {
        if (x->kind == TL_JSON_OBJECT && key_cmp(x->keys[i], y->keys[i]) != 0)
            return false;
        if (!deep_equal(x->items[i], y->items[i]))
            return false;
    }
    return true;
}

/* PostgreSQL's order of jsonb value types (its enum jbvType): null <
 * string < number < boolean < array < object. */
static int
type_rank(const struct tl_json *j)
{
    switch (j->kind) {
    case TL_JSON_NULL:
        return 0;
    case TL_JSON_STRING:
        return 1;
    case TL_JSON_NUMBER:
        return 2;
    case TL_JSON_BOOL:
        return 3;
    case TL_JSON_ARRAY:
        return 16;
    default:
        return 17;
    }
}

/* Text order of two decoded strings (varstr_cmp in the C.UTF-8
 * collation: bytes, then length). */
static int
str_cmp(const struct tl_json *x, const struct tl_json *y)
{
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = n > 0 ? memcmp(x->str, y->str, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (x->len > y->len) - (x->len < y->len);
}

/* compareJsonbContainers, recursively: @x_raw / @y_raw say a top-level
 * scalar, which PostgreSQL stores as a one-element "raw scalar" array. */
static int
order_cmp(const struct tl_json *x, bool x_raw, const struct tl_json *y,
          bool y_raw)
{
    if (x_raw || y_raw) {
        /* Two raw scalars compare as their elements; a raw scalar against
         * a real array as arrays (the scalar first, then by count); and
         * against an object by type (array < object). */
        if (x_raw && y_raw)
            return order_cmp(x, false, y, false);
        const struct tl_json *arr = x_raw ? y : x;
        if (arr->kind == TL_JSON_OBJECT)
            return x_raw ? -1 : 1;
        int res = x_raw ? -1 : 1;
        uint32_t nx = x_raw ? 1 : x->n, ny = y_raw ? 1 : y->n;
        if (nx != ny)
            res = nx > ny ? 1 : -1;
        return res;
    }
    int rx = type_rank(x), ry = type_rank(y);
    if (rx != ry)
        return rx > ry ? 1 : -1;
    switch (x->kind) {
    case TL_JSON_NULL:
        return 0;
    case TL_JSON_BOOL:
        return (int)x->b - (int)y->b;
    case TL_JSON_NUMBER: {
        struct tl_value vx = tl_value_text(TL_TYPE_NUMERIC, x->str, x->len);
        struct tl_value vy = tl_value_text(TL_TYPE_NUMERIC, y->str, y->len);
        int c = tl_numeric_cmp(&vx, &vy);
        return (c > 0) - (c < 0);
    }
    case TL_JSON_STRING:
        return str_cmp(x, y);
    default:
        break;
    }
    if (x->n != y->n)
        return x->n > y->n ? 1 : -1;
    /* Pairs in storage order (keys by length, then bytes), each key then
     * its value; elements in order. */
    for (uint32_t i = 0; i < x->n; i++) {
        int c;
        if (x->kind == TL_JSON_OBJECT &&
            (c = str_cmp(x->keys[i], y->keys[i])) != 0)
            return c;
        if ((c = order_cmp(x->items[i], false, y->items[i], false)) != 0)
            return c;
    }
    return 0;
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* A hash of @j that equal values (order_cmp() 0) share: numbers by their
 * key encoding (1.0 and 1.00 alike). */
static uint64_t
hash_tree(uint64_t h, const struct tl_json *j)
{
    uint8_t kind = j->kind;
    h = fnv(h, &kind, 1);
    switch (j->kind) {
    case TL_JSON_BOOL:
        return fnv(h, &j->b, 1);
    case TL_JSON_NUMBER: {
        struct tl_value v = tl_value_text(TL_TYPE_NUMERIC, j->str, j->len);
        struct tl_buf b;
        tl_buf_init(&b);
        tl_numeric_key_encode(&v, &b);
        h = fnv(h, b.data, b.len);
        tl_buf_close(&b);
        return h;
    }
    case TL_JSON_STRING:
        return fnv(fnv(h, &j->len, sizeof j->len), j->str, j->len);
    case TL_JSON_ARRAY:
    case TL_JSON_OBJECT:
        h = fnv(h, &j->n, sizeof j->n);
        for (uint32_t i = 0; i < j->n; i++) {
            if (j->kind == TL_JSON_OBJECT)
                h = hash_tree(h, j->keys[i]);
            h = hash_tree(h, j->items[i]);
        }
        return h;
    default:
        return h;
    }
}

uint64_t
tl_json_hash(const struct tl_value *v)
{
    struct tl_arena a;
    struct tl_json *j;
    uint64_t h = 1469598103934665603ULL;

    tl_arena_init(&a);
    if (parse_doc(v, &a, &j, NULL) == 0)
        h = hash_tree(h, j);
    tl_arena_close(&a);
    return h;
}

int
tl_json_cmp(const struct tl_value *l, const struct tl_value *r)
{
    struct tl_arena a;
    struct tl_json *x, *y;
    int c;

    if (l->u.s.len == r->u.s.len &&
        (l->u.s.len == 0 || memcmp(l->u.s.p, r->u.s.p, l->u.s.len) == 0))
        return 0;
    tl_arena_init(&a);
    if (parse_doc(l, &a, &x, NULL) != 0 || parse_doc(r, &a, &y, NULL) != 0)
        c = 0; /* stored jsonb always parses */
    else
        c = order_cmp(x, !is_container(x), y, !is_container(y));
    tl_arena_close(&a);
    return c;
}

bool
tl_json_equal(const struct tl_value *l, const struct tl_value *r)
{
    struct tl_arena a;
    struct tl_json *x, *y;
    bool eq;

    if (l->u.s.len == r->u.s.len &&
        (l->u.s.len == 0 || memcmp(l->u.s.p, r->u.s.p, l->u.s.len) == 0))
        return true;
    tl_arena_init(&a);
    if (parse_doc(l, &a, &x, NULL) != 0 || parse_doc(r, &a, &y, NULL) != 0)
        eq = false;
    else
        eq = deep_equal(x, y);
    tl_arena_close(&a);
    return eq;
}

int
tl_json_typeof(const struct tl_value *doc, struct tl_arena *a,
               struct tl_value *out, struct tl_error *err)
{
    static const char *const names[] = {
        [TL_JSON_NULL] = "null",     [TL_JSON_BOOL] = "boolean",
        [TL_JSON_NUMBER] = "number", [TL_JSON_STRING] = "string",
        [TL_JSON_ARRAY] = "array",   [TL_JSON_OBJECT] = "object",
    };
    struct tl_json *j;
    int rv;

    if ((rv = parse_doc(doc, a, &j, err)) != 0)
        return rv;
    const char *s = names[j->kind];
    *out = tl_value_text(TL_TYPE_TEXT, s, (uint32_t)strlen(s));
    return 0;
}

int
tl_json_array_length(const struct tl_value *doc, struct tl_arena *a,
                     struct tl_value *out, struct tl_error *err)
{
    struct tl_json *j;
    int rv;

    if ((rv = parse_doc(doc, a, &j, err)) != 0)
        return rv;
    if (j->kind != TL_JSON_ARRAY)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "cannot get array length of a %s",
                            is_container(j) ? "non-array" : "scalar");
    *out = tl_value_int(TL_TYPE_INT4, j->n);
    return 0;
}

/* Whether @s is a JSON number (PostgreSQL's IsValidJsonNumber). */
static bool
is_json_number(const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !is_digit(*p))
        return false;
    if (*p == '0')
        p++;
    else
        while (p < end && is_digit(*p))
            p++;
    if (p < end && *p == '.') {
        if (++p >= end || !is_digit(*p))
            return false;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return false;
        while (p < end && is_digit(*p))
            p++;
    }
    return p == end;
}

int
tl_json_from_value(const struct tl_value *v, uint8_t type, struct tl_arena *a,
                   struct tl_value *out, struct tl_error *err)
{
    struct tl_buf txt, b;
    int rv = 0;

    if (tl_type_is_json(v->type) && (type == TL_TYPE_JSON || v->type == type)) {
        *out = tl_value_text(type, v->u.s.p, v->u.s.len);
        return 0;
    }
    tl_buf_init(&txt);
    tl_buf_init(&b);
    if (v->type == TL_TYPE_BOOL)
        tl_buf_append(&txt, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
    else
        tl_value_to_text(v, &txt);
    const char *p = txt.len ? (const char *)txt.data : "";
    size_t len = txt.len;
    if (tl_type_is_json(v->type) || v->type == TL_TYPE_BOOL ||
        (tl_type_is_numeric(v->type) && is_json_number(p, len))) {
        tl_buf_append(&b, p, len);
    } else if (tl_type_is_datetime(v->type) && v->type != TL_TYPE_DATE) {
        /* ISO 8601: a T between date and time, a +hh:mm zone. */
        struct tl_buf iso;
        tl_buf_init(&iso);
        const char *sp = memchr(p, ' ', len);
        if (sp == NULL) {
            tl_buf_append(&iso, p, len);
        } else {
            tl_buf_append(&iso, p, (size_t)(sp - p));
            tl_buf_append_u8(&iso, 'T');
            tl_buf_append(&iso, sp + 1, len - (size_t)(sp + 1 - p));
            if (v->type == TL_TYPE_TIMESTAMPTZ && len >= 3 &&
                (p[len - 3] == '+' || p[len - 3] == '-'))
                tl_buf_append(&iso, ":00", 3);
        }
        write_string((const char *)iso.data, (uint32_t)iso.len, &b);
        tl_buf_close(&iso);
    } else {
        write_string(p, (uint32_t)len, &b);
    }
    const char *bp = b.len ? (const char *)b.data : "";
    if (type == TL_TYPE_JSONB)
        rv = tl_json_in(TL_TYPE_JSONB, bp, b.len, a, out, err);
    else
        *out = tl_value_text_dup(a, TL_TYPE_JSON, bp, b.len);
    tl_buf_close(&txt);
    tl_buf_close(&b);
    return rv;
}
