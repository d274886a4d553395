"""Every endpoint of the mock server, in one table: to add an endpoint, add its line here.

`MockApp` builds all of its lookups (exact paths, fast views, the parametrized matcher) from
`ROUTES` when it is constructed, or from the list given as `MockApp(config, routes=...)`;
`hookwire.mockserver.httpbin.ROUTES`/`STATIC`/`FAST` are the httpbin rows of this table.
Paths use starlette syntax (``{n:int}``, ``{rest:path}``). Exact paths win over parametrized
ones, and parametrized ones are tried in the order listed here. The route kinds are described
in `hookwire.mockserver.routing`.
"""

from __future__ import annotations

from hookwire.mockserver import control
from hookwire.mockserver.httpbin import (
    auth,
    caching,
    cookies,
    dynamic,
    formats,
    gohttpbin,
    images,
    methods,
    redirects,
    status,
    streams,
)
from hookwire.mockserver.httpbin.methods import ALL_METHODS
from hookwire.mockserver.openai import batches, files, misc
from hookwire.mockserver.openai.chat import chat_completions
from hookwire.mockserver.openai.completions import completions
from hookwire.mockserver.openai.responses import (
    create_response,
    delete_response,
    retrieve_response,
)
from hookwire.mockserver.routing import Api, Control, Httpbin, JsonView, Route

__all__ = ["ROUTES"]

_DIGEST = "/digest-auth/{qop}/{user}/{passwd}"

ROUTES: tuple[Route, ...] = (
    # The mock's own endpoints: not journaled, counted, faulted or key-checked.
    Control("/metrics", control.metrics, methods=None),
    Control("/__mock__/journal", control.journal),
    Control("/__mock__/journal", control.clear_journal, methods=("DELETE",)),
    Control("/__mock__/last", control.last),
    Control("/__mock__/metrics", control.metrics_page),
    Control("/__mock__/scenario", control.add_rule, methods=("POST",)),
    Control("/__mock__/scenario", control.clear_scenario, methods=("DELETE",)),
    # OpenAI / vLLM: a wrong method gets the dialect's 405.
    Api("/v1/chat/completions", chat_completions),
    Api("/v1/completions", completions),
    Api("/v1/embeddings", misc.embeddings),
    Api("/v1/responses", create_response),
    Api("/v1/responses/{response_id}", retrieve_response, methods=("GET",)),
    Api("/v1/responses/{response_id}", delete_response, methods=("DELETE",)),
    Api("/v1/models", misc.list_models, methods=("GET",)),
    # model ids may contain "/"; any method, as before this table existed
    Api("/v1/models/{model:path}", misc.retrieve_model, methods=None, label="/v1/models/{model}"),
    Api("/v1/files", files.create_file),
    Api("/v1/files", files.list_files, methods=("GET",)),
    Api("/v1/files/{file_id}", files.retrieve_file, methods=("GET",)),
    Api("/v1/files/{file_id}", files.delete_file, methods=("DELETE",)),
    Api("/v1/files/{file_id}/content", files.file_content, methods=("GET",)),
    Api("/v1/batches", batches.create_batch),
    Api("/v1/batches", batches.list_batches, methods=("GET",)),
    Api("/v1/batches/{batch_id}", batches.retrieve_batch, methods=("GET",)),
    Api("/v1/batches/{batch_id}/cancel", batches.cancel_batch),
    Api("/tokenize", misc.tokenize),
    Api("/detokenize", misc.detokenize),
    Api("/health", misc.health, methods=("GET",)),
    Api("/version", misc.version, methods=("GET",)),
    # httpbin (each view answers HEAD with GET, OPTIONS, and 405 + Allow itself)
    # JsonView: GET/HEAD answered straight from the ASGI scope (the benchmark path is /get)
    JsonView("/get", methods.view_get),
    Httpbin("/post", methods.view_post, ("POST",)),
    Httpbin("/put", methods.view_put, ("PUT",)),
    Httpbin("/patch", methods.view_patch, ("PATCH",)),
    Httpbin("/delete", methods.view_delete, ("DELETE",)),
    Httpbin("/anything", methods.view_anything, ALL_METHODS),
    Httpbin("/anything/{anything:path}", methods.view_anything, ALL_METHODS),
    JsonView("/headers", methods.view_headers),
    JsonView("/user-agent", methods.view_user_agent),
    JsonView("/ip", methods.view_ip),
    JsonView("/uuid", methods.view_uuid),
    Httpbin("/redirect/{n:int}", redirects.view_redirect),
    Httpbin("/relative-redirect/{n:int}", redirects.view_relative_redirect),
    Httpbin("/absolute-redirect/{n:int}", redirects.view_absolute_redirect),
    Httpbin("/redirect-to", redirects.view_redirect_to, ALL_METHODS),
    Httpbin("/cookies", cookies.view_cookies),
    Httpbin("/cookies/set", cookies.view_set_cookies),
    Httpbin("/cookies/set/{name}/{value}", cookies.view_set_cookie),
    Httpbin("/cookies/delete", cookies.view_delete_cookies),
    Httpbin("/status/{codes}", status.view_status, ALL_METHODS),
    Httpbin("/basic-auth/{user}/{passwd}", auth.view_basic_auth),
    Httpbin("/hidden-basic-auth/{user}/{passwd}", auth.view_hidden_basic_auth),
    Httpbin("/bearer", auth.view_bearer),
    # httpbin: GET only, which makes auth-int untestable with a body
    Httpbin(_DIGEST, auth.view_digest_auth, ALL_METHODS),
    Httpbin(_DIGEST + "/{algorithm}", auth.view_digest_auth, ALL_METHODS),
    Httpbin(_DIGEST + "/{algorithm}/{stale_after}", auth.view_digest_auth, ALL_METHODS),
    Httpbin("/cache", caching.view_cache),
    Httpbin("/cache/{n:int}", caching.view_cache_control),
    Httpbin("/etag/{etag}", caching.view_etag),
    Httpbin("/response-headers", caching.view_response_headers, ("GET", "POST")),
    Httpbin("/delay/{delay}", dynamic.view_delay, ALL_METHODS),
    Httpbin("/bytes/{n:int}", dynamic.view_bytes),
    Httpbin("/range/{n:int}", dynamic.view_range),
    Httpbin("/base64/{value}", dynamic.view_base64),
    Httpbin("/links/{n:int}/{offset:int}", dynamic.view_links),
    Httpbin("/links/{n:int}", dynamic.view_links_start),
    Httpbin("/unstable", dynamic.view_unstable, ALL_METHODS),
    Httpbin("/json", formats.view_json),
    Httpbin("/xml", formats.view_xml),
    Httpbin("/html", formats.view_html),
    Httpbin("/robots.txt", formats.view_robots),
    Httpbin("/deny", formats.view_deny),
    Httpbin("/encoding/utf8", formats.view_utf8),
    Httpbin("/forms/post", formats.view_forms_post),
    Httpbin("/", formats.view_index),
    Httpbin("/legacy", formats.view_index),
    Httpbin("/gzip", formats.view_gzip),
    Httpbin("/deflate", formats.view_deflate),
    Httpbin("/brotli", formats.view_brotli),
    Httpbin("/image", images.view_image),
    Httpbin("/image/png", images.view_png),
    Httpbin("/image/jpeg", images.view_jpeg),
    Httpbin("/image/webp", images.view_webp),
    Httpbin("/image/svg", images.view_svg),
    Httpbin("/stream/{n:int}", streams.view_stream),
    Httpbin("/stream-bytes/{n:int}", streams.view_stream_bytes),
    Httpbin("/drip", streams.view_drip),
    Httpbin("/sse", streams.view_sse),
    Httpbin("/dump/request", gohttpbin.view_dump_request, ALL_METHODS),
    Httpbin("/hostname", gohttpbin.view_hostname),
    Httpbin("/trailers", gohttpbin.view_trailers, ALL_METHODS),
)
