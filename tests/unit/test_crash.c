/* crash: a process that installed the handler (common/crash.h) and then
 * faults, overflows its stack, aborts or is sent a fatal signal writes a
 * `level=fatal mod=crash event=signal` line naming the signal, one line
 * per stack frame and an end line to stderr, then dies by the signal (or,
 * under AddressSanitizer, by the sanitizer's own report, which runs after
 * ours). Each case runs in a forked child whose stderr is a file. */
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

enum how { HOW_FAULT, HOW_OVERFLOW, HOW_ABORT, HOW_KILL_BUS, HOW_THREAD };

/* Deep, non-tail recursion: each level keeps a frame of 1 KiB alive. */
static int
recurse(volatile char *prev, long depth)
{
    volatile char frame[1024];
    frame[0] = (char)depth;
    frame[1023] = prev != NULL ? prev[0] : 0;
    if (depth >= 0)
        return recurse(frame, depth + 1) + frame[1023];
    return frame[0];
}

static void *
thread_fault(void *arg)
{
    (void)arg;
    tl_crash_thread_init();
    recurse(NULL, 0);
    return NULL;
}

/* In the child: install, then die as @how says. Never returns. */
static void
die(enum how how)
{
    /* cmocka catches SIGSEGV and friends to report a failing test and
     * go on with the next one; a crashing child must not do that. */
    const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    tl_crash_install("test_crash");
    switch (how) {
    case HOW_FAULT: {
        /* Not NULL, so UBSan's null check lets the store reach the MMU;
         * through a volatile so the compiler cannot see the constant. */
        volatile uintptr_t bad = 0x38;
        *(volatile int *)bad = 1;
        break;
    }
    case HOW_OVERFLOW:
        recurse(NULL, 0);
        break;
    case HOW_ABORT:
        abort();
    case HOW_KILL_BUS:
        kill(getpid(), SIGBUS);
        break;
    case HOW_THREAD: {
        pthread_t t;
        pthread_create(&t, NULL, thread_fault, NULL);
        pthread_join(t, NULL);
        break;
    }
    }
    _exit(0); /* not reached */
}

/* Run @how in a child with stderr sent to a file; its output (caller
 * frees) and wait status. */
static char *
run_child(enum how how, int *status)
{
    char path[] = "/tmp/talus-test-crash-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        die(how);
    }
    /* The child dies at once; a deadline keeps a handler that hangs from
     * hanging the test. */
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 30) {
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            fail_msg("child did not die within 30 s");
        }
        /* Nothing to wait on but the child's exit. */
        usleep(10 * 1000);
    }
    off_t n = lseek(fd, 0, SEEK_END);
    char *out = calloc(1, (size_t)n + 1);
    assert_non_null(out);
    assert_int_equal(pread(fd, out, (size_t)n, 0), n);
    close(fd);
    unlink(path);
    return out;
}

static bool
matches(const char *text, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    bool ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* The log lines and the exit of a child that died by @sig. */
static void
check(enum how how, const char *sig_name, int sig)
{
    int status = 0;
    char *out = run_child(how, &status);
    char pattern[256];

    snprintf(
        pattern, sizeof pattern,
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"
        " level=fatal mod=crash event=signal proc=test_crash signal=%s "
        "code=-?[0-9]+ addr=0x[0-9a-f]+ .*pid=[0-9]+ tid=[0-9]+$",
        sig_name);
    if (!matches(out, pattern))
        fail_msg("no signal line for %s in:\n%s", sig_name, out);
    /* A backtrace: frames that name this program, then the end line. */
    if (!matches(out, "level=fatal mod=crash event=frame n=0 at=.+$") ||
        !matches(out, "event=frame n=[0-9]+ at=.*test_crash") ||
        !matches(out, "level=fatal mod=crash event=end frames=[1-9]"))
        fail_msg("no backtrace in:\n%s", out);
    if (how == HOW_FAULT &&
        !matches(out, "signal=SIGSEGV code=[0-9]+ addr=0x38 "))
        fail_msg("fault address missing in:\n%s", out);
    /* Dies by the signal; under ASan the sanitizer's own report runs
     * after ours and ends the process (abort, or exit code 1). */
    if (SANITIZED)
        assert_true((WIFSIGNALED(status) && (WTERMSIG(status) == sig ||
                                             WTERMSIG(status) == SIGABRT)) ||
                    (WIFEXITED(status) && WEXITSTATUS(status) != 0));
    else
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == sig);
    free(out);
}

/* A write to an unmapped address is logged as SIGSEGV with its address. */
static void
test_fault(void **state)
{
    (void)state;
    check(HOW_FAULT, "SIGSEGV", SIGSEGV);
}

/* A stack overflow on the main thread is caught on the alternate stack. */
static void
test_stack_overflow(void **state)
{
    (void)state;
    check(HOW_OVERFLOW, "SIGSEGV", SIGSEGV);
}

/* A stack overflow on a thread that called tl_crash_thread_init(). */
static void
test_thread_overflow(void **state)
{
    (void)state;
    check(HOW_THREAD, "SIGSEGV", SIGSEGV);
}

/* abort() (a failed assert) is logged as SIGABRT. */
static void
test_abort(void **state)
{
    (void)state;
    check(HOW_ABORT, "SIGABRT", SIGABRT);
}

/* A fatal signal sent by another process is logged with its sender. */
static void
test_sent_signal(void **state)
{
    (void)state;
    int status = 0;
    char *out = run_child(HOW_KILL_BUS, &status);
    if (!matches(out, "event=signal proc=test_crash signal=SIGBUS code=0 "
                      "addr=0x[0-9a-f]+ sender_pid=[0-9]+ pid="))
        fail_msg("no SIGBUS line in:\n%s", out);
    assert_true(WIFSIGNALED(status));
    if (!SANITIZED)
        assert_int_equal(WTERMSIG(status), SIGBUS);
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault),
        cmocka_unit_test(test_stack_overflow),
        cmocka_unit_test(test_thread_overflow),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_sent_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
