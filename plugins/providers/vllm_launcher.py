"""Start ``vllm serve`` as a subprocess, wait until it is healthy, stream its log, stop it cleanly.

::

    with VLLMLauncher("Qwen/Qwen3-4B", port=8000, max_model_len=8192) as server:
        llm = hookwire.LLM("vllm", base_url=server.base_url, model="auto")
        print(llm.chat("你好哇"))

The seed tutorial starts vLLM by hand in a terminal and hopes it is up; here the process is
ours: it runs in its own process group (so vLLM's worker processes stop with it), its output
goes line by line to ``log`` from a reader thread, ``start()`` returns only once ``/health``
answers 200, and a process that dies during start-up or a start-up that takes too long raises
:class:`VLLMLaunchError` with the last log lines, which is where vLLM says what went wrong.
``stop()`` sends SIGTERM to the group, then SIGKILL after ``stop_timeout`` seconds. POSIX only.

``main(argv)`` is ``hookwire vllm serve MODEL [flags]``: known flags are the launcher's, every
other flag is passed to ``vllm serve`` unchanged.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import IO, Any

from hookwire.errors import ConfigError, InvalidRequest, RetryError, TransportError
from hookwire.plugin import Clock
from hookwire.timeouts import Timeout

from ._vllm_replicas import health_url

__all__ = ["VLLMLaunchError", "VLLMLauncher", "VLLMStartupTimeout", "main", "serve"]

logger = logging.getLogger("hookwire.plugins.vllm")
LOG_TAIL = 40
#: Bind addresses that mean "every interface"; a client reaches them on loopback.
#: (Compared against, never bound: hence the lint suppressions.)
_WILDCARDS = ("0.0.0.0", "", "::")  # noqa: S104  # nosec B104


class VLLMLaunchError(ConfigError):
    """``vllm serve`` could not be started or did not become healthy.

    ``.returncode`` is the exit status when the process ended (None when it was still running),
    ``.log_tail`` the last lines it printed.
    """

    _context = ("returncode", "log_tail")
    returncode: int | None
    log_tail: list[str] | None


class VLLMStartupTimeout(VLLMLaunchError):
    """The process was still not healthy when ``startup_timeout`` passed (it has been stopped)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """Whether binding ``host:port`` fails (as the server would bind: SO_REUSEADDR set)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _positive(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidRequest(f"{name} must be an integer >= 1, not {value!r}")


class VLLMLauncher:
    """One ``vllm serve`` process (see the module docstring).

    ``port=0`` picks a free port. ``log`` receives each output line (default: the
    ``hookwire.plugins.vllm`` logger at INFO). ``env`` is added to the current environment.
    ``startup_timeout`` bounds ``start()``; ``clock`` is the time source (tests pass a fake).
    """

    def __init__(
        self,
        model: str,
        *,
        port: int = 8000,
        host: str = "127.0.0.1",
        tensor_parallel_size: int | None = None,
        max_model_len: int | None = None,
        served_model_name: str | None = None,
        api_key: str | None = None,
        extra_args: Sequence[str] = (),
        executable: str = "vllm",
        env: Mapping[str, str] | None = None,
        log: Callable[[str], None] | None = None,
        startup_timeout: float = 600.0,
        stop_timeout: float = 30.0,
        poll_interval: float = 0.25,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise InvalidRequest("VLLMLauncher needs a model (a hub id or a local directory)")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidRequest(f"port must be in 0..65535, not {port!r}")
        _positive("tensor_parallel_size", tensor_parallel_size)
        _positive("max_model_len", max_model_len)
        if isinstance(extra_args, str):
            raise InvalidRequest("extra_args takes a list of arguments, not one string")
        self.model = model
        self.host = host
        self.port = port or free_port(host if host not in _WILDCARDS else "127.0.0.1")
        self.tensor_parallel_size = tensor_parallel_size
        self.max_model_len = max_model_len
        self.served_model_name = served_model_name
        self.extra_args = [str(a) for a in extra_args]
        self.executable = executable
        self.env = dict(env or {})
        if api_key:
            self.env["VLLM_API_KEY"] = api_key  # read by `vllm serve`; kept off the command line
        self.log = log or (lambda line: logger.info("vllm: %s", line))
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.clock = clock or Clock()
        self.process: subprocess.Popen[str] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL)
        self._reader: threading.Thread | None = None

    # -- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The server root (a wildcard bind is reached on loopback)."""
        host = "127.0.0.1" if self.host in _WILDCARDS else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible ``/v1`` URL, for ``hookwire.LLM("vllm", base_url=...)``."""
        return self.url + "/v1"

    def command(self) -> list[str]:
        """The ``vllm serve`` command line this launcher runs."""
        exe = shutil.which(self.executable, path=self._environ().get("PATH"))
        if exe is None:
            raise VLLMLaunchError(
                f"{self.executable!r} was not found on PATH: install vLLM (pip install vllm) "
                "or pass executable='/path/to/vllm'"
            )
        cmd = [exe, "serve", self.model, "--host", self.host, "--port", str(self.port)]
        if self.tensor_parallel_size is not None:
            cmd += ["--tensor-parallel-size", str(self.tensor_parallel_size)]
        if self.max_model_len is not None:
            cmd += ["--max-model-len", str(self.max_model_len)]
        if self.served_model_name is not None:
            cmd += ["--served-model-name", self.served_model_name]
        return cmd + self.extra_args

    def _environ(self) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}

    @property
    def log_tail(self) -> list[str]:
        """The last lines the process printed (up to 40)."""
        return list(self._tail)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    # -- start -----------------------------------------------------------------------------
    def start(self) -> VLLMLauncher:
        """Run the process and return once ``/health`` answers 200 (or raise, stopped)."""
        if self.process is not None:
            raise RuntimeError("this launcher has already started its process")
        cmd = self.command()
        if port_in_use(self.host, self.port):
            # Checked first: another server on the port would answer /health for us.
            raise VLLMLaunchError(
                f"port {self.port} on {self.host} is already in use: stop what listens there "
                "or pick another port (port=0 picks a free one)"
            )
        try:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell # nosec B603
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                env=self._environ(),
                start_new_session=True,  # its own process group: stop() reaches vLLM's workers
            )
        except OSError as exc:
            raise VLLMLaunchError(f"could not run {cmd[0]}: {exc}") from exc
        assert self.process.stdout is not None
        self._reader = threading.Thread(
            target=self._read, args=(self.process.stdout,), name="hookwire-vllm-log", daemon=True
        )
        self._reader.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _read(self, stream: IO[str]) -> None:
        for raw in stream:
            line = raw.rstrip("\r\n")
            self._tail.append(line)
            try:
                self.log(line)
            except Exception:  # a broken log callback must not stop draining the pipe
                logger.exception("vllm log callback failed")
        stream.close()

    def _tail_text(self) -> str:
        if self._reader is not None:
            self._reader.join(1.0)  # the process has ended: let the reader drain the pipe
        lines = self.log_tail[-15:]
        return "\n  ".join(lines) if lines else "(no output)"

    def wait_healthy(self) -> None:
        """Poll ``/health`` until 200; raise if the process exits or the timeout passes."""
        import hookwire

        deadline = self.clock.monotonic() + self.startup_timeout
        timeout = Timeout(connect=1.0, read=5.0, write=5.0, pool=5.0)
        with hookwire.Client(retry=0, timeout=timeout, clock=self.clock) as client:
            while True:
                code = self.process.poll() if self.process is not None else None
                if code is not None:
                    raise VLLMLaunchError(
                        f"vllm serve exited with status {code} before it was healthy; "
                        f"last output:\n  {self._tail_text()}",
                        returncode=code,
                        log_tail=self.log_tail,
                    )
                with contextlib.suppress(TransportError, RetryError):
                    healthy = client.get(health_url(self.base_url)).status_code == 200
                    if healthy and self.process is not None and self.process.poll() is None:
                        return
                if self.clock.monotonic() >= deadline:
                    raise VLLMStartupTimeout(
                        f"vllm serve was not healthy at {self.url}/health after "
                        f"{self.startup_timeout:g}s; last output:\n  {self._tail_text()}",
                        returncode=None,
                        log_tail=self.log_tail,
                    )
                self.clock.sleep(self.poll_interval)

    # -- stop ------------------------------------------------------------------------------
    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM the process group, SIGKILL after ``timeout`` (default ``stop_timeout``).

        Returns the exit status (negative: killed by that signal); safe to call twice.
        """
        process = self.process
        if process is None:
            return None
        grace = self.stop_timeout if timeout is None else timeout
        if process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                self.log(f"[hookwire] vllm did not stop within {grace:g}s; sending SIGKILL")
                self._signal(signal.SIGKILL)
                process.wait()
        self._signal(signal.SIGKILL, quiet=True)  # any worker left behind in the group
        if self._reader is not None:
            self._reader.join(5.0)
        return process.returncode

    def _signal(self, sig: signal.Signals, quiet: bool = False) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            if not quiet:
                with contextlib.suppress(ProcessLookupError):
                    self.process.send_signal(sig)

    def wait(self) -> int:
        """Block until the process ends on its own; its exit status."""
        if self.process is None:
            raise RuntimeError("the launcher has not been started")
        return self.process.wait()

    def __enter__(self) -> VLLMLauncher:
        return self.start() if self.process is None else self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped" if self.process else "not started"
        return f"<VLLMLauncher {self.model!r} {self.url} {state}>"


def serve(
    model: str,
    *,
    ready: Callable[[VLLMLauncher], None] | None = None,
    **options: Any,
) -> int:
    """Start vLLM, call ``ready(launcher)`` once healthy, run until it exits or Ctrl-C.

    Returns the process's exit status (0 after Ctrl-C/SIGTERM and a clean stop). Options are
    :class:`VLLMLauncher`'s.
    """
    launcher = VLLMLauncher(model, **options)
    previous = signal.getsignal(signal.SIGTERM)
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:  # SIGTERM to us stops vLLM too (as Ctrl-C does)
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with launcher:
            if ready is not None:
                ready(launcher)
            try:
                return launcher.wait()
            except KeyboardInterrupt:
                code = launcher.stop()
                return 0 if code in (0, -signal.SIGTERM) else (code or 0)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """``hookwire vllm serve MODEL [--port P] [--host H] [-tp N] [--max-model-len N] ...``."""
    parser = argparse.ArgumentParser(
        prog="hookwire vllm serve",
        description="Start `vllm serve` and wait until it is healthy; other flags pass through.",
    )
    parser.add_argument("model")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tensor-parallel-size", "-tp", type=int, default=None)
    parser.add_argument("--max-model-len", type=int, default=None)
    parser.add_argument("--served-model-name", default=None)
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    parser.add_argument("--executable", default="vllm")
    args, passthrough = parser.parse_known_args(list(argv) if argv is not None else None)

    def ready(launcher: VLLMLauncher) -> None:
        print(f"vLLM is ready: {launcher.base_url} (Ctrl-C stops it)", file=sys.stderr, flush=True)

    try:
        return serve(
            args.model, ready=ready, port=args.port, host=args.host,
            tensor_parallel_size=args.tensor_parallel_size, max_model_len=args.max_model_len,
            served_model_name=args.served_model_name, startup_timeout=args.startup_timeout,
            executable=args.executable, extra_args=passthrough,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )  # fmt: skip
    except (VLLMLaunchError, InvalidRequest) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
