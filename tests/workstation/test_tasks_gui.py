"""Background work and its results: callbacks run on the GUI thread, and a result for a page
that has been destroyed meanwhile is dropped instead of touching a deleted object."""

from __future__ import annotations

import threading
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QThread, QThreadPool
from PyQt6.QtWidgets import QApplication, QWidget

from workstation.api.ui import TaskRunner, gui_callback


def test_results_arrive_on_the_gui_thread(qtbot: Any) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    runner = TaskRunner(owner)
    got: list[tuple[object, bool]] = []
    runner.submit(lambda: threading.current_thread().name,
                  lambda name: got.append((name, QThread.currentThread() is owner.thread())))
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    name, on_gui_thread = got[0]
    assert name != threading.current_thread().name and on_gui_thread
    failures: list[BaseException] = []
    runner.submit(lambda: 1 / 0, None, failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert isinstance(failures[0], ZeroDivisionError)


def test_a_result_for_a_destroyed_page_is_dropped(qtbot: Any) -> None:
    """The page goes (session ended) while its work runs: the result has nowhere to go."""
    page = QWidget()
    runner = TaskRunner(page)
    release = threading.Event()
    ran = threading.Event()
    got: list[object] = []

    def work() -> str:
        release.wait(5)
        ran.set()
        return "late"

    runner.submit(work, got.append, got.append)
    page.deleteLater()
    qtbot.waitUntil(lambda: sip.isdeleted(page), timeout=5000)
    release.set()
    qtbot.waitUntil(ran.is_set, timeout=5000)
    QThreadPool.globalInstance().waitForDone(5000)  # the job has posted its result
    for _ in range(5):
        QApplication.processEvents()
    assert got == []


def test_progress_from_a_worker_thread_reaches_a_live_page_only(qtbot: Any) -> None:
    page = QWidget()
    seen: list[tuple[object, bool]] = []

    def show(value: object) -> None:
        seen.append((value, QThread.currentThread() is QApplication.instance().thread()))

    post = gui_callback(page, show)
    worker = threading.Thread(target=lambda: [post(f"第{i}页") for i in range(3)])
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5000)
    assert [v for v, _ in seen] == ["第0页", "第1页", "第2页"] and all(ok for _, ok in seen)
    page.deleteLater()
    qtbot.waitUntil(lambda: sip.isdeleted(page), timeout=5000)
    late = threading.Thread(target=lambda: post("迟到"))
    late.start()
    late.join()
    for _ in range(5):
        QApplication.processEvents()
    assert len(seen) == 3  # dropped: the page is gone


def test_work_goes_on_after_the_relay_went_with_an_application(qtbot: Any) -> None:
    """PyQt destroys an application's parentless objects with it; a process that makes a new
    application (the benchmarks do) gets a new relay, and a value posted to the old one is
    dropped instead of raising in a pool thread (which would abort the process)."""
    from workstation.ui import tasks

    owner = QWidget()
    qtbot.addWidget(owner)
    stale = gui_callback(owner, lambda _v: None)
    assert tasks._relay is not None
    sip.delete(tasks._relay)  # what the destruction of the QApplication does to it
    stale("迟到")  # dropped, no exception (in a pool thread one would abort the process)
    got: list[object] = []
    TaskRunner(owner).submit(lambda: "新的", got.append)
    qtbot.waitUntil(lambda: got == ["新的"], timeout=5000)
