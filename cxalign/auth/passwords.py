"""Password rules: long enough, and not one of the obvious choices."""

from __future__ import annotations

MIN_LENGTH = 10

# The most common passwords in public breach lists, plus product-specific guesses.
COMMON_PASSWORDS = frozenset(
    [
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890",
        "0123456789",
        "987654321",
        "qwerty",
        "qwerty123",
        "qwertyuiop",
        "1q2w3e4r5t",
        "asdfghjkl",
        "zxcvbnm",
        "111111",
        "1111111111",
        "000000",
        "0000000000",
        "abc123",
        "abcdef1234",
        "iloveyou",
        "letmein",
        "letmein123",
        "welcome",
        "welcome123",
        "welcome1",
        "admin",
        "admin123",
        "administrator",
        "monkey",
        "dragon",
        "sunshine",
        "football",
        "baseball",
        "princess",
        "trustno1",
        "master",
        "changeme",
        "changeme123",
        "secret",
        "secret123",
        "customer",
        "customer123",
        "experience",
        "cxalign",
        "cxalign123",
        "executive",
        "executive123",
        "survey2024",
        "survey2025",
        "survey2026",
        "summer2026",
        "winter2026",
        "company123",
        "letmeinnow",
    ]
)


def password_problem(password: str, email: str = "") -> str | None:
    """Why a password is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or lowered.rstrip("!0123456789") in COMMON_PASSWORDS:
        return "That password is too common. Choose something less obvious."
    if len(set(password)) < 4:
        return "Use more than a few different characters."
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 3 and local_part in lowered:
        return "Do not build your password from your email address."
    return None
