"""Child processes that die with the workstation (the private pcscd, simulator processes).

Linux's ``PR_SET_PDEATHSIG`` sends the child SIGTERM when its parent goes away, so a killed
workstation (SIGKILL, a crash) never leaves a pcscd or a virtual card running. The "parent" is
the *thread* that forked: a child started from a pool thread would be killed as soon as that
thread retires. Children are therefore started from the main thread, or else from one spawner
thread that lives as long as the process.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

_PR_SET_PDEATHSIG = 1
PARENT_ENV = "MIANZHENG_PARENT_PID"  # set for children started by spawn()


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn``: in the child, before exec, SIGTERM when the parent (thread) dies.

    If the parent died between the fork and the ``prctl`` call, no signal would ever come
    (the child has already been re-parented): the child checks and leaves at once.
    """

    def run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):  # not Linux: the parent's stop() still applies
            return
        if os.getppid() != parent_pid:
            os._exit(1)

    return run


class _Spawner:
    """One daemon thread that runs Popen calls for threads that may not outlive the child."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = \
            queue.SimpleQueue()
        threading.Thread(target=self._run, name="child-spawner", daemon=True).start()

    def _run(self) -> None:
        while True:
            fn, future = self._jobs.get()
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)

    def call(self, fn: Callable[[], Any]) -> Any:
        future: Future[Any] = Future()
        self._jobs.put((fn, future))
        return future.result()


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def exit_with_parent() -> None:
    """In a Python child started by :func:`spawn`: leave when the starting process is gone.

    Belt and braces beside ``PR_SET_PDEATHSIG``: a thread notices the re-parenting within half a
    second, asks the process to stop (SIGTERM, so its own clean-up runs) and ends it outright
    if that has not worked two seconds later.
    """
    raw = os.environ.get(PARENT_ENV, "")
    if not raw.isdigit():
        return
    parent = int(raw)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(2)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def spawn(args: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(args, ...)`` whose child gets SIGTERM when this process dies."""
    global _spawner
    env = dict(popen_kwargs.pop("env", None) or os.environ)
    env[PARENT_ENV] = str(os.getpid())
    popen_kwargs["env"] = env

    def start() -> subprocess.Popen[Any]:
        return subprocess.Popen(list(args), preexec_fn=die_with_parent(os.getpid()),
                                **popen_kwargs)

    if threading.current_thread() is threading.main_thread():
        return start()
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
        spawner = _spawner
    result: subprocess.Popen[Any] = spawner.call(start)
    return result
