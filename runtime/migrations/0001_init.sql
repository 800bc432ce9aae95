-- boxoffice schema v1. PostgreSQL is the source of truth; everything else is derived from it.

CREATE TABLE shows (
    show_id          text PRIMARY KEY,
    title            text NOT NULL,
    venue            text NOT NULL,
    starts_at        timestamptz NOT NULL,
    hold_seconds     integer NOT NULL CHECK (hold_seconds BETWEEN 10 AND 3600),
    sections         jsonb NOT NULL,
    seats_total      integer NOT NULL CHECK (seats_total > 0),
    -- Availability can never go below zero, nor above the layout.
    seats_available  integer NOT NULL CHECK (seats_available >= 0 AND seats_available <= seats_total),
    -- show_version of the last event of this show (1 = ShowCreated).
    version          bigint NOT NULL CHECK (version >= 1),
    created_at       timestamptz NOT NULL
);

CREATE TABLE bookings (
    booking_id        text PRIMARY KEY,
    -- Derived from (customer, Idempotency-Key): a redelivered or retried request cannot make a second booking.
    request_id        text NOT NULL UNIQUE,
    -- No foreign key: a request for an unknown show is recorded as REJECTED/show_not_found.
    show_id           text NOT NULL,
    customer_id       text NOT NULL,
    email             text,
    phone             text,
    status            text NOT NULL CHECK (status IN ('PENDING', 'REJECTED', 'CONFIRMED', 'EXPIRED', 'CANCELLED')),
    requested_seats   text[],
    requested_quantity integer,
    seats             text[] NOT NULL,
    reason            text,
    expires_at        timestamptz,
    payment_reference text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CHECK (status <> 'PENDING' OR expires_at IS NOT NULL)
);
CREATE INDEX bookings_by_customer ON bookings (customer_id, created_at DESC, booking_id DESC);
CREATE INDEX bookings_pending_by_expiry ON bookings (expires_at) WHERE status = 'PENDING';

-- One row per seat that is held or booked; a seat without a row is available. The primary key is what
-- makes overbooking impossible at the database level: a seat belongs to at most one live booking.
CREATE TABLE seats (
    show_id    text NOT NULL REFERENCES shows (show_id),
    seat_id    text NOT NULL,
    booking_id text NOT NULL REFERENCES bookings (booking_id),
    state      text NOT NULL CHECK (state IN ('HELD', 'BOOKED')),
    PRIMARY KEY (show_id, seat_id)
);
CREATE INDEX seats_by_booking ON seats (booking_id);

-- Events leave PostgreSQL through this table, written in the deciding transaction and published by the relay.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL UNIQUE,
    show_id      text NOT NULL,
    show_version bigint NOT NULL,
    payload      bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- Versions are unique per show; 0 is used only for rejections of shows that do not exist.
CREATE UNIQUE INDEX outbox_show_version ON outbox (show_id, show_version) WHERE show_version > 0;
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Where each consumer group is in each partition; written in the same transaction as the effects.
CREATE TABLE consumer_positions (
    group_id    text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL CHECK (next_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
