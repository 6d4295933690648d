"""Staff accounts, login and roles."""
