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

from PyQt6.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal, pyqtSlot

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = pyqtSignal(object)
    failed = pyqtSignal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self._fn = fn
        self._signals = signals
        self.setAutoDelete(True)

    def run(self) -> None:  # pool thread: touch no widget here
        try:
            result = self._fn()
        except BaseException as exc:  # delivered to the GUI thread, which decides
            self._deliver("failed", exc)
        else:
            self._deliver("done", result)

    def _deliver(self, name: str, value: object) -> None:
        try:
            # looking the signal up already fails when the signals object is deleted
            getattr(self._signals, name).emit(value)
        except RuntimeError:
            # The page that submitted the job was destroyed meanwhile (session ended, window
            # closed): nobody waits for this result any more.
            log.debug("result of a background task dropped: its receiver is gone")


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
        self.signals = _Signals(self)
        self.signals.done.connect(self._done)
        self.signals.failed.connect(self._failed)

    def cancel(self) -> None:
        self.cancelled = True
        if self.running:
            self.running = False
            self.finished.emit()

    @pyqtSlot(object)
    def _done(self, result: Any) -> None:
        if self.cancelled:
            return
        self.running = False
        self.finished.emit()
        if self._on_done:
            self._on_done(result)

    @pyqtSlot(object)
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
        self._pool.start(_Job(fn, task.signals))
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
