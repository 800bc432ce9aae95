-- The catalog (in shard 0's database): which PostgreSQL shard holds each partition of booking.commands.
-- Data, not code: `boxoffice migrate` seeds partition p -> shard p % K, `boxoffice shards move` changes it.
CREATE TABLE shard_map (
    topic      text NOT NULL,
    partition  integer NOT NULL CHECK (partition >= 0),
    shard      integer NOT NULL CHECK (shard >= 0),
    -- Set while `boxoffice shards move` copies the partition to this shard (its processor pauses it).
    moving_to  integer CHECK (moving_to >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);
