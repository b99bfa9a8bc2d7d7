/* metrics — registry and Prometheus text exposition (metrics.h). */
#include "common/admin/metrics.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLLECTORS 8

const double tl_metrics_latency_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,  0.5,    1,     2.5,  5,     10,
};
const size_t tl_metrics_n_latency_bounds =
    sizeof(tl_metrics_latency_bounds) / sizeof(tl_metrics_latency_bounds[0]);

struct tl_metric_family {
    char *name, *help;
    enum tl_metric_type type;
    char *labels[TL_METRICS_MAX_LABELS];
    size_t n_labels;
    double bounds[TL_METRICS_MAX_BUCKETS];
    size_t n_bounds;
    pthread_mutex_t mu; /* guards the series list (append only) */
    struct tl_metric_series *head, *tail;
    struct tl_metric_family *next; /* under the registry's mu */
};

struct tl_metrics {
    /* Held by a whole scrape (collectors included): scrapes never
     * interleave. Taken before mu. */
    pthread_mutex_t scrape_mu;
    pthread_mutex_t mu; /* the family list and the collectors */
    struct tl_metric_family *head, *tail;
    tl_metrics_collect_fn collect[MAX_COLLECTORS];
    void *collect_data[MAX_COLLECTORS];
    size_t n_collect;
};

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        abort();
    return p;
}

static char *
xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

static uint64_t
bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double
double_of(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

#ifndef NDEBUG
/* Whether @s is a valid metric (with @colon) or label name. */
static bool
valid_name(const char *s, bool colon)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || (colon && c == ':')))
            return false;
    }
    return true;
}
#endif

void
tl_metrics_create(struct tl_metrics **out)
{
    struct tl_metrics *reg = xcalloc(1, sizeof *reg);
    pthread_mutex_init(&reg->scrape_mu, NULL);
    pthread_mutex_init(&reg->mu, NULL);
    *out = reg;
}

void
tl_metrics_destroy(struct tl_metrics *reg)
{
    struct tl_metric_family *f, *fnext;

    if (reg == NULL)
        return;
    for (f = reg->head; f != NULL; f = fnext) {
        struct tl_metric_series *s, *snext;
        fnext = f->next;
        for (s = f->head; s != NULL; s = snext) {
            snext = s->next;
            for (size_t i = 0; i < f->n_labels; i++)
                free(s->values[i]);
            free(s->buckets);
            free(s);
        }
        for (size_t i = 0; i < f->n_labels; i++)
            free(f->labels[i]);
        free(f->name);
        free(f->help);
        pthread_mutex_destroy(&f->mu);
        free(f);
    }
    pthread_mutex_destroy(&reg->mu);
    pthread_mutex_destroy(&reg->scrape_mu);
    free(reg);
}

struct tl_metric_family *
tl_metrics_family(struct tl_metrics *reg, const char *name, const char *help,
                  enum tl_metric_type type, const char *const *labels,
                  size_t n_labels, const double *bounds, size_t n_bounds)
{
    struct tl_metric_family *f;

    assert(valid_name(name, true));
    assert(n_labels <= TL_METRICS_MAX_LABELS);
    if (type == TL_METRIC_HISTOGRAM && bounds == NULL) {
        bounds = tl_metrics_latency_bounds;
        n_bounds = tl_metrics_n_latency_bounds;
    }
    assert(n_bounds <= TL_METRICS_MAX_BUCKETS);
    pthread_mutex_lock(&reg->mu);
    for (f = reg->head; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            assert(f->type == type && f->n_labels == n_labels);
            pthread_mutex_unlock(&reg->mu);
            return f;
        }
    }
    f = xcalloc(1, sizeof *f);
    f->name = xstrdup(name);
    f->help = xstrdup(help != NULL ? help : "");
    f->type = type;
    for (size_t i = 0; i < n_labels; i++) {
        /* "le" is the histogram's own label. */
        assert(valid_name(labels[i], false) && strcmp(labels[i], "le") != 0);
        f->labels[i] = xstrdup(labels[i]);
    }
    f->n_labels = n_labels;
    if (type == TL_METRIC_HISTOGRAM) {
        for (size_t i = 0; i < n_bounds; i++) {
            assert(i == 0 || bounds[i] > bounds[i - 1]);
            f->bounds[i] = bounds[i];
        }
        f->n_bounds = n_bounds;
    }
    pthread_mutex_init(&f->mu, NULL);
    if (reg->tail != NULL)
        reg->tail->next = f;
    else
        reg->head = f;
    reg->tail = f;
    pthread_mutex_unlock(&reg->mu);
    return f;
}

struct tl_metric_series *
tl_metrics_series(struct tl_metric_family *f, const char *const *values)
{
    struct tl_metric_series *s;

    pthread_mutex_lock(&f->mu);
    for (s = f->head; s != NULL; s = s->next) {
        size_t i;
        for (i = 0; i < f->n_labels; i++)
            if (strcmp(s->values[i], values[i]) != 0)
                break;
        if (i == f->n_labels) {
            pthread_mutex_unlock(&f->mu);
            return s;
        }
    }
    s = xcalloc(1, sizeof *s);
    s->family = f;
    for (size_t i = 0; i < f->n_labels; i++)
        s->values[i] = xstrdup(values[i]);
    if (f->type == TL_METRIC_HISTOGRAM)
        s->buckets = xcalloc(f->n_bounds + 1, sizeof s->buckets[0]);
    atomic_init(&s->v, f->type == TL_METRIC_GAUGE ? bits_of(0.0) : 0);
    atomic_init(&s->sum, bits_of(0.0));
    if (f->tail != NULL)
        f->tail->next = s;
    else
        f->head = s;
    f->tail = s;
    pthread_mutex_unlock(&f->mu);
    return s;
}

struct tl_metric_series *
tl_metrics_counter(struct tl_metrics *reg, const char *name, const char *help)
{
    return tl_metrics_series(
        tl_metrics_family(reg, name, help, TL_METRIC_COUNTER, NULL, 0, NULL, 0),
        NULL);
}

struct tl_metric_series *
tl_metrics_gauge(struct tl_metrics *reg, const char *name, const char *help)
{
    return tl_metrics_series(
        tl_metrics_family(reg, name, help, TL_METRIC_GAUGE, NULL, 0, NULL, 0),
        NULL);
}

struct tl_metric_series *
tl_metrics_histogram(struct tl_metrics *reg, const char *name, const char *help,
                     const double *bounds, size_t n_bounds)
{
    return tl_metrics_series(tl_metrics_family(reg, name, help,
                                               TL_METRIC_HISTOGRAM, NULL, 0,
                                               bounds, n_bounds),
                             NULL);
}

void
tl_metrics_counter_set(struct tl_metric_series *s, uint64_t n)
{
    assert(s->family->type == TL_METRIC_COUNTER);
    atomic_store_explicit(&s->v, n, memory_order_relaxed);
    atomic_store_explicit(&s->hidden, false, memory_order_relaxed);
}

void
tl_metrics_set(struct tl_metric_series *s, double v)
{
    assert(s->family->type == TL_METRIC_GAUGE);
    atomic_store_explicit(&s->v, bits_of(v), memory_order_relaxed);
    atomic_store_explicit(&s->hidden, false, memory_order_relaxed);
}

/* Add @d to the double whose bits are in @a. */
static void
add_double(_Atomic uint64_t *a, double d)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        a, &old, bits_of(double_of(old) + d), memory_order_relaxed,
        memory_order_relaxed))
        ;
}

void
tl_metrics_add(struct tl_metric_series *s, double d)
{
    assert(s->family->type == TL_METRIC_GAUGE);
    add_double(&s->v, d);
}

double
tl_metrics_get(const struct tl_metric_series *s)
{
    uint64_t b = atomic_load_explicit(&((struct tl_metric_series *)s)->v,
                                      memory_order_relaxed);
    return double_of(b);
}

void
tl_metrics_observe(struct tl_metric_series *s, double v)
{
    const struct tl_metric_family *f = s->family;
    size_t i = 0;

    assert(f->type == TL_METRIC_HISTOGRAM);
    while (i < f->n_bounds && !(v <= f->bounds[i]))
        i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    add_double(&s->sum, v);
    atomic_fetch_add_explicit(&s->v, 1, memory_order_relaxed);
}

void
tl_metrics_family_hide(struct tl_metric_family *f)
{
    pthread_mutex_lock(&f->mu);
    for (struct tl_metric_series *s = f->head; s != NULL; s = s->next)
        atomic_store_explicit(&s->hidden, true, memory_order_relaxed);
    pthread_mutex_unlock(&f->mu);
}

void
tl_metrics_on_collect(struct tl_metrics *reg, tl_metrics_collect_fn fn,
                      void *data)
{
    pthread_mutex_lock(&reg->mu);
    assert(reg->n_collect < MAX_COLLECTORS);
    reg->collect[reg->n_collect] = fn;
    reg->collect_data[reg->n_collect] = data;
    reg->n_collect++;
    pthread_mutex_unlock(&reg->mu);
}

void
tl_metrics_format_value(struct tl_buf *out, double v)
{
    if (isnan(v))
        tl_buf_printf(out, "NaN");
    else if (isinf(v))
        tl_buf_printf(out, "%s", v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        tl_buf_printf(out, "%.0f", v);
    else {
        /* The shortest form that reads back as @v: 0.1, not
         * 0.10000000000000001. */
        char tmp[64];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        tl_buf_printf(out, "%s", tmp);
    }
}

/* Append @s escaped for a HELP line (@quoted false: \ and newline) or a
 * label value (@quoted: also "). */
static void
append_escaped(struct tl_buf *out, const char *s, bool quoted)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            tl_buf_append(out, "\\\\", 2);
        else if (*s == '\n')
            tl_buf_append(out, "\\n", 2);
        else if (quoted && *s == '"')
            tl_buf_append(out, "\\\"", 2);
        else
            tl_buf_append(out, s, 1);
    }
}

/* Append `name{labels[,le="le"]} ` for series @s; @suffix after the name
 * ("" or "_bucket", "_sum", "_count"), @le NULL for no le label. */
static void
append_head(struct tl_buf *out, const struct tl_metric_series *s,
            const char *suffix, const char *le)
{
    const struct tl_metric_family *f = s->family;

    tl_buf_printf(out, "%s%s", f->name, suffix);
    if (f->n_labels > 0 || le != NULL) {
        tl_buf_append(out, "{", 1);
        for (size_t i = 0; i < f->n_labels; i++) {
            tl_buf_printf(out, "%s%s=\"", i > 0 ? "," : "", f->labels[i]);
            append_escaped(out, s->values[i], true);
            tl_buf_append(out, "\"", 1);
        }
        if (le != NULL)
            tl_buf_printf(out, "%sle=\"%s\"", f->n_labels > 0 ? "," : "", le);
        tl_buf_append(out, "}", 1);
    }
    tl_buf_append(out, " ", 1);
}

static void
render_histogram(struct tl_buf *out, struct tl_metric_series *s)
{
    const struct tl_metric_family *f = s->family;
    uint64_t cum = 0;
    char le[64];

    for (size_t i = 0; i <= f->n_bounds; i++) {
        struct tl_buf b;
        cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        tl_buf_init(&b);
        if (i < f->n_bounds)
            tl_metrics_format_value(&b, f->bounds[i]);
        else
            tl_buf_printf(&b, "+Inf");
        snprintf(le, sizeof le, "%.*s", (int)b.len, (const char *)b.data);
        tl_buf_close(&b);
        append_head(out, s, "_bucket", le);
        tl_buf_printf(out, "%llu\n", (unsigned long long)cum);
    }
    append_head(out, s, "_sum", NULL);
    tl_metrics_format_value(
        out, double_of(atomic_load_explicit(&s->sum, memory_order_relaxed)));
    tl_buf_append(out, "\n", 1);
    /* The count is the +Inf bucket: the two always agree on output. */
    append_head(out, s, "_count", NULL);
    tl_buf_printf(out, "%llu\n", (unsigned long long)cum);
}

static void
render_family(struct tl_buf *out, struct tl_metric_family *f)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    bool header = false;

    pthread_mutex_lock(&f->mu);
    for (struct tl_metric_series *s = f->head; s != NULL; s = s->next) {
        if (atomic_load_explicit(&s->hidden, memory_order_relaxed))
            continue;
        if (!header) {
            tl_buf_printf(out, "# HELP %s ", f->name);
            append_escaped(out, f->help, false);
            tl_buf_printf(out, "\n# TYPE %s %s\n", f->name,
                          type_names[f->type]);
            header = true;
        }
        switch (f->type) {
        case TL_METRIC_COUNTER:
            append_head(out, s, "", NULL);
            tl_buf_printf(out, "%llu\n",
                          (unsigned long long)atomic_load_explicit(
                              &s->v, memory_order_relaxed));
            break;
        case TL_METRIC_GAUGE:
            append_head(out, s, "", NULL);
            tl_metrics_format_value(out, tl_metrics_get(s));
            tl_buf_append(out, "\n", 1);
            break;
        case TL_METRIC_HISTOGRAM:
            render_histogram(out, s);
            break;
        }
    }
    pthread_mutex_unlock(&f->mu);
}

void
tl_metrics_render(struct tl_metrics *reg, struct tl_buf *out)
{
    tl_metrics_collect_fn fns[MAX_COLLECTORS];
    void *data[MAX_COLLECTORS];
    size_t n;

    pthread_mutex_lock(&reg->scrape_mu);
    pthread_mutex_lock(&reg->mu);
    n = reg->n_collect;
    memcpy(fns, reg->collect, n * sizeof fns[0]);
    memcpy(data, reg->collect_data, n * sizeof data[0]);
    pthread_mutex_unlock(&reg->mu);
    /* Without mu: a collector may register families and series. */
    for (size_t i = 0; i < n; i++)
        fns[i](reg, data[i]);
    pthread_mutex_lock(&reg->mu);
    for (struct tl_metric_family *f = reg->head; f != NULL; f = f->next)
        render_family(out, f);
    pthread_mutex_unlock(&reg->mu);
    pthread_mutex_unlock(&reg->scrape_mu);
}
