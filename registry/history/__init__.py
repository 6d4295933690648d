"""Revision history of initiatives: who changed what, when, and pending (unapproved) edits."""
