"""Minting and checking the API's bearer tokens (JWT, HS256). The claims that travel into commands (`sub`,
`email`, `phone`) are checked with the contract's own field types: a token the processor could not take
is refused here, not dead-lettered later."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from cachetools import TLRUCache

from schemas.fields import CustomerId, Email, Phone
from schemas.validation import SchemaError, convert

ROLES = frozenset({"customer", "admin"})


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


def _claim(claims: dict, name: str, kind) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    try:
        return convert(value, kind, name)
    except SchemaError as exc:
        raise InvalidToken(f"bad {name} claim ({exc.reason})") from None


def mint(
    secret: str, sub: str, role: str = "customer", ttl: int = 3600, email: str | None = None, phone: str | None = None
) -> str:
    try:
        convert(sub, CustomerId, "sub")
    except SchemaError:
        raise ValueError("sub must be 1-64 of [A-Za-z0-9_.-]") from None
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}")
    claims: dict = {"sub": sub, "role": role, "exp": int(time.time()) + ttl}
    if email:
        claims["email"] = email
    if phone:
        claims["phone"] = phone
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(secret: str, token: str) -> tuple[Principal, float]:
    """The principal and the time its token expires."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    role = claims.get("role", "customer")
    if role not in ROLES:
        raise InvalidToken("bad role claim")
    sub = _claim(claims, "sub", CustomerId)
    assert sub is not None
    principal = Principal(
        sub=sub, role=role, email=_claim(claims, "email", Email), phone=_claim(claims, "phone", Phone)
    )
    return principal, float(claims["exp"])


class TokenVerifier:
    """verify() with a bounded cache (least recently used out first; each entry lives until its token's
    `exp`): a customer polling its booking presents the same token many times."""

    def __init__(self, secret: str, capacity: int = 50_000) -> None:
        self._secret = secret
        self._cache: TLRUCache[str, tuple[Principal, float]] = TLRUCache(
            maxsize=capacity, ttu=lambda _key, value, _now: value[1], timer=time.time
        )

    def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None:
            return hit[0]
        principal, expires = verify(self._secret, token)
        self._cache[token] = (principal, expires)
        return principal
