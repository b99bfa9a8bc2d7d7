#include "secindex.h"

#include <string.h>

#include "keycodec.h"

bool
tl_index_unique_key(const struct tl_index *ix, const struct tl_value *row)
{
    if (!ix->unique)
        return false;
    for (uint32_t i = 0; i < ix->n_cols; i++)
        if (row[ix->cols[i]].is_null)
            return false;
    return true;
}

void
tl_index_key(const struct tl_table *t, const struct tl_index *ix,
             const struct tl_value *row, const void *row_key,
             size_t row_key_len, struct tl_buf *out)
{
    tl_key_encode_prefix(out, t->id, ix->id);
    for (uint32_t i = 0; i < ix->n_cols; i++)
        tl_key_encode_value(out, &row[ix->cols[i]]);
    if (!tl_index_unique_key(ix, row) && row_key_len > TL_KEY_PREFIX_LEN)
        tl_buf_append(out, (const uint8_t *)row_key + TL_KEY_PREFIX_LEN,
                      row_key_len - TL_KEY_PREFIX_LEN);
}

static ProtobufCBinaryData
arena_bytes(struct tl_arena *a, const void *p, size_t len)
{
    ProtobufCBinaryData b;
    b.data = tl_arena_alloc(a, len + 1);
    if (len > 0)
        memcpy(b.data, p, len);
    b.len = len;
    return b;
}

static Talus__Mutation *
mutation(struct tl_arena *a, Talus__Mutation__Kind kind,
         const struct tl_buf *key)
{
    Talus__Mutation *m = tl_arena_alloc(a, sizeof(*m));
    talus__mutation__init(m);
    m->kind = kind;
    m->key = arena_bytes(a, key->data, key->len);
    return m;
}

void
tl_index_mutations(const struct tl_table *t, const struct tl_value *old,
                   const void *old_key, size_t old_key_len,
                   const struct tl_value *new, const void *new_key,
                   size_t new_key_len, struct tl_arena *a,
                   Talus__Mutation **out, uint32_t *which, size_t *n)
{
    struct tl_buf ok, nk;
    size_t n0 = *n;
    tl_buf_init(&ok);
    tl_buf_init(&nk);
    for (uint32_t i = 0; i < t->n_indexes; i++) {
        const struct tl_index *ix = &t->indexes[i];
        tl_buf_reset(&ok);
        tl_buf_reset(&nk);
        if (old != NULL)
            tl_index_key(t, ix, old, old_key, old_key_len, &ok);
        if (new != NULL)
            tl_index_key(t, ix, new, new_key, new_key_len, &nk);
        bool same_key =
            old != NULL && new != NULL &&ok.len ==
                               nk.len &&memcmp(ok.data, nk.data, ok.len) == 0;
        bool same_row =
            old_key_len == new_key_len &&
            (old_key_len == 0 || memcmp(old_key, new_key, old_key_len) == 0);
        if (same_key && same_row)
            continue;
        if (old != NULL && !same_key) {
            if (which != NULL)
                which[*n - n0] = i;
            out[(*n)++] = mutation(a, TALUS__MUTATION__KIND__DELETE, &ok);
        }
        if (new != NULL) {
            Talus__Mutation *m = mutation(a, TALUS__MUTATION__KIND__PUT, &nk);
            m->has_value = true;
            m->value = arena_bytes(a, new_key, new_key_len);
            if (!same_key && tl_index_unique_key(ix, new)) {
                m->has_cond = true;
                m->cond = TALUS__MUTATION__COND__ABSENT;
            }
            if (which != NULL)
                which[*n - n0] = i;
            out[(*n)++] = m;
        }
    }
    tl_buf_close(&ok);
    tl_buf_close(&nk);
}

const struct tl_index *
tl_table_find_index(const struct tl_table *t, const char *name)
{
    for (uint32_t i = 0; i < t->n_indexes; i++)
        if (strcmp(t->indexes[i].name, name) == 0)
            return &t->indexes[i];
    return NULL;
}

const struct tl_index *
tl_table_index_by_id(const struct tl_table *t, uint32_t id)
{
    for (uint32_t i = 0; i < t->n_indexes; i++)
        if (t->indexes[i].id == id)
            return &t->indexes[i];
    return NULL;
}
