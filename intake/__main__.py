"""python -m intake: the HTTP API on uvicorn (uvloop, httptools). SIGTERM: stop accepting, finish
in-flight requests, flush the producer (lifespan shutdown)."""

from __future__ import annotations

import uvicorn

from runtime.settings import Settings


def main() -> None:
    settings = Settings.from_env()
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
    )


if __name__ == "__main__":
    main()
