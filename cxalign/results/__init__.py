"""results blueprint."""
