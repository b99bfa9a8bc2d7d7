#include "crash.h"

#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CRASH_MAX_FRAMES 64
/* The main thread's: large enough for the handler's own frames,
 * backtrace()'s unwinder and a sanitizer's report, which run on it too.
 * Other threads' (tl_crash_thread_init()) are smaller, as a router may
 * run a thousand connection threads; under a sanitizer, which gives every
 * thread its own, they are not used. */
#define CRASH_ALTSTACK_SIZE (256 * 1024)
#define CRASH_THREAD_ALTSTACK_SIZE (64 * 1024)

static const struct {
    int sig;
    const char *name;
} fatal_signals[] = {
    {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"},
};
#define N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])

/* Written once by tl_crash_install() before any thread starts; read by
 * the handler. */
static struct sigaction previous[N_FATAL];
static const char *process_name = "talus";
static char main_altstack[CRASH_ALTSTACK_SIZE];
static pthread_key_t altstack_key;
static bool altstack_key_ok;

/* The thread that is writing a report; 0 when none. A second thread that
 * faults meanwhile waits for the first to end the process, so reports do
 * not interleave; a fault inside the handler itself skips the report. */
static atomic_long reporting;

/* ------------------------------------------------ async-signal-safe output */

/* A line under construction in a fixed buffer: no malloc, no stdio. */
struct line {
    char buf[512];
    size_t len;
};

static void
put_str(struct line *l, const char *s)
{
    while (*s != '\0' && l->len < sizeof l->buf - 1)
        l->buf[l->len++] = *s++;
}

static void
put_uint(struct line *l, uint64_t v, unsigned base, unsigned min_digits)
{
    char tmp[24];
    unsigned n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0 && n < sizeof tmp);
    while (n < min_digits && n < sizeof tmp)
        tmp[n++] = '0';
    while (n > 0 && l->len < sizeof l->buf - 1)
        l->buf[l->len++] = tmp[--n];
}

static void
put_int(struct line *l, long v)
{
    if (v < 0) {
        put_str(l, "-");
        put_uint(l, (uint64_t)0 - (uint64_t)v, 10, 1);
    } else {
        put_uint(l, (uint64_t)v, 10, 1);
    }
}

/* Write all of @len bytes of @buf to stderr, retrying short writes. */
static void
write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        buf += w;
        len -= (size_t)w;
    }
}

/* The civil date of @days since 1970-01-01 (Howard Hinnant's algorithm):
 * gmtime_r() is not async-signal-safe. */
static void
civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "2026-12-02T15:40:01.123Z level=fatal mod=crash " as tl_log() starts
 * its lines. */
static void
put_prefix(struct line *l)
{
    struct timespec ts = {0, 0};
    int64_t y;
    unsigned mo, d;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t secs = (int64_t)ts.tv_sec;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &mo, &d);
    put_uint(l, (uint64_t)y, 10, 4);
    put_str(l, "-");
    put_uint(l, mo, 10, 2);
    put_str(l, "-");
    put_uint(l, d, 10, 2);
    put_str(l, "T");
    put_uint(l, (uint64_t)(rem / 3600), 10, 2);
    put_str(l, ":");
    put_uint(l, (uint64_t)(rem / 60 % 60), 10, 2);
    put_str(l, ":");
    put_uint(l, (uint64_t)(rem % 60), 10, 2);
    put_str(l, ".");
    put_uint(l, (uint64_t)ts.tv_nsec / 1000000, 10, 3);
    put_str(l, "Z level=fatal mod=crash ");
}

/* ------------------------------------------------------------- handler */

static void
report(int idx, const siginfo_t *si)
{
    void *frames[CRASH_MAX_FRAMES];
    struct line l = {.len = 0};

    put_prefix(&l);
    put_str(&l, "event=signal proc=");
    put_str(&l, process_name);
    put_str(&l, " signal=");
    put_str(&l, fatal_signals[idx].name);
    put_str(&l, " code=");
    put_int(&l, si != NULL ? si->si_code : 0);
    /* si_addr means something only for a fault (si_code > 0); a sent
     * signal shares that memory with the sender's pid and uid. */
    put_str(&l, " addr=0x");
    put_uint(&l,
             si != NULL && si->si_code > 0 ? (uint64_t)(uintptr_t)si->si_addr
                                           : 0,
             16, 1);
    if (si != NULL && si->si_code <= 0) {
        /* Sent by a process (kill, raise, abort): say which. */
        put_str(&l, " sender_pid=");
        put_int(&l, (long)si->si_pid);
    }
    put_str(&l, " pid=");
    put_int(&l, (long)getpid());
    put_str(&l, " tid=");
    put_int(&l, (long)syscall(SYS_gettid));
    put_str(&l, "\n");
    write_all(l.buf, l.len);

    int n = backtrace(frames, CRASH_MAX_FRAMES);
    for (int i = 0; i < n; i++) {
        /* One log line per frame: our prefix, then the symbol that
         * backtrace_symbols_fd() writes with its own newline (it formats
         * without malloc, unlike backtrace_symbols()). */
        l.len = 0;
        put_prefix(&l);
        put_str(&l, "event=frame n=");
        put_int(&l, i);
        put_str(&l, " at=");
        write_all(l.buf, l.len);
        backtrace_symbols_fd(&frames[i], 1, STDERR_FILENO);
    }
    l.len = 0;
    put_prefix(&l);
    put_str(&l, "event=end frames=");
    put_int(&l, n);
    put_str(&l, " what=\"the process exits on this signal\"\n");
    write_all(l.buf, l.len);
}

static void
crash_handler(int sig, siginfo_t *si, void *ctx)
{
    int idx = -1;
    long self = (long)syscall(SYS_gettid);
    long expected = 0;

    for (size_t i = 0; i < N_FATAL; i++)
        if (fatal_signals[i].sig == sig)
            idx = (int)i;
    if (idx >= 0 &&
        atomic_compare_exchange_strong(&reporting, &expected, self)) {
        report(idx, si);
    } else if (idx >= 0 && expected != self) {
        /* Another thread is reporting and will end the process; give it
         * a moment, then go on (dying is still better than hanging). */
        struct timespec ts = {0, 100 * 1000 * 1000};
        for (int i = 0; i < 20 && atomic_load(&reporting) != 0; i++)
            nanosleep(&ts, NULL);
    }
    /* else: a fault inside our own report; skip straight to dying. */

    /* Put back what was there before: a sanitizer's handler (which prints
     * its report and aborts) or the default action. */
    struct sigaction prev = idx >= 0 ? previous[idx] : (struct sigaction){0};
    if (idx < 0)
        prev.sa_handler = SIG_DFL;
    if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction != NULL) {
        sigaction(sig, &prev, NULL);
        prev.sa_sigaction(sig, si, ctx);
    } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN &&
               prev.sa_handler != NULL) {
        sigaction(sig, &prev, NULL);
        prev.sa_handler(sig);
    }
    /* Still alive (no previous handler, or it returned): die by the
     * signal itself, so the exit status names it and a core is written.
     * For a fault, returning re-runs the faulting instruction; for a sent
     * signal (blocked while we run), the raise is delivered on return. */
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ------------------------------------------------------------- install */

static void
free_thread_altstack(void *mem)
{
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    free(mem);
}

/* Give the calling thread @mem (@size bytes) as its alternate signal
 * stack unless it has one; true if @mem was taken. */
static bool
set_altstack(void *mem, size_t size)
{
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
        return false; /* a sanitizer (or the caller) already gave one */
    stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = 0};
    return sigaltstack(&ss, NULL) == 0;
}

void
tl_crash_thread_init(void)
{
    if (!altstack_key_ok)
        return;
    void *mem = malloc(CRASH_THREAD_ALTSTACK_SIZE);
    if (mem == NULL)
        return;
    if (!set_altstack(mem, CRASH_THREAD_ALTSTACK_SIZE) ||
        pthread_setspecific(altstack_key, mem) != 0) {
        stack_t cur;
        /* Never free a stack that the thread may be using. */
        if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == mem)
            return;
        free(mem);
    }
}

void
tl_crash_install(const char *process)
{
    static atomic_bool installed;
    void *frames[4];

    /* Twice would make the handler its own "previous" action. */
    if (atomic_exchange(&installed, true))
        return;
    if (process != NULL)
        process_name = process;
    /* Load libgcc's unwinder now: the first backtrace() may dlopen() it,
     * which is not safe inside a signal handler. */
    (void)backtrace(frames, 4);
    altstack_key_ok =
        pthread_key_create(&altstack_key, free_thread_altstack) == 0;
    set_altstack(main_altstack, sizeof main_altstack);

    for (size_t i = 0; i < N_FATAL; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = crash_handler;
        /* SA_ONSTACK: run on the alternate stack (a stack overflow leaves
         * no room on the normal one). The other fatal signals are blocked
         * while the handler runs, so a SIGABRT sent meanwhile cannot cut
         * the report short (abort() unblocks SIGABRT itself, so a
         * sanitizer's report that aborts still ends the process), and
         * SIGPIPE is, so a closed stderr cannot end the process by another
         * signal than the one being reported. */
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        for (size_t j = 0; j < N_FATAL; j++)
            if (j != i)
                sigaddset(&sa.sa_mask, fatal_signals[j].sig);
        sigaddset(&sa.sa_mask, SIGPIPE);
        if (sigaction(fatal_signals[i].sig, &sa, &previous[i]) != 0)
            memset(&previous[i], 0, sizeof previous[i]);
    }
}
