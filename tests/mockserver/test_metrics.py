"""/metrics in Prometheus text format."""

from __future__ import annotations

import re

import httpx

from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.server import LiveServer

LINE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? [0-9.e+-]+$')


def test_counts_and_histogram():
    with LiveServer(MockConfig()) as srv:
        for _ in range(3):
            httpx.get(srv.url + "/v1/models")
        httpx.get(srv.url + "/v1/models", headers={"X-Mock-Fault": "status=503"})
        httpx.get(srv.url + "/v1/models/mock-model")
        r = httpx.get(srv.url + "/metrics")
    assert r.headers["content-type"].startswith("text/plain")
    lines = [x for x in r.text.splitlines() if x and not x.startswith("#")]
    assert all(LINE.match(x) for x in lines), [x for x in lines if not LINE.match(x)]
    assert 'mock_requests_total{method="GET",path="/v1/models",status="200"} 3' in lines
    assert 'mock_requests_total{method="GET",path="/v1/models",status="503"} 1' in lines
    assert 'mock_requests_total{method="GET",path="/v1/models/{model}",status="200"} 1' in lines
    assert 'mock_request_duration_seconds_count{path="/v1/models"} 4' in lines
    assert 'mock_request_duration_seconds_bucket{path="/v1/models",le="+Inf"} 4' in lines
    assert "/metrics" not in r.text  # scraping does not count itself
