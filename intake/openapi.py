"""OpenAPI 3 document of every route (shared/API.md is the prose contract)."""
from __future__ import annotations

from functools import cache
from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {str(code): _json(_ref("Error"), text) for code, text in {
    400: "malformed JSON", 401: "no or bad token", 403: "admin role required", 404: "not found",
    413: "body over 16 KiB", 415: "Content-Type is not application/json", 422: "validation error",
    429: "rate limited (Retry-After)",
    503: "a backing service is unavailable (Retry-After)"}.items()}
_AUTH = [{"bearer": []}]


def _op(summary: str, responses: dict[str, Any], *, body: str | None = None, auth: bool = True,
        params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, **_ERRORS}}
    if auth:
        op["security"] = _AUTH
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_PAGING = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
           {"name": "cursor", "in": "query", "schema": {"type": "string"}}]


@cache
def openapi_document() -> dict[str, Any]:
    time = {"type": "string", "format": "date-time"}
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    section = {"type": "object", "additionalProperties": False,
               "required": ["name", "rows", "seats_per_row", "price_cents"],
               "properties": {"name": {"type": "string", "pattern": "^[A-Za-z0-9]{1,8}$"},
                              "rows": {"type": "integer", "minimum": 1, "maximum": 200},
                              "seats_per_row": {"type": "integer", "minimum": 1, "maximum": 200},
                              "price_cents": {"type": "integer", "minimum": 0}}}
    show = {"type": "object", "properties": {
        "show_id": {"type": "string"}, "title": {"type": "string"}, "venue": {"type": "string"},
        "starts_at": time, "hold_seconds": {"type": "integer"}, "sections": {"type": "array", "items": section},
        "seats_total": {"type": "integer"}, "seats_available": {"type": "integer"}}}
    booking = {"type": "object", "properties": {
        "booking_id": {"type": "string"}, "show_id": {"type": "string"}, "customer_id": {"type": "string"},
        "status": {"type": "string", "enum": ["RECEIVED", "PENDING", "REJECTED", "CONFIRMED", "EXPIRED",
                                              "CANCELLED"]},
        "seats": {"type": "array", "items": {"type": "string"}}, "reason": {"type": ["string", "null"]},
        "expires_at": nullable_time, "created_at": time, "updated_at": time}}
    accepted = {"type": "object", "properties": {"booking_id": {"type": "string"}, "status": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "boxoffice", "version": "1.0.0",
                 "description": "Queue-first seat booking. Writes are accepted (202) and decided asynchronously."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}},
                "Section": section, "Show": show, "Booking": booking, "Accepted": accepted,
                "CreateShow": {"type": "object", "additionalProperties": False,
                               "required": ["title", "venue", "starts_at", "sections"],
                               "properties": {"title": {"type": "string"}, "venue": {"type": "string"},
                                              "starts_at": time,
                                              "hold_seconds": {"type": "integer", "minimum": 10, "maximum": 3600},
                                              "sections": {"type": "array", "minItems": 1, "maxItems": 50,
                                                           "items": section}}},
                "BookingRequest": {"oneOf": [
                    {"type": "object", "additionalProperties": False, "required": ["seats"],
                     "properties": {"seats": {"type": "array", "minItems": 1, "maxItems": 10, "uniqueItems": True,
                                              "items": {"type": "string"}}}},
                    {"type": "object", "additionalProperties": False, "required": ["quantity"],
                     "properties": {"quantity": {"type": "integer", "minimum": 1, "maximum": 10}}}]},
                "Confirm": {"type": "object", "additionalProperties": False, "required": ["payment_reference"],
                            "properties": {"payment_reference": {"type": "string"}}},
                "SeatMap": {"type": "object", "properties": {
                    "show_id": {"type": "string"}, "version": {"type": "integer"},
                    "seats_total": {"type": "integer"}, "seats_available": {"type": "integer"},
                    "held": {"type": "array", "items": {"type": "string"}},
                    "booked": {"type": "array", "items": {"type": "string"}}}},
            },
        },
        "paths": {
            "/healthz": {"get": _op("process alive", {"200": {"description": "alive"}}, auth=False)},
            "/readyz": {"get": _op("Kafka and Redis answer", {"200": {"description": "ready"}}, auth=False)},
            "/metrics": {"get": _op("Prometheus metrics", {"200": {"description": "text exposition"}}, auth=False)},
            "/openapi.json": {"get": _op("this document", {"200": {"description": "OpenAPI 3"}}, auth=False)},
            "/v1/shows": {
                "post": _op("create a show (admin)", {"202": _json(
                    {"type": "object", "properties": {"show_id": {"type": "string"}}}, "accepted")},
                    body="CreateShow"),
                "get": _op("list shows", {"200": _json({"type": "object", "properties": {
                    "shows": {"type": "array", "items": _ref("Show")}, "next_cursor": {"type": "string"}}},
                    "shows")}, auth=False, params=_PAGING),
            },
            "/v1/shows/{show_id}": {"get": _op("one show", {"200": _json(_ref("Show"), "show")}, auth=False,
                                               params=[_path_param("show_id")])},
            "/v1/shows/{show_id}/seats": {"get": _op("seat map", {"200": _json(_ref("SeatMap"), "seat map")},
                                                     auth=False, params=[_path_param("show_id")])},
            "/v1/shows/{show_id}/bookings": {"post": _op(
                "request seats (by ids or best available)",
                {"202": _json(_ref("Accepted"), "accepted, queued"),
                 "200": _json(_ref("Accepted"), "the same request again")},
                body="BookingRequest",
                params=[_path_param("show_id"), {"name": "Idempotency-Key", "in": "header", "required": True,
                                                  "schema": {"type": "string", "maxLength": 128}}])},
            "/v1/bookings/{booking_id}": {"get": _op("booking status (owner or admin)",
                                                     {"200": _json(_ref("Booking"), "booking")},
                                                     params=[_path_param("booking_id")])},
            "/v1/bookings/{booking_id}/confirm": {"post": _op("confirm a held booking (owner)",
                                                              {"202": _json(_ref("Accepted"), "accepted")},
                                                              body="Confirm", params=[_path_param("booking_id")])},
            "/v1/bookings/{booking_id}/cancel": {"post": _op("cancel a booking (owner)",
                                                             {"202": _json(_ref("Accepted"), "accepted")},
                                                             params=[_path_param("booking_id")])},
            "/v1/me/bookings": {"get": _op("my bookings, newest first", {"200": _json({"type": "object", "properties": {
                "bookings": {"type": "array", "items": _ref("Booking")}, "next_cursor": {"type": "string"}}},
                "bookings")}, params=_PAGING)},
        },
    }
