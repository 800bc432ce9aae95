-- An admin may cancel a show (issue 19): every live booking is cancelled in the same transaction and nothing of
-- it is sold again. sale_closes_at moves to the moment of a close or a cancellation.
ALTER TABLE shows ADD COLUMN cancelled_at timestamptz;
