"""respond blueprint."""
