-- Money (issue 20): a show's prices are minor units of its currency (ISO 4217; the allow-list is
-- schemas/money.py, the processor the only writer). Shows created before read as EUR, as their events do.
-- The CHECK scans the shows table once, under its lock: one row per show, small (0009 did the same).
ALTER TABLE shows ADD COLUMN currency text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$');
