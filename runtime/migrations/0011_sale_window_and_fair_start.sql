-- The sale window and the fair start (issue 19): a show is on sale from sale_opens_at until sale_closes_at
-- (NULL in shows of before: from their creation until starts_at). Requests accepted within the first
-- fair_start_window_s seconds wait in fair_start_entries, kept by the show's processor, until the draw
-- decides them in the order fair_start_seed fixes (secret: no read model carries it) and deletes them.
ALTER TABLE shows ADD COLUMN sale_opens_at timestamptz,
                  ADD COLUMN sale_closes_at timestamptz,
                  ADD COLUMN fair_start_window_s integer NOT NULL DEFAULT 0
                      CHECK (fair_start_window_s BETWEEN 0 AND 300),
                  ADD COLUMN fair_start_seed text NOT NULL DEFAULT '',
                  ADD COLUMN fair_start_drawn boolean NOT NULL DEFAULT false;
CREATE TABLE fair_start_entries (
    show_id     text        NOT NULL REFERENCES shows (show_id),
    booking_id  text        NOT NULL,
    customer_id text        NOT NULL,
    issued_at   timestamptz NOT NULL,
    command     bytea       NOT NULL,  -- the RequestBooking as published (schemas/commands.py)
    partition   smallint    NOT NULL,
    PRIMARY KEY (show_id, booking_id)
);
CREATE INDEX fair_start_entries_by_partition ON fair_start_entries (partition);
-- The expiry worker's question: which fair starts are due and not drawn yet.
CREATE INDEX shows_awaiting_draw ON shows (sale_opens_at) WHERE fair_start_window_s > 0 AND NOT fair_start_drawn;
