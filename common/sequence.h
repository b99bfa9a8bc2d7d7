/* sequence — a sequence's description and the arithmetic of handing out
 * its values, as PostgreSQL's sequence.c does it.
 *
 * The catalog stores a sequence as talus.SequenceDesc (its options) and,
 * under a key of its own, its state: last_value and is_called, exactly
 * PostgreSQL's pair. A fresh sequence has last_value = start and
 * is_called = false: the next value is start itself. Routers take values
 * in blocks (tl_sequence_reserve()): one conditional write of the state
 * reserves a block, and the router hands its values out one by one.
 *
 * Invariants of a valid description (tl_sequence_from_proto() checks
 * them): increment != 0, min_value < max_value, both within the range of
 * type (int2, int4 or int8), min_value <= start <= max_value, cache >= 1.
 * Pure: no I/O, no state; any thread. */
#ifndef TL_SEQUENCE_H
#define TL_SEQUENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "table.h"
#include "talus.pb-c.h"
#include "tl_error.h"

struct tl_sequence {
    uint32_t id;
    char name[TL_NAME_MAX];
    uint8_t type; /* TL_TYPE_INT2, INT4 or INT8 */
    int64_t increment;
    int64_t min_value;
    int64_t max_value;
    int64_t start;
    int64_t cache;
    bool cycle;
    uint32_t owner_table; /* id of the owning table, 0: none */
    char owner_column[TL_NAME_MAX];
};

/** Fill @s from @pb (copied). TL_EPROTO (with @err, may be NULL) when the
 * description breaks an invariant above; @s is then partly filled. */
int tl_sequence_from_proto(const Talus__SequenceDesc *pb, struct tl_sequence *s,
                           struct tl_error *err);

/** Fill @pb from @s; strings in @a. Cannot fail. */
void tl_sequence_to_proto(const struct tl_sequence *s, struct tl_arena *a,
                          Talus__SequenceDesc *pb);

/** The smallest and largest value of @type (int2, int4 or int8; asserted).
 * Cannot fail. */
void tl_sequence_type_range(uint8_t type, int64_t *min, int64_t *max);

/** Reserve up to @want (>= 1) values of @s after the state
 * (*@last_value, *@is_called), as that many nextval() calls in a row
 * would. On success *@first is the first value of the block, *@n how many
 * values it holds (1..@want: a block stops at the bound, and a cycling
 * sequence restarts from the other bound in a later block), and the state
 * becomes the block's last value, called. Values of the block are
 * *@first + k * increment for k < *@n. TL_EOVERFLOW when the sequence is
 * exhausted (no cycle): the state is then untouched. Cannot fail
 * otherwise. */
int tl_sequence_reserve(const struct tl_sequence *s, int64_t *last_value,
                        bool *is_called, int64_t want, int64_t *first,
                        int64_t *n);

#endif
