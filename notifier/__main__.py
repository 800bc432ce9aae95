"""python -m notifier: email (SMTP) and webhook notifications for booking events."""
from __future__ import annotations

from notifier.channels import SmtpChannel, WebhookChannel
from notifier.dispatcher import Dispatcher
from runtime.clients import kafka_consumer, kafka_producer, pg_pool
from runtime.lifecycle import Lifecycle, run_worker
from runtime.logging import configure_logging
from runtime.ops_server import OpsServer
from runtime.settings import Settings, SettingsError
from schemas import topics


async def main(lifecycle: Lifecycle) -> None:
    settings = Settings.from_env()
    log = configure_logging("notifier", settings.log_level)
    if settings.webhook_url and not settings.webhook_secret:
        raise SettingsError("BOXOFFICE_WEBHOOK_SECRET is required when BOXOFFICE_WEBHOOK_URL is set")
    pool = await pg_pool(settings, size=8)
    producer = kafka_producer(settings)
    await producer.start()
    consumer = kafka_consumer(settings, topics.EVENTS, group_id=settings.notifier_group)
    smtp = SmtpChannel(settings.smtp_host, settings.smtp_port)
    webhook = (WebhookChannel(settings.webhook_url, settings.webhook_secret)
               if settings.webhook_url and settings.webhook_secret else None)

    async def ready() -> bool:
        return await pool.fetchval("SELECT 1") == 1

    ops = OpsServer(settings.http_host, settings.metrics_port, ready)
    await ops.start()
    await consumer.start()
    log.info("notifier started", metrics_port=ops.port, smtp=f"{settings.smtp_host}:{settings.smtp_port}",
             webhook=bool(webhook))
    try:
        await Dispatcher(consumer, producer, pool, smtp, webhook, settings.smtp_sender,
                         settings.notify_max_attempts, settings.notify_backoff_s, lifecycle).run()
    finally:
        await consumer.stop()
        await producer.stop()
        smtp.close()
        if webhook is not None:
            await webhook.close()
        await pool.close()
        await ops.close()
        log.info("notifier exited")


if __name__ == "__main__":
    run_worker(main)
