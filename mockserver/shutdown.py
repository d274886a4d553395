"""SIGINT/SIGTERM stop a serving process promptly, whatever its requests are doing.

uvicorn handles both signals by asking its main loop to exit: it stops accepting, gives open
responses its graceful timeout (2 s here), cancels what is left and exits. All of that runs on
the event loop, so a request that holds the loop (a long computation between two awaits) would
keep the process alive past any signal. The mock's own requests give the loop back (their
costs are capped, long streams yield), and this is the backstop for whatever still does not:
the first signal also starts a timer, and a process still alive `DEADLINE` seconds later exits
at once, saying so on stderr. A second signal exits at once too.

`arm()` runs inside the serving process after uvicorn installed its handlers (the app factory
of `hookwire.mockserver.server.serve` calls it) and wraps them; uvicorn puts its predecessors
back when it stops, so nothing of this outlives the server.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

DEADLINE = 5.0  # uvicorn's 2 s of grace for open streams, its lifespan shutdown, and a margin
SIGNALS = (signal.SIGINT, signal.SIGTERM)

_fired = threading.Event()


def arm(deadline: float = DEADLINE) -> bool:
    """Wrap the current SIGINT/SIGTERM handlers with the backstop; False off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return False  # a server in a thread (LiveServer): the process is not ours to end
    _fired.clear()
    for sig in SIGNALS:
        signal.signal(sig, _wrap(signal.getsignal(sig), deadline))
    return True


def _wrap(previous: Any, deadline: float) -> Any:
    def handle(sig: int, frame: FrameType | None) -> None:
        if _fired.is_set():
            _exit_now(f"second {signal.Signals(sig).name}")
        _fired.set()
        threading.Thread(
            target=_exit_after, args=(deadline,), name="mockserver shutdown", daemon=True
        ).start()
        if callable(previous):
            previous(sig, frame)

    return handle


def _exit_after(deadline: float) -> None:
    time.sleep(deadline)
    _exit_now(f"still running {deadline:g} s after the signal")


def _exit_now(why: str) -> None:
    # os._exit: no atexit handlers or thread joins, which are what might be stuck. Status 0,
    # as for a graceful stop: the process did what the signal asked.
    sys.stderr.write(f"mockserver: {why}; exiting now\n")
    sys.stderr.flush()
    os._exit(0)
