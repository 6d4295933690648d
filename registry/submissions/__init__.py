"""Submitting an initiative with its obstacles (the public form) and the core data model."""
