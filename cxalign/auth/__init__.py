"""Staff accounts: sign up, log in, log out, change password."""
