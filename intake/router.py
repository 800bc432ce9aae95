"""The router's half of the operations table: what an `Operation` declares (intake/operations.py) is enforced
and decoded here, before its handler runs, so a handler holds only what is particular to it.

In this order, each refusal the status the document gives it: the operation's switch (404), the bearer
token (401), the admin role (403), the write limit (429: the customer's, or the client's), the headers, the
body (413, 400, 415, 422), the path identifiers (404: one outside its grammar names nothing) and the query
parameters (422). A lenient header (`Param.lenient`: Prefer, If-None-Match) is never refused: a malformed one
reads as absent. The handler is then called as `handler(call, **arguments)`: `principal` when the operation is
authenticated, `body` when it has one, and each parameter under its `Param.arg` name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from intake.errors import ApiError
from intake.http_input import authenticate, header, path_id, query, read_body, require_admin, require_scanner
from intake.state import IntakeState
from intake.tokens import Principal

if TYPE_CHECKING:
    from intake.operations import Operation

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(slots=True)
class Call:
    """What every handler gets besides its decoded arguments: the request and the intake's adapters."""

    request: Request
    state: IntakeState
    principal: Principal | None = None
    limit_pending: bool = False  # the write limit is left to `admit` (Operation.limit_with_claim)

    @property
    def trace(self) -> str | None:
        """The request's X-Request-Id, which travels with its command."""
        return self.request.headers.get("x-request-id")

    async def admit(self, claim_id: str, fingerprint: str) -> str | None:
        """The write limit and the Idempotency-Key claim together (one Redis round trip when the adapters
        have an admission script, else the limiter and the claim store in turn): 429 over the limit, else
        None when the key is new (claimed now for `fingerprint`) or the fingerprint it was claimed with."""
        assert self.principal is not None and self.limit_pending, "admit: an operation with limit_with_claim"
        self.limit_pending = False
        state = self.state
        if state.admission is None:
            await _within_limit(state, self.principal.sub)
            return await state.idempotency.claim(claim_id, fingerprint)
        admitted = await state.admission.admit(self.principal.sub, claim_id, fingerprint)
        if admitted.wait_s > 0:
            raise _over_limit(state, admitted.wait_s)
        return admitted.stored


def client_key(request: Request) -> str:
    """The write limit's key for a caller without a token: its IP address (the peer, or, behind the local
    NGINX, the address NGINX saw: uvicorn takes X-Forwarded-For from trusted proxies only). The colon
    keeps it apart from every customer id."""
    return "ip:" + (request.client.host if request.client else "unknown")


async def _within_limit(state: IntakeState, key: str) -> None:
    wait = await state.limiter.acquire(key)
    if wait > 0:
        raise _over_limit(state, wait)


def _over_limit(state: IntakeState, wait_s: float) -> ApiError:
    return ApiError(
        429, "rate_limited", "too many requests; slow down", headers={"Retry-After": state.limiter.retry_after(wait_s)}
    )


def endpoint(op: Operation) -> Endpoint:
    """The starlette endpoint of one operation."""
    headers = [p for p in op.params if p.location == "header"]
    paths = [p for p in op.params if p.location == "path"]
    queries = [p for p in op.params if p.location == "query"]

    async def run(request: Request) -> Response:
        state: IntakeState = request.app.state.intake
        if op.switch is not None and not getattr(state.settings, op.switch.setting):
            raise ApiError(404, "not_found", op.switch.off)
        args: dict[str, Any] = {}
        call = Call(request, state)
        if op.auth != "public":
            principal = args["principal"] = call.principal = authenticate(request, state.tokens)
            if op.auth == "admin":
                require_admin(principal)
            elif op.auth == "scanner":
                require_scanner(principal)
            if op.limit_with_claim:
                call.limit_pending = True
                try:
                    return await handle(request, call, args)
                except ApiError as refused:
                    if call.limit_pending and refused.status != 503:  # refused before the claim
                        await _within_limit(state, principal.sub)  # 429 first, as the document's order says
                    raise
        if op.rate_limited:
            await _within_limit(state, principal.sub if op.limit_by == "customer" else client_key(request))
        return await handle(request, call, args)

    async def handle(request: Request, call: Call, args: dict[str, Any]) -> Response:
        for p in headers:
            if p.lenient is not None:  # never refused: a malformed value reads as absent
                lines = request.headers.getlist(p.name)
                value = p.lenient(", ".join(lines)) if lines else None
                args[p.arg] = p.default if value is None else value
            else:
                args[p.arg] = header(request, p.name, p.kind, required=p.required, invalid=p.invalid)
        if op.body is not None:
            args["body"] = await read_body(request, op.body, optional=not op.body_required)
        for p in paths:
            args[p.arg] = path_id(request, p.name, p.kind, p.name.removesuffix("_id"))
        for p in queries:
            value = query(request, p.name, p.kind)
            args[p.arg] = p.default if value is None else value
        return await op.handler(call, **args)

    run.__name__ = op.handler.__name__
    return run
