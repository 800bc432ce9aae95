-- The last confirm or cancel of a booking that could not be applied, and why (shown to its owner).
ALTER TABLE bookings ADD COLUMN refused_action text CHECK (refused_action IN ('confirm', 'cancel')),
                     ADD COLUMN refused_reason text,
                     ADD COLUMN refused_at timestamptz;

-- Show creations that could not be decided (dead-lettered): their rejection is an event, once.
CREATE TABLE rejected_shows (
    show_id     text PRIMARY KEY,
    reason      text NOT NULL,
    rejected_at timestamptz NOT NULL
);

-- Notifications retry from PostgreSQL, not from the consumer's batch: a failed delivery is scheduled
-- (next_attempt_at) with the event it carries, so a slow or bad address holds up no other notification
-- and a restart loses no retry. A delivery in progress holds its row until next_attempt_at (a lease).
ALTER TABLE notifications ADD COLUMN payload bytea,
                          ADD COLUMN next_attempt_at timestamptz;
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'sending';
