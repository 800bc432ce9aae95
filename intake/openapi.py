"""The OpenAPI 3.1 document, generated from the operations table (intake/operations.py) and the typed
contract (schemas/): the document and the server cannot drift. shared/API.md is the prose contract."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec

from intake.operations import OPERATIONS, EventStream, Operation
from schemas.api import ErrorBody

_REF = "#/components/schemas/{name}"
_ANCHORED = re.compile(r"^\\A\(\?:(.*)\)\\Z$", re.DOTALL)
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before retrying",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
_HEADERS_BY_STATUS = {
    405: {"Allow": {"description": "the methods this path supports", "required": True, "schema": {"type": "string"}}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}


def _ecma_patterns(node: Any) -> Any:
    """`\\A(?:X)\\Z` (how the types anchor for Python's re.search) → `^(?:X)$` (JSON Schema, ECMA 262)."""
    if isinstance(node, dict):
        out = {k: _ecma_patterns(v) for k, v in node.items()}
        pattern = out.get("pattern")
        if isinstance(pattern, str) and (m := _ANCHORED.match(pattern)):
            out["pattern"] = f"^(?:{m[1]})$"
        return out
    if isinstance(node, list):
        return [_ecma_patterns(v) for v in node]
    return node


def _schema_types(op: Operation) -> list[Any]:
    kinds = [p.kind for p in op.params]
    if op.body is not None:
        kinds.append(op.body)
    for kind, _ in op.ok.values():
        if kind is EventStream:
            kinds += list(EventStream.events.values())
        elif kind not in (str, dict):
            kinds.append(kind)
    return kinds


def _content(kind: Any, schemas: dict[Any, Any]) -> dict[str, Any]:
    if kind is str:
        return {"text/plain": {"schema": {"type": "string"}}}
    if kind is dict:
        return {"application/json": {"schema": {"type": "object"}}}
    if kind is EventStream:  # Open API 3.1: `schema` describes one event (name, id, JSON data)
        return {
            "text/event-stream": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["event", "data"],
                            "properties": {
                                "event": {"const": name},
                                "id": {"type": "string", "pattern": "^[0-9]+$"},
                                "data": {
                                    "type": "string",
                                    "contentMediaType": "application/json",
                                    "contentSchema": schemas[data],
                                },
                            },
                        }
                        for name, data in EventStream.events.items()
                    ]
                }
            }
        }
    return {"application/json": {"schema": schemas[kind]}}


def _operation(op: Operation, schemas: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.handler.__name__, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    if op.params:
        out["parameters"] = [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required or p.location == "path",
                "description": p.description,
                "schema": schemas[p.kind],
            }
            for p in op.params
        ]
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required, "content": _content(op.body, schemas)}
    responses: dict[str, Any] = {}
    for status, (kind, text) in op.ok.items():
        responses[str(status)] = {"description": text}
        if kind is not None:
            responses[str(status)]["content"] = _content(kind, schemas)
        headers: dict[str, Any] = {}
        if op.location and status in (200, 202):
            headers["Location"] = {"description": "where to read it", "schema": {"type": "string"}}
        for header in op.headers.get(status, ()):
            headers[header.name] = {
                "description": header.description,
                "required": header.required,
                "schema": {"type": "string"},
            }
        if headers:
            responses[str(status)]["headers"] = headers
    for status, text in sorted(op.errors().items()):
        responses[str(status)] = {"description": text, "content": _content(ErrorBody, schemas)}
        if status in _HEADERS_BY_STATUS:
            responses[str(status)]["headers"] = _HEADERS_BY_STATUS[status]
    out["responses"] = responses
    if op.auth != "public":
        out["security"] = [{"bearer": []}]
    return out


@cache
def openapi_document() -> bytes:
    kinds = [ErrorBody]
    for op in OPERATIONS:
        kinds += [k for k in _schema_types(op) if k not in kinds]
    generated, components = msgspec.json.schema_components(kinds, ref_template=_REF)
    schemas = dict(zip(kinds, generated, strict=True))
    for kind in kinds:  # rules a record states for the document beside its own validation
        extra = getattr(kind, "json_schema_extra", None)
        if isinstance(extra, dict):
            components[kind.__name__].update(extra)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "boxoffice",
            "version": "1.5.0",
            "description": "Queue-first seat booking. Writes are accepted (202) and decided asynchronously; "
            "read the booking again, or wait for it to change (If-None-Match with its ETag and "
            "`Prefer: wait=N`). Reads carry an ETag and answer a matching If-None-Match with 304. "
            'Every error is {"error": {"code", "message", "details"?}}.',
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    return msgspec.json.encode(_ecma_patterns(document))
