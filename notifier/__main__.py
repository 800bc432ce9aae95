"""python -m notifier: email (SMTP) and webhook notifications for booking events."""

from __future__ import annotations

from notifier.channels import PaymentChannel, SmtpChannel, WebhookChannel
from notifier.dispatcher import Dispatcher
from notifier.ledger import PgLedger
from runtime.clients import payment_provider
from runtime.service import Service, run_service
from runtime.settings import SettingsError
from schemas import topics


async def main(service: Service) -> None:
    settings = service.settings
    if settings.webhook_url and not settings.webhook_secret:
        raise SettingsError("BOXOFFICE_WEBHOOK_SECRET is required when BOXOFFICE_WEBHOOK_URL is set")
    shards = await service.shards(size=8)
    producer = await service.kafka_producer()
    consumer = await service.kafka_consumer(topics.EVENTS, group_id=settings.notifier_group)
    smtp = SmtpChannel(settings.smtp_host, settings.smtp_port)
    service.defer(smtp.close)
    webhook = None
    if settings.webhook_url and settings.webhook_secret:
        webhook = WebhookChannel(settings.webhook_url, settings.webhook_secret)
        service.defer(webhook.close)
    # Refunds and voids are deliveries like emails: without the provider's keys the notifier does not start
    # (it would commit past settlements it cannot carry out).
    payments = PaymentChannel(payment_provider(settings))
    service.defer(payments.close)
    service.log.info(
        "notifier started",
        smtp=f"{settings.smtp_host}:{settings.smtp_port}",
        webhook=bool(webhook),
        payments=bool(payments),
    )
    await service.shard_map_loaded(shards)
    await Dispatcher(
        consumer,
        producer,
        PgLedger(shards),
        smtp,
        webhook,
        settings.smtp_sender,
        settings.notify_max_attempts,
        settings.notify_backoff_s,
        service.lifecycle,
        lease_s=settings.notify_lease_s,
        payments=payments,
        public_url=settings.public_url,
    ).run()


if __name__ == "__main__":
    run_service("notifier", main)
