"""Unknown options are refused when the object or request is built, naming the option
(issue 10, class 4): never a later ``TypeError`` naming an internal function."""

from __future__ import annotations

import asyncio

import pytest

import hookwire
from hookwire.errors import InvalidRequest


@pytest.fixture(scope="module")
def llm():
    with hookwire.LLM("mock") as model:
        yield model


@pytest.mark.parametrize("provider", ["mock", "openai-compatible", "vllm"])
def test_an_unknown_constructor_option_is_refused_by_name(provider, mock_server):
    # a misspelt rpm= (which LLM takes: tests/sdk/test_rate_limits.py)
    with pytest.raises(InvalidRequest, match=r"LLM\('\S+'\) does not take 'rmp'"):
        hookwire.LLM(provider, base_url=mock_server.openai_base_url, model="m", rmp=60)


@pytest.mark.parametrize("method", ["chat", "stream"])
def test_an_unknown_chat_option_is_refused_by_name(llm, method):
    with pytest.raises(InvalidRequest, match=rf"llm\.{method}\(\) does not take 'attachments'"):
        getattr(llm, method)("hi", attachments=["a.png"])


def test_an_unknown_async_chat_option_is_refused_by_name(llm):
    with pytest.raises(InvalidRequest, match=r"llm\.achat\(\) does not take 'attachments'"):
        asyncio.run(llm.achat("hi", attachments=["a.png"]))
    with pytest.raises(InvalidRequest, match=r"llm\.astream\(\) does not take 'attachments'"):
        llm.astream("hi", attachments=["a.png"])


def test_chat_with_stream_true_points_at_stream(llm):
    with pytest.raises(InvalidRequest, match=r"use llm\.stream\(\.\.\.\) to stream"):
        llm.chat("hi", stream=True)
    with pytest.raises(InvalidRequest, match=r"use llm\.astream\(\.\.\.\) to stream"):
        asyncio.run(llm.achat("hi", stream=True))


def test_known_options_still_work(llm):
    assert llm.chat("hi", temperature=0.2, max_tokens=5, seed=1).content
