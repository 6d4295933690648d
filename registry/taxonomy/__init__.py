"""Taxonomies: obstacle areas, dimensions of personalisation, sectors, phases, severities."""
