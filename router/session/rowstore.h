/* rowstore — the rows a portal keeps for Execute with a row limit: the
 * DataRow messages of a statement run to completion, sent a part per
 * Execute (PostgreSQL's tuplestore under a held portal). Up to @mem_max
 * bytes stay in memory; past that they go to an unlinked temporary file
 * (tmpfile(3)), so a client fetching a huge result in parts (JDBC's fetch
 * size, psycopg2's named cursors) costs the router disk, not memory.
 * Rows are appended first, then read in order, once. One session thread
 * uses a store. */
#ifndef ROUTER_SESSION_ROWSTORE_H
#define ROUTER_SESSION_ROWSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "tl_error.h"

struct rowstore {
    struct tl_buf mem; /* messages not spilled; appended to directly */
    size_t mem_at;     /* reading: the next message in mem */
    size_t mem_max;
    FILE *file; /* spilled messages, NULL until the first spill */
    uint64_t file_len, file_at;
    struct tl_buf scratch; /* a message read back from the file */
};

/** An empty store keeping up to @mem_max bytes in memory. Cannot fail. */
void rowstore_init(struct rowstore *rs, size_t mem_max);

/** After a message was appended to rs->mem: spill what memory holds
 * past mem_max. 0, or 58030 when the file cannot be written (@err). */
int rowstore_appended(struct rowstore *rs, struct tl_error *err);

/** The next message (type byte, length, body) into *@msg and *@len, valid
 * until the next call: 1, 0 when none remain, or an error (@err). */
int rowstore_next(struct rowstore *rs, const uint8_t **msg, size_t *len,
                  struct tl_error *err);

/** Whether every message was read. */
bool rowstore_empty(const struct rowstore *rs);

/** Free what @rs holds (the file goes); @rs is empty again. */
void rowstore_reset(struct rowstore *rs);

#endif
