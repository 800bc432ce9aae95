"""runtime/autopipeline.py on the real Redis: the calls of one turn as one pipeline, each its own reply."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, ResponseError

from runtime.autopipeline import AutoPipeline
from runtime.clients import redis_client
from runtime.settings import Settings


def _counting(redis):
    """The client with its pipelines counted."""
    made = []
    pipeline = redis.pipeline

    def counted(*args, **kwargs):
        made.append(kwargs)
        return pipeline(*args, **kwargs)

    redis.pipeline = counted
    return made


async def test_the_calls_of_one_turn_go_as_one_pipeline_each_with_its_reply(redis):
    auto, made = AutoPipeline(redis), _counting(redis)
    key = f"autopipe:{secrets.token_hex(4)}"
    replies = await asyncio.gather(*(auto.execute("INCR", key) for _ in range(50)))
    assert sorted(replies) == list(range(1, 51)) and replies == sorted(replies)  # in the order they were made
    assert made == [{"transaction": False}]
    # an error reply fails its own call only
    results = await asyncio.gather(
        auto.execute("INCR", key), auto.execute("HGET", key, "x"), auto.execute("GET", key), return_exceptions=True
    )
    assert results[0] == 51 and isinstance(results[1], ResponseError) and results[2] == b"51"
    assert len(made) == 2
    # calls of later turns are later pipelines, in order
    assert [await auto.execute("INCR", key) for _ in range(3)] == [52, 53, 54]
    await redis.delete(key)


async def test_a_script_redis_does_not_know_is_loaded_and_run(redis):
    auto = AutoPipeline(redis)
    script = redis.register_script(f"return {{KEYS[1], ARGV[1], '{secrets.token_hex(8)}'}}")  # never loaded
    first, second = await asyncio.gather(auto.script(script, ["k1"], ["a"]), auto.script(script, ["k2"], ["b"]))
    assert first[:2] == [b"k1", b"a"] and second[:2] == [b"k2", b"b"]
    assert (await auto.script(script, ["k3"], ["c"]))[:2] == [b"k3", b"c"]  # known now: EVALSHA alone


async def test_a_pipeline_that_fails_fails_every_call_in_it():
    settings = Settings.from_env({"BOXOFFICE_REDIS_URL": "redis://127.0.0.1:9/0", "BOXOFFICE_REDIS_SENTINELS": ""})
    dead = redis_client(settings)
    try:
        auto = AutoPipeline(dead)
        results = await asyncio.gather(*(auto.execute("PING") for _ in range(5)), return_exceptions=True)
        assert all(isinstance(r, RedisConnectionError) for r in results), results
        assert len({id(r) for r in results}) == 5  # each caller raises its own (tracebacks not crossed)
    finally:
        await dead.aclose()


async def test_a_caller_that_goes_away_leaves_the_others_their_replies(redis):
    auto = AutoPipeline(redis)
    key = f"autopipe:{secrets.token_hex(4)}"
    gone = asyncio.ensure_future(auto.execute("INCR", key))
    kept = asyncio.ensure_future(auto.execute("INCR", key))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept == 2  # the cancelled call was sent all the same (a command cannot be unsent)
    with pytest.raises(asyncio.CancelledError):
        await gone
    await redis.delete(key)


async def test_an_argument_redis_cannot_encode_fails_its_own_call_only(redis):
    auto = AutoPipeline(redis)
    key = f"autopipe:{secrets.token_hex(4)}"
    results = await asyncio.gather(
        auto.execute("INCR", key), auto.execute("SET", key, None), auto.execute("SET", f"{key}:b", True),
        auto.execute("INCR", key), return_exceptions=True,
    )  # fmt: skip
    assert results[0] == 1 and results[3] == 2, results
    assert isinstance(results[1], DataError) and isinstance(results[2], DataError)
    await redis.delete(key)
