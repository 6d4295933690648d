"""The submitter's private manage pages (confirm, edit, withdraw, own data)."""
