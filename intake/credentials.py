"""The intake's token keys from its settings: the verifier (the identity provider's JWKS, plus the development
sign-in's key while dev sign-in is on), the signers (`boxoffice token`'s and dev sign-in's), and the rule that
dev sign-in only ever listens on loopback."""

from __future__ import annotations

import ipaddress
import time

from intake.tokens import Clock, Signer, TokenVerifier, Verifier, jwks_keys
from runtime.auth_keys import load_jwks, read_private_key
from runtime.settings import DEV_ISSUER, Settings, SettingsError


def signer(settings: Settings) -> Signer:
    """What `boxoffice token` signs with: the local stack's private key, for the configured issuer."""
    return Signer(read_private_key(settings.require_signing_key()), settings.auth_issuer, settings.auth_audience)


def dev_signer(settings: Settings) -> Signer:
    """What POST /v1/dev/token signs with: a key of its own, for an issuer production never trusts."""
    return Signer(read_private_key(settings.require_signing_key(dev=True)), DEV_ISSUER, settings.auth_audience)


def token_verifier(settings: Settings, clock: Clock = time.time, capacity: int = 50_000) -> TokenVerifier:
    source = settings.require_auth_jwks()
    try:
        keys = jwks_keys(load_jwks(source), settings.auth_issuer)
    except ValueError as exc:
        raise SettingsError(f"{source}: {exc}") from None
    if settings.dev_signin:
        keys.append(dev_signer(settings).trusted())
    return TokenVerifier(Verifier(keys, settings.auth_audience, settings.auth_max_ttl_s, clock), capacity)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def check_dev_signin(settings: Settings) -> None:
    """Dev sign-in hands a token to whoever asks: refused unless the intake listens on loopback only."""
    if settings.dev_signin and not is_loopback(settings.http_host):
        raise SettingsError(
            f"BOXOFFICE_DEV_SIGNIN=1 needs the intake on loopback (BOXOFFICE_HTTP_HOST is {settings.http_host!r}): "
            "development sign-in gives a token to anyone who can reach it"
        )
