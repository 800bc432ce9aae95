"""Minting and checking the API's bearer tokens (JWT, HS256). The claims that travel into commands (`sub`,
`email`, `phone`) are checked with the contract's own field types: a token the processor could not take
is refused here, not dead-lettered later."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cachetools import TLRUCache

from schemas.fields import CustomerId, Email, Phone
from schemas.validation import SchemaError, convert

ROLES = frozenset({"customer", "admin"})
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


def _claim(claims: dict[str, Any], name: str, kind: Any) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    try:
        result: str = convert(value, kind, name)
        return result
    except SchemaError as exc:
        raise InvalidToken(f"bad {name} claim ({exc.reason})") from None


def mint(
    secret: str,
    sub: str,
    role: str = "customer",
    ttl: int = 3600,
    email: str | None = None,
    phone: str | None = None,
    now: float | None = None,
) -> str:
    """A token for `sub`, expiring `ttl` seconds after `now` (default: the current time)."""
    try:
        convert(sub, CustomerId, "sub")
    except SchemaError:
        raise ValueError("sub must be 1-64 of [A-Za-z0-9_.-]") from None
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}")
    claims: dict[str, Any] = {"sub": sub, "role": role, "exp": int(time.time() if now is None else now) + ttl}
    if email:
        claims["email"] = email
    if phone:
        claims["phone"] = phone
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(secret: str, token: str, clock: Clock = time.time) -> tuple[Principal, float]:
    """The principal and the time its token expires. Expiry is judged by `clock` (PyJWT's own check, which
    reads the system time, is replaced by the same comparison: expired when `exp <= now`)."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"], "verify_exp": False}
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    try:
        expires = int(claims["exp"])
    except (ValueError, TypeError, OverflowError):
        raise InvalidToken("Expiration Time claim (exp) must be an integer.") from None
    if expires <= clock():
        raise InvalidToken("Signature has expired")
    role = claims.get("role", "customer")
    if role not in ROLES:
        raise InvalidToken("bad role claim")
    sub = _claim(claims, "sub", CustomerId)
    assert sub is not None
    principal = Principal(
        sub=sub, role=role, email=_claim(claims, "email", Email), phone=_claim(claims, "phone", Phone)
    )
    return principal, float(expires)


class TokenVerifier:
    """verify() with a bounded cache (least recently used out first; each entry lives until its token's
    `exp`): a customer polling its booking presents the same token many times. `clock` tells the time for
    both the cache and the expiry check."""

    def __init__(self, secret: str, capacity: int = 50_000, clock: Clock = time.time) -> None:
        self._secret = secret
        self._clock = clock
        self._cache: TLRUCache[str, tuple[Principal, float]] = TLRUCache(
            maxsize=capacity, ttu=lambda _key, value, _now: value[1], timer=clock
        )

    def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None:
            return hit[0]
        principal, expires = verify(self._secret, token, self._clock)
        self._cache[token] = (principal, expires)
        return principal
