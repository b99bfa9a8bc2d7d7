#include "row.h"

#include <string.h>

#include "numeric.h"

static uint64_t
zigzag_encode(int64_t i)
{
    return ((uint64_t)i << 1) ^ (uint64_t)(i >> 63);
}

static int64_t
zigzag_decode(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static void
encode_one(const struct tl_value *v, struct tl_buf *out)
{
    uint64_t bits;

    if (v->is_null) {
        tl_buf_append_u8(out, (uint8_t)(0x80 | v->type));
        return;
    }
    tl_buf_append_u8(out, v->type);
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
        tl_buf_append_varint(out, zigzag_encode(v->u.i));
        break;
    case TL_TYPE_FLOAT8:
        memcpy(&bits, &v->u.f, sizeof(bits));
        tl_buf_append_be64(out, bits);
        break;
    case TL_TYPE_FLOAT4: {
        float f = (float)v->u.f;
        uint32_t b32;
        memcpy(&b32, &f, sizeof(b32));
        tl_buf_append_be32(out, b32);
        break;
    }
    case TL_TYPE_INTERVAL:
        tl_buf_append_varint(out, zigzag_encode(v->u.iv.time));
        tl_buf_append_varint(out, zigzag_encode(v->u.iv.day));
        tl_buf_append_varint(out, zigzag_encode(v->u.iv.month));
        break;
    default:
        tl_buf_append_varint(out, v->u.s.len);
        tl_buf_append(out, v->u.s.p, v->u.s.len);
        break;
    }
}

void
tl_row_encode(const struct tl_value *vals, size_t n, uint32_t schema_version,
              struct tl_buf *out)
{
    tl_buf_append_u8(out, TL_ROW_FORMAT);
    tl_buf_append_varint(out, schema_version);
    tl_buf_append_varint(out, n);
    for (size_t i = 0; i < n; i++)
        encode_one(&vals[i], out);
}

/* Decode one column from [*p, end). Every read is bounds-checked. */
static int
decode_one(const uint8_t **p, const uint8_t *end, struct tl_value *v)
{
    const uint8_t *q = *p;
    uint8_t tag, type;
    uint64_t u;
    int64_t min, max;

    if (q >= end)
        return TL_ECORRUPT;
    tag = *q++;
    type = tag & 0x7f;
    if (!tl_type_is_known(type) || (tag & 0x80 && tag != (0x80 | type)))
        return TL_ECORRUPT;
    if (tag & 0x80) {
        *v = tl_value_null(type);
        *p = q;
        return 0;
    }
    switch (type) {
    case TL_TYPE_BOOL:
        if (q >= end || *q > 1)
            return TL_ECORRUPT;
        *v = tl_value_bool(*q++ == 1);
        break;
    case TL_TYPE_INT2:
    case TL_TYPE_INT4:
    case TL_TYPE_INT8:
    case TL_TYPE_TIMESTAMPTZ:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_DATE:
        if (tl_varint_read(&q, end, &u) != 0)
            return TL_ECORRUPT;
        *v = tl_value_int(type, zigzag_decode(u));
        /* A date is an int32 day number; timestamps use all of int64. */
        tl_type_int_range(type == TL_TYPE_DATE ? TL_TYPE_INT4 : type, &min,
                          &max);
        if (v->u.i < min || v->u.i > max)
            return TL_ECORRUPT;
        break;
    case TL_TYPE_FLOAT8: {
        double d;
        if (end - q < 8)
            return TL_ECORRUPT;
        u = tl_load_be64(q);
        q += 8;
        memcpy(&d, &u, sizeof(d));
        *v = tl_value_float(d);
        break;
    }
    case TL_TYPE_FLOAT4: {
        float f;
        uint32_t b32;
        if (end - q < 4)
            return TL_ECORRUPT;
        b32 = tl_load_be32(q);
        q += 4;
        memcpy(&f, &b32, sizeof(f));
        *v = tl_value_float4(f);
        break;
    }
    case TL_TYPE_INTERVAL: {
        uint64_t t, d, m;
        if (tl_varint_read(&q, end, &t) != 0 ||
            tl_varint_read(&q, end, &d) != 0 ||
            tl_varint_read(&q, end, &m) != 0)
            return TL_ECORRUPT;
        struct tl_interval iv = {.time = zigzag_decode(t)};
        int64_t day = zigzag_decode(d), month = zigzag_decode(m);
        if (day < INT32_MIN || day > INT32_MAX || month < INT32_MIN ||
            month > INT32_MAX)
            return TL_ECORRUPT;
        iv.day = (int32_t)day;
        iv.month = (int32_t)month;
        *v = tl_value_interval(&iv);
        break;
    }
    default: /* TEXT, VARCHAR, BPCHAR, UNKNOWN, NUMERIC, UUID, BYTEA */
        if (tl_varint_read(&q, end, &u) != 0)
            return TL_ECORRUPT;
        if (u > (uint64_t)(end - q) || u > UINT32_MAX)
            return TL_ECORRUPT;
        if (type == TL_TYPE_UUID && u != 16)
            return TL_ECORRUPT;
        *v = tl_value_text(type, (const char *)q, (uint32_t)u);
        /* Numeric code trusts the text it computes on. */
        if (type == TL_TYPE_NUMERIC &&
            !tl_numeric_is_canonical((const char *)q, (size_t)u))
            return TL_ECORRUPT;
        q += u;
        break;
    }
    *p = q;
    return 0;
}

int
tl_row_decode(const uint8_t *p, size_t len, struct tl_value *vals, size_t n_max,
              size_t *n_out)
{
    const uint8_t *end = p + len;
    uint64_t version, n;
    struct tl_value v;

    if (len < 1 || *p != TL_ROW_FORMAT)
        return TL_ECORRUPT;
    p++;
    if (tl_varint_read(&p, end, &version) != 0 || version > UINT32_MAX)
        return TL_ECORRUPT;
    if (tl_varint_read(&p, end, &n) != 0)
        return TL_ECORRUPT;
    /* Every column takes at least its tag byte. */
    if (n > (uint64_t)(end - p))
        return TL_ECORRUPT;
    for (uint64_t i = 0; i < n; i++) {
        if (decode_one(&p, end, &v) != 0)
            return TL_ECORRUPT;
        if (i < n_max)
            vals[i] = v;
    }
    if (p != end)
        return TL_ECORRUPT;
    for (uint64_t i = n; i < n_max; i++)
        vals[i] = tl_value_null(TL_TYPE_UNKNOWN);
    if (n_out != NULL)
        *n_out = (size_t)n;
    return 0;
}

void
tl_row_encode_value(const struct tl_value *v, struct tl_buf *out)
{
    tl_row_encode(v, 1, 0, out);
}

int
tl_row_decode_value(const uint8_t *p, size_t len, struct tl_value *v)
{
    size_t n;
    int rv = tl_row_decode(p, len, v, 1, &n);
    if (rv != 0)
        return rv;
    if (n != 1)
        return TL_ECORRUPT;
    return 0;
}
