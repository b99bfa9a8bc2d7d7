/* tso — see tso.h. */
#include "node/meta/tso.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "common/base/sqlstate.h"
#include "log.h"
#include "node/replica/replica.h"

void
tso_init(struct tso *t, long long skew_ms)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->skew_ms = skew_ms;
}

void
tso_close(struct tso *t)
{
    pthread_mutex_destroy(&t->mu);
}

/* The wall clock in milliseconds (plus the test skew of @t). */
static uint64_t
wall_ms(const struct tso *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
                      t->skew_ms);
}

/* The high-water mark stored in the meta group (0: never written). */
static int
read_hw(struct replica *sh, uint64_t *out, struct tl_error *err)
{
    char *v;
    size_t len;
    int rv = store_get(sh->rs->st, sh->fsm.cf, NULL, TSO_HW_KEY, TSO_HW_KEY_LEN,
                       &v, &len, "tso_hw");
    *out = 0;
    if (rv == 0 && v != NULL && len != 8)
        rv = TL_ECORRUPT;
    if (rv == 0 && v != NULL)
        *out = tl_load_be64((const uint8_t *)v);
    free(v);
    if (rv != 0)
        tl_error_set(err, rv, TL_SQLSTATE_INTERNAL_ERROR,
                     "cannot read the timestamp oracle's high-water mark");
    return rv;
}

/* Persist @hw through the meta group and wait until applied. */
static int
write_hw(struct replica *sh, uint64_t hw, struct tl_error *err)
{
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    Talus__Mutation m = TALUS__MUTATION__INIT;
    Talus__Mutation *ms[1] = {&m};
    struct replica_write_ctx w = {sh, 0};
    struct fsm_result res;
    char val[8];
    int rv;

    store_encode_u64(hw, val);
    m.kind = TALUS__MUTATION__KIND__PUT;
    m.key.data = (uint8_t *)TSO_HW_KEY;
    m.key.len = TSO_HW_KEY_LEN;
    m.has_value = true;
    m.value.data = (uint8_t *)val;
    m.value.len = sizeof val;
    wb.mutations = ms;
    wb.n_mutations = 1;
    rv = replica_propose(&w, &wb, &res, err);
    if (rv == 0 && res.outcome != FSM_OK) {
        rv = TL_EIO;
        tl_error_set(err, rv, TL_SQLSTATE_INTERNAL_ERROR,
                     "cannot raise the timestamp oracle's high-water mark");
    }
    return rv;
}

int
tso_next(struct tso *t, struct replica *meta, uint32_t count, uint64_t *first,
         struct tl_error *err)
{
    uint64_t stored, now, start, end;
    int rv;

    if (count == 0 || count > TSO_MAX_COUNT)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "timestamp count %u out of range (1..%u)", count,
                            TSO_MAX_COUNT);
    /* Still the leader, and everything earlier leaders committed (their
     * high-water marks) is applied. */
    rv = replica_read_barrier(meta, err);
    if (rv != 0)
        return rv;
    pthread_mutex_lock(&t->mu);
    rv = read_hw(meta, &stored, err);
    if (rv != 0)
        goto out;
    if (stored != t->hw_mine) {
        /* Another leader may have issued anything below its mark. */
        if (stored > t->last)
            t->last = stored;
        t->hw_mine = stored;
    }
    now = wall_ms(t) << TSO_LOGICAL_BITS;
    start = t->last + 1 > now ? t->last + 1 : now;
    end = start + count - 1;
    if (end >= t->hw_mine) {
        uint64_t base = tso_physical_ms(end) > tso_physical_ms(now)
                            ? tso_physical_ms(end)
                            : tso_physical_ms(now);
        uint64_t hw = (base + TSO_WINDOW_MS) << TSO_LOGICAL_BITS;
        rv = write_hw(meta, hw, err);
        if (rv != 0)
            goto out;
        t->hw_mine = hw;
        tl_debug("tso", "event=hw_raised hw_ms=%llu",
                 (unsigned long long)tso_physical_ms(hw));
    }
    t->last = end;
    *first = start;
out:
    pthread_mutex_unlock(&t->mu);
    return rv;
}
