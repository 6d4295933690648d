"""The obstacle summary (knelpuntenoverzicht) and snapshots."""
