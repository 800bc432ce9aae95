"""Minting and checking the API's bearer tokens (JWT, HS256)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import jwt

SUBJECT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
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


def mint(secret: str, sub: str, role: str = "customer", ttl: int = 3600, email: str | None = None,
         phone: str | None = None) -> str:
    if not SUBJECT.fullmatch(sub):
        raise ValueError("sub must be 1-64 of [A-Za-z0-9_.-]")
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}")
    claims: dict = {"sub": sub, "role": role, "exp": int(time.time()) + ttl}
    if email:
        claims["email"] = email
    if phone:
        claims["phone"] = phone
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    sub, role = claims.get("sub"), claims.get("role", "customer")
    if not isinstance(sub, str) or not SUBJECT.fullmatch(sub):
        raise InvalidToken("bad sub claim")
    if role not in ROLES:
        raise InvalidToken("bad role claim")
    email, phone = claims.get("email"), claims.get("phone")
    return Principal(sub=sub, role=role,
                     email=email if isinstance(email, str) and len(email) <= 254 else None,
                     phone=phone if isinstance(phone, str) and len(phone) <= 32 else None)


class TokenVerifier:
    """verify() with a bounded cache: a customer polling its booking presents the same token many times.
    A cached token is still refused once its `exp` has passed."""

    def __init__(self, secret: str, capacity: int = 50_000) -> None:
        self._secret = secret
        self._capacity = capacity
        self._cache: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None:
            principal, expires = hit
            if time.time() < expires:
                return principal
            del self._cache[token]
        principal = verify(self._secret, token)
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        if len(self._cache) >= self._capacity:
            self._cache.clear()
        self._cache[token] = (principal, float(expires))
        return principal
