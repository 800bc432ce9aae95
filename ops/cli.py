"""The `boxoffice` operator CLI."""

from __future__ import annotations

import argparse
import asyncio
import sys

from runtime.settings import Settings, SettingsError


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from intake.credentials import signer
    from intake.tokens import mint

    if not 0 < args.ttl <= settings.auth_max_ttl_s:
        raise SettingsError(
            f"--ttl must be 1..{settings.auth_max_ttl_s} (BOXOFFICE_AUTH_MAX_TTL_S): the API refuses longer"
        )
    try:
        print(mint(signer(settings), args.sub, args.role, args.ttl, args.email, args.phone))
    except ValueError as exc:
        print(f"boxoffice: {exc}", file=sys.stderr)
        return 2
    return 0


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from runtime.auth_keys import ensure_stack_keys

    for path in ensure_stack_keys(settings.stack_dir):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from runtime.clients import owner_dsn, pg_connect
    from runtime.migrate import migrate_shards

    async def run() -> list[str]:  # as the schema's owner (the services' role cannot change it)
        conns = [await pg_connect(settings, owner_dsn(settings, dsn)) for dsn in settings.pg_shard_dsns]
        try:
            return await migrate_shards(conns, len(conns))
        finally:
            for conn in conns:
                await conn.close()

    done = asyncio.run(run())
    print("\n".join(done) if done else f"schema up to date on {len(settings.pg_shard_dsns)} shard(s)", file=sys.stderr)
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


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from ops.replay import ReplayFailed, replay_projections

    try:
        namespace = asyncio.run(replay_projections(settings))
    except ReplayFailed as exc:
        print(f"boxoffice: replay failed: {exc}", file=sys.stderr)
        return 1
    print(f"read models rebuilt; live generation is now {namespace}", file=sys.stderr)
    return 0


def _reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from ops.reconcile import reconcile
    from projections.keys import live_keys
    from runtime.clients import open_shards, redis_client

    async def run() -> list[str]:
        shards, redis = await open_shards(settings), redis_client(settings)
        try:
            return await reconcile(shards, redis, await live_keys(redis), args.show or None, settle_s=args.settle)
        finally:
            await shards.close()
            await redis.aclose()

    differences = asyncio.run(run())
    for line in differences:
        print(line)
    print(f"{len(differences)} difference(s)" if differences else "Redis read models equal PostgreSQL", file=sys.stderr)
    return 1 if differences else 0


def _shards(args: argparse.Namespace, settings: Settings) -> int:
    from ops.shards import MoveFailed, describe, move_partition
    from runtime.clients import open_shards

    async def run() -> list[str]:
        shards = await open_shards(settings)
        try:
            if args.action == "move":
                if args.partition is None or args.to is None:
                    raise MoveFailed("move needs --partition P --to S")
                return [
                    await move_partition(
                        shards,
                        args.partition,
                        args.to,
                        settings.processor_group,
                        lambda line: print(line, file=sys.stderr),
                    )
                ]
            return await describe(shards, settings.pg_shard_dsns, settings.pg_shard_read_dsns)
        finally:
            await shards.close()

    try:
        for line in asyncio.run(run()):
            print(line)
    except MoveFailed as exc:
        print(f"boxoffice: move failed: {exc}", file=sys.stderr)
        return 1
    return 0


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from bench.runner import main as bench_main

    return bench_main([a for a in args.bench_args if a != "--"], settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="boxoffice", description="boxoffice operator tools")
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="mint a bearer token (JWT EdDSA, signed with the local stack's key)")
    token.add_argument("--sub", required=True)
    token.add_argument("--role", default="customer", choices=["customer", "admin", "scanner"])  # intake.tokens.ROLES
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.add_argument("--email")
    token.add_argument("--phone")
    token.set_defaults(run=_token)

    sub.add_parser(
        "keys", help="generate the local stack's token keys where missing (<stack dir>/auth/: private keys 0600, JWKS)"
    ).set_defaults(run=_keys)

    sub.add_parser("migrate", help="apply pending schema migrations").set_defaults(run=_migrate)

    topics = sub.add_parser("topics", help="create (--create) and describe the Kafka topics")
    topics.add_argument("--create", action="store_true")
    topics.set_defaults(run=_topics)

    replay = sub.add_parser("replay", help="rebuild read models from booking.events")
    replay.add_argument("target", choices=["projections"])
    replay.set_defaults(run=_replay)

    reconcile = sub.add_parser("reconcile", help="compare Redis read models with PostgreSQL (exit 1 on a difference)")
    reconcile.add_argument("--show", action="append", help="only this show (repeatable)")
    reconcile.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds before a second look; only differences found both times count (default 2)",
    )
    reconcile.set_defaults(run=_reconcile)

    shards = sub.add_parser("shards", help="the shard map (partition -> shard); `move` a partition to another shard")
    shards.add_argument("action", nargs="?", choices=["list", "move"], default="list")
    shards.add_argument("--partition", type=int)
    shards.add_argument("--to", type=int, help="the target shard")
    shards.set_defaults(run=_shards)

    bench = sub.add_parser("bench", help="benchmarks against the running stack (see docs/BENCHMARKS.md)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(run=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its own options, parsed by bench.runner
        argv = ["bench", "--", *argv[1:]]
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.run(args, settings)
    except SettingsError as exc:
        print(f"boxoffice: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
