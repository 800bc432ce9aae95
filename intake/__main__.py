"""python -m intake: the HTTP API on uvicorn (uvloop, httptools). SIGTERM: stop accepting, finish
in-flight requests, flush the producer (lifespan shutdown)."""

from __future__ import annotations

import sys

import uvicorn

from intake.app import MAX_HEADER_BYTES
from intake.credentials import check_dev_signin, token_verifier
from runtime.settings import Settings, SettingsError


def main() -> None:
    try:
        settings = Settings.from_env()
        check_dev_signin(settings)  # before binding anything (create_app checks again, in each worker)
        token_verifier(settings)  # the keys are readable: a bad JWKS stops the start, with its reason
    except SettingsError as exc:
        sys.exit(f"intake: {exc}")
    uvicorn.run(
        "intake.app:create_app",
        factory=True,
        host=settings.http_host,
        port=settings.http_port,
        workers=settings.http_workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
        lifespan="on",
        timeout_keep_alive=30,
        backlog=4096,
        server_header=False,  # no `server: uvicorn` (NGINX answers with its own, without a version)
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,  # with http="h11"; httptools: intake.app.HeaderLimit
    )


if __name__ == "__main__":
    main()
