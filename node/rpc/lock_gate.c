/* lock_gate — fair row lock waits at a shard's leader (lock_gate.h). */
#include "node/rpc/lock_gate.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "node/store/mvcc.h"

/* The shard of @t's record (router/txn/coord.h: 0xFE, the shard in 4
 * bytes big-endian, the start timestamp), 0 when it has none. */
static uint32_t
record_shard(const Talus__TxnInfo *t)
{
    return t->has_primary && t->primary.len == 13 && t->primary.data[0] == 0xFE
               ? tl_load_be32(t->primary.data + 1)
               : 0;
}

void
lock_gate_init(struct lock_gate *g, struct replica *sh,
               const Talus__Request *req, bool skip_locked,
               exec_propose_fn propose, void *ctx)
{
    const Talus__TxnInfo *t = req->txn;
    *g = (struct lock_gate){.sh = sh,
                            .propose = propose,
                            .ctx = ctx,
                            .map_version = req->map_version};
    if (skip_locked)
        return;
    if (t != NULL && t->start_ts != 0)
        g->me = (struct lock_queue_waiter){.id = t->start_ts,
                                           .txn = true,
                                           .name_ts = t->start_ts,
                                           .name_shard = record_shard(t)};
    else
        g->me.id = req->request_id;
    if (req->has_lock_wait_ms && req->lock_wait_ms > 0)
        g->until_ms = exec_now_ms() + req->lock_wait_ms;
}

/* Whether @key has a lock record (anyone's: the state machine decides
 * about it). */
static bool
is_locked(struct lock_gate *g, const ProtobufCBinaryData *key)
{
    struct node *n = node_of(g->sh);
    struct mvcc_lock lk;
    uint8_t *buf = NULL;
    int rv =
        mvcc_read_lock(n->st, g->sh->fsm.cf, key->data, key->len, &lk, &buf);
    free(buf);
    return rv != 0; /* an error: let the state machine meet it */
}

/* Propose @wb through g->propose, with the request's catalog version. */
static int
propose_versioned(struct lock_gate *g, const Talus__WriteBatch *wb,
                  struct fsm_result *res, struct tl_error *err)
{
    if (g->map_version == 0 || wb->has_map_version)
        return g->propose(g->ctx, wb, res, err);
    Talus__WriteBatch v = *wb;
    v.has_map_version = true;
    v.map_version = g->map_version;
    return g->propose(g->ctx, &v, res, err);
}

int
lock_gate_propose(void *ctx, const Talus__WriteBatch *wb,
                  struct fsm_result *res, struct tl_error *err)
{
    struct lock_gate *g = ctx;
    struct lock_queue *q = &node_of(g->sh)->locks;
    g->queued = false;
    if (g->me.id == 0 || lock_queue_empty(q))
        return propose_versioned(g, wb, res, err);
    int64_t now = exec_now_ms();
    for (size_t i = 0; i < wb->n_mutations; i++) {
        const ProtobufCBinaryData *k = &wb->mutations[i]->key;
        struct lock_queue_waiter head;
        if (!lock_queue_head(q, g->sh->shard, k->data, k->len, g->me.id, now,
                             &head) ||
            is_locked(g, k))
            continue;
        /* Free, but another transaction asked first: wait behind it. */
        memset(res, 0, sizeof *res);
        res->outcome = FSM_LOCKED;
        res->mutation = (int32_t)i;
        g->queued = true;
        g->head = head;
        return 0;
    }
    return propose_versioned(g, wb, res, err);
}

void
lock_gate_done(struct lock_gate *g, int rv,
               const ProtobufCBinaryData *locked_key, bool prepared,
               struct tl_error *err)
{
    struct lock_queue *q = &node_of(g->sh)->locks;
    if (g->me.id == 0)
        return;
    if (rv == TL_ELOCKED && locked_key != NULL && locked_key->len > 0) {
        if (g->queued) {
            err->lock_ts = g->head.name_ts;
            err->lock_shard = g->head.name_shard;
            g->queued = g->head.txn; /* else: the holder is named */
        }
        if (!g->me.txn) {
            /* Those behind a request outside a transaction wait for what
             * it waits for. */
            g->me.name_ts = err->lock_ts;
            g->me.name_shard = err->lock_shard;
        }
        int64_t now = exec_now_ms();
        struct lock_queue_waiter head;
        lock_queue_wait(q, g->sh->shard, locked_key->data, locked_key->len,
                        &g->me, now, g->until_ms);
        g->next = !g->queued &&
                  !lock_queue_head(q, g->sh->shard, locked_key->data,
                                   locked_key->len, g->me.id, now, &head);
        return;
    }
    g->queued = false;
    /* Done, or failed for good: it waits no more (a failure the router
     * sends again, or a batch only kept for a second phase, keeps its
     * places). */
    bool again = rv == TL_ELOCKED || rv == TL_ETIMEOUT || rv == TL_ENOTLEADER ||
                 rv == TL_EUNAVAILABLE || rv == TL_ESTALE || rv == TL_ESHUTDOWN;
    if (rv == 0 ? !prepared : !again)
        lock_queue_leave(q, g->sh->shard, g->me.id);
}

void
lock_gate_answer(const struct lock_gate *g, Talus__Response *resp)
{
    if (g->queued && resp->error != NULL) {
        resp->error->has_lock_queued = true;
        resp->error->lock_queued = true;
    }
    if (g->next && resp->error != NULL) {
        resp->error->has_lock_next = true;
        resp->error->lock_next = true;
    }
}
