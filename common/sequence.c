/* sequence — descriptions and the value arithmetic of sequences. */
#include "sequence.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "common/base/sqlstate.h"

static int
bad(struct tl_error *err, const char *name, const char *what)
{
    return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                        "invalid sequence description \"%s\": %s",
                        name != NULL ? name : "", what);
}

void
tl_sequence_type_range(uint8_t type, int64_t *min, int64_t *max)
{
    assert(type == TL_TYPE_INT2 || type == TL_TYPE_INT4 ||
           type == TL_TYPE_INT8);
    switch (type) {
    case TL_TYPE_INT2:
        *min = INT16_MIN;
        *max = INT16_MAX;
        break;
    case TL_TYPE_INT4:
        *min = INT32_MIN;
        *max = INT32_MAX;
        break;
    default:
        *min = INT64_MIN;
        *max = INT64_MAX;
        break;
    }
}

int
tl_sequence_from_proto(const Talus__SequenceDesc *pb, struct tl_sequence *s,
                       struct tl_error *err)
{
    memset(s, 0, sizeof(*s));
    if (pb->name == NULL || pb->name[0] == '\0' ||
        strlen(pb->name) >= TL_NAME_MAX)
        return bad(err, NULL, "bad name");
    s->id = pb->id;
    strcpy(s->name, pb->name);
    s->type = pb->has_type ? (uint8_t)pb->type : TL_TYPE_INT8;
    if (s->type != TL_TYPE_INT2 && s->type != TL_TYPE_INT4 &&
        s->type != TL_TYPE_INT8)
        return bad(err, s->name, "bad type");
    s->increment = pb->increment;
    s->min_value = pb->min_value;
    s->max_value = pb->max_value;
    s->start = pb->start;
    s->cache = pb->cache;
    s->cycle = pb->cycle;
    s->owner_table = pb->owner_table;
    if (pb->owner_column != NULL) {
        if (strlen(pb->owner_column) >= TL_NAME_MAX)
            return bad(err, s->name, "bad owner column");
        strcpy(s->owner_column, pb->owner_column);
    }
    int64_t lo, hi;
    tl_sequence_type_range(s->type, &lo, &hi);
    if (s->increment == 0 || s->min_value >= s->max_value ||
        s->min_value < lo || s->max_value > hi || s->start < s->min_value ||
        s->start > s->max_value || s->cache < 1)
        return bad(err, s->name, "bad options");
    return 0;
}

void
tl_sequence_to_proto(const struct tl_sequence *s, struct tl_arena *a,
                     Talus__SequenceDesc *pb)
{
    talus__sequence_desc__init(pb);
    pb->id = s->id;
    pb->name = tl_arena_strdup(a, s->name);
    pb->has_type = true;
    pb->type = s->type;
    pb->has_increment = true;
    pb->increment = s->increment;
    pb->has_min_value = true;
    pb->min_value = s->min_value;
    pb->has_max_value = true;
    pb->max_value = s->max_value;
    pb->has_start = true;
    pb->start = s->start;
    pb->has_cache = true;
    pb->cache = s->cache;
    pb->has_cycle = s->cycle;
    pb->cycle = s->cycle;
    pb->has_owner_table = s->owner_table != 0;
    pb->owner_table = s->owner_table;
    if (s->owner_column[0] != '\0')
        pb->owner_column = tl_arena_strdup(a, s->owner_column);
}

int
tl_sequence_reserve(const struct tl_sequence *s, int64_t *last_value,
                    bool *is_called, int64_t want, int64_t *first, int64_t *n)
{
    assert(want >= 1 && s->increment != 0);
    /* 128 bits: last + increment may pass the int64 range. */
    __int128 inc = s->increment;
    __int128 f = *last_value;
    if (*is_called) {
        f += inc;
        if (f > s->max_value || f < s->min_value) {
            if (!s->cycle)
                return TL_EOVERFLOW;
            f = inc > 0 ? s->min_value : s->max_value;
        }
    }
    /* How many more steps fit before the bound in the direction of
     * travel (a value set out of bounds leaves no room: a block of one,
     * as PostgreSQL would still return it). */
    __int128 room = inc > 0 ? ((__int128)s->max_value - f) / inc
                            : ((__int128)s->min_value - f) / inc;
    if (room < 0)
        room = 0;
    __int128 k = room + 1 < want ? room + 1 : want;
    *first = (int64_t)f;
    *n = (int64_t)k;
    *last_value = (int64_t)(f + (k - 1) * inc);
    *is_called = true;
    return 0;
}
