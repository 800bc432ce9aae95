-- One row per (event, channel): the notifier's record that makes a notification happen once.
CREATE TABLE notifications (
    event_id   text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email', 'webhook')),
    status     text NOT NULL CHECK (status IN ('sending', 'sent', 'dead')),
    attempts   integer NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    PRIMARY KEY (event_id, channel)
);
