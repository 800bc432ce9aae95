"""The token verifier: what it accepts, and every refusal (each a 401 at the intake)."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.tokens import InvalidToken, Signer, TokenVerifier, Verifier, jwks_keys, mint
from runtime.auth_keys import public_jwk
from runtime.settings import DEV_ISSUER
from tests.support.keys import good_claims, hs256_with, sign, unsigned

NOW = 1_900_000_000
ISSUER, AUDIENCE = "https://idp.example", "boxoffice-api"
PROD = Signer(Ed25519PrivateKey.generate(), ISSUER, AUDIENCE)
DEV = Signer(Ed25519PrivateKey.generate(), DEV_ISSUER, AUDIENCE)
OTHER = Ed25519PrivateKey.generate()


class _Clock:
    """A clock the test moves by hand (no sleeping for an expiry)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def verifier(dev: bool = False, max_ttl_s: int = 86400, clock=None) -> Verifier:
    keys = jwks_keys({"keys": [public_jwk(PROD.key.public_key())]}, ISSUER)
    return Verifier([*keys, *([DEV.trusted()] if dev else [])], AUDIENCE, max_ttl_s, clock or (lambda: NOW))


def test_a_token_of_the_issuer_round_trips():
    token = mint(PROD, "alice", "admin", 60, email="a@example.com", phone="+44 1234", now=NOW)
    principal, expires = verifier().verify(token)
    assert (principal.sub, principal.role, principal.email, principal.phone) == (
        "alice",
        "admin",
        "a@example.com",
        "+44 1234",
    )
    assert principal.is_admin and expires == NOW + 60
    assert verifier().verify(sign(good_claims(PROD, NOW, aud=[AUDIENCE, "other"]), PROD.key, PROD.kid))


def test_a_dev_token_is_trusted_only_while_dev_sign_in_is_on_and_never_as_admin():
    token = mint(DEV, "dora", now=NOW)
    assert verifier(dev=True).verify(token)[0].sub == "dora"
    with pytest.raises(InvalidToken, match="kid"):
        verifier(dev=False).verify(token)
    with pytest.raises(ValueError, match="admin"):
        mint(DEV, "dora", "admin", now=NOW)
    forged_admin = sign(good_claims(DEV, NOW, role="admin"), DEV.key, DEV.kid)  # the dev key itself, misused
    with pytest.raises(InvalidToken, match="admin"):
        verifier(dev=True).verify(forged_admin)
    # The dev key cannot speak for the real issuer, nor the real key for the dev issuer.
    with pytest.raises(InvalidToken, match="issuer"):
        verifier(dev=True).verify(sign(good_claims(PROD, NOW), DEV.key, DEV.kid))
    with pytest.raises(InvalidToken, match="issuer"):
        verifier(dev=True).verify(sign(good_claims(DEV, NOW), PROD.key, PROD.kid))


def _with_header(header: dict, claims: dict, key: Ed25519PrivateKey) -> str:
    """Claims signed EdDSA under any header (PyJWS validates some headers itself)."""
    signing_input = f"{_b64(json.dumps(header))}.{_b64(json.dumps(claims))}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"


def _b64(data: str | bytes) -> str:
    return base64.urlsafe_b64encode(data.encode() if isinstance(data, str) else data).rstrip(b"=").decode()


PUBLIC_PEM = PROD.key.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
PUBLIC_RAW = PROD.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
GOOD = good_claims(PROD, NOW)

REFUSED = {
    "garbage": ("not-a-jwt", "Not enough segments"),
    "forged (another key, the trusted kid)": (sign(GOOD, OTHER, PROD.kid), "Signature verification failed"),
    "tampered payload": (
        (
            lambda t: (
                t.split(".")[0] + "." + mint(PROD, "mallory", "admin", now=NOW).split(".")[1] + "." + t.split(".")[2]
            )
        )(mint(PROD, "alice", now=NOW)),
        "Signature verification failed",
    ),
    "HS256 keyed with the public key (PEM)": (hs256_with(PUBLIC_PEM, GOOD, PROD.kid), "EdDSA"),
    "HS256 keyed with the public key (raw)": (hs256_with(PUBLIC_RAW, GOOD, PROD.kid), "EdDSA"),
    "alg none": (unsigned(GOOD, PROD.kid), "EdDSA"),
    "no kid": (sign(GOOD, PROD.key, None), "kid"),
    # the signature's last character changed in its unused bits only: the same bytes, another spelling
    "signature not canonical base64url": (
        (lambda t: t[:-1] + {"A": "B", "Q": "R", "g": "h", "w": "x"}[t[-1]])(sign(GOOD, PROD.key, PROD.kid)),
        "canonical",
    ),
    # msgspec raises RecursionError past its depth; a 401 all the same (PyJWT: DecodeError), never a 500.
    "header nested 2,000 deep": (_b64('{"a":' * 2000 + "1" + "}" * 2000) + ".e30.c2ln", "Invalid header"),
    "crit header": (_with_header({"alg": "EdDSA", "kid": PROD.kid, "crit": ["exp"]}, GOOD, PROD.key), "extension"),
    "unencoded payload (b64 false)": (
        _with_header({"alg": "EdDSA", "kid": PROD.kid, "b64": False, "crit": ["b64"]}, GOOD, PROD.key),
        "b64 false",
    ),
    "crit not a list": (_with_header({"alg": "EdDSA", "kid": PROD.kid, "crit": "b64"}, GOOD, PROD.key), "extension"),
    "crit naming a header it lacks": (
        _with_header({"alg": "EdDSA", "kid": PROD.kid, "crit": ["b64"]}, GOOD, PROD.key),
        "extension",
    ),
    "three padding characters": ((lambda t: t.replace(".", "===.", 1))(sign(GOOD, PROD.key, PROD.kid)), "padding"),
    "unknown kid": (sign(GOOD, OTHER, public_jwk(OTHER.public_key())["kid"]), "kid"),
    "no iss": (sign(good_claims(PROD, NOW, iss=None), PROD.key, PROD.kid), "iss"),
    "another iss": (sign(good_claims(PROD, NOW, iss="https://evil.example"), PROD.key, PROD.kid), "issuer"),
    "iss not a string": (sign(good_claims(PROD, NOW, iss=[ISSUER]), PROD.key, PROD.kid), "issuer"),
    "no aud": (sign(good_claims(PROD, NOW, aud=None), PROD.key, PROD.kid), "aud"),
    "another aud": (sign(good_claims(PROD, NOW, aud="someone-else"), PROD.key, PROD.kid), "audience doesn't match"),
    "aud not a string": (sign(good_claims(PROD, NOW, aud=7), PROD.key, PROD.kid), "claim format"),
    "no exp": (sign(good_claims(PROD, NOW, exp=None), PROD.key, PROD.kid), "exp"),
    "no iat": (sign(good_claims(PROD, NOW, iat=None), PROD.key, PROD.kid), "iat"),
    "no sub": (sign(good_claims(PROD, NOW, sub=None), PROD.key, PROD.kid), "sub"),
    "exp a string": (sign(good_claims(PROD, NOW, exp=str(NOW + 600)), PROD.key, PROD.kid), "exp"),
    "exp a float": (sign(good_claims(PROD, NOW, exp=NOW + 600.5), PROD.key, PROD.kid), "exp"),
    "exp a boolean": (sign(good_claims(PROD, NOW, exp=True), PROD.key, PROD.kid), "exp"),
    "iat a string": (sign(good_claims(PROD, NOW, iat=str(NOW)), PROD.key, PROD.kid), "iat"),
    "nbf a string": (sign(good_claims(PROD, NOW, nbf="soon"), PROD.key, PROD.kid), "nbf"),
    "expired": (mint(PROD, "alice", ttl=60, now=NOW - 61), "expired"),
    "issued in the future": (sign(good_claims(PROD, NOW, iat=NOW + 120, exp=NOW + 700), PROD.key, PROD.kid), "future"),
    "not before in the future": (sign(good_claims(PROD, NOW, nbf=NOW + 120), PROD.key, PROD.kid), "future"),
    "lives longer than the cap": (mint(PROD, "alice", ttl=86401, now=NOW), "longer"),
    "role unknown": (sign(good_claims(PROD, NOW, role="root"), PROD.key, PROD.kid), "role"),
    "role not a string": (sign(good_claims(PROD, NOW, role=["admin"]), PROD.key, PROD.kid), "role"),
    "sub not a string": (sign(good_claims(PROD, NOW, sub=42), PROD.key, PROD.kid), "subject"),
    "sub outside the grammar": (sign(good_claims(PROD, NOW, sub="al ice"), PROD.key, PROD.kid), "sub"),
    "email with a NUL": (sign(good_claims(PROD, NOW, email="a\x00@example.com"), PROD.key, PROD.kid), "email"),
    "email not an address": (sign(good_claims(PROD, NOW, email="not-an-address"), PROD.key, PROD.kid), "email"),
    "phone not a number": (sign(good_claims(PROD, NOW, phone="call me"), PROD.key, PROD.kid), "phone"),
}


@pytest.mark.parametrize("token, why", REFUSED.values(), ids=REFUSED.keys())
def test_every_refusal(token, why):
    with pytest.raises(InvalidToken, match=f"(?i){why}"):
        verifier(dev=True).verify(token)


def test_the_lifetime_cap_is_a_setting():
    token = mint(PROD, "alice", ttl=3600, now=NOW)
    assert verifier(max_ttl_s=3600).verify(token)
    with pytest.raises(InvalidToken, match="longer than 3599"):
        verifier(max_ttl_s=3599).verify(token)


def test_a_jwks_without_an_ed25519_key_is_refused_and_other_keys_are_skipped():
    rsa = {"kty": "RSA", "kid": "r1", "n": "AQAB", "e": "AQAB"}
    with pytest.raises(ValueError, match="no Ed25519"):
        jwks_keys({"keys": [rsa]}, ISSUER)
    keys = jwks_keys(
        {"keys": [rsa, {**public_jwk(PROD.key.public_key()), "use": "enc"}, public_jwk(OTHER.public_key())]}, ISSUER
    )
    assert [k.kid for k in keys] == [public_jwk(OTHER.public_key())["kid"]]


def test_mint_refuses_what_the_verifier_would():
    with pytest.raises(ValueError):
        mint(PROD, "bad sub!")
    with pytest.raises(ValueError):
        mint(PROD, "alice", "root")


def test_expiry_is_judged_by_the_clock_given():
    token = mint(PROD, "alice", ttl=60, now=NOW)
    principal, expires = verifier(clock=lambda: NOW + 59.9).verify(token)
    assert (principal.sub, expires) == ("alice", NOW + 60)
    with pytest.raises(InvalidToken, match="expired"):
        verifier(clock=lambda: NOW + 60).verify(token)  # expired at exp itself, as PyJWT has it


def test_token_cache_is_bounded_least_recently_used_first():
    cached = TokenVerifier(verifier(), capacity=2)
    a, b, c = (mint(PROD, name, now=NOW) for name in "abc")
    cached.verify(a)
    cached.verify(b)
    cached.verify(a)  # a is now the most recent
    cached.verify(c)  # evicts b alone, not everything
    assert set(cached._cache) == {a, c}


def test_token_cache_still_refuses_an_expired_token():
    clock = _Clock(NOW)
    cached = TokenVerifier(verifier(clock=clock))
    token = mint(PROD, "alice", ttl=1, now=clock.now)
    assert cached.verify(token).sub == "alice"
    assert cached.verify(token).sub == "alice"  # from the cache
    assert token in cached._cache
    clock.now += 1.1
    with pytest.raises(InvalidToken, match="expired"):
        cached.verify(token)
    assert token not in cached._cache


# The verifier checks signature, iss, aud and the required claims itself (intake/tokens.py, signed_claims); PyJWT,
# with the options the verifier used to give it, is the reference it must agree with on every token.
_VALUES = st.one_of(
    st.none(),
    st.integers(-5, NOW + 10**6),
    st.text(max_size=8),
    st.booleans(),
    st.lists(st.text(max_size=4), max_size=2),
)
_DROP = object()  # the claim left out
_SPECIAL = {
    "iss": [ISSUER, DEV_ISSUER],
    "aud": [AUDIENCE, [AUDIENCE, "x"], ["x"], [AUDIENCE, 7]],
    "sub": ["alice"],
    "iat": [NOW],
    "exp": [NOW + 600],
    "jti": ["j1"],
}
# a good token's claims with at most two of them changed (another value, another type, or left out)
_CHANGES = st.dictionaries(
    st.sampled_from(sorted(_SPECIAL)),
    st.one_of(st.just(_DROP), _VALUES, st.sampled_from([v for vs in _SPECIAL.values() for v in vs])),
    max_size=2,
)


def _pyjwt(token: str) -> dict:
    header = jwt.get_unverified_header(token)
    if header.get("alg") != "EdDSA" or header.get("kid") != PROD.kid:
        raise jwt.InvalidTokenError("not the trusted key")
    return jwt.decode(
        token,
        PROD.key.public_key(),
        algorithms=["EdDSA"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={
            "require": ["iss", "aud", "sub", "iat", "exp"],
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
        },
    )


@settings(max_examples=400, deadline=None)
@given(
    changes=_CHANGES,
    kid=st.sampled_from([PROD.kid, PROD.kid, DEV.kid, None]),
    key=st.sampled_from([PROD.key, PROD.key, OTHER]),
    flip=st.one_of(st.none(), st.none(), st.integers(0, 400)),
)
def test_signed_claims_agree_with_pyjwt(changes, kid, key, flip):
    claims = {**good_claims(PROD, NOW), "jti": "j1", **changes}
    claims = {name: value for name, value in claims.items() if value is not _DROP}
    token = sign(claims, key, kid)
    if flip is not None:  # one character changed: header, payload or signature
        i = flip % len(token)
        token = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    try:
        expected = _pyjwt(token)
    except jwt.PyJWTError:
        expected = None
    try:
        got = verifier(dev=True).signed_claims(token)
    except InvalidToken:
        got = None
    if got is not None and got[1].kid == DEV.kid:  # the dev key: its own issuer, never PROD's reference
        assert claims.get("iss") == DEV_ISSUER
        return
    assert (got[0] if got else None) == expected, token


def test_the_cli_mints_every_role_the_api_knows():
    """README: `boxoffice token --sub gate-1 --role scanner` for a door's scanner (it was refused by the CLI)."""
    from intake.tokens import ROLES
    from ops.cli import build_parser

    for role in ROLES:
        assert build_parser().parse_args(["token", "--sub", "gate-1", "--role", role]).role == role


def test_what_pyjwt_accepts_of_padding_and_extensions_is_accepted_too():
    """Some issuers pad their segments (AWS ALB); `crit: ["b64"]` with `b64: true` and a `b64` that is not false
    are ordinary tokens to PyJWT 2.15: both verdicts agree."""
    header, payload, _ = sign(GOOD, PROD.key, PROD.kid).split(".")
    signing_input = ".".join(part + "=" * (-len(part) % 4) for part in (header, payload))  # signed as sent
    signature = _b64(PROD.key.sign(signing_input.encode()))
    padded = f"{signing_input}.{signature}{'=' * (-len(signature) % 4)}"
    assert "=" in padded
    tokens = [
        padded,
        _with_header({"alg": "EdDSA", "kid": PROD.kid, "b64": True, "crit": ["b64"]}, GOOD, PROD.key),
        _with_header({"alg": "EdDSA", "kid": PROD.kid, "b64": None}, GOOD, PROD.key),
    ]
    for token in tokens:
        assert _pyjwt(token)["sub"] == "alice", token
        assert verifier().signed_claims(token)[0]["sub"] == "alice", token
