"""`mkdocs build --strict` passes (no broken link, no page missing from nav, no bad docstring),
and the built API reference documents what a reader looks for, each with its signature and
docstring.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: page -> objects it must document (the ids mkdocstrings gives their headings)
REFERENCE = {
    "sdk": [
        "hookwire._client.Client", "hookwire._client.AsyncClient", "hookwire._models.Request",
        "hookwire._models.Response", "hookwire.timeouts.Timeout", "hookwire.retry.RetryPolicy",
    ],
    "llm": [
        "hookwire.llm.facade.LLM", "hookwire.llm.conversation.Conversation",
        "hookwire.llm.types.ChatResult", "hookwire.llm.provider.Provider",
    ],
    "auth": [
        "hookwire.auth.Auth", "hookwire.auth.BasicAuth", "hookwire.auth.BearerAuth",
        "hookwire.auth.APIKeyAuth", "hookwire._digest_auth.DigestAuth", "hookwire.auth.ProxyAuth",
    ],
    "plugin": [
        "hookwire.registry.PluginHost", "hookwire.registry.TransportEntry",
        "hookwire.registry.TransportRegister", "hookwire.transports.BaseTransport",
        "hookwire.transports.TransportOptions", "hookwire._decoders.ContentDecoder",
    ],
    "mockserver": [
        "hookwire.mockserver.pytest_plugin", "hookwire.mockserver.server.LiveServer",
    ],
}
#: a module, and classes built with no arguments (base classes, protocols): no signature shown
NO_SIGNATURE = {
    "hookwire.mockserver.pytest_plugin",
    "hookwire.auth.Auth",
    "hookwire.registry.TransportRegister",
    "hookwire.transports.BaseTransport",
}
#: members that must appear inside their parent's section
MEMBERS = {
    "hookwire._client.Client": ["get", "post", "stream", "send", "close"],
    "hookwire._client.AsyncClient": ["get", "stream", "aclose"],
    "hookwire.llm.facade.LLM": ["chat", "stream", "achat", "astream", "conversation"],
    "hookwire.registry.PluginHost": ["transport", "transport_factory", "lookup"],
    "hookwire.mockserver.pytest_plugin": ["mock_server", "respx_mock_server"],
}




def _section(page: str, object_id: str) -> str:
    """The HTML of one documented object: from its heading to the next object at its level."""
    start = page.find(f'id="{object_id}"')
    assert start >= 0, f"{object_id} is not documented"
    level = page[page.rfind("<h", 0, start) + 2]
    end = page.find(f"<h{level} id=", start + 1)
    return page[start : end if end > 0 else len(page)]


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_mkdocs_build_strict(site: Path) -> None:
    assert (site / "index.html").exists()
    assert (site / "reference" / "llm" / "index.html").exists()


@pytest.mark.parametrize(
    ("page_name", "object_id"),
    [(page, obj) for page, objects in REFERENCE.items() for obj in objects],
)
def test_reference_documents_the_object_with_signature_and_docstring(
    site: Path, page_name: str, object_id: str
) -> None:
    page = (site / "reference" / page_name / "index.html").read_text()
    section = _section(page, object_id)
    heading = _text(section[: section.find("</h")])
    if object_id not in NO_SIGNATURE:
        assert "(" in heading and ")" in heading, f"{object_id}: no signature in {heading!r}"
    prose = re.findall(r"<p>(.*?)</p>", section, re.S)
    assert prose and len(_text(prose[0]).split()) >= 3, f"{object_id}: no docstring"
    for member in MEMBERS.get(object_id, []):
        assert f'id="{object_id}.{member}"' in section, f"{object_id}.{member} missing"
