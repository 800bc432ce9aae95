-- Per-show reads of bookings: reconcile, invariant checks, operators.
CREATE INDEX bookings_by_show ON bookings (show_id);
