from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

_encoder = msgspec.json.Encoder()


def encode_json(body: Any) -> bytes:
    """A record of schemas.api (or plain JSON data) as JSON bytes."""
    return _encoder.encode(body)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A record of schemas.api (or plain JSON data) as the response body."""
    return Response(_encoder.encode(body), status_code=status, headers=headers, media_type="application/json")
