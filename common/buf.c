#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_error.h"

void
tl_buf_init(struct tl_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
tl_buf_close(struct tl_buf *b)
{
    free(b->data);
    tl_buf_init(b);
}

uint8_t *
tl_buf_reserve(struct tl_buf *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (p == NULL)
            abort();
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

void
tl_buf_append(struct tl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(tl_buf_reserve(b, n), p, n);
    b->len += n;
}

void
tl_buf_append_u8(struct tl_buf *b, uint8_t v)
{
    *tl_buf_reserve(b, 1) = v;
    b->len++;
}

void
tl_buf_append_be16(struct tl_buf *b, uint16_t v)
{
    uint8_t *p = tl_buf_reserve(b, 2);
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    b->len += 2;
}

void
tl_buf_append_be32(struct tl_buf *b, uint32_t v)
{
    uint8_t *p = tl_buf_reserve(b, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
    b->len += 4;
}

void
tl_buf_append_be64(struct tl_buf *b, uint64_t v)
{
    uint8_t *p = tl_buf_reserve(b, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    b->len += 8;
}

void
tl_buf_append_varint(struct tl_buf *b, uint64_t v)
{
    uint8_t *p = tl_buf_reserve(b, 10);
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    b->len += n;
}

void
tl_buf_append_cstr(struct tl_buf *b, const char *s)
{
    tl_buf_append(b, s, strlen(s) + 1);
}

void
tl_buf_printf(struct tl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    tl_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int
tl_varint_read(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *q = *p;
    for (int shift = 0; shift < 70; shift += 7) {
        if (q >= end)
            return TL_ECORRUPT;
        uint8_t c = *q++;
        if (shift == 63 && c > 1)
            return TL_ECORRUPT;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *p = q;
            *out = v;
            return 0;
        }
    }
    return TL_ECORRUPT;
}
