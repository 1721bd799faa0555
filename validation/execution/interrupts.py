"""Stopping a run cleanly when it is told to stop.

Schedulers stop a run with SIGTERM (Airflow, Kubernetes, ``timeout``), a terminal with SIGINT
(Ctrl-C), a closed session with SIGHUP. In the main process each becomes :class:`Interrupted` (SIGINT
stays Python's ``KeyboardInterrupt``), which unwinds the run: queued checks are cancelled, running
notebooks are stopped (each worker gets SIGTERM; nbclient then shuts its kernel down), the staging
folders are removed, nothing is recorded, and the command exits with ``128 + the signal number``
(143 for SIGTERM, 130 for SIGINT), never with a code of the validation contract.

Notebooks never run in the main process (nbclient replaces SIGTERM and SIGINT handlers while it
executes, which would swallow the stop). Worker processes watch their parent: when the main process
is killed outright (SIGKILL, the OOM killer), each worker stops its notebook and exits within
seconds, and ipykernel's own parent poller then ends the kernel; the abandoned staging folder is
swept by the next run in the same place (:func:`validation.reporting.staging.sweep_abandoned`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from types import FrameType
from typing import Iterator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """The run was told to stop by a signal. A ``BaseException``, so that no ``except Exception``
    on the way mistakes it for a failed check."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals(signums: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Within the block, the given signals raise :class:`Interrupted` in the main thread; the
    previous handlers come back afterwards. A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def watch_parent(parent_pid: int, *, interval: float = 1.0, grace: float = 15.0) -> threading.Thread:
    """Start a daemon thread that stops this process when its parent ``parent_pid`` is gone.

    It sends this process SIGTERM (so a running notebook shuts its kernel down), then exits it
    outright after ``grace`` seconds if it is still alive.
    """

    def run() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace)
        os._exit(128 + signal.SIGTERM)

    thread = threading.Thread(target=run, name="watch-parent", daemon=True)
    thread.start()
    return thread
