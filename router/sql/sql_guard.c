/* sql_guard — refuse query texts whose parse tree would be too deep for
 * libpg_query.
 *
 * PostgreSQL's grammar builds left-associative operator chains
 * (`1 + 1 + 1 ...`, `x::int::int ...`, `a || b || c ...`) without growing
 * the parser stack, so a chain of a million operators parses into a tree a
 * million levels deep. libpg_query then walks that tree recursively to
 * serialise it (and protobuf-c to decode it), which overflows the thread's
 * stack and kills the router. Right-recursive forms (NOT NOT ..., nested
 * parentheses) are already stopped by the parser's own stack limit, and
 * AND/OR chains are flattened by the grammar.
 *
 * The guard scans the text once, skipping literals and comments, and
 * counts operator tokens in each stretch between separators that start a
 * new subtree (commas, semicolons, AND, OR, CASE arms, clause keywords).
 * That count bounds the depth an operator chain can reach in the stretch,
 * so refusing stretches above the limit is safe and leaves flat queries
 * of any length (huge IN lists, long AND chains) alone. Nesting (brackets,
 * CASE) is bounded separately: each level of a nested subquery, call or
 * array adds several levels to the tree.
 *
 * sql_guard_utf8_ok() is the other check made before parsing: the text
 * must be valid UTF-8, the server encoding, as PostgreSQL requires of
 * every message it receives. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "router/sql/sql_int.h"

static bool
is_op_char(char c)
{
    return c != '\0' && strchr("+-*/<>=~!@#%^&|`?:", c) != NULL;
}

/* Words after which a new, independent subtree starts. */
static bool
is_separator_word(const char *w, size_t n)
{
    static const char *const words[] = {
        "AND",  "OR",     "WHEN",  "THEN",   "ELSE",  "SELECT",
        "FROM", "WHERE",  "ORDER", "BY",     "LIMIT", "OFFSET",
        "SET",  "VALUES", "ON",    "HAVING", "GROUP", NULL};
    for (int i = 0; words[i] != NULL; i++)
        if (strlen(words[i]) == n && strncasecmp(words[i], w, n) == 0)
            return true;
    return false;
}

/* Words that chain like a left-associative operator. */
static bool
is_operator_word(const char *w, size_t n)
{
    static const char *const words[] = {"IS",   "COLLATE", "AT",
                                        "LIKE", "ILIKE",   NULL};
    for (int i = 0; words[i] != NULL; i++)
        if (strlen(words[i]) == n && strncasecmp(words[i], w, n) == 0)
            return true;
    return false;
}

/* Index just past the literal, identifier or comment starting at @i, or
 * @i when none starts there. */
static size_t
skip_quoted(const char *q, size_t len, size_t i)
{
    char c = q[i];
    if (c == '-' && i + 1 < len && q[i + 1] == '-') {
        while (i < len && q[i] != '\n')
            i++;
        return i;
    }
    if (c == '/' && i + 1 < len && q[i + 1] == '*') {
        int depth = 0;
        while (i + 1 < len) {
            if (q[i] == '/' && q[i + 1] == '*') {
                depth++;
                i += 2;
            } else if (q[i] == '*' && q[i + 1] == '/') {
                i += 2;
                if (--depth == 0)
                    return i;
            } else {
                i++;
            }
        }
        return len;
    }
    if (c == '\'' || c == '"') {
        bool escapes =
            c == '\'' && i > 0 && (q[i - 1] == 'E' || q[i - 1] == 'e');
        for (i++; i < len; i++) {
            if (escapes && q[i] == '\\') {
                i++;
            } else if (q[i] == c) {
                if (i + 1 < len && q[i + 1] == c)
                    i++; /* doubled quote */
                else
                    return i + 1;
            }
        }
        return len;
    }
    if (c == '$') {
        size_t t = i + 1;
        while (t < len && (isalnum((unsigned char)q[t]) || q[t] == '_'))
            t++;
        if (t >= len || q[t] != '$' || isdigit((unsigned char)q[i + 1]))
            return i; /* a parameter like $1, not a dollar quote */
        size_t tag = t + 1 - i;
        for (size_t k = t + 1; k + tag <= len; k++)
            if (memcmp(q + k, q + i, tag) == 0)
                return k + tag;
        return len;
    }
    return i;
}

#define GUARD_LEVELS 1024 /* tracked parenthesis levels; deeper merge */

/* Operator counts of the current stretch at each open parenthesis level.
 * A closed parenthesis is one operand of the enclosing stretch, so its
 * count is added to that stretch (an over-estimate, never an under-). */
struct guard {
    size_t stack[GUARD_LEVELS];
    size_t depth;     /* levels pushed on stack */
    size_t untracked; /* levels opened beyond GUARD_LEVELS */
    size_t cur;       /* count of the current stretch */
    size_t nest;      /* open ( [ and CASE */
    size_t max_nest;
};

static void
guard_open(struct guard *g)
{
    if (++g->nest > g->max_nest)
        g->max_nest = g->nest;
    if (g->depth < GUARD_LEVELS) {
        g->stack[g->depth++] = g->cur;
        g->cur = 0;
    } else {
        g->untracked++;
    }
}

static void
guard_close(struct guard *g)
{
    if (g->nest > 0)
        g->nest--;
    if (g->untracked > 0)
        g->untracked--;
    else if (g->depth > 0)
        g->cur += g->stack[--g->depth] + 1;
}

static bool
word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

bool
sql_guard_depth_ok(const char *q, size_t len, size_t max, size_t max_nest)
{
    struct guard g;
    g.depth = g.untracked = g.cur = g.nest = g.max_nest = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = skip_quoted(q, len, i);
        if (j != i) {
            i = j;
            continue;
        }
        char c = q[i];
        if (c == ',' || c == ';') {
            g.cur = 0;
            i++;
        } else if (c == '(' || c == ')' || c == '[' || c == ']') {
            if (c == '(' || c == '[')
                guard_open(&g);
            else
                guard_close(&g);
            i++;
        } else if (is_op_char(c)) {
            while (i < len && is_op_char(q[i]) && skip_quoted(q, len, i) == i)
                i++;
            g.cur++;
        } else if (isalpha((unsigned char)c) || c == '_') {
            size_t start = i;
            while (i < len &&
                   (isalnum((unsigned char)q[i]) || q[i] == '_' || q[i] == '$'))
                i++;
            if (word_is(q + start, i - start, "CASE"))
                guard_open(&g);
            else if (word_is(q + start, i - start, "END"))
                guard_close(&g);
            else if (is_separator_word(q + start, i - start))
                g.cur = 0;
            else if (is_operator_word(q + start, i - start))
                g.cur++;
        } else {
            i++;
        }
        if (g.cur > max || g.max_nest > max_nest)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ encoding */

/* PostgreSQL's pg_utf_mblen(): the length a UTF-8 sequence claims by its
 * first byte (1 for a byte no sequence starts with). */
static size_t
utf8_mblen(unsigned char c)
{
    if ((c & 0x80) == 0)
        return 1;
    if ((c & 0xe0) == 0xc0)
        return 2;
    if ((c & 0xf0) == 0xe0)
        return 3;
    if ((c & 0xf8) == 0xf0)
        return 4;
    return 1;
}

/* PostgreSQL's pg_utf8_islegal(): @s[0..@n) is one well-formed sequence
 * (no overlong forms, no surrogates, nothing above U+10FFFF). */
static bool
utf8_is_legal(const unsigned char *s, size_t n)
{
    unsigned char a;

    switch (n) {
    case 4:
        if (s[3] < 0x80 || s[3] > 0xbf)
            return false;
        /* fall through */
    case 3:
        if (s[2] < 0x80 || s[2] > 0xbf)
            return false;
        /* fall through */
    case 2:
        a = s[1];
        switch (s[0]) {
        case 0xe0:
            if (a < 0xa0 || a > 0xbf)
                return false;
            break;
        case 0xed:
            if (a < 0x80 || a > 0x9f)
                return false;
            break;
        case 0xf0:
            if (a < 0x90 || a > 0xbf)
                return false;
            break;
        case 0xf4:
            if (a < 0x80 || a > 0x8f)
                return false;
            break;
        default:
            if (a < 0x80 || a > 0xbf)
                return false;
            break;
        }
        /* fall through */
    case 1:
        if (s[0] >= 0x80 && s[0] < 0xc2)
            return false;
        if (s[0] > 0xf4)
            return false;
        return true;
    default:
        return false;
    }
}

size_t
sql_guard_utf8_char_len(unsigned char c)
{
    return utf8_mblen(c);
}

size_t
sql_guard_utf8_prefix(const char *q, size_t len)
{
    const unsigned char *s = (const unsigned char *)q;
    size_t i = 0;

    while (i < len) {
        if (s[i] != 0 && s[i] < 0x80) {
            i++;
            continue;
        }
        if (s[i] == 0)
            break;
        size_t l = utf8_mblen(s[i]);
        if (l > len - i || !utf8_is_legal(s + i, l))
            break;
        i += l;
    }
    return i;
}

void
sql_guard_utf8_describe(const char *q, size_t len, char *bad, size_t bad_size)
{
    const unsigned char *s = (const unsigned char *)q;
    /* As report_invalid_encoding(): the bytes the sequence claims, at most
     * what is left and at most 8, as "0xc3 0x28". */
    size_t n = len > 0 ? utf8_mblen(s[0]) : 0;
    size_t off = 0;
    if (n > len)
        n = len;
    if (n > 8)
        n = 8;
    if (bad_size > 0)
        bad[0] = '\0';
    for (size_t j = 0; j < n && off + 6 <= bad_size; j++)
        off += (size_t)snprintf(bad + off, bad_size - off, "%s0x%02x",
                                j > 0 ? " " : "", s[j]);
}

bool
sql_guard_utf8_ok(const char *q, size_t len, char *bad, size_t bad_size)
{
    size_t ok = sql_guard_utf8_prefix(q, len);
    if (ok == len)
        return true;
    sql_guard_utf8_describe(q + ok, len - ok, bad, bad_size);
    return false;
}
