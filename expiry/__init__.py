"""Hold expiry: turns overdue PENDING bookings into ExpireBooking commands (the processor decides)."""
