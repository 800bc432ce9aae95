"""Typed settings, read once from the environment (then defaults).

`Settings` is a msgspec Struct: each field is one variable (`BOXOFFICE_` + the field's name in capitals), its
type and bounds are the field's annotation, its default the field's default (or, for the few defaults that
depend on other settings, computed in `from_env`). The environment's text is decoded with `msgspec.convert`
(`strict=False`: text to int, float, bool), one variable at a time, so that one `SettingsError` names every
bad variable at once, each with what is wrong with it.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from schemas import topics

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "BOXOFFICE_"

Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
LogLevel = Literal["debug", "info", "warning", "error"]
BatchMax = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
_FLAG_WORDS = {"0": "false", "no": "false", "off": "false", "1": "true", "yes": "true", "on": "true"}


class SettingsError(ValueError):
    pass


def env_name(field: str) -> str:
    """The environment variable of a settings field: `http_port` → `BOXOFFICE_HTTP_PORT`."""
    return PREFIX + field.upper()


class Settings(msgspec.Struct, frozen=True, kw_only=True, rename=env_name):
    stack_dir: Path = PROJECT_ROOT / ".stack"
    kafka_bootstrap: str = "127.0.0.1:19092"
    pg_dsn: str = "postgresql://boxoffice@127.0.0.1:15432/boxoffice"  # shard 0's primary; it also holds the catalog
    pg_read_dsn: str  # default: pg_dsn
    pg_shard_dsns: tuple[str, ...]  # every shard's writers' DSN, shard i at index i (space-separated; see split_list)
    pg_shard_read_dsns: tuple[str, ...]  # every shard's history readers' DSN (a standby preferred), same order
    pg_pool_size: Annotated[int, msgspec.Meta(ge=1, le=500)] = 10
    redis_url: str = "redis://127.0.0.1:16379/0"  # with sentinels: its path (db) and options only
    # Redis under Sentinel: the sentinels (host:port, comma- or space-separated; empty: redis_url is the server)
    # and the name of the primary they watch.
    redis_sentinels: tuple[str, ...] = ()
    redis_master: str = "boxoffice"
    http_host: str = "127.0.0.1"
    http_port: Port = 8000
    http_workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    rate_limit_per_s: Annotated[float, msgspec.Meta(ge=0.0, le=1e6)] = 20.0
    rate_limit_burst: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 40
    metrics_port: Port = 0
    auth_secret: str | None = None  # unset: the one in <stack dir>/auth-secret, when there is one
    log_level: LogLevel = "info"  # any case in the environment
    processor_group: str = "booking-processor"
    processor_topic: str = topics.COMMANDS  # a benchmark's own topic (with its own shard map) otherwise
    processor_batch_max: BatchMax = 10_000
    relay_batch_max: BatchMax = 10_000
    projections_group: str = "projections"
    expiry_interval_s: Annotated[float, msgspec.Meta(ge=0.05, le=3600.0)] = 1.0  # 0 would make a loop spin
    notifier_group: str = "notifier"
    smtp_host: str = "127.0.0.1"
    smtp_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 10025
    smtp_sender: str = "tickets@boxoffice.local"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    notify_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    notify_backoff_s: Annotated[float, msgspec.Meta(ge=0.01, le=3600.0)] = 0.5
    notify_lease_s: Annotated[float, msgspec.Meta(ge=1.0, le=3600.0)] = 60.0
    instance: str = ""  # this process's name among several of its kind (intake-1, intake-2, …)
    dev_signin: bool = False  # POST /v1/dev/token mints tokens for a name (local stack only); 1|0, yes|no, …
    # Open seat-map streams one intake process serves at most (0: no cap); beyond, 503 with Retry-After (NGINX
    # tries another instance). Each holds a connection, a queue and its share of a pub/sub subscription.
    seat_streams_max: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 2000
    replica_max_lag_s: Annotated[float, msgspec.Meta(ge=0.0, le=3600.0)] = 5.0  # beyond it, history reads primaries

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (an empty variable is an unset one). Raises one SettingsError
        naming every bad variable."""
        env = os.environ if env is None else env
        # Unset client settings (where Kafka, PostgreSQL and Redis are): what the local stack recorded when it
        # started (as it records its auth secret), so the CLI works in a plain shell. The environment wins,
        # and PostgreSQL's settings come from one place or the other, never mixed.
        env = {**_recorded_clients(Path(env.get(env_name("stack_dir")) or _default("stack_dir")), env), **env}
        values, problems = _decode(env)

        stack_dir: Path = values.setdefault("stack_dir", _default("stack_dir"))
        pg_dsn: str = values.setdefault("pg_dsn", _default("pg_dsn"))
        read_dsn: str = values.setdefault("pg_read_dsn", pg_dsn)
        shard_dsns = values.get("pg_shard_dsns") or (pg_dsn,)
        shard_read_dsns = values.get("pg_shard_read_dsns") or ((read_dsn,) if len(shard_dsns) == 1 else shard_dsns)
        values["pg_shard_dsns"], values["pg_shard_read_dsns"] = shard_dsns, shard_read_dsns
        if "pg_shard_dsns" not in problems and shard_dsns[0] != pg_dsn:
            problems["pg_shard_dsns"] = "must start with BOXOFFICE_PG_DSN (shard 0 holds the catalog)"
        if "pg_shard_read_dsns" not in problems and len(shard_read_dsns) != len(shard_dsns):
            problems["pg_shard_read_dsns"] = "must name one replica (or primary) per shard"
        if values.get("auth_secret") is None:
            secret_file = stack_dir / "auth-secret"
            if secret_file.exists():
                values["auth_secret"] = secret_file.read_text().strip() or None

        if problems:
            raise SettingsError(
                "bad settings: " + "; ".join(f"{env_name(name)} {reason}" for name, reason in problems.items())
            )
        return cls(**values)

    def require_auth_secret(self) -> str:
        if not self.auth_secret:
            raise SettingsError(
                f"BOXOFFICE_AUTH_SECRET is not set and the local stack has no auth-secret file in {self.stack_dir}"
            )
        return self.auth_secret


_FIELDS = {field.name: field for field in msgspec.structs.fields(Settings)}


def _default(name: str) -> Any:
    return _FIELDS[name].default


def _decode(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Every variable that is set (not empty), decoded with its field's type: the values by field name, and
    what is wrong with each variable that could not be decoded (by field name)."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, field in _FIELDS.items():
        raw = env.get(field.encode_name)
        if raw is None or raw == "":
            continue
        text = _prepare(raw, field.type)
        if text is None:
            continue
        try:
            values[name] = msgspec.convert(text, field.type, strict=False, dec_hook=_dec_hook)
        except msgspec.ValidationError as exc:
            problems[name] = f"{_reason(exc, field.type)}, got {raw!r}"
    return values, problems


def _prepare(raw: str, kind: Any) -> str | list[str] | None:
    """The variable's text as msgspec should convert it; None when it means "unset"."""
    base = _base(kind)
    if base is bool:
        flag = raw.strip().lower()
        return _FLAG_WORDS.get(flag, flag) or None
    if base in (int, float):
        return raw.strip()
    if base is tuple:
        return split_list(raw)
    if typing.get_origin(base) is Literal:
        return raw.lower()
    return raw


_SCHEME_COMMA = re.compile(r",(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def split_list(raw: str) -> list[str]:
    """A list variable's items: separated by whitespace, or by commas. A comma inside a URL's host list (a
    multi-host DSN: `postgresql://u@h1:5432,h2:5432/db`) does not separate items; one before another URL
    (`postgresql://…,postgresql://…`) does."""
    parts = raw.split()
    if len(parts) <= 1 and "://" not in raw:
        parts = raw.split(",")
    items: list[str] = []
    for part in parts:
        items += _SCHEME_COMMA.split(part)
    return [item.strip(" ,") for item in items if item.strip(" ,")]


def _base(kind: Any) -> Any:
    """The type under Annotated[…] and `| None`; the origin of a generic (tuple[str, ...] → tuple)."""
    if typing.get_origin(kind) is Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    if typing.get_origin(kind) is tuple:
        return tuple
    return kind


def _reason(exc: msgspec.ValidationError, kind: Any) -> str:
    base = _base(kind)
    if base is bool:
        return "must be 1 or 0 (true|false, yes|no, on|off)"
    if typing.get_origin(base) is Literal:
        return "must be " + "|".join(typing.get_args(base))
    meta = typing.get_args(kind)[1] if typing.get_origin(kind) is Annotated else None
    if base in (int, float) and isinstance(meta, msgspec.Meta) and meta.ge is not None and meta.le is not None:
        return f"must be {'an integer' if base is int else 'a number'} between {meta.ge} and {meta.le}"
    return str(exc)  # msgspec's own words (no field of Settings has other bounds today)


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(f"no conversion to {kind}")


RECORDED_CLIENTS = "clients.env"  # in the stack dir, written by stack/stack.sh up
_KAFKA_AND_REDIS = ("kafka_bootstrap", "redis_url", "redis_sentinels", "redis_master")
_POSTGRES = ("pg_dsn", "pg_read_dsn", "pg_shard_dsns", "pg_shard_read_dsns")


def _recorded_clients(stack_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The client settings `stack/stack.sh up` recorded in <stack dir>/clients.env (`BOXOFFICE_X=value` lines)
    that the environment leaves unset. PostgreSQL's come as a whole: none of them when any is set."""
    try:
        lines = (stack_dir / RECORDED_CLIENTS).read_text().splitlines()
    except OSError:
        return {}
    recorded = dict(line.split("=", 1) for line in lines if "=" in line)
    wanted = [*_KAFKA_AND_REDIS, *([] if any(env_name(f) in env for f in _POSTGRES) else _POSTGRES)]
    return {env_name(f): recorded[env_name(f)] for f in wanted if env_name(f) in recorded}
