from __future__ import annotations

import pytest

from intake.tokens import InvalidToken, mint, verify
from runtime.settings import Settings, SettingsError


def test_settings_defaults_and_overrides(tmp_path):
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_HTTP_PORT": "9000"})
    assert settings.http_port == 9000
    assert settings.pg_read_dsn == settings.pg_dsn
    assert settings.auth_secret is None
    with pytest.raises(SettingsError, match="BOXOFFICE_AUTH_SECRET"):
        settings.require_auth_secret()


def test_settings_read_the_stack_secret(tmp_path):
    (tmp_path / "auth-secret").write_text("s3cret\n")
    assert Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path)}).auth_secret == "s3cret"


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


def test_settings_find_the_shards_the_local_stack_recorded(tmp_path):
    primary = "postgresql://boxoffice@127.0.0.1:15432/boxoffice"
    shard1 = "postgresql://boxoffice@127.0.0.1:15434/boxoffice"
    replicas = "postgresql://boxoffice@127.0.0.1:15433/boxoffice,postgresql://boxoffice@127.0.0.1:15435/boxoffice"
    (tmp_path / "pg-shards").write_text(f"primaries={primary},{shard1}\nreplicas={replicas}\n")
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_PG_DSN": primary})
    assert settings.pg_shard_dsns == (primary, shard1)
    assert settings.pg_shard_read_dsns == tuple(replicas.split(","))
    # The environment wins over the file.
    explicit = Settings.from_env(
        {"BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_PG_DSN": primary, "BOXOFFICE_PG_SHARD_DSNS": primary}
    )
    assert explicit.pg_shard_dsns == (primary,)


@pytest.mark.parametrize(
    "content",
    [
        "primaries=postgresql://other@127.0.0.1:5432/x,postgresql://b@127.0.0.1:1/x\nreplicas=a,b\n",  # another stack's
        "primaries=postgresql://boxoffice@127.0.0.1:15432/boxoffice,b\nreplicas=a\n",  # one replica short
        "garbage\n",
    ],
)
def test_settings_ignore_a_shard_record_that_does_not_fit(tmp_path, content):
    primary = "postgresql://boxoffice@127.0.0.1:15432/boxoffice"
    (tmp_path / "pg-shards").write_text(content)
    settings = Settings.from_env({"BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_PG_DSN": primary})
    assert settings.pg_shard_dsns == (primary,)
    assert settings.pg_shard_read_dsns == (primary,)


def test_tokens_round_trip_and_reject_tampering():
    token = mint("k" * 32, "alice", "admin", 60, email="a@example.com")
    principal, expires = verify("k" * 32, token)
    assert expires > 0
    assert (principal.sub, principal.role, principal.email, principal.is_admin) == (
        "alice",
        "admin",
        "a@example.com",
        True,
    )
    with pytest.raises(InvalidToken):
        verify("x" * 32, token)
    with pytest.raises(InvalidToken):
        verify("k" * 32, mint("k" * 32, "alice", ttl=-5))
    with pytest.raises(ValueError):
        mint("k" * 32, "bad sub!")


@pytest.mark.parametrize(
    ("claim", "value"),
    [("email", "a\x00@example.com"), ("email", "not-an-address"), ("phone", "call me"), ("sub", "al ice")],
)
def test_claims_that_would_reach_a_command_are_checked_with_the_contract(claim, value):
    import jwt

    token = jwt.encode({"sub": "alice", "role": "customer", "exp": 2**40, claim: value}, "k" * 32, "HS256")
    with pytest.raises(InvalidToken, match=claim):
        verify("k" * 32, token)


def test_token_cache_is_bounded_least_recently_used_first():
    from intake.tokens import TokenVerifier

    verifier = TokenVerifier("k" * 32, capacity=2)
    a, b, c = (mint("k" * 32, name) for name in "abc")
    verifier.verify(a)
    verifier.verify(b)
    verifier.verify(a)  # a is now the most recent
    verifier.verify(c)  # evicts b alone, not everything
    assert set(verifier._cache) == {a, c}


def test_token_cache_still_refuses_an_expired_token():
    import time

    from intake.tokens import TokenVerifier

    verifier = TokenVerifier("k" * 32)
    token = mint("k" * 32, "alice", ttl=1)
    assert verifier.verify(token).sub == "alice"
    assert verifier.verify(token).sub == "alice"  # from the cache
    time.sleep(1.1)
    with pytest.raises(InvalidToken):
        verifier.verify(token)
