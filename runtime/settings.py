"""Typed settings, read once from the environment (then defaults). A bad value fails naming the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    pass


def _int(env: Mapping[str, str], name: str, default: int, lo: int = 0, hi: int = 2**31) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not lo <= value <= hi:  # also refuses nan
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {raw}")
    return value


def _recorded_shards(stack_dir: Path, pg_dsn: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The shard DSNs `stack/stack.sh up` wrote to <stack dir>/pg-shards (`primaries=…`, `replicas=…`), when
    they belong to this primary; empty otherwise."""
    try:
        lines = dict(line.split("=", 1) for line in (stack_dir / "pg-shards").read_text().splitlines() if "=" in line)
    except OSError:
        return (), ()
    primaries = tuple(d for d in lines.get("primaries", "").split(",") if d)
    replicas = tuple(d for d in lines.get("replicas", "").split(",") if d)
    if not primaries or primaries[0] != pg_dsn or len(replicas) != len(primaries):
        return (), ()
    return primaries, replicas


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0, got {raw!r}")


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    return default if raw is None or raw == "" else raw


@dataclass(frozen=True)
class Settings:
    stack_dir: Path
    kafka_bootstrap: str
    pg_dsn: str  # shard 0's primary; it also holds the catalog (the shard map)
    pg_read_dsn: str
    pg_shard_dsns: tuple[str, ...]  # every shard's primary, shard i at index i
    pg_shard_read_dsns: tuple[str, ...]  # every shard's streaming replica (or primary), same order
    pg_pool_size: int
    redis_url: str
    http_host: str
    http_port: int
    http_workers: int
    rate_limit_per_s: float
    rate_limit_burst: int
    metrics_port: int
    auth_secret: str | None
    log_level: str
    processor_group: str
    processor_topic: str  # booking.commands; a benchmark's own topic (with its own shard map) otherwise
    processor_batch_max: int
    relay_batch_max: int
    projections_group: str
    expiry_interval_s: float
    notifier_group: str
    smtp_host: str
    smtp_port: int
    smtp_sender: str
    webhook_url: str | None
    nginx_status_url: str
    webhook_secret: str | None
    notify_max_attempts: int
    notify_backoff_s: float
    notify_lease_s: float
    instance: str  # this process's name among several of its kind (intake-1, intake-2, …)
    dev_signin: bool  # POST /v1/dev/token mints tokens for a name (local stack only)
    replica_max_lag_s: float  # history reads fall back to the primary beyond this replica lag

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        stack_dir = Path(_str(env, "BOXOFFICE_STACK_DIR", str(PROJECT_ROOT / ".stack")))
        pg_dsn = _str(env, "BOXOFFICE_PG_DSN", "postgresql://boxoffice@127.0.0.1:15432/boxoffice")
        read_dsn = _str(env, "BOXOFFICE_PG_READ_DSN", pg_dsn)
        # Unset: the shards the local stack recorded when it started (as it records its auth secret).
        # Shards named in the environment take their replicas from the environment too, never from the file.
        recorded = ((), ()) if "BOXOFFICE_PG_SHARD_DSNS" in env else _recorded_shards(stack_dir, pg_dsn)
        shard_dsns = _list(env, "BOXOFFICE_PG_SHARD_DSNS") or recorded[0] or (pg_dsn,)
        shard_read_dsns = (
            _list(env, "BOXOFFICE_PG_SHARD_READ_DSNS")
            or recorded[1]
            or ((read_dsn,) if len(shard_dsns) == 1 else shard_dsns)
        )
        if shard_dsns[0] != pg_dsn:
            raise SettingsError("BOXOFFICE_PG_SHARD_DSNS must start with BOXOFFICE_PG_DSN (shard 0 holds the catalog)")
        if len(shard_read_dsns) != len(shard_dsns):
            raise SettingsError("BOXOFFICE_PG_SHARD_READ_DSNS must name one replica (or primary) per shard")
        secret = env.get("BOXOFFICE_AUTH_SECRET") or None
        if secret is None:
            secret_file = stack_dir / "auth-secret"
            if secret_file.exists():
                secret = secret_file.read_text().strip() or None
        log_level = _str(env, "BOXOFFICE_LOG_LEVEL", "info").lower()
        if log_level not in {"debug", "info", "warning", "error"}:
            raise SettingsError(f"BOXOFFICE_LOG_LEVEL must be debug|info|warning|error, got {log_level!r}")
        return cls(
            stack_dir=stack_dir,
            kafka_bootstrap=_str(env, "BOXOFFICE_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
            pg_dsn=pg_dsn,
            pg_read_dsn=read_dsn,
            pg_shard_dsns=shard_dsns,
            pg_shard_read_dsns=shard_read_dsns,
            pg_pool_size=_int(env, "BOXOFFICE_PG_POOL_SIZE", 10, 1, 500),
            redis_url=_str(env, "BOXOFFICE_REDIS_URL", "redis://127.0.0.1:16379/0"),
            http_host=_str(env, "BOXOFFICE_HTTP_HOST", "127.0.0.1"),
            http_port=_int(env, "BOXOFFICE_HTTP_PORT", 8000, 0, 65535),
            http_workers=_int(env, "BOXOFFICE_HTTP_WORKERS", 1, 1, 64),
            rate_limit_per_s=_float(env, "BOXOFFICE_RATE_LIMIT_PER_S", 20.0, 0.0, 1e6),
            rate_limit_burst=_int(env, "BOXOFFICE_RATE_LIMIT_BURST", 40, 1, 100_000),
            metrics_port=_int(env, "BOXOFFICE_METRICS_PORT", 0, 0, 65535),
            auth_secret=secret,
            log_level=log_level,
            processor_group=_str(env, "BOXOFFICE_PROCESSOR_GROUP", "booking-processor"),
            processor_topic=_str(env, "BOXOFFICE_PROCESSOR_TOPIC", "booking.commands"),
            processor_batch_max=_int(env, "BOXOFFICE_PROCESSOR_BATCH_MAX", 10_000, 1, 100_000),
            relay_batch_max=_int(env, "BOXOFFICE_RELAY_BATCH_MAX", 10_000, 1, 100_000),
            projections_group=_str(env, "BOXOFFICE_PROJECTIONS_GROUP", "projections"),
            expiry_interval_s=_float(env, "BOXOFFICE_EXPIRY_INTERVAL_S", 1.0, 0.05, 3600.0),
            notifier_group=_str(env, "BOXOFFICE_NOTIFIER_GROUP", "notifier"),
            smtp_host=_str(env, "BOXOFFICE_SMTP_HOST", "127.0.0.1"),
            smtp_port=_int(env, "BOXOFFICE_SMTP_PORT", 10025, 1, 65535),
            smtp_sender=_str(env, "BOXOFFICE_SMTP_SENDER", "tickets@boxoffice.local"),
            webhook_url=env.get("BOXOFFICE_WEBHOOK_URL") or None,
            nginx_status_url=_str(
                env,
                "BOXOFFICE_NGINX_STATUS_URL",
                f"http://127.0.0.1:{_int(env, 'BOXOFFICE_HTTP_PORT', 8000, 0, 65535)}/nginx-status",
            ),
            webhook_secret=env.get("BOXOFFICE_WEBHOOK_SECRET") or None,
            notify_max_attempts=_int(env, "BOXOFFICE_NOTIFY_MAX_ATTEMPTS", 5, 1, 50),
            notify_backoff_s=_float(env, "BOXOFFICE_NOTIFY_BACKOFF_S", 0.5, 0.01, 3600.0),
            notify_lease_s=_float(env, "BOXOFFICE_NOTIFY_LEASE_S", 60.0, 1.0, 3600.0),
            instance=_str(env, "BOXOFFICE_INSTANCE", ""),
            replica_max_lag_s=_float(env, "BOXOFFICE_REPLICA_MAX_LAG_S", 5.0, 0.0, 3600.0),
            dev_signin=_flag(env, "BOXOFFICE_DEV_SIGNIN"),
        )

    def require_auth_secret(self) -> str:
        if not self.auth_secret:
            raise SettingsError(
                f"BOXOFFICE_AUTH_SECRET is not set and the local stack has no auth-secret file in {self.stack_dir}"
            )
        return self.auth_secret
