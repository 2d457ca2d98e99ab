"""organisations blueprint."""
