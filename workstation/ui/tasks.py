"""Running blocking work (HTTP, database, devices) off the GUI thread.

`TaskRunner.submit(fn, on_done, on_error)` runs ``fn`` on a pool thread; the callbacks run on the
GUI thread through a queued signal. A cancelled task's result is dropped: the call itself cannot
be interrupted (an HTTP request runs to its timeout), but nothing the user no longer waits for
reaches the screen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal, pyqtSlot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """The one object pool threads emit on. It lives as long as the process, so an emit never
    races with a page being destroyed; its slot runs on the GUI thread and drops the value when
    the object it is meant for is gone by then (checked there, where deletion happens)."""

    call = pyqtSignal(object)  # (owner QObject, callable, value)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._call)

    @pyqtSlot(object)
    def _call(self, item: tuple[QObject, Callable[[Any], None], object]) -> None:
        owner, fn, value = item
        if sip.isdeleted(owner):
            log.debug("result of a background task dropped: its receiver is gone")
            return
        fn(value)


_relay: _Relay | None = None


def _the_relay() -> _Relay:
    """The relay, created on first use: call this on the GUI thread (it sets the affinity).

    A new one replaces a relay that went with its QApplication (PyQt destroys the parentless
    objects of an application that is destroyed; a process may make another one)."""
    global _relay
    if _relay is None or sip.isdeleted(_relay):
        _relay = _Relay()
    return _relay


def gui_callback(owner: QObject, fn: Callable[[Any], None]) -> Callable[[Any], None]:
    """A function any thread may call with one value: ``fn(value)`` then runs on the GUI
    thread, unless ``owner`` (a page, a widget) has been destroyed meanwhile.

    Use it for progress from background work (``ctx.printing.print(..., on_update=...)``).
    Create it on the GUI thread.
    """
    relay = _the_relay()

    def post(value: object) -> None:
        try:
            relay.call.emit((owner, fn, value))
        except RuntimeError:
            # the process is shutting down (the relay went with the interpreter's globals):
            # nobody waits for this value, and an exception escaping a pool thread's run()
            # would abort the process
            log.debug("background value dropped: the application is shutting down")

    return post


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], done: Callable[[Any], None],
                 failed: Callable[[Any], None]) -> None:
        super().__init__()
        self._fn = fn
        self._done = done
        self._failed = failed
        self.setAutoDelete(True)

    def run(self) -> None:  # pool thread: touch no widget here
        try:
            result = self._fn()
        except BaseException as exc:  # delivered to the GUI thread, which decides
            self._failed(exc)
        else:
            self._done(result)


class Task(QObject):
    """One submitted job; ``cancel()`` drops its result."""

    finished = pyqtSignal()

    def __init__(
        self,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cancelled = False
        self.running = True
        self._on_done = on_done
        self._on_error = on_error

    def cancel(self) -> None:
        self.cancelled = True
        if self.running:
            self.running = False
            self.finished.emit()

    def _done(self, result: Any) -> None:
        if self.cancelled:
            return
        self.running = False
        self.finished.emit()
        if self._on_done:
            self._on_done(result)

    def _failed(self, exc: BaseException) -> None:
        if self.cancelled:
            return
        self.running = False
        self.finished.emit()
        if self._on_error:
            self._on_error(exc)
        else:
            log.error("background task failed: %s", type(exc).__name__)


class TaskRunner(QObject):
    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._tasks: set[Task] = set()
        _the_relay()  # created here, on the GUI thread

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Task:
        task = Task(on_done, on_error, self)
        self._tasks.add(task)
        task.finished.connect(lambda: self._forget(task))
        assert self._pool is not None
        self._pool.start(_Job(fn, gui_callback(task, task._done),
                              gui_callback(task, task._failed)))
        return task

    def _forget(self, task: Task) -> None:
        self._tasks.discard(task)
        task.deleteLater()

    def cancel_all(self) -> None:
        """Drop the results of every running task (their owner is going away)."""
        for task in list(self._tasks):
            task.cancel()

    @property
    def busy(self) -> bool:
        return any(t.running for t in self._tasks)

    def wait_for_done(self, msecs: int = 30000) -> bool:
        """Wait for pool threads (used at shutdown)."""
        assert self._pool is not None
        return self._pool.waitForDone(msecs)
