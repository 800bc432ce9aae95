"""stack/nginx/boxoffice.conf against the operations table: NGINX's own 405 (TRACE never reaches an intake)
names the methods of the path as the intake's router would, and the micro-cache's location takes exactly the
anonymous GETs of the API."""

from __future__ import annotations

import re

from intake.operations import OPERATIONS
from runtime.settings import PROJECT_ROOT

CONF = (PROJECT_ROOT / "stack" / "nginx" / "boxoffice.conf").read_text()
SAMPLE = {"{show_id}": "sh_1", "{booking_id}": "bk_1"}


def _concrete(path: str) -> str:
    for name, value in SAMPLE.items():
        path = path.replace(name, value)
    return path


def _allow_map() -> tuple[str, list[tuple[re.Pattern, str]]]:
    body = re.search(r"map \$request_uri \$boxoffice_allow \{(.*?)\n\}", CONF, re.S).group(1)
    default, rules = "", []
    for line in body.strip().splitlines():
        match = re.match(r'\s*(default|"~(.+)")\s+"([^"]+)";', line)
        assert match, line
        if match.group(1) == "default":
            default = match.group(3)
        else:
            rules.append((re.compile(match.group(2)), match.group(3)))
    return default, rules


def _nginx_allow(uri: str) -> str:
    default, rules = _allow_map()
    return next((allow for pattern, allow in rules if pattern.search(uri)), default)


def _intake_allow(path: str) -> str:
    methods = {op.method for op in OPERATIONS if op.path == path}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def test_nginx_s_405_names_the_methods_of_every_path():
    for path in {op.path for op in OPERATIONS}:
        uri = _concrete(path)
        assert _nginx_allow(uri) == _intake_allow(path), path
        assert _nginx_allow(uri + "?limit=2") == _intake_allow(path), path


def test_the_micro_cache_takes_the_anonymous_reads_only():
    cached = re.compile(re.search(r"location ~ (\S+) \{\n(?:[^}]*\n)*?\s+proxy_cache boxoffice_micro;", CONF).group(1))
    for op in OPERATIONS:
        in_cache_location = bool(cached.search(_concrete(op.path)))
        if op.method == "GET" and op.auth == "public" and op.path.startswith("/v1/") and "stream" not in op.path:
            assert in_cache_location, op.path
        elif op.method == "GET":
            assert not in_cache_location, op.path  # a token's reads and the stream never pass the cache


def test_nginx_waits_longer_than_the_longest_booking_wait():
    """A booking read with `Prefer: wait=30` is held open 30 s: NGINX's read timeout for the API is above it
    (else a long wait would end as NGINX's 504 instead of the intake's 304)."""
    from intake.conditional import MAX_WAIT_S

    timeouts = [int(s) for s in re.findall(r"^\s*proxy_read_timeout (\d+)s;", CONF, re.M)]
    assert timeouts and min(timeouts) > MAX_WAIT_S, timeouts
