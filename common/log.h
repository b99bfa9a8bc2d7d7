/* log — one line per event on stderr:
 *   2026-11-20T23:59:59.123Z level=info mod=raft event=elected shard=3
 * The caller writes the key=value fields; the logger adds time, level and
 * module. Thread-safe (one write(2) per line). */
#ifndef TL_LOG_H
#define TL_LOG_H

enum tl_log_level {
    TL_LOG_DEBUG = 0,
    TL_LOG_INFO = 1,
    TL_LOG_WARN = 2,
    TL_LOG_ERROR = 3,
};

/** Set the minimum level printed (default info, or $TALUS_LOG_LEVEL:
 * debug|info|warn|error). */
void tl_log_set_level(int level);
/** Parse a level name; -1 if unknown. */
int tl_log_level_parse(const char *name);
/** Whether @level is printed. */
int tl_log_enabled(int level);

void tl_log(int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define tl_debug(mod, ...)                                                     \
    do {                                                                       \
        if (tl_log_enabled(TL_LOG_DEBUG))                                      \
            tl_log(TL_LOG_DEBUG, mod, __VA_ARGS__);                            \
    } while (0)
#define tl_info(mod, ...) tl_log(TL_LOG_INFO, mod, __VA_ARGS__)
#define tl_warn(mod, ...) tl_log(TL_LOG_WARN, mod, __VA_ARGS__)
#define tl_error(mod, ...) tl_log(TL_LOG_ERROR, mod, __VA_ARGS__)

#endif
