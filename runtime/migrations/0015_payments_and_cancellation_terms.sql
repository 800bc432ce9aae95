-- Payments and cancellation terms (issue 20). A booking's payment (schemas/payments.py: its checkout at the
-- provider, paid, a void or refund asked or done) as JSON, decided by the show's processor like the rest of
-- the booking; a show's terms: a CONFIRMED booking may be cancelled until cancellable_until_hours before the
-- start (NULL: never) and refund_percent of what was paid is refunded.
ALTER TABLE bookings ADD COLUMN payment jsonb;
ALTER TABLE shows ADD COLUMN cancellable_until_hours integer DEFAULT 0
                      CHECK (cancellable_until_hours BETWEEN 0 AND 8760),
                  ADD COLUMN refund_percent integer NOT NULL DEFAULT 100 CHECK (refund_percent BETWEEN 0 AND 100);
-- The notifier carries out a settlement (void or refund at the provider) as a delivery of its own channel.
ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check,
                          ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('email', 'webhook', 'payment'));
