"""The signing keys' files: reading the verification keys (a JWKS, from a file or an http(s) URL) and a private
key (PEM, Ed25519, readable by its owner only), and generating the local stack's set (`boxoffice keys`, which
stack/stack.sh runs on `up`). What a key means to a token is intake/tokens.py's business; this is only I/O."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from runtime.settings import STACK_AUTH_FILES, SettingsError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The key as a JWK (RFC 8037), its `kid` the RFC 7638 thumbprint: the same key always has the same id."""
    x = _b64(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    thumbprint = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    kid = _b64(hashlib.sha256(thumbprint.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}


def load_jwks(source: str, timeout_s: float = 10.0) -> dict[str, Any]:
    """The JSON Web Key Set at `source`: an http(s) URL (the identity provider's jwks_uri) or a file path."""
    try:
        if source.startswith(("https://", "http://")):
            response = httpx.get(source, timeout=timeout_s, follow_redirects=False)
            response.raise_for_status()
            document = response.json()
        else:
            document = json.loads(Path(source).read_text())
    except (OSError, ValueError, httpx.HTTPError) as exc:
        raise SettingsError(f"cannot read the token keys (JWKS) from {source}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise SettingsError(f"{source} is not a JWKS (an object with a `keys` list)")
    return document


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file that only its owner can read (like ssh, a key others could read
    is refused: it may have leaked)."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SettingsError(f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read the signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{path} is not an Ed25519 private key")
    return key


def _write_private_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never a moment readable by others
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def ensure_stack_keys(stack_dir: Path) -> list[Path]:
    """The local stack's keys, generated where missing: the signing key `boxoffice token` uses, the
    development sign-in's key, the tickets' master key, and the JWKS the intake verifies with (the signing
    key's public half only: development tokens are trusted through the dev key itself, and only while dev
    sign-in is on). Returns the files it wrote."""
    directory = stack_dir / Path(STACK_AUTH_FILES["auth_jwks"]).parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    keys: dict[str, Ed25519PrivateKey] = {}
    for name in ("auth_signing_key", "auth_dev_signing_key", "ticket_signing_key"):
        path = stack_dir / STACK_AUTH_FILES[name]
        if path.exists():
            keys[name] = read_private_key(path)
        else:
            keys[name] = _write_private_key(path)
            written.append(path)
    jwks = stack_dir / STACK_AUTH_FILES["auth_jwks"]
    document = json.dumps({"keys": [public_jwk(keys["auth_signing_key"].public_key())]}, indent=2) + "\n"
    if not jwks.exists() or jwks.read_text() != document:
        jwks.write_text(document)
        written.append(jwks)
    return written
