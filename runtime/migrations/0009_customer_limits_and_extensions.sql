-- Rules of a show's sale, decided in its partition (issue 19): how many live seats one customer may hold, and
-- how often a hold may be extended; each booking counts its extensions.
ALTER TABLE shows ADD COLUMN max_seats_per_customer integer NOT NULL DEFAULT 10
                      CHECK (max_seats_per_customer BETWEEN 1 AND 100),
                  ADD COLUMN max_hold_extensions integer NOT NULL DEFAULT 2 CHECK (max_hold_extensions BETWEEN 0 AND 10);
-- No CHECK here: validating one would scan the whole table under its lock; the processor is the only writer.
ALTER TABLE bookings ADD COLUMN extensions integer NOT NULL DEFAULT 0;
-- An extension can be refused too. NOT VALID: the rows there satisfy the narrower rule already, and checking
-- them again would scan the table under its lock; new and updated rows are checked.
ALTER TABLE bookings DROP CONSTRAINT bookings_refused_action_check,
                     ADD CONSTRAINT bookings_refused_action_check
                         CHECK (refused_action IN ('confirm', 'cancel', 'extend')) NOT VALID;
