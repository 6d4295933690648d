"""Connecting schools: relayed contact requests and digests."""
