"""Batch jobs against live mocks: ``llm.batch``/``llm.abatch`` (sync and async), scripted faults,
the checkpoint and resuming, ``hookwire batch`` killed mid-run, the openai-batch engine, and the
official ``openai`` client on the mock's files and batches.

Faults are scenario rules keyed by an ``X-Mock-Session`` header each test sends (as in
test_router.py), so "the first N calls fail" holds for that test alone. The provider retries
nothing itself (``retry=RetryPolicy(attempts=1)``): every failure reaches the batch runner,
and the journal counts exactly what was sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from hookwire.errors import InvalidRequest, NotFoundError
from hookwire.llm import LLM
from hookwire.llm.batch import BatchItemFailed, BatchResult
from hookwire.retry import RetryPolicy

CHAT = "/v1/chat/completions"
ONCE = RetryPolicy(attempts=1)


class Session:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.id = uuid.uuid4().hex
        self.headers = {"X-Mock-Session": self.id}

    def fail(self, calls: str, **fault: Any) -> None:
        rule = {"path": CHAT, "session": self.id, "calls": calls, **fault}
        httpx.post(self.server.url + "/__mock__/scenario", json=rule).raise_for_status()

    def entries(self) -> list[Any]:
        return [e for e in self.server.journal.entries(CHAT)
                if e.headers.get("x-mock-session") == self.id]

    def item(self, i: int, **options: Any) -> dict[str, Any]:
        return {"id": f"q{i}", "prompt": f"p{i}", "extra_headers": self.headers, **options}


@pytest.fixture
def llm(mock_server: Any) -> Any:
    """A factory of LLMs on the shared mock: each run gets its own (an async run closes its
    client on its own event loop)."""

    def make(**options: Any) -> LLM:
        return LLM("openai-compatible", base_url=mock_server.openai_base_url,
                   model="mock-model", retry=ONCE, **options)

    return make


def run(make: Any, face: str, items: Any, **kwargs: Any) -> BatchResult:
    if face == "sync":
        with make() as llm:
            return llm.batch(items, **kwargs)  # type: ignore[no-any-return]

    async def go() -> BatchResult:
        async with make() as llm:
            return await llm.abatch(items, **kwargs)  # type: ignore[no-any-return]

    return asyncio.run(go())


FACES = ["sync", "async"]


@pytest.mark.parametrize("face", FACES)
def test_a_200_item_job_retries_faults_records_failures_and_keeps_order(
    mock_server: Any, llm: Any, face: str
) -> None:
    s = Session(mock_server)
    s.fail("1-10", status=503)
    s.fail("11-15", status=429, retry_after="0")
    bad = {50, 99, 120, 150, 199}  # past the first 15 calls, which the rules fail
    items = [s.item(i, **({"model": "no-such-model"} if i in bad else {})) for i in range(200)]
    seen: list[tuple[int, int, int]] = []
    result = run(llm, face, items, concurrency=8, retries=5,
                 progress=lambda *counts: seen.append(counts))

    assert [item.id for item in result] == [f"q{i}" for i in range(200)]  # input order, once
    assert {item.id for item in result.failed} == {f"q{i}" for i in bad}
    for i, item in enumerate(result):
        if i in bad:
            assert isinstance(item.error, NotFoundError) and item.attempts == 1
            assert item.line["response"]["status_code"] == 404
        else:
            assert item.ok and item.result.content == f"Echo: p{i}"
            assert item.line["response"]["status_code"] == 200
    # the 15 refused calls were each tried once more; nothing else was sent twice
    assert sum(item.attempts for item in result) == 215
    assert len(s.entries()) == 215
    assert seen[-1] == (200, 5, 200) and len(seen) == 200
    assert [c for c, _, _ in seen] == sorted(c for c, _, _ in seen)


@pytest.mark.parametrize("face", FACES)
def test_retries_run_out_and_the_item_records_the_last_error(
    mock_server: Any, llm: Any, face: str
) -> None:
    s = Session(mock_server)
    s.fail("1-99", status=503)
    result = run(llm, face, [s.item(0)], retries=2)
    (item,) = result
    assert not item.ok and item.attempts == 3 and len(s.entries()) == 3
    assert item.line["response"]["status_code"] == 503 and item.line["error"] is None


@pytest.mark.parametrize("face", FACES)
def test_resume_skips_what_the_checkpoint_holds_and_redoes_a_torn_line(
    mock_server: Any, llm: Any, face: str, tmp_path: Path
) -> None:
    s = Session(mock_server)
    items = [s.item(i) for i in range(20)]
    checkpoint = tmp_path / "job.jsonl"
    first = run(llm, face, items[:12], checkpoint=checkpoint)
    assert len(first) == 12 and not first.failed
    text = checkpoint.read_bytes()
    assert text.count(b"\n") == 12
    # a process killed mid-write leaves half a line: cut it off and redo that item
    lines = text.splitlines(keepends=True)
    torn_id = json.loads(lines[-1])["custom_id"]
    checkpoint.write_bytes(b"".join(lines[:-1]) + lines[-1][:25])
    before = len(s.entries())

    second = run(llm, face, items, checkpoint=checkpoint)

    sent = [e.body["messages"][-1]["content"] for e in s.entries()[before:]]
    expected = {f"p{i}" for i in range(12, 20)} | {"p" + torn_id[1:]}
    assert sorted(sent) == sorted(expected)  # 8 new + the torn one, each once
    assert [item.id for item in second] == [f"q{i}" for i in range(20)]
    assert all(item.ok for item in second)
    resumed = [item for item in second if item.resumed]
    assert len(resumed) == 11 and all(item.attempts == 0 for item in resumed)
    assert all(item.result.content == f"Echo: p{item.id[1:]}" for item in second)
    ids = [json.loads(raw)["custom_id"] for raw in checkpoint.read_bytes().splitlines()]
    assert sorted(ids) == sorted(f"q{i}" for i in range(20))  # one line per id, none torn


def test_resume_tries_failed_items_again_and_refuses_another_jobs_checkpoint(
    mock_server: Any, llm: Any, tmp_path: Path
) -> None:
    s = Session(mock_server)
    checkpoint = tmp_path / "job.jsonl"
    s.fail("1", status=400)
    first = run(llm, "sync", [s.item(0), s.item(1)], concurrency=1, checkpoint=checkpoint)
    assert [item.ok for item in first] == [False, True]
    second = run(llm, "sync", [s.item(0), s.item(1)], checkpoint=checkpoint)
    assert [item.ok for item in second] == [True, True] and second[1].resumed
    assert len(s.entries()) == 3
    with pytest.raises(InvalidRequest, match="another job's"):
        run(llm, "sync", [s.item(5)], checkpoint=checkpoint)
    fresh = run(llm, "sync", [s.item(5)], checkpoint=checkpoint, resume=False)
    assert fresh[0].ok and checkpoint.read_bytes().count(b"\n") == 1


def test_a_failed_item_read_back_from_a_checkpoint_is_retried_not_rebuilt(tmp_path: Path) -> None:
    from hookwire.llm.batch import _rebuilt, parse_items

    (job,) = parse_items(["x"])
    line = {"custom_id": "0", "response": None, "error": {"code": "E", "message": "m"}}
    item = _rebuilt(LLM("mock"), job, line)
    assert isinstance(item.error, BatchItemFailed) and not item.ok


def test_bad_items_are_refused_before_anything_is_sent(mock_server: Any, llm: Any) -> None:
    s = Session(mock_server)
    llm = llm()
    with pytest.raises(InvalidRequest, match="'q1' is used twice"):
        llm.batch([s.item(1), s.item(2), s.item(1)])
    with pytest.raises(InvalidRequest, match="'url' must be one of"):
        llm.batch([{"custom_id": "a", "method": "POST", "url": "/v1/responses", "body": {}}])
    with pytest.raises(InvalidRequest, match="concurrency must be"):
        llm.batch(["a"], concurrency=0)
    with pytest.raises(InvalidRequest, match="a list of items"):
        llm.batch("just one prompt")
    with pytest.raises(InvalidRequest, match="exactly one of 'prompt' and 'messages'"):
        llm.batch([{"id": "x"}])
    llm.close()
    assert s.entries() == []


@pytest.mark.parametrize("face", FACES)
def test_openai_batch_lines_for_chat_and_embeddings(llm: Any, face: str) -> None:
    lines = [
        {"custom_id": "c", "method": "POST", "url": CHAT,
         "body": {"model": "mock-model", "messages": [{"role": "user", "content": "hi"}],
                  "max_completion_tokens": 20, "stream": True}},
        {"custom_id": "e", "method": "POST", "url": "/v1/embeddings",
         "body": {"model": "mock-model", "input": "hello", "dimensions": 8}},
    ]
    chat, emb = run(llm, face, lines)
    assert chat.result.content == "Echo: hi"
    assert chat.line["response"]["body"]["object"] == "chat.completion"
    assert len(emb.result.vectors[0]) == 8
    assert emb.line["response"]["body"]["object"] == "list"


@pytest.mark.parametrize("face", FACES)
def test_a_429_retry_after_holds_the_whole_job_through_the_llms_limiter(
    mock_server: Any, llm: Any, face: str
) -> None:
    from hookwire.llm.limits import RateLimiter

    s = Session(mock_server)
    s.fail("3", status=429, retry_after="0.2")
    limiter = RateLimiter(rpm=60_000)
    result = run(lambda: llm(rate_limiter=limiter), face, [s.item(i) for i in range(40)],
                 concurrency=4)
    assert not result.failed and sum(item.attempts for item in result) == 41
    assert limiter.waits >= 1  # the other workers waited out the pause the 429 set


# -- hookwire batch, killed and resumed -----------------------------------------------------------
def _input(path: Path, n: int) -> list[str]:
    ids = [f"r{i:03d}" for i in range(n)]
    with open(path, "w") as f:
        for i, ident in enumerate(ids):
            body = {"model": "mock-model", "messages": [{"role": "user", "content": f"m{i}"}]}
            f.write(json.dumps({"custom_id": ident, "method": "POST", "url": CHAT,
                                "body": body}) + "\n")
    return ids


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hookwire.cli", "batch", *args]


@pytest.mark.slow
def test_hookwire_batch_killed_mid_run_resumes_with_one_line_per_id(
    mock_server_factory: Any, tmp_path: Path
) -> None:
    server = mock_server_factory(ttft=0.02)  # its own server: its journal is this test's
    server.reset()
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = _input(src, 200)
    partial = tmp_path / "out.jsonl.partial"
    args = _cli(str(src), str(out), "-p", "openai-compatible", "--base-url",
                server.openai_base_url, "-m", "mock-model", "-j", "4")
    env = {**os.environ, "OPENAI_API_KEY": "sk-fake"}  # pragma: allowlist secret
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if partial.exists() and partial.read_bytes().count(b"\n") >= 30:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stderr.close()  # type: ignore[union-attr]
    assert not out.exists()
    # whole lines only: the kill may have torn the last one
    finished = {json.loads(raw)["custom_id"] for raw in partial.read_bytes().split(b"\n")[:-1]}
    assert 30 <= len(finished) < 200

    done = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=60,
                          env=env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(raw) for raw in out.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == ids  # one line per id, input order
    assert all(line["response"]["status_code"] == 200 for line in lines)
    assert not partial.exists()
    sent: dict[str, int] = {}
    for entry in server.journal.entries(CHAT):
        text = entry.body["messages"][-1]["content"]
        sent[text] = sent.get(text, 0) + 1
    for ident in finished:  # a finished line was never sent again
        assert sent[f"m{int(ident[1:])}"] == 1, ident
    assert set(sent) == {f"m{i}" for i in range(200)}


# -- the openai-batch engine and the official client -------------------------------------------
def test_the_openai_batch_engine_round_trip(mock_server: Any, tmp_path: Path) -> None:
    from hookwire.cli._batch import read_input, run_openai_batch

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = _input(src, 12)
    with open(src, "a") as f:  # one line the mock refuses: a model it does not serve
        f.write(json.dumps({"custom_id": "bad", "method": "POST", "url": CHAT, "body": {
            "model": "nope", "messages": [{"role": "user", "content": "x"}]}}) + "\n")
    waits: list[float] = []
    llm = LLM("openai-compatible", base_url=mock_server.openai_base_url, model="mock-model")
    try:
        total, failed = run_openai_batch(llm, src, read_input(src), out, poll=0.01,
                                         poll_max=0.05, sleep=lambda s: (waits.append(s),
                                                                         time.sleep(s)))
    finally:
        llm.close()
    assert (total, failed) == (13, 1)
    lines = [json.loads(raw) for raw in out.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == [*ids, "bad"]
    assert lines[0]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: m0"
    assert lines[-1]["response"]["status_code"] == 404
    assert waits and waits == sorted(waits) and max(waits) <= 0.05  # backoff, capped


def test_the_openai_client_on_files_and_batches(mock_server: Any) -> None:
    openai = pytest.importorskip("openai")
    key = "sk-fake"  # pragma: allowlist secret
    client = openai.OpenAI(base_url=mock_server.openai_base_url, api_key=key, max_retries=0)
    body = {"model": "mock-model", "messages": [{"role": "user", "content": "hello"}]}
    data = "".join(json.dumps({"custom_id": f"c{i}", "method": "POST", "url": CHAT,
                               "body": body}) + "\n" for i in range(3)).encode()
    uploaded = client.files.create(file=("in.jsonl", data), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(data)
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT,
                                  completion_window="24h", metadata={"job": "t"})
    assert batch.status == "validating" and batch.metadata == {"job": "t"}
    deadline = time.monotonic() + 10
    while batch.status not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.02)
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed" and batch.request_counts.completed == 3
    assert batch.completed_at is not None and batch.error_file_id is None
    output = client.files.content(batch.output_file_id).text
    got = [json.loads(raw) for raw in output.splitlines()]
    assert [line["custom_id"] for line in got] == ["c0", "c1", "c2"]
    assert got[0]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: hello"
    assert client.files.retrieve(batch.output_file_id).purpose == "batch_output"
    assert any(b.id == batch.id for b in client.batches.list())
    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_ctrl_c_while_polling_cancels_the_batch(mock_server: Any, tmp_path: Path) -> None:
    from hookwire.cli._batch import read_input, run_openai_batch

    src = tmp_path / "in.jsonl"
    _input(src, 2)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    def cancels() -> int:
        return sum(1 for e in mock_server.journal.entries()
                   if e.path.startswith("/v1/batches/") and e.path.endswith("/cancel"))

    before = cancels()
    llm = LLM("openai-compatible", base_url=mock_server.openai_base_url, model="mock-model")
    try:
        with pytest.raises(KeyboardInterrupt):
            run_openai_batch(llm, src, read_input(src), tmp_path / "out.jsonl", poll=1,
                             poll_max=1, sleep=interrupted)
    finally:
        llm.close()
    # sent (the client may retry the 409 of a batch that had already ended)
    assert cancels() > before and not (tmp_path / "out.jsonl").exists()


def test_a_batch_lines_body_reaches_the_wire(mock_server: Any, llm: Any) -> None:
    """Chat options go as themselves, the rest of the body as extra_body (vLLM's top_k...)."""
    s = Session(mock_server)
    line = {"custom_id": "x", "method": "POST", "url": CHAT, "body": {
        "model": "mock-model", "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.5, "max_completion_tokens": 7, "top_k": 3, "stream": True}}
    seen: list[str] = []
    with llm(headers=s.headers) as made:
        (item,) = made.batch([line], on_result=lambda done: seen.append(done.id))
    assert item.ok and seen == ["x"]
    (entry,) = s.entries()
    sent = entry.body
    assert sent["temperature"] == 0.5 and sent["top_k"] == 3
    assert 7 in (sent.get("max_tokens"), sent.get("max_completion_tokens"))
    assert not sent.get("stream")
