-- Waiting lists (issue 19): a customer waits for seats of a show that has none free; released seats are offered
-- in join order (seq) as a PENDING hold of waitlist_offer_seconds, decided in the show's partition. A row lives
-- while its customer waits: an offer, a refusal or leaving deletes it (the events keep the history).
ALTER TABLE shows ADD COLUMN waitlist_offer_seconds integer NOT NULL DEFAULT 300
                      CHECK (waitlist_offer_seconds BETWEEN 10 AND 86400),
                  ADD COLUMN waitlist_seq bigint NOT NULL DEFAULT 0;
CREATE TABLE waitlist (
    show_id     text        NOT NULL REFERENCES shows (show_id),
    customer_id text        NOT NULL,
    seq         bigint      NOT NULL,
    quantity    integer     NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    section     text,
    email       text,
    phone       text,
    joined_at   timestamptz NOT NULL,
    partition   smallint    NOT NULL,
    PRIMARY KEY (show_id, customer_id),
    UNIQUE (show_id, seq)
);
CREATE INDEX waitlist_by_partition ON waitlist (partition);
