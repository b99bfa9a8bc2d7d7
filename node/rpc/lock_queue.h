/* lock_queue — the order in which transactions wait for a row lock, so
 * that they get it first come, first served (as in PostgreSQL).
 *
 * A writer that meets another transaction's row lock is refused
 * (TL_ELOCKED) and its router asks again every few milliseconds; without
 * an order, whichever retry arrives first after the lock is released
 * wins, and a waiter can starve. The leader of a shard therefore keeps,
 * per locked key, the transactions it refused in arrival order: a request
 * that finds the key unlocked while another transaction heads its queue is
 * refused as if the head held the lock (lock_queue_head()); the head goes
 * on and leaves every queue of the shard when its request succeeds.
 *
 * Nothing is replicated: a new leader starts with no queue, which only
 * costs fairness for one release. An entry expires when its waiter has not
 * asked again for LOCK_QUEUE_TTL_MS (waiters ask every 10 ms; the margin is
 * for a router busy resolving or checking for deadlocks on a loaded
 * machine), or once the waiter said it stops waiting (until_ms: its
 * lock_timeout or statement deadline), so a waiter that was cancelled or
 * crashed never holds the queue for long. A request that ends, or its
 * transaction's end, removes its entries at once.
 *
 * Fixed capacity (LOCK_QUEUE_MAX entries; past it a new waiter is not
 * queued and waits unordered, as before). Thread-safe: entries are guarded
 * by mu, which every function takes; n_live lets the common case (no
 * queue at all) skip the mutex. */
#ifndef NODE_LOCK_QUEUE_H
#define NODE_LOCK_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOCK_QUEUE_MAX 4096
#define LOCK_QUEUE_TTL_MS 1000

/* Who waits, and whom a request queued behind it is told it waits for. */
struct lock_queue_waiter {
    uint64_t id; /* its transaction's start_ts, or its request's id outside
                    a transaction (an autocommit point write) */
    bool txn;    /* id is a transaction's start_ts */
    /* The transaction named to those behind it: the waiter's own (ts =
     * id, shard = its record's shard, 0: unknown) when txn; else the one
     * whose lock it last met (a request outside a transaction holds
     * nothing, but waits for the holder all the same). */
    uint64_t name_ts;
    uint32_t name_shard;
};

struct lock_queue_entry {
    uint32_t shard;
    uint8_t *key; /* owned copy */
    size_t key_len;
    struct lock_queue_waiter w;
    uint64_t seq;     /* arrival order */
    int64_t seen_ms;  /* last refusal or head check (monotonic ms) */
    int64_t until_ms; /* the waiter stops waiting then (0: unknown) */
};

struct lock_queue {
    pthread_mutex_t mu;
    struct lock_queue_entry *e; /* guarded by mu: n entries, any order */
    size_t n, cap;
    uint64_t next_seq;
    atomic_size_t n_live; /* == n, readable without mu */
};

/** Initialise @q (empty). Cannot fail (aborts when out of memory). */
void lock_queue_init(struct lock_queue *q);
/** Free what @q holds. */
void lock_queue_close(struct lock_queue *q);

/** Whether @q holds no entry at all (no mutex: a hint). */
int lock_queue_empty(struct lock_queue *q);

/** Waiter @w (copied) was refused on @key (copied) of @shard as of
 * @now_ms and will ask again until @until_ms (0: unknown): queued behind
 * the waiters already there, or its place kept (and its name updated).
 * Its places in other queues of @shard are kept too (it still waits). */
void lock_queue_wait(struct lock_queue *q, uint32_t shard, const void *key,
                     size_t key_len, const struct lock_queue_waiter *w,
                     int64_t now_ms, int64_t until_ms);

/** The first live waiter of @key on @shard as of @now_ms, if it is not
 * waiter @id: 1 with *@head, else 0 (no queue, or @id heads it: its place
 * is kept). Drops expired entries of the key. */
int lock_queue_head(struct lock_queue *q, uint32_t shard, const void *key,
                    size_t key_len, uint64_t id, int64_t now_ms,
                    struct lock_queue_waiter *head);

/** Waiter @id no longer waits on @shard (it got what it asked for): its
 * entries there go. */
void lock_queue_leave(struct lock_queue *q, uint32_t shard, uint64_t id);

/** How many transactions wait in the queues of @shard as of @now_ms. */
size_t lock_queue_count(struct lock_queue *q, uint32_t shard, int64_t now_ms);

/** Transaction @start_ts ended: its entries on every shard go. */
void lock_queue_forget(struct lock_queue *q, uint64_t start_ts);

#endif
