"""The thin HTTP intake: validates, authenticates and turns writes into commands on booking.commands."""
