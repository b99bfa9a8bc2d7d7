/* membership — replica placement changes and leadership transfers, on the
 * loop thread.
 *
 * HOST_SHARD and DROP_SHARD act on this node's replica (create an empty,
 * not bootstrapped group / close the group and delete its raft directory
 * and data); ADD_REPLICA, REMOVE_REPLICA and TRANSFER_LEADER must reach
 * the shard's leader and map to raft_add + raft_assign(VOTER) (raft 0.15
 * catches the new server up in rounds before promoting it), raft_remove
 * and raft_transfer. One change and one transfer at a time per shard: a
 * second one fails with TL_EUNAVAILABLE ("busy, retry").
 *
 * TRANSFER_LEADER first replicates the operator's choice as the shard's
 * preferred leader (a WriteBatch with preferred_leader, stored by the
 * FSM), then calls raft_transfer. The leader poll transfers leadership
 * automatically: to the shard's preferred replica (the operator's choice,
 * else the first in the initial placement) once it is a caught up voter, at
 * most every AUTO_XFER_INTERVAL_S, so leaders spread again after a restart; and
 * away from this node while it restores a snapshot out of band (its state lags
 * the log it leads). */
#include "node/replica/replica_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "tl_error.h"

#define AUTO_XFER_INTERVAL_S 5.0

static void fail(struct proposal *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct proposal *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    replica_task_complete(p, code, 0);
}

static const struct raft_server *
find_server(struct raft *r, raft_id id)
{
    for (unsigned i = 0; i < r->configuration.n; i++)
        if (r->configuration.servers[i].id == id)
            return &r->configuration.servers[i];
    return NULL;
}

/* ---- HOST_SHARD / DROP_SHARD (this node's replica) */

static void
host_shard(struct replica_set *rs, struct proposal *p)
{
    struct replica *sh;
    struct store_cf *cf;

    if (p->shard >= rs->cfg.n_shards && p->shard != TL_META_GROUP) {
        fail(p, TL_EINVAL, "shard %u does not exist (shards = %u)", p->shard,
             rs->cfg.n_shards);
        return;
    }
    sh = replica_alloc(rs, p->shard);
    if (atomic_load(&sh->active)) {
        replica_task_complete(p, 0, 0);
        return;
    }
    if (sh->dropping || sh->raft_inited || sh->io_inited) {
        fail(p, TL_EUNAVAILABLE, "shard %u is being dropped on node %u; retry",
             p->shard, rs->opts.id);
        return;
    }
    /* A new replica starts empty: leftovers of an old one would claim an
     * applied index they do not have. */
    if (store_ensure_shard_cf(rs->st, p->shard, &cf) != 0 ||
        store_clear_cf(rs->st, cf) != 0) {
        fail(p, TL_EIO, "cannot create the column family of shard %u",
             p->shard);
        return;
    }
    sh->hosted = true;
    sh->initial = false; /* joins an existing group: never bootstrap */
    if (replica_save_hosted(rs) != 0) {
        sh->hosted = false;
        fail(p, TL_EIO, "cannot persist the hosted shards");
        return;
    }
    if (sh->fsm_inited) {
        fsm_close(&sh->fsm);
        sh->fsm_inited = false;
    }
    if (replica_start(sh) != 0) {
        fail(p, TL_EIO, "cannot start the raft group of shard %u", p->shard);
        return;
    }
    tl_info("membership", "event=host_shard shard=%u", p->shard);
    replica_task_complete(p, 0, 0);
}

/* rm -rf @path, without following links. Errors are logged. */
static void
remove_tree(const char *path)
{
    char cmd[PATH_MAX + 64];
    /* Only our own raft directory, whose name we built: no quoting issue
     * beyond the data dir, which the operator chose. */
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", path);
    if (system(cmd) != 0)
        tl_warn("membership", "event=rmdir_failed path=%s", path);
}

static void
drop_closed_cb(struct raft *r)
{
    struct replica *sh = r->data;
    struct replica_set *rs = sh->rs;
    struct proposal *p = sh->drop_p;
    char key[32];

    raft_uv_close(&sh->io);
    rt_transport_close(&sh->transport);
    sh->io_inited = sh->transport_inited = false;
    applier_drain(&sh->fsm); /* nothing may write the shard after the clear */
    remove_tree(sh->dir);
    store_clear_cf(rs->st, sh->fsm.cf);
    snprintf(key, sizeof key, "restore/%u", sh->shard);
    store_meta_put(rs->st, key, NULL, 0);
    atomic_store(&sh->fsm.restoring, false);
    sh->dropping = false;
    sh->drop_p = NULL;
    tl_info("membership", "event=drop_shard shard=%u", sh->shard);
    if (p != NULL)
        replica_task_complete(p, 0, 0);
    replica_closing_done(rs);
}

static void
drop_shard(struct replica_set *rs, struct proposal *p)
{
    struct replica *sh =
        p->shard < TL_MAX_SHARDS ? atomic_load(&rs->by_shard[p->shard]) : NULL;

    if (sh == NULL || (!sh->hosted && !sh->dropping)) {
        replica_task_complete(p, 0, 0);
        return;
    }
    if (sh->dropping) {
        fail(p, TL_EUNAVAILABLE, "shard %u is already being dropped", p->shard);
        return;
    }
    if (atomic_load(&sh->is_leader) && sh->raft.configuration.n > 1) {
        fail(p, TL_EINVAL,
             "node %u leads shard %u: remove the replica from the group "
             "first",
             rs->opts.id, p->shard);
        return;
    }
    sh->hosted = false;
    if (replica_save_hosted(rs) != 0) {
        sh->hosted = true;
        fail(p, TL_EIO, "cannot persist the hosted shards");
        return;
    }
    atomic_store(&sh->active, false);
    atomic_store(&sh->is_leader, false);
    atomic_store(&sh->leader_id, 0);
    if (!sh->raft_inited) {
        replica_task_complete(p, 0, 0);
        return;
    }
    sh->dropping = true;
    sh->drop_p = p;
    sh->raft_inited = false;
    reads_fail_waiting(&sh->reads, RAFT_SHUTDOWN);
    rs->n_closing++;
    raft_close(&sh->raft, drop_closed_cb);
}

/* ---- changes on the leader */

static void
change_done(struct replica *sh, int status)
{
    struct proposal *p = sh->chg_p;
    sh->chg_busy = false;
    sh->chg_p = NULL;
    if (p == NULL)
        return;
    if (status == 0)
        replica_task_complete(p, 0, 0);
    else
        fail(p,
             status == RAFT_NOTLEADER || status == RAFT_LEADERSHIPLOST
                 ? TL_ENOTLEADER
                 : TL_EUNAVAILABLE,
             "raft: %s", raft_strerror(status));
}

static void
assign_cb(struct raft_change *req, int status)
{
    struct replica *sh = req->data;
    if (status == 0)
        tl_info("membership", "event=voter_added shard=%u node=%u", sh->shard,
                sh->chg_p ? sh->chg_p->target : 0);
    change_done(sh, status);
}

static int
start_assign(struct replica *sh, uint32_t target)
{
    sh->chg.data = sh;
    return raft_assign(&sh->raft, &sh->chg, target, RAFT_VOTER, assign_cb);
}

/* Runs inside raft: promoting the new replica is a call into raft, so it
 * is deferred to a later loop turn (membership_run_deferred). */
static void
add_cb(struct raft_change *req, int status)
{
    struct replica *sh = req->data;
    if (status != 0 || sh->chg_p == NULL) {
        change_done(sh, status);
        return;
    }
    replica_defer(sh, DEFER_ASSIGN);
}

static void
remove_cb(struct raft_change *req, int status)
{
    struct replica *sh = req->data;
    if (status == 0)
        tl_info("membership", "event=replica_removed shard=%u node=%u",
                sh->shard, sh->chg_p ? sh->chg_p->target : 0);
    change_done(sh, status);
}

static void
xfer_cb(struct raft_transfer *req)
{
    struct replica *sh = req->data;
    struct proposal *p = sh->xfer_p;
    raft_id id = 0;
    const char *addr = NULL;

    sh->xfer_busy = false;
    sh->xfer_p = NULL;
    if (!sh->raft_inited)
        id = 0;
    else
        raft_leader(&sh->raft, &id, &addr);
    tl_info("membership",
            "event=transfer_done shard=%u target=%llu leader=%llu", sh->shard,
            (unsigned long long)req->id, (unsigned long long)id);
    if (p == NULL)
        return;
    if (id == p->target)
        replica_task_complete(p, 0, 0);
    else
        fail(p, TL_ETIMEOUT,
             "leadership of shard %u did not move to node %u (leader: %llu)",
             sh->shard, p->target, (unsigned long long)id);
}

/* Start a transfer of @sh to @target (0: any voter); 0 or a raft code. */
static int
start_transfer(struct replica *sh, raft_id target, struct proposal *p)
{
    int rv;
    memset(&sh->xfer, 0, sizeof sh->xfer);
    sh->xfer.data = sh;
    rv = raft_transfer(&sh->raft, &sh->xfer, target, xfer_cb);
    if (rv == 0) {
        sh->xfer_busy = true;
        sh->xfer_p = p;
        tl_info("membership", "event=transfer shard=%u target=%llu auto=%d",
                sh->shard, (unsigned long long)target, p == NULL);
    }
    return rv;
}

/* The preference entry is applied (inside raft): the transfer itself is
 * a call into raft, deferred to a later loop turn. xfer_busy stays set
 * until then, so no other transfer starts in between. */
static void
pref_applied_cb(struct raft_apply *req, int status, void *result)
{
    struct replica *sh = req->data;
    struct proposal *p = sh->xfer_p;
    (void)result;
    if (status != 0) {
        sh->xfer_busy = false;
        sh->xfer_p = NULL;
        fail(p, TL_ENOTLEADER, "recording the preferred leader failed: %s",
             raft_strerror(status));
        return;
    }
    replica_defer(sh, DEFER_XFER);
}

static bool
still_leading(struct replica *sh)
{
    return sh->raft_inited && !sh->dropping &&
           raft_state(&sh->raft) == RAFT_LEADER &&
           raft_current_term(&sh->raft) == sh->deferred_term;
}

static void
run_deferred_xfer(struct replica *sh)
{
    struct proposal *p = sh->xfer_p;
    int rv;

    sh->xfer_busy = false;
    sh->xfer_p = NULL;
    if (p == NULL)
        return;
    if (!still_leading(sh)) {
        fail(p, TL_ENOTLEADER, "node %u lost leadership of shard %u",
             sh->rs->opts.id, sh->shard);
        return;
    }
    if (p->target == sh->rs->opts.id) {
        replica_task_complete(p, 0, 0);
        return;
    }
    rv = start_transfer(sh, p->target, p);
    if (rv != 0)
        fail(p, TL_EUNAVAILABLE, "raft_transfer: %s", raft_strerror(rv));
}

static void
run_deferred_assign(struct replica *sh)
{
    int rv;

    if (sh->chg_p == NULL) {
        change_done(sh, 0);
        return;
    }
    if (!still_leading(sh)) {
        change_done(sh, RAFT_LEADERSHIPLOST);
        return;
    }
    /* Assigning VOTER to a standby runs catch-up rounds first. */
    rv = start_assign(sh, sh->chg_p->target);
    if (rv != 0)
        change_done(sh, rv);
}

void
membership_run_deferred(struct replica *sh, unsigned what)
{
    if (what & DEFER_ASSIGN)
        run_deferred_assign(sh);
    if (what & DEFER_XFER)
        run_deferred_xfer(sh);
}

/* Replicate "preferred leader = @p->target" (so automatic transfers
 * follow the operator, on whichever node leads), then transfer. */
static int
start_pref_transfer(struct replica *sh, struct proposal *p)
{
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    struct raft_buffer buf;
    int rv;

    wb.has_preferred_leader = true;
    wb.preferred_leader = p->target;
    fsm_entry_encode(&wb, &buf);
    sh->pref_apply.data = sh;
    rv = raft_apply(&sh->raft, &sh->pref_apply, &buf, 1, pref_applied_cb);
    if (rv != 0) {
        raft_free(buf.base);
        return rv;
    }
    sh->xfer_busy = true;
    sh->xfer_p = p;
    return 0;
}

static void
leader_op(struct replica_set *rs, struct replica *sh, struct proposal *p)
{
    char raft_addr[TL_ADDR_MAX];
    const struct raft_server *srv;
    int rv;

    /* A node beyond the configuration is known from the registry (it
     * registered itself); the lookup takes a mutex, never waits on I/O.
     * This node's copy of the registry may lag the node's registration
     * by a second: unavailable (the caller retries), not invalid. */
    if (replica_set_node_addr(rs, p->target, true, raft_addr,
                              sizeof raft_addr) != 0) {
        fail(p, TL_EUNAVAILABLE,
             "node %u is not in the cluster configuration nor (yet) "
             "registered; retry",
             p->target);
        return;
    }
    if (sh == NULL || !atomic_load(&sh->active) || !sh->raft_inited) {
        fail(p, TL_EUNAVAILABLE, "shard %u is not hosted by node %u", p->shard,
             rs->opts.id);
        return;
    }
    if (raft_state(&sh->raft) != RAFT_LEADER) {
        fail(p, TL_ENOTLEADER, "node %u does not lead shard %u", rs->opts.id,
             p->shard);
        return;
    }
    srv = find_server(&sh->raft, p->target);
    if (p->op == TALUS__MEMBERSHIP_REQUEST__OP__TRANSFER_LEADER) {
        if (srv == NULL || srv->role != RAFT_VOTER) {
            fail(p, TL_EINVAL, "node %u is not a voter of shard %u", p->target,
                 p->shard);
            return;
        }
        if (sh->xfer_busy) {
            fail(p, TL_EUNAVAILABLE,
                 "a leadership transfer of shard %u is in progress; retry",
                 p->shard);
            return;
        }
        rv = start_pref_transfer(sh, p);
        if (rv != 0)
            fail(p,
                 raft_state(&sh->raft) == RAFT_LEADER ? TL_EUNAVAILABLE
                                                      : TL_ENOTLEADER,
                 "raft: %s", raft_strerror(rv));
        return;
    }
    if (sh->chg_busy) {
        fail(p, TL_EUNAVAILABLE,
             "a membership change of shard %u is in progress; retry", p->shard);
        return;
    }
    sh->chg.data = sh;
    if (p->op == TALUS__MEMBERSHIP_REQUEST__OP__ADD_REPLICA) {
        if (srv != NULL && srv->role == RAFT_VOTER) {
            replica_task_complete(p, 0, 0);
            return;
        }
        if (srv != NULL)
            rv = start_assign(sh, p->target);
        else
            rv = raft_add(&sh->raft, &sh->chg, p->target, raft_addr, add_cb);
    } else {
        if (srv == NULL) {
            replica_task_complete(p, 0, 0);
            return;
        }
        if (p->target == rs->opts.id) {
            fail(p, TL_EINVAL,
                 "node %u leads shard %u: transfer leadership before "
                 "removing it",
                 rs->opts.id, p->shard);
            return;
        }
        rv = raft_remove(&sh->raft, &sh->chg, p->target, remove_cb);
    }
    if (rv != 0) {
        fail(p, rv == RAFT_NOTLEADER ? TL_ENOTLEADER : TL_EUNAVAILABLE,
             "raft: %s", raft_strerror(rv));
        return;
    }
    sh->chg_busy = true;
    sh->chg_p = p;
}

void
membership_start(struct replica_set *rs, struct proposal *p)
{
    struct replica *sh =
        p->shard < TL_MAX_SHARDS ? atomic_load(&rs->by_shard[p->shard]) : NULL;

    REPLICA_ASSERT_LOOP(rs);
    p->sh = sh;
    switch (p->op) {
    case TALUS__MEMBERSHIP_REQUEST__OP__HOST_SHARD:
        host_shard(rs, p);
        break;
    case TALUS__MEMBERSHIP_REQUEST__OP__DROP_SHARD:
        drop_shard(rs, p);
        break;
    case TALUS__MEMBERSHIP_REQUEST__OP__ADD_REPLICA:
    case TALUS__MEMBERSHIP_REQUEST__OP__REMOVE_REPLICA:
    case TALUS__MEMBERSHIP_REQUEST__OP__TRANSFER_LEADER:
        leader_op(rs, sh, p);
        break;
    default:
        fail(p, TL_EINVAL, "unknown membership operation %d", p->op);
        break;
    }
}

/* ---- automatic transfers (leader poll) */

/* Whether voter @id has every committed entry (leader only). */
static bool
caught_up(struct raft *r, raft_id id)
{
    raft_index match = 0;
    for (unsigned i = 0; i < r->configuration.n; i++) {
        const struct raft_server *srv = &r->configuration.servers[i];
        if (srv->id != id)
            continue;
        return srv->role == RAFT_VOTER &&
               raft_match_index(r, id, &match) == 0 &&
               match >= raft_commit_index(r);
    }
    return false;
}

void
membership_poll(struct replica *sh)
{
    struct replica_set *rs = sh->rs;
    struct raft *r = &sh->raft;
    double now;
    uint32_t pref;

    if (raft_state(r) != RAFT_LEADER || sh->xfer_busy || sh->chg_busy ||
        r->configuration_uncommitted_index != 0)
        return;
    now = tl_clock_now_s();
    if (now - sh->last_auto_xfer < AUTO_XFER_INTERVAL_S)
        return;
    if (atomic_load(&sh->fsm.restoring)) {
        /* Our data lags the log we lead: let a caught-up voter lead. */
        sh->last_auto_xfer = now;
        start_transfer(sh, 0, NULL);
        return;
    }
    /* A new leader may not have applied the entry that made it the
     * preferred one yet (an operator's transfer records the preference,
     * then moves leadership): decide only once it has committed (its
     * term's first barrier) and applied everything its log held when it
     * became leader, never on a preference it has not read. */
    if (raft_commit_index(r) < sh->lead_index || !applier_idle(&sh->fsm))
        return;
    pref = atomic_load(&sh->fsm.preferred);
    if (pref == 0)
        pref = tl_cluster_shard_node(&rs->cfg, sh->shard);
    if (pref == rs->opts.id || !caught_up(r, pref))
        return;
    sh->last_auto_xfer = now;
    start_transfer(sh, pref, NULL);
}
