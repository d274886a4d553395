"""httpie's file request items through `hookwire http`: @file, field@file, field=@file,
field:=@file; and what is refused, by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Run


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "note.txt").write_text("line one\nline two\n", encoding="utf-8")
    (tmp_path / "meta.json").write_text('{"tags": ["a", "b"], "n": 1}', encoding="utf-8")
    (tmp_path / "payload.xml").write_bytes(b"<a>1</a>")
    (tmp_path / "pixel.png").write_bytes(bytes(range(256)))
    (tmp_path / "broken.json").write_text("{nope", encoding="utf-8")
    return tmp_path


def test_at_file_is_the_raw_body_with_a_guessed_type(hookwire: Run, mock_server, files: Path):
    r = hookwire("http", mock_server.url + "/post", f"@{files / 'payload.xml'}")
    assert r.returncode == 0, r.stderr
    echoed = json.loads(r.stdout)
    assert echoed["data"] == "<a>1</a>"
    assert echoed["headers"]["Content-Type"] in ("application/xml", "text/xml")
    typed = hookwire(
        "http", mock_server.url + "/post", f"@{files / 'payload.xml'}", "Content-Type:text/plain"
    )
    assert json.loads(typed.stdout)["headers"]["Content-Type"] == "text/plain"  # given wins


def test_field_from_text_file_and_json_from_file(hookwire: Run, mock_server, files: Path):
    r = hookwire(
        "http", mock_server.url + "/post", f"note=@{files / 'note.txt'}",
        f"meta:=@{files / 'meta.json'}", "plain=x",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["json"] == {
        "note": "line one\nline two\n", "meta": {"tags": ["a", "b"], "n": 1}, "plain": "x",
    }


def test_field_at_file_uploads_multipart_with_form(hookwire: Run, mock_server, files: Path):
    r = hookwire(
        "http", "--form", mock_server.url + "/post", "title=hi",
        f"doc@{files / 'note.txt'}", f"img@{files / 'pixel.png'};type=image/x-test",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    echoed = json.loads(r.stdout)
    assert echoed["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert echoed["form"] == {"title": "hi"}
    assert echoed["files"]["doc"] == "line one\nline two\n"
    assert "img" in echoed["files"]


def test_verbose_upload_shows_no_binary_bytes(hookwire: Run, mock_server, files: Path):
    r = hookwire("http", "-v", "--form", mock_server.url + "/post", f"img@{files / 'pixel.png'}")
    assert r.returncode == 0, r.stderr
    request, _, response = r.stdout.partition("\nHTTP/1.1 ")
    assert "\x00" not in request  # a request body is shown, never dumped: binary gets a note
    assert "NOTE: binary data not shown in terminal" in request
    assert json.loads(response.partition("\n\n")[2])["files"]["img"]  # and it was sent


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["doc@{d}/note.txt"], "file upload doc@{d}/note.txt needs --form (a multipart body)"),
        (["@{d}/payload.xml", "a=1"], "a raw body (@{d}/payload.xml) cannot be mixed with"),
        (["a=@{d}/missing.txt"], "field 'a': cannot read '{d}/missing.txt' (No such file"),
        (["a:=@{d}/broken.json"], "field 'a' in '{d}/broken.json' is not valid JSON"),
        (["a=@{d}"], "field 'a': cannot read '{d}' (Is a directory)"),
        (["@{d}/none.bin"], "raw body: cannot read '{d}/none.bin' (No such file"),
    ],
)
def test_bad_file_items_are_one_error_line(
    hookwire: Run, mock_server, files: Path, items: list[str], message: str
) -> None:
    before = mock_server.journal.count("/post")
    r = hookwire("http", mock_server.url + "/post", *[i.format(d=files) for i in items])
    assert r.returncode == 1
    assert r.stderr.startswith("error: " + message.format(d=files)), r.stderr
    assert r.stderr.count("\n") == 1
    assert mock_server.journal.count("/post") == before  # refused before anything was sent
