#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int min_level = -1;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int
tl_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void
tl_log_set_level(int level)
{
    atomic_store(&min_level, level);
}

int
tl_log_enabled(int level)
{
    int min = atomic_load(&min_level);
    if (min < 0) {
        const char *env = getenv("TALUS_LOG_LEVEL");
        min = env ? tl_log_level_parse(env) : -1;
        if (min < 0)
            min = TL_LOG_INFO;
        atomic_store(&min_level, min);
    }
    return level >= min;
}

void
tl_log(int level, const char *module, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n;

    if (!tl_log_enabled(level))
        return;
    if (level < 0 || level > 3)
        level = TL_LOG_ERROR;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, sizeof(line),
                 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s mod=%s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level],
                 module);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line so lines from several threads never interleave. */
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
