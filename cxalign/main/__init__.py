"""The home page and organisation switching."""
