/* sequences — sequences in the meta group and their cached blocks. */
#include "router/core/sequences.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "common/meta/meta_keys.h"
#include "log.h"
#include "router/core/catalog_int.h"
#include "router/core/router_int.h"

#define MOD "sequences"
#define SEQUENCE_RETRIES 32

/* The block one router holds of one sequence: values next,
 * next + increment, ... (left of them). Keyed by name; the id says which
 * incarnation of the name the block belongs to. */
struct seq_block {
    struct tl_sequence seq;
    int64_t next;
    int64_t left;
};

struct sequences {
    struct router *r;
    /* Held while a block is reserved (meta-group I/O, never under lock):
     * sessions that run out at once wait for one reservation instead of
     * each reserving a block and losing all but one. */
    pthread_mutex_t refill;
    pthread_mutex_t lock; /* guards blocks */
    struct seq_block *blocks;
    size_t n_blocks;
};

int
sequences_create(struct router *r, struct sequences **out)
{
    struct sequences *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TL_ENOMEM;
    s->r = r;
    pthread_mutex_init(&s->refill, NULL);
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void
sequences_destroy(struct sequences *s)
{
    if (s == NULL)
        return;
    free(s->blocks);
    pthread_mutex_destroy(&s->refill);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Under the lock: the block of @name, or NULL. */
static struct seq_block *
find_locked(struct sequences *s, const char *name)
{
    for (size_t i = 0; i < s->n_blocks; i++)
        if (strcmp(s->blocks[i].seq.name, name) == 0)
            return &s->blocks[i];
    return NULL;
}

/* Forget this router's block of @name. */
static void
forget(struct sequences *s, const char *name)
{
    pthread_mutex_lock(&s->lock);
    struct seq_block *b = find_locked(s, name);
    if (b != NULL)
        *b = s->blocks[--s->n_blocks];
    pthread_mutex_unlock(&s->lock);
}

/* Take the next value of @name's block: true when there was one. */
static bool
take(struct sequences *s, const char *name, int64_t *value,
     struct tl_sequence *seq)
{
    bool got = false;
    pthread_mutex_lock(&s->lock);
    struct seq_block *b = find_locked(s, name);
    if (b != NULL && b->left > 0) {
        *value = b->next;
        b->left--;
        if (b->left > 0)
            b->next += b->seq.increment;
        if (seq != NULL)
            *seq = b->seq;
        got = true;
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

/* Install the rest of a block just reserved: values from @next, @left of
 * them. A block another thread installed meanwhile is replaced (its
 * values are lost: a gap, never a duplicate). */
static void
install(struct sequences *s, const struct tl_sequence *seq, int64_t next,
        int64_t left)
{
    pthread_mutex_lock(&s->lock);
    struct seq_block *b = find_locked(s, seq->name);
    if (b == NULL) {
        struct seq_block *v =
            realloc(s->blocks, (s->n_blocks + 1) * sizeof(*v));
        if (v != NULL) {
            s->blocks = v;
            b = &s->blocks[s->n_blocks++];
        }
    }
    if (b != NULL) {
        b->seq = *seq;
        b->next = next;
        b->left = left;
    }
    pthread_mutex_unlock(&s->lock);
}

int
sequence_lookup(struct router *r, const char *name, struct tl_sequence *out,
                struct tl_error *err)
{
    struct tl_arena a;
    struct tl_buf key;
    struct catalog_row *rows;
    size_t n;
    tl_arena_init(&a);
    tl_buf_init(&key);
    tl_meta_key_sequence(&key, name);
    int rv = catalog_scan_key(r->catalog, &key, &a, &rows, &n, err);
    if (rv == 0 && n == 0)
        rv = TL_ENOTFOUND;
    if (rv == 0 && tl_meta_sequence_decode(rows[0].p, rows[0].len, out) != 0) {
        tl_warn(MOD, "event=bad_sequence_desc name=%s", name);
        rv =
            tl_error_set(err, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                         "the description of sequence \"%s\" is corrupt", name);
    }
    tl_buf_close(&key);
    tl_arena_close(&a);
    return rv;
}

int
sequence_list(struct router *r, struct tl_arena *a, struct tl_sequence **out,
              size_t *n, struct tl_error *err)
{
    return sequence_list_owned(r, 0, a, out, n, err);
}

int
sequence_list_owned(struct router *r, uint32_t table_id, struct tl_arena *a,
                    struct tl_sequence **out, size_t *n, struct tl_error *err)
{
    struct catalog_row *rows;
    size_t n_rows;
    int rv = catalog_scan_index(r->catalog, TL_META_INDEX_SEQUENCE, a, &rows,
                                &n_rows, err);
    if (rv != 0)
        return rv;
    *out = tl_arena_calloc(a, (n_rows + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < n_rows; i++) {
        struct tl_sequence *s = &(*out)[*n];
        if (tl_meta_sequence_decode(rows[i].p, rows[i].len, s) == 0 &&
            (table_id == 0 || s->owner_table == table_id))
            (*n)++;
    }
    return 0;
}

/* Fill the key and record of seq with id @id. */
static void
encode_new(void *arg, int64_t id, struct tl_buf *key, struct tl_buf *val)
{
    struct tl_sequence *seq = arg;
    seq->id = (uint32_t)id;
    tl_meta_key_sequence(key, seq->name);
    tl_meta_sequence_encode(val, seq);
}

/* One attempt at storing @seq: the id counter moves, the name is taken. */
static int
create_once(struct router *r, struct tl_sequence *seq, struct tl_arena *a,
            int *failed, struct tl_error *err)
{
    return catalog_create_with_id(r->catalog, a, encode_new, seq, failed, err);
}

int
sequence_create(struct router *r, struct tl_sequence *seq, struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    int rv = TL_ECONFLICT;
    for (int attempt = 0; attempt < SEQUENCE_RETRIES; attempt++) {
        int failed = -1;
        tl_arena_reset(&a);
        rv = create_once(r, seq, &a, &failed, err);
        if (rv == TL_ECONFLICT && failed == 1) {
            rv = TL_EEXISTS;
            break;
        }
        if (rv != TL_ECONFLICT)
            break; /* done, or a real error; a counter race retries */
    }
    tl_arena_close(&a);
    if (rv == 0) {
        forget(r->sequences, seq->name);
        tl_info(MOD, "event=create_sequence name=%s id=%u", seq->name, seq->id);
    } else if (rv == TL_ECONFLICT) {
        tl_error_set(err, rv, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "could not create sequence \"%s\": too much concurrent "
                     "DDL",
                     seq->name);
    }
    return rv;
}

int
sequence_drop(struct router *r, const char *name, struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    int rv = TL_ECONFLICT;
    for (int attempt = 0; attempt < SEQUENCE_RETRIES && rv == TL_ECONFLICT;
         attempt++) {
        struct catalog_row *rows;
        size_t n;
        struct tl_sequence seq;
        struct tl_buf key, expect, vkey;
        tl_arena_reset(&a);
        tl_buf_init(&key);
        tl_buf_init(&expect);
        tl_buf_init(&vkey);
        tl_meta_key_sequence(&key, name);
        rv = catalog_scan_key(r->catalog, &key, &a, &rows, &n, err);
        if (rv == 0 && (n == 0 || tl_meta_sequence_decode(
                                      rows[0].p, rows[0].len, &seq) != 0))
            rv = TL_ENOTFOUND;
        if (rv == 0) {
            /* Dropped only if it still is the sequence just read. */
            tl_buf_append(&expect, rows[0].p, rows[0].len);
            tl_meta_key_seq_value(&vkey, seq.id);
            Talus__Mutation *m[2];
            m[0] =
                catalog_make_mut(&a, TALUS__MUTATION__KIND__DELETE, &key, NULL,
                                 TALUS__MUTATION__COND__EQUALS, &expect);
            m[1] = catalog_make_mut(&a, TALUS__MUTATION__KIND__DELETE, &vkey,
                                    NULL, TALUS__MUTATION__COND__NONE, NULL);
            int failed;
            rv = catalog_write_batch(r->catalog, TL_META_GROUP, m, 2, &failed,
                                     err);
        }
        tl_buf_close(&key);
        tl_buf_close(&expect);
        tl_buf_close(&vkey);
    }
    tl_arena_close(&a);
    forget(r->sequences, name);
    if (rv == TL_ECONFLICT)
        return tl_error_set(
            err, TL_ECONFLICT, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
            "could not drop sequence \"%s\": too much concurrent DDL", name);
    if (rv == 0)
        tl_info(MOD, "event=drop_sequence name=%s", name);
    return rv;
}

/* Read the state of @seq: its row bytes into @old (empty when absent). */
static int
read_state(struct router *r, const struct tl_sequence *seq, struct tl_arena *a,
           int64_t *last, bool *called, struct tl_buf *old,
           struct tl_error *err)
{
    struct tl_buf key;
    struct catalog_row *rows;
    size_t n;
    tl_buf_init(&key);
    tl_meta_key_seq_value(&key, seq->id);
    int rv = catalog_scan_key(r->catalog, &key, a, &rows, &n, err);
    tl_buf_close(&key);
    if (rv != 0)
        return rv;
    tl_buf_reset(old);
    *last = seq->start;
    *called = false;
    if (n == 0)
        return 0;
    if (tl_meta_seq_value_decode(rows[0].p, rows[0].len, last, called) != 0)
        return tl_error_set(err, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                            "the state of sequence \"%s\" is corrupt",
                            seq->name);
    tl_buf_append(old, rows[0].p, rows[0].len);
    return 0;
}

/* Write the state (@last, @called) of @seq if its row still holds @old
 * (empty: absent), or unconditionally when @old is NULL. TL_ECONFLICT
 * (no report) when it changed. */
static int
write_state(struct router *r, const struct tl_sequence *seq, struct tl_arena *a,
            int64_t last, bool called, const struct tl_buf *old,
            struct tl_error *err)
{
    struct tl_buf key, val;
    tl_buf_init(&key);
    tl_buf_init(&val);
    tl_meta_key_seq_value(&key, seq->id);
    tl_meta_seq_value_encode(&val, last, called);
    int cond = old == NULL     ? TALUS__MUTATION__COND__NONE
               : old->len == 0 ? TALUS__MUTATION__COND__ABSENT
                               : TALUS__MUTATION__COND__EQUALS;
    Talus__Mutation *m =
        catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &key, &val, cond,
                         cond == TALUS__MUTATION__COND__EQUALS ? old : NULL);
    int failed;
    int rv =
        catalog_write_batch(r->catalog, TL_META_GROUP, &m, 1, &failed, err);
    tl_buf_close(&key);
    tl_buf_close(&val);
    return rv;
}

/* Reserve a block of @seq's values through the meta group: *@first and
 * *@n as tl_sequence_reserve(). */
static int
reserve_block(struct router *r, const struct tl_sequence *seq, int64_t *first,
              int64_t *n, struct tl_error *err)
{
    struct tl_arena a;
    struct tl_buf old;
    tl_arena_init(&a);
    tl_buf_init(&old);
    int64_t want =
        seq->cache > SEQUENCE_MIN_BLOCK ? seq->cache : SEQUENCE_MIN_BLOCK;
    int rv = TL_ECONFLICT;
    for (int attempt = 0; attempt < SEQUENCE_RETRIES && rv == TL_ECONFLICT;
         attempt++) {
        int64_t last;
        bool called;
        tl_arena_reset(&a);
        rv = read_state(r, seq, &a, &last, &called, &old, err);
        if (rv != 0)
            break;
        rv = tl_sequence_reserve(seq, &last, &called, want, first, n);
        if (rv == TL_EOVERFLOW) {
            bool up = seq->increment > 0;
            rv = tl_error_set(
                err, rv, TL_SQLSTATE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED,
                "nextval: reached %s value of sequence \"%s\" (%lld)",
                up ? "maximum" : "minimum", seq->name,
                (long long)(up ? seq->max_value : seq->min_value));
            break;
        }
        rv = write_state(r, seq, &a, last, called, &old, err);
    }
    if (rv == TL_ECONFLICT)
        tl_error_set(err, rv, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "could not reserve values of sequence \"%s\": too many "
                     "concurrent callers",
                     seq->name);
    tl_buf_close(&old);
    tl_arena_close(&a);
    return rv;
}

int
sequence_nextval(struct router *r, const char *name, int64_t *value,
                 struct tl_sequence *seq, struct tl_error *err)
{
    if (take(r->sequences, name, value, seq))
        return 0;
    pthread_mutex_lock(&r->sequences->refill);
    /* Another session may have reserved a block while this one waited. */
    if (take(r->sequences, name, value, seq)) {
        pthread_mutex_unlock(&r->sequences->refill);
        return 0;
    }
    /* No block left: read the description again (the name may have been
     * dropped or recreated meanwhile) and reserve a new block. */
    struct tl_sequence s;
    int64_t first = 0, n = 0;
    int rv = sequence_lookup(r, name, &s, err);
    if (rv == TL_ENOTFOUND)
        forget(r->sequences, name);
    if (rv == 0)
        rv = reserve_block(r, &s, &first, &n, err);
    if (rv == 0) {
        *value = first;
        install(r->sequences, &s, first + (n > 1 ? s.increment : 0), n - 1);
        if (seq != NULL)
            *seq = s;
    }
    pthread_mutex_unlock(&r->sequences->refill);
    return rv;
}

int
sequence_setval(struct router *r, const char *name, int64_t value,
                bool is_called, struct tl_sequence *seq, struct tl_error *err)
{
    struct tl_sequence s;
    int rv = sequence_lookup(r, name, &s, err);
    if (rv != 0)
        return rv;
    if (value < s.min_value || value > s.max_value)
        return tl_error_set(err, TL_EOVERFLOW,
                            TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            "setval: value %lld is out of bounds for sequence "
                            "\"%s\" (%lld..%lld)",
                            (long long)value, name, (long long)s.min_value,
                            (long long)s.max_value);
    struct tl_arena a;
    tl_arena_init(&a);
    rv = write_state(r, &s, &a, value, is_called, NULL, err);
    tl_arena_close(&a);
    forget(r->sequences, name);
    if (rv == 0 && seq != NULL)
        *seq = s;
    return rv;
}

int
sequence_restart(struct router *r, const struct tl_sequence *seq,
                 struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    int rv = write_state(r, seq, &a, seq->start, false, NULL, err);
    tl_arena_close(&a);
    forget(r->sequences, seq->name);
    return rv;
}
