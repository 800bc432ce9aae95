"""python -m payments.devprovider: the development payment provider, for the local stack and the tests.

It behaves like a provider's test mode: the subset of Stripe's API the adapter uses (payments/stripe.py:
Checkout Sessions, expiring one, Refunds; Bearer API key; Idempotency-Key), its own hosted page where the
buyer pays with a test card or declines (`/pay/{session}`), and webhooks signed with `Stripe-Signature`,
delivered to `payment_webhook_url` and retried with backoff until they are answered 2xx. Its state (sessions,
refunds, idempotency keys, the webhooks still to deliver) is kept in SQLite under the stack dir, so a restart
loses nothing; a webhook is signed again at each attempt, as Stripe does. It serves /healthz, /readyz and
/metrics on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import structlog
from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from payments.stripe import signature_header
from runtime.clients import payment_keys
from runtime.ops_http import OpsServer
from runtime.service import Service, run_service
from schemas.money import format_money

log = structlog.get_logger()
EVENTS = Counter("boxoffice_devpay_events_total", "Development provider events, by type", ["type"])
DELIVERIES = Counter("boxoffice_devpay_webhooks_total", "Webhook delivery attempts, by outcome", ["outcome"])
MAX_ATTEMPTS = 30
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotent_requests (key TEXT PRIMARY KEY, params TEXT NOT NULL,
                                                status INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (id TEXT PRIMARY KEY, payment_intent TEXT NOT NULL, amount INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                                   next_at REAL NOT NULL, delivered INTEGER NOT NULL DEFAULT 0);
"""


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (what Stripe's API and an HTML form send)."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": "invalid_request_error", "code": code, "message": message}}, status)


class Store:
    """The provider's books, in one SQLite file (one writer: this process)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.executescript(_SCHEMA)

    def session(self, session_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT doc FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_session(self, session: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?)", (session["id"], json.dumps(session)))

    def event(self, kind: str, obj: dict[str, Any]) -> None:
        """Record an event to deliver (in the same breath as the change it tells of)."""
        event_id = "evt_" + secrets.token_hex(12)
        body = {"id": event_id, "object": "event", "type": kind, "created": int(time.time()), "data": {"object": obj}}
        self.db.execute("INSERT INTO outbox (id, body, next_at) VALUES (?, ?, ?)", (event_id, json.dumps(body), 0.0))
        EVENTS.labels(kind).inc()

    def expire_overdue(self, now: float) -> None:
        for (doc,) in self.db.execute("SELECT doc FROM sessions").fetchall():
            session = json.loads(doc)
            if session["status"] == "open" and session["expires_at"] <= now:
                self._expire(session)

    def _expire(self, session: dict[str, Any]) -> None:
        session["status"] = "expired"
        self.put_session(session)
        self.event("checkout.session.expired", session)


class DevProvider:
    def __init__(self, store: Store, api_key: str, webhook_url: str, webhook_secret: str, public_url: str) -> None:
        self.store, self.api_key, self.public_url = store, api_key, public_url.rstrip("/")
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret

    # ------------------------------------------------------------------ the API (Stripe's subset)
    def _authorised(self, request: Request) -> bool:
        return secrets.compare_digest(request.headers.get("authorization", ""), f"Bearer {self.api_key}")

    async def _idempotent(self, request: Request, make) -> Response:
        """The same Idempotency-Key answers what it answered the first time (Stripe keeps keys 24 h)."""
        if not self._authorised(request):
            return _error(401, "unauthorized", "invalid API key")
        form = await _form(request)
        key = request.headers.get("idempotency-key")
        stored_key, params = f"{request.url.path}\n{key}", json.dumps(form, sort_keys=True)
        if key:
            row = self.store.db.execute(
                "SELECT params, status, body FROM idempotent_requests WHERE key = ?", (stored_key,)
            ).fetchone()
            if row is not None:
                if row[0] != params:  # as Stripe: a key is for one request
                    return _error(400, "idempotency_error", "Keys for idempotent requests can only be used with "
                                  "the same parameters they were first used with.")  # fmt: skip
                return JSONResponse(json.loads(row[2]), row[1])
        status, body = make(form, request)
        if key and status < 500:
            self.store.db.execute(
                "INSERT INTO idempotent_requests VALUES (?, ?, ?, ?)", (stored_key, params, status, json.dumps(body))
            )
        return JSONResponse(body, status)

    async def create_session(self, request: Request) -> Response:
        def make(form: dict[str, Any], _: Request) -> tuple[int, dict[str, Any]]:
            try:
                amount = int(form["line_items[0][price_data][unit_amount]"]) * int(form["line_items[0][quantity]"])
                currency = str(form["line_items[0][price_data][currency]"])
                expires_at = int(form.get("expires_at") or time.time() + 86400)
            except (KeyError, ValueError) as exc:
                return 400, {"error": {"type": "invalid_request_error", "message": f"bad parameter {exc}"}}
            session_id = "cs_test_" + secrets.token_hex(12)
            metadata = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[") and k.endswith("]")}
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": "payment",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "currency": currency,
                "description": form.get("line_items[0][price_data][product_data][name]", ""),
                "success_url": form.get("success_url", ""),
                "cancel_url": form.get("cancel_url", ""),
                "expires_at": expires_at,
                "metadata": metadata,
                "client_reference_id": form.get("client_reference_id"),
                "payment_intent": None,
                "url": f"{self.public_url}/pay/{session_id}",
            }
            self.store.put_session(session)
            return 200, session

        return await self._idempotent(request, make)

    async def get_session(self, request: Request) -> Response:
        if not self._authorised(request):
            return _error(401, "unauthorized", "invalid API key")
        session = self.store.session(request.path_params["id"])
        return _error(404, "resource_missing", "no such checkout session") if session is None else JSONResponse(session)

    async def expire_session(self, request: Request) -> Response:
        def make(form: dict[str, Any], req: Request) -> tuple[int, dict[str, Any]]:
            session = self.store.session(req.path_params["id"])
            if session is None:
                return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
            if session["status"] != "open":
                message = f"Only Checkout Sessions with a status in ['open'] can be expired ({session['status']})"
                return 400, {"error": {"type": "invalid_request_error", "message": message}}
            self.store._expire(session)
            return 200, session

        return await self._idempotent(request, make)

    async def create_refund(self, request: Request) -> Response:
        def make(form: dict[str, Any], _: Request) -> tuple[int, dict[str, Any]]:
            intent = str(form.get("payment_intent", ""))
            paid = [
                s
                for (doc,) in self.store.db.execute("SELECT doc FROM sessions").fetchall()
                if (s := json.loads(doc))["payment_intent"] == intent
            ]
            if not paid:
                return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
            session = paid[0]
            (refunded,) = self.store.db.execute(
                "SELECT coalesce(sum(amount), 0) FROM refunds WHERE payment_intent = ?", (intent,)
            ).fetchone()
            amount = int(form.get("amount") or session["amount_total"] - refunded)
            if amount <= 0 or refunded + amount > session["amount_total"]:
                return 400, {"error": {"type": "invalid_request_error", "code": "amount_too_large"}}
            refund_id = "re_test_" + secrets.token_hex(12)
            self.store.db.execute("INSERT INTO refunds VALUES (?, ?, ?)", (refund_id, intent, amount))
            charge = {
                "id": "ch_test_" + intent[8:],
                "object": "charge",
                "payment_intent": intent,
                "amount": session["amount_total"],
                "amount_refunded": refunded + amount,
                "currency": session["currency"],
                "metadata": session["metadata"],
            }
            self.store.event("charge.refunded", charge)
            return 200, {"id": refund_id, "object": "refund", "status": "succeeded", "amount": amount,
                         "payment_intent": intent}  # fmt: skip

        return await self._idempotent(request, make)

    # ------------------------------------------------------------------ the hosted page
    async def page(self, request: Request) -> Response:
        session = self.store.session(request.path_params["id"])
        if session is None:
            return HTMLResponse(_page("No such payment", "<p>This payment link is not known.</p>"), 404)
        if request.method == "POST":
            action = (await _form(request)).get("action")
            if session["status"] == "open" and session["expires_at"] > time.time():
                if action == "pay":
                    session.update(status="complete", payment_status="paid")
                    session["payment_intent"] = "pi_test_" + secrets.token_hex(12)
                    self.store.put_session(session)
                    self.store.event("checkout.session.completed", session)
                    log.info("test payment taken", session=session["id"], amount=session["amount_total"])
                    return RedirectResponse(session["success_url"], 303)
                if action == "cancel":
                    return RedirectResponse(session["cancel_url"], 303)
                return HTMLResponse(_checkout(session, declined=True), 402)
        if session["status"] == "open" and session["expires_at"] <= time.time():
            self.store._expire(session)
        if session["status"] != "open":
            text = "This payment is complete." if session["status"] == "complete" else "This checkout has expired."
            back = html.escape(session["success_url" if session["status"] == "complete" else "cancel_url"])
            return HTMLResponse(_page("Payment " + session["status"], f'<p>{text}</p><p><a href="{back}">Back</a></p>'))
        return HTMLResponse(_checkout(session))

    # ------------------------------------------------------------------ webhooks
    async def deliver_forever(self, http: httpx.AsyncClient, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self.store.expire_overdue(time.time())
            due = self.store.db.execute(
                "SELECT id, body, attempts FROM outbox WHERE NOT delivered AND next_at <= ? ORDER BY rowid LIMIT 20",
                (time.time(),),
            ).fetchall()
            for event_id, body, attempts in due:
                await self._deliver(http, event_id, body.encode(), attempts)
            if not due:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 0.2)

    async def _deliver(self, http: httpx.AsyncClient, event_id: str, body: bytes, attempts: int) -> None:
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": signature_header(self.webhook_secret, body, int(time.time())),
        }
        try:
            response = await http.post(self.webhook_url, content=body, headers=headers)
            ok, outcome = response.status_code < 300, f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, outcome = False, repr(exc)
        attempts += 1
        if ok:
            self.store.db.execute("UPDATE outbox SET delivered = 1, attempts = ? WHERE id = ?", (attempts, event_id))
            DELIVERIES.labels("delivered").inc()
            return
        given_up = attempts >= MAX_ATTEMPTS
        delay = min(60.0, 0.25 * 2**attempts)
        self.store.db.execute(
            "UPDATE outbox SET attempts = ?, next_at = ?, delivered = ? WHERE id = ?",
            (attempts, time.time() + delay, -1 if given_up else 0, event_id),
        )
        DELIVERIES.labels("given_up" if given_up else "failed").inc()
        log.warning("webhook not delivered", event_id=event_id, attempts=attempts, outcome=outcome, given_up=given_up)

    def routes(self) -> list[Route]:
        return [
            Route("/v1/checkout/sessions", self.create_session, methods=["POST"]),
            Route("/v1/checkout/sessions/{id}", self.get_session, methods=["GET"]),
            Route("/v1/checkout/sessions/{id}/expire", self.expire_session, methods=["POST"]),
            Route("/v1/refunds", self.create_refund, methods=["POST"]),
            Route("/pay/{id}", self.page, methods=["GET", "POST"]),
        ]


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1a1a2e}"
        ".test{background:#fff3cd;border:1px solid #e0c36a;padding:.5rem .75rem;border-radius:.4rem}"
        "button{font-size:1.1rem;padding:.8rem 1.2rem;margin:.3rem .3rem .3rem 0;border-radius:.4rem;"
        "border:1px solid #444;cursor:pointer;min-height:44px}.pay{background:#1f6f3f;color:#fff;border:0}"
        ".amount{font-size:2rem;font-weight:700}.declined{color:#a4161a;font-weight:600}"
        f"</style></head><body><p class=test>TEST MODE · boxoffice development payments</p>{body}</body></html>"
    )


def _checkout(session: dict[str, Any], declined: bool = False) -> str:
    amount = format_money(session["amount_total"], session["currency"].upper())
    left = max(0, int(session["expires_at"] - time.time()))
    return _page(
        f"Pay {amount}",
        f"<h1>Pay boxoffice</h1><p>{html.escape(session['description'])}</p>"
        f'<p class=amount data-testid="amount">{html.escape(amount)}</p>'
        + (
            '<p class=declined role="alert">Your card was declined (test card 4000 0000 0000 0002).</p>'
            if declined
            else ""
        )
        + f"<p>Test card <code>4242 4242 4242 4242</code> · this checkout ends in {left // 60} min {left % 60} s.</p>"
        '<form method="post"><button class=pay name="action" value="pay">Pay with test card</button>'
        '<button name="action" value="decline">Decline</button>'
        '<button name="action" value="cancel">Cancel</button></form>',
    )


async def main(service: Service) -> None:
    settings = service.settings
    api_key, webhook_secret = payment_keys(settings)
    store = Store(settings.stack_dir / "devpay" / "devpay.sqlite3")
    public_url = settings.payment_page_url or f"http://127.0.0.1:{settings.metrics_port}"
    provider = DevProvider(store, api_key, settings.payment_webhook_url, webhook_secret, public_url)

    async def ready() -> dict[str, bool]:
        return {"store": True}

    server = OpsServer(settings.http_host, settings.metrics_port, ready, provider.routes())
    await server.start()
    service.defer(server.close)
    service.log.info("development payment provider listening", url=public_url, webhooks=settings.payment_webhook_url)
    async with httpx.AsyncClient(timeout=10.0) as http:
        await provider.deliver_forever(http, service.lifecycle.stopping)


if __name__ == "__main__":
    run_service("devpay", main, ops=False)
