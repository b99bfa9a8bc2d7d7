/* txn_waits — the registered edges of the wait-for graph (txn_waits.h). */
#include "node/rpc/txn_waits.h"

#include <string.h>

void
txn_waits_init(struct txn_waits *w)
{
    memset(w->e, 0, sizeof(w->e));
    pthread_mutex_init(&w->mu, NULL);
}

void
txn_waits_close(struct txn_waits *w)
{
    pthread_mutex_destroy(&w->mu);
}

/* The slot of (@shard, @start_ts), or -1. Caller holds mu. */
static int
find(const struct txn_waits *w, uint32_t shard, uint64_t start_ts)
{
    for (int i = 0; i < TXN_WAITS_MAX; i++)
        if (w->e[i].start_ts == start_ts && w->e[i].shard == shard)
            return i;
    return -1;
}

void
txn_waits_set(struct txn_waits *w, uint32_t shard, uint64_t start_ts,
              uint64_t waits_ts, uint32_t waits_shard, int64_t now_ms)
{
    if (start_ts == 0)
        return;
    pthread_mutex_lock(&w->mu);
    int i = find(w, shard, start_ts);
    if (waits_ts == 0) {
        if (i >= 0)
            memset(&w->e[i], 0, sizeof(w->e[i]));
        pthread_mutex_unlock(&w->mu);
        return;
    }
    if (i < 0) {
        /* A free or expired slot, else the oldest. */
        int oldest = 0;
        for (int k = 0; k < TXN_WAITS_MAX; k++) {
            if (w->e[k].start_ts == 0 ||
                now_ms - w->e[k].at_ms >= TXN_WAITS_TTL_MS) {
                oldest = k;
                break;
            }
            if (w->e[k].at_ms < w->e[oldest].at_ms)
                oldest = k;
        }
        i = oldest;
    }
    w->e[i] = (struct txn_wait_edge){.shard = shard,
                                     .start_ts = start_ts,
                                     .waits_ts = waits_ts,
                                     .waits_shard = waits_shard,
                                     .at_ms = now_ms};
    pthread_mutex_unlock(&w->mu);
}

int
txn_waits_get(struct txn_waits *w, uint32_t shard, uint64_t start_ts,
              int64_t now_ms, uint64_t *waits_ts, uint32_t *waits_shard)
{
    int found = 0;
    pthread_mutex_lock(&w->mu);
    int i = find(w, shard, start_ts);
    if (i >= 0 && now_ms - w->e[i].at_ms < TXN_WAITS_TTL_MS) {
        *waits_ts = w->e[i].waits_ts;
        *waits_shard = w->e[i].waits_shard;
        found = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return found;
}
