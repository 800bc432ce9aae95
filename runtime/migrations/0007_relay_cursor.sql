-- The outbox relay keeps a cursor instead of marking every row it published. Marking rewrote each outbox
-- row (payload included) and inserted it again into every index: half the outbox's WAL, and more CPU on the
-- primary and on its replica than writing the event in the first place.
--
-- Order: (txid, id). A row is published once every transaction that could still commit a row before it has
-- ended: rows of transactions older than the oldest one running (`pg_snapshot_xmin`). A transaction that
-- commits later has a txid at least that old, so it can never land behind the cursor. Per show the order
-- holds too: a show's transactions are serialised by the partition's position row, so a later one has the
-- larger txid.
ALTER TABLE outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_by_txid ON outbox (txid, id);

CREATE TABLE relay_cursor (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    txid       xid8 NOT NULL,
    last_id    bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Existing rows all carry this migration's txid now: resume after the last row published with none unpublished
-- before it (those after it are published again; consumers skip what they have).
INSERT INTO relay_cursor (txid, last_id)
SELECT pg_current_xact_id(),
       coalesce((SELECT min(id) - 1 FROM outbox WHERE published_at IS NULL), (SELECT max(id) FROM outbox), 0);

DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at;
