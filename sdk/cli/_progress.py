"""A progress display for long work the CLI waits on (loading a local model's weights).

Providers report stages through a ``progress`` callback (the transformers provider sends a
``LoadProgress(stage, message, elapsed_s)`` per stage). On a terminal this is a rich progress
bar on stderr that disappears once the model is ready; elsewhere (a log, a pipe) it is one dim
line per stage, which a log can keep and a test can read.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from hookwire.cli._output import err, notice

STAGES = ("tokenizer", "model", "device", "ready")


class LoadProgress:
    """Callable passed as ``progress=``; safe to call from the provider's worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bar: Progress | None = None
        self._task: Any = None

    def __call__(self, event: Any) -> None:
        stage = str(getattr(event, "stage", ""))
        message = str(getattr(event, "message", stage))
        done = STAGES.index(stage) if stage in STAGES else 0
        with self._lock:
            if not err.is_terminal:
                elapsed = float(getattr(event, "elapsed_s", 0.0))
                notice(f"[{done}/{len(STAGES) - 1}] {message} ({elapsed:.1f}s)")
                return
            if self._bar is None:
                self._bar = Progress(
                    SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TimeElapsedColumn(), console=err, transient=True,
                )
                self._bar.start()
                self._task = self._bar.add_task(message, total=len(STAGES) - 1)
            self._bar.update(self._task, completed=done, description=message)
        if stage == "ready":
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
