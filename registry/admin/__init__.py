"""Administrator pages: accounts and the audit log."""
