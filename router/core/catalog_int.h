/* catalog_int — the meta-group I/O of catalog.c shared with sequences.c:
 * scans of catalog keys, mutations and conditional write batches. */
#ifndef TL_CATALOG_INT_H
#define TL_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "common/meta/meta_keys.h"
#include "router/core/catalog.h"
#include "talus.pb-c.h"
#include "tl_error.h"

/* One catalog value as read back: the stored row (bytes in an arena),
 * decoded by the codecs of common/meta/meta_keys.h. */
struct catalog_row {
    const uint8_t *p;
    size_t len;
};

/** Every row under meta index @index into *@rows (*@n of them; bytes in
 * @a). An unreachable meta group is reported in @err. */
int catalog_scan_index(struct catalog *c, enum tl_meta_index index,
                       struct tl_arena *a, struct catalog_row **rows, size_t *n,
                       struct tl_error *err);

/** The row at exactly @key (0 or 1 of them), as catalog_scan_index(). */
int catalog_scan_key(struct catalog *c, const struct tl_buf *key,
                     struct tl_arena *a, struct catalog_row **rows, size_t *n,
                     struct tl_error *err);

/** A mutation in @a of @kind (Talus__Mutation__Kind) on @key, with
 * @value and @expect (may be NULL) copied and condition @cond. Cannot
 * fail. */
Talus__Mutation *catalog_make_mut(struct tl_arena *a, int kind,
                                  const struct tl_buf *key,
                                  const struct tl_buf *value, int cond,
                                  const struct tl_buf *expect);

/** Send one WriteBatch of @muts to @shard. *@failed gets the index of a
 * mutation whose condition failed (-1 if none); that case returns
 * TL_ECONFLICT without a report. */
int catalog_write_batch(struct catalog *c, uint32_t shard,
                        Talus__Mutation **muts, size_t n, int *failed,
                        struct tl_error *err);

/** Read the table id counter: *@have is whether it exists, *@next its
 * value (TL_META_FIRST_TABLE_ID when absent). */
int catalog_read_next_id(struct catalog *c, struct tl_arena *a, bool *have,
                         int64_t *next, struct tl_error *err);

/** One attempt at creating a named catalog object with a new id: read
 * the id counter into *@id, let @encode fill @key and @val for that id
 * (@arg its object), then write in one batch the counter moved on (if
 * unchanged) and the record at @key (if absent). *@failed as
 * catalog_write_batch(): 0 the counter moved meanwhile, 1 the name is
 * taken. */
int catalog_create_with_id(struct catalog *c, struct tl_arena *a,
                           void (*encode)(void *arg, int64_t id,
                                          struct tl_buf *key,
                                          struct tl_buf *val),
                           void *arg, int *failed, struct tl_error *err);

#endif
