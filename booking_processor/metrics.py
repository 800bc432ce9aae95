"""Prometheus metrics of the processor and the outbox relay."""

from prometheus_client import Counter, Gauge, Histogram

COMMANDS = Counter("boxoffice_processor_commands_total", "Commands consumed", ["outcome"])
EVENTS = Counter("boxoffice_processor_events_total", "Events written to the outbox")
BATCH_SIZE = Histogram(
    "boxoffice_processor_batch_commands",
    "Commands per partition batch",
    buckets=(1, 5, 10, 50, 100, 500, 1000, 2000, 5000),
)
BATCH_SECONDS = Histogram(
    "boxoffice_processor_batch_seconds",
    "Time to decide and commit one batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
RETRIES = Counter("boxoffice_processor_retries_total", "Batches retried after a transient failure")
FENCED = Counter("boxoffice_processor_fenced_total", "Batches refused because another processor moved on")
RELAY_PUBLISHED = Counter("boxoffice_relay_published_total", "Outbox rows published to booking.events")
PHASE_SECONDS = Histogram(
    "boxoffice_processor_phase_seconds",
    "Time per phase of a batch transaction",
    ["phase"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
KNOWN_REQUESTS = Counter(
    "boxoffice_processor_known_requests_total", "Batches decided again because a booking request was already known"
)
HALTS = Counter("boxoffice_processor_halts_total", "Partitions halted by a defect (not bad input, not the network)")
HALTED = Gauge("boxoffice_processor_halted_partitions", "Partitions halted now; they resume after a restart")
SECOND_TRIES = Counter(
    "boxoffice_processor_second_tries_total",
    "Batches tried once more after an unexpected error (a second failure halts the partition)",
)
