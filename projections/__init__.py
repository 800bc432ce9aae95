"""Redis read models derived from booking.events: show documents, seat maps, booking status, listings."""
