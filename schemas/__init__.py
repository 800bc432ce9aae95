"""Commands, events and API bodies: typed records with validation, encoded with msgspec. No I/O."""
