"""The front door: the real NGINX, configured by stack/nginx.sh with stack/nginx/boxoffice.conf (the file
compose.yaml mounts), in front of two stand-in intake instances that answer with their own name."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bench.processes import alive as running
from tests.support.front_door import NamedUpstream, Nginx

INDEX = "<!doctype html><title>boxoffice web</title><div id=root></div>"


@pytest.fixture
def web_root(tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-3f2a9c.js").write_text("console.log('boxoffice')")
    return root


@pytest.fixture
def front(tmp_path, web_root):
    upstreams = [NamedUpstream("a", tmp_path), NamedUpstream("b", tmp_path)]
    nginx = Nginx(tmp_path / "nginx", [u.port for u in upstreams], web_root).start()
    with httpx.Client(base_url=nginx.url, timeout=10) as client:
        yield nginx, upstreams, client
    stopped = nginx.stop()
    for upstream in upstreams:
        upstream.kill()
    assert stopped.returncode == 0, stopped.stderr


def _assert_json_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body


def test_requests_reach_every_instance(front):
    _, _, client = front
    names = {client.get("/v1/shows").json()["name"] for _ in range(10)}
    assert names == {"a", "b"}
    for path in ("/healthz", "/readyz", "/openapi.json", "/v1/shows/sh_1/seats/stream"):
        assert client.get(path).json()["path"] == path


def test_a_dead_instance_is_skipped_for_reads_and_writes(front):
    _, (a, _), client = front
    a.kill()
    answers = [client.get("/v1/shows") for _ in range(10)]
    answers += [
        client.post("/v1/shows/sh_1/bookings", json={"quantity": 1}, headers={"Idempotency-Key": f"k{i}"})
        for i in range(10)
    ]
    assert [r.status_code for r in answers] == [200] * 20
    assert {r.json()["name"] for r in answers} == {"b"}
    assert {r.json()["method"] for r in answers} == {"GET", "POST"}


def test_a_request_an_instance_dropped_unanswered_goes_to_the_next(tmp_path, web_root):
    upstreams = [NamedUpstream("drop", tmp_path), NamedUpstream("b", tmp_path)]
    nginx = Nginx(tmp_path / "nginx", [u.port for u in upstreams], web_root)
    try:
        nginx.start()
        with httpx.Client(base_url=nginx.url, timeout=10) as client:
            answers = [
                client.post("/v1/shows/sh_1/bookings", json={"quantity": 1}, headers={"Idempotency-Key": f"k{i}"})
                for i in range(6)
            ]
        assert [r.status_code for r in answers] == [200] * 6
        assert {r.json()["name"] for r in answers} == {"b"}
        deadline, retried = time.monotonic() + 10, []
        while not retried and time.monotonic() < deadline:  # NGINX logs a request once it is answered
            retried = [e for e in nginx.access_entries() if "," in e["upstream_addr"]]
            time.sleep(0.05)
        assert retried and retried[0]["upstream_status"] == "502, 200" and retried[0]["status"] == 200
    finally:
        nginx.stop()
        for upstream in upstreams:
            upstream.kill()


def test_an_instance_s_own_503_goes_to_the_next_and_passes_through_when_all_say_it(tmp_path, web_root):
    busy1, busy2, b = (NamedUpstream(name, tmp_path) for name in ("busy1", "busy2", "b"))
    one_busy = Nginx(tmp_path / "one-busy", [busy1.port, b.port], web_root)
    all_busy = Nginx(tmp_path / "all-busy", [busy1.port, busy2.port], web_root)
    try:
        one_busy.start()
        all_busy.start()
        with httpx.Client(timeout=10) as client:
            assert {client.get(f"{one_busy.url}/v1/shows").json()["name"] for _ in range(4)} == {"b"}
            answer = client.get(f"{all_busy.url}/v1/shows")
        # The last instance's own answer, not NGINX's: its message and its Retry-After.
        body = _assert_json_error(answer, 503, "unavailable")
        assert body["error"]["message"].endswith(": kafka is down") and answer.headers["retry-after"] == "1"
    finally:
        for nginx in (one_busy, all_busy):
            nginx.stop()
        for upstream in (busy1, busy2, b):
            upstream.kill()


def test_an_instance_s_own_503s_never_take_a_healthy_one_out(tmp_path, web_root):
    """One intake answers 503 for a while (Kafka is down for it), the other answers one request in four with
    503 (one missed acknowledgement): NGINX must never mark either down, so no client sees NGINX's own
    "no instance is available" while an intake is alive, and a client sees a 503 only when both instances
    it was sent to said it themselves."""
    busy, blip = NamedUpstream("busy", tmp_path), NamedUpstream("blip", tmp_path)
    nginx = Nginx(tmp_path / "nginx", [busy.port, blip.port], web_root)
    try:
        nginx.start()
        with httpx.Client(base_url=nginx.url, timeout=10) as client:
            answers = [client.get("/v1/shows") for _ in range(200)]
        served = [r for r in answers if r.status_code == 200]
        refused = [r for r in answers if r.status_code != 200]
        assert {r.json()["name"] for r in served} == {"blip"}
        # Every 503 is an instance's own (its message and Retry-After), never NGINX's "no live upstreams".
        assert all(
            r.status_code == 503
            and r.json()["error"]["message"].endswith(": kafka is down")
            and r.headers["retry-after"] == "1"
            for r in refused
        ), [r.text for r in refused][:3]
        # blip refuses one request in four it gets; with max_fails=1 the first refusal took both out for
        # 3 s and every later answer was NGINX's own 503.
        assert 100 <= len(served) < 200 and len(refused) <= 200 // 3
        assert not [
            line
            for line in (nginx.prefix / "logs" / "error.log").read_text().splitlines()
            if "no live upstreams" in line
        ]
    finally:
        nginx.stop()
        for upstream in (busy, blip):
            upstream.kill()


def test_no_instance_alive_is_a_json_503_with_retry_after(front):
    _, upstreams, client = front
    for upstream in upstreams:
        upstream.kill()
    for response in (client.get("/v1/shows"), client.post("/v1/shows", json={}), client.get("/readyz")):
        _assert_json_error(response, 503, "unavailable")
        assert response.headers["retry-after"] == "2"
        assert "<html" not in response.text
        assert response.headers["x-request-id"]


def test_oversize_body_is_a_json_413(front):
    _, _, client = front
    response = client.post(
        "/v1/shows", content=b"{" + b" " * (17 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    _assert_json_error(response, 413, "payload_too_large")
    assert client.post("/v1/shows", content=b" " * (15 * 1024)).json()["body_bytes"] == 15 * 1024


def test_request_line_or_headers_too_large_are_json(front):
    _, _, client = front
    _assert_json_error(client.get("/v1/" + "x" * 40_000), 414, "uri_too_long")
    _assert_json_error(client.get("/v1/shows", headers={"X-Big": "y" * 10_000}), 431, "request_header_too_large")


def test_request_id_is_generated_forwarded_echoed_and_logged(front):
    nginx, _, client = front
    generated = client.get("/v1/shows")
    rid = generated.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert generated.json()["request_id"] == rid  # what the instance received
    assert len(generated.headers.get_list("x-request-id")) == 1

    given = client.get("/v1/shows", headers={"X-Request-Id": "client-req.42"})
    assert given.headers["x-request-id"] == "client-req.42"
    assert given.json()["request_id"] == "client-req.42"

    for bad in ("has space", "x" * 129, 'quote"inside'):
        replaced = client.get("/v1/shows", headers={"X-Request-Id": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
        assert replaced.json()["request_id"] == replaced.headers["x-request-id"]

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        entries = {e["request_id"]: e for e in nginx.access_entries()}
        if {rid, "client-req.42"} <= set(entries):
            break
        time.sleep(0.1)
    line = entries["client-req.42"]
    assert line["status"] == 200 and line["method"] == "GET" and line["uri"] == "/v1/shows"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", line["upstream_addr"])
    # Both times are logged as numbers, and the intake's part is within the whole (an empty or "-" field, or the
    # two swapped, fails here). NGINX rounds each to the millisecond on its own: 0.005 within 0.004 happens.
    assert 0 <= float(line["upstream_response_time"]) <= float(line["request_time"]) + 0.001 < 5
    assert abs(datetime.fromisoformat(line["time"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert entries[rid]["upstream_addr"]


def test_web_client_is_a_single_page_app(front):
    _, _, client = front
    for path in ("/", "/shows/abc", "/me", "/admin"):
        page = client.get(path)
        assert page.status_code == 200 and page.text == INDEX, path
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
    asset = client.get("/assets/app-3f2a9c.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    _assert_json_error(client.get("/assets/missing-000.js"), 404, "not_found")
    assert client.get("/nginx-health").json() == {"status": "ok"}


def test_graceful_stop_leaves_no_nginx(front):
    nginx, _, client = front
    pid = nginx.pid()
    assert pid and running(pid)
    assert client.get("/v1/shows").status_code == 200
    workers = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    assert workers
    stopped = nginx.stop()
    assert stopped.returncode == 0 and "nginx stopped" in stopped.stderr
    assert not running(pid) and not any(running(w) for w in workers)
    assert "nginx: stopped" in nginx.run("status").stdout
