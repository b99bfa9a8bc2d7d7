/* arena — a region allocator for per-request memory.
 *
 * Everything allocated from an arena is freed at once by tl_arena_reset()
 * or tl_arena_close(). Allocation aborts the process when memory is
 * exhausted, so it cannot fail. An arena is not thread-safe. */
#ifndef TL_ARENA_H
#define TL_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct tl_arena_chunk;

struct tl_arena {
    struct tl_arena_chunk *head;
    size_t used;           /* bytes used in head */
    size_t total;          /* bytes handed out since the last reset */
    ProtobufCAllocator pb; /* protobuf-c allocator backed by this arena */
};

/** Initialise an empty arena. Cannot fail. */
void tl_arena_init(struct tl_arena *a);
/** Free everything; @a is then empty and may be reused. */
void tl_arena_close(struct tl_arena *a);
/** Free everything but keep one chunk for reuse. */
void tl_arena_reset(struct tl_arena *a);
/** @n bytes aligned for any type; valid until reset or close. */
void *tl_arena_alloc(struct tl_arena *a, size_t n);
/** @n zeroed bytes. */
void *tl_arena_calloc(struct tl_arena *a, size_t n);
/** Copy of @n bytes of @p plus a NUL terminator. */
char *tl_arena_strndup(struct tl_arena *a, const char *p, size_t n);
/** Copy of the NUL-terminated @s. */
char *tl_arena_strdup(struct tl_arena *a, const char *s);
/** printf into the arena. */
char *tl_arena_printf(struct tl_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Make room for one more element in the array *@v of @n elements of
 * @size bytes and capacity *@cap, in @a: when full, *@v moves to a copy
 * twice as large (at least @min_cap) and *@cap grows. The old array is
 * left to the arena. Cannot fail. */
void tl_arena_reserve(struct tl_arena *a, void **v, size_t n, size_t *cap,
                      size_t size, size_t min_cap);

/** A protobuf-c allocator whose allocations come from @a (frees are
 * no-ops); pass it to *_unpack so a decoded message dies with the arena. */
ProtobufCAllocator *tl_arena_protobuf(struct tl_arena *a);

#endif
