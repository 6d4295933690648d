"""Exports of published data."""
