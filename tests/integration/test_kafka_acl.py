"""Kafka at least privilege (stack/lib/kafka.sh): every client proves who it is (SASL/SCRAM-SHA-512), and the
ACLs let each service produce and consume only its own topics: only the intakes and the expiry worker may
write booking commands, only the outbox relay booking events; nobody else may join the services' groups."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from runtime.clients import kafka_consumer, kafka_credentials, kafka_producer
from schemas import topics

pytestmark = pytest.mark.usefixtures("settings")


def _sasl_or_skip(settings) -> None:
    if not kafka_credentials(settings, "admin"):
        pytest.skip("this stack's Kafka was formatted before SASL (no kafka-admin secret)")


async def _produce(producer: AIOKafkaProducer, topic: str) -> None:
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"acl-test")
    finally:
        await producer.stop()


async def test_a_client_without_credentials_or_with_a_wrong_password_is_refused(settings):
    _sasl_or_skip(settings)
    for options in ({}, {**kafka_credentials(settings, "intake"), "sasl_plain_password": "guessed"}):
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=3000, **options)
        with pytest.raises((KafkaError, OSError)):
            await producer.start()
        await producer.stop()


@pytest.mark.parametrize(
    ("user", "topic"),
    [
        ("projections", topics.COMMANDS),  # a read model's consumer cannot forge a booking command
        ("notifier", topics.COMMANDS),
        ("booking_processor", topics.EVENTS),  # the processor writes events through its outbox only
        ("intake", topics.EVENTS),  # nor can the intake forge a decision
        ("expiry", topics.EVENTS),
        ("outbox_relay", topics.COMMANDS),
    ],
)
async def test_a_service_may_not_write_another_s_topic(settings, user, topic):
    _sasl_or_skip(settings)
    producer = kafka_producer(settings, user, request_timeout_ms=5000, enable_idempotence=False, acks=1)
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(producer, topic)


async def test_the_intake_and_the_expiry_worker_may_write_commands(settings):
    _sasl_or_skip(settings)
    # A record is acknowledged (the processor dead-letters it: "{}" is no command, the key no show). The relay
    # writing events is what every end-to-end test relies on.
    for user, topic in (("intake", topics.COMMANDS), ("expiry", topics.COMMANDS)):
        await _produce(kafka_producer(settings, user), topic)


async def _consume(settings, user: str, topic: str, group: str) -> None:
    """Join `group` as `user` and fetch from `topic` once; a refusal raises KafkaError."""
    consumer: AIOKafkaConsumer = kafka_consumer(
        settings, topic, group_id=group, user=user, request_timeout_ms=5000, session_timeout_ms=6000
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=3000)
    finally:
        await consumer.stop()


async def test_a_service_may_not_read_another_s_topic_or_join_another_s_group(settings):
    _sasl_or_skip(settings)
    await _consume(settings, "projections", topics.EVENTS, f"projections-{uuid.uuid4().hex[:6]}")  # its own
    for user, topic, group in (
        ("intake", topics.EVENTS, f"projections-{uuid.uuid4().hex[:6]}"),  # the intake reads nothing
        ("projections", topics.COMMANDS, f"projections-{uuid.uuid4().hex[:6]}"),
        ("projections", topics.EVENTS, f"notifier-{uuid.uuid4().hex[:6]}"),  # another service's group
    ):
        with pytest.raises(KafkaError):
            await _consume(settings, user, topic, group)
