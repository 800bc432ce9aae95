"""What checking a bearer token costs the intake, per token never seen before (each booking POST of an on-sale
brings its own): PyJWT's `decode` with the options the verifier used to give it (the baseline), against the
verifier's own check (intake/tokens.py: the header parsed once per key, the signature checked by libsodium),
and a token the cache has already verified; in one process, on the same tokens. Run: `python -m bench.tokens`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from intake.tokens import Signer, TokenVerifier, Verifier, mint

ISSUER, AUDIENCE = "https://idp.example", "boxoffice-api"


def _per_token_us(check: Callable[[str], object], tokens: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for token in tokens:
            check(token)
        best = min(best, time.perf_counter() - started)
    return best / len(tokens) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    signer = Signer(Ed25519PrivateKey.generate(), ISSUER, AUDIENCE)
    verifier = Verifier([signer.trusted()], AUDIENCE, 86400)
    tokens = [mint(signer, f"c{i}", email=f"c{i}@example.com") for i in range(args.tokens)]
    public = signer.key.public_key()

    def pyjwt(token: str) -> object:
        jwt.get_unverified_header(token)
        return jwt.decode(
            token,
            public,
            algorithms=["EdDSA"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["iss", "aud", "sub", "iat", "exp"], "verify_exp": False},
        )

    cached = TokenVerifier(verifier)
    for token in tokens:
        cached.verify(token)
    baseline = _per_token_us(pyjwt, tokens, args.repeat)
    rows = [
        ("PyJWT decode (baseline)", baseline),
        ("Verifier.verify (every check)", _per_token_us(verifier.verify, tokens, args.repeat)),
        ("TokenVerifier.verify, cached", _per_token_us(cached.verify, tokens, args.repeat)),
    ]
    print(f"{args.tokens} distinct Ed25519 tokens, best of {args.repeat}")
    for name, us in rows:
        print(f"{name:32} {us:8.1f} µs/token  {baseline / us:6.2f}x the baseline")


if __name__ == "__main__":
    main()
