/* crash — a fatal signal is never silent.
 *
 * tl_crash_install() makes SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT
 * write, before the process dies, one line in the house log format and
 * one line per stack frame to stderr (which scripts/cluster, the test
 * harness and systemd send to the process's log):
 *
 *   2026-12-02T15:40:01.123Z level=fatal mod=crash event=signal
 *       proc=talus-node signal=SIGSEGV code=1 addr=0x38 pid=4242 tid=4250
 *   2026-12-02T15:40:01.123Z level=fatal mod=crash event=frame n=0
 *       at=/usr/bin/talus-node(+0x1a2b3)[0x55d0c3a1a2b3]
 *   ...
 *   2026-12-02T15:40:01.123Z level=fatal mod=crash event=end frames=14
 *
 * (each on one line). The handler uses only async-signal-safe calls
 * (write, clock_gettime, getpid, gettid, backtrace and
 * backtrace_symbols_fd, which are safe once libgcc's unwinder is loaded:
 * the install calls backtrace() once for that). Then it puts back the
 * action that was there before — a sanitizer's handler, which reports in
 * its own way, else the default — and lets the signal take its course, so
 * the exit status still names the signal and a core is still written
 * where cores are enabled.
 *
 * A stack overflow is caught on the thread that overflowed only if that
 * thread has an alternate signal stack: the install gives the calling
 * thread one (unless it has one already, as under AddressSanitizer, which
 * gives every thread its own); other threads may call
 * tl_crash_thread_init(). Without one the kernel kills the process with
 * SIGSEGV and no line is written. */
#ifndef TL_CRASH_H
#define TL_CRASH_H

/** Install the handler for the fatal signals, remembering the actions in
 * place (a sanitizer's) so they still run afterwards, and give the
 * calling thread an alternate signal stack. Call once, early in main(),
 * before threads start. @process names the binary in the log line
 * (borrowed: a string literal). Cannot fail: what cannot be set up is
 * skipped (the process then dies as it would have). A second call does
 * nothing. */
void tl_crash_install(const char *process);

/** Give the calling thread an alternate signal stack, so that its stack
 * overflow is logged too. The stack is malloc'd and released when the
 * thread exits. A thread that already has one keeps it. Cannot fail
 * (skipped when memory is short). */
void tl_crash_thread_init(void);

#endif
