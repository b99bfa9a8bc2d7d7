/* clock — the monotonic clock, for timings and condition-variable
 * deadlines (condition variables created with CLOCK_MONOTONIC). */
#ifndef TL_CLOCK_H
#define TL_CLOCK_H

#include <stdint.h>
#include <time.h>

/** Seconds on the monotonic clock. Cannot fail. */
double tl_clock_now_s(void);

/** The monotonic time @ms milliseconds from now, for
 * pthread_cond_timedwait() on a CLOCK_MONOTONIC condition variable.
 * Cannot fail. */
struct timespec tl_clock_after_ms(uint32_t ms);

#endif
