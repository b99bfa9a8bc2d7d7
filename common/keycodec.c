#include "keycodec.h"

#include <math.h>
#include <string.h>

#include "datetime.h"
#include "interval.h"
#include "numeric.h"

#define KEY_NOT_NULL TL_KEY_NOT_NULL
#define KEY_NULL TL_KEY_NULL
#define SIGN_BIT 0x8000000000000000ULL

void
tl_key_encode_prefix(struct tl_buf *out, uint32_t table_id, uint32_t index_id)
{
    tl_buf_append_be32(out, table_id);
    tl_buf_append_be32(out, index_id);
}

static uint64_t
float_key_bits(double d)
{
    uint64_t bits;

    if (isnan(d))
        d = NAN; /* one canonical, positive NaN: above +inf */
    else if (d == 0.0)
        d = 0.0; /* -0 sorts and hashes as +0 */
    memcpy(&bits, &d, sizeof(bits));
    return (bits & SIGN_BIT) ? ~bits : bits ^ SIGN_BIT;
}

void
tl_key_encode_value(struct tl_buf *out, const struct tl_value *v)
{
    if (v->is_null) {
        tl_buf_append_u8(out, KEY_NULL);
        return;
    }
    tl_buf_append_u8(out, KEY_NOT_NULL);
    switch (v->type) {
    case TL_TYPE_BOOL:
        tl_buf_append_u8(out, v->u.b ? 1 : 0);
        break;
    case TL_TYPE_INT2:
    case TL_TYPE_INT4:
    case TL_TYPE_INT8:
    case TL_TYPE_TIMESTAMPTZ:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_DATE:
        tl_buf_append_be64(out, (uint64_t)v->u.i ^ SIGN_BIT);
        break;
    case TL_TYPE_FLOAT8:
    case TL_TYPE_FLOAT4: /* widened: keys as the equal double does */
        tl_buf_append_be64(out, float_key_bits(v->u.f));
        break;
    case TL_TYPE_NUMERIC:
        tl_numeric_key_encode(v, out);
        break;
    case TL_TYPE_UUID: /* fixed length: its bytes order it */
        tl_buf_append(out, v->u.s.p, 16);
        break;
    case TL_TYPE_INTERVAL: { /* by span: '1 mon' and '30 days' share one */
        int64_t days, usecs;
        tl_interval_span(&v->u.iv, &days, &usecs);
        tl_buf_append_be64(out, (uint64_t)days ^ SIGN_BIT);
        tl_buf_append_be64(out, (uint64_t)usecs);
        break;
    }
    default: { /* text kinds and bytea */
        /* A bpchar keys without its padding, so that keys are equal
         * exactly when tl_value_cmp says the values are. */
        const uint8_t *p = (const uint8_t *)v->u.s.p;
        uint32_t len = tl_value_text_len(v);
        uint32_t start = 0;
        for (uint32_t i = 0; i < len; i++) {
            if (p[i] == 0x00) {
                tl_buf_append(out, p + start, i + 1 - start);
                tl_buf_append_u8(out, 0xFF);
                start = i + 1;
            }
        }
        if (len > start)
            tl_buf_append(out, p + start, len - start);
        tl_buf_append_u8(out, 0x00);
        tl_buf_append_u8(out, 0x01);
        break;
    }
    }
}

/* Unescape the text at [q, end) up to its terminator into @a. */
static int
decode_text(const uint8_t **p, const uint8_t *end, uint8_t type,
            struct tl_arena *a, struct tl_value *out)
{
    const uint8_t *q = *p;
    size_t n = 0;
    char *dst;

    /* First pass: validate and measure. */
    for (;;) {
        if (q >= end)
            return TL_ECORRUPT;
        if (*q != 0x00) {
            q++;
            n++;
            continue;
        }
        if (end - q < 2)
            return TL_ECORRUPT;
        if (q[1] == 0x01)
            break;
        if (q[1] != 0xFF)
            return TL_ECORRUPT;
        q += 2;
        n++;
    }
    if (n > UINT32_MAX)
        return TL_ECORRUPT;
    dst = tl_arena_alloc(a, n ? n : 1);
    q = *p;
    for (size_t i = 0; i < n; i++) {
        dst[i] = (char)*q;
        q += *q == 0x00 ? 2 : 1;
    }
    *p = q + 2;
    *out = tl_value_text(type, dst, (uint32_t)n);
    return 0;
}

int
tl_key_decode_value(const uint8_t **p, const uint8_t *end, uint8_t type,
                    struct tl_arena *a, struct tl_value *out)
{
    const uint8_t *q = *p;
    uint64_t u;
    int64_t min, max;
    int rv;

    if (!tl_type_is_known(type) || q >= end)
        return TL_ECORRUPT;
    if (*q == KEY_NULL) {
        *out = tl_value_null(type);
        *p = q + 1;
        return 0;
    }
    if (*q++ != KEY_NOT_NULL)
        return TL_ECORRUPT;
    switch (type) {
    case TL_TYPE_BOOL:
        if (q >= end || *q > 1)
            return TL_ECORRUPT;
        *out = tl_value_bool(*q++ == 1);
        break;
    case TL_TYPE_INT2:
    case TL_TYPE_INT4:
    case TL_TYPE_INT8:
    case TL_TYPE_TIMESTAMPTZ:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_DATE:
        if (end - q < 8)
            return TL_ECORRUPT;
        u = tl_load_be64(q) ^ SIGN_BIT;
        q += 8;
        *out = tl_value_int(type, (int64_t)u);
        /* A date is an int32 day number; timestamps use all of int64. */
        tl_type_int_range(type == TL_TYPE_DATE ? TL_TYPE_INT4 : type, &min,
                          &max);
        if (out->u.i < min || out->u.i > max)
            return TL_ECORRUPT;
        break;
    case TL_TYPE_FLOAT8:
    case TL_TYPE_FLOAT4: {
        double d;
        if (end - q < 8)
            return TL_ECORRUPT;
        u = tl_load_be64(q);
        q += 8;
        u = (u & SIGN_BIT) ? u ^ SIGN_BIT : ~u;
        memcpy(&d, &u, sizeof(d));
        if (type == TL_TYPE_FLOAT4 && !isnan(d) && (double)(float)d != d)
            return TL_ECORRUPT;
        *out = tl_value_float(d);
        out->type = type;
        break;
    }
    case TL_TYPE_NUMERIC:
        if ((rv = tl_numeric_key_decode(&q, end, a, out)) != 0)
            return rv;
        break;
    case TL_TYPE_UUID: {
        if (end - q < 16)
            return TL_ECORRUPT;
        *out = tl_value_text_dup(a, TL_TYPE_UUID, q, 16);
        q += 16;
        break;
    }
    case TL_TYPE_INTERVAL: {
        if (end - q < 16)
            return TL_ECORRUPT;
        int64_t days = (int64_t)(tl_load_be64(q) ^ SIGN_BIT);
        uint64_t usecs = tl_load_be64(q + 8);
        /* A span holds at most 2^31 * 31 days plus int64 microseconds. */
        if (usecs >= (uint64_t)TL_USECS_PER_DAY || days > (INT64_C(1) << 37) ||
            days < -(INT64_C(1) << 37))
            return TL_ECORRUPT;
        struct tl_interval iv = tl_interval_from_span(days, (int64_t)usecs);
        *out = tl_value_interval(&iv);
        q += 16;
        break;
    }
    default:
        if ((rv = decode_text(&q, end, type, a, out)) != 0)
            return rv;
        break;
    }
    *p = q;
    return 0;
}

int
tl_key_prefix_end(struct tl_buf *key)
{
    size_t n = key->len;

    while (n > 0 && key->data[n - 1] == 0xFF)
        n--;
    if (n == 0)
        return TL_EOVERFLOW; /* @key is left as it was */
    key->len = n;
    key->data[n - 1]++;
    return 0;
}
