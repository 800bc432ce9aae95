"""Every topic name, in one place. Keys on all of them are the show id (UTF-8)."""

COMMANDS = "booking.commands"
EVENTS = "booking.events"
COMMANDS_DLQ = "booking.commands.dlq"
NOTIFICATIONS_DLQ = "booking.notifications.dlq"

COMMANDS_PARTITIONS = 12
EVENTS_PARTITIONS = 12

# name -> (partitions, topic configs)
TOPICS: dict[str, tuple[int, dict[str, str]]] = {
    COMMANDS: (COMMANDS_PARTITIONS, {"retention.ms": str(7 * 24 * 3600 * 1000)}),
    EVENTS: (EVENTS_PARTITIONS, {"retention.ms": "-1", "retention.bytes": "-1"}),
    COMMANDS_DLQ: (1, {"retention.ms": "-1"}),
    NOTIFICATIONS_DLQ: (1, {"retention.ms": "-1"}),
}

# Header carrying the X-Request-Id of the HTTP request a command came from (logged by the processor).
TRACE_HEADER = "x-request-id"
