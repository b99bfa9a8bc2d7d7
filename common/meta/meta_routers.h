/* meta_routers — the records of running routers in the meta keyspace
 * (index TL_META_INDEX_ROUTER of meta_keys.h), and the one answer a lock
 * resolver needs from them: is incarnation X of router R still alive?
 *
 * A router registers when it starts (router/core/incarnation.h): under
 * key prefix(0, 20) | int8 router id it writes the row
 *
 *   router id (int8)        the key's, again: scans return rows only
 *   incarnation (int8)      a timestamp of the oracle taken at start: every
 *                           incarnation of any router is greater than every
 *                           one before it, across restarts and leader
 *                           changes, with no counter of its own
 *   address (text)          host:port its clients connect to
 *   lease expiry (int8)     wall-clock milliseconds since the epoch
 *   oldest transaction      the start timestamp of the oldest transaction
 *     (int8)                open in one of its sessions when it wrote the
 *                           row (0: none); absent in rows of older
 *                           routers (read as 0). The meta group's leader
 *                           holds the GC safe point at or below the
 *                           oldest of the live routers' (node/meta/gc.c)
 *
 * and renews the lease (TL_META_ROUTER_RENEW_MS) with a conditional write
 * that expects the row it wrote last, so a router that lost its record to
 * a newer incarnation of the same id never overwrites it. A router that
 * stops cleanly deletes its record; one that dies leaves it to expire.
 *
 * Lock records name their owner (router id, incarnation). A reader that
 * meets a lock asks tl_meta_router_liveness() with the owner's record (or
 * none): an incarnation that is superseded or whose lease expired will
 * never commit anything new, so its locks can be resolved through their
 * primary at once. Expiry compares wall clocks of two machines: they are
 * assumed to agree to well within TL_META_ROUTER_LEASE_MS (a resolver may
 * pass the physical part of a fresh oracle timestamp as @now_ms instead).
 *
 * Stored: the key and row layout never change in place (the bytes are
 * pinned by tests/unit/test_meta_keys.c). Pure encoding, no I/O, no
 * state; any thread. */
#ifndef TL_META_ROUTERS_H
#define TL_META_ROUTERS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/** How long a record stays alive past its last renewal. */
#define TL_META_ROUTER_LEASE_MS 5000
/** How often a running router renews its lease. */
#define TL_META_ROUTER_RENEW_MS 1000
/** The longest address a record holds (bytes, without the NUL). */
#define TL_META_ROUTER_ADDR_MAX 255

/* One router's record, decoded. */
struct tl_meta_router {
    uint32_t id;              /* the router id (of the key too) */
    uint64_t incarnation;     /* an oracle timestamp, > 0 */
    int64_t lease_expires_ms; /* wall clock, ms since the epoch */
    char addr[TL_META_ROUTER_ADDR_MAX + 1];
    uint64_t oldest_txn_ts; /* 0: no open transaction */
};

/* What a record says of one incarnation at one time. */
enum tl_meta_router_liveness {
    TL_META_ROUTER_ALIVE,      /* this incarnation, lease not expired */
    TL_META_ROUTER_DEAD,       /* no record, or its lease expired */
    TL_META_ROUTER_SUPERSEDED, /* the router restarted: a newer incarnation */
};

/** Append the key of router @id's record: prefix(0, 20) | int8 id. Cannot
 * fail. */
void tl_meta_key_router(struct tl_buf *key, uint32_t id);

/** Append the row of @r (borrowed): router id, incarnation, address,
 * lease expiry, oldest open transaction. The address must hold at most
 * TL_META_ROUTER_ADDR_MAX bytes (asserted). Cannot fail. */
void tl_meta_router_encode(struct tl_buf *row, const struct tl_meta_router *r);

/** Decode the row at @p/@len (borrowed) into @r. TL_ECORRUPT (@r
 * untouched) unless the row has at least four columns: a non-NULL integer
 * router id in 0..UINT32_MAX, a non-NULL integer incarnation > 0, non-NULL
 * text of at most TL_META_ROUTER_ADDR_MAX bytes, a non-NULL integer
 * expiry; a fifth, when present, must be a non-NULL integer >= 0 (the
 * oldest transaction; absent: 0). Later columns are ignored (room for
 * more). */
int tl_meta_router_decode(const uint8_t *p, size_t len,
                          struct tl_meta_router *r);

/** Whether incarnation @incarnation of the router whose record is @rec
 * (NULL: there is none) is alive at @now_ms (wall clock): superseded when
 * the record holds a greater incarnation, dead when there is no record,
 * its lease expired at or before @now_ms, or it holds a smaller
 * incarnation (then @incarnation never had a record: a router takes no
 * lock before its record is stored, so no such lock can be alive).
 * Cannot fail. */
enum tl_meta_router_liveness
tl_meta_router_liveness(const struct tl_meta_router *rec, uint64_t incarnation,
                        int64_t now_ms);

/** The same from a stored row at @p/@len (NULL: no record). A row that
 * does not decode counts as no record (dead). Cannot fail. */
enum tl_meta_router_liveness tl_meta_router_row_liveness(const uint8_t *p,
                                                         size_t len,
                                                         uint64_t incarnation,
                                                         int64_t now_ms);

/** The name of @l: "alive", "dead", "superseded". Cannot fail. */
const char *tl_meta_router_liveness_name(enum tl_meta_router_liveness l);

#endif
