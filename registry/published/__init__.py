"""What the public may see, read one way: sources (live or snapshot), the one filter, the one
record path, and snapshots. See docs/architecture.md ("The read path")."""
