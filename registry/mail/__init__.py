"""Outgoing e-mail through an outbox table: written with the change, sent afterwards."""
