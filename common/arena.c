#include "arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 8192

struct tl_arena_chunk {
    struct tl_arena_chunk *next;
    size_t size;
    max_align_t data[];
};

static void *
pb_alloc(void *data, size_t size)
{
    return tl_arena_alloc(data, size);
}

static void
pb_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

void
tl_arena_init(struct tl_arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->total = 0;
    a->pb.alloc = pb_alloc;
    a->pb.free = pb_free;
    a->pb.allocator_data = a;
}

void
tl_arena_close(struct tl_arena *a)
{
    struct tl_arena_chunk *c = a->head;
    while (c != NULL) {
        struct tl_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    tl_arena_init(a);
}

void
tl_arena_reset(struct tl_arena *a)
{
    struct tl_arena_chunk *keep = NULL;
    struct tl_arena_chunk *c = a->head;
    while (c != NULL) {
        struct tl_arena_chunk *next = c->next;
        if (keep == NULL && c->size == CHUNK_MIN) {
            keep = c;
            keep->next = NULL;
        } else {
            free(c);
        }
        c = next;
    }
    a->head = keep;
    a->used = 0;
    a->total = 0;
}

void *
tl_arena_alloc(struct tl_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    if (n == 0)
        n = align;
    if (a->head == NULL || a->head->size - a->used < n) {
        size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
        struct tl_arena_chunk *c = malloc(sizeof(*c) + size);
        if (c == NULL)
            abort();
        c->size = size;
        if (a->head != NULL && size != CHUNK_MIN) {
            /* A large one-off block: keep the current chunk in front. */
            c->next = a->head->next;
            a->head->next = c;
            a->total += n;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->used = 0;
    }
    void *p = (char *)a->head->data + a->used;
    a->used += n;
    a->total += n;
    return p;
}

void *
tl_arena_calloc(struct tl_arena *a, size_t n)
{
    void *p = tl_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *
tl_arena_strndup(struct tl_arena *a, const char *p, size_t n)
{
    char *s = tl_arena_alloc(a, n + 1);
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *
tl_arena_strdup(struct tl_arena *a, const char *s)
{
    return tl_arena_strndup(a, s, strlen(s));
}

char *
tl_arena_printf(struct tl_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *s = tl_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

ProtobufCAllocator *
tl_arena_protobuf(struct tl_arena *a)
{
    a->pb.allocator_data = a;
    return &a->pb;
}

void
tl_arena_reserve(struct tl_arena *a, void **v, size_t n, size_t *cap,
                 size_t size, size_t min_cap)
{
    if (n < *cap)
        return;
    size_t c = *cap ? 2 * *cap : min_cap;
    void *nv = tl_arena_alloc(a, c * size);
    if (n > 0)
        memcpy(nv, *v, n * size);
    *v = nv;
    *cap = c;
}
