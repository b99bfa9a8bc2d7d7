/* sequences — sequences in the meta group, and the router's cached block
 * of values of each.
 *
 * A sequence is two records of the meta keyspace (common/meta/meta_keys.h):
 * its description by name (TL_META_INDEX_SEQUENCE) and its state by id
 * (TL_META_INDEX_SEQ_VALUE: PostgreSQL's last_value and is_called). Values
 * are cluster-unique: a router reserves a block of values with one
 * conditional write of the state (read, compute, write if unchanged, as a
 * compare-and-swap through Raft), then hands the block out from memory.
 * A block holds max(CACHE, SEQUENCE_MIN_BLOCK) values, fewer at a bound.
 * So, unlike PostgreSQL:
 *   - values are unique and increasing per router, not across routers
 *     (two routers interleave whole blocks);
 *   - values a router reserved and did not hand out are lost when it
 *     stops: a gap, as PostgreSQL's own CACHE leaves;
 *   - setval(), DROP SEQUENCE and a restart forget this router's block;
 *     other routers hand out what is left of theirs first.
 * Every session of a router shares its blocks, so on one router values
 * come in order, as in PostgreSQL with CACHE 1.
 *
 * Thread-safe: every connection thread shares one struct sequences. */
#ifndef TL_ROUTER_SEQUENCES_H
#define TL_ROUTER_SEQUENCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "router/core/router.h"
#include "sequence.h"
#include "tl_error.h"

/* The smallest block a router reserves at once, whatever the CACHE. */
#define SEQUENCE_MIN_BLOCK 32

struct sequences;

/** An empty cache for router @r (borrowed). Cannot fail today. */
int sequences_create(struct router *r, struct sequences **out);

/** Free @s; NULL is a no-op. */
void sequences_destroy(struct sequences *s);

/** Store the new sequence @seq (its id is assigned here and written back;
 * its state starts absent: the next value is start). TL_EEXISTS (no
 * report) when a sequence of that name exists; a meta group that cannot
 * be reached, or too much concurrent DDL (40001), reported in @err. */
int sequence_create(struct router *r, struct tl_sequence *seq,
                    struct tl_error *err);

/** Read sequence @name from the meta group into @out. TL_ENOTFOUND (no
 * report) when there is none. */
int sequence_lookup(struct router *r, const char *name, struct tl_sequence *out,
                    struct tl_error *err);

/** Every sequence owned by table @table_id, in @a (*@out, *@n). */
int sequence_list_owned(struct router *r, uint32_t table_id, struct tl_arena *a,
                        struct tl_sequence **out, size_t *n,
                        struct tl_error *err);

/** Remove sequence @name and its state, and forget its block.
 * TL_ENOTFOUND (no report) when there is none. */
int sequence_drop(struct router *r, const char *name, struct tl_error *err);

/** nextval(@name): *@value, and *@seq (may be NULL) its description.
 * TL_ENOTFOUND (no report) when there is no such sequence; TL_EOVERFLOW
 * with 2200H "nextval: reached maximum value of sequence "s" (N)" (or
 * minimum) when it is exhausted and does not cycle. */
int sequence_nextval(struct router *r, const char *name, int64_t *value,
                     struct tl_sequence *seq, struct tl_error *err);

/** setval(@name, @value, @is_called): the next nextval anywhere that has
 * no block left returns @value + increment (or @value when not
 * @is_called). *@seq (may be NULL) gets the description. TL_ENOTFOUND
 * (no report); 22003 "setval: value N is out of bounds for sequence "s"
 * (MIN..MAX)". */
int sequence_setval(struct router *r, const char *name, int64_t value,
                    bool is_called, struct tl_sequence *seq,
                    struct tl_error *err);

/** Put @seq back to its start (TRUNCATE ... RESTART IDENTITY) and forget
 * its block. */
int sequence_restart(struct router *r, const struct tl_sequence *seq,
                     struct tl_error *err);

#endif
