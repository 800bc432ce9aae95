"""Notifications for booking events: email over SMTP and, when configured, a signed JSON webhook."""
