"""The intake keeps a JWKS URL's keys current (intake/jwks.py): a rotated-in key is trusted after a refetch,
a withdrawn key is not (its cached tokens go with it), an unknown kid asks for an early refetch but no more
often than the gap allows, and a refetch that fails keeps the keys in hand."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from intake.jwks import JwksRefresher
from intake.tokens import InvalidToken, Signer, TokenVerifier, Verifier, jwks_keys, mint
from runtime.auth_keys import public_jwk

ISSUER, AUDIENCE = "https://id.example", "boxoffice-api"


class Provider:
    """The identity provider's jwks_uri: its current keys, or a failure."""

    def __init__(self) -> None:
        self.keys = [Ed25519PrivateKey.generate()]
        self.fetches = 0
        self.broken = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.broken:
            return httpx.Response(503, text="down")
        return httpx.Response(200, json={"keys": [public_jwk(k.public_key()) for k in self.keys]})

    def token(self, key: Ed25519PrivateKey, sub: str = "c1") -> str:
        return mint(Signer(key, ISSUER, AUDIENCE), sub)


@pytest.fixture
def provider() -> Provider:
    return Provider()


def _refresher(provider: Provider, **kw) -> tuple[TokenVerifier, JwksRefresher]:
    keys = jwks_keys({"keys": [public_jwk(k.public_key()) for k in provider.keys]}, ISSUER)
    tokens = TokenVerifier(Verifier(keys, AUDIENCE, 3600))
    http = httpx.AsyncClient(transport=httpx.MockTransport(provider.handler))
    return tokens, JwksRefresher("https://id.example/jwks", ISSUER, tokens, http, interval_s=3600, **kw)


async def test_a_rotated_key_is_trusted_after_the_refetch_and_the_withdrawn_one_is_not(provider):
    tokens, refresher = _refresher(provider)
    old = provider.keys[0]
    old_token = provider.token(old)
    assert tokens.verify(old_token).sub == "c1"  # cached now
    new = Ed25519PrivateKey.generate()
    provider.keys = [old, new]  # published before it signs
    with pytest.raises(InvalidToken, match="kid"):
        tokens.verify(provider.token(new))
    assert await refresher.refresh() is True
    assert tokens.verify(provider.token(new, "c2")).sub == "c2"
    provider.keys = [new]  # the old key withdrawn
    assert await refresher.refresh() is True
    with pytest.raises(InvalidToken, match="kid"):
        tokens.verify(old_token)  # even though it was cached
    assert tokens.verify(provider.token(new, "c3")).sub == "c3"


async def test_a_failed_refetch_keeps_the_keys_in_hand(provider):
    tokens, refresher = _refresher(provider)
    key = provider.keys[0]
    provider.broken = True
    assert await refresher.refresh() is False
    assert tokens.verify(provider.token(key)).sub == "c1"
    provider.broken = False
    provider.keys = []  # a set with no usable key is refused, not adopted
    assert await refresher.refresh() is False
    assert tokens.verify(provider.token(key, "c2")).sub == "c2"


async def test_a_malformed_key_is_skipped_and_a_malformed_set_keeps_the_keys(provider):
    tokens, refresher = _refresher(provider)
    old, new = provider.keys[0], Ed25519PrivateKey.generate()
    good = public_jwk(new.public_key())
    answers = iter(
        [
            {"keys": [{**good, "x": "%%%"}, {"kty": "OKP", "crv": "Ed25519", "kid": "no-x"}, good]},
            {"keys": 5},
            [good],
            "not json at all",
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        body = next(answers)
        return httpx.Response(200, text=body) if isinstance(body, str) else httpx.Response(200, json=body)

    refresher._http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    assert await refresher.refresh() is True  # the two bad keys skipped, the good one taken
    assert tokens.verify(provider.token(new)).sub == "c1"
    with pytest.raises(InvalidToken):
        tokens.verify(provider.token(old))  # the set no longer lists it
    for _ in range(3):  # keys not a list, a list for a set, not JSON: refused, the keys in hand stay
        assert await refresher.refresh() is False
        assert tokens.verify(provider.token(new, "c2")).sub == "c2"


async def test_an_unknown_kid_wakes_an_early_refetch_no_more_often_than_the_gap(provider):
    tokens, refresher = _refresher(provider, min_gap_s=0.2)
    refresher.start()
    try:
        new = Ed25519PrivateKey.generate()
        provider.keys.append(new)
        token = provider.token(new)
        with pytest.raises(InvalidToken):
            tokens.verify(token)
        for _ in range(50):  # many unknown-kid tokens in a burst: one refetch after the gap
            with pytest.raises(InvalidToken):
                tokens.verify(provider.token(Ed25519PrivateKey.generate()))
        await asyncio.sleep(0.05)
        assert provider.fetches == 0  # not before the gap since the keys were read
        for _ in range(40):
            if refresher.refreshed:
                break
            await asyncio.sleep(0.05)
        assert refresher.refreshed == 1 and provider.fetches == 1
        assert tokens.verify(token).sub == "c1"
    finally:
        await refresher.stop()
