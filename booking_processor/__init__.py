"""Consumes booking.commands; decides each show's commands in one row-locked PostgreSQL transaction."""
