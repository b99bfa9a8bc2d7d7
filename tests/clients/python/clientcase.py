"""Shared runner of the Python client programs (tests/clients/README.md).

Each program registers its cases with @case and calls main(). Connection
parameters come from PGHOST/PGPORT/PGUSER/PGDATABASE; the arguments name
the cases to run (none: all). One line per case, `ok <case>` or
`FAIL <case>: <reason>`; exit status 1 if any failed, 2 on an unknown case.
A case that gets no answer within CASE_TIMEOUT_S fails instead of hanging.
"""
import asyncio
import contextlib
import os
import signal
import sys
import traceback

CASE_TIMEOUT_S = 30

HOST = os.environ.get("PGHOST", "127.0.0.1")
PORT = int(os.environ.get("PGPORT", "5432"))
USER = os.environ.get("PGUSER", "postgres")
DATABASE = os.environ.get("PGDATABASE", USER)

_cases = {}
_seq = 0


def case(fn):
    """Register @fn (a function or a coroutine function) as a case."""
    _cases[fn.__name__] = fn
    return fn


def table_name(prefix):
    """A table name no other case or concurrent run uses."""
    global _seq
    _seq += 1
    return "cl_%s_%d_%d" % (prefix, os.getpid(), _seq)


def check(cond, what):
    """Fail the case with @what unless @cond (assert survives python -O)."""
    if not cond:
        raise AssertionError(what)


@contextlib.contextmanager
def cleanup(fn):
    """Run @fn() on leaving the block; when the block raised, an error of
    @fn is dropped so that it does not hide why the case failed."""
    try:
        yield
    except BaseException:
        try:
            fn()
        except Exception:
            pass
        raise
    fn()


def check_eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout("no result in %d s" % CASE_TIMEOUT_S)


def _run_one(fn):
    if asyncio.iscoroutinefunction(fn):
        async def bounded():
            try:
                await asyncio.wait_for(fn(), CASE_TIMEOUT_S)
            except asyncio.TimeoutError:
                raise _Timeout("no result in %d s" % CASE_TIMEOUT_S)
        asyncio.run(bounded())
    else:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(CASE_TIMEOUT_S)
        try:
            fn()
        finally:
            signal.alarm(0)


def main():
    names = sys.argv[1:] or list(_cases)
    failed = 0
    for name in names:
        fn = _cases.get(name)
        if fn is None:
            print("FAIL %s: no such case" % name, flush=True)
            sys.exit(2)
        try:
            _run_one(fn)
            print("ok %s" % name, flush=True)
        except BaseException as e:  # noqa: B902 - a case may raise anything
            if isinstance(e, KeyboardInterrupt):
                raise
            failed += 1
            why = "%s: %s" % (type(e).__name__, e)
            print("FAIL %s: %s" % (name, " ".join(why.split())), flush=True)
            if os.environ.get("CLIENTS_TRACEBACK"):
                traceback.print_exc()
    # A timed-out case may leave a connection or thread behind: exit anyway.
    sys.stdout.flush()
    os._exit(1 if failed else 0)
