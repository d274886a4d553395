"""``/status/{codes}``: a chosen status code, with httpbin's canned bodies and headers.

``codes`` is one code or a weighted list ``200:3,500:1`` (weight defaults to 1). httpbin's special
cases are kept: 3xx codes point at ``/redirect/1``, 401 and 407 carry a Basic challenge, 402 and
418 have joke bodies, 406 lists the image types ``/image`` can serve. Those special responses
replace Flask's headers wholesale, so they have no ``Content-Type``; we reproduce that too.
"""

from __future__ import annotations

import json
import random

from starlette.requests import Request
from starlette.responses import Response

from ._json import cors_headers, plain_response

__all__ = ["ACCEPTED_MEDIA_TYPES", "status_response"]

TEAPOT = r"""
    -=[ teapot ]=-

       _...._
     .'  _ _ `.
    | ."` ^ `". _,
    \_;`"---"`|//
      |       ;/
      \_     _/
        `\"\"\"`
""".replace('\\"', '"')

PLAIN_UTF8 = b"text/plain; charset=utf-8"  # werkzeug.Response's default
ACCEPTED_MEDIA_TYPES = ["image/webp", "image/svg+xml", "image/jpeg", "image/png", "image/*"]

Headers = list[tuple[bytes, bytes]]
_REDIRECT: tuple[bytes, Headers] = (b"", [(b"location", b"/redirect/1")])
# code -> (body, headers) replacing Flask's defaults
_SPECIAL: dict[int, tuple[bytes, Headers]] = {
    301: _REDIRECT,
    302: _REDIRECT,
    303: _REDIRECT,
    305: _REDIRECT,
    307: _REDIRECT,
    401: (b"", [(b"www-authenticate", b'Basic realm="Fake Realm"')]),
    402: (b"Fuck you, pay me!", [(b"x-more-info", b"http://vimeo.com/22053820")]),
    406: (
        json.dumps(
            {
                "message": "Client did not request a supported media type.",
                "accept": ACCEPTED_MEDIA_TYPES,
            }
        ).encode(),
        [(b"content-type", b"application/json")],
    ),
    407: (b"", [(b"proxy-authenticate", b'Basic realm="Fake Realm"')]),
    418: (TEAPOT.encode(), [(b"x-more-info", b"http://tools.ietf.org/html/rfc2324")]),
}


def status_response(request: Request, code: int) -> Response:
    """The response httpbin gives for status ``code`` (also used by auth failures)."""
    special = _SPECIAL.get(code)
    if special is None:
        # Werkzeug drops Content-Type from 304s; everything else keeps Flask's HTML default
        media_type = None if code == 304 else "text/html; charset=utf-8"
        response = Response(b"", status_code=code, media_type=media_type)
    else:
        body, headers = special
        response = Response(body, status_code=code)
        response.raw_headers.extend(headers)
    response.raw_headers.extend(cors_headers(request.scope))
    return response


def _invalid(request: Request) -> Response:
    return plain_response(request, b"Invalid status code", 400, PLAIN_UTF8)


def choose_code(codes: str, rng: random.Random | None = None) -> int | None:
    """Pick a code from ``"200:3,500:1"``; ``None`` when the spec does not parse."""
    choices: list[tuple[int, float]] = []
    for choice in codes.split(","):
        code_text, _, weight_text = choice.partition(":")
        try:
            choices.append((int(code_text), float(weight_text) if weight_text else 1.0))
        except ValueError:
            return None
    if len(choices) == 1:
        return choices[0][0]
    total = sum(weight for _, weight in choices)
    if not total > 0:
        return None
    point = (rng or random).uniform(0, total)
    for code, weight in choices:
        point -= weight
        if point < 0:
            return code
    return choices[-1][0]


async def view_status(request: Request) -> Response:
    """Reply with the given status code, or one drawn from a weighted list."""
    code = choose_code(request.path_params["codes"])
    if code is None or not 100 <= code <= 999:
        return _invalid(request)
    return status_response(request, code)
