"""Bulk import of known initiatives (issue 21): lists kept in spreadsheets by networks,
regions and sector councils, read from CSV or XLSX by moderators (``/moderatie/import``) or
with ``flask --app registry import-initiatives FILE``.

- ``reader``: the file itself (type, encoding, delimiter, limits, formula cells);
- ``fields``: what a column can hold (the fields of the submission form), the registry's own
  export columns, suggested column mappings, a row as form data;
- ``checking``: every row validated by the submission form's own classes, the stable row
  key, and likely duplicates by the rules moderation uses;
- ``services``: the use cases (check a file, import what was checked) that the web pages
  and the command both call; ``jobs`` runs them in a background thread for the web.
"""
