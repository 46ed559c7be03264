"""When this process may use a second core through ``fork``, and a small helper that does.

A fork copies only the calling thread: a lock another thread held (in logging, an HTTP client, the
caller's own code) stays locked for ever in the child, and Python 3.12+ warns on every fork of a
threaded process. So only a single-threaded process forks: no other Python thread, and no native
thread either (an extension may start its own, which ``threading`` does not see).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def may_fork() -> bool:
    """Whether forking this process now is safe (and possible on this platform)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    # A Python thread just joined may still be listed for a moment while the system tears it
    # down: give such a thread a few milliseconds before deciding a native one is running.
    for _ in range(_THREAD_EXIT_POLLS):
        try:
            if len(os.listdir("/proc/self/task")) <= 1:
                return True
        except OSError:
            return True  # no /proc (macOS, BSD): the Python threads were counted above
        time.sleep(0.001)
    return False


_THREAD_EXIT_POLLS = 20


def start_forked(work: Callable[[], bytes]) -> Callable[[], bytes | None] | None:
    """Run ``work`` in a forked child; return a function that waits for its bytes (None when the
    child failed: then the caller does the work itself), or None when this process may not fork.

    The child sees the parent's memory as it was at the fork, so ``work`` needs no arguments sent
    over a pipe; only its answer travels back.
    """
    if not may_fork():
        return None
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: answer, then leave without running the parent's exit handlers
        os.close(read_end)
        status = 1
        try:
            answer = work()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(answer)
            status = 0
        finally:
            os._exit(status)

    os.close(write_end)

    def wait() -> bytes | None:
        with os.fdopen(read_end, "rb") as pipe:
            answer = pipe.read()
        _, status = os.waitpid(pid, 0)
        return answer if os.waitstatus_to_exitcode(status) == 0 else None

    return wait
