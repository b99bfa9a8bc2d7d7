#include "node/rpc/prepared.h"

#include <stdlib.h>

struct prepared_entry {
    uint64_t id;
    uint32_t shard;
    struct raft_buffer buf;
    uint64_t affected;
    double expires;
    struct prepared_entry *next;
};

void
prepared_init(struct prepared_store *s)
{
    pthread_mutex_init(&s->mu, NULL);
    s->head = NULL;
    s->bytes = 0;
}

static void
drop(struct prepared_store *s, struct prepared_entry **pp)
{
    struct prepared_entry *e = *pp;
    *pp = e->next;
    s->bytes -= e->buf.len;
    raft_free(e->buf.base);
    free(e);
}

/* Drop expired entries, and the one under @id/@shard if @also (mu held). */
static void
sweep(struct prepared_store *s, double now, uint64_t id, uint32_t shard,
      bool also)
{
    for (struct prepared_entry **pp = &s->head; *pp != NULL;) {
        struct prepared_entry *e = *pp;
        if (e->expires <= now || (also && e->id == id && e->shard == shard))
            drop(s, pp);
        else
            pp = &e->next;
    }
}

void
prepared_close(struct prepared_store *s)
{
    while (s->head != NULL)
        drop(s, &s->head);
    pthread_mutex_destroy(&s->mu);
}

void
prepared_put(struct prepared_store *s, uint64_t id, uint32_t shard,
             struct raft_buffer buf, uint64_t affected, double now)
{
    struct prepared_entry *e;

    pthread_mutex_lock(&s->mu);
    sweep(s, now, id, shard, true);
    if (s->bytes + buf.len > PREPARED_MAX_BYTES ||
        (e = malloc(sizeof *e)) == NULL) {
        pthread_mutex_unlock(&s->mu);
        raft_free(buf.base);
        return;
    }
    e->id = id;
    e->shard = shard;
    e->buf = buf;
    e->affected = affected;
    e->expires = now + PREPARED_TTL_S;
    e->next = s->head;
    s->head = e;
    s->bytes += buf.len;
    pthread_mutex_unlock(&s->mu);
}

bool
prepared_take(struct prepared_store *s, uint64_t id, uint32_t shard,
              struct raft_buffer *buf, uint64_t *affected, double now)
{
    bool found = false;

    pthread_mutex_lock(&s->mu);
    sweep(s, now, 0, 0, false);
    for (struct prepared_entry **pp = &s->head; *pp != NULL;
         pp = &(*pp)->next) {
        struct prepared_entry *e = *pp;
        if (e->id != id || e->shard != shard)
            continue;
        *buf = e->buf;
        *affected = e->affected;
        *pp = e->next;
        s->bytes -= e->buf.len;
        free(e);
        found = true;
        break;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}
