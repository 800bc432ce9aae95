from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from intake.credentials import check_dev_signin, signer, token_verifier
from intake.tokens import mint
from runtime.auth_keys import ensure_stack_keys, read_private_key
from runtime.settings import PROJECT_ROOT, Settings, SettingsError


def test_settings_defaults_and_overrides(tmp_path):
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_HTTP_PORT": "9000"})
    assert settings.http_port == 9000
    assert settings.pg_read_dsn == settings.pg_dsn
    assert settings.auth_jwks is None and settings.auth_signing_key is None
    with pytest.raises(SettingsError, match="BOXOFFICE_AUTH_JWKS"):
        settings.require_auth_jwks()
    with pytest.raises(SettingsError, match="BOXOFFICE_AUTH_SIGNING_KEY"):
        settings.require_signing_key()


def test_the_stack_keys_are_generated_once_private_and_found_by_the_settings(tmp_path):
    written = ensure_stack_keys(tmp_path)
    assert sorted(p.name for p in written) == ["dev-signing-key.pem", "jwks.json", "signing-key.pem", "ticket-key.pem"]
    assert ensure_stack_keys(tmp_path) == []  # nothing replaced on the next `up`
    for name in ("signing-key.pem", "dev-signing-key.pem", "ticket-key.pem"):
        assert stat.S_IMODE((tmp_path / "auth" / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "auth").stat().st_mode) == 0o700
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path)})
    assert settings.auth_jwks == str(tmp_path / "auth" / "jwks.json")
    assert settings.auth_signing_key == tmp_path / "auth" / "signing-key.pem"
    # `boxoffice token` signs with the stack's key; the intake verifies with the stack's JWKS.
    principal = token_verifier(settings).verify(mint(signer(settings), "ops", "admin"))
    assert (principal.sub, principal.role) == ("ops", "admin")
    # The JWKS holds the signing key only: a dev token is not trusted while dev sign-in is off.
    assert "dev" not in (tmp_path / "auth" / "jwks.json").read_text()


def test_a_private_key_others_can_read_is_refused(tmp_path):
    ensure_stack_keys(tmp_path)
    key = tmp_path / "auth" / "signing-key.pem"
    os.chmod(key, 0o644)
    with pytest.raises(SettingsError, match="readable by others"):
        read_private_key(key)


def test_the_dev_issuer_is_not_an_issuer_production_may_name():
    with pytest.raises(SettingsError, match="BOXOFFICE_AUTH_ISSUER"):
        Settings.from_env({"BOXOFFICE_AUTH_ISSUER": "boxoffice-dev"})


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("intake.internal", False),
    ],
)
def test_dev_sign_in_only_on_loopback(host, allowed):
    settings = Settings.from_env({"BOXOFFICE_DEV_SIGNIN": "1", "BOXOFFICE_HTTP_HOST": host})
    if allowed:
        check_dev_signin(settings)
    else:
        with pytest.raises(SettingsError, match="loopback"):
            check_dev_signin(settings)
    check_dev_signin(Settings.from_env({"BOXOFFICE_HTTP_HOST": host}))  # off: any host


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOXOFFICE_HTTP_PORT", "eighty"),
        ("BOXOFFICE_HTTP_PORT", "70000"),
        ("BOXOFFICE_LOG_LEVEL", "loud"),
        # A period of 0 (or less, or not a number) would make a loop spin: refused, naming the variable.
        ("BOXOFFICE_EXPIRY_INTERVAL_S", "0"),
        ("BOXOFFICE_EXPIRY_INTERVAL_S", "-1"),
        ("BOXOFFICE_EXPIRY_INTERVAL_S", "nan"),
        ("BOXOFFICE_NOTIFY_BACKOFF_S", "0"),
        ("BOXOFFICE_RATE_LIMIT_PER_S", "-5"),
        ("BOXOFFICE_DEV_SIGNIN", "maybe"),
    ],
)
def test_bad_settings_name_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_every_bad_variable_is_named_in_one_error_with_what_is_wrong(tmp_path):
    env = {
        "BOXOFFICE_STACK_DIR": str(tmp_path),
        "BOXOFFICE_HTTP_PORT": "eighty",
        "BOXOFFICE_SMTP_PORT": "0",
        "BOXOFFICE_EXPIRY_INTERVAL_S": "nan",
        "BOXOFFICE_LOG_LEVEL": "loud",
        "BOXOFFICE_DEV_SIGNIN": "maybe",
        "BOXOFFICE_PG_SHARD_DSNS": "postgresql://elsewhere/x",
        "BOXOFFICE_PG_POOL_SIZE": "12",  # a good one among them is not named
    }
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    for expected in [
        "BOXOFFICE_HTTP_PORT must be an integer between 0 and 65535, got 'eighty'",
        "BOXOFFICE_SMTP_PORT must be an integer between 1 and 65535, got '0'",
        "BOXOFFICE_EXPIRY_INTERVAL_S must be a number between 0.05 and 3600.0, got 'nan'",
        "BOXOFFICE_LOG_LEVEL must be debug|info|warning|error, got 'loud'",
        "BOXOFFICE_DEV_SIGNIN must be 1 or 0",
        "BOXOFFICE_PG_SHARD_DSNS must start with BOXOFFICE_PG_DSN",
    ]:
        assert expected in message
    assert "POOL_SIZE" not in message


def test_settings_defaults(tmp_path):
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path)})
    primary = "postgresql://boxoffice@127.0.0.1:15432/boxoffice"
    assert {name: getattr(settings, name) for name in settings.__struct_fields__} == {
        "stack_dir": tmp_path,
        "kafka_bootstrap": "127.0.0.1:19092",
        "pg_dsn": primary,
        "pg_read_dsn": primary,
        "pg_shard_dsns": (primary,),
        "pg_shard_read_dsns": (primary,),
        "pg_pool_size": 10,
        "pg_passfile": tmp_path / "secrets" / "pgpass",
        "pg_owner_user": "boxoffice_owner",
        "redis_url": "redis://127.0.0.1:16379/0",
        "redis_sentinels": (),
        "redis_master": "boxoffice",
        "secrets_dir": tmp_path / "secrets",
        "http_host": "127.0.0.1",
        "http_port": 8000,
        "http_workers": 1,
        "rate_limit_per_s": 20.0,
        "rate_limit_burst": 40,
        "metrics_port": 0,
        "auth_jwks": None,
        "auth_issuer": "boxoffice",
        "auth_audience": "boxoffice-api",
        "auth_max_ttl_s": 86400,
        "auth_jwks_refresh_s": 300.0,
        "auth_signing_key": None,
        "auth_dev_signing_key": None,
        "ticket_signing_key": None,
        "checkin_wait_s": 5.0,
        "payment_provider": "dev",
        "payment_api_url": "http://127.0.0.1:9107",
        "payment_api_key": None,
        "payment_webhook_secret": None,
        "payment_webhook_tolerance_s": 300.0,
        "payments_required": False,
        "public_url": "http://127.0.0.1:8000",
        "payment_page_url": None,
        "payment_webhook_url": "http://127.0.0.1:8000/v1/payments/webhook/dev",
        "log_level": "info",
        "processor_group": "booking-processor",
        "processor_topic": "booking.commands",
        "processor_batch_max": 10_000,
        "relay_batch_max": 10_000,
        "projections_group": "projections",
        "expiry_interval_s": 1.0,
        "notifier_group": "notifier",
        "smtp_host": "127.0.0.1",
        "smtp_port": 10025,
        "smtp_sender": "tickets@boxoffice.local",
        "webhook_url": None,
        "webhook_secret": None,
        "notify_max_attempts": 5,
        "notify_backoff_s": 0.5,
        "notify_lease_s": 60.0,
        "instance": "",
        "dev_signin": False,
        "seat_streams_max": 2000,
        "replica_max_lag_s": 5.0,
    }
    assert Settings.from_env({}).stack_dir == PROJECT_ROOT / ".stack"
    # An empty variable is an unset one.
    assert Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_HTTP_PORT": ""}).http_port == 8000


def test_settings_derived_defaults_follow_what_they_derive_from(tmp_path):
    settings = Settings.from_env(
        {"BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_HTTP_PORT": "9000", "BOXOFFICE_PG_DSN": "postgresql://p/x"}
    )
    assert settings.pg_read_dsn == "postgresql://p/x" and settings.pg_shard_dsns == ("postgresql://p/x",)
    two = Settings.from_env(
        {
            "BOXOFFICE_STACK_DIR": str(tmp_path),
            "BOXOFFICE_PG_DSN": "postgresql://p/x",
            "BOXOFFICE_PG_SHARD_DSNS": " postgresql://p/x , postgresql://q/x ,",
        }
    )
    assert two.pg_shard_dsns == ("postgresql://p/x", "postgresql://q/x")
    assert two.pg_shard_read_dsns == two.pg_shard_dsns  # several shards, no replicas named: their primaries
    with pytest.raises(SettingsError, match="BOXOFFICE_PG_SHARD_READ_DSNS must name one replica"):
        Settings.from_env(
            {
                "BOXOFFICE_PG_DSN": "postgresql://p/x",
                "BOXOFFICE_PG_SHARD_DSNS": "postgresql://p/x,postgresql://q/x",
                "BOXOFFICE_PG_SHARD_READ_DSNS": "postgresql://r/x",
            }
        )


# (variable, attribute, lowest accepted, highest accepted): both ends pass, one step beyond either is refused.
BOUNDS = [
    ("BOXOFFICE_PG_POOL_SIZE", "pg_pool_size", 1, 500),
    ("BOXOFFICE_HTTP_PORT", "http_port", 0, 65535),
    ("BOXOFFICE_HTTP_WORKERS", "http_workers", 1, 64),
    ("BOXOFFICE_RATE_LIMIT_PER_S", "rate_limit_per_s", 0.0, 1e6),
    ("BOXOFFICE_RATE_LIMIT_BURST", "rate_limit_burst", 1, 100_000),
    ("BOXOFFICE_METRICS_PORT", "metrics_port", 0, 65535),
    ("BOXOFFICE_PROCESSOR_BATCH_MAX", "processor_batch_max", 1, 100_000),
    ("BOXOFFICE_RELAY_BATCH_MAX", "relay_batch_max", 1, 100_000),
    ("BOXOFFICE_EXPIRY_INTERVAL_S", "expiry_interval_s", 0.05, 3600.0),
    ("BOXOFFICE_SMTP_PORT", "smtp_port", 1, 65535),
    ("BOXOFFICE_NOTIFY_MAX_ATTEMPTS", "notify_max_attempts", 1, 50),
    ("BOXOFFICE_NOTIFY_BACKOFF_S", "notify_backoff_s", 0.01, 3600.0),
    ("BOXOFFICE_NOTIFY_LEASE_S", "notify_lease_s", 1.0, 3600.0),
    ("BOXOFFICE_SEAT_STREAMS_MAX", "seat_streams_max", 0, 1_000_000),
    ("BOXOFFICE_REPLICA_MAX_LAG_S", "replica_max_lag_s", 0.0, 3600.0),
]


@pytest.mark.parametrize(("name", "attribute", "lo", "hi"), BOUNDS)
def test_settings_bounds(name, attribute, lo, hi):
    step = 1 if isinstance(lo, int) else 0.001
    for ok in (lo, hi):
        value = getattr(Settings.from_env({name: f" {ok} "}), attribute)  # surrounding blanks are ignored
        assert value == ok and type(value) is type(ok)
    for bad in (lo - step, hi + step, "twelve"):
        with pytest.raises(SettingsError, match=f"{name} must be an? (integer|number) between {lo} and {hi}"):
            Settings.from_env({name: str(bad)})
    if isinstance(lo, int):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: "1.5"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        (" Yes ", True),
        ("ON", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
        (" ", False),
    ],
)
def test_settings_flags(raw, expected):
    assert Settings.from_env({"BOXOFFICE_DEV_SIGNIN": raw}).dev_signin is expected


def test_settings_log_level_in_any_case():
    assert Settings.from_env({"BOXOFFICE_LOG_LEVEL": "WARNING"}).log_level == "warning"


def test_settings_find_the_engines_the_local_stack_recorded(tmp_path):
    primary = "postgresql://boxoffice@127.0.0.1:15432,127.0.0.1:15433/boxoffice?target_session_attrs=read-write"
    shard1 = "postgresql://boxoffice@127.0.0.1:15434,127.0.0.1:15435/boxoffice?target_session_attrs=read-write"
    readers = primary.replace("read-write", "prefer-standby") + " " + shard1.replace("read-write", "prefer-standby")
    (tmp_path / "clients.env").write_text(
        f"BOXOFFICE_KAFKA_BOOTSTRAP=127.0.0.1:19092,127.0.0.1:19094\nBOXOFFICE_PG_DSN={primary}\n"
        f"BOXOFFICE_PG_SHARD_DSNS={primary} {shard1}\nBOXOFFICE_PG_SHARD_READ_DSNS={readers}\n"
        "BOXOFFICE_REDIS_SENTINELS=127.0.0.1:16381,127.0.0.1:16382\nBOXOFFICE_REDIS_MASTER=\n"
    )
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path)})
    assert settings.pg_dsn == primary and settings.pg_shard_dsns == (primary, shard1)
    assert settings.pg_shard_read_dsns == tuple(readers.split())
    assert settings.kafka_bootstrap == "127.0.0.1:19092,127.0.0.1:19094"
    assert settings.redis_sentinels == ("127.0.0.1:16381", "127.0.0.1:16382")
    assert settings.redis_master == "boxoffice"  # recorded empty: unset, the default
    # The environment wins over the file; PostgreSQL's settings come from one place only.
    other = "postgresql://x@127.0.0.1:5432/x"
    explicit = Settings.from_env(
        {"BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_PG_DSN": other, "BOXOFFICE_KAFKA_BOOTSTRAP": "k:1"}
    )
    assert explicit.pg_shard_dsns == (other,) and explicit.pg_shard_read_dsns == (other,)
    assert explicit.kafka_bootstrap == "k:1" and explicit.redis_sentinels == ("127.0.0.1:16381", "127.0.0.1:16382")


def test_settings_without_a_record_are_the_defaults(tmp_path):
    (tmp_path / "clients.env").write_text("garbage\n")
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path)})
    assert settings.pg_shard_dsns == (settings.pg_dsn,) and settings.redis_sentinels == ()


def test_the_owner_dsn_names_the_owner_role_on_the_same_hosts():
    from runtime.clients import owner_dsn

    dsn = "postgresql://boxoffice@127.0.0.1:5432,127.0.0.1:5433/boxoffice?target_session_attrs=read-write"
    settings = Settings.from_env({"BOXOFFICE_PG_DSN": dsn, "BOXOFFICE_PG_OWNER_USER": "schema_owner"})
    assert owner_dsn(settings) == (
        "postgresql://schema_owner@127.0.0.1:5432,127.0.0.1:5433/boxoffice?target_session_attrs=read-write"
    )
    with pytest.raises(SettingsError, match="BOXOFFICE_PG_OWNER_USER"):
        Settings.from_env({"BOXOFFICE_PG_OWNER_USER": "x'; drop"})


def test_stack_keys_the_process_may_not_read_are_not_settings(tmp_path, monkeypatch):
    """The services' OS user cannot enter the stack's auth/ (root's, 0700): even asking whether a file there
    exists is refused (EACCES; the tests run as root, which reads through any mode, so the refusal is
    simulated). Its settings leave those keys unset (it is given its own copies) instead of failing."""
    ensure_stack_keys(tmp_path)
    real = Path.is_file

    def refused(path: Path) -> bool:
        if path.parent == tmp_path / "auth":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "is_file", refused)
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path)})
    assert settings.auth_signing_key is None and settings.ticket_signing_key is None and settings.auth_jwks is None
