"""instruments blueprint."""
