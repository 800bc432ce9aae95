"""Random references so tests share one stack without colliding (cf. cosmicpython's random_refs)."""

import secrets


def suffix() -> str:
    return secrets.token_hex(4)


def customer(name: str = "cust") -> str:
    return f"{name}-{suffix()}"


def key() -> str:
    return f"key-{secrets.token_hex(8)}"
