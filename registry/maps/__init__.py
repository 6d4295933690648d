"""The public map."""
