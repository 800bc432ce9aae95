-- Check-in at the door (issue 20): a ticket's admission, one row per ticket (the primary key: a ticket is
-- admitted once, whatever the decision thought), written by the show's processor when a scan finds it valid.
-- Later scans read it back for `already_used` (when, at which gate).
CREATE TABLE checkins (
    show_id       text        NOT NULL REFERENCES shows (show_id),
    ticket_id     text        NOT NULL,
    booking_id    text        NOT NULL,
    seat          text        NOT NULL,
    gate          text        NOT NULL,
    checked_in_at timestamptz NOT NULL,
    command_id    text        NOT NULL,
    scanner_id    text        NOT NULL,
    partition     smallint    NOT NULL,
    PRIMARY KEY (show_id, ticket_id)
);
CREATE INDEX checkins_by_partition ON checkins (partition);
