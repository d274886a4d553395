"""``hookwire batch IN.jsonl OUT.jsonl``: an OpenAI batch input file in, its output file out.

IN holds OpenAI batch request lines (``{"custom_id", "method": "POST", "url":
"/v1/chat/completions" | "/v1/embeddings", "body"}``), OUT gets one output line per input line,
in input order (``{"id", "custom_id", "response": {"status_code", "request_id", "body"},
"error"}``), so the same files go to the Batch API and to ``vllm run-batch``. Three engines:

- ``local`` (default): ``LLM.batch`` with ``--concurrency``, ``--rpm``/``--tpm`` and
  retries; finished lines are appended to ``OUT.partial`` as they end (the checkpoint), and
  OUT is written from it, in input order, when every line is done. A killed run resumes
  (``--resume``, the default): lines that succeeded are not sent again.
- ``openai-batch``: uploads IN to ``/v1/files`` (purpose ``batch``), creates a batch
  (``completion_window: 24h``), polls it with backoff until it ends, downloads its output and
  error files and writes OUT in input order.
- ``vllm``: runs ``vllm run-batch -i IN -o OUT --model M`` where vLLM is installed, and says
  which command to run elsewhere where it is not.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import typer

from hookwire.cli import _llm
from hookwire.cli._errors import CLIError
from hookwire.cli._help import add_command
from hookwire.cli._output import is_tty, notice

ENGINES = ("local", "openai-batch", "vllm")
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings")


# -- files --------------------------------------------------------------------------------------
def read_input(path: Path) -> list[dict[str, Any]]:
    """The request lines of IN; a line that is not a JSON object is an error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}", exit_code=2) from exc
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as exc:
            raise CLIError(f"{path}, line {number}: not JSON ({exc})", exit_code=2) from exc
        if not isinstance(line, dict):
            raise CLIError(f"{path}, line {number}: expected a JSON object", exit_code=2)
        lines.append(line)
    if not lines:
        raise CLIError(f"{path} holds no request lines", exit_code=2)
    return lines


def write_output(path: Path, lines: list[dict[str, Any]]) -> None:
    """OUT, whole or not at all: written beside it, flushed, then renamed over it."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def in_input_order(requests: list[dict[str, Any]], found: dict[str, dict[str, Any]],
                   missing: str) -> list[dict[str, Any]]:
    """One output line per request, in input order; an id with no line gets an error line."""
    out = []
    for request in requests:
        ident = str(request.get("custom_id"))
        line = found.get(ident)
        if line is None:
            line = {"id": f"batch_req_missing_{ident}", "custom_id": ident, "response": None,
                    "error": {"code": "missing_output", "message": missing}}
        out.append(line)
    return out


# -- progress -----------------------------------------------------------------------------------
class Bar:
    """A progress bar on stderr: redrawn in place on a terminal, else a line per tenth."""

    WIDTH = 30

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.live = is_tty(self.stream)
        self.start = time.monotonic()
        self._shown = -1

    def __call__(self, completed: int, failed: int, total: int) -> None:
        if not self.live:
            tenth = completed * 10 // max(total, 1)
            if tenth == self._shown and completed != total:
                return
            self._shown = tenth
        filled = self.WIDTH * completed // max(total, 1)
        rate = completed / max(time.monotonic() - self.start, 1e-9)
        text = (f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {completed}/{total}"
                f" ({failed} failed, {rate:.0f}/s)")
        self.stream.write(("\r" + text) if self.live else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


# -- engines ------------------------------------------------------------------------------------
def run_local(llm: Any, requests: list[dict[str, Any]], out: Path, *, concurrency: int,
              retries: int, resume: bool) -> tuple[int, int]:
    checkpoint = out.with_name(out.name + ".partial")
    bar = Bar()
    try:
        result = llm.batch(requests, concurrency=concurrency, retries=retries,
                           checkpoint=checkpoint, resume=resume, progress=bar)
    finally:
        bar.close()
    write_output(out, result.lines())
    with contextlib.suppress(FileNotFoundError):
        checkpoint.unlink()
    return len(result), len(result.failed)


def _api(llm: Any) -> tuple[Any, Any]:
    provider = llm.provider
    url = getattr(provider, "url", None)
    client = getattr(provider, "client", None)
    if not callable(url) or client is None:
        raise CLIError(f"--engine openai-batch needs an OpenAI-compatible provider with a "
                       f"base URL, not {llm.name!r}", exit_code=2)
    return url, client


def _json(response: Any, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise CLIError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    data = response.json()
    if not isinstance(data, dict):
        raise CLIError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def _lines_of(text: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for raw in text.splitlines():
        if raw.strip():
            line = json.loads(raw)
            found[str(line.get("custom_id"))] = line
    return found


def run_openai_batch(llm: Any, source: Path, requests: list[dict[str, Any]], out: Path, *,
                     poll: float, poll_max: float, sleep: Any = time.sleep) -> tuple[int, int]:
    """Upload, create, poll (``poll`` seconds, x1.5 each time up to ``poll_max``), download."""
    url, client = _api(llm)
    endpoints = {str(r.get("url")) for r in requests}
    if len(endpoints) != 1 or not endpoints <= set(ENDPOINTS):
        raise CLIError(f"a batch has one endpoint ({' or '.join(ENDPOINTS)}); {source} has "
                       f"{', '.join(sorted(endpoints))}", exit_code=2)
    uploaded = _json(client.post(url("/files"), data={"purpose": "batch"},
                                 files={"file": (source.name if source.suffix == ".jsonl"
                                                 else "input.jsonl", source.read_bytes(),
                                                 "application/jsonl")}), "upload")
    batch = _json(client.post(url("/batches"), json={
        "input_file_id": uploaded["id"], "endpoint": endpoints.pop(),
        "completion_window": "24h"}), "create batch")
    notice(f"batch {batch['id']}: {batch.get('status')}")
    bar = Bar()
    wait = poll
    try:
        while batch.get("status") not in TERMINAL:  # unknown statuses (in_queue) wait too
            sleep(wait)
            wait = min(wait * 1.5, poll_max)
            batch = _json(client.get(url(f"/batches/{batch['id']}")), "poll batch")
            counts = batch.get("request_counts") or {}
            if counts.get("total"):
                done = int(counts.get("completed", 0)) + int(counts.get("failed", 0))
                bar(done, int(counts.get("failed", 0)), int(counts["total"]))
    except KeyboardInterrupt:  # Ctrl-C: the batch would otherwise run (and bill) on
        with contextlib.suppress(Exception):
            client.post(url(f"/batches/{batch['id']}/cancel"))
            notice(f"batch {batch['id']}: cancel requested")
        raise
    finally:
        bar.close()
    status = batch["status"]
    if status == "failed":
        errors = (batch.get("errors") or {}).get("data") or []
        detail = "; ".join(f"line {e.get('line')}: {e.get('message')}" for e in errors[:3])
        raise CLIError(f"batch {batch['id']} failed: {detail or 'no errors given'}")
    found: dict[str, dict[str, Any]] = {}
    for key in ("output_file_id", "error_file_id"):
        if batch.get(key):
            response = client.get(url(f"/files/{batch[key]}/content"))
            if response.status_code >= 400:
                raise CLIError(f"download {batch[key]}: HTTP {response.status_code}")
            found.update(_lines_of(response.text))
    lines = in_input_order(requests, found, f"the batch ended {status} without this line")
    write_output(out, lines)
    failed = sum(1 for line in lines if not _ok(line))
    if status != "completed":
        notice(f"batch {batch['id']} ended {status}")
    return len(lines), failed


def _ok(line: dict[str, Any]) -> bool:
    response = line.get("response")
    return line.get("error") is None and isinstance(response, dict) and \
        response.get("status_code") == 200


def vllm_command(source: Path, out: Path, model: str, extra: list[str] | None = None) -> list[str]:
    """The ``vllm run-batch`` command line for IN/OUT and the model."""
    return ["vllm", "run-batch", "-i", str(source), "-o", str(out), "--model", model,
            *(extra or [])]


def run_vllm(source: Path, out: Path, model: str | None) -> None:
    if not model:
        raise CLIError("--engine vllm needs --model (the model vLLM loads)", exit_code=2)
    command = vllm_command(source, out, model)
    shown = shlex.join(command)
    if importlib.util.find_spec("vllm") is None:
        raise CLIError(f"vLLM is not installed here (pip install vllm, on a machine with a "
                       f"GPU); run there: {shown}", exit_code=3)
    exe = shutil.which("vllm")
    if exe is None:
        command = [sys.executable, "-m", "vllm.entrypoints.cli.main", *command[1:]]
    notice(f"running: {shown}")
    # our own argv, no shell
    code = subprocess.call(command)  # noqa: S603  # nosec B603
    if code:
        raise CLIError(f"vllm run-batch exited with {code}", exit_code=code)


# -- the command --------------------------------------------------------------------------------
def batch(
    source: Path = typer.Argument(..., metavar="IN", help="OpenAI batch input file (JSONL)."),
    out: Path = typer.Argument(..., metavar="OUT", help="Output file (JSONL, input order)."),
    engine: str = typer.Option("local", "--engine", "-e",
                               help="local, openai-batch (the Batch API) or vllm."),
    provider: str | None = typer.Option(None, "--provider", "-p", help="Provider name."),
    model: str | None = typer.Option(None, "--model", "-m", help="Model name."),
    base_url: str | None = typer.Option(None, "--base-url", help="Server base URL (…/v1)."),
    concurrency: int = typer.Option(16, "--concurrency", "-j", min=1,
                                    help="Requests in flight at once (local)."),
    rpm: float | None = typer.Option(None, "--rpm", min=0.001, help="Requests per minute."),
    tpm: float | None = typer.Option(None, "--tpm", min=1, help="Tokens per minute."),
    retries: int = typer.Option(3, "--retries", min=0,
                                help="Tries again per line after 429/5xx/timeouts (local)."),
    resume: bool = typer.Option(True, "--resume/--no-resume",
                                help="Skip lines OUT.partial holds as done (local)."),
    poll: float = typer.Option(1.0, "--poll", min=0.01,
                               help="First wait between polls, seconds (openai-batch)."),
    poll_max: float = typer.Option(60.0, "--poll-max", min=0.01,
                                   help="Longest wait between polls (openai-batch)."),
) -> None:
    """Run an OpenAI batch file: locally, on the Batch API, or with vllm run-batch."""
    if engine not in ENGINES:
        raise CLIError(f"--engine takes {', '.join(ENGINES)}, not {engine!r}", exit_code=2)
    if engine == "vllm":
        run_vllm(source, out, model)
        return
    requests = read_input(source)
    options: dict[str, Any] = {k: v for k, v in {"rpm": rpm, "tpm": tpm}.items()
                               if v is not None}
    llm = _llm.build_llm(provider, model, base_url, **options)
    try:
        with _llm.hinting(llm):
            if engine == "local":
                if model is not None:  # --model applies to every line
                    requests = [_with_model(r, model) for r in requests]
                total, failed = run_local(llm, requests, out, concurrency=concurrency,
                                          retries=retries, resume=resume)
            else:
                total, failed = run_openai_batch(llm, source, requests, out, poll=poll,
                                                 poll_max=poll_max)
    finally:
        with contextlib.suppress(Exception):
            llm.close()
    notice(f"{total} lines: {total - failed} succeeded, {failed} failed -> {out}")


def _with_model(request: dict[str, Any], model: str) -> dict[str, Any]:
    body = request.get("body")
    if isinstance(body, dict):
        return {**request, "body": {**body, "model": model}}
    return request


def register(app: typer.Typer) -> None:
    add_command(app, "batch", batch)
