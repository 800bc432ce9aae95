"""Commands, events and API bodies: typed records with validation, encoded with orjson. No I/O."""
