/* buf — a growable byte buffer.
 *
 * Invariant: data[0..len) is the content, len <= cap; data is NULL only when
 * cap is 0. Growth aborts the process when memory is exhausted (like
 * Redis' zmalloc): callers never check for allocation failure. */
#ifndef TL_BUF_H
#define TL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct tl_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

/** Initialise an empty buffer. Cannot fail. */
void tl_buf_init(struct tl_buf *b);
/** Release the memory of @b; it is then empty and may be reused. */
void tl_buf_close(struct tl_buf *b);
/** Make room for @n more bytes; returns a pointer to the free space. */
uint8_t *tl_buf_reserve(struct tl_buf *b, size_t n);
/** Append @n bytes of @p (copied). */
void tl_buf_append(struct tl_buf *b, const void *p, size_t n);
void tl_buf_append_u8(struct tl_buf *b, uint8_t v);
void tl_buf_append_be16(struct tl_buf *b, uint16_t v);
void tl_buf_append_be32(struct tl_buf *b, uint32_t v);
void tl_buf_append_be64(struct tl_buf *b, uint64_t v);
/** Append an unsigned LEB128 varint. */
void tl_buf_append_varint(struct tl_buf *b, uint64_t v);
/** Append a NUL-terminated string including its NUL. */
void tl_buf_append_cstr(struct tl_buf *b, const char *s);
/** Append printf-style text (no NUL). */
void tl_buf_printf(struct tl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Empty @b, keeping its memory. */
static inline void
tl_buf_reset(struct tl_buf *b)
{
    b->len = 0;
}

/** Read an unsigned LEB128 varint from [*p, end); advances *p.
 * TL_ECORRUPT if truncated or longer than 10 bytes. */
int tl_varint_read(const uint8_t **p, const uint8_t *end, uint64_t *out);

static inline uint16_t
tl_load_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t
tl_load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t
tl_load_be64(const uint8_t *p)
{
    return ((uint64_t)tl_load_be32(p) << 32) | tl_load_be32(p + 4);
}

#endif
