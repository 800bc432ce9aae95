"""The session's token keys (tests/conftest.py makes them as the local stack makes its own, and every process
the tests start inherits them), and signing with them, rightly or wrongly, for tests of the verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from intake.credentials import dev_signer, signer
from intake.tokens import Signer
from runtime.settings import STACK_AUTH_FILES, Settings, env_name


def key_env() -> dict[str, str]:
    """The variables naming the session's key files, for a test's own Settings.from_env({...})."""
    return {env_name(name): os.environ[env_name(name)] for name in STACK_AUTH_FILES}


def session_signer(settings: Settings | None = None) -> Signer:
    """What `boxoffice token` signs with (the stack's key, for the configured issuer and audience)."""
    return signer(settings or Settings.from_env(key_env()))


def session_dev_signer(settings: Settings | None = None) -> Signer:
    return dev_signer(settings or Settings.from_env(key_env()))


def sign(claims: dict[str, Any], key: Ed25519PrivateKey, kid: Any) -> str:
    """Claims as given (no checks: wrong types, missing claims), signed EdDSA with `key` under `kid` (none
    when None)."""
    payload = json.dumps(claims).encode()  # PyJWS, not PyJWT: PyJWT would refuse a claim of the wrong type
    return jwt.PyJWS().encode(payload, key, algorithm="EdDSA", headers={} if kid is None else {"kid": kid})


def good_claims(s: Signer, now: int, **over: Any) -> dict[str, Any]:
    claims = {"iss": s.issuer, "aud": s.audience, "sub": "alice", "role": "customer", "iat": now, "exp": now + 600}
    return {k: v for k, v in {**claims, **over}.items() if v is not None}


def hs256_with(secret: bytes, claims: dict[str, Any], kid: str) -> str:
    """The alg-confusion forgery: HS256 keyed with public material (PyJWT refuses to make it; done by hand)."""

    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": kid}) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(secret, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """alg `none`."""
    return jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
