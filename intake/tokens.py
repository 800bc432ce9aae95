"""Minting and checking the API's bearer tokens: JWTs as an identity provider issues them, signed with EdDSA
(Ed25519) and checked against its public keys (a JWKS), with `iss`, `aud`, `iat` and `exp` required.

A token is refused unless: its header names `alg` EdDSA (pinned: HS256 with the public key as its secret,
`none`, RSA… are refused before any key is used) and a `kid` this intake trusts; its signature verifies with
that key; its `iss` is the issuer that key belongs to and its `aud` names this API; `exp`, `iat` (and `nbf`)
are integers; it is not expired, not issued in the future (beyond a small clock skew), and lives at most the
configured lifetime (`exp - iat`); its `role` is a known one. Development sign-in tokens (iss `boxoffice-dev`)
are trusted only through the dev key, which the intake holds only while dev sign-in is on, and never carry
`admin`. The claims that travel into commands (`sub`, `email`, `phone`) are checked with the contract's own
field types: a token the processor could not take is refused here, not dead-lettered later."""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import msgspec
from cachetools import TLRUCache
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from runtime.auth_keys import public_jwk
from runtime.settings import DEV_ISSUER
from schemas.fields import CustomerId, Email, Phone
from schemas.validation import SchemaError, convert

ALGORITHM = "EdDSA"
ROLES = frozenset({"customer", "admin", "scanner"})  # scanner: check-in at the door (POST /v1/checkins)
CLOCK_SKEW_S = 60  # how far in the future `iat` and `nbf` may be: the issuer's clock is not ours
Clock = Callable[[], float]  # seconds since the epoch, like time.time (tests give their own)


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    email: str | None = None
    phone: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class TrustedKey:
    """A verification key and the one issuer whose tokens it may sign."""

    kid: str
    key: Ed25519PublicKey
    issuer: str
    grants_admin: bool = True

    @functools.cached_property
    def sodium(self) -> VerifyKey:
        """The same key for libsodium, which checks a signature in half the time OpenSSL takes (measured:
        bench/tokens.py); the check of every token without a cached verdict."""
        return VerifyKey(self.key.public_bytes_raw())


def jwks_keys(jwks: Mapping[str, Any], issuer: str) -> list[TrustedKey]:
    """The Ed25519 keys of a JWKS, trusted for `issuer`. Keys of other types are skipped (the algorithm is
    pinned to EdDSA); a set with no usable key is an error, not an intake that refuses every token."""
    keys = []
    listed = jwks.get("keys")
    for jwk in listed if isinstance(listed, list) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        if jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid"), str):
            continue
        try:
            key = OKPAlgorithm.from_jwk(json.dumps(jwk))
        except (jwt.PyJWTError, ValueError, TypeError):
            continue  # a malformed key (no `x`, a bad one) is skipped, not the whole set
        if isinstance(key, Ed25519PublicKey):
            keys.append(TrustedKey(jwk["kid"], key, issuer))
    if not keys:
        raise ValueError("the JWKS holds no Ed25519 signing key with a kid")
    return keys


@dataclass(frozen=True)
class Signer:
    """What mints tokens: a private key, its kid, the issuer it speaks for and the audience it addresses."""

    key: Ed25519PrivateKey
    issuer: str
    audience: str

    @property
    def kid(self) -> str:
        return public_jwk(self.key.public_key())["kid"]

    def trusted(self) -> TrustedKey:
        """The verification side of this signer (what the intake trusts for development sign-in)."""
        return TrustedKey(self.kid, self.key.public_key(), self.issuer, grants_admin=self.issuer != DEV_ISSUER)


def mint(
    signer: Signer,
    sub: str,
    role: str = "customer",
    ttl: int = 3600,
    email: str | None = None,
    phone: str | None = None,
    now: float | None = None,
) -> str:
    """A token for `sub`, issued at `now` (default: the current time) and expiring `ttl` seconds later."""
    try:
        convert(sub, CustomerId, "sub")
    except SchemaError:
        raise ValueError("sub must be 1-64 of [A-Za-z0-9_.-]") from None
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}")
    if role == "admin" and signer.issuer == DEV_ISSUER:
        raise ValueError("development sign-in never grants admin")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": signer.issuer,
        "aud": signer.audience,
        "sub": sub,
        "role": role,
        "iat": issued,
        "exp": issued + ttl,
    }
    if email:
        claims["email"] = email
    if phone:
        claims["phone"] = phone
    return jwt.encode(claims, signer.key, algorithm=ALGORITHM, headers={"kid": signer.kid})


def _claim(claims: dict[str, Any], name: str, kind: Any) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    try:
        result: str = convert(value, kind, name)
        return result
    except SchemaError as exc:
        raise InvalidToken(f"bad {name} claim ({exc.reason})") from None


def _numeric_date(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if value is None:
        return None
    if type(value) is not int:  # not a string, a float, a boolean (True is an int to Python)
        raise InvalidToken(f"the {name} claim must be an integer (seconds since the epoch)")
    return value


_json = msgspec.json.Decoder()


def _b64decode(segment: str) -> bytes:
    """A base64url segment as PyJWT 2.15 reads one: unpadded as JWS writes it, or with the padding some issuers
    add (at most two `=`, to a multiple of 4); anything else is an invalid token, and so is a segment written
    another way than the canonical (unused bits set, characters outside the alphabet), so that a signature has
    one spelling."""
    stripped = segment.rstrip("=")
    padding = len(segment) - len(stripped)
    if padding > 2 or (padding and len(segment) % 4):
        raise InvalidToken("Invalid token: a segment's padding is wrong")
    try:
        raw = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except ValueError:  # binascii.Error, non-ASCII text
        raise InvalidToken("Invalid token: a segment is not base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != stripped.encode():
        raise InvalidToken("Invalid token: a segment is not canonical base64url")
    return raw


def _check_extensions(header: dict[str, Any]) -> None:
    """The extensions a header may ask for, as PyJWT judges them: `crit` a non-empty list of names this API
    supports (only `b64`) that the header carries; and no unencoded payload (`b64: false`, RFC 7797)."""
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or any(ext != "b64" or ext not in header for ext in crit):
            raise InvalidToken("the token's header asks for an extension this API does not support")
    if header.get("b64", True) is False:
        raise InvalidToken("the token's header asks for an unencoded payload (b64 false)")


@functools.lru_cache(maxsize=256)
def _header(segment: str) -> dict[str, Any]:
    """A token's JOSE header, parsed once per distinct header: every token of one key has the same (the
    cache is bounded, so distinct forged headers only evict one another)."""
    try:
        header = _json.decode(_b64decode(segment))
    except (msgspec.DecodeError, RecursionError):  # nested past msgspec's depth: a header no issuer writes
        raise InvalidToken("Invalid header string") from None
    if not isinstance(header, dict):
        raise InvalidToken("Invalid header string: must be a json object")
    _check_extensions(header)  # RFC 7515 4.1.11, RFC 7797
    return header


class Verifier:
    """Checks tokens against the keys it trusts (by `kid`), for one audience and a maximum lifetime."""

    def __init__(self, keys: Iterable[TrustedKey], audience: str, max_ttl_s: int, clock: Clock = time.time) -> None:
        self._keys = {key.kid: key for key in keys}
        self._audience = audience
        self._max_ttl_s = max_ttl_s
        self.clock = clock
        self.on_unknown_kid: Callable[[], None] | None = None  # a key set that may have rotated (intake/jwks.py)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def replace_keys(self, keys: Iterable[TrustedKey]) -> None:
        """Trust exactly `keys` from now on (a refreshed JWKS): tokens of a key that left are refused."""
        self._keys = {key.kid: key for key in keys}

    def signed_claims(self, token: str) -> tuple[dict[str, Any], TrustedKey]:
        """The claims of a token whose signature verifies with a trusted key, with `iss`, `aud`, `sub`, `iat`
        and `exp` present and `iss`/`aud` this key's and this API's: what PyJWT's `decode` checks with the
        options this verifier used to give it (tests/unit/test_tokens.py compares the two), done directly
        on the booking POST's hot path at a third of the cost (one header parse per key, not per token)."""
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("Not enough segments" if len(parts) < 3 else "Too many segments")
        header_segment, payload_segment, signature_segment = parts
        header = _header(header_segment)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"the token must be signed with {ALGORITHM}")
        kid = header.get("kid")
        trusted = self._keys.get(kid) if isinstance(kid, str) else None
        if trusted is None:
            if self.on_unknown_kid is not None:
                self.on_unknown_kid()
            raise InvalidToken("the token's kid names no key this API trusts")
        try:
            trusted.sodium.verify(f"{header_segment}.{payload_segment}".encode(), _b64decode(signature_segment))
        except (BadSignatureError, ValueError):  # a wrong length is nacl's ValueError; non-ASCII text too
            raise InvalidToken("Signature verification failed") from None
        try:
            claims = _json.decode(_b64decode(payload_segment))
        except (msgspec.DecodeError, RecursionError):
            raise InvalidToken("Invalid payload string") from None
        if not isinstance(claims, dict):
            raise InvalidToken("Invalid payload string: must be a json object")
        for name in ("iss", "aud", "sub", "iat", "exp"):
            if claims.get(name) is None:  # null is missing, as PyJWT's `require` has it
                raise InvalidToken(f'Token is missing the "{name}" claim')
        if not isinstance(claims["sub"], str):
            raise InvalidToken("Subject must be a string")
        if "jti" in claims and not isinstance(claims["jti"], str):
            raise InvalidToken("JWT ID must be a string")
        audiences = claims["aud"]
        if isinstance(audiences, str):
            audiences = [audiences]
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise InvalidToken("Invalid claim format in token")
        if self._audience not in audiences:
            raise InvalidToken("Audience doesn't match")
        if claims["iss"] != trusted.issuer:
            raise InvalidToken("Invalid issuer")
        return claims, trusted

    def verify(self, token: str) -> tuple[Principal, float]:
        """The principal and the time its token expires (judged by `clock`: expired when `exp <= now`)."""
        claims, trusted = self.signed_claims(token)
        expires, issued = _numeric_date(claims, "exp"), _numeric_date(claims, "iat")
        not_before = _numeric_date(claims, "nbf")
        assert expires is not None and issued is not None  # required above
        now = self.clock()
        if expires <= now:
            raise InvalidToken("Signature has expired")
        if issued > now + CLOCK_SKEW_S or (not_before is not None and not_before > now + CLOCK_SKEW_S):
            raise InvalidToken("the token is not valid yet (iat or nbf in the future)")
        if expires - issued > self._max_ttl_s:
            raise InvalidToken(f"the token lives longer than {self._max_ttl_s} s (exp - iat)")
        role = claims.get("role", "customer")
        if not isinstance(role, str) or role not in ROLES:
            raise InvalidToken("bad role claim")
        if role == "admin" and not trusted.grants_admin:
            raise InvalidToken(f"tokens of {trusted.issuer} cannot carry the admin role")
        sub = _claim(claims, "sub", CustomerId)
        assert sub is not None
        principal = Principal(
            sub=sub, role=role, email=_claim(claims, "email", Email), phone=_claim(claims, "phone", Phone)
        )
        return principal, float(expires)


class TokenVerifier:
    """A Verifier with a bounded cache (least recently used out first; each entry lives until its token's
    `exp`): a customer polling its booking presents the same token many times. The verifier's clock tells
    the time for both the cache and the expiry check."""

    def __init__(self, verifier: Verifier, capacity: int = 50_000) -> None:
        self._verifier = verifier
        self._cache: TLRUCache[str, tuple[Principal, float]] = TLRUCache(
            maxsize=capacity, ttu=lambda _key, value, _now: value[1], timer=verifier.clock
        )

    @property
    def verifier(self) -> Verifier:
        return self._verifier

    def replace_keys(self, keys: Iterable[TrustedKey]) -> None:
        """Trust exactly `keys`; a key that left takes its cached tokens with it (the cache is emptied)."""
        keys = list(keys)
        gone = self._verifier.kids - {key.kid for key in keys}
        self._verifier.replace_keys(keys)
        if gone:
            self._cache.clear()

    def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None:
            return hit[0]
        principal, expires = self._verifier.verify(token)
        self._cache[token] = (principal, expires)
        return principal
