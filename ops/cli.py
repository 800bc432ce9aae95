"""The `boxoffice` operator CLI."""
from __future__ import annotations

import argparse
import asyncio
import sys

from runtime.settings import Settings, SettingsError


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from intake.tokens import mint

    print(mint(settings.require_auth_secret(), args.sub, args.role, args.ttl, args.email, args.phone))
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from runtime.clients import pg_connect
    from runtime.migrate import migrate

    async def run() -> list[int]:
        conn = await pg_connect(settings)
        try:
            return await migrate(conn)
        finally:
            await conn.close()

    applied = asyncio.run(run())
    print(f"applied migrations: {applied}" if applied else "schema up to date", file=sys.stderr)
    return 0


def _topics(args: argparse.Namespace, settings: Settings) -> int:
    from ops.topics import describe, ensure_topics

    if args.create:
        created = asyncio.run(ensure_topics(settings))
        print(f"created topics: {created}" if created else "topics exist", file=sys.stderr)
    groups = [settings.projections_group, settings.notifier_group]
    for line in asyncio.run(describe(settings, groups)):
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="boxoffice", description="boxoffice operator tools")
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="mint a bearer token (JWT HS256)")
    token.add_argument("--sub", required=True)
    token.add_argument("--role", default="customer", choices=["customer", "admin"])
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.add_argument("--email")
    token.add_argument("--phone")
    token.set_defaults(run=_token)

    sub.add_parser("migrate", help="apply pending schema migrations").set_defaults(run=_migrate)

    topics = sub.add_parser("topics", help="create (--create) and describe the Kafka topics")
    topics.add_argument("--create", action="store_true")
    topics.set_defaults(run=_topics)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.run(args, settings)
    except SettingsError as exc:
        print(f"boxoffice: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
