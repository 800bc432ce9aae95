"""The front door's hardening (issue 18) and its micro-cache (issue 17): the real NGINX as stack/nginx.sh
renders it, in front of stand-in intakes (tests/support/front_door.py: they answer with their name, send an
ETag and honour If-None-Match). docs/DESIGN-NOTES.md, "Security: the front door", lists what each test shows."""

from __future__ import annotations

import concurrent.futures
import json
import os
import pwd
import shutil
import socket
import stat
import time
from pathlib import Path

import httpx
import pytest

from tests.support.front_door import NamedUpstream, Nginx
from tests.support.processes import ROOT, uid_of

INDEX = "<!doctype html><title>boxoffice web</title><div id=root></div>"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
OTHER = "127.0.0.2"  # neither trusted nor uncached: a client like any on the internet


@pytest.fixture
def web_root(tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-3f2a9c.js").write_text("console.log('boxoffice')")
    (root / "assets" / "app-3f2a9c.js.map").write_text("{}")
    return root


@pytest.fixture
def front(tmp_path, web_root):
    upstream = NamedUpstream("a", tmp_path)
    nginx = Nginx(tmp_path / "nginx", [upstream.port], web_root).start()
    yield nginx
    nginx.stop()
    upstream.kill()


def _other(nginx: Nginx) -> httpx.Client:
    return httpx.Client(base_url=nginx.url, timeout=10, transport=httpx.HTTPTransport(local_address=OTHER))


def _assert_hardened(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name, response.headers)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "camera=()" in response.headers["permissions-policy"]
    assert response.headers["server"] == "nginx"  # no version (server_tokens off), never the intake's own
    assert response.headers["x-request-id"]


def test_every_answer_carries_the_security_headers(front):
    with httpx.Client(base_url=front.url, timeout=10) as client:
        answers = [
            client.get("/"),
            client.get("/shows/sh_1"),
            client.get("/assets/app-3f2a9c.js"),
            client.get("/v1/shows"),
            client.get("/v1/bookings/bk_1"),
            client.get("/assets/missing.js"),  # NGINX's own 404
            client.request("TRACE", "/v1/shows"),  # NGINX's own 405
            client.post("/v1/shows", content=b" " * (17 * 1024)),  # NGINX's own 413
        ]
    for response in answers:
        _assert_hardened(response)
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 200, 404, 405, 413]


def test_nginx_s_own_405_names_the_path_s_methods(front):
    with httpx.Client(base_url=front.url, timeout=10) as client:
        for method, path, allow in [
            ("TRACE", "/v1/shows", "GET, HEAD, POST"),
            ("TRACE", "/v1/shows?limit=2", "GET, HEAD, POST"),
            ("TRACE", "/v1/shows/sh_1", "GET, HEAD, PATCH"),
            ("TRACE", "/v1/shows/sh_1/waitlist", "DELETE, POST"),
            ("TRACE", "/v1/shows/sh_1/cancel", "POST"),
            ("TRACE", "/v1/shows/sh_1/bookings", "POST"),
            ("TRACE", "/v1/bookings/bk_1/confirm", "POST"),
            ("TRACE", "/v1/dev/token", "POST"),
            ("TRACE", "/", "GET, HEAD"),
            ("POST", "/", "GET, HEAD"),
            ("POST", "/assets/app-3f2a9c.js", "GET, HEAD"),
        ]:
            r = client.request(method, path)
            assert r.status_code == 405, (method, path, r.status_code)
            assert r.headers["allow"] == allow, (method, path)
            assert r.json()["error"]["code"] == "method_not_allowed"
        # An unknown method on the API reaches an instance, whose router answers it (405 with Allow there).
        assert client.request("FOO", "/v1/shows/sh_1/bookings").json()["method"] == "FOO"


def test_no_source_maps_no_operators_pages_on_the_public_port(front):
    with httpx.Client(base_url=front.url, timeout=10) as client:
        for path in ("/assets/app-3f2a9c.js.map", "/anything.js.map", "/metrics", "/nginx-status"):
            r = client.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
        assert client.get("/nginx-health").json() == {"status": "ok"}
    with httpx.Client(base_url=front.ops_url, timeout=10) as ops:
        assert "Active connections" in ops.get("/nginx-status").text
        assert ops.get("/metrics").status_code == 404


def test_the_access_log_holds_no_query_string(front):
    with httpx.Client(base_url=front.url, timeout=10) as client:
        client.get("/v1/shows?cursor=secret-cursor&limit=2", headers={"X-Request-Id": "masked-1"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        entries = {e["request_id"]: e for e in front.access_entries()}
        if "masked-1" in entries:
            break
        time.sleep(0.1)
    assert entries["masked-1"]["uri"] == "/v1/shows?…"
    assert "secret-cursor" not in front.access_log.read_text()


def test_a_redirect_is_relative(front):
    with httpx.Client(base_url=front.url, timeout=10) as client:
        r = client.get("/assets")  # a directory without its slash: NGINX's own 301
    assert r.status_code == 301 and r.headers["location"] == "/assets/"


def test_per_address_limits_answer_json_429_with_retry_after(tmp_path, web_root):
    upstream = NamedUpstream("a", tmp_path)
    nginx = Nginx(tmp_path / "nginx", [upstream.port], web_root, trusted=[]).start()
    try:
        with httpx.Client(base_url=nginx.url, timeout=10) as client:
            signins = [client.post("/v1/dev/token", json={"sub": "x"}) for _ in range(15)]
            with concurrent.futures.ThreadPoolExecutor(8) as pool:  # faster than 20/s, whatever a stand-in takes
                writes = list(pool.map(lambda _: client.post("/v1/shows/sh_1/bookings", json={}), range(120)))
        assert [r.status_code for r in signins].count(200) == 11  # burst 10, then 10 a minute
        limited = [r for r in signins + writes if r.status_code == 429]
        assert len(limited) >= 4 + 10  # writes: burst 40 at 20/s, sent faster than that
        for r in limited:
            assert r.json() == {
                "error": {"code": "rate_limited", "message": "too many requests from this address; slow down"}
            }
            assert r.headers["retry-after"] == "1"
            _assert_hardened(r)
    finally:
        nginx.stop()
        upstream.kill()


def test_the_trusted_address_is_not_limited(front):
    with httpx.Client(base_url=front.url, timeout=10) as client:
        assert {client.post("/v1/dev/token", json={}).status_code for _ in range(30)} == {200}
    with _other(front) as other:
        assert 429 in {other.post("/v1/dev/token", json={}).status_code for _ in range(30)}


def test_a_slow_client_s_headers_time_out(front):
    with socket.create_connection(("127.0.0.1", front.port)) as sock:
        sock.sendall(b"GET /v1/shows HTTP/1.1\r\nHost: x\r\n")
        sock.settimeout(20)
        started = time.monotonic()
        try:
            assert sock.recv(1024) == b""  # closed, unanswered…
        except ConnectionResetError:
            pass  # …or reset (reset_timedout_connection on)
        assert 8 < time.monotonic() - started < 13  # client_header_timeout 10s


# ---------------------------------------------------------------- the micro-cache


def test_anonymous_reads_are_micro_cached_by_full_uri(front):
    with _other(front) as other:
        for path in ("/v1/shows", "/v1/shows?limit=2", "/v1/shows/sh_1", "/v1/shows/sh_1/seats"):
            first, second = other.get(path), other.get(path)
            assert (first.headers["x-cache-status"], second.headers["x-cache-status"]) == ("MISS", "HIT"), path
            assert first.json()["at"] == second.json()["at"]
        assert other.get("/v1/shows?limit=3").headers["x-cache-status"] == "MISS"  # the query is in the key
        time.sleep(2.1)  # 1 s as NGINX counts (whole seconds): gone after two
        assert other.get("/v1/shows/sh_1").headers["x-cache-status"] in ("EXPIRED", "STALE", "REVALIDATED")


def test_what_is_never_cached(front):
    with _other(front) as other:
        for _ in range(2):
            token = other.get("/v1/shows/sh_2", headers={"Authorization": "Bearer t"})
            assert token.headers["x-cache-status"] == "BYPASS" and token.json()["authorization"] == "Bearer t"
            for path in ("/v1/shows/sh_2?private", "/v1/shows/sh_2?cookie"):
                assert other.get(path).headers["x-cache-status"] == "MISS", path
            assert "x-cache-status" not in other.get("/v1/bookings/bk_1").headers
            assert "x-cache-status" not in other.get("/v1/shows/sh_2/seats/stream").headers
            assert other.post("/v1/shows", json={}).json()["method"] == "POST"
    with httpx.Client(base_url=front.url, timeout=10) as tests:  # 127.0.0.1: the tests' own, uncached
        assert tests.get("/v1/shows/sh_3").headers["x-cache-status"] == "BYPASS"


def test_the_cache_answers_if_none_match_and_revalidates_with_the_etag(front):
    with _other(front) as other:
        first = other.get("/v1/shows/sh_4")
        assert first.headers["etag"] == '"a"' and first.json()["if_none_match"] is None
        cached = other.get("/v1/shows/sh_4", headers={"If-None-Match": '"a"'})
        assert (cached.status_code, cached.headers["x-cache-status"]) == (304, "HIT")
        assert other.get("/v1/shows/sh_4", headers={"If-None-Match": '"b"'}).status_code == 200
        # A request that skips the cache takes the client's If-None-Match to the intake, which answers it.
        assert other.get("/v1/shows/sh_4", headers={"If-None-Match": '"a"', "Authorization": "t"}).status_code == 304
        time.sleep(2.1)
        other.get("/v1/shows/sh_4")  # expired: refreshed by a conditional request, which the instance answers 304
        time.sleep(0.3)
        assert other.get("/v1/shows/sh_4").headers["x-cache-status"] in ("HIT", "REVALIDATED")


def test_one_request_fills_an_entry_while_the_others_wait(front):
    with _other(front) as other:
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda _: other.get("/v1/shows/sh_5?n=1"), range(40)))
    assert {r.status_code for r in answers} == {200}
    assert len({json.dumps(r.json()["at"]) for r in answers}) == 1  # one answer from the instance, shared


@pytest.mark.skipif(os.geteuid() != 0, reason="NGINX changes users only when started as root")
def test_the_workers_run_unprivileged_and_the_logs_are_private(tmp_path, settings):
    """Started as root (as `make up` is here), only NGINX's master keeps root: the workers, which parse every
    client's bytes, run as www-data (or nobody). A prefix they can reach: under the stack dir, not pytest's
    private temp dir, and the repository's own web build as the root."""
    web_root = ROOT / "web" / "dist"
    assert (web_root / "index.html").exists(), "make install builds web/dist"
    prefix = settings.stack_dir / "nginx-unprivileged-test"
    shutil.rmtree(prefix, ignore_errors=True)
    upstream = NamedUpstream("a", tmp_path)
    nginx = Nginx(prefix, [upstream.port], web_root, uncached=[]).start()
    try:
        master = nginx.pid()
        assert master is not None
        workers = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        assert workers
        uids = {uid_of(master), *(uid_of(w) for w in workers)}
        assert uid_of(master) == 0
        worker_uids = {uid_of(w) for w in workers}
        assert 0 not in worker_uids and worker_uids <= {pwd.getpwnam(u).pw_uid for u in ("www-data", "nobody")}, uids
        with httpx.Client(base_url=nginx.url, timeout=10) as client:
            assert client.get("/").status_code == 200  # the workers read the web root
            for _ in range(2):  # and write the micro-cache
                assert client.get("/v1/shows").status_code == 200
        for log in ("access.log", "error.log"):
            assert stat.S_IMODE((prefix / "logs" / log).stat().st_mode) == 0o640, log
    finally:
        nginx.stop()
        upstream.kill()
        shutil.rmtree(prefix, ignore_errors=True)
