#include "fsm.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "talus.pb-c.h"
#include "tl_error.h"

static const char snapshot_magic[8] = {'T', 'L', 'S', 'N', 'A', 'P', '0', '1'};

/* ------------------------------------------------------------ results */

void *
fsm_result_pack(const struct fsm_result *r)
{
    uintptr_t v = (uintptr_t)(r->outcome & 3) |
                  ((uintptr_t)(r->cond & 3) << 2) |
                  ((uintptr_t)(uint32_t)(r->mutation + 1) << 4);
    return (void *)v;
}

void
fsm_result_unpack(void *p, struct fsm_result *r)
{
    uintptr_t v = (uintptr_t)p;
    r->outcome = (int)(v & 3);
    r->cond = (int)((v >> 2) & 3);
    r->mutation = (int32_t)(uint32_t)(v >> 4) - 1;
}

/* ------------------------------------------------------------ apply */

int
fsm_init(struct node_fsm *f, struct storage *st, uint32_t shard)
{
    uint64_t applied = 0;
    int rv;

    memset(f, 0, sizeof *f);
    f->st = st;
    f->shard = shard;
    f->cf = storage_shard_cf(st, shard);
    if (f->cf == NULL)
        return TL_ENOTFOUND;
    rv = storage_read_applied(st, f->cf, &applied);
    if (rv != 0)
        return rv;
    atomic_store(&f->applied, applied);
    f->raft_fsm.data = f;
    return 0;
}

uint64_t
fsm_applied(struct node_fsm *f)
{
    return atomic_load(&f->applied);
}

/* Whether mutation @m's condition holds in the current column family.
 * TL_EIO on a read error. */
static int
check_cond(struct node_fsm *f, const Talus__Mutation *m, int *ok)
{
    char *err = NULL;
    size_t len = 0;
    char *v;

    *ok = 1;
    if (m->cond == TALUS__MUTATION__COND__NONE ||
        m->kind == TALUS__MUTATION__KIND__DELETE_RANGE)
        return 0;
    v = rocksdb_get_cf(f->st->db, f->st->ropts, f->cf,
                       (const char *)m->key.data, m->key.len, &len, &err);
    if (err != NULL) {
        tl_error("fsm", "event=cond_read_failed shard=%u err=\"%s\"", f->shard,
                 err);
        rocksdb_free(err);
        return TL_EIO;
    }
    if (m->cond == TALUS__MUTATION__COND__ABSENT)
        *ok = v == NULL;
    else
        *ok = v != NULL && len == m->expect.len &&
              (len == 0 || memcmp(v, m->expect.data, len) == 0);
    rocksdb_free(v);
    return 0;
}

static void
add_mutation(struct node_fsm *f, rocksdb_writebatch_t *wb,
             const Talus__Mutation *m)
{
    switch (m->kind) {
    case TALUS__MUTATION__KIND__PUT:
        rocksdb_writebatch_put_cf(wb, f->cf, (const char *)m->key.data,
                                  m->key.len, (const char *)m->value.data,
                                  m->value.len);
        break;
    case TALUS__MUTATION__KIND__DELETE:
        rocksdb_writebatch_delete_cf(wb, f->cf, (const char *)m->key.data,
                                     m->key.len);
        break;
    case TALUS__MUTATION__KIND__DELETE_RANGE:
        rocksdb_writebatch_delete_range_cf(
            wb, f->cf, (const char *)m->key.data, m->key.len,
            (const char *)m->end_key.data, m->end_key.len);
        break;
    default:
        break;
    }
}

/* Write @wb plus the applied index @index atomically. */
static int
commit(struct node_fsm *f, rocksdb_writebatch_t *wb, uint64_t index)
{
    char idx[8];
    char *err = NULL;

    storage_encode_u64(index, idx);
    rocksdb_writebatch_put_cf(wb, f->cf, STORAGE_APPLIED_KEY,
                              STORAGE_APPLIED_KEY_LEN, idx, sizeof idx);
    rocksdb_write(f->st->db, f->st->wopts, wb, &err);
    if (err != NULL) {
        tl_error("fsm", "event=write_failed shard=%u index=%llu err=\"%s\"",
                 f->shard, (unsigned long long)index, err);
        rocksdb_free(err);
        return TL_EIO;
    }
    atomic_store(&f->applied, index);
    return 0;
}

/* Check every condition of @b; on the first failure fill @res. */
static int
check_all(struct node_fsm *f, const Talus__WriteBatch *b,
          struct fsm_result *res)
{
    for (size_t i = 0; i < b->n_mutations; i++) {
        int ok;
        int rv = check_cond(f, b->mutations[i], &ok);
        if (rv != 0)
            return rv;
        if (!ok) {
            res->outcome = FSM_COND_FAILED;
            res->mutation = (int32_t)i;
            res->cond = (int)b->mutations[i]->cond;
            return 0;
        }
    }
    return 0;
}

void
fsm_entry_encode(const Talus__WriteBatch *wb, struct raft_buffer *out)
{
    size_t n = talus__write_batch__get_packed_size(wb);
    size_t total = (FSM_ENTRY_HEADER + n + 7) & ~(size_t)7;
    uint8_t *p = raft_calloc(1, total);
    if (p == NULL)
        abort();
    memcpy(p, FSM_ENTRY_MAGIC, 4);
    p[4] = (uint8_t)(n >> 24);
    p[5] = (uint8_t)(n >> 16);
    p[6] = (uint8_t)(n >> 8);
    p[7] = (uint8_t)n;
    talus__write_batch__pack(wb, p + FSM_ENTRY_HEADER);
    out->base = p;
    out->len = total;
}

/* The batch inside an entry payload, or NULL if malformed. */
static Talus__WriteBatch *
decode_entry(const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t n;
    if (len < FSM_ENTRY_HEADER || memcmp(p, FSM_ENTRY_MAGIC, 4) != 0)
        return NULL;
    n = tl_load_be32(p + 4);
    if (n > len - FSM_ENTRY_HEADER)
        return NULL;
    return talus__write_batch__unpack(NULL, n, p + FSM_ENTRY_HEADER);
}

int
fsm_apply_batch(struct node_fsm *f, uint64_t index, const void *data,
                size_t len, struct fsm_result *res)
{
    Talus__WriteBatch *b;
    rocksdb_writebatch_t *wb;
    int rv;

    res->outcome = FSM_OK;
    res->mutation = -1;
    res->cond = 0;
    if (index <= atomic_load(&f->applied))
        return 0; /* replay of an entry already in RocksDB */
    wb = rocksdb_writebatch_create();
    b = decode_entry(data, len);
    if (b == NULL) {
        /* Keep the index moving: a bad entry must not wedge the shard. */
        tl_error("fsm", "event=bad_batch shard=%u index=%llu", f->shard,
                 (unsigned long long)index);
        res->outcome = FSM_BAD_BATCH;
        rv = commit(f, wb, index);
        goto out_wb;
    }
    rv = check_all(f, b, res);
    if (rv != 0)
        goto out_batch;
    if (res->outcome == FSM_OK)
        for (size_t i = 0; i < b->n_mutations; i++)
            add_mutation(f, wb, b->mutations[i]);
    rv = commit(f, wb, index);

out_batch:
    talus__write_batch__free_unpacked(b, NULL);
out_wb:
    rocksdb_writebatch_destroy(wb);
    return rv;
}

/* ------------------------------------------------------------ snapshots */

void
fsm_snapshot_encode(struct node_fsm *f, uint8_t out[FSM_SNAPSHOT_LEN])
{
    memcpy(out, snapshot_magic, 8);
    storage_encode_u64(f->shard, (char *)out + 8);
    storage_encode_u64(atomic_load(&f->applied), (char *)out + 16);
}

int
fsm_snapshot_check(struct node_fsm *f, const void *p, size_t len)
{
    const uint8_t *d = p;
    uint64_t shard, index, applied = atomic_load(&f->applied);

    if (len != FSM_SNAPSHOT_LEN || memcmp(d, snapshot_magic, 8) != 0)
        return TL_ECORRUPT;
    shard = tl_load_be64(d + 8);
    index = tl_load_be64(d + 16);
    if (shard != f->shard)
        return TL_ECORRUPT;
    if (applied < index) {
        /* Data must come out of band (replication issue); refuse. */
        tl_error("fsm",
                 "event=snapshot_ahead shard=%u snapshot_index=%llu "
                 "applied=%llu",
                 f->shard, (unsigned long long)index,
                 (unsigned long long)applied);
        return TL_EUNAVAILABLE;
    }
    return 0;
}

/* ------------------------------------------------------------ raft glue */

static int
fsm_apply_cb(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    struct node_fsm *f = rf->data;
    struct fsm_result res;
    /* raft does not pass the index: it is the one after the last applied. */
    uint64_t index = raft_last_applied(f->raft) + 1;
    int rv = fsm_apply_batch(f, index, buf->base, buf->len, &res);
    if (rv != 0)
        return RAFT_IOERR;
    *result = fsm_result_pack(&res);
    return 0;
}

/* On the loop: capture the descriptor; the sync happens in snapshot_async.
 * Buffers are ours (snapshot_finalize is set) and freed there. */
static int
fsm_snapshot_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                unsigned *n_bufs)
{
    struct node_fsm *f = rf->data;
    struct raft_buffer *b = raft_malloc(sizeof *b);
    if (b == NULL)
        return RAFT_NOMEM;
    b->base = raft_malloc(FSM_SNAPSHOT_LEN);
    if (b->base == NULL) {
        raft_free(b);
        return RAFT_NOMEM;
    }
    b->len = FSM_SNAPSHOT_LEN;
    fsm_snapshot_encode(f, b->base);
    *bufs = b;
    *n_bufs = 1;
    return 0;
}

/* In the thread pool: raft truncates its log once the snapshot is stored,
 * so everything applied so far must be durable first. */
static int
fsm_snapshot_async_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                      unsigned *n_bufs)
{
    struct node_fsm *f = rf->data;
    (void)bufs;
    (void)n_bufs;
    if (storage_sync(f->st) != 0)
        return RAFT_IOERR;
    tl_debug("fsm", "event=snapshot shard=%u", f->shard);
    return 0;
}

static int
fsm_snapshot_finalize_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                         unsigned *n_bufs)
{
    (void)rf;
    if (*bufs != NULL) {
        for (unsigned i = 0; i < *n_bufs; i++)
            raft_free((*bufs)[i].base);
        raft_free(*bufs);
    }
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

/* On success raft hands us buf->base (we free it); on failure it frees. */
static int
fsm_restore_cb(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct node_fsm *f = rf->data;
    int rv = fsm_snapshot_check(f, buf->base, buf->len);
    if (rv == TL_ECORRUPT)
        tl_error("fsm", "event=bad_snapshot shard=%u len=%zu", f->shard,
                 buf->len);
    if (rv != 0)
        return RAFT_CORRUPT;
    raft_free(buf->base);
    return 0;
}

/* Synchronous variant for an io without async_work: the WAL sync then
 * blocks the loop, once every snapshot_threshold entries. */
static int
fsm_snapshot_sync_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                     unsigned *n_bufs)
{
    int rv = fsm_snapshot_async_cb(rf, bufs, n_bufs);
    if (rv != 0)
        return rv;
    return fsm_snapshot_cb(rf, bufs, n_bufs);
}

void
fsm_setup_raft(struct node_fsm *f, struct raft *r, bool async)
{
    f->raft = r;
    f->raft_fsm.version = async ? 3 : 2;
    f->raft_fsm.data = f;
    f->raft_fsm.apply = fsm_apply_cb;
    f->raft_fsm.snapshot = fsm_snapshot_cb;
    f->raft_fsm.restore = fsm_restore_cb;
    f->raft_fsm.snapshot_finalize = fsm_snapshot_finalize_cb;
    f->raft_fsm.snapshot_async = async ? fsm_snapshot_async_cb : NULL;
    if (!async)
        f->raft_fsm.snapshot = fsm_snapshot_sync_cb;
}
