"""Moderation: the review queue, duplicates, curated obstacle themes (knelpunten)."""
