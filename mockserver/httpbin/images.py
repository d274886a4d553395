"""``/image`` (chosen by ``Accept``) and ``/image/png|jpeg|webp|svg``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import _images
from ._json import text_response
from .status import status_response

_BY_TYPE = {
    "image/png": _images.PNG,
    "image/jpeg": _images.JPEG,
    "image/webp": _images.WEBP,
    "image/svg+xml": _images.SVG,
}


def _image(request: Request, media_type: str) -> Response:
    return text_response(request, _BY_TYPE[media_type], media_type=media_type)


async def view_image(request: Request) -> Response:
    """An image in the first type the ``Accept`` header mentions, in httpbin's preference
    order (webp, svg, jpeg, png); 406 when none fits, png when there is no ``Accept``."""
    accept = request.headers.get("accept")
    if accept is None:
        return _image(request, "image/png")
    accept = accept.lower()
    for media_type in ("image/webp", "image/svg+xml", "image/jpeg"):
        if media_type in accept:
            return _image(request, media_type)
    if "image/png" in accept or "image/*" in accept:
        return _image(request, "image/png")
    return status_response(request, 406)


async def view_png(request: Request) -> Response:
    """A PNG image."""
    return _image(request, "image/png")


async def view_jpeg(request: Request) -> Response:
    """A JPEG image."""
    return _image(request, "image/jpeg")


async def view_webp(request: Request) -> Response:
    """A WebP image."""
    return _image(request, "image/webp")


async def view_svg(request: Request) -> Response:
    """An SVG image."""
    return _image(request, "image/svg+xml")
