/* expr — scalar expressions over one row, evaluated by routers and nodes.
 *
 * The router binds SQL expressions into this tree (column references are
 * indexes into the table's column list, every node carries its result
 * type), ships it inside fragments as protobuf, and nodes evaluate it
 * against decoded rows. Evaluation follows SQL's three-valued logic: AND,
 * OR and NOT treat NULL as unknown; comparisons and arithmetic with a NULL
 * operand give NULL; `x IN (...)` is NULL when x is NULL, or when no
 * element matched and one element was NULL.
 *
 * Trees live in an arena; they are never freed one node at a time. */
#ifndef TL_EXPR_H
#define TL_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "talus.pb-c.h"
#include "tl_error.h"
#include "value.h"

/* On the wire: never renumber. */
enum tl_expr_kind {
    TL_EXPR_CONST = 1,       /* value */
    TL_EXPR_COLUMN = 2,      /* row[column] */
    TL_EXPR_OP = 3,          /* op applied to args (1 or 2) */
    TL_EXPR_AND = 4,         /* args[0] AND args[1] AND ... */
    TL_EXPR_OR = 5,          /* args[0] OR args[1] OR ... */
    TL_EXPR_NOT = 6,         /* NOT args[0] */
    TL_EXPR_IS_NULL = 7,     /* args[0] IS NULL */
    TL_EXPR_IS_NOT_NULL = 8, /* args[0] IS NOT NULL */
    TL_EXPR_IN = 9,          /* args[0] IN (args[1], ..., args[n-1]) */
    TL_EXPR_CAST = 10,       /* args[0]::type(typmod) */
    /* CASE WHEN args[0] THEN args[1] [WHEN args[2] THEN args[3] ...]
     * [ELSE args[n-1]] END: an odd count has an ELSE (else NULL). */
    TL_EXPR_CASE = 11,
    TL_EXPR_COALESCE = 12, /* first non-NULL of args */
    /* GREATEST (op TL_OP_GT) or LEAST (op TL_OP_LT) of the non-NULL
     * args; NULL when all are. */
    TL_EXPR_MINMAX = 13,
    /* A built-in scalar function (common/scalar.h): op is its enum
     * tl_func id, args its arguments. */
    TL_EXPR_FUNC = 14,
    /* Never on the wire: a node the router evaluates itself through
     * ext_fn (catalog functions, subqueries, outer references). Plans
     * that hold one run at the router (tl_expr_is_portable()). */
    TL_EXPR_EXT = 100,
};

/* On the wire: never renumber. */
enum tl_op {
    TL_OP_EQ = 1,
    TL_OP_NE = 2,
    TL_OP_LT = 3,
    TL_OP_LE = 4,
    TL_OP_GT = 5,
    TL_OP_GE = 6,
    TL_OP_ADD = 7,
    TL_OP_SUB = 8,
    TL_OP_MUL = 9,
    TL_OP_DIV = 10, /* integer division truncates toward zero */
    TL_OP_MOD = 11,
    TL_OP_NEG = 12,    /* unary */
    TL_OP_CONCAT = 13, /* text || text */
    TL_OP_LIKE = 14,   /* text LIKE pattern, % and _ and \ escapes */
    TL_OP_ILIKE = 15,  /* LIKE ignoring case */
    TL_OP_REGEX = 16,  /* text ~ POSIX extended regular expression */
    TL_OP_IREGEX = 17, /* text ~* regular expression, ignoring case */
    /* IS [NOT] DISTINCT FROM: NULL-aware equality, never NULL. */
    TL_OP_DISTINCT = 18,
    TL_OP_NOT_DISTINCT = 19,
    /* Integers only: & | # << >> and unary ~. */
    TL_OP_BITAND = 20,
    TL_OP_BITOR = 21,
    TL_OP_BITXOR = 22,
    TL_OP_SHL = 23,
    TL_OP_SHR = 24,
    TL_OP_BITNOT = 25,
    /* json and jsonb (json.h); the left operand is the document. */
    TL_OP_JSON_GET = 26,       /* -> int element or text field */
    TL_OP_JSON_GET_TEXT = 27,  /* ->> the same, as text */
    TL_OP_JSON_PATH = 28,      /* #> text[] path (its literal text) */
    TL_OP_JSON_PATH_TEXT = 29, /* #>> the same, as text */
    TL_OP_JSON_CONTAINS = 30,  /* jsonb @> jsonb */
    TL_OP_JSON_EXISTS = 31,    /* jsonb ? text */
};
#define TL_OP_MAX TL_OP_JSON_EXISTS

/** PostgreSQL's spelling of operator @op ("=", "~~", "->", "IS DISTINCT
 * FROM", ...), for messages and EXPLAIN; "?" for an unknown one. Cannot
 * fail; the string is static. */
const char *tl_expr_op_symbol(uint8_t op);

struct tl_expr;

/* How a TL_EXPR_EXT node computes its value: over the same arguments as
 * tl_expr_eval(); it evaluates e->args itself. Errors as tl_expr_eval. */
typedef int (*tl_expr_ext_fn)(const struct tl_expr *e,
                              const struct tl_value *row, size_t n_cols,
                              struct tl_arena *a, struct tl_value *out,
                              struct tl_error *err);

struct tl_expr {
    uint8_t kind;          /* enum tl_expr_kind */
    uint8_t op;            /* enum tl_op for TL_EXPR_OP and TL_EXPR_MINMAX,
                              enum tl_func for TL_EXPR_FUNC */
    uint8_t type;          /* result type (enum tl_type) */
    int32_t typmod;        /* TL_EXPR_CAST target typmod, else -1 */
    uint32_t column;       /* TL_EXPR_COLUMN */
    struct tl_value value; /* TL_EXPR_CONST; text borrows arena memory */
    uint32_t n_args;
    struct tl_expr **args;
    tl_expr_ext_fn ext_fn; /* TL_EXPR_EXT */
    void *ext;             /* TL_EXPR_EXT: the function's data (borrowed) */
};

/** Evaluate @e over @row[0..n_cols) into *@out. Text results may borrow
 * @row's memory, @e's constants or @a. Integer results are range-checked
 * against e->type (int4 + int4 overflows at the int4 range, as in
 * PostgreSQL). Errors: TL_EOVERFLOW (22003 "smallint out of range",
 * "integer out of range", "bigint out of range"), TL_EDIVZERO (22012
 * "division by zero"), TL_ETYPE for operands the tree's types do not
 * allow (42883), and whatever a cast reports (tl_value_cast). */
int tl_expr_eval(const struct tl_expr *e, const struct tl_value *row,
                 size_t n_cols, struct tl_arena *a, struct tl_value *out,
                 struct tl_error *err);

/** Evaluate predicate @e: *@result is 1 for true, 0 for false or NULL (a
 * WHERE clause keeps only rows where it is true). Errors as tl_expr_eval;
 * TL_ETYPE if the result is not boolean. */
int tl_expr_eval_pred(const struct tl_expr *e, const struct tl_value *row,
                      size_t n_cols, struct tl_arena *a, int *result,
                      struct tl_error *err);

/** Whether @a and @b are the same expression (PostgreSQL's equal() over
 * bound trees): same kinds, operators, types, columns and constants;
 * TL_EXPR_EXT nodes only with the same function and data. Cannot fail. */
bool tl_expr_equal(const struct tl_expr *a, const struct tl_expr *b);

/** Whether @e can be shipped to a node: it holds no TL_EXPR_EXT node.
 * NULL is portable. Cannot fail. */
bool tl_expr_is_portable(const struct tl_expr *e);

/** Serialise @e (portable: tl_expr_is_portable()) into a protobuf tree
 * allocated in @a. Cannot fail. */
Talus__Expr *tl_expr_to_proto(const struct tl_expr *e, struct tl_arena *a);

/** Build a tree in @a from @pb, checking it: known kinds and ops, argument
 * counts, column indexes below @n_cols, decodable constants. TL_EPROTO
 * (08P01) with a message naming the problem otherwise. */
int tl_expr_from_proto(const Talus__Expr *pb, size_t n_cols, struct tl_arena *a,
                       struct tl_expr **out, struct tl_error *err);

/** Constructors for building trees by hand (binder, tests); all allocate
 * in @a and cannot fail. */
struct tl_expr *tl_expr_const(struct tl_arena *a, const struct tl_value *v);
struct tl_expr *tl_expr_column(struct tl_arena *a, uint32_t column,
                               uint8_t type);
struct tl_expr *tl_expr_op(struct tl_arena *a, uint8_t op, uint8_t type,
                           struct tl_expr *l, struct tl_expr *r);
/** Node of @kind with @n args (copied pointers) and result type @type. */
struct tl_expr *tl_expr_node(struct tl_arena *a, uint8_t kind, uint8_t type,
                             struct tl_expr **args, uint32_t n);
/** A TL_EXPR_EXT node computing @type with @fn over @n @args and @ext. */
struct tl_expr *tl_expr_ext(struct tl_arena *a, uint8_t type, tl_expr_ext_fn fn,
                            void *ext, struct tl_expr **args, uint32_t n);

#endif
