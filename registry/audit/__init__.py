"""Append-only audit log of staff actions, logins and every access to personal data."""
