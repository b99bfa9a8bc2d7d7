/* fsm_result — the outcome of applying one conditional write batch to a
 * shard's column family: what the state machine (node/replica/fsm.h)
 * reports and what the executors (node/exec/) act on. Plain data: no
 * RocksDB, no raft. Outcome values are packed into the dedupe table
 * (fsm_result_pack, stored): never renumber one. */
#ifndef NODE_STORE_FSM_RESULT_H
#define NODE_STORE_FSM_RESULT_H

#include <stdint.h>

enum fsm_outcome {
    FSM_OK = 0,          /* applied (or a replay, skipped) */
    FSM_COND_FAILED = 1, /* a condition failed: mutation, cond say which */
    FSM_BAD_BATCH = 2,   /* the payload does not decode: nothing written */
    FSM_LOCKED = 3,      /* a transaction locks the key of `mutation`:
                            nothing written */
    FSM_CONFLICT = 4,    /* a prewrite met a version committed after its
                            snapshot (first committer wins): nothing
                            written */
    FSM_TS_TOO_LOW = 5,  /* a commit below its record's pushed minimum:
                            nothing written */
    FSM_STALE = 6,       /* a batch planned with a catalog older than the
                            shard's fence (an index build): nothing
                            written */
};

struct fsm_result {
    int outcome;        /* enum fsm_outcome */
    int32_t mutation;   /* index of the failed mutation, else -1 */
    int cond;           /* its TALUS__MUTATION__COND__*, else 0 */
    uint64_t affected;  /* FSM_OK: WriteBatch.affected (< 2^28), else 0 */
    uint64_t commit_ts; /* the versions' commit timestamp, 0: none (not
                           packed: only the applying thread sees it) */
};

#endif
