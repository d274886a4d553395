"""The mock's /v1/files and /v1/batches: shapes checked against the official OpenAI spec
(``OpenAIFile``, ``Batch`` and their lists), the status walk, cancel, expiry, failed files and
the caps, over a live server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hookwire.mockserver.limits import Limits
from tests.mockserver._openai_spec import validate

CHAT = "/v1/chat/completions"


def chat_line(i: int, **body: Any) -> dict[str, Any]:
    return {"custom_id": f"c{i}", "method": "POST", "url": CHAT,
            "body": {"model": "mock-model", "messages": [{"role": "user", "content": f"m{i}"}],
                     **body}}


def jsonl(lines: list[Any]) -> bytes:
    return b"".join((json.dumps(x) if not isinstance(x, bytes) else x.decode()).encode() + b"\n"
                    for x in lines)


@pytest.fixture
def client(mock_server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_server.url, timeout=10) as c:
        yield c


def upload(client: httpx.Client, data: bytes, purpose: str = "batch",
           name: str = "in.jsonl") -> dict[str, Any]:
    r = client.post("/v1/files", data={"purpose": purpose}, files={"file": (name, data)})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def create(client: httpx.Client, file_id: str, endpoint: str = CHAT,
           **headers: str) -> httpx.Response:
    return client.post("/v1/batches", json={"input_file_id": file_id, "endpoint": endpoint,
                                            "completion_window": "24h"}, headers=headers)


def wait(client: httpx.Client, batch_id: str, until: frozenset[str] = frozenset(
        {"completed", "failed", "expired", "cancelled"})) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        batch = client.get(f"/v1/batches/{batch_id}").json()
        validate("Batch", batch)
        if batch["status"] in until or time.monotonic() > deadline:
            return batch  # type: ignore[no-any-return]
        time.sleep(0.01)


def content(client: httpx.Client, file_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/v1/files/{file_id}/content")
    assert r.status_code == 200
    return [json.loads(raw) for raw in r.text.splitlines()]


def test_files_upload_list_retrieve_content_delete(client: httpx.Client) -> None:
    data = jsonl([chat_line(0)])
    made = upload(client, data)
    validate("OpenAIFile", made)
    assert made["object"] == "file" and made["bytes"] == len(data) and made["purpose"] == "batch"
    assert made["filename"] == "in.jsonl"
    listing = client.get("/v1/files", params={"purpose": "batch", "limit": 1}).json()
    validate("ListFilesResponse", listing)
    assert listing["data"][0]["id"] == made["id"]  # newest first
    assert client.get(f"/v1/files/{made['id']}").json() == made
    assert client.get(f"/v1/files/{made['id']}/content").content == data
    gone = client.delete(f"/v1/files/{made['id']}").json()
    validate("DeleteFileResponse", gone)
    assert gone == {"id": made["id"], "object": "file", "deleted": True}
    missing = client.get(f"/v1/files/{made['id']}")
    assert missing.status_code == 404 and made["id"] in missing.json()["error"]["message"]
    validate("ErrorResponse", missing.json())


def test_an_upload_with_expires_after(client: httpx.Client) -> None:
    r = client.post("/v1/files", data={"purpose": "batch", "expires_after[anchor]": "created_at",
                                       "expires_after[seconds]": "3600"},
                    files={"file": ("in.jsonl", b"{}\n")})
    made = r.json()
    validate("OpenAIFile", made)
    assert made["expires_at"] == made["created_at"] + 3600


@pytest.mark.parametrize(("form", "files", "param"), [
    ({"purpose": "nonsense"}, {"file": ("in.jsonl", b"{}")}, "purpose"),
    ({"purpose": "batch"}, None, "file"),
    ({"purpose": "batch"}, {"file": ("in.csv", b"{}")}, "file"),
    ({"purpose": "batch", "expires_after[anchor]": "created_at",
      "expires_after[seconds]": "5"}, {"file": ("in.jsonl", b"{}")}, "expires_after"),
], ids=["purpose", "no-file", "not-jsonl", "expiry"])
def test_bad_uploads_are_400s_naming_the_field(client: httpx.Client, form: dict[str, str],
                                               files: Any, param: str) -> None:
    if files is None:  # a multipart body with the purpose only
        r = client.post("/v1/files", files={"purpose": (None, b"batch")})
    else:
        r = client.post("/v1/files", data=form, files=files)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


def test_an_upload_that_is_not_multipart_is_refused(client: httpx.Client) -> None:
    r = client.post("/v1/files", json={"purpose": "batch"})
    assert r.status_code == 400 and "multipart/form-data" in r.text


def test_a_batch_walks_validating_to_completed_with_output_and_error_files(
    client: httpx.Client,
) -> None:
    lines = [chat_line(i) for i in range(5)] + [chat_line(5, model="nope"),
                                                chat_line(6, stream=True)]
    file = upload(client, jsonl(lines))
    r = create(client, file["id"])
    assert r.status_code == 200, r.text
    created = r.json()
    validate("Batch", created)
    assert created["status"] == "validating" and created["completion_window"] == "24h"
    assert created["expires_at"] == created["created_at"] + 24 * 3600
    batch = wait(client, created["id"])
    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 7, "completed": 5, "failed": 2}
    for key in ("in_progress_at", "finalizing_at", "completed_at"):
        assert batch[key] >= batch["created_at"]
    assert batch["model"] == "mock-model"
    done = content(client, batch["output_file_id"])
    assert [line["custom_id"] for line in done] == [f"c{i}" for i in range(5)]
    for line in done:
        assert set(line) == {"id", "custom_id", "response", "error"} and line["error"] is None
        assert line["response"]["status_code"] == 200 and line["response"]["request_id"]
        validate("CreateChatCompletionResponse", line["response"]["body"])
    assert done[2]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: m2"
    errors = {line["custom_id"]: line for line in content(client, batch["error_file_id"])}
    assert errors["c5"]["response"]["status_code"] == 404
    assert errors["c6"]["response"]["status_code"] == 400
    assert "stream" in errors["c6"]["response"]["body"]["error"]["message"]
    output_file = client.get(f"/v1/files/{batch['output_file_id']}").json()
    validate("OpenAIFile", output_file)
    assert output_file["purpose"] == "batch_output"


def test_an_embeddings_batch(client: httpx.Client) -> None:
    line = {"custom_id": "e", "method": "POST", "url": "/v1/embeddings",
            "body": {"model": "mock-model", "input": ["a", "b"], "dimensions": 4}}
    batch = wait(client, create(client, upload(client, jsonl([line]))["id"],
                                "/v1/embeddings").json()["id"])
    (out,) = content(client, batch["output_file_id"])
    validate("CreateEmbeddingResponse", out["response"]["body"])
    assert len(out["response"]["body"]["data"]) == 2


def test_a_bad_input_file_fails_the_batch_naming_the_lines(client: httpx.Client) -> None:
    lines: list[Any] = [chat_line(0), b"not json", chat_line(0),
                        {**chat_line(3), "url": "/v1/embeddings"},
                        {**chat_line(4), "method": "GET"}]
    batch = wait(client, create(client, upload(client, jsonl(lines))["id"]).json()["id"])
    assert batch["status"] == "failed" and "failed_at" in batch
    assert [e["line"] for e in batch["errors"]["data"]] == [2, 3, 4, 5]
    assert "used twice" in batch["errors"]["data"][1]["message"]
    assert "output_file_id" not in batch


def test_cancel_keeps_what_ran_and_lists_the_rest_as_cancelled(client: httpx.Client) -> None:
    file = upload(client, jsonl([chat_line(i) for i in range(50)]))
    batch = create(client, file["id"], **{"X-Mock-Batch-Seconds": "5"}).json()
    wait(client, batch["id"], frozenset({"in_progress"}))
    cancelling = client.post(f"/v1/batches/{batch['id']}/cancel").json()
    validate("Batch", cancelling)
    assert cancelling["status"] == "cancelling" and "cancelling_at" in cancelling
    final = wait(client, batch["id"])
    assert final["status"] == "cancelled" and "cancelled_at" in final
    counts = final["request_counts"]
    assert counts["completed"] < 50 and counts["failed"] == 0
    rest = content(client, final["error_file_id"])
    assert len(rest) == 50 - counts["completed"]
    assert {line["error"]["code"] for line in rest} == {"batch_cancelled"}
    again = client.post(f"/v1/batches/{batch['id']}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_a_batch_past_its_window_expires(client: httpx.Client) -> None:
    file = upload(client, jsonl([chat_line(i) for i in range(3)]))
    batch = create(client, file["id"], **{"X-Mock-Batch-Expires-In": "0"}).json()
    final = wait(client, batch["id"])
    assert final["status"] == "expired" and "expired_at" in final
    assert {line["error"]["code"] for line in content(client, final["error_file_id"])} == {
        "batch_expired"}


@pytest.mark.parametrize(("body", "status", "param"), [
    ({"endpoint": "/v1/responses"}, 400, "endpoint"),
    ({"endpoint": "/v1/nothing"}, 400, "endpoint"),
    ({"completion_window": "1h"}, 400, "completion_window"),
    ({"input_file_id": "file-missing"}, 404, "input_file_id"),
    ({"metadata": {"k": 1}}, 400, "metadata"),
], ids=["unsupported", "unknown", "window", "no-file", "metadata"])
def test_bad_batch_creates(client: httpx.Client, body: dict[str, Any], status: int,
                           param: str) -> None:
    file = upload(client, jsonl([chat_line(0)]))
    request = {"input_file_id": file["id"], "endpoint": CHAT, "completion_window": "24h", **body}
    r = client.post("/v1/batches", json=request)
    assert r.status_code == status, r.text
    assert r.json()["error"]["param"] == param


def test_an_input_file_must_have_purpose_batch(client: httpx.Client) -> None:
    file = upload(client, b"{}", purpose="user_data", name="x.txt")
    r = create(client, file["id"])
    assert r.status_code == 400 and "purpose" in r.text


def test_list_batches_pages(client: httpx.Client) -> None:
    file = upload(client, jsonl([chat_line(0)]))
    ids = [create(client, file["id"]).json()["id"] for _ in range(3)]
    page = client.get("/v1/batches", params={"limit": 2}).json()
    validate("ListBatchesResponse", page)
    assert [b["id"] for b in page["data"]] == ids[::-1][:2] and page["has_more"]
    rest = client.get("/v1/batches", params={"limit": 100, "after": page["last_id"]}).json()
    assert rest["data"][0]["id"] == ids[0]
    assert client.get("/v1/batches", params={"limit": 0}).status_code == 400
    assert client.get("/v1/batches/batch_nope").status_code == 404


def test_the_caps_bound_batches_and_files(mock_server_factory: Any) -> None:
    server = mock_server_factory(limits=Limits(batch_requests=2, stored_files=3))
    with httpx.Client(base_url=server.url, timeout=10) as c:
        file = upload(c, jsonl([chat_line(i) for i in range(3)]))
        batch = wait(c, create(c, file["id"]).json()["id"])
        assert batch["status"] == "failed"
        assert "batch_requests=2" in batch["errors"]["data"][0]["message"]
        upload(c, b"{}\n")
        upload(c, b"{}\n")
        r = c.post("/v1/files", data={"purpose": "batch"}, files={"file": ("x.jsonl", b"{}")})
        assert r.status_code == 400 and "stored_files=3" in r.text


def test_the_vllm_dialect_serves_batches_with_its_error_shape(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="vllm")
    with httpx.Client(base_url=server.url, timeout=10) as c:
        model = c.get("/v1/models").json()["data"][0]["id"]
        line = {**chat_line(0), "body": {"model": model, "messages": [
            {"role": "user", "content": "hi"}]}}
        batch = wait(c, create(c, upload(c, jsonl([line, chat_line(1, model="nope")]))["id"])
                     .json()["id"])
        assert batch["request_counts"] == {"total": 2, "completed": 1, "failed": 1}
        (error,) = content(c, batch["error_file_id"])
        assert error["response"]["body"]["error"]["code"] == 404  # vLLM's numeric code
        assert c.get("/v1/files/file-x").json()["error"]["code"] == 404


def test_a_batch_whose_output_outgrows_the_file_store_fails(mock_server_factory: Any) -> None:
    server = mock_server_factory(limits=Limits(stored_file_bytes=3000))
    with httpx.Client(base_url=server.url, timeout=10) as c:
        file = upload(c, jsonl([chat_line(i) for i in range(10)]))
        batch = wait(c, create(c, file["id"]).json()["id"])
        assert batch["status"] == "failed"
        (error,) = batch["errors"]["data"]
        assert error["code"] == "output_too_large" and "stored_file_bytes=3000" in error["message"]
