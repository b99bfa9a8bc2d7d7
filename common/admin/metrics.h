/* metrics — a small registry of Prometheus metrics and its text
 * exposition (format 0.0.4).
 *
 * A registry holds families (a name, a help text, a type: counter, gauge
 * or histogram, and up to TL_METRICS_MAX_LABELS label names); a family
 * holds series, one per tuple of label values (a family without labels
 * has exactly one). A series is found or created by its label values
 * (tl_metrics_series()) and then updated with atomics only: the hot path
 * of a caller that keeps the series pointer takes no lock.
 *
 * Invariants and locks:
 * - families and series are never freed before the registry is
 *   destroyed, so a series pointer stays valid for the registry's life;
 * - `mu` of the registry guards its family list and the collectors;
 *   `mu` of a family guards its series list (append only); a scrape
 *   (tl_metrics_render()) holds the registry's `scrape_mu` throughout, so
 *   two scrapes never interleave and collectors never run concurrently.
 *   Lock order: scrape_mu, registry mu, family mu;
 * - values are atomics: counters and histogram buckets _Atomic uint64_t,
 *   gauges and histogram sums doubles stored as their bits in an
 *   _Atomic uint64_t (updated by compare-and-swap when added to). A
 *   scrape reads every value with relaxed loads: a histogram's count is
 *   written as the sum of its buckets, so the two always agree, but its
 *   sum may miss an observation in flight, as in the Prometheus client
 *   libraries that take no lock;
 * - a series may be hidden (tl_metrics_family_hide()) so that values
 *   published by a collector for things that went away (a dropped shard)
 *   stop being exposed; setting a value shows it again.
 *
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label names
 * [a-zA-Z_][a-zA-Z0-9_]* (asserted: they are the programmer's). Label
 * values are any UTF-8 text (escaped on output). */
#ifndef TL_METRICS_H
#define TL_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TL_METRICS_MAX_LABELS 4
#define TL_METRICS_MAX_BUCKETS 24

enum tl_metric_type {
    TL_METRIC_COUNTER,
    TL_METRIC_GAUGE,
    TL_METRIC_HISTOGRAM,
};

struct tl_metrics;
struct tl_metric_family;

/* One series. `v` is the counter's count, or the gauge's double bits;
 * for a histogram `buckets[i]` counts observations <= bounds[i] and not
 * <= bounds[i-1] (made cumulative on output), `buckets[n_bounds]` those
 * above every bound, `v` the count and `sum` the sum's double bits. */
struct tl_metric_series {
    struct tl_metric_family *family;
    char *values[TL_METRICS_MAX_LABELS]; /* owned; n_labels of them */
    _Atomic bool hidden;
    _Atomic uint64_t v;
    _Atomic uint64_t sum;
    _Atomic uint64_t *buckets; /* histogram: n_bounds + 1, owned */
    struct tl_metric_series *next;
};

/** Default histogram bounds for latencies in seconds: 0.0005 s to 10 s. */
extern const double tl_metrics_latency_bounds[];
extern const size_t tl_metrics_n_latency_bounds;

/** A collector runs at the start of every scrape (one scrape at a time),
 * to publish values read from elsewhere (gauges from another thread's
 * state, process figures). It may register families and series; it must
 * not block for long and must not call tl_metrics_render(). */
typedef void (*tl_metrics_collect_fn)(struct tl_metrics *reg, void *data);

/** Create an empty registry in *@out; release with tl_metrics_destroy().
 * Cannot fail (allocation failure aborts, as common/buf does). */
void tl_metrics_create(struct tl_metrics **out);

/** Free @reg, its families and series; no series pointer may be used
 * after. NULL is a no-op. */
void tl_metrics_destroy(struct tl_metrics *reg);

/** Add a family @name (copied) with @help (copied), @type and the
 * @n_labels label names in @labels (copied); for a histogram, the
 * @n_bounds increasing upper bounds @bounds (copied; at most
 * TL_METRICS_MAX_BUCKETS; NULL for tl_metrics_latency_bounds). Returns
 * the family, owned by @reg. A name registered twice returns the first
 * family (asserted to have the same type and labels). Thread-safe. */
struct tl_metric_family *
tl_metrics_family(struct tl_metrics *reg, const char *name, const char *help,
                  enum tl_metric_type type, const char *const *labels,
                  size_t n_labels, const double *bounds, size_t n_bounds);

/** The series of @f with the label values @values (as many as the
 * family's labels; copied), created at first use (visible at once, with
 * value 0). Takes the family's lock: callers on hot paths keep the
 * pointer. Thread-safe; cannot fail. */
struct tl_metric_series *tl_metrics_series(struct tl_metric_family *f,
                                           const char *const *values);

/** Shorthands: a family without labels and its only series. */
struct tl_metric_series *tl_metrics_counter(struct tl_metrics *reg,
                                            const char *name, const char *help);
struct tl_metric_series *tl_metrics_gauge(struct tl_metrics *reg,
                                          const char *name, const char *help);
struct tl_metric_series *
tl_metrics_histogram(struct tl_metrics *reg, const char *name, const char *help,
                     const double *bounds, size_t n_bounds);

/** Add @n to counter @s. Lock-free; cannot fail. */
static inline void
tl_metrics_inc(struct tl_metric_series *s, uint64_t n)
{
    atomic_fetch_add_explicit(&s->v, n, memory_order_relaxed);
}

/** Set counter @s to @n, for counters kept elsewhere and published by a
 * collector (they must never go down). Shows a hidden series. */
void tl_metrics_counter_set(struct tl_metric_series *s, uint64_t n);

/** Set gauge @s to @v; shows a hidden series. Lock-free. */
void tl_metrics_set(struct tl_metric_series *s, double v);
/** Add @d (may be negative) to gauge @s. Lock-free (a CAS loop). */
void tl_metrics_add(struct tl_metric_series *s, double d);
/** The value of gauge @s. */
double tl_metrics_get(const struct tl_metric_series *s);

/** Record @v in histogram @s. Lock-free. */
void tl_metrics_observe(struct tl_metric_series *s, double v);

/** Hide every series of @f until a value is set again (collectors call
 * this before publishing what exists now). Thread-safe. */
void tl_metrics_family_hide(struct tl_metric_family *f);

/** Register @fn(@reg, @data) to run at the start of every scrape. At most
 * 8 collectors (asserted). Thread-safe. */
void tl_metrics_on_collect(struct tl_metrics *reg, tl_metrics_collect_fn fn,
                           void *data);

/** Run the collectors and append the text exposition (format 0.0.4) of
 * every family with a visible series to @out, families in registration
 * order, series in creation order. Cannot fail. */
void tl_metrics_render(struct tl_metrics *reg, struct tl_buf *out);

/** Append @v formatted as the exposition format wants a sample value
 * ("+Inf", "-Inf", "NaN", integers without a fraction, else the
 * shortest %g form that reads back as @v).
 * Cannot fail. */
void tl_metrics_format_value(struct tl_buf *out, double v);

#endif
