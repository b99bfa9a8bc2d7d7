/* lock_queue — first come, first served row lock waits (lock_queue.h). */
#include "node/rpc/lock_queue.h"

#include <stdlib.h>
#include <string.h>

void
lock_queue_init(struct lock_queue *q)
{
    q->e = NULL;
    q->n = q->cap = 0;
    q->next_seq = 1;
    atomic_init(&q->n_live, 0);
    pthread_mutex_init(&q->mu, NULL);
}

void
lock_queue_close(struct lock_queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->e[i].key);
    free(q->e);
    q->e = NULL;
    q->n = 0;
    pthread_mutex_destroy(&q->mu);
}

int
lock_queue_empty(struct lock_queue *q)
{
    return atomic_load_explicit(&q->n_live, memory_order_relaxed) == 0;
}

static int
expired(const struct lock_queue_entry *e, int64_t now_ms)
{
    return now_ms - e->seen_ms >= LOCK_QUEUE_TTL_MS ||
           (e->until_ms != 0 && now_ms >= e->until_ms);
}

static int
same_key(const struct lock_queue_entry *e, uint32_t shard, const void *key,
         size_t key_len)
{
    return e->shard == shard && e->key_len == key_len &&
           memcmp(e->key, key, key_len) == 0;
}

/* Remove entry @i (order is kept by seq, not by place). Caller holds mu. */
static void
drop(struct lock_queue *q, size_t i)
{
    free(q->e[i].key);
    q->e[i] = q->e[--q->n];
    atomic_store(&q->n_live, q->n);
}

/* Drop every expired entry. Caller holds mu. */
static void
drop_expired(struct lock_queue *q, int64_t now_ms)
{
    for (size_t i = 0; i < q->n;)
        if (expired(&q->e[i], now_ms))
            drop(q, i);
        else
            i++;
}

void
lock_queue_wait(struct lock_queue *q, uint32_t shard, const void *key,
                size_t key_len, const struct lock_queue_waiter *w,
                int64_t now_ms, int64_t until_ms)
{
    int found = 0;
    if (w->id == 0)
        return;
    pthread_mutex_lock(&q->mu);
    drop_expired(q, now_ms);
    for (size_t i = 0; i < q->n; i++) {
        struct lock_queue_entry *e = &q->e[i];
        if (e->w.id != w->id || e->shard != shard)
            continue;
        e->seen_ms = now_ms;
        e->until_ms = until_ms;
        if (same_key(e, shard, key, key_len)) {
            e->w = *w;
            found = 1;
        }
    }
    if (!found && q->n < LOCK_QUEUE_MAX) {
        if (q->n == q->cap) {
            q->cap = q->cap == 0 ? 16 : q->cap * 2;
            q->e = realloc(q->e, q->cap * sizeof *q->e);
            if (q->e == NULL)
                abort();
        }
        uint8_t *k = malloc(key_len ? key_len : 1);
        if (k == NULL)
            abort();
        memcpy(k, key, key_len);
        q->e[q->n++] = (struct lock_queue_entry){.shard = shard,
                                                 .key = k,
                                                 .key_len = key_len,
                                                 .w = *w,
                                                 .seq = q->next_seq++,
                                                 .seen_ms = now_ms,
                                                 .until_ms = until_ms};
        atomic_store(&q->n_live, q->n);
    }
    pthread_mutex_unlock(&q->mu);
}

int
lock_queue_head(struct lock_queue *q, uint32_t shard, const void *key,
                size_t key_len, uint64_t id, int64_t now_ms,
                struct lock_queue_waiter *out)
{
    struct lock_queue_entry *head = NULL;
    if (lock_queue_empty(q))
        return 0;
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < q->n;) {
        struct lock_queue_entry *e = &q->e[i];
        if (!same_key(e, shard, key, key_len)) {
            i++;
            continue;
        }
        if (expired(e, now_ms)) {
            /* Not seen again at this index: the last entry moved in. */
            if (head == &q->e[q->n - 1])
                head = e;
            drop(q, i);
            continue;
        }
        if (head == NULL || e->seq < head->seq)
            head = e;
        i++;
    }
    int other = head != NULL && head->w.id != id;
    if (other)
        *out = head->w;
    else if (head != NULL) {
        head->seen_ms = now_ms; /* the head is here: it keeps its place */
    }
    pthread_mutex_unlock(&q->mu);
    return other;
}

void
lock_queue_leave(struct lock_queue *q, uint32_t shard, uint64_t id)
{
    if (lock_queue_empty(q))
        return;
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < q->n;)
        if (q->e[i].w.id == id && q->e[i].shard == shard)
            drop(q, i);
        else
            i++;
    pthread_mutex_unlock(&q->mu);
}

void
lock_queue_forget(struct lock_queue *q, uint64_t start_ts)
{
    if (lock_queue_empty(q))
        return;
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < q->n;)
        if (q->e[i].w.txn && q->e[i].w.id == start_ts)
            drop(q, i);
        else
            i++;
    pthread_mutex_unlock(&q->mu);
}

size_t
lock_queue_count(struct lock_queue *q, uint32_t shard, int64_t now_ms)
{
    size_t n = 0;
    if (lock_queue_empty(q))
        return 0;
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < q->n; i++)
        n += q->e[i].shard == shard && !expired(&q->e[i], now_ms);
    pthread_mutex_unlock(&q->mu);
    return n;
}
