-- Sharding by show: the logical shard is the Kafka partition of booking.commands (a show's partition never
-- changes), and a shard map assigns each partition to a PostgreSQL primary. Every row records its partition
-- so a partition's rows can be found, copied and verified when it moves to another shard (a rare operator
-- action: it scans; no index is added to the hot write path for it).
ALTER TABLE shows ADD COLUMN partition smallint;
ALTER TABLE bookings ADD COLUMN partition smallint;
ALTER TABLE outbox ADD COLUMN partition smallint;
ALTER TABLE rejected_shows ADD COLUMN partition smallint;
ALTER TABLE notifications ADD COLUMN partition smallint;
-- A partition that moved away leaves its position row here, paused: no processor decides it here again.
ALTER TABLE consumer_positions ADD COLUMN paused boolean NOT NULL DEFAULT false;
