"""surveys blueprint."""
