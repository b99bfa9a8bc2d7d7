/* prepared — modify batches built but not yet proposed.
 *
 * A statement that modifies several shards first asks each to prepare:
 * the node scans and builds the batch, checks it against max_entry_bytes
 * and keeps the encoded entry here under the statement's prepared id
 * instead of proposing it. Only when every shard prepared does the router
 * ask them to propose, so a statement too large for one shard writes on
 * none. A kept batch is proposed at most once (taking it removes it); one
 * not taken within PREPARED_TTL_S is dropped, and the store holds at most
 * PREPARED_MAX_BYTES (beyond that a batch is simply not kept: the second
 * phase then runs the modify from scratch, which is correct, only slower).
 *
 * Any thread: every field is guarded by mu. */
#ifndef NODE_PREPARED_H
#define NODE_PREPARED_H

#include <pthread.h>
#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

#define PREPARED_TTL_S 60.0
#define PREPARED_MAX_BYTES ((size_t)512 << 20)

struct prepared_entry;

struct prepared_store {
    pthread_mutex_t mu;
    struct prepared_entry *head; /* newest first */
    size_t bytes;                /* payload bytes kept */
};

/** Initialise / release @s (dropping what it keeps). Cannot fail. */
void prepared_init(struct prepared_store *s);
void prepared_close(struct prepared_store *s);

/** Keep @buf (a raft entry payload; takes ownership: raft_free'd when
 * dropped) for @shard under @id with its row count @affected, replacing
 * an older one under the same id. If the store is full the buffer is
 * freed and nothing is kept. @now: monotonic seconds. */
void prepared_put(struct prepared_store *s, uint64_t id, uint32_t shard,
                  struct raft_buffer buf, uint64_t affected, double now);

/** Take the batch kept for @shard under @id: true with *@buf (caller
 * owns it) and *@affected, or false. */
bool prepared_take(struct prepared_store *s, uint64_t id, uint32_t shard,
                   struct raft_buffer *buf, uint64_t *affected, double now);

#endif
